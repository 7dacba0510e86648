//! `GET|POST /oauth2/userInfo`: the user's attributes for an access token
//! with the `openid` scope (checked by `user_tokens::check_access_token`),
//! with RFC 6750 errors.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::local::shared::Shared;
use crate::local::user_tokens::{CheckedAccess, check_access_token, readable_attributes};
use crate::sync::lock;

/// Cognito's description of a refused token.
const INVALID_TOKEN: &str =
    "Access token is expired, disabled, or deleted, or the user has globally signed out.";

/// The user attributes endpoint.
pub(crate) async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return challenge(StatusCode::UNAUTHORIZED, "Bearer".into(), None);
    };
    let state = lock(&shared.state);
    let checked = match check_access_token(&state, &shared.base_url, token) {
        Ok(checked) => checked,
        Err(_) => return invalid_token(),
    };
    if !checked.has_scope("openid") {
        let error = r#"Bearer error="insufficient_scope", scope="openid""#;
        return challenge(
            StatusCode::FORBIDDEN,
            error.into(),
            Some(("insufficient_scope", "the token lacks the openid scope")),
        );
    }
    match attributes(&checked) {
        Some(body) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response(),
        None => invalid_token(),
    }
}

/// `Authorization: Bearer <token>` (never the query).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `sub`, the attributes the client may read, as strings (Cognito's
/// documented response: `"email_verified": "true"`), and `username`. With
/// `openid`, every readable attribute is returned whatever the other OIDC
/// scopes (Cognito's rule for `openid` alone).
fn attributes(checked: &CheckedAccess<'_>) -> Option<Value> {
    let client_id = checked.claims.get("client_id")?.as_str()?;
    let client = checked.pool.find_client(client_id)?;
    let mut body = Map::new();
    body.insert("sub".into(), json!(checked.user.sub));
    for (name, value) in readable_attributes(client, checked.user) {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        body.insert(name, json!(text));
    }
    body.insert("username".into(), json!(checked.user.username));
    Some(Value::Object(body))
}

fn invalid_token() -> Response {
    let error = format!(r#"Bearer error="invalid_token", error_description="{INVALID_TOKEN}""#);
    challenge(
        StatusCode::UNAUTHORIZED,
        error,
        Some(("invalid_token", INVALID_TOKEN)),
    )
}

fn challenge(status: StatusCode, value: String, body: Option<(&str, &str)>) -> Response {
    let body =
        body.map(|(error, description)| json!({"error": error, "error_description": description}));
    let mut response = match body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
