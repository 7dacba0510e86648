//! The issuer's state: user pools, their keys, resource servers and app
//! clients; and the rules Cognito applies to them.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::api::ApiError;
use super::keys::{SigningKey, random_alnum};
use crate::Algorithm;
use crate::scope::{
    MAX_SCOPES_PER_SERVER, is_identifier_char, is_scope_name_char, is_server_name_char,
};

/// The OpenID Connect and Cognito scopes that need no resource server.
pub(crate) const BUILT_IN_SCOPES: [&str; 5] = [
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// Seconds since the Unix epoch, as a float (Cognito's timestamps).
pub(crate) fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Everything the issuer knows.
#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    pub(crate) pools: BTreeMap<String, PoolState>,
}

/// One key of a pool, and when it stops being published (after a rotation).
#[derive(Debug, Clone)]
pub(crate) struct PoolKey {
    pub(crate) key: SigningKey,
    pub(crate) retire_at: Option<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct PoolState {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) created: f64,
    pub(crate) modified: f64,
    pub(crate) keys: Vec<PoolKey>,
    pub(crate) signing_kid: String,
    pub(crate) resource_servers: BTreeMap<String, ResourceServerState>,
    pub(crate) clients: BTreeMap<String, ClientState>,
    /// Raw JWKs published beside the pool's keys (for key-set tests).
    pub(crate) extra_jwks: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceServerState {
    pub(crate) identifier: String,
    pub(crate) name: String,
    pub(crate) scopes: Vec<(String, String)>,
}

/// Token validity units (Cognito's `TokenValidityUnits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl Unit {
    pub(crate) fn parse(s: &str) -> Option<Unit> {
        match s {
            "seconds" => Some(Unit::Seconds),
            "minutes" => Some(Unit::Minutes),
            "hours" => Some(Unit::Hours),
            "days" => Some(Unit::Days),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
            Unit::Days => "days",
        }
    }

    pub(crate) fn seconds(self, n: u64) -> u64 {
        n.saturating_mul(match self {
            Unit::Seconds => 1,
            Unit::Minutes => 60,
            Unit::Hours => 3600,
            Unit::Days => 86_400,
        })
    }
}

/// An app client. `config` keeps every other member of the
/// `UserPoolClientType` as it was sent, so that Describe returns it.
#[derive(Debug, Clone)]
pub(crate) struct ClientState {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) secret: Option<String>,
    pub(crate) flows: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) oauth_enabled: bool,
    pub(crate) access_token_validity: Option<u64>,
    pub(crate) access_token_unit: Unit,
    pub(crate) id_token_unit: Unit,
    pub(crate) refresh_token_unit: Unit,
    pub(crate) created: f64,
    pub(crate) modified: f64,
    pub(crate) config: Map<String, Value>,
}

impl ClientState {
    /// Access-token lifetime: `AccessTokenValidity` in its unit, default one
    /// hour.
    pub(crate) fn access_token_seconds(&self) -> u64 {
        match self.access_token_validity {
            Some(n) => self.access_token_unit.seconds(n),
            None => 3600,
        }
    }
}

impl PoolState {
    pub(crate) fn new(
        id: String,
        name: String,
        region: &str,
        alg: Algorithm,
    ) -> Result<PoolState, ApiError> {
        let key = SigningKey::generate(alg).map_err(|e| ApiError::internal(e.to_string()))?;
        let now = now_epoch();
        Ok(PoolState {
            arn: format!("arn:aws:cognito-idp:{region}:000000000000:userpool/{id}"),
            id,
            name,
            created: now,
            modified: now,
            signing_kid: key.kid().to_string(),
            keys: vec![PoolKey {
                key,
                retire_at: None,
            }],
            resource_servers: BTreeMap::new(),
            clients: BTreeMap::new(),
            extra_jwks: Vec::new(),
        })
    }

    /// Published keys: those not past their retirement.
    pub(crate) fn published(&self, now: f64) -> impl Iterator<Item = &SigningKey> {
        self.keys
            .iter()
            .filter(move |k| k.retire_at.is_none_or(|t| now < t))
            .map(|k| &k.key)
    }

    pub(crate) fn signing_key(&self) -> Option<&SigningKey> {
        self.key(&self.signing_kid)
    }

