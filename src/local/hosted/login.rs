//! `GET /login`: the sign-in form; `POST /login`: the CSRF check, the
//! authorization request checked again, the password checked by
//! `sign_in::check_password`, then the browser signed in (or asked for a
//! new password first).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use super::complete::{refused, sign_in_browser};
use super::cookies;
use super::new_password;
use super::pages::{LoginPage, error_page, form_page};
use super::request::check;
use crate::local::authorization::Subject;
use crate::local::ids::new_opaque_token;
use crate::local::oauth::Params;
use crate::local::shared::Shared;
use crate::local::sign_in::{SignInError, check_password};
use crate::sync::lock;

/// The sign-in form, with a fresh CSRF token (cookie and hidden input).
pub(crate) fn form(query: &str, redirect_uri: &str, error: Option<&str>) -> Response {
    let csrf = new_opaque_token();
    let action = format!("/login?{query}");
    let mut response = form_page(
        StatusCode::OK,
        &LoginPage {
            action: &action,
            csrf: &csrf,
            error,
        },
        redirect_uri,
    );
    cookies::set(&mut response, cookies::CSRF, &csrf, None);
    response
}

/// `GET /login`.
pub(crate) async fn show(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let checked = check(&lock(&shared.state), &query);
    match checked {
        Ok(authorization) => form(&query, &authorization.redirect_uri, None),
        Err(refusal) => refused(refusal),
    }
}

/// The page shown when the form's CSRF token is missing or wrong.
pub(crate) fn forged() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "The form has expired or did not come from this page. Go back and sign in again.",
    )
}

/// `POST /login`.
pub(crate) async fn submit(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let Ok(fields) = Params::parse(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    if !cookies::csrf_matches(&headers, fields.get("_csrf")) {
        return forged();
    }
    let checked = check(&lock(&shared.state), &query);
    let authorization = match checked {
        Ok(authorization) => authorization,
        Err(refusal) => return refused(refusal),
    };
    if let Some(session) = fields.get("_session") {
        let new = fields.get("new_password");
        return new_password::submit(shared, &headers, authorization, session, new, &query).await;
    }
    let (Some(username), Some(password)) = (fields.get("username"), fields.get("password")) else {
        return form(
            &query,
            &authorization.redirect_uri,
            Some("Username and password are required."),
        );
    };
    let (checking, pool_id) = (Arc::clone(&shared), authorization.pool_id.clone());
    let (username, password) = (username.to_string(), password.to_string());
    let outcome = tokio::task::spawn_blocking(move || {
        check_password(&checking, &pool_id, &username, &password)
    })
    .await
    .unwrap_or(Err(SignInError::WrongCredentials));
    match outcome {
        Err(e) => form(
            &query,
            &authorization.redirect_uri,
            Some(e.api_error().message()),
        ),
        Ok(ok) if ok.must_change => new_password::form(
            &shared,
            &authorization,
            &Subject::of(&ok.user),
            &query,
            None,
        ),
        Ok(ok) => sign_in_browser(&shared, &headers, authorization, &Subject::of(&ok.user)),
    }
}
