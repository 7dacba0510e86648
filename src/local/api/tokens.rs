//! Users' tokens: issuing them at the end of a sign-in, refreshing them
//! (REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken), reading them
//! (GetUser), and ending them (GlobalSignOut, AdminUserGlobalSignOut,
//! RevokeToken).
//!
//! Access tokens of these sign-ins carry exactly the scope
//! `aws.cognito.signin.user.admin`, as Cognito's do; refreshing a hosted
//! sign-in's refresh token here keeps that sign-in's scopes and resource.

use serde_json::{Map, Value, json};

use super::attributes::attribute_list;
use super::auth_client::{
    check_client_secret, check_secret_hash, find_client, flow_allowed, flow_not_enabled,
};
use super::input::Input;
use super::pools::pool_mut;
use super::users::user_key;
use crate::local::error::ApiError;
use crate::local::ids::uuid_v4;
use crate::local::oauth::scopes::still_granted;
use crate::local::shared::Shared;
use crate::local::state::{ClientState, PoolState, now_epoch};
use crate::local::user_tokens::{
    SignIn, UserTokens, check_access_token, mint, refresh_key, store_refresh_token,
};
use crate::local::users::{RefreshTokenState, UserState};
use crate::shared::Revocation;
use crate::sync::lock;

/// The one scope of tokens from the sign-in APIs.
pub(super) const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";
/// Longest access-token lifetime (1 day) and a minute: how long a revoked
/// sign-in is remembered.
const REVOCATION_SECONDS: f64 = 86_460.0;

pub(super) fn not_authorized(message: impl Into<String>) -> ApiError {
    ApiError::new("NotAuthorizedException", message)
}

fn invalid_refresh_token() -> ApiError {
    not_authorized("Invalid Refresh Token")
}

/// `AuthenticationResult`.
fn result_json(tokens: UserTokens, refresh_token: Option<String>) -> Value {
    let mut result = json!({
        "AccessToken": tokens.access_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": "Bearer",
    });
    if let Some(id) = tokens.id_token {
        result["IdToken"] = json!(id);
    }
    if let Some(r) = refresh_token {
        result["RefreshToken"] = json!(r);
    }
    json!({ "AuthenticationResult": result, "ChallengeParameters": {} })
}

/// What a sign-in grants: the scopes and resource of its tokens, and
/// whether an ID token comes with them.
struct Grant<'g> {
    scopes: Vec<String>,
    resource: Option<&'g str>,
    with_id_token: bool,
}

impl Grant<'_> {
    /// A sign-in through these APIs: the admin scope, an ID token.
    fn sign_in_api() -> Grant<'static> {
        Grant {
            scopes: vec![ADMIN_SCOPE.to_string()],
            resource: None,
            with_id_token: true,
        }
    }
}

/// What a refresh of `record` grants. A sign-in of these APIs (its
/// refresh token holds exactly the admin scope) gets the admin scope again.
/// Any other (the hosted sign-in's) keeps its resource and gets the scopes
/// it was granted that still hold (the rule of the OAuth refresh grant,
/// `oauth::scopes::still_granted`), with an ID token only with `openid`.
fn refresh_grant<'r>(
    pool: &PoolState,
    client: &ClientState,
    record: &'r RefreshTokenState,
) -> Grant<'r> {
    if record.scopes == [ADMIN_SCOPE] && record.resource.is_none() {
        return Grant::sign_in_api();
    }
    let scopes = still_granted(pool, client, &record.scopes);
    let with_id_token = scopes.iter().any(|s| s == "openid");
    Grant {
        scopes,
        resource: record.resource.as_deref(),
        with_id_token,
    }
}

fn minted(
    base_url: &str,
    pool: &PoolState,
    client: &ClientState,
    user: &UserState,
    grant: &Grant<'_>,
    (auth_time, origin_jti): (u64, &str),
) -> Result<UserTokens, ApiError> {
    let sign_in = SignIn {
        pool,
        client,
        user,
        scopes: &grant.scopes,
        auth_time,
        origin_jti,
        nonce: None,
        resource: grant.resource,
        dpop_jkt: None,
    };
    mint(base_url, &sign_in, grant.with_id_token)
        .ok_or_else(|| ApiError::internal("the tokens could not be signed"))
}

