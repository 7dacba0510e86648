//! [`VerifierBuilder`]: the options of a [`Verifier`], and the checks that
//! run on them before it is built.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::issuers::{Issuers, MAX_ISSUERS};
use super::trusted::{TrustedIssuer, invalid};
use super::{Inner, Verifier};
use crate::algorithm::Algorithm;
use crate::cookie::TokenCookie;
use crate::dpop::Dpop;
use crate::error::ConfigError;
use crate::resource_metadata::{ProtectedResource, ResourceMetadata};
use crate::scope::{ResourceServer, ScopeRegistry};
use crate::shared::{InMemoryRevocations, RevocationList};
use crate::token_cache::{TokenCache, TokenCacheOptions};

/// The default cap on a token's size.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The default clock-skew leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

impl Verifier {
    /// Starts configuring a verifier for tokens of `issuer` (an [`Issuer`](crate::Issuer),
    /// or a [`TrustedIssuer`] with its options set).
    pub fn builder(issuer: impl Into<TrustedIssuer>) -> VerifierBuilder {
        VerifierBuilder::new(issuer.into())
    }
}

/// Configures a [`Verifier`]. Every option has a safe default; nothing is
/// checked until [`build`](VerifierBuilder::build).
///
/// The options from [`algorithms`](Self::algorithms) to
/// [`leeway`](Self::leeway), and the key-set ones, are the first issuer's:
/// each issuer added with [`trust`](Self::trust) has its own, set on its
/// [`TrustedIssuer`]. The others (resource servers, token size and cache,
/// cookie, protected resource, realm) are the verifier's, for all issuers.
#[derive(Debug)]
#[must_use]
pub struct VerifierBuilder {
    first: TrustedIssuer,
    more: Vec<TrustedIssuer>,
    max_token_bytes: usize,
    resource_servers: Vec<ResourceServer>,
    realm: String,
    token_cache: TokenCacheOptions,
    token_cookie: Option<String>,
    token_cookie_origins: Vec<String>,
    protected_resource: Option<ProtectedResource>,
    dpop: Option<Dpop>,
    revocations: Option<Arc<dyn RevocationList>>,
    /// A verifier whose key-set caches, revocations and used DPoP proof ids
    /// to keep (a configuration reload).
    #[cfg(feature = "proxy")]
    keep_key_sets_of: Option<Verifier>,
}

impl VerifierBuilder {
    fn new(first: TrustedIssuer) -> Self {
        VerifierBuilder {
            first,
            more: Vec::new(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            resource_servers: Vec::new(),
            realm: "api".to_string(),
            token_cache: TokenCacheOptions::default(),
            token_cookie: None,
            token_cookie_origins: Vec::new(),
            protected_resource: None,
            dpop: None,
            revocations: None,
            #[cfg(feature = "proxy")]
            keep_key_sets_of: None,
        }
    }

    /// Keeps the key-set caches of `old` for every issuer whose keys come
    /// from the same place the same way: a reloaded configuration neither
    /// refetches them nor starts cold. The token cache is never kept (the
    /// policy may have changed).
    #[cfg(feature = "proxy")]
    pub(crate) fn keeping_key_sets_of(mut self, old: &Verifier) -> Self {
        self.keep_key_sets_of = Some(old.clone());
        self
    }

    /// Also accepts tokens of another issuer, with its own key set and
    /// policy (several user pools, a migration from one pool to another,
    /// Cognito beside another identity provider). At most 100 issuers, each
    /// `iss` once.
    ///
    /// A token's issuer is chosen by exact match of its `iss` before the
    /// signature is checked, only to pick whose keys to try: an `iss` that
    /// no issuer has is `invalid_token` at once, without any network request.
    /// After the signature, everything is checked against that issuer's
    /// own policy; [`Claims::issuer`](crate::Claims::issuer) says which one
    /// it was. Each key set is fetched and cached on its own, so one issuer
    /// that is down never affects another. A cache hit costs the same with
    /// any number of issuers.
    ///
    /// ```
    /// use scopegate::{Issuer, TrustedIssuer, Verifier};
    ///
    /// // Moving from one pool to another: both are accepted meanwhile.
    /// let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Old"))
    ///     .client_ids(["1example23456789"])
    ///     .trust(
    ///         TrustedIssuer::new(Issuer::cognito("us-east-1", "us-east-1_New"))
    ///             .client_ids(["2example23456789"]),
    ///     )
    ///     .build()?;
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    pub fn trust(mut self, issuer: impl Into<TrustedIssuer>) -> Self {
        self.more.push(issuer.into());
        self
    }

    /// The algorithms tokens may be signed with. Default: `RS256` for
    /// Cognito, every [`Algorithm`] otherwise. Only asymmetric algorithms
    /// exist, so HMAC and `none` can never be allowed.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.first = self.first.algorithms(algorithms);
        self
    }

