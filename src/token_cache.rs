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
//!
//! In front of the shared cache, each thread remembers the last token it
//! verified, compared byte for byte: a client that sends the same token on a
//! kept-alive connection skips the digest and the shared map, with the same
//! checks on every hit.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use moka::Expiry;
use moka::sync::Cache;

use crate::algorithm::Algorithm;
use crate::claims::{Claims, check_lifetime};
use crate::jwk::{KeySet, Lookup, VerifyingKey};

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

/// A verified token, the issuer whose key verified it, and that key.
#[derive(Debug)]
pub(crate) struct Entry {
    claims: Claims,
    /// The verifier's index of the issuer.
    issuer: usize,
    kid: Arc<str>,
    alg: Algorithm,
    fingerprint: u64,
    /// The key-set snapshot it was verified against: while that is still the
    /// current one, the key is known to be in it.
    generation: u64,
}

impl Entry {
    /// The verifier's index of the issuer that verified the token.
    pub(crate) fn issuer(&self) -> usize {
        self.issuer
    }

    /// Whether the key that verified the token is still in the issuer's key
    /// set with the same material, and the token is within its lifetime.
    pub(crate) fn still_valid(
        &self,
        keys: &KeySet,
        generation: u64,
        now: u64,
        leeway: u64,
    ) -> bool {
        let key_still_there = self.generation == generation
            || matches!(
                keys.lookup(&self.kid, self.alg),
                Lookup::Found(k) if k.fingerprint() == self.fingerprint
            );
        let claims = &self.claims;
        key_still_there
            && check_lifetime(
                claims.expires_at_secs(),
                claims.not_before_secs(),
                now,
                leeway,
            )
            .is_ok()
    }
}

struct ExpireWithToken;

impl Expiry<TokenDigest, Arc<Entry>> for ExpireWithToken {
    fn expire_after_create(
        &self,
        _: &TokenDigest,
        entry: &Arc<Entry>,
        _: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_secs(
            entry
                .claims
                .expires_at_secs()
                .saturating_sub(crate::clock::now_secs()),
        ))
    }
}

/// This thread's last verified token, for one cache at a time.
struct Recent {
    cache_id: u64,
    token: Vec<u8>,
    entry: Option<Arc<Entry>>,
}

thread_local! {
    static RECENT: RefCell<Recent> = const {
        RefCell::new(Recent { cache_id: 0, token: Vec::new(), entry: None })
    };
}

/// A token to look up. Its SHA-256 is computed at most once.
pub(crate) struct TokenLookup<'a> {
    token: &'a str,
    digest: std::cell::OnceCell<TokenDigest>,
}

impl<'a> TokenLookup<'a> {
    pub(crate) fn new(token: &'a str) -> Self {
        TokenLookup {
            token,
            digest: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn token(&self) -> &'a str {
        self.token
    }

    fn digest(&self) -> &TokenDigest {
        self.digest.get_or_init(|| sha256(self.token))
    }
}

/// What verified a token: the issuer (the verifier's index of it), the key,
/// and the generation of the key-set snapshot the key came from.
pub(crate) struct VerifiedBy<'k> {
    pub(crate) issuer: usize,
    pub(crate) key: &'k VerifyingKey,
    pub(crate) generation: u64,
}

pub(crate) struct TokenCache {
    /// Tells this cache's tokens apart in the per-thread slot.
    id: u64,
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
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        (options.capacity > 0).then(|| TokenCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
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

    /// Whether a token is small enough to be cached.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        token.len() <= self.max_token_bytes
    }

    /// The cached claims of a token, if it was verified before and
    /// `still_valid` says its entry still holds (its key still trusted, the
    /// token within its lifetime now). `None` is a miss.
    pub(crate) fn get(
        &self,
        at: &TokenLookup<'_>,
        still_valid: impl FnOnce(&Entry) -> bool,
    ) -> Option<Claims> {
        if !self.accepts(at.token) {
            return None;
        }
        // This thread's last token, byte for byte: no digest needed.
        let recent = RECENT.with(|slot| {
            let slot = slot.borrow();
            (slot.cache_id == self.id && slot.token == at.token.as_bytes())
                .then(|| slot.entry.clone())
                .flatten()
        });
        let from_shared = recent.is_none();
        let entry = match recent {
            Some(entry) => entry,
            None => {
                let Some(entry) = self.cache.get(at.digest()) else {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    tracing::trace!("token cache miss");
                    return None;
                };
                entry
            }
        };
        if !still_valid(&entry) {
            // Verified again (and refused) the slow way.
            self.cache.invalidate(at.digest());
            if !from_shared {
                // The entry came from this thread's slot; a shared one
                // leaves the slot (another token) as it is.
                RECENT.with(|slot| slot.borrow_mut().entry = None);
            }
            self.misses.fetch_add(1, Ordering::Relaxed);
            tracing::trace!("token cache entry no longer valid");
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        tracing::trace!("token cache hit");
        let claims = entry.claims.clone();
        if from_shared {
            self.remember(at.token, entry);
        }
        Some(claims)
    }

    /// Caches a token that passed every check, with the issuer (by index)
    /// and the key (from snapshot `generation`) that verified it.
    pub(crate) fn insert(
        &self,
        at: &TokenLookup<'_>,
        claims: &Claims,
        verified_by: VerifiedBy<'_>,
    ) {
        if !self.accepts(at.token) {
            return;
        }
        let key = verified_by.key;
        let entry = Arc::new(Entry {
            claims: claims.clone(),
            issuer: verified_by.issuer,
            kid: Arc::clone(key.kid()),
            alg: key.algorithm(),
            fingerprint: key.fingerprint(),
            generation: verified_by.generation,
        });
        self.cache.insert(*at.digest(), Arc::clone(&entry));
        self.remember(at.token, entry);
    }

    /// Makes `entry` this thread's last token.
    fn remember(&self, token: &str, entry: Arc<Entry>) {
        RECENT.with(|slot| {
            let mut slot = slot.borrow_mut();
            slot.cache_id = self.id;
            slot.token.clear();
            slot.token.extend_from_slice(token.as_bytes());
            slot.entry = Some(entry);
        });
    }

    pub(crate) fn stats(&self) -> TokenCacheStats {
        TokenCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.cache.entry_count(),
        }
    }
}

fn sha256(token: &str) -> TokenDigest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}
