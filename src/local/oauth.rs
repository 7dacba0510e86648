//! The token endpoint (`POST /oauth2/token`): the client-credentials grant,
//! with Cognito's scope rules and RFC 6749 §5.2 errors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use super::state::{ClientState, PoolState, State};
use super::token::{cognito_claims, sign_jwt};
use crate::clock::now_secs;

/// An RFC 6749 §5.2 error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) error: &'static str,
    pub(crate) description: &'static str,
    /// The client authenticated with HTTP Basic: answer 401 with a challenge.
    pub(crate) basic: bool,
}

impl OAuthError {
    fn new(error: &'static str, description: &'static str) -> Self {
        OAuthError {
            error,
            description,
            basic: false,
        }
    }

    pub(crate) fn status(&self) -> u16 {
        if self.error == "invalid_client" && self.basic {
            401
        } else {
            400
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

/// A successful token response (RFC 6749 §5.1).
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
}

impl Issued {
    pub(crate) fn body(&self) -> Value {
        json!({
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        })
    }
}

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

/// The form parameters, each at most once (RFC 6749 §3.2); a parameter
/// without a value counts as omitted (§3.1).
fn form(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
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
        params.push((name.into_owned(), value.into_owned()));
    }
    Ok(params)
}

/// The form parameters of a token request.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Handles a token request.
pub(crate) fn token(
    state: &State,
    base_url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Issued, OAuthError> {
    require_form_encoded(headers)?;
    let params = Params(form(body)?);
    require_client_credentials_grant(&params)?;
    let (pool, client) = authenticate(state, headers, &params)?;
    if !client.oauth_enabled || !client.flows.iter().any(|f| f == "client_credentials") {
        return Err(OAuthError::new(
            "unauthorized_client",
            "the client is not allowed the client_credentials flow",
        ));
    }
    let scopes = granted_scopes(pool, &client.scopes, params.get("scope"))?;
    issue(base_url, pool, client, &scopes)
}

fn require_form_encoded(headers: &HeaderMap) -> Result<(), OAuthError> {
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

fn require_client_credentials_grant(params: &Params) -> Result<(), OAuthError> {
    match params.get("grant_type") {
        None => Err(OAuthError::new("invalid_request", "grant_type is missing")),
        Some("client_credentials") => Ok(()),
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "only the client_credentials grant is supported",
        )),
    }
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

/// Finds the client and checks its secret.
fn authenticate<'s>(
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
        None => Err(OAuthError::new(
            "unauthorized_client",
            "a client without a secret cannot use client_credentials",
        )),
    }
}

/// Signs the access token.
fn issue(
    base_url: &str,
    pool: &PoolState,
    client: &ClientState,
    scopes: &[String],
) -> Result<Issued, OAuthError> {
    let lifetime = client.access_token_seconds();
    let iat = now_secs();
    let issuer = format!("{base_url}/{}", pool.id);
    let claims = cognito_claims(&issuer, &client.id, scopes, iat, lifetime);
    let key = pool
        .signing_key()
        .ok_or_else(|| OAuthError::new("invalid_request", "the user pool has no signing key"))?;
    let payload = serde_json::to_vec(&Value::Object(claims)).unwrap_or_default();
    let access_token = sign_jwt(key, &serde_json::Map::new(), &[], &payload)
        .ok_or_else(|| OAuthError::new("invalid_request", "signing failed"))?;
    Ok(Issued {
        access_token,
        expires_in: lifetime,
    })
}

/// Cognito's rules: with no `scope`, every allowed custom scope that is
/// still active; with `scope`, each must be allowed (else `invalid_scope`, no
/// token), and allowed scopes that are no longer defined are left out.
fn granted_scopes(
    pool: &PoolState,
    allowed: &[String],
    requested: Option<&str>,
) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = requested else {
        return Ok(allowed
            .iter()
            .filter(|s| pool.scope_is_active(s))
            .cloned()
            .collect());
    };
    if requested.split(' ').all(str::is_empty) {
        return Err(OAuthError::new(
            "invalid_scope",
            "the scope parameter holds no scope",
        ));
    }
    let mut granted = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.iter().any(|a| a == scope) || !scope.contains('/') {
            return Err(OAuthError::new(
                "invalid_scope",
                "a requested scope is not allowed for this client",
            ));
        }
        if pool.scope_is_active(scope) && !granted.iter().any(|g| g == scope) {
            granted.push(scope.to_string());
        }
    }
    if requested.split(' ').all(str::is_empty) {
        return Err(OAuthError::new(
            "invalid_scope",
            "the scope parameter is empty",
        ));
    }
    Ok(granted)
}
