//! `GET /logout`: ends the browser session (the server side is removed and
//! the cookie expired), then redirects to one of the client's `LogoutURLs`
//! (`logout_uri`), or back to `/login` to sign in again (`redirect_uri` and
//! `response_type`, as Cognito). Anything else is a page: never an open
//! redirect.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::cookies;
use super::pages::{error_page, redirect};
use crate::local::oauth::Params;
use crate::local::shared::Shared;
use crate::local::state::State as IssuerState;
use crate::sync::lock;

/// Where a logout goes next.
enum Next {
    LogoutUri(String),
    SignInAgain,
}

/// The logout endpoint.
pub(crate) async fn logout(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let next = {
        let state = lock(&shared.state);
        next(&state, &query)
    };
    let next = match next {
        Ok(next) => next,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, message),
    };
    if let Some(id) = cookies::read(&headers, cookies::SESSION) {
        lock(&shared.sessions).browser_sessions.take(&id);
    }
    let mut response = match next {
        Next::LogoutUri(uri) => redirect(&uri),
        // The sign-in page checks the authorization request again.
        Next::SignInAgain => redirect(&format!("/login?{query}")),
    };
    cookies::set(&mut response, cookies::SESSION, "", Some(0));
    response
}

fn next(state: &IssuerState, query: &str) -> Result<Next, &'static str> {
    let params = Params::parse(query.as_bytes())
        .map_err(|_| "The request's parameters are malformed or repeated.")?;
    let client_id = params.get("client_id").ok_or("client_id is missing.")?;
    let client = state
        .pool_of_client(client_id)
        .and_then(|p| p.find_client(client_id))
        .ok_or("The client does not exist.")?;
    if let Some(uri) = params.get("logout_uri") {
        return if client.list("LogoutURLs").contains(&uri) {
            Ok(Next::LogoutUri(uri.to_string()))
        } else {
            Err("logout_uri is not one of the client's sign-out URLs.")
        };
    }
    match (params.get("redirect_uri"), params.get("response_type")) {
        (Some(uri), Some(_)) if client.list("CallbackURLs").contains(&uri) => Ok(Next::SignInAgain),
        (Some(_), Some(_)) => Err("redirect_uri is not one of the client's callback URLs."),
        _ => Err("logout needs logout_uri, or redirect_uri and response_type."),
    }
}
