//! Minting Cognito-shaped access tokens.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::ids::uuid_v4;
use super::keys::SigningKey;
use super::shared::Shared;

/// The claims of a Cognito client-credentials access token.
pub(crate) fn cognito_claims(
    issuer: &str,
    client_id: &str,
    scopes: &[String],
    iat: u64,
    lifetime: u64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(client_id));
    claims.insert("token_use".into(), json!("access"));
    if !scopes.is_empty() {
        claims.insert("scope".into(), json!(scopes.join(" ")));
    }
    claims.insert("auth_time".into(), json!(iat));
    claims.insert("iss".into(), json!(issuer));
    claims.insert("exp".into(), json!(iat.saturating_add(lifetime)));
    claims.insert("iat".into(), json!(iat));
    claims.insert("version".into(), json!(2));
    claims.insert("jti".into(), json!(uuid_v4()));
    claims.insert("client_id".into(), json!(client_id));
    claims
}

/// Signs `payload` with `key`. The header is `{"kid", "alg"}` of the key,
/// then `header` set over it, then `removed` taken out.
pub(crate) fn sign_jwt(
    key: &SigningKey,
    header: &Map<String, Value>,
    removed: &[String],
    payload: &[u8],
) -> Option<String> {
    let mut full = Map::new();
    full.insert("kid".into(), json!(key.kid()));
    full.insert("alg".into(), json!(key.algorithm().as_str()));
    for (name, value) in header {
        full.insert(name.clone(), value.clone());
    }
    for name in removed {
        full.remove(name);
    }
    let header = serde_json::to_vec(&Value::Object(full)).ok()?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(signing_input.as_bytes()).ok()?;
    Some(format!("{signing_input}.{signature}"))
}

/// Builds an access token shaped like Amazon Cognito's:
///
/// ```json
/// {"sub": "<client id>", "token_use": "access", "scope": "...",
///  "auth_time": 1700000000, "iss": "http://127.0.0.1:PORT/POOL",
///  "exp": 1700003600, "iat": 1700000000, "version": 2,
///  "jti": "<uuid>", "client_id": "<client id>"}
/// ```
///
/// with the header `{"kid": "...", "alg": "RS256"}`. Every claim and header
/// parameter can be overridden or removed, for negative tests; the signature
/// is always made by a real key of the issuer, with that key's algorithm.
#[derive(Debug)]
#[must_use]
pub struct TokenBuilder {
    shared: Arc<Shared>,
    pool_id: String,
    client_id: String,
    scopes: Vec<String>,
    lifetime: Duration,
    issued_at: Option<SystemTime>,
    claims: Map<String, Value>,
    removed: Vec<String>,
    header: Map<String, Value>,
    header_removed: Vec<String>,
    signed_with: Option<String>,
}

impl TokenBuilder {
    pub(crate) fn new(shared: Arc<Shared>, pool_id: String) -> Self {
        TokenBuilder {
            shared,
            pool_id,
            client_id: "local-client".to_string(),
            scopes: Vec::new(),
            lifetime: Duration::from_secs(3600),
            issued_at: None,
            claims: Map::new(),
            removed: Vec::new(),
            header: Map::new(),
            header_removed: Vec::new(),
            signed_with: None,
        }
    }

    /// The client the token is for (`client_id` and `sub`). Default
    /// `local-client`.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Adds a scope to the `scope` claim.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Adds scopes to the `scope` claim.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// How long until `exp`. Default one hour.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// When the token was issued (`iat`, `auth_time`); `exp` follows from
    /// it. Default now.
    pub fn issued_at(mut self, at: SystemTime) -> Self {
        self.issued_at = Some(at);
        self
    }

    /// Sets (or replaces) a claim.
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Leaves a claim out.
    pub fn without_claim(mut self, name: impl Into<String>) -> Self {
        self.removed.push(name.into());
        self
    }

    /// Sets (or replaces) a header parameter, `alg` and `kid` included. The
    /// signature is still made with the key's own algorithm.
    pub fn header(mut self, name: impl Into<String>, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    /// Leaves a header parameter out.
    pub fn without_header(mut self, name: impl Into<String>) -> Self {
        self.header_removed.push(name.into());
        self
    }

    /// Signs with the published key `kid` instead of the signing key. With an unknown `kid`, [`mint`](Self::mint) returns an
    /// empty string: a test never silently gets another key's signature.
    pub fn signed_with(mut self, kid: impl Into<String>) -> Self {
        self.signed_with = Some(kid.into());
        self
    }

    /// The claims as they would be minted.
    pub fn claims(&self) -> Map<String, Value> {
        let iat = match self.issued_at {
            Some(at) => at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            None => crate::clock::now_secs(),
        };
        let mut claims = cognito_claims(
            &self.shared.pool_url(&self.pool_id),
            &self.client_id,
            &self.scopes,
            iat,
            self.lifetime.as_secs(),
        );
        for (name, value) in &self.claims {
            claims.insert(name.clone(), value.clone());
        }
        for name in &self.removed {
            claims.remove(name);
        }
        claims
    }

    /// Signs the token. An empty string if the pool no longer exists or
    /// [`signed_with`](Self::signed_with) names no published key.
    pub fn mint(self) -> String {
        let payload = serde_json::to_vec(&Value::Object(self.claims())).unwrap_or_default();
        self.mint_payload(&payload)
    }

    /// Signs the token with an arbitrary payload (not even JSON, if need be).
    pub fn mint_payload(self, payload: &[u8]) -> String {
        let key = self
            .shared
            .with_pool(&self.pool_id, |pool| match self.signed_with.as_deref() {
                Some(kid) => pool.key(kid).cloned(),
                None => pool.signing_key().cloned(),
            });
        key.flatten()
            .and_then(|key| sign_jwt(&key, &self.header, &self.header_removed, payload))
            .unwrap_or_default()
    }
}
