//! The verifier: its issuers, their keys, and the checks every token goes
//! through. Its configuration is in `builder.rs` (each issuer's own in
//! `trusted.rs`), which builds the [`Verifier`] (this file never uses the
//! builders); the issuers, and the choice of one for a token, are in
//! `issuers.rs`; the layers it makes are in `layer/`.
//!
//! The verification order is written once, in the docs of [`Verifier`]
//! ("How a token is verified", `scopegate::Verifier#how-a-token-is-verified`);
//! everything else links there. Where each step runs: step 1 in
//! `Verifier::verify_now` and `verify_after_fetch`, steps 2 to 5 in
//! `jws::verify`, 6 and 7 in `claims::verify`, 8 in `Verifier::not_revoked`,
//! 9 to 11 in the layer's `Gate` (`layer/gate.rs`; the proof in
//! `dpop/`, groups and checks in `layer/check.rs`). A hit in the
//! verified-token cache skips the decoding and signature work of steps 2, 3,
//! 5 and 7, whose outcome cannot change for the same bytes; the size (1), the
//! key's presence (4), the lifetime (6), the revocation list (8) and the
//! rest (9 to 11) are checked on every request.

mod builder;
mod issuers;
mod trusted;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::claims::{self, Claims};
use crate::cookie::TokenCookie;
use crate::dpop::Dpop;
use crate::error::ConfigError;
use crate::jws;
use crate::keys::{FetchError, KeySetFetches, Snapshot, Unavailable};
use crate::resource_metadata::ResourceMetadata;
use crate::scope::{Scope, ScopeRegistry};
use crate::shared::{Revocation, RevocationList, RevocationStatus, SharedStateError};
use crate::token_cache::{Entry, TokenCache, TokenCacheStats, TokenLookup, VerifiedBy};
use crate::token_error::TokenError;
use issuers::{Issuers, Selected};

pub use builder::{DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES, VerifierBuilder};
pub use issuers::IssuerKeys;
pub use trusted::TrustedIssuer;

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
    /// The revocation list is not known to be current (its shared store has
    /// been unreachable for longer than its policy allows): 503.
    RevocationListUnavailable,
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
            VerifyError::RevocationListUnavailable => {
                f.write_str("the revocation list is unavailable")
            }
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::InvalidToken(e) => Some(e),
            VerifyError::KeySetUnavailable { .. } | VerifyError::RevocationListUnavailable => None,
        }
    }
}

impl From<TokenError> for VerifyError {
    fn from(e: TokenError) -> Self {
        VerifyError::InvalidToken(e)
    }
}

