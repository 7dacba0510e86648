//! The token endpoint (`POST /oauth2/token`) and the revocation endpoint
//! (`POST /oauth2/revoke`): the client-credentials, authorization-code and
//! refresh-token grants, with the seed's scope rules and RFC 6749 §5.2
//! errors. One job per file: `form.rs` (parameters), `client_auth.rs`,
//! `scopes.rs`, `pkce.rs`, one file per grant, `revoke.rs`; `outcome.rs`
//! for what is answered.

mod authorization_code;
mod client_auth;
mod client_credentials;
mod dpop;
mod form;
mod outcome;
mod pkce;
mod refresh;
mod revoke;
pub(crate) mod scopes;

use http::HeaderMap;

pub(crate) use dpop::ALGORITHMS as DPOP_ALGORITHMS;
pub(crate) use form::Params;
pub(crate) use outcome::{Issued, OAuthError};
pub(crate) use pkce::well_formed as well_formed_pkce;
pub(crate) use revoke::revoke;
pub(crate) use scopes::{Grant, granted_scopes};

use super::shared::Shared;
use crate::sync::lock;

/// Handles a token request. Blocking (a grant may save the state file).
pub(crate) fn token(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Issued, OAuthError> {
    form::require_form_encoded(headers)?;
    let params = Params::parse(body)?;
    let jkt = dpop::proof_key(shared, headers)?;
    let jkt = jkt.as_deref();
    match params.get("grant_type") {
        None => Err(OAuthError::new("invalid_request", "grant_type is missing")),
        Some("client_credentials") => {
            let state = lock(&shared.state);
            client_credentials::grant(&state, &shared.base_url, headers, &params, jkt)
        }
        Some("authorization_code") => authorization_code::grant(shared, headers, &params, jkt),
        Some("refresh_token") => refresh::grant(shared, headers, &params, jkt),
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "the supported grants are authorization_code, refresh_token and client_credentials",
        )),
    }
}
