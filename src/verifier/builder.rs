//! [`VerifierBuilder`]: the options of a [`Verifier`], and the checks that
//! run on them before it is built.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Inner, Verifier};
use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::claims::ClaimPolicy;
use crate::cookie::TokenCookie;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::issuer::{Issuer, KeySource};
use crate::jwk::KeySet;
use crate::keys::{Fetcher, KeyCacheOptions, KeyStore, Source, fetch_url, is_loopback};
use crate::resource_metadata::{ProtectedResource, ResourceMetadata};
use crate::scope::{ResourceServer, ScopeRegistry};
use crate::token_cache::{TokenCache, TokenCacheOptions};

/// The default cap on a token's size.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The default clock-skew leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
const MAX_LEEWAY: Duration = Duration::from_secs(300);

impl Verifier {
    /// Starts configuring a verifier for tokens of `issuer`.
    pub fn builder(issuer: Issuer) -> VerifierBuilder {
        VerifierBuilder::new(issuer)
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
    token_cookie: Option<String>,
    token_cookie_origins: Vec<String>,
    protected_resource: Option<ProtectedResource>,
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
            token_cookie: None,
            token_cookie_origins: Vec::new(),
            protected_resource: None,
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

    /// Also takes the token from the cookie `name`, for browser apps that
    /// keep it there. Off by default.
    ///
    /// The cookie is read when there is no `Authorization` header; a
    /// request with a token in both is `invalid_request`. A browser sends cookies on cross-site requests
    /// too, so on an unsafe method (anything but `GET`, `HEAD`, `OPTIONS`) a
    /// cookie token counts only if the request shows it is same-origin:
    /// `Sec-Fetch-Site: same-origin`, or an `Origin` listed in
    /// [`token_cookie_origins`](Self::token_cookie_origins); otherwise it is
    /// `invalid_request` (CSRF). The query string is never read.
    ///
    /// ```
    /// # use scopegate::{Issuer, Verifier};
    /// let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
    ///     .client_ids(["1example23456789"])
    ///     .token_cookie("access_token")
    ///     .token_cookie_origins(["https://photos.example.com"])
    ///     .build()?;
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    pub fn token_cookie(mut self, name: impl Into<String>) -> Self {
        self.token_cookie = Some(name.into());
        self
    }

    /// Origins (`https://app.example.com`, exactly as browsers send
    /// `Origin`) whose unsafe requests may carry the token cookie. Default
    /// none: only `Sec-Fetch-Site: same-origin` shows it.
    pub fn token_cookie_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.token_cookie_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Describes the API as an OAuth 2.0 protected resource (RFC 9728, as MCP
    /// clients need it). Then:
    ///
    /// - [`Verifier::resource_metadata`] serves its metadata document (a
    ///   tower service), at `/.well-known/oauth-protected-resource` plus the
    ///   resource's path;
    /// - every 401 and 403 challenge carries `resource_metadata="<its URL>"`,
    ///   and every 401 challenge the route's `scope="..."`;
    /// - the resource identifier is an accepted `aud` (RFC 8707): added to
    ///   the [`audiences`](Self::audiences) allow-list, or made the
    ///   allow-list when neither audiences nor [`client_ids`](Self::client_ids)
    ///   are set. (With only `client_ids`, as for Cognito, whose access tokens
    ///   carry no `aud`, nothing about `aud` changes.)
    ///
    /// Its authorization servers default to this verifier's issuer, its
    /// scopes to those of the registered resource servers.
    pub fn protected_resource(mut self, resource: ProtectedResource) -> Self {
        self.protected_resource = Some(resource);
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
    pub fn build(mut self) -> Result<Verifier, ConfigError> {
        self.issuer.validate()?;
        let allowed = self.allowed_algorithms()?;
        self.check_token_limits()?;
        check_realm(&self.realm)?;
        self.check_caches()?;
        // The allow-lists as given first; then the resource may join them.
        self.check_audience()?;
        let resource_metadata = self.resolve_protected_resource()?;
        let registry = registry(std::mem::take(&mut self.resource_servers))?;
        let token_cookie = self.checked_token_cookie()?;
        let keys = self.key_store(allowed)?;

        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Ok(Verifier {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                policy: ClaimPolicy {
                    issuer: self.issuer.url,
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
                token_cache: TokenCache::new(self.token_cache),
                token_cookie,
                resource_metadata,
            }),
        })
    }

    /// The protected resource's metadata, and its identifier made an
    /// accepted audience (see [`protected_resource`](Self::protected_resource)).
    fn resolve_protected_resource(&mut self) -> Result<Option<ResourceMetadata>, ConfigError> {
        let Some(resource) = self.protected_resource.take() else {
            return Ok(None);
        };
        let scopes = self
            .resource_servers
            .iter()
            .flat_map(|server| {
                server
                    .scopes()
                    .iter()
                    .map(|scope| format!("{}/{}", server.identifier(), scope.name()))
            })
            .collect();
        let metadata = resource.resolve(&self.issuer.url, scopes)?;
        let identifier = metadata.resource().to_string();
        match &mut self.audiences {
            Some(audiences) => audiences.push(identifier),
            // Said explicitly: no audience check at all, resource or not.
            None if self.insecure_any_audience => {}
            None if self.client_ids.is_none() => self.audiences = Some(vec![identifier]),
            None => {}
        }
        Ok(Some(metadata))
    }

    /// The token cookie, if one is configured (and origins only with one).
    fn checked_token_cookie(&self) -> Result<Option<TokenCookie>, ConfigError> {
        match &self.token_cookie {
            Some(name) => TokenCookie::new(name, &self.token_cookie_origins).map(Some),
            None if !self.token_cookie_origins.is_empty() => {
                Err(invalid("token_cookie_origins needs a token_cookie"))
            }
            None => Ok(None),
        }
    }

    /// The algorithm allow-list: the configured one, or every [`Algorithm`].
    fn allowed_algorithms(&self) -> Result<AlgorithmSet, ConfigError> {
        let allowed: AlgorithmSet = match &self.algorithms {
            Some(list) => list.iter().copied().collect(),
            None => Algorithm::ALL.into_iter().collect(),
        };
        if allowed.is_empty() {
            return Err(invalid("the algorithm allow-list is empty"));
        }
        Ok(allowed)
    }

    /// The leeway and the token size cap are within their bounds.
    fn check_token_limits(&self) -> Result<(), ConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(invalid(format!(
                "a leeway of {}s is more than the {}s allowed",
                self.leeway.as_secs(),
                MAX_LEEWAY.as_secs()
            )));
        }
        if !(256..=64 * 1024).contains(&self.max_token_bytes) {
            return Err(invalid(format!(
                "max_token_bytes must be between 256 and 65536, got {}",
                self.max_token_bytes
            )));
        }
        Ok(())
    }

