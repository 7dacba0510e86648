//! Form and query parameters of the OAuth endpoints: each at most once (RFC
//! 6749 §3.1, §3.2), a parameter without a value counted as omitted.

use http::HeaderMap;
use http::header::CONTENT_TYPE;

use super::outcome::OAuthError;

/// At most this many parameters are read; more is a malformed request.
const MAX_PARAMS: usize = 64;

/// The parameters of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a body or a query).
    pub(crate) fn parse(body: &[u8]) -> Result<Params, OAuthError> {
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if value.is_empty() {
                continue;
            }
            if params.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::new(
                    "invalid_request",
                    "a parameter is repeated",
                ));
            }
            if params.len() >= MAX_PARAMS {
                return Err(OAuthError::new("invalid_request", "too many parameters"));
            }
            params.push((name.into_owned(), value.into_owned()));
        }
        Ok(Params(params))
    }

    /// A parameter's value, if it was given (and not empty).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Refuses a body that is not `application/x-www-form-urlencoded`.
pub(crate) fn require_form_encoded(headers: &HeaderMap) -> Result<(), OAuthError> {
    let form_encoded = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if form_encoded {
        return Ok(());
    }
    Err(OAuthError::new(
        "invalid_request",
        "the body must be application/x-www-form-urlencoded",
    ))
}
