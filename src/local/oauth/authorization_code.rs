//! The authorization-code grant: a code from the hosted sign-in, one use,
//! bound to its client, `redirect_uri`, PKCE challenge and user; it gives an
//! access token, an ID token (with `openid`) and a refresh token. A code
//! presented twice revokes everything its first use issued (RFC 6749
//! §4.1.2).

use http::HeaderMap;

use super::client_auth::authenticate;
use super::form::Params;
use super::outcome::{Issued, OAuthError};
use super::pkce;
use super::scopes::still_granted;
use crate::local::authorization::{AuthCode, LONGEST_TOKEN_SECONDS};
use crate::local::ids::uuid_v4;
use crate::local::shared::Shared;
use crate::local::state::{State, now_epoch};
use crate::local::user_tokens::{SignIn, bind_refresh_token, mint, store_refresh_token};
use crate::sync::lock;

/// `grant_type=authorization_code`.
pub(crate) fn grant(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
    dpop_jkt: Option<&str>,
) -> Result<Issued, OAuthError> {
    let code = params
        .get("code")
        .ok_or(OAuthError::new("invalid_request", "code is missing"))?;
    let redirect_uri = params.get("redirect_uri").ok_or(OAuthError::new(
        "invalid_request",
        "redirect_uri is missing",
    ))?;
    let client_id = code_client(shared, headers, params)?;
    let (code, origin_jti) = redeem(shared, code, &client_id, redirect_uri, params)?;
    shared
        .try_change(|state| issue(state, &shared.base_url, &code, &origin_jti, dpop_jkt))
        .map_err(|_| OAuthError::new("invalid_request", "the state could not be saved"))?
}

/// Authenticates the client and checks that it may use the code flow.
fn code_client(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, OAuthError> {
    let state = lock(&shared.state);
    let (_, client) = authenticate(&state, headers, params)?;
    if !client.oauth_enabled || !client.flows.iter().any(|f| f == "code") {
        return Err(OAuthError::new(
            "unauthorized_client",
            "the client is not allowed the code flow",
        ));
    }
    Ok(client.id.clone())
}

/// Takes the code for `client_id`: marks it used (whatever the outcome of
/// its checks, so a wrong verifier cannot be retried) and returns it with
/// the `origin_jti` of what it issues. A code of another client is left as
/// it is (the other client can still redeem it).
fn redeem(
    shared: &Shared,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    params: &Params,
) -> Result<(AuthCode, String), OAuthError> {
    let mut sessions = lock(&shared.sessions);
    let entry = sessions
        .codes
        .get_mut(code)
        .filter(|c| c.authorization.client_id == client_id)
        .ok_or(OAuthError::invalid_grant(
            "the code is unknown, expired or not this client's",
        ))?;
    if let Some(origin_jti) = entry.redeemed.clone() {
        let pool_id = entry.authorization.pool_id.clone();
        drop(sessions);
        revoke(shared, &pool_id, &origin_jti);
        return Err(OAuthError::invalid_grant("the code was already used"));
    }
    let origin_jti = uuid_v4();
    entry.redeemed = Some(origin_jti.clone());
    check(entry, redirect_uri, params)?;
    Ok((entry.clone(), origin_jti))
}

/// A replayed code: whatever its first use issued is revoked.
fn revoke(shared: &Shared, pool_id: &str, origin_jti: &str) {
    let until = now_epoch() + LONGEST_TOKEN_SECONDS;
    let outcome = shared.change(|state| {
        if let Some(pool) = state.pools.get_mut(pool_id) {
            pool.directory.revoke_origin(origin_jti, until);
        }
        Ok(())
    });
    match outcome {
        Ok(()) => shared.publish(crate::Revocation::origin_jti(origin_jti)),
        Err(e) => tracing::error!(error = %e, "a replayed code's tokens could not be revoked"),
    }
}

/// The code's bindings: the same `redirect_uri`, and PKCE (RFC 7636 §4.6):
/// a verifier when a challenge was sent, none when none was.
fn check(code: &AuthCode, redirect_uri: &str, params: &Params) -> Result<(), OAuthError> {
    if code.authorization.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    if let Some(resource) = params.get("resource")
        && code.authorization.resource.as_deref() != Some(resource)
    {
        return Err(OAuthError::new(
            "invalid_target",
            "resource differs from the authorization request's",
        ));
    }
    match (
        &code.authorization.code_challenge,
        params.get("code_verifier"),
    ) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) if pkce::verifies(challenge, verifier) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant("the code_verifier is wrong")),
        (Some(_), None) => Err(OAuthError::new(
            "invalid_request",
            "code_verifier is missing",
        )),
        // RFC 7636 leaves this open; a verifier for a code that had no
        // challenge is refused, so a downgrade cannot go unnoticed.
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent for a code without a code_challenge",
        )),
    }
}