    pub(crate) fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().map(|k| &k.key).find(|k| k.kid() == kid)
    }

    pub(crate) fn jwks(&self, now: f64) -> Value {
        let mut keys: Vec<Value> = self
            .published(now)
            .map(|k| k.public_jwk().clone())
            .collect();
        keys.extend(self.extra_jwks.iter().cloned());
        let mut doc = Map::new();
        doc.insert("keys".into(), Value::Array(keys));
        Value::Object(doc)
    }

    /// Makes a new key of the signing key's algorithm the signing key; the
    /// old one is published for `grace_seconds` more (forever if `None`).
    pub(crate) fn rotate(&mut self, grace_seconds: Option<f64>) -> Result<String, ApiError> {
        let alg = self
            .signing_key()
            .map_or(Algorithm::RS256, SigningKey::algorithm);
        let key = SigningKey::generate(alg).map_err(|e| ApiError::internal(e.to_string()))?;
        let kid = key.kid().to_string();
        let now = now_epoch();
        let old = self.signing_kid.clone();
        if let Some(grace) = grace_seconds {
            for k in &mut self.keys {
                if k.key.kid() == old {
                    k.retire_at = Some(now + grace);
                }
            }
        }
        // Keys past their retirement are dropped for good.
        self.keys.retain(|k| k.retire_at.is_none_or(|t| now < t));
        self.keys.push(PoolKey {
            key,
            retire_at: None,
        });
        self.signing_kid = kid.clone();
        self.modified = now;
        Ok(kid)
    }

    /// Whether a full scope `identifier/name` is defined by a resource server
    /// of this pool right now.
    pub(crate) fn scope_is_active(&self, full: &str) -> bool {
        let Some((identifier, name)) = full.rsplit_once('/') else {
            return false;
        };
        self.resource_servers
            .get(identifier)
            .is_some_and(|rs| rs.scopes.iter().any(|(n, _)| n == name))
    }

    pub(crate) fn find_client(&self, client_id: &str) -> Option<&ClientState> {
        self.clients.get(client_id)
    }
}

impl State {
    /// The pool a client belongs to (client ids are unique across pools).
    pub(crate) fn pool_of_client(&self, client_id: &str) -> Option<&PoolState> {
        self.pools
            .values()
            .find(|p| p.clients.contains_key(client_id))
    }
}

// ---- Validation in Cognito's words ------------------------------------------

/// `1 validation error detected: Value 'x' at 'field' failed to satisfy
/// constraint: ...`, as AWS's front end phrases it.
pub(crate) fn constraint(field: &str, value: &str, what: &str) -> ApiError {
    let shown: String = value.chars().take(100).collect();
    ApiError::invalid_parameter(format!(
        "1 validation error detected: Value '{shown}' at '{field}' failed to satisfy constraint: {what}"
    ))
}

/// A pattern as Cognito states it, and the test of one character.
pub(crate) type Pattern<'a> = (&'a str, fn(char) -> bool);

/// Checks a string's length (in characters) and characters.
pub(crate) fn check_string(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    pattern: Option<Pattern<'_>>,
) -> Result<(), ApiError> {
    let len = value.chars().count();
    if len < min {
        return Err(constraint(
            field,
            value,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(constraint(
            field,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if let Some((pattern, allowed)) = pattern
        && !value.chars().all(allowed)
    {
        return Err(constraint(
            field,
            value,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_pool_id(value: &str) -> Result<(), ApiError> {
    let pattern = r"[\w-]+_[0-9a-zA-Z]+";
    check_string("userPoolId", value, 1, 55, None)?;
    let ok = value.rsplit_once('_').is_some_and(|(prefix, suffix)| {
        !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !suffix.is_empty()
            && suffix.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if ok {
        Ok(())
    } else {
        Err(constraint(
            "userPoolId",
            value,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

pub(crate) fn check_name(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    check_string(
        field,
        value,
        1,
        max,
        Some((r"[\w\s+=,.@-]+", is_server_name_char)),
    )
}

pub(crate) fn check_identifier(value: &str) -> Result<(), ApiError> {
    check_string(
        "identifier",
        value,
        1,
        256,
        Some((r"[\x21\x23-\x5B\x5D-\x7E]+", is_identifier_char)),
    )
}

pub(crate) fn check_scopes(scopes: &[(String, String)]) -> Result<(), ApiError> {
    if scopes.len() > MAX_SCOPES_PER_SERVER {
        return Err(constraint(
            "scopes",
            &format!("[{} scopes]", scopes.len()),
            &format!("Member must have length less than or equal to {MAX_SCOPES_PER_SERVER}"),
        ));
    }
    for (i, (name, description)) in scopes.iter().enumerate() {
        check_string(
            &format!("scopes.{}.member.scopeName", i + 1),
            name,
            1,
            256,
            Some((r"[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+", is_scope_name_char)),
        )?;
        check_string(
            &format!("scopes.{}.member.scopeDescription", i + 1),
            description,
            1,
            256,
            None,
        )?;
        if scopes[..i].iter().any(|(n, _)| n == name) {
            return Err(ApiError::invalid_parameter(format!(
                "Scope name {name} is duplicated."
            )));
        }
    }
    Ok(())
}

/// A new user pool id: `{region}_{9 letters and digits}`.
pub(crate) fn new_pool_id(region: &str) -> String {
    format!("{region}_{}", random_alnum(9, true))
}

/// A new app client id: 26 lower-case letters and digits.
pub(crate) fn new_client_id() -> String {
    random_alnum(26, false)
}

/// A new client secret: 52 lower-case letters and digits.
pub(crate) fn new_client_secret() -> String {
    random_alnum(52, false)
}