    /// The key-set cache and the token cache options are coherent.
    fn check_caches(&self) -> Result<(), ConfigError> {
        let cache = &self.cache;
        if cache.min_ttl > cache.max_ttl || cache.max_ttl.is_zero() {
            return Err(invalid(
                "the key-set TTL bounds are empty (min is above max, or max is zero)",
            ));
        }
        if cache.retry_initial.is_zero() || cache.retry_initial > cache.retry_max {
            return Err(invalid(
                "the retry backoff must start above zero and not above its maximum",
            ));
        }
        if cache.timeout.is_zero() || cache.connect_timeout.is_zero() {
            return Err(invalid("key-set timeouts must be above zero"));
        }
        let tc = &self.token_cache;
        if tc.capacity > 0 && (tc.ttl.is_zero() || tc.ttl > Duration::from_secs(86_400)) {
            return Err(invalid(
                "the token cache TTL must be above zero and at most 1 day",
            ));
        }
        if cache.max_body_bytes < 1024 {
            return Err(invalid("the key-set body cap must be at least 1024 bytes"));
        }
        Ok(())
    }

    /// Some audience check is configured (or explicitly switched off), and
    /// the RFC 9068 profile has its `aud` check.
    fn check_audience(&self) -> Result<(), ConfigError> {
        for list in [&self.client_ids, &self.audiences].into_iter().flatten() {
            if list.is_empty() || list.iter().any(String::is_empty) {
                return Err(invalid(
                    "client_id and aud allow-lists must hold non-empty values",
                ));
            }
        }
        let no_list = self.client_ids.is_none() && self.audiences.is_none();
        // A protected resource is an audience check: `aud` must name it.
        if no_list && !self.insecure_any_audience && self.protected_resource.is_none() {
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
        // With a resource and no client list, the resource becomes the `aud`
        // allow-list (`resolve_protected_resource`).
        let resource_is_aud = self.protected_resource.is_some() && self.client_ids.is_none();
        if self.require_at_jwt
            && self.audiences.is_none()
            && !self.insecure_any_audience
            && !resource_is_aud
        {
            return Err(ConfigError::new(
                ConfigErrorKind::MissingAudienceCheck,
                "the RFC 9068 profile requires an `aud` check (RFC 9068 §4): set `audiences([...])`",
            ));
        }
        Ok(())
    }

    /// The key store for the issuer's key source: loaded now for a static
    /// key set, empty (fetched on first use) for a remote one.
    fn key_store(&self, allowed: AlgorithmSet) -> Result<KeyStore, ConfigError> {
        let jwks_url = match &self.issuer.keys {
            KeySource::Static(json) => return static_key_store(json, allowed),
            KeySource::JwksUrl(url) => Some(fetch_url("key set URL", url)?),
            _ => None,
        };
        let discovery = match jwks_url {
            Some(_) => None,
            None => Some(fetch_url("discovery URL", &self.issuer.discovery_url())?),
        };
        let loopback = jwks_url
            .as_ref()
            .or(discovery.as_ref())
            .is_some_and(is_loopback);
        let cache = &self.cache;
        let fetcher = Fetcher::new(
            cache.connect_timeout,
            cache.timeout,
            cache.max_body_bytes,
            loopback,
        )?;
        let source = Source::Remote {
            fetcher,
            issuer: self.issuer.url.clone(),
            discovery,
        };
        Ok(KeyStore::new(source, cache.clone(), allowed, jwks_url))
    }
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidOption, message)
}

/// A static key set, parsed and checked now: it must hold a usable key.
fn static_key_store(json: &str, allowed: AlgorithmSet) -> Result<KeyStore, ConfigError> {
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
    Ok(KeyStore::new_static(keys, allowed))
}

/// The resource servers, each checked, none defined twice.
fn registry(servers: Vec<ResourceServer>) -> Result<ScopeRegistry, ConfigError> {
    let mut registry = ScopeRegistry::default();
    for server in servers {
        registry.add(server)?;
    }
    Ok(registry)
}

/// A realm goes inside a quoted-string: visible ASCII and spaces, no `"` or
/// `\`, so every challenge made from it is a valid header value.
fn check_realm(realm: &str) -> Result<(), ConfigError> {
    let ok = !realm.is_empty()
        && realm.len() <= 128
        && realm
            .bytes()
            .all(|b| matches!(b, 0x20..=0x7e) && b != b'"' && b != b'\\');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "the realm {realm:?} must be 1 to 128 visible ASCII characters without `\"` or `\\`"
        )))
    }
}
