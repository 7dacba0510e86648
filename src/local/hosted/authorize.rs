//! `GET /oauth2/authorize`: checks the request; a browser already signed in
//! to the pool gets its code or tokens at once, any other goes to `/login`
//! with the same query.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::complete::{finish, refused};
use super::cookies;
use super::pages::redirect;
use super::request::check;
use crate::local::authorization::BrowserSession;
use crate::local::shared::Shared;
use crate::sync::lock;

/// The authorization endpoint.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let checked = check(&lock(&shared.state), &query);
    let authorization = match checked {
        Ok(authorization) => authorization,
        Err(refusal) => return refused(refusal),
    };
    match signed_in(&shared, &headers, &authorization.pool_id) {
        Some(session) => finish(&shared, authorization, &session.user, session.auth_time),
        None => redirect(&format!("/login?{query}")),
    }
}

/// The browser's session for `pool_id`, if it has one whose sign-in still
/// stands (the same user by `sub`, enabled, confirmed, not signed out
/// since: `Subject::signed_in`).
pub(crate) fn signed_in(
    shared: &Shared,
    headers: &HeaderMap,
    pool_id: &str,
) -> Option<BrowserSession> {
    let id = cookies::read(headers, cookies::SESSION)?;
    let session = lock(&shared.sessions)
        .browser_sessions
        .get(&id)
        .filter(|s| s.pool_id == pool_id)
        .cloned()?;
    let state = lock(&shared.state);
    let directory = &state.pools.get(pool_id)?.directory;
    session.user.signed_in(directory, session.auth_time)?;
    Some(session)
}
