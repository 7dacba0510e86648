//! The web console at `/console`: one page, one script and one stylesheet
//! (`assets/`, embedded in the binary). The script is a thin client of the
//! management API, the `/_local/` endpoints and the token endpoint; no rule
//! is implemented twice.
//!
//! The page carries the guard's CSRF token (`guard.rs`), so it is never
//! cached, and a strict Content-Security-Policy: scripts and styles of this
//! origin only, requests to this origin only, never framed, no HTML from
//! strings (Trusted Types required).
//!
//! In debug builds, `SCOPEGATE_CONSOLE_ASSETS=dir` serves the assets from
//! `dir` instead, so that editing them needs no rebuild.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::html::html_page;
use super::shared::Shared;

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        // The redirect URI of the workbench's hosted sign-in.
        .route("/console/callback", get(index))
        .route("/console/app.js", get(script))
        .route("/console/app.css", get(style))
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let html = asset("index.html", INDEX)
        .replace("__CSRF_TOKEN__", shared.guard.csrf_token())
        .replace("__VERSION__", env!("CARGO_PKG_VERSION"));
    let mut response = html_page(StatusCode::OK, html, CSP);
    response.headers_mut().insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn script() -> Response {
    with_headers(asset("app.js", SCRIPT), "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    with_headers(asset("app.css", STYLE), "text/css; charset=utf-8")
}

fn with_headers(body: impl Into<String>, content_type: &'static str) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The embedded asset, or in a debug build the file of that name under
/// `SCOPEGATE_CONSOLE_ASSETS` when that is set and the file readable.
fn asset(name: &str, embedded: &'static str) -> Cow<'static, str> {
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os("SCOPEGATE_CONSOLE_ASSETS")
        && let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join(name))
    {
        return Cow::Owned(text);
    }
    let _ = name;
    Cow::Borrowed(embedded)
}