/// Verifies access tokens of one issuer, or of a fixed set of them
/// ([`trust`](VerifierBuilder::trust)), and makes the layers that guard
/// routes with it. Cheap to clone: clones share the key caches.
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
///
/// # How a token is verified
///
/// In this order, and nothing is read from a claim before step 6 (with
/// several issuers, `iss` alone is read first, to choose whose keys and
/// policy apply: an exact match, or `invalid_token` without any network
/// request; see [`trust`](VerifierBuilder::trust)):
///
/// 1. the token is at most
///    [`max_token_bytes`](VerifierBuilder::max_token_bytes) long, checked
///    before any decoding;
/// 2. it is three strict base64url segments (no padding, `+`, `/` or spaces);
/// 3. its header is a JSON object with no `crit`, `b64`, `jku`, `jwk`, `x5u`,
///    `x5c`, `enc` or `zip`; its `alg` is on the allow-list (asymmetric only;
///    `RS256` for Cognito); it has a `kid`;
/// 4. the key with that `kid` exists and is for that `alg`;
/// 5. the signature verifies;
/// 6. `exp` is present and not past, `nbf` (if any) not future, both with the
///    [leeway](VerifierBuilder::leeway);
/// 7. `iss` equals the issuer exactly; `token_use`, `client_id` and `aud` match
///    their allow-lists (that issuer's own, with several); every standard claim has its JSON type; then, if
///    [required](VerifierBuilder::require_at_jwt), the RFC 9068 profile
///    (`typ: at+jwt` and its claims); a `cnf` must be a DPoP binding
///    (`{"jkt": ...}`);
/// 8. the token is not on the [revocation list](VerifierBuilder::revocations)
///    (local state, no I/O; on a cache hit too);
/// 9. the layer checks how the token came: a token bound to a key
///    (`cnf.jkt`) only under `DPoP`, with one proof that passes every check
///    of [`Dpop`] (its signature with its own key before its claims) and
///    whose key is the token's; a bearer token only where the route's DPoP
///    mode allows it;
/// 10. the layer ([`require`](Verifier::require) and its siblings) checks the
///     route's scopes, then its groups
///     ([`in_any_group`](crate::ScopeGateLayer::in_any_group)), then its checks
///     in the order added ([`max_token_age`](crate::ScopeGateLayer::max_token_age),
///     [`check`](crate::ScopeGateLayer::check));
/// 11. a DPoP proof's `jti` is recorded as used, and a proof used before is
///     refused (the one asynchronous step besides a key fetch).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    issuers: Issuers,
    max_token_bytes: usize,
    registry: ScopeRegistry,
    realm: String,
    token_cache: Option<TokenCache>,
    token_cookie: Option<TokenCookie>,
    resource_metadata: Option<ResourceMetadata>,
    dpop: Option<Dpop>,
    revocations: Arc<dyn RevocationList>,
}

/// The outcome of a check that did not wait for anything.
pub(crate) enum Immediate {
    Done(Result<Claims, VerifyError>),
    /// Keys must be fetched first (cold start, stale keys, or an unknown
    /// `kid` that the cooldown allows a fetch for).
    NeedsKeys,
}

