//! The verifier: one issuer, its keys, and the checks every token goes
//! through, in this order:
//!
//! 1. size cap, before any decoding;
//! 2. compact JWS split and strict base64url;
//! 3. header: JSON object, no `crit`/`jku`/`jwk`/`x5u`/`x5c`/`b64`, `alg` on
//!    the allow-list, a `kid`;
//! 4. key by `kid`, for that `alg` only;
//! 5. signature;
//! 6. `exp` (required) and `nbf`, with the leeway;
//! 7. only then the other claims: `iss` exact, `token_use`, `client_id` and
//!    `aud` allow-lists, the RFC 9068 profile, types of standard claims;
//! 8. (in the layer) the route's scopes.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::HeaderValue;

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::claims::{self, ClaimPolicy, Claims};
use crate::error::{ConfigError, ConfigErrorKind};
use crate::issuer::{Issuer, KeySource};
use crate::jwk::KeySet;
use crate::jws;
use crate::keys::{
    Fetcher, KeyCacheOptions, KeyStore, Snapshot, Source, Unavailable, fetch_url, is_loopback,
};
use crate::layer::ScopeGateLayer;
use crate::scope::{Requirement, ResourceServer, ScopeRegistry};
use crate::token_cache::{TokenCache, TokenCacheOptions, TokenCacheStats, TokenLookup};
use crate::token_error::TokenError;

/// The default cap on a token's size.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The default clock-skew leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Why [`Verifier::verify`] did not accept a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is not valid: the client's problem (401 `invalid_token`).
    InvalidToken(TokenError),
    /// No key set could be loaded and none is cached: the server's problem
    /// (503), never a reason to accept.
    KeySetUnavailable {
        /// When a new fetch may be tried.
        retry_after: Duration,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::InvalidToken(e) => write!(f, "invalid token: {e}"),
            VerifyError::KeySetUnavailable { retry_after } => write!(
                f,
                "the issuer's key set is unavailable (retry in {}s)",
                retry_after.as_secs().max(1)
            ),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::InvalidToken(e) => Some(e),
            VerifyError::KeySetUnavailable { .. } => None,
        }
    }
}

impl From<TokenError> for VerifyError {
    fn from(e: TokenError) -> Self {
        VerifyError::InvalidToken(e)
    }
}

/// Verifies access tokens of one issuer, and makes the layers that guard
/// routes with it. Cheap to clone: clones share the key cache.
///
/// ```no_run
/// use scopegate::{Issuer, ResourceServer, Verifier};
///
/// # fn main() -> Result<(), scopegate::ConfigError> {
/// let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
///     .client_ids(["1example23456789"])
///     .resource_server(
///         ResourceServer::new("https://photos.example.com", "Photo API")
///             .scope("photos.read", "Read your photos"),
///     )
///     .build()?;
/// let read = verifier.require("https://photos.example.com/photos.read")?;
/// # let _ = read;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    policy: ClaimPolicy,
    allowed: AlgorithmSet,
    max_token_bytes: usize,
    keys: Arc<KeyStore>,
    registry: ScopeRegistry,
    realm: String,
    challenges: Challenges,
    token_cache: Option<TokenCache>,
}

/// `WWW-Authenticate` values computed once (RFC 6750 §3).
#[derive(Clone, Debug)]
pub(crate) struct Challenges {
    pub(crate) missing: HeaderValue,
    pub(crate) invalid_request: HeaderValue,
    pub(crate) invalid_token: HeaderValue,
}

/// The outcome of a check that did not wait for anything.
pub(crate) enum Immediate {
    Done(Result<Claims, TokenError>),
    /// Keys must be fetched first (cold start, stale keys, or an unknown
    /// `kid` that the cooldown allows a fetch for).
    NeedsKeys,
}

impl Verifier {
    /// Starts configuring a verifier for tokens of `issuer`.
    pub fn builder(issuer: Issuer) -> VerifierBuilder {
        VerifierBuilder::new(issuer)
    }

