//! Ending an authorization request: an error back to the client, or the
//! signed-in user's code (`response_type=code`) or tokens (`token`, in the
//! fragment, no refresh token, as Cognito) at the `redirect_uri`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::cookies;
use super::pages::{busy_page, error_page, redirect, with_params};
use super::request::{ErrorRedirect, Refusal};
use crate::local::authorization::{
    AuthCode, Authorization, BROWSER_SESSION_SECONDS, BrowserSession, CODE_SECONDS, ResponseType,
    Subject,
};
use crate::local::ids::{new_opaque_token, uuid_v4};
use crate::local::shared::Shared;
use crate::local::state::now_epoch;
use crate::local::user_tokens::{SignIn, UserTokens, mint};
use crate::sync::lock;

/// The answer to a refused request: a page, or a redirect with `error`,
/// `error_description` and `state` (RFC 6749 §4.1.2.1, §4.2.2.1).
pub(crate) fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(message) => error_page(StatusCode::BAD_REQUEST, message),
        Refusal::Redirect(e) => redirect(&error_location(&e)),
    }
}

fn error_location(e: &ErrorRedirect) -> String {
    let mut params = vec![("error", e.error), ("error_description", e.description)];
    if let Some(state) = &e.state {
        params.push(("state", state));
    }
    with_params(&e.redirect_uri, &params, e.fragment)
}

/// Signs the browser in (a new `cognito` session, never a reused id; the
/// browser's previous session, if any, ends) and completes the request. When
/// no more sessions can be kept, a 503 page (nothing is evicted).
pub(crate) fn sign_in_browser(
    shared: &Shared,
    headers: &HeaderMap,
    authorization: Authorization,
    user: &Subject,
) -> Response {
    let auth_time = crate::clock::now_secs();
    let id = new_opaque_token();
    let mut sessions = lock(&shared.sessions);
    if let Some(previous) = cookies::read(headers, cookies::SESSION) {
        sessions.browser_sessions.take(&previous);
    }
    let session = BrowserSession {
        pool_id: authorization.pool_id.clone(),
        user: user.clone(),
        auth_time,
    };
    let kept = sessions.browser_sessions.try_insert(
        id.clone(),
        session,
        now_epoch() + BROWSER_SESSION_SECONDS,
    );
    drop(sessions);
    if kept.is_err() {
        return busy_page();
    }
    let mut response = finish(shared, authorization, user, auth_time);
    cookies::set(
        &mut response,
        cookies::SESSION,
        &id,
        Some(BROWSER_SESSION_SECONDS as u64),
    );
    response
}

/// Redirects the signed-in user back with a code or tokens.
pub(crate) fn finish(
    shared: &Shared,
    authorization: Authorization,
    user: &Subject,
    auth_time: u64,
) -> Response {
    match authorization.response_type {
        ResponseType::Code => with_code(shared, authorization, user, auth_time),
        ResponseType::Token => with_tokens(shared, &authorization, user, auth_time),
    }
}

/// The code at the `redirect_uri`; `temporarily_unavailable` (RFC 6749
/// §4.1.2.1) when no more codes can be kept (nothing is evicted: a code's
/// entry is also its replay marker).
fn with_code(
    shared: &Shared,
    authorization: Authorization,
    user: &Subject,
    auth_time: u64,
) -> Response {
    // Cognito's codes are UUIDs (122 random bits).
    let code = uuid_v4();
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &authorization.state {
        params.push(("state", state));
    }
    let location = with_params(&authorization.redirect_uri, &params, false);
    let busy = ErrorRedirect {
        redirect_uri: authorization.redirect_uri.clone(),
        fragment: false,
        error: "temporarily_unavailable",
        description: "too many sign-ins are in progress; try again in a few minutes",
        state: authorization.state.clone(),
    };
    let entry = AuthCode {
        authorization,
        user: user.clone(),
        auth_time,
        redeemed: None,
    };
    let kept = lock(&shared.sessions)
        .codes
        .try_insert(code, entry, now_epoch() + CODE_SECONDS);
    match kept {
        Ok(()) => redirect(&location),
        Err(_) => refused(Refusal::Redirect(busy)),
    }
}

fn with_tokens(shared: &Shared, a: &Authorization, user: &Subject, auth_time: u64) -> Response {
    let Some(tokens) = implicit_tokens(shared, a, user, auth_time) else {
        return refused(Refusal::Redirect(ErrorRedirect {
            redirect_uri: a.redirect_uri.clone(),
            fragment: true,
            error: "server_error",
            description: "the tokens could not be issued",
            state: a.state.clone(),
        }));
    };
    let expires_in = tokens.expires_in.to_string();
    let mut params = vec![("access_token", tokens.access_token.as_str())];
    if let Some(id_token) = &tokens.id_token {
        params.push(("id_token", id_token));
    }
    params.push(("token_type", "Bearer"));
    params.push(("expires_in", &expires_in));
    if let Some(state) = &a.state {
        params.push(("state", state));
    }
    redirect(&with_params(&a.redirect_uri, &params, true))
}

fn implicit_tokens(
    shared: &Shared,
    a: &Authorization,
    user: &Subject,
    auth_time: u64,
) -> Option<UserTokens> {
    let state = lock(&shared.state);
    let pool = state.pools.get(&a.pool_id)?;
    let client = pool.find_client(&a.client_id)?;
    let user = user.signed_in(&pool.directory, auth_time)?;
    let origin_jti = uuid_v4();
    let sign_in = SignIn {
        pool,
        client,
        user,
        scopes: &a.scopes,
        auth_time,
        origin_jti: &origin_jti,
        nonce: a.nonce.as_deref(),
        resource: a.resource.as_deref(),
        dpop_jkt: None,
    };
    mint(&shared.base_url, &sign_in, a.wants_id_token())
}

#[cfg(test)]
mod tests {
    use axum::http::header::{LOCATION, RETRY_AFTER};

    use super::*;
    use crate::local::sessions::Expiring;
    use crate::local::state::State;

    fn shared_with_full_maps() -> Shared {
        let shared = Shared::new(
            "http://127.0.0.1:1".into(),
            "eu-west-2".into(),
            State::default(),
            None,
        );
        let mut sessions = lock(&shared.sessions);
        sessions.codes = Expiring::new(0);
        sessions.browser_sessions = Expiring::new(0);
        drop(sessions);
        shared
    }

    fn authorization() -> Authorization {
        Authorization {
            pool_id: "eu-west-2_test".into(),
            client_id: "client".into(),
            redirect_uri: "http://localhost:3000/callback".into(),
            response_type: ResponseType::Code,
            state: Some("st".into()),
            scopes: vec!["openid".into()],
            code_challenge: None,
            nonce: None,
            resource: None,
        }
    }

    fn alice() -> Subject {
        Subject {
            username: "alice".into(),
            sub: "0000".into(),
        }
    }

    #[test]
    fn no_room_for_a_code_is_temporarily_unavailable_at_the_redirect_uri() {
        let shared = shared_with_full_maps();
        let response = with_code(&shared, authorization(), &alice(), 0);
        let location = response.headers()[LOCATION].to_str().unwrap_or_default();
        assert!(
            location.contains("error=temporarily_unavailable"),
            "{location}"
        );
        assert!(
            location.contains("state=st") && !location.contains("code="),
            "{location}"
        );
    }

    #[test]
    fn no_room_for_a_browser_session_is_a_503_page() {
        let shared = shared_with_full_maps();
        let response = sign_in_browser(&shared, &HeaderMap::new(), authorization(), &alice());
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(RETRY_AFTER));
        assert!(!response.headers().contains_key(LOCATION));
    }
}
