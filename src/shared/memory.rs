//! The in-process stores: bounded, for one process (every verifier of it
//! may share one by cloning its `Arc`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use moka::sync::Cache;

use super::{
    OneTimeIds, Revocation, RevocationList, RevocationStatus, RevokedSet, SharedStateError,
    StoreFuture,
};
use crate::claims::Claims;

/// The default bound of [`InMemoryOneTimeIds`].
pub const DEFAULT_ONE_TIME_IDS: u64 = 1_000_000;
/// The default bound of [`InMemoryRevocations`].
pub const DEFAULT_MAX_REVOCATIONS: usize = 100_000;
/// How long revocations are kept by default: one day, the longest lifetime
/// of a Cognito access or ID token.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(86_400);

/// One-time ids in this process, each kept for the time it was recorded
/// for, at most `capacity` at once.
///
/// Full means refused: once `capacity` ids are in their window, new proofs
/// are refused ([`SharedStateError::Full`], a 503) rather than an older id
/// forgotten early, which would let its proof be replayed.
#[derive(Clone)]
pub struct InMemoryOneTimeIds {
    /// No size bound of moka's own: its eviction would forget an id early
    /// (a replay); the bound is `count`, kept exactly here.
    ids: Cache<Box<str>, Instant>,
    count: Arc<AtomicU64>,
    capacity: u64,
}

impl InMemoryOneTimeIds {
    /// A store for at most `capacity` ids at once.
    pub fn new(capacity: u64) -> Self {
        let count = Arc::new(AtomicU64::new(0));
        let expired = Arc::clone(&count);
        InMemoryOneTimeIds {
            ids: Cache::builder()
                .expire_after(UntilDeadline)
                .eviction_listener(move |_, _, _| {
                    expired.fetch_sub(1, Ordering::Relaxed);
                })
                .build(),
            count,
            capacity,
        }
    }

    pub(crate) fn record(&self, id: &str, ttl: Duration) -> Result<bool, SharedStateError> {
        if self.count.load(Ordering::Relaxed) >= self.capacity {
            // Expired ids leave only once housekeeping has run.
            self.ids.run_pending_tasks();
            if self.count.load(Ordering::Relaxed) >= self.capacity {
                return Err(SharedStateError::Full);
            }
        }
        let deadline = Instant::now() + ttl;
        let entry = self.ids.entry(id.into()).or_insert(deadline);
        if entry.is_fresh() {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        Ok(entry.is_fresh())
    }
}

/// The counts only: moka's `Debug` would list every id.
impl std::fmt::Debug for InMemoryOneTimeIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryOneTimeIds")
            .field("ids", &self.count.load(Ordering::Relaxed))
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Default for InMemoryOneTimeIds {
    fn default() -> Self {
        InMemoryOneTimeIds::new(DEFAULT_ONE_TIME_IDS)
    }
}

impl OneTimeIds for InMemoryOneTimeIds {
    fn first_use(&self, id: &str, ttl: Duration) -> StoreFuture<bool> {
        Box::pin(std::future::ready(self.record(id, ttl)))
    }
}

/// Expires each id at the deadline it was recorded with.
struct UntilDeadline;

impl moka::Expiry<Box<str>, Instant> for UntilDeadline {
    fn expire_after_create(
        &self,
        _id: &Box<str>,
        deadline: &Instant,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(deadline.saturating_duration_since(created_at))
    }
}

/// Revocations in this process: at most `max_entries` at once, each kept for
/// the retention (by default [`DEFAULT_RETENTION`]).
///
/// A verifier without a list of its own has one of these, empty: checking
/// it costs one atomic load until something is revoked.
#[derive(Debug)]
pub struct InMemoryRevocations {
    set: RwLock<RevokedSet>,
    any: AtomicBool,
    retention: Duration,
    max_entries: usize,
}

impl InMemoryRevocations {
    /// An empty list with the default bounds.
    pub fn new() -> Self {
        InMemoryRevocations::with_limits(DEFAULT_MAX_REVOCATIONS, DEFAULT_RETENTION)
    }

    /// An empty list holding at most `max_entries`, each for `retention`
    /// (which should be at least the longest lifetime of the tokens).
    pub fn with_limits(max_entries: usize, retention: Duration) -> Self {
        InMemoryRevocations {
            set: RwLock::new(RevokedSet::default()),
            any: AtomicBool::new(false),
            retention,
            max_entries,
        }
    }

    fn record(&self, revocation: Revocation) -> Result<(), SharedStateError> {
        let revocation = revocation.checked()?;
        let now = crate::clock::now_secs();
        let expires = now.saturating_add(self.retention.as_secs());
        let mut set = self.set.write().unwrap_or_else(|p| p.into_inner());
        set.insert(&revocation, expires, now, self.max_entries)?;
        self.any.store(true, Ordering::Release);
        Ok(())
    }
}

impl Default for InMemoryRevocations {
    fn default() -> Self {
        InMemoryRevocations::new()
    }
}

impl RevocationList for InMemoryRevocations {
    fn status(&self, claims: &Claims, now: u64) -> RevocationStatus {
        if !self.any.load(Ordering::Acquire) {
            return RevocationStatus::Valid;
        }
        let set = self.set.read().unwrap_or_else(|p| p.into_inner());
        if set.revokes(claims, now) {
            RevocationStatus::Revoked
        } else {
            RevocationStatus::Valid
        }
    }

    fn revoke(&self, revocation: Revocation) -> StoreFuture<()> {
        Box::pin(std::future::ready(self.record(revocation)))
    }
}

impl<T: RevocationList + ?Sized> RevocationList for Arc<T> {
    fn status(&self, claims: &Claims, now: u64) -> RevocationStatus {
        (**self).status(claims, now)
    }

    fn revoke(&self, revocation: Revocation) -> StoreFuture<()> {
        (**self).revoke(revocation)
    }

    fn is_usable(&self) -> bool {
        (**self).is_usable()
    }
}

impl<T: OneTimeIds + ?Sized> OneTimeIds for Arc<T> {
    fn first_use(&self, id: &str, ttl: Duration) -> StoreFuture<bool> {
        (**self).first_use(id, ttl)
    }
}
