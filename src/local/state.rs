//! The issuer's state: user pools, their keys, resource servers and app
//! clients, with the reads and the key rotation made on it. No validation:
//! the rules Cognito applies are checked in `validate.rs`, before anything is
//! stored here.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::keys::SigningKey;
use super::users::Directory;
use crate::Algorithm;

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
    crate::clock::since_epoch().as_secs_f64()
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
    /// Users, groups, refresh tokens, revocations and the password policy.
    pub(crate) directory: Directory,
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

    /// ID-token lifetime: `IdTokenValidity` in its unit, default one hour.
    pub(crate) fn id_token_seconds(&self) -> u64 {
        self.validity("IdTokenValidity", self.id_token_unit)
            .unwrap_or(3600)
    }

    /// Refresh-token lifetime: `RefreshTokenValidity` in its unit, default
    /// 30 days.
    pub(crate) fn refresh_token_seconds(&self) -> u64 {
        self.validity("RefreshTokenValidity", self.refresh_token_unit)
            .unwrap_or(30 * 86_400)
    }

    fn validity(&self, member: &str, unit: Unit) -> Option<u64> {
        let n = self.config.get(member)?.as_u64()?;
        (n > 0).then(|| unit.seconds(n))
    }

    /// A `*List` member of the client's configuration (`CallbackURLs`,
    /// `ExplicitAuthFlows`, ...); empty when absent.
    pub(crate) fn list(&self, member: &str) -> Vec<&str> {
        self.config
            .get(member)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// At most this many keys per pool: the signing key and the most recent
/// retiring ones, so that rotating in a loop cannot grow the key set past
/// what verifiers accept.
const MAX_KEYS_PER_POOL: usize = 16;

impl PoolState {
    /// A pool signing with `key` (generated by the caller, outside any lock:
    /// RSA key generation takes a while).
    pub(crate) fn new(id: String, name: String, region: &str, key: SigningKey) -> PoolState {
        let now = now_epoch();
        PoolState {
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
            directory: Directory::default(),
        }
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

    /// The algorithm of the signing key.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.signing_key()
            .map_or(Algorithm::RS256, SigningKey::algorithm)
    }

    /// Makes `key` the signing key; the old one is published for
    /// `grace_seconds` more (forever if `None`).
    pub(crate) fn rotate(&mut self, key: SigningKey, grace_seconds: Option<f64>) -> String {
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
        // Keys past their retirement are dropped for good, and so are the
        // oldest retiring ones beyond the bound.
        self.keys.retain(|k| k.retire_at.is_none_or(|t| now < t));
        let excess = self.keys.len().saturating_sub(MAX_KEYS_PER_POOL - 1);
        self.keys.drain(..excess);
        self.keys.push(PoolKey {
            key,
            retire_at: None,
        });
        self.signing_kid = kid.clone();
        self.modified = now;
        kid
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
