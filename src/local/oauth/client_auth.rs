//! Client authentication at the token and revocation endpoints (RFC 6749
//! §2.3): HTTP Basic or `client_secret` in the body, never both; a public
//! client (one without a secret) names itself with `client_id` alone.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::form::Params;
use super::outcome::OAuthError;
use crate::local::state::{ClientState, PoolState, State};

/// Client credentials from the `Authorization: Basic` header (RFC 6749
/// §2.3.1: each part form-urlencoded before base64).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = OAuthError {
        basic: true,
        ..OAuthError::new("invalid_client", "the Basic credentials are malformed")
    };
    let value = value.to_str().map_err(|_| invalid.clone())?;
    let (scheme, encoded) = value.split_once(' ').ok_or(invalid.clone())?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::new(
            "invalid_request",
            "only HTTP Basic or client_secret_post client authentication is supported",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid.clone())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid.clone())?;
    let (id, secret) = decoded.split_once(':').ok_or(invalid)?;
    Ok(Some(BasicCredentials {
        id: form_decode(id),
        raw_secret: secret.to_string(),
        decoded_secret: form_decode(secret),
    }))
}

/// The client's part of `Authorization: Basic`. RFC 6749 §2.3.1 has each
/// part form-urlencoded first, but most clients (curl, requests) do not;
/// a secret may contain `+`, so both readings of the secret are tried.
struct BasicCredentials {
    id: String,
    raw_secret: String,
    decoded_secret: String,
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn same_secret(expected: &str, given: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), given.as_bytes()).is_ok()
}

/// The client a request names, and the secrets it may have meant.
struct Presented {
    client_id: String,
    /// One for the body, two readings of a Basic secret.
    secrets: Vec<String>,
    basic: bool,
}

impl Presented {
    fn fail(&self, description: &'static str) -> OAuthError {
        OAuthError {
            basic: self.basic,
            ..OAuthError::new("invalid_client", description)
        }
    }
}

/// Client authentication: Basic or the body, never both (RFC 6749 §2.3).
fn presented_credentials(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let basic = basic_credentials(headers)?;
    let used_basic = basic.is_some();
    let (client_id, secrets) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::new(
                "invalid_request",
                "the client authenticated with more than one method",
            ));
        }
        (Some(basic), body_id, None) => {
            if body_id.is_some_and(|b| b != basic.id) {
                return Err(OAuthError::new(
                    "invalid_request",
                    "client_id differs from the Basic credentials",
                ));
            }
            (basic.id, vec![basic.decoded_secret, basic.raw_secret])
        }
        (None, Some(id), secret) => (
            id.to_string(),
            secret.map(str::to_string).into_iter().collect(),
        ),
        (None, None, _) => {
            return Err(OAuthError::new(
                "invalid_client",
                "no client authentication",
            ));
        }
    };
    Ok(Presented {
        client_id,
        secrets,
        basic: used_basic,
    })
}

/// Finds the client and checks its secret; a client without a secret is
/// accepted when it sends none (each grant decides whether it may be public).
pub(crate) fn authenticate<'s>(
    state: &'s State,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(&'s PoolState, &'s ClientState), OAuthError> {
    let presented = presented_credentials(headers, params)?;
    let unknown = || presented.fail("unknown client or wrong secret");
    let pool = state
        .pool_of_client(&presented.client_id)
        .ok_or_else(unknown)?;
    let client = pool.find_client(&presented.client_id).ok_or_else(unknown)?;
    match &client.secret {
        Some(_) if presented.secrets.is_empty() => {
            Err(presented.fail("the client secret is missing"))
        }
        Some(expected) => {
            // Every candidate is compared, so the time taken does not depend
            // on which one matched.
            let matched = presented
                .secrets
                .iter()
                .fold(false, |any, given| same_secret(expected, given) | any);
            if matched {
                Ok((pool, client))
            } else {
                Err(unknown())
            }
        }
        // A public client: it names itself, and must not send a secret.
        None if presented.secrets.is_empty() => Ok((pool, client)),
        None => Err(presented.fail("the client has no secret")),
    }
}