/// Mints the tokens and stores the refresh token, inside the state change
/// that checks the code still stands: the same user (`sub`), enabled,
/// confirmed, not signed out since the sign-in, and its `origin_jti` not
/// revoked (a replay of the code may have revoked it since `redeem`; the
/// check and the store under one lock leave no window).
fn issue(
    state: &mut State,
    base_url: &str,
    code: &AuthCode,
    origin_jti: &str,
    dpop_jkt: Option<&str>,
) -> Result<Issued, OAuthError> {
    let a = &code.authorization;
    let gone = || OAuthError::invalid_grant("the user or client no longer exists");
    let pool = state.pools.get_mut(&a.pool_id).ok_or_else(gone)?;
    let client = pool.clients.get(&a.client_id).cloned().ok_or_else(gone)?;
    if pool.directory.is_revoked(origin_jti) {
        return Err(OAuthError::invalid_grant("the code was already used"));
    }
    let user = code
        .user
        .signed_in(&pool.directory, code.auth_time)
        .cloned()
        .ok_or(OAuthError::invalid_grant(
            "the user signed out, was disabled or no longer exists",
        ))?;
    let scopes = still_granted(pool, &client, &a.scopes);
    let sign_in = SignIn {
        pool,
        client: &client,
        user: &user,
        scopes: &scopes,
        auth_time: code.auth_time,
        origin_jti,
        nonce: a.nonce.as_deref(),
        resource: a.resource.as_deref(),
        dpop_jkt,
    };
    let with_id_token = scopes.iter().any(|s| s == "openid");
    let tokens = mint(base_url, &sign_in, with_id_token)
        .ok_or(OAuthError::new("invalid_request", "signing failed"))?;
    let refresh_token = store_refresh_token(
        pool,
        &client,
        &user.username,
        &scopes,
        code.auth_time,
        origin_jti,
        a.resource.as_deref(),
    );
    bind_refresh_token(pool, &client, &refresh_token, dpop_jkt);
    Ok(Issued {
        access_token: tokens.access_token,
        id_token: tokens.id_token,
        refresh_token: Some(refresh_token),
        expires_in: tokens.expires_in,
        dpop: dpop_jkt.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Algorithm;
    use crate::local::authorization::{Authorization, ResponseType, Subject};
    use crate::local::keys::SigningKey;
    use crate::local::state::PoolState;

    const POOL: &str = "eu-west-2_test";
    const CALLBACK: &str = "http://localhost:3000/callback";

    fn call(shared: &Shared, action: &str, input: Value) -> Value {
        shared.call("eu-west-2", action, &input).unwrap()
    }

    /// A pool with a public code-flow client and a confirmed `alice`; the
    /// client id and a fresh, unredeemed code of alice's for it.
    fn with_code() -> (Shared, String, String) {
        let shared = Shared::new(
            "http://127.0.0.1:1".into(),
            "eu-west-2".into(),
            State::default(),
            None,
        );
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        shared
            .change(|state| {
                let pool = PoolState::new(POOL.into(), "Local".into(), "eu-west-2", key);
                state.pools.insert(POOL.into(), pool);
                Ok(())
            })
            .unwrap();
        let client = call(
            &shared,
            "CreateUserPoolClient",
            json!({
                "UserPoolId": POOL, "ClientName": "web", "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid"], "AllowedOAuthFlowsUserPoolClient": true,
                "CallbackURLs": [CALLBACK],
            }),
        );
        let client_id = client["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string();
        call(
            &shared,
            "AdminCreateUser",
            json!({"UserPoolId": POOL, "Username": "alice", "MessageAction": "SUPPRESS"}),
        );
        call(
            &shared,
            "AdminSetUserPassword",
            json!({"UserPoolId": POOL, "Username": "alice", "Password": "Correct-Horse-9", "Permanent": true}),
        );
        let user = Subject::of(&lock(&shared.state).pools[POOL].directory.users["alice"]);
        let code = AuthCode {
            authorization: Authorization {
                pool_id: POOL.into(),
                client_id: client_id.clone(),
                redirect_uri: CALLBACK.into(),
                response_type: ResponseType::Code,
                state: None,
                scopes: vec!["openid".into()],
                code_challenge: None,
                nonce: None,
                resource: None,
            },
            user,
            auth_time: crate::clock::now_secs(),
            redeemed: None,
        };
        lock(&shared.sessions)
            .codes
            .try_insert("the-code".into(), code, now_epoch() + 300.0)
            .unwrap();
        (shared, client_id, "the-code".into())
    }

    /// Redeems the code, lets `between` run (a replay landing between
    /// `redeem` and `issue`), then issues. The outcome, and the number of
    /// refresh tokens stored.
    fn redeem_then_issue(
        between: impl FnOnce(&Shared, &str),
    ) -> (Result<Issued, OAuthError>, usize) {
        let (shared, client_id, code) = with_code();
        let params = Params::parse(format!("redirect_uri={CALLBACK}").as_bytes()).unwrap();
        let (code, origin_jti) = redeem(&shared, &code, &client_id, CALLBACK, &params).unwrap();
        between(&shared, &origin_jti);
        let outcome = shared
            .try_change(|state| issue(state, &shared.base_url, &code, &origin_jti, None))
            .unwrap();
        let stored = lock(&shared.state).pools[POOL]
            .directory
            .refresh_tokens
            .len();
        (outcome, stored)
    }

    #[test]
    fn a_revocation_between_redeem_and_issue_stores_no_refresh_token() {
        let (outcome, stored) = redeem_then_issue(|_, _| {});
        assert!(outcome.is_ok_and(|i| i.refresh_token.is_some()));
        assert_eq!(stored, 1);
        let (outcome, stored) = redeem_then_issue(|shared, origin| revoke(shared, POOL, origin));
        assert_eq!(outcome.err().map(|e| e.error), Some("invalid_grant"));
        assert_eq!(stored, 0, "no refresh token for a revoked origin");
    }
}