    /// Verifies a token: signature, lifetime and claims, fetching keys if
    /// needed. Scopes are not checked here; see [`Claims::has_scope`].
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        match self.verify_now(token) {
            Immediate::Done(result) => result.map_err(VerifyError::InvalidToken),
            Immediate::NeedsKeys => self.verify_after_fetch(token).await,
        }
    }

    /// Verifies with the keys at hand, without waiting.
    pub(crate) fn verify_now(&self, token: &str) -> Immediate {
        if token.len() > self.inner.max_token_bytes {
            return Immediate::Done(Err(TokenError::TooLarge));
        }
        let keys = &self.inner.keys;
        match keys.with_current(|snapshot| self.verify_with(token, snapshot)) {
            // Refuse what is malformed before waiting on a fetch for it.
            None => match jws::check_header(token, self.inner.allowed) {
                Ok(()) => Immediate::NeedsKeys,
                Err(e) => Immediate::Done(Err(e)),
            },
            Some(Err(TokenError::UnknownKeyId)) if keys.may_refetch() => Immediate::NeedsKeys,
            Some(result) => Immediate::Done(result),
        }
    }

    /// The slow path: waits for keys, and refetches once for an unknown
    /// `kid` if the cooldown allows.
    pub(crate) async fn verify_after_fetch(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.len() > self.inner.max_token_bytes {
            return Err(TokenError::TooLarge.into());
        }
        let keys = &self.inner.keys;
        let snapshot = keys.load().await.map_err(unavailable)?;
        match self.verify_with(token, &snapshot) {
            Err(TokenError::UnknownKeyId) => match keys.refetch_for_unknown_kid(&snapshot).await {
                Some(fresh) => Ok(self.verify_with(token, &fresh)?),
                None => Err(TokenError::UnknownKeyId.into()),
            },
            result => Ok(result?),
        }
    }

    /// Verification against one snapshot. The callers have checked the
    /// token's size.
    fn verify_with(&self, token: &str, snapshot: &Snapshot) -> Result<Claims, TokenError> {
        let now = crate::clock::now_secs();
        let cache = self.inner.token_cache.as_ref();
        let lookup = TokenLookup {
            token,
            keys: &snapshot.keys,
            generation: snapshot.generation,
            now,
            leeway: self.inner.policy.leeway,
            digest: std::cell::OnceCell::new(),
        };
        if let Some(claims) = cache.and_then(|c| c.get(&lookup)) {
            return Ok(claims);
        }
        let jws = jws::verify(token, &snapshot.keys, self.inner.allowed)?;
        let payload = jws::b64_decode(jws.payload_b64).map_err(|_| TokenError::MalformedClaims)?;
        let claims = claims::verify(
            &payload,
            &self.inner.policy,
            jws.typ_is_at_jwt,
            now,
            self.inner.id,
        )?;
        if let Some(cache) = cache {
            cache.insert(&lookup, &claims, jws.key);
        }
        Ok(claims)
    }

    /// Hits and misses of the verified-token cache (zeros when it is off).
    pub fn token_cache_stats(&self) -> TokenCacheStats {
        self.inner
            .token_cache
            .as_ref()
            .map(TokenCache::stats)
            .unwrap_or_default()
    }

    /// Loads the key set now, instead of on the first request. Returns once
    /// keys are usable, or with the error if they cannot be fetched.
    pub async fn load_keys(&self) -> Result<(), VerifyError> {
        self.inner
            .keys
            .load()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    /// Whether a usable key set is loaded (for readiness probes).
    pub fn has_keys(&self) -> bool {
        self.inner.keys.is_loaded()
    }

    /// The number of successful and failed key-set fetches so far.
    pub fn key_set_fetches(&self) -> (u64, u64) {
        let counters = &self.inner.keys.counters;
        (
            counters.ok.load(Ordering::Relaxed),
            counters.failed.load(Ordering::Relaxed),
        )
    }

    /// The `kid`s of the keys in use, sorted; empty if none are loaded.
    pub fn key_ids(&self) -> Vec<String> {
        self.inner
            .keys
            .with_current(|s| s.keys.kids().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The exact `iss` value tokens must carry.
    pub fn issuer(&self) -> &str {
        &self.inner.policy.issuer
    }

    /// The `realm` of this verifier's `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// A layer that lets a request through only with a valid token that
    /// grants `scope`, a full `resourceServerIdentifier/scopeName`.
    ///
    /// Fails if no registered resource server defines the scope: a typo must
    /// not leave a route open, nor lock it forever.
    pub fn require(&self, scope: &str) -> Result<ScopeGateLayer, ConfigError> {
        self.require_all([scope])
    }

    /// A layer that wants every one of `scopes`.
    pub fn require_all<I, S>(&self, scopes: I) -> Result<ScopeGateLayer, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scopes = self.resolve(scopes)?;
        Ok(ScopeGateLayer::new(
            self.clone(),
            Requirement::AllOf(scopes),
        ))
    }

    /// A layer that wants at least one of `scopes`.
    pub fn require_any<I, S>(&self, scopes: I) -> Result<ScopeGateLayer, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scopes = self.resolve(scopes)?;
        Ok(ScopeGateLayer::new(
            self.clone(),
            Requirement::AnyOf(scopes),
        ))
    }

    /// A layer that wants a valid token and no particular scope.
    pub fn authenticated(&self) -> ScopeGateLayer {
        ScopeGateLayer::new(self.clone(), Requirement::Authenticated)
    }

    fn resolve<I, S>(&self, scopes: I) -> Result<Box<[crate::Scope]>, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scopes = scopes
            .into_iter()
            .map(|s| self.inner.registry.resolve(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidScope,
                "a scope requirement needs at least one scope; use `authenticated()` for routes that need only a valid token",
            ));
        }
        Ok(scopes.into())
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    pub(crate) fn challenges(&self) -> &Challenges {
        &self.inner.challenges
    }
}