    /// Requires the `token_use` claim to equal this (`access` for Cognito,
    /// the default with [`Issuer::cognito`](crate::Issuer::cognito)).
    pub fn token_use(mut self, token_use: impl Into<String>) -> Self {
        self.first = self.first.token_use(token_use);
        self
    }

    /// Accepts tokens whose `client_id` is one of these. Cognito access
    /// tokens carry no `aud`, so this is how their audience is checked.
    pub fn client_ids<I, S>(mut self, client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.first = self.first.client_ids(client_ids);
        self
    }

    /// Accepts tokens with at least one `aud` among these.
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.first = self.first.audiences(audiences);
        self
    }

    /// Accepts tokens meant for any client or audience of the issuer.
    ///
    /// Without a `client_id` or `aud` allow-list, a token that the issuer
    /// minted for another application is accepted here too (RFC 8725 §3.9).
    /// Only use this when every client of the issuer may call this API.
    pub fn with_insecure_any_audience(mut self) -> Self {
        self.first = self.first.with_insecure_any_audience();
        self
    }

    /// Applies the RFC 9068 JWT access-token profile: the header's `typ`
    /// must be `at+jwt`, and `aud`, `sub`, `client_id`, `iat` and `jti` must
    /// be present. Needs [`audiences`](Self::audiences): the profile's `aud`
    /// check is not optional. Cognito tokens do not follow it.
    pub fn require_at_jwt(mut self) -> Self {
        self.first = self.first.require_at_jwt();
        self
    }

    /// Clock-skew leeway for `exp` and `nbf`. Default 60 s, at most 5 min.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.first = self.first.leeway(leeway);
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
    ///   carry no `aud`, nothing about `aud` changes.) With several issuers,
    ///   the same rule applies to each issuer's own lists.
    ///
    /// Its authorization servers default to this verifier's issuers, its
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
        self.first = self.first.key_set_ttl(ttl);
        self
    }

    /// The bounds a `Cache-Control: max-age` (or the default TTL) is clamped
    /// to. Default 1 minute to 1 day.
    pub fn key_set_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.first = self.first.key_set_ttl_bounds(min, max);
        self
    }

    /// How long past its TTL the last good key set keeps serving while
    /// fetches fail. Default 1 hour.
    pub fn key_set_max_stale(mut self, max_stale: Duration) -> Self {
        self.first = self.first.key_set_max_stale(max_stale);
        self
    }

    /// The least time between two fetches caused by tokens with an unknown
    /// `kid`, for the whole issuer. Default 30 s.
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.first = self.first.unknown_kid_cooldown(cooldown);
        self
    }

    /// The backoff between failed fetches: starts at `initial`, doubles,
    /// stops growing at `max`. Default 1 s to 60 s.
    pub fn key_set_retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.first = self.first.key_set_retry_backoff(initial, max);
        self
    }

    /// Connect and total timeouts of a fetch. Default 2 s and 5 s.
    pub fn key_set_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.first = self.first.key_set_timeouts(connect, total);
        self
    }

    /// The largest key-set (or discovery) body read. Default 128 KiB.
    pub fn key_set_max_bytes(mut self, max: usize) -> Self {
        self.first = self.first.key_set_max_bytes(max);
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

    /// Accepts DPoP-bound tokens (RFC 9449) with proofs checked by `dpop`:
    /// its origin, mode, algorithms, maximum age, nonces and proof-id
    /// store. Without it, a request under the `DPoP` scheme has no bearer
    /// credentials (401), and a token bound to a key is refused.
    pub fn dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// The revocation list tokens are checked against, after every other
    /// check: by default an empty [`InMemoryRevocations`] of this verifier's
    /// own. Give verifiers one list (or a shared store) to revoke tokens on
    /// all of them at once.
    pub fn revocations(mut self, list: impl RevocationList) -> Self {
        self.revocations = Some(Arc::new(list));
        self
    }

    /// Checks the configuration and builds the verifier. Nothing is fetched
    /// yet: keys are loaded on the first request, or by
    /// [`Verifier::load_keys`].
    pub fn build(mut self) -> Result<Verifier, ConfigError> {
        self.check_token_limits()?;
        check_realm(&self.realm)?;
        self.check_token_cache()?;
        let resource_metadata = self.resolve_protected_resource()?;
        let resource = resource_metadata.as_ref().map(ResourceMetadata::resource);
        let registry = registry(std::mem::take(&mut self.resource_servers))?;
        let token_cookie = self.checked_token_cookie()?;
        if let Some(dpop) = &self.dpop {
            dpop.validate()?;
        }
        #[cfg_attr(not(feature = "proxy"), allow(unused_mut))]
        let mut issuers = build_issuers(self.first, self.more, resource)?;
        #[cfg(feature = "proxy")]
        if let Some(old) = &self.keep_key_sets_of {
            issuers.keep_key_sets_of(&old.inner.issuers);
            // A reload forgets neither a revocation nor a used proof id,
            // and keeps the stores it started with (`[shared]` changes
            // need a restart).
            self.revocations = Some(Arc::clone(&old.inner.revocations));
            if let (Some(new), Some(old)) = (&mut self.dpop, &old.inner.dpop) {
                new.keep_state_of(old);
            }
        }

        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Ok(Verifier {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                issuers,
                max_token_bytes: self.max_token_bytes,
                registry,
                realm: self.realm,
                token_cache: TokenCache::new(self.token_cache),
                token_cookie,
                resource_metadata,
                dpop: self.dpop,
                revocations: self
                    .revocations
                    .unwrap_or_else(|| Arc::new(InMemoryRevocations::new())),
            }),
        })
    }

    /// The protected resource's metadata, with its authorization servers
    /// defaulting to the issuers and its scopes to the registered ones (see
    /// [`protected_resource`](Self::protected_resource)).
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
        let issuers: Vec<&str> = std::iter::once(&self.first)
            .chain(&self.more)
            .map(TrustedIssuer::url)
            .collect();
        resource.resolve(&issuers, scopes).map(Some)
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

    /// The token size cap is within its bounds.
    fn check_token_limits(&self) -> Result<(), ConfigError> {
        if !(256..=64 * 1024).contains(&self.max_token_bytes) {
            return Err(invalid(format!(
                "max_token_bytes must be between 256 and 65536, got {}",
                self.max_token_bytes
            )));
        }
        Ok(())
    }

    /// The token cache options are coherent.
    fn check_token_cache(&self) -> Result<(), ConfigError> {
        let tc = &self.token_cache;
        if tc.capacity > 0 && (tc.ttl.is_zero() || tc.ttl > Duration::from_secs(86_400)) {
            return Err(invalid(
                "the token cache TTL must be above zero and at most 1 day",
            ));
        }
        Ok(())
    }
}

/// Every issuer built, in order; a mistake in one after the first names it.
fn build_issuers(
    first: TrustedIssuer,
    more: Vec<TrustedIssuer>,
    resource: Option<&str>,
) -> Result<Issuers, ConfigError> {
    if more.len() >= MAX_ISSUERS {
        return Err(invalid(format!(
            "{} issuers are more than the {MAX_ISSUERS} allowed",
            more.len() + 1
        )));
    }
    let mut built = vec![first.build(resource)?];
    for issuer in more {
        let url = issuer.url().to_string();
        if built.iter().any(|b| b.claims.issuer == url) {
            return Err(invalid(format!("the issuer {url:?} is trusted twice")));
        }
        let policy = issuer
            .build(resource)
            .map_err(|e| ConfigError::new(e.kind(), format!("issuer {url:?}: {e}")))?;
        built.push(policy);
    }
    Ok(Issuers(built.into_boxed_slice()))
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
