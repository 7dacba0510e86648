//! [`TrustedIssuer`]: one issuer a [`Verifier`](crate::Verifier) accepts
//! tokens from, with its own policy and key set, and the checks that build
//! it into an [`IssuerPolicy`].

use std::sync::Arc;
use std::time::Duration;

use super::issuers::IssuerPolicy;
use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::claims::ClaimPolicy;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::issuer::{Issuer, KeySource};
use crate::jwk::KeySet;
use crate::keys::{Fetcher, KeyCacheOptions, KeyStore, Source, fetch_url, is_loopback};

const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// An issuer whose tokens a verifier accepts, with everything that is its
/// own: its key set and how it is cached, its algorithms, `token_use`,
/// `client_id` and `aud` allow-lists, profile and leeway.
///
/// [`Verifier::builder`](crate::Verifier::builder) takes the first one (an
/// [`Issuer`] converts into one); [`VerifierBuilder::trust`](crate::VerifierBuilder::trust)
/// adds more. Each option is the same as the [`VerifierBuilder`](crate::VerifierBuilder)
/// method of the same name, which sets it for the first issuer.
///
/// ```
/// use scopegate::{Issuer, TrustedIssuer, Verifier};
///
/// let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
///     .client_ids(["1example23456789"])
///     .trust(
///         TrustedIssuer::new(Issuer::cognito("eu-west-1", "eu-west-1_Example"))
///             .client_ids(["2example23456789"]),
///     )
///     .build()?;
/// assert_eq!(verifier.issuers().count(), 2);
/// # Ok::<(), scopegate::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TrustedIssuer {
    issuer: Issuer,
    algorithms: Option<Vec<Algorithm>>,
    token_use: Option<String>,
    client_ids: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    insecure_any_audience: bool,
    require_at_jwt: bool,
    leeway: Duration,
    cache: KeyCacheOptions,
}

impl From<Issuer> for TrustedIssuer {
    fn from(issuer: Issuer) -> Self {
        TrustedIssuer::new(issuer)
    }
}

impl TrustedIssuer {
    /// An issuer with the defaults of its preset (see [`Issuer`]).
    pub fn new(issuer: Issuer) -> Self {
        let cognito = issuer.is_cognito();
        TrustedIssuer {
            issuer,
            algorithms: cognito.then(|| vec![Algorithm::RS256]),
            token_use: cognito.then(|| "access".to_string()),
            client_ids: None,
            audiences: None,
            insecure_any_audience: false,
            require_at_jwt: false,
            leeway: super::DEFAULT_LEEWAY,
            cache: KeyCacheOptions::default(),
        }
    }

    /// See [`VerifierBuilder::algorithms`](crate::VerifierBuilder::algorithms).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// See [`VerifierBuilder::token_use`](crate::VerifierBuilder::token_use).
    pub fn token_use(mut self, token_use: impl Into<String>) -> Self {
        self.token_use = Some(token_use.into());
        self
    }

    /// See [`VerifierBuilder::client_ids`](crate::VerifierBuilder::client_ids).
    pub fn client_ids<I, S>(mut self, client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_ids = Some(client_ids.into_iter().map(Into::into).collect());
        self
    }

    /// See [`VerifierBuilder::audiences`](crate::VerifierBuilder::audiences).
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// See [`VerifierBuilder::with_insecure_any_audience`](crate::VerifierBuilder::with_insecure_any_audience).
    pub fn with_insecure_any_audience(mut self) -> Self {
        self.insecure_any_audience = true;
        self
    }

    /// See [`VerifierBuilder::require_at_jwt`](crate::VerifierBuilder::require_at_jwt).
    pub fn require_at_jwt(mut self) -> Self {
        self.require_at_jwt = true;
        self
    }

    /// See [`VerifierBuilder::leeway`](crate::VerifierBuilder::leeway).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// See [`VerifierBuilder::key_set_ttl`](crate::VerifierBuilder::key_set_ttl).
    pub fn key_set_ttl(mut self, ttl: Duration) -> Self {
        self.cache.default_ttl = ttl;
        self
    }