impl Verifier {
    /// Verifies a bearer token: signature, lifetime, claims and the
    /// revocation list, fetching keys if needed. Scopes are not checked
    /// here; see [`Claims::has_scope`]. A token bound to a DPoP key
    /// (`cnf.jkt`) is refused ([`TokenError::BoundToKey`]): it needs a
    /// proof, which only the layer checks.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = match self.verify_now(token) {
            Immediate::Done(result) => result?,
            Immediate::NeedsKeys => self.verify_after_fetch(token).await?,
        };
        if claims.dpop_jkt().is_some() {
            return Err(TokenError::BoundToKey.into());
        }
        Ok(claims)
    }

    /// Verifies with the keys at hand, without waiting.
    pub(crate) fn verify_now(&self, token: &str) -> Immediate {
        if token.len() > self.inner.max_token_bytes {
            return Immediate::Done(Err(TokenError::TooLarge.into()));
        }
        let now = crate::clock::now_secs();
        let lookup = TokenLookup::new(token);
        if let Some(claims) = self.cached(&lookup, now) {
            return Immediate::Done(self.not_revoked(claims, now));
        }
        let issuer = match self.inner.issuers.select(token) {
            Ok(selected) => selected,
            Err(e) => return Immediate::Done(Err(e.into())),
        };
        let keys = &issuer.policy.keys;
        match keys.with_current(|snapshot| self.verify_with(&lookup, issuer, snapshot, now)) {
            // Refuse what is malformed before waiting on a fetch for it.
            None => match jws::check_header(token, issuer.policy.allowed) {
                Ok(()) => Immediate::NeedsKeys,
                Err(e) => Immediate::Done(Err(e.into())),
            },
            Some(Err(TokenError::UnknownKeyId)) if keys.may_refetch() => Immediate::NeedsKeys,
            Some(Ok(claims)) => Immediate::Done(self.not_revoked(claims, now)),
            Some(Err(e)) => Immediate::Done(Err(e.into())),
        }
    }

    /// The claims of a verified token, unless the revocation list refuses
    /// them: the last check, after every other.
    fn not_revoked(&self, claims: Claims, now: u64) -> Result<Claims, VerifyError> {
        match self.inner.revocations.status(&claims, now) {
            RevocationStatus::Valid => Ok(claims),
            RevocationStatus::Revoked => Err(TokenError::Revoked.into()),
            RevocationStatus::Unknown => Err(VerifyError::RevocationListUnavailable),
        }
    }

    /// The slow path: waits for the token's issuer's keys, and refetches
    /// once for an unknown `kid` if the cooldown allows.
    pub(crate) async fn verify_after_fetch(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.len() > self.inner.max_token_bytes {
            return Err(TokenError::TooLarge.into());
        }
        let issuer = self.inner.issuers.select(token)?;
        let keys = &issuer.policy.keys;
        let snapshot = keys.load().await.map_err(unavailable)?;
        let lookup = TokenLookup::new(token);
        let now = crate::clock::now_secs();
        let claims = match self.verify_with(&lookup, issuer, &snapshot, now) {
            Err(TokenError::UnknownKeyId) => match keys.refetch_for_unknown_kid(&snapshot).await {
                Some(fresh) => self.verify_with(&lookup, issuer, &fresh, now)?,
                None => return Err(TokenError::UnknownKeyId.into()),
            },
            result => result?,
        };
        self.not_revoked(claims, now)
    }

    /// The claims of a token verified before, if its entry still holds: the
    /// key is still in its issuer's key set, the token within its lifetime.
    fn cached(&self, lookup: &TokenLookup<'_>, now: u64) -> Option<Claims> {
        let cache = self.inner.token_cache.as_ref()?;
        cache.get(lookup, |entry| self.still_valid(entry, now))
    }

    fn still_valid(&self, entry: &Entry, now: u64) -> bool {
        let Some(issuer) = self.inner.issuers.get(entry.issuer()) else {
            return false;
        };
        let leeway = issuer.claims.leeway;
        issuer
            .keys
            .with_current(|s| entry.still_valid(&s.keys, s.generation, now, leeway))
            .unwrap_or(false)
    }

    /// Verification of a token that missed the cache, against one snapshot
    /// of its issuer's keys. The callers have checked its size.
    fn verify_with(
        &self,
        lookup: &TokenLookup<'_>,
        Selected {
            index,
            policy: issuer,
        }: Selected<'_>,
        snapshot: &Snapshot,
        now: u64,
    ) -> Result<Claims, TokenError> {
        let jws = jws::verify(lookup.token(), &snapshot.keys, issuer.allowed)?;
        let payload = jws::b64_decode(jws.payload_b64).map_err(|_| TokenError::MalformedClaims)?;
        let claims = claims::verify(
            &payload,
            &issuer.claims,
            jws.typ_is_at_jwt,
            now,
            self.inner.id,
        )?;
        if let Some(cache) = &self.inner.token_cache {
            let verified_by = VerifiedBy {
                issuer: index,
                key: jws.key,
                generation: snapshot.generation,
            };
            cache.insert(lookup, &claims, verified_by);
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

    /// Loads the key sets now, instead of on the first request: every
    /// issuer's, at the same time. Returns once all are usable, or with the
    /// first issuer's error (in the order configured) among those that could
    /// not be fetched; the others are loaded all the same.
    pub async fn load_keys(&self) -> Result<(), VerifyError> {
        let loads = self.inner.issuers.0.iter().map(|issuer| issuer.keys.load());
        let results = futures_util::future::join_all(loads).await;
        match results.into_iter().find_map(Result::err) {
            Some(u) => Err(unavailable(u)),
            None => Ok(()),
        }
    }

    /// Whether every issuer has a usable key set loaded (for readiness
    /// probes; with several issuers, [`issuers`](Self::issuers) tells them
    /// apart).
    pub fn has_keys(&self) -> bool {
        self.issuers().all(|issuer| issuer.has_keys())
    }

    /// How many key-set fetches have succeeded and failed so far, for all
    /// issuers together.
    pub fn key_set_fetches(&self) -> KeySetFetches {
        self.issuers().map(|issuer| issuer.key_set_fetches()).fold(
            KeySetFetches::default(),
            |sum, one| KeySetFetches {
                succeeded: sum.succeeded + one.succeeded,
                failed: sum.failed + one.failed,
            },
        )
    }

    /// Why the last key-set fetch failed, if it did: `None` before the first
    /// fetch ends and once one succeeds. Also set when a fetch could not
    /// start (no Tokio runtime). A static key set is never fetched. With
    /// several issuers, the first one's (in the order configured) that has
    /// an error.
    ///
    /// Safe to show in logs and health checks: a [`FetchError`] holds fixed
    /// descriptions and status codes, nothing the endpoint sent.
    pub fn last_fetch_error(&self) -> Option<FetchError> {
        self.issuers().find_map(|issuer| issuer.last_fetch_error())
    }

    /// The `kid`s of the keys in use, of every issuer, sorted; empty if none
    /// are loaded.
    pub fn key_ids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.issuers().flat_map(|i| i.key_ids()).collect();
        kids.sort();
        kids
    }

    /// The exact `iss` value tokens must carry; with several issuers, the
    /// first one's (the one given to [`Verifier::builder`]).
    pub fn issuer(&self) -> &str {
        &self.inner.issuers.first().claims.issuer
    }

    /// Every issuer this verifier trusts, in the order configured, with the
    /// state of its key set.
    pub fn issuers(&self) -> impl ExactSizeIterator<Item = IssuerKeys<'_>> {
        self.inner.issuers.views()
    }

    /// The protected resource's metadata (RFC 9728), if
    /// [configured](VerifierBuilder::protected_resource): a tower service
    /// that serves the document, and its URL and path.
    pub fn resource_metadata(&self) -> Option<&ResourceMetadata> {
        self.inner.resource_metadata.as_ref()
    }

    /// The DPoP policy, if [configured](VerifierBuilder::dpop).
    pub fn dpop(&self) -> Option<&Dpop> {
        self.inner.dpop.as_ref()
    }

    /// Revokes the token with this `jti` on this verifier's revocation list
    /// (and so on every verifier sharing it). See [`Revocation`].
    pub async fn revoke_jti(&self, jti: &str) -> Result<(), SharedStateError> {
        self.revoke(Revocation::jti(jti)).await
    }

    /// Revokes every token issued to `client_id` until now.
    pub async fn revoke_client(&self, client_id: &str) -> Result<(), SharedStateError> {
        self.revoke(Revocation::client(client_id)).await
    }

    /// Revokes every token of `subject` issued at or before `before` (to the
    /// second): a user's global sign-out.
    pub async fn revoke_subject_before(
        &self,
        subject: &str,
        before: SystemTime,
    ) -> Result<(), SharedStateError> {
        self.revoke(Revocation::subject_before(subject, before))
            .await
    }

    /// Records any [`Revocation`] (an `origin_jti` among them). Tokens it
    /// matches are refused from the next request on, cached or not, as
    /// `invalid_token`.
    pub async fn revoke(&self, revocation: Revocation) -> Result<(), SharedStateError> {
        self.inner.revocations.revoke(revocation).await
    }

    /// Whether the revocation list is usable: false while a shared store
    /// has been unreachable for longer than its policy allows, and tokens
    /// are refused (503). Always true for an in-process list.
    pub fn revocations_usable(&self) -> bool {
        self.inner.revocations.is_usable()
    }

    /// The cookie a token may come in, if configured.
    pub(crate) fn token_cookie(&self) -> Option<&TokenCookie> {
        self.inner.token_cookie.as_ref()
    }

    /// The `realm` of this verifier's `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The registered scope `full`, or why a route may not require it.
    pub(crate) fn resolve_scope(&self, full: &str) -> Result<Scope, ConfigError> {
        self.inner.registry.resolve(full)
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
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
            .field("issuers", &self.inner.issuers)
            .finish_non_exhaustive()
    }
}
