//! Comma-separated header lists (RFC 9110 §5.6.1), such as `Connection`,
//! `Upgrade` and `TE`.

use http::header::{HeaderMap, HeaderName};

/// Whether any `name` header lists `token` (any case), ignoring what
/// follows it in its element: parameters (`trailers;q=1`) or a version
/// (`websocket/13`).
pub(crate) fn lists_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|element| {
                element
                    .split([';', '/'])
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(token))
            })
        })
    })
}
