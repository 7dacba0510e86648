//! The hosted pages' cookies: the browser session (`cognito`) and the CSRF
//! double-submit token (`XSRF-TOKEN`), as Cognito names them. Both
//! `HttpOnly; SameSite=Lax; Path=/`; not `Secure`, as the local issuer
//! serves plain HTTP on loopback.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The browser session's cookie.
pub(crate) const SESSION: &str = "cognito";
/// The CSRF token's cookie; the form's hidden `_csrf` must equal it.
pub(crate) const CSRF: &str = "XSRF-TOKEN";

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// Adds `Set-Cookie: name=value` (`max_age` seconds; 0 expires it).
pub(crate) fn set(response: &mut Response, name: &str, value: &str, max_age: Option<u64>) {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let cookie = format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/{age}");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Whether the form's `_csrf` equals the `XSRF-TOKEN` cookie (constant
/// time).
pub(crate) fn csrf_matches(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (read(headers, CSRF), submitted) {
        (Some(cookie), Some(form)) => {
            aws_lc_rs::constant_time::verify_slices_are_equal(cookie.as_bytes(), form.as_bytes())
                .is_ok()
        }
        _ => false,
    }
}
