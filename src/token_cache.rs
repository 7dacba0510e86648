//! The verified-token cache: tokens that passed every check, by the SHA-256
//! of their exact bytes.
//!
//! A hit skips the base64, JSON and signature work, and nothing else:
//!
//! - only fully verified tokens enter (signature, lifetime, issuer, client,
//!   audience, profile), and the scope check always runs after;
//! - `exp` and `nbf` are checked against the clock on every hit, and an
//!   entry expires no later than its token's `exp`;
//! - an entry is accepted only while the key that verified it is still in
//!   the key set, with the same material: a key rotated out or revoked
//!   invalidates its entries at once;
//! - the cache is bounded in entries and time, and tokens above a size are
//!   not cached at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use moka::Expiry;
use moka::sync::Cache;

use crate::algorithm::Algorithm;
use crate::claims::{Claims, check_lifetime};
use crate::jwk::{KeySet, Lookup};

/// Sizes and times of the cache.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenCacheOptions {
    /// Entries at most; 0 turns the cache off.
    pub(crate) capacity: u64,
    /// How long an entry may live at most (less if its token expires first).
    pub(crate) ttl: Duration,
    /// Tokens longer than this are never cached.
    pub(crate) max_token_bytes: usize,
}

impl Default for TokenCacheOptions {
    fn default() -> Self {
        TokenCacheOptions {
            capacity: 10_000,
            ttl: Duration::from_secs(600),
            max_token_bytes: 4096,
        }
    }
}

/// The SHA-256 of a token's bytes.
pub(crate) type TokenDigest = [u8; 32];

/// A verified token, and the key that verified it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) claims: Claims,
    kid: Arc<str>,
    alg: Algorithm,
    fingerprint: u64,
    /// The key-set snapshot it was verified against: while that is still the
    /// current one, the key is known to be in it.
    generation: u64,
}

struct ExpireWithToken;

impl Expiry<TokenDigest, Arc<Entry>> for ExpireWithToken {
    fn expire_after_create(
        &self,
        _: &TokenDigest,
        entry: &Arc<Entry>,
        _: Instant,
    ) -> Option<Duration> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Some(Duration::from_secs(
            entry.claims.expires_at_secs().saturating_sub(now),
        ))
    }
}

pub(crate) struct TokenCache {
    cache: Cache<TokenDigest, Arc<Entry>>,
    max_token_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.cache.entry_count())
            .field("hits", &self.hits.load(Ordering::Relaxed))
            .field("misses", &self.misses.load(Ordering::Relaxed))
            .finish()
    }
}

/// Counts of the verified-token cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCacheStats {
    /// Tokens found verified in the cache.
    pub hits: u64,
    /// Tokens that had to be verified (and were cached if they passed).
    pub misses: u64,
    /// Entries held now (approximate).
    pub entries: u64,
}

impl TokenCache {
    /// `None` when the options turn the cache off.
    pub(crate) fn new(options: TokenCacheOptions) -> Option<TokenCache> {
        (options.capacity > 0).then(|| TokenCache {
            cache: Cache::builder()
                .max_capacity(options.capacity)
                .time_to_live(options.ttl)
                .expire_after(ExpireWithToken)
                .build(),
            max_token_bytes: options.max_token_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// The digest to look a token up by, if it is small enough to cache.
    pub(crate) fn digest(&self, token: &str) -> Option<TokenDigest> {
        if token.len() > self.max_token_bytes {
            return None;
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
        Some(out)
    }

    /// The cached claims of a token, if it was verified before, its key is
    /// still trusted and it is within its lifetime now.
    pub(crate) fn get(
        &self,
        digest: &TokenDigest,
        keys: &KeySet,
        generation: u64,
        now: u64,
        leeway: u64,
    ) -> Option<Claims> {
        let Some(entry) = self.cache.get(digest) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            tracing::trace!("token cache miss");
            return None;
        };
        let key_still_there = entry.generation == generation
            || matches!(keys.lookup(&entry.kid, entry.alg), Lookup::Found(k) if k.fingerprint() == entry.fingerprint);
        let claims = &entry.claims;
        if !key_still_there
            || check_lifetime(
                claims.expires_at_secs(),
                claims.not_before_secs(),
                now,
                leeway,
            )
            .is_err()
        {
            // Verified again (and refused) the slow way.
            self.cache.invalidate(digest);
            self.misses.fetch_add(1, Ordering::Relaxed);
            tracing::trace!("token cache entry no longer valid");
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        tracing::trace!("token cache hit");
        Some(claims.clone())
    }

    pub(crate) fn insert(
        &self,
        digest: TokenDigest,
        claims: &Claims,
        kid: Arc<str>,
        alg: Algorithm,
        fingerprint: u64,
        generation: u64,
    ) {
        self.cache.insert(
            digest,
            Arc::new(Entry {
                claims: claims.clone(),
                kid,
                alg,
                fingerprint,
                generation,
            }),
        );
    }

    pub(crate) fn stats(&self) -> TokenCacheStats {
        TokenCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.cache.entry_count(),
        }
    }
}