/// Ends a sign-in: `change` is applied to the user (a new password, say),
/// then tokens are minted for a new sign-in (a fresh `origin_jti`) and its
/// refresh token is stored; one saved change.
pub(super) fn issue(
    shared: &Shared,
    pool_id: &str,
    client_id: &str,
    username: &str,
    change: impl FnOnce(&mut UserState) -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    shared.change(|state| {
        let pool = state
            .pools
            .get_mut(pool_id)
            .ok_or_else(|| ApiError::not_found(format!("User pool {pool_id} does not exist.")))?;
        let client = pool.clients.get(client_id).cloned().ok_or_else(|| {
            ApiError::not_found(format!("User pool client {client_id} does not exist."))
        })?;
        let user = pool
            .directory
            .users
            .get_mut(username)
            .ok_or_else(|| not_authorized("Incorrect username or password."))?;
        change(user)?;
        let user = user.clone();
        let origin = uuid_v4();
        let auth_time = crate::clock::now_secs();
        let grant = Grant::sign_in_api();
        let sign_in = (auth_time, origin.as_str());
        let tokens = minted(&shared.base_url, pool, &client, &user, &grant, sign_in)?;
        let refresh = store_refresh_token(
            pool,
            &client,
            &user.username,
            &grant.scopes,
            auth_time,
            &origin,
            None,
        );
        Ok(result_json(tokens, Some(refresh)))
    })
}

/// A live refresh token of `client`, and its user (enabled).
fn refresh_record(
    pool: &PoolState,
    client: &ClientState,
    token: &str,
) -> Result<(String, RefreshTokenState, UserState), ApiError> {
    let key = refresh_key(token);
    let record = pool
        .directory
        .refresh_tokens
        .get(&key)
        .filter(|r| r.client_id == client.id && r.expires > now_epoch())
        .filter(|r| !pool.directory.is_revoked(&r.origin_jti))
        // Bound to a DPoP key (RFC 9449 §5): these calls carry no proof,
        // so only the token endpoint with one may refresh it.
        .filter(|r| r.dpop_jkt.is_none())
        .ok_or_else(invalid_refresh_token)?;
    let user = pool
        .directory
        .users
        .get(&record.username)
        .ok_or_else(invalid_refresh_token)?;
    if !user.enabled {
        return Err(not_authorized("User is disabled."));
    }
    // Signed out (or disabled) since this sign-in: its refresh token is
    // over, as at the OAuth refresh grant.
    if crate::local::user_tokens::signed_out_since(user, record.auth_time) {
        return Err(invalid_refresh_token());
    }
    Ok((key, record.clone(), user.clone()))
}

/// REFRESH_TOKEN_AUTH: new access and ID tokens of the same sign-in (same
/// `origin_jti` and `auth_time`), no new refresh token. `SECRET_HASH` may
/// be made over the user name or the `sub` (Cognito's docs allow both).
pub(super) fn refresh(
    shared: &Shared,
    client_id: &str,
    params: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let text = |k: &str| params.get(k).and_then(Value::as_str);
    let token = text("REFRESH_TOKEN")
        .ok_or_else(|| ApiError::invalid_parameter("Missing required parameter REFRESH_TOKEN"))?;
    let state = lock(&shared.state);
    let (pool, client) = find_client(&state, client_id)?;
    if text("SECRET_HASH").is_none() {
        // "configured for secret but secret was not received", before the
        // token is looked at; nothing for a public client.
        check_secret_hash(client, &[], None)?;
    }
    let (_, record, user) = refresh_record(pool, client, token)?;
    check_secret_hash(client, &[&user.username, &user.sub], text("SECRET_HASH"))?;
    let grant = refresh_grant(pool, client, &record);
    let sign_in = (record.auth_time, record.origin_jti.as_str());
    let tokens = minted(&shared.base_url, pool, client, &user, &grant, sign_in)?;
    Ok(result_json(tokens, None))
}

/// GetTokensFromRefreshToken: like REFRESH_TOKEN_AUTH with `ClientSecret`;
/// when the client's `RefreshTokenRotation.Feature` is `ENABLED`, the
/// refresh token is replaced by a new one (of the same sign-in).
pub(super) fn from_refresh_token(shared: &Shared, input: &Input<'_>) -> Result<Value, ApiError> {
    let token = input.required("RefreshToken", "refreshToken")?;
    let client_id = input.required("ClientId", "clientId")?;
    let secret = input.string("ClientSecret")?;
    shared.change(|state| {
        let (pool, client) = find_client(state, client_id)?;
        check_client_secret(client, secret)?;
        // As REFRESH_TOKEN_AUTH, this needs ALLOW_REFRESH_TOKEN_AUTH (and
        // is refused with the same exception and message).
        if !flow_allowed(client, "REFRESH_TOKEN_AUTH") {
            return Err(flow_not_enabled("REFRESH_TOKEN_AUTH"));
        }
        let (key, record, user) = refresh_record(pool, client, token)?;
        let client = client.clone();
        let grant = refresh_grant(pool, &client, &record);
        let sign_in = (record.auth_time, record.origin_jti.as_str());
        let tokens = minted(&shared.base_url, pool, &client, &user, &grant, sign_in)?;
        let rotate = client
            .config
            .get("RefreshTokenRotation")
            .and_then(|r| r.get("Feature"))
            .and_then(Value::as_str)
            == Some("ENABLED");
        let pool_id = pool.id.clone();
        let pool = state
            .pools
            .get_mut(&pool_id)
            .ok_or_else(|| ApiError::internal("the pool vanished"))?;
        let new_refresh = rotate.then(|| {
            pool.directory.refresh_tokens.remove(&key);
            store_refresh_token(
                pool,
                &client,
                &user.username,
                &record.scopes,
                record.auth_time,
                &record.origin_jti,
                record.resource.as_deref(),
            )
        });
        Ok(result_json(tokens, new_refresh))
    })
}