    /// See [`VerifierBuilder::key_set_ttl_bounds`](crate::VerifierBuilder::key_set_ttl_bounds).
    pub fn key_set_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.cache.min_ttl = min;
        self.cache.max_ttl = max;
        self
    }

    /// See [`VerifierBuilder::key_set_max_stale`](crate::VerifierBuilder::key_set_max_stale).
    pub fn key_set_max_stale(mut self, max_stale: Duration) -> Self {
        self.cache.max_stale = max_stale;
        self
    }

    /// See [`VerifierBuilder::unknown_kid_cooldown`](crate::VerifierBuilder::unknown_kid_cooldown).
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.cache.unknown_kid_cooldown = cooldown;
        self
    }

    /// See [`VerifierBuilder::key_set_retry_backoff`](crate::VerifierBuilder::key_set_retry_backoff).
    pub fn key_set_retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.cache.retry_initial = initial;
        self.cache.retry_max = max;
        self
    }

    /// See [`VerifierBuilder::key_set_timeouts`](crate::VerifierBuilder::key_set_timeouts).
    pub fn key_set_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.cache.connect_timeout = connect;
        self.cache.timeout = total;
        self
    }

    /// See [`VerifierBuilder::key_set_max_bytes`](crate::VerifierBuilder::key_set_max_bytes).
    pub fn key_set_max_bytes(mut self, max: usize) -> Self {
        self.cache.max_body_bytes = max;
        self
    }

    /// The exact `iss` of its tokens.
    pub(super) fn url(&self) -> &str {
        &self.issuer.url
    }

    /// Checks the options and builds the issuer's policy and key store.
    /// `resource`: the protected resource's identifier, an audience check of
    /// its own, which joins the `aud` allow-list after the lists as given
    /// pass (see [`VerifierBuilder::protected_resource`](crate::VerifierBuilder::protected_resource)).
    pub(super) fn build(mut self, resource: Option<&str>) -> Result<IssuerPolicy, ConfigError> {
        self.issuer.validate()?;
        let allowed = self.allowed_algorithms()?;
        self.check_leeway()?;
        self.check_key_cache()?;
        self.check_audience(resource.is_some())?;
        if let Some(identifier) = resource {
            self.join_audiences(identifier);
        }
        let keys = self.key_store(allowed)?;
        Ok(IssuerPolicy {
            claims: ClaimPolicy {
                issuer: self.issuer.url,
                token_use: self.token_use,
                client_ids: self.client_ids,
                audiences: self.audiences,
                require_at_jwt: self.require_at_jwt,
                leeway: self.leeway.as_secs(),
            },
            allowed,
            keys: Arc::new(keys),
        })
    }

    /// The resource identifier as an accepted `aud` (RFC 8707).
    fn join_audiences(&mut self, identifier: &str) {
        match &mut self.audiences {
            Some(audiences) => audiences.push(identifier.to_string()),
            // Said explicitly: no audience check at all, resource or not.
            None if self.insecure_any_audience => {}
            None if self.client_ids.is_none() => self.audiences = Some(vec![identifier.into()]),
            None => {}
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

    fn check_leeway(&self) -> Result<(), ConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(invalid(format!(
                "a leeway of {}s is more than the {}s allowed",
                self.leeway.as_secs(),
                MAX_LEEWAY.as_secs()
            )));
        }
        Ok(())
    }

    /// The key-set cache options are coherent.
    fn check_key_cache(&self) -> Result<(), ConfigError> {
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
        if cache.max_body_bytes < 1024 {
            return Err(invalid("the key-set body cap must be at least 1024 bytes"));
        }
        Ok(())
    }

    /// Some audience check is configured (or explicitly switched off), and
    /// the RFC 9068 profile has its `aud` check. `has_resource`: a protected
    /// resource is an audience check, since `aud` must then name it.
    fn check_audience(&self, has_resource: bool) -> Result<(), ConfigError> {
        for list in [&self.client_ids, &self.audiences].into_iter().flatten() {
            if list.is_empty() || list.iter().any(String::is_empty) {
                return Err(invalid(
                    "client_id and aud allow-lists must hold non-empty values",
                ));
            }
        }
        let no_list = self.client_ids.is_none() && self.audiences.is_none();
        if no_list && !self.insecure_any_audience && !has_resource {
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
        // allow-list (`join_audiences`).
        let resource_is_aud = has_resource && self.client_ids.is_none();
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
            KeySource::Discovery => None,
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

pub(super) fn invalid(message: impl Into<String>) -> ConfigError {
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
