//! The revocation endpoint (`POST /oauth2/revoke`, RFC 7009 as Cognito
//! implements it): a refresh token of the client, revoked with every token
//! of its sign-in (the access tokens then fail at `userInfo`).

use http::HeaderMap;

use super::client_auth::authenticate;
use super::form::{Params, require_form_encoded};
use super::outcome::OAuthError;
use crate::local::authorization::LONGEST_TOKEN_SECONDS;
use crate::local::shared::Shared;
use crate::local::state::now_epoch;
use crate::local::user_tokens::refresh_key;
use crate::sync::lock;

/// What a revocation request names.
enum Target {
    /// A refresh token of the client: revoke this sign-in in this pool.
    Origin { pool_id: String, origin_jti: String },
    /// Unknown (or already revoked): nothing to do, 200 all the same.
    Unknown,
}

/// Handles a revocation request.
pub(crate) fn revoke(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    require_form_encoded(headers)?;
    let params = Params::parse(body)?;
    let token = params
        .get("token")
        .ok_or(OAuthError::new("invalid_request", "token is missing"))?;
    match target(shared, headers, &params, token)? {
        Target::Unknown => Ok(()),
        Target::Origin {
            pool_id,
            origin_jti,
        } => {
            let until = now_epoch() + LONGEST_TOKEN_SECONDS;
            shared
                .change(|state| {
                    if let Some(pool) = state.pools.get_mut(&pool_id) {
                        pool.directory.revoke_origin(&origin_jti, until);
                    }
                    Ok(())
                })
                .map_err(|_| OAuthError::new("invalid_request", "the state could not be saved"))?;
            shared.publish(crate::Revocation::origin_jti(origin_jti));
            Ok(())
        }
    }
}

fn target(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
    token: &str,
) -> Result<Target, OAuthError> {
    let state = lock(&shared.state);
    let (pool, client) = authenticate(&state, headers, params)?;
    if client.config.get("EnableTokenRevocation") == Some(&serde_json::Value::Bool(false)) {
        return Err(OAuthError::new(
            "unauthorized_client",
            "token revocation is not enabled for this client",
        ));
    }
    if let Some(stored) = pool.directory.refresh_tokens.get(&refresh_key(token)) {
        // RFC 7009 §2.1: a token of another client is refused, not revoked.
        if stored.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the token was issued to another client",
            ));
        }
        return Ok(Target::Origin {
            pool_id: pool.id.clone(),
            origin_jti: stored.origin_jti.clone(),
        });
    }
    // Cognito revokes refresh tokens only; an access or ID token (a JWT) is
    // refused as RFC 7009 §2.2.1 says.
    if jsonwebtoken::decode_header(token).is_ok() {
        return Err(OAuthError::new(
            "unsupported_token_type",
            "only refresh tokens can be revoked",
        ));
    }
    Ok(Target::Unknown)
}