/// The pool id and user name of a valid access token with the admin scope.
fn access_token_user(shared: &Shared, token: &str) -> Result<(String, String, Value), ApiError> {
    let state = lock(&shared.state);
    let checked = check_access_token(&state, &shared.base_url, token)
        .map_err(|e| not_authorized(e.message()))?;
    if !checked.has_scope(ADMIN_SCOPE) {
        return Err(not_authorized("Access Token does not have required scopes"));
    }
    let user = json!({
        "Username": checked.user.username,
        "UserAttributes": attribute_list(checked.user, None),
    });
    Ok((checked.pool.id.clone(), checked.user.username.clone(), user))
}

pub(super) fn get_user(shared: &Shared, input: &Input<'_>) -> Result<Value, ApiError> {
    let token = input.required("AccessToken", "accessToken")?;
    access_token_user(shared, token).map(|(_, _, user)| user)
}

/// Signs a user out everywhere: tokens issued before now are refused, the
/// user's refresh tokens are removed and their sign-ins revoked. Returns
/// the user's `sub`.
fn sign_out(pool: &mut PoolState, username: &str) -> Option<String> {
    let now = now_epoch();
    let origins: Vec<String> = pool
        .directory
        .refresh_tokens
        .values()
        .filter(|r| r.username == username)
        .map(|r| r.origin_jti.clone())
        .collect();
    for origin in origins {
        pool.directory
            .revoke_origin(&origin, now + REVOCATION_SECONDS);
    }
    let user = pool.directory.users.get_mut(username)?;
    user.signed_out_at = Some(now);
    Some(user.sub.clone())
}

/// Tells the revocation list, if any, that `sub` signed out now.
fn publish_sign_out(shared: &Shared, sub: Option<String>) {
    if let Some(sub) = sub {
        shared.publish(Revocation::subject_before(
            sub,
            std::time::SystemTime::now(),
        ));
    }
}

pub(super) fn global_sign_out(shared: &Shared, input: &Input<'_>) -> Result<Value, ApiError> {
    let token = input.required("AccessToken", "accessToken")?;
    let (pool_id, username, _) = access_token_user(shared, token)?;
    let sub = shared.change(|state| {
        Ok(state
            .pools
            .get_mut(&pool_id)
            .and_then(|pool| sign_out(pool, &username)))
    })?;
    publish_sign_out(shared, sub);
    Ok(json!({}))
}

pub(super) fn admin_global_sign_out(shared: &Shared, input: &Input<'_>) -> Result<Value, ApiError> {
    let sub = shared.change(|state| {
        let pool = pool_mut(state, input)?;
        let key = user_key(pool, input)?;
        Ok(sign_out(pool, &key))
    })?;
    publish_sign_out(shared, sub);
    Ok(json!({}))
}

/// RevokeToken: a refresh token of this client ends its sign-in (its access
/// tokens then fail at GetUser). An unknown refresh token, or one of
/// another client, is answered with success and nothing revoked (RFC 7009
/// §2.2).
pub(super) fn revoke(shared: &Shared, input: &Input<'_>) -> Result<Value, ApiError> {
    let token = input.required("Token", "token")?;
    let client_id = input.required("ClientId", "clientId")?;
    let secret = input.string("ClientSecret")?;
    let revoked = shared.change(|state| {
        let (pool, client) = find_client(state, client_id)?;
        check_client_secret(client, secret)?;
        if client
            .config
            .get("EnableTokenRevocation")
            .and_then(Value::as_bool)
            == Some(false)
        {
            return Err(ApiError::new(
                "UnsupportedOperationException",
                "Token revocation is not enabled for this client",
            ));
        }
        if token.split('.').count() == 3 {
            return Err(ApiError::new(
                "UnsupportedTokenTypeException",
                "Unsupported token type",
            ));
        }
        let origin = pool
            .directory
            .refresh_tokens
            .get(&refresh_key(token))
            .filter(|r| r.client_id == client.id)
            .map(|r| r.origin_jti.clone());
        let pool_id = pool.id.clone();
        let Some(origin) = origin else {
            return Ok(None);
        };
        if let Some(pool) = state.pools.get_mut(&pool_id) {
            pool.directory
                .revoke_origin(&origin, now_epoch() + REVOCATION_SECONDS);
        }
        Ok(Some(origin))
    })?;
    if let Some(origin) = revoked {
        shared.publish(Revocation::origin_jti(origin));
    }
    Ok(json!({}))
}
