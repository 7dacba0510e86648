//! The refresh-token grant: a refresh token of this client, not revoked or
//! expired, gives a new access token (and ID token when `openid` was
//! granted), with the scopes that still hold. No new refresh token: this
//! issuer does not rotate them (Cognito's default).

use http::HeaderMap;

use super::client_auth::authenticate;
use super::form::Params;
use super::outcome::{Issued, OAuthError};
use super::scopes::still_granted;
use crate::local::shared::Shared;
use crate::local::state::now_epoch;
use crate::local::user_tokens::{SignIn, mint, refresh_key, signed_out_since};
use crate::sync::lock;

/// `grant_type=refresh_token`.
pub(crate) fn grant(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
    dpop_jkt: Option<&str>,
) -> Result<Issued, OAuthError> {
    let token = params.get("refresh_token").ok_or(OAuthError::new(
        "invalid_request",
        "refresh_token is missing",
    ))?;
    let state = lock(&shared.state);
    let (pool, client) = authenticate(&state, headers, params)?;
    let invalid = || {
        OAuthError::invalid_grant(
            "the refresh token is unknown, revoked, expired or not this client's",
        )
    };
    let stored = pool
        .directory
        .refresh_tokens
        .get(&refresh_key(token))
        .filter(|r| r.client_id == client.id && r.expires > now_epoch())
        .filter(|r| !pool.directory.is_revoked(&r.origin_jti))
        .ok_or_else(invalid)?;
    // RFC 9449 §5: a bound refresh token needs a proof of its key.
    if stored.dpop_jkt.is_some() && stored.dpop_jkt.as_deref() != dpop_jkt {
        return Err(OAuthError::new(
            "invalid_dpop_proof",
            "the refresh token is bound to another DPoP key",
        ));
    }
    let user = pool
        .directory
        .users
        .get(&stored.username)
        .filter(|u| u.enabled)
        .filter(|u| !signed_out_since(u, stored.auth_time))
        .ok_or_else(invalid)?;
    let scopes = still_granted(pool, client, &stored.scopes);
    let sign_in = SignIn {
        pool,
        client,
        user,
        scopes: &scopes,
        auth_time: stored.auth_time,
        origin_jti: &stored.origin_jti,
        nonce: None,
        resource: stored.resource.as_deref(),
        dpop_jkt,
    };
    let with_id_token = scopes.iter().any(|s| s == "openid");
    let tokens = mint(&shared.base_url, &sign_in, with_id_token)
        .ok_or(OAuthError::new("invalid_request", "signing failed"))?;
    Ok(Issued {
        access_token: tokens.access_token,
        id_token: tokens.id_token,
        refresh_token: None,
        expires_in: tokens.expires_in,
        dpop: dpop_jkt.is_some(),
    })
}
