//! The client-credentials grant: a confidential client, allowed the flow,
//! gets an access token with its custom scopes.

use http::HeaderMap;
use serde_json::{Map, Value};

use super::client_auth::authenticate;
use super::form::Params;
use super::outcome::{Issued, OAuthError};
use super::scopes::{Grant, granted_scopes};
use crate::clock::now_secs;
use crate::local::state::{ClientState, PoolState, State};
use crate::local::token::{cognito_claims, sign_jwt};

/// `grant_type=client_credentials`.
pub(crate) fn grant(
    state: &State,
    base_url: &str,
    headers: &HeaderMap,
    params: &Params,
    dpop_jkt: Option<&str>,
) -> Result<Issued, OAuthError> {
    let (pool, client) = authenticate(state, headers, params)?;
    if client.secret.is_none() {
        return Err(OAuthError::new(
            "unauthorized_client",
            "a client without a secret cannot use client_credentials",
        ));
    }
    if !client.oauth_enabled || !client.flows.iter().any(|f| f == "client_credentials") {
        return Err(OAuthError::new(
            "unauthorized_client",
            "the client is not allowed the client_credentials flow",
        ));
    }
    let scopes = granted_scopes(pool, &client.scopes, params.get("scope"), Grant::Machine)?;
    issue(base_url, pool, client, &scopes, dpop_jkt)
}

/// Signs the access token.
fn issue(
    base_url: &str,
    pool: &PoolState,
    client: &ClientState,
    scopes: &[String],
    dpop_jkt: Option<&str>,
) -> Result<Issued, OAuthError> {
    let lifetime = client.access_token_seconds();
    let iat = now_secs();
    let issuer = format!("{base_url}/{}", pool.id);
    let mut claims = cognito_claims(&issuer, &client.id, scopes, iat, lifetime);
    if let Some(jkt) = dpop_jkt {
        claims.insert("cnf".into(), serde_json::json!({ "jkt": jkt }));
    }
    let key = pool
        .signing_key()
        .ok_or_else(|| OAuthError::new("invalid_request", "the user pool has no signing key"))?;
    let payload = serde_json::to_vec(&Value::Object(claims)).unwrap_or_default();
    let access_token = sign_jwt(key, &Map::new(), &[], &payload)
        .ok_or_else(|| OAuthError::new("invalid_request", "signing failed"))?;
    let mut issued = Issued::access_only(access_token, lifetime);
    issued.dpop = dpop_jkt.is_some();
    Ok(issued)
}