fn unavailable(u: Unavailable) -> VerifyError {
    VerifyError::KeySetUnavailable {
        retry_after: u.retry_after,
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.policy.issuer)
            .field("algorithms", &self.inner.allowed)
            .field("policy", &self.inner.policy)
            .field("keys", &self.inner.keys)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Verifier`]. Every option has a safe default; nothing is
/// checked until [`build`](VerifierBuilder::build).
#[derive(Debug)]
#[must_use]
pub struct VerifierBuilder {
    issuer: Issuer,
    algorithms: Option<Vec<Algorithm>>,
    token_use: Option<String>,
    client_ids: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    insecure_any_audience: bool,
    require_at_jwt: bool,
    leeway: Duration,
    max_token_bytes: usize,
    resource_servers: Vec<ResourceServer>,
    realm: String,
    cache: KeyCacheOptions,
    token_cache: TokenCacheOptions,
}

impl VerifierBuilder {
    fn new(issuer: Issuer) -> Self {
        let cognito = issuer.is_cognito();
        VerifierBuilder {
            issuer,
            algorithms: cognito.then(|| vec![Algorithm::RS256]),
            token_use: cognito.then(|| "access".to_string()),
            client_ids: None,
            audiences: None,
            insecure_any_audience: false,
            require_at_jwt: false,
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            resource_servers: Vec::new(),
            realm: "api".to_string(),
            cache: KeyCacheOptions::default(),
            token_cache: TokenCacheOptions::default(),
        }
    }

    /// The algorithms tokens may be signed with. Default: `RS256` for
    /// Cognito, every [`Algorithm`] otherwise. Only asymmetric algorithms
    /// exist, so HMAC and `none` can never be allowed.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Requires the `token_use` claim to equal this (`access` for Cognito,
    /// the default with [`Issuer::cognito`]).
    pub fn token_use(mut self, token_use: impl Into<String>) -> Self {
        self.token_use = Some(token_use.into());
        self
    }

    /// Accepts tokens whose `client_id` is one of these. Cognito access
    /// tokens carry no `aud`, so this is how their audience is checked.
    pub fn client_ids<I, S>(mut self, client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_ids = Some(client_ids.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts tokens with at least one `aud` among these.
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts tokens meant for any client or audience of the issuer.
    ///
    /// Without a `client_id` or `aud` allow-list, a token that the issuer
    /// minted for another application is accepted here too (RFC 8725 §3.9).
    /// Only use this when every client of the issuer may call this API.
    pub fn with_insecure_any_audience(mut self) -> Self {
        self.insecure_any_audience = true;
        self
    }

    /// Applies the RFC 9068 JWT access-token profile: the header's `typ`
    /// must be `at+jwt`, and `aud`, `sub`, `client_id`, `iat` and `jti` must
    /// be present. Needs [`audiences`](Self::audiences): the profile's `aud`
    /// check is not optional. Cognito tokens do not follow it.
    pub fn require_at_jwt(mut self) -> Self {
        self.require_at_jwt = true;
        self
    }

    /// Clock-skew leeway for `exp` and `nbf`. Default 60 s, at most 5 min.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Tokens longer than this are refused before any decoding. Default
    /// 8 KiB; between 256 bytes and 64 KiB.
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// Registers a resource server, so that routes can require its scopes.
    pub fn resource_server(mut self, server: ResourceServer) -> Self {
        self.resource_servers.push(server);
        self
    }

    /// The `realm` of `WWW-Authenticate` challenges. Default `api`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// How long a fetched key set is fresh when the response has no
    /// `Cache-Control: max-age`. Default 10 minutes.
    pub fn key_set_ttl(mut self, ttl: Duration) -> Self {
        self.cache.default_ttl = ttl;
        self
    }

    /// The bounds a `Cache-Control: max-age` (or the default TTL) is clamped
    /// to. Default 1 minute to 1 day.
    pub fn key_set_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.cache.min_ttl = min;
        self.cache.max_ttl = max;
        self
    }

    /// How long past its TTL the last good key set keeps serving while
    /// fetches fail. Default 1 hour.
    pub fn key_set_max_stale(mut self, max_stale: Duration) -> Self {
        self.cache.max_stale = max_stale;
        self
    }

    /// The least time between two fetches caused by tokens with an unknown
    /// `kid`, for the whole issuer. Default 30 s.
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.cache.unknown_kid_cooldown = cooldown;
        self
    }

    /// The backoff between failed fetches: starts at `initial`, doubles,
    /// stops growing at `max`. Default 1 s to 60 s.
    pub fn key_set_retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.cache.retry_initial = initial;
        self.cache.retry_max = max;
        self
    }

    /// Connect and total timeouts of a fetch. Default 2 s and 5 s.
    pub fn key_set_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.cache.connect_timeout = connect;
        self.cache.timeout = total;
        self
    }

    /// The largest key-set (or discovery) body read. Default 128 KiB.
    pub fn key_set_max_bytes(mut self, max: usize) -> Self {
        self.cache.max_body_bytes = max;
        self
    }

    /// How many verified tokens to remember (default 10,000). A hit skips
    /// decoding and the signature check; lifetime, key presence and scopes
    /// are still checked on every request. 0 turns the cache off.
    pub fn token_cache_capacity(mut self, entries: u64) -> Self {
        self.token_cache.capacity = entries;
        self
    }

    /// How long a verified token stays cached at most (default 10 minutes;
    /// never past the token's `exp`).
    pub fn token_cache_ttl(mut self, ttl: Duration) -> Self {
        self.token_cache.ttl = ttl;
        self
    }

    /// Tokens longer than this are never cached (default 4 KiB).
    pub fn token_cache_max_token_bytes(mut self, max: usize) -> Self {
        self.token_cache.max_token_bytes = max;
        self
    }

    /// Checks the configuration and builds the verifier. Nothing is fetched
    /// yet: keys are loaded on the first request, or by
    /// [`Verifier::load_keys`].
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let invalid =
            |message: String| Err(ConfigError::new(ConfigErrorKind::InvalidOption, message));
        self.issuer.validate()?;

        let allowed: AlgorithmSet = match &self.algorithms {
            Some(list) => list.iter().copied().collect(),
            None => Algorithm::ALL.into_iter().collect(),
        };
        if allowed.is_empty() {
            return invalid("the algorithm allow-list is empty".into());
        }
        if self.leeway > MAX_LEEWAY {
            return invalid(format!(
                "a leeway of {}s is more than the {}s allowed",
                self.leeway.as_secs(),
                MAX_LEEWAY.as_secs()
            ));
        }
        if !(256..=64 * 1024).contains(&self.max_token_bytes) {
            return invalid(format!(
                "max_token_bytes must be between 256 and 65536, got {}",
                self.max_token_bytes
            ));
        }
        check_realm(&self.realm)?;
        let cache = &self.cache;
        if cache.min_ttl > cache.max_ttl || cache.max_ttl.is_zero() {
            return invalid(
                "the key-set TTL bounds are empty (min is above max, or max is zero)".into(),
            );
        }
        if cache.retry_initial.is_zero() || cache.retry_initial > cache.retry_max {
            return invalid(
                "the retry backoff must start above zero and not above its maximum".into(),
            );
        }
        if cache.timeout.is_zero() || cache.connect_timeout.is_zero() {
            return invalid("key-set timeouts must be above zero".into());
        }
        let tc = &self.token_cache;
        if tc.capacity > 0 && (tc.ttl.is_zero() || tc.ttl > Duration::from_secs(86_400)) {
            return invalid("the token cache TTL must be above zero and at most 1 day".into());
        }
        if cache.max_body_bytes < 1024 {
            return invalid("the key-set body cap must be at least 1024 bytes".into());
        }
        for list in [&self.client_ids, &self.audiences].into_iter().flatten() {
            if list.is_empty() || list.iter().any(String::is_empty) {
                return invalid("client_id and aud allow-lists must hold non-empty values".into());
            }
        }
        if self.client_ids.is_none() && self.audiences.is_none() && !self.insecure_any_audience {
            let hint = if self.issuer.is_cognito() {
                "Cognito access tokens carry no `aud`: set `client_ids([...])`"
            } else {
                "set `client_ids([...])` or `audiences([...])`"
            };
            return Err(ConfigError::new(
                ConfigErrorKind::MissingAudienceCheck,
                format!(
                    "no audience check is configured: {hint}, or call `with_insecure_any_audience()` if every client of the issuer may call this API"
                ),
            ));
        }
        if self.require_at_jwt && self.audiences.is_none() && !self.insecure_any_audience {
            return Err(ConfigError::new(
                ConfigErrorKind::MissingAudienceCheck,
                "the RFC 9068 profile requires an `aud` check (RFC 9068 §4): set `audiences([...])`",
            ));
        }

        let mut registry = ScopeRegistry::default();
        for server in self.resource_servers {
            registry.add(server)?;
        }

        let keys = match &self.issuer.keys {
            KeySource::Static(json) => {
                let keys = KeySet::parse(json.as_bytes(), allowed).map_err(|_| {
                    ConfigError::new(
                        ConfigErrorKind::InvalidKeySet,
                        "the static key set is not a JWK Set document",
                    )
                })?;
                if keys.is_empty() {
                    return Err(ConfigError::new(
                        ConfigErrorKind::InvalidKeySet,
                        "the static key set has no usable key (see the warnings for why each was dropped)",
                    ));
                }
                KeyStore::new_static(keys, allowed)
            }
            source => {
                let (jwks_url, discovery) = match source {
                    KeySource::JwksUrl(url) => (Some(fetch_url("key set URL", url)?), None),
                    _ => (
                        None,
                        Some(fetch_url("discovery URL", &self.issuer.discovery_url())?),
                    ),
                };
                let loopback = jwks_url
                    .as_ref()
                    .or(discovery.as_ref())
                    .is_some_and(is_loopback);
                let fetcher = Fetcher::new(
                    cache.connect_timeout,
                    cache.timeout,
                    cache.max_body_bytes,
                    loopback,
                )?;
                KeyStore::new(
                    Source::Remote {
                        fetcher,
                        issuer: self.issuer.url.clone(),
                        discovery,
                    },
                    self.cache.clone(),
                    allowed,
                    jwks_url,
                )
            }
        };

        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let challenges = Challenges::new(&self.realm)?;
        Ok(Verifier {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                policy: ClaimPolicy {
                    issuer: self.issuer.url.clone(),
                    token_use: self.token_use,
                    client_ids: self.client_ids,
                    audiences: self.audiences,
                    require_at_jwt: self.require_at_jwt,
                    leeway: self.leeway.as_secs(),
                },
                allowed,
                max_token_bytes: self.max_token_bytes,
                keys: Arc::new(keys),
                registry,
                realm: self.realm,
                challenges,
                token_cache: TokenCache::new(self.token_cache),
            }),
        })
    }
}

/// A realm goes inside a quoted-string: visible ASCII and spaces, no `"` or `\`.
fn check_realm(realm: &str) -> Result<(), ConfigError> {
    let ok = !realm.is_empty()
        && realm.len() <= 128
        && realm
            .bytes()
            .all(|b| matches!(b, 0x20..=0x7e) && b != b'"' && b != b'\\');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            ConfigErrorKind::InvalidOption,
            format!(
                "the realm {realm:?} must be 1 to 128 visible ASCII characters without `\"` or `\\`"
            ),
        ))
    }
}

impl Challenges {
    fn new(realm: &str) -> Result<Challenges, ConfigError> {
        let value = |s: String| {
            HeaderValue::try_from(s).map_err(|_| {
                ConfigError::new(
                    ConfigErrorKind::InvalidOption,
                    "the realm is not a valid header value",
                )
            })
        };
        Ok(Challenges {
            missing: value(format!("Bearer realm=\"{realm}\""))?,
            invalid_request: value(format!(
                "Bearer realm=\"{realm}\", error=\"invalid_request\""
            ))?,
            invalid_token: value(format!("Bearer realm=\"{realm}\", error=\"invalid_token\""))?,
        })
    }

    pub(crate) fn insufficient_scope(realm: &str, scopes: &[crate::Scope]) -> HeaderValue {
        let scopes = scopes
            .iter()
            .map(crate::Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        // Realm and scopes were checked to be visible ASCII without quotes.
        HeaderValue::try_from(format!(
            "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scopes}\""
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"insufficient_scope\""))
    }
}
