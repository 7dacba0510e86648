//! The key-set cache of one issuer.
//!
//! One snapshot of the keys is shared by every request and read without a
//! lock. Around it:
//!
//! - at most one fetch runs at a time; every request that needs keys while a
//!   fetch runs waits for that fetch instead of starting another;
//! - a snapshot is fresh for its TTL (from `Cache-Control: max-age`, clamped,
//!   or the default), and is refreshed in the background once three quarters
//!   of it have passed, so no request waits on a routine refresh;
//! - when fetches fail, the last good snapshot keeps serving until it is
//!   `max_stale` past its TTL, and fetches back off exponentially;
//! - a token whose `kid` is unknown may trigger a fetch only if none started
//!   within the cooldown, however many such tokens arrive.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use reqwest::Url;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::fetch::{FetchError, Fetcher, fetch_url};
use crate::algorithm::AlgorithmSet;
use crate::jwk::KeySet;

/// Timings and bounds of the key-set cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyCacheOptions {
    pub(crate) default_ttl: Duration,
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) unknown_kid_cooldown: Duration,
    pub(crate) retry_initial: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_body_bytes: usize,
}

impl Default for KeyCacheOptions {
    fn default() -> Self {
        KeyCacheOptions {
            default_ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(86_400),
            max_stale: Duration::from_secs(3_600),
            unknown_kid_cooldown: Duration::from_secs(30),
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            max_body_bytes: 128 * 1024,
        }
    }
}

/// Where the keys come from.
pub(crate) enum Source {
    /// Fixed keys, given at build time; never fetched.
    Static,
    /// A JWKS URL, known or found by OpenID Connect discovery.
    Remote {
        fetcher: Fetcher,
        issuer: String,
        discovery: Option<Url>,
    },
}

impl Source {
    /// The issuer and discovery URL of a remote source.
    #[cfg(feature = "proxy")]
    fn remote(&self) -> Option<(&str, Option<&Url>)> {
        match self {
            Source::Remote {
                issuer, discovery, ..
            } => Some((issuer, discovery.as_ref())),
            Source::Static => None,
        }
    }
}

/// The keys as of one successful fetch.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) keys: KeySet,
    /// Different for every snapshot of every store.
    pub(crate) generation: u64,
    /// When to start a background refresh; `None` for static keys.
    refresh_at: Option<Instant>,
    /// When the keys become too stale to use; `None` for static keys.
    usable_until: Option<Instant>,
}

impl Snapshot {
    fn is_usable(&self, now: Instant) -> bool {
        self.usable_until.is_none_or(|until| now < until)
    }
}

/// The key set is not available and nothing usable is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unavailable {
    pub(crate) retry_after: Duration,
}

#[derive(Default)]
struct FetchState {
    /// Closed when the running fetch ends.
    in_flight: Option<watch::Receiver<()>>,
    last_started: Option<Instant>,
    retry_at: Option<Instant>,
    failures: u32,
    last_error: Option<FetchError>,
    jwks_url: Option<Url>,
}

/// Counters of fetch outcomes, for metrics.
#[derive(Debug, Default)]
struct FetchCounters {
    succeeded: AtomicU64,
    failed: AtomicU64,
}

/// How many key-set fetches have ended, by outcome, since the verifier was
/// built (see [`Verifier::key_set_fetches`](crate::Verifier::key_set_fetches)).
///
/// A fetch is one attempt: discovery (if configured) and the key set. A
/// fetch that could not start (no Tokio runtime) is not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySetFetches {
    /// Fetches that brought a usable key set, now in use.
    pub succeeded: u64,
    /// Fetches that failed (the cause of the last one is
    /// [`Verifier::last_fetch_error`](crate::Verifier::last_fetch_error)).
    pub failed: u64,
}

pub(crate) struct KeyStore {
    source: Source,
    /// The key set URL as configured (discovery may find it later).
    #[cfg_attr(not(feature = "proxy"), allow(dead_code))]
    configured_jwks_url: Option<Url>,
    options: KeyCacheOptions,
    allowed: AlgorithmSet,
    current: ArcSwapOption<Snapshot>,
    state: Mutex<FetchState>,
    /// Set while a fetch runs or is backing off: lets the hot path skip the
    /// lock when a background refresh is due but cannot start.
    refresh_blocked_until: AtomicU64,
    refreshing: AtomicBool,
    unknown_kid_waiters: AtomicUsize,
    cold_waiters: AtomicUsize,
    /// Until when (nanoseconds since `epoch`) no fetch may start for an
    /// unknown `kid`: lets a flood of them be refused without the lock.
    no_refetch_until: AtomicU64,
    epoch: Instant,
    counters: FetchCounters,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("options", &self.options)
            .field("current", &self.current.load().as_ref().map(|s| &s.keys))
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    pub(crate) fn new_static(keys: KeySet, allowed: AlgorithmSet) -> KeyStore {
        let store = KeyStore::new(Source::Static, KeyCacheOptions::default(), allowed, None);
        store.current.store(Some(Arc::new(Snapshot {
            keys,
            generation: next_generation(),
            refresh_at: None,
            usable_until: None,
        })));
        store
    }

    pub(crate) fn new(
        source: Source,
        options: KeyCacheOptions,
        allowed: AlgorithmSet,
        jwks_url: Option<Url>,
    ) -> KeyStore {
        KeyStore {
            source,
            configured_jwks_url: jwks_url.clone(),
            options,
            allowed,
            current: ArcSwapOption::empty(),
            state: Mutex::new(FetchState {
                jwks_url,
                ..FetchState::default()
            }),
            refresh_blocked_until: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            unknown_kid_waiters: AtomicUsize::new(0),
            cold_waiters: AtomicUsize::new(0),
            no_refetch_until: AtomicU64::new(0),
            epoch: Instant::now(),
            counters: FetchCounters::default(),
        }
    }

    /// Whether `other` fetches the same keys the same way: same issuer, key
    /// set or discovery URL, cache options and algorithms. Such a store can
    /// take `other`'s place and keep its cache (a configuration reload).
    /// Static key sets never match: they are parsed anew.
    #[cfg(feature = "proxy")]
    pub(crate) fn same_source(&self, other: &KeyStore) -> bool {
        let (mine, theirs) = (self.source.remote(), other.source.remote());
        mine.is_some()
            && mine == theirs
            && self.configured_jwks_url == other.configured_jwks_url
            && self.options == other.options
            && self.allowed == other.allowed
    }

    /// The fetch counters so far.
    pub(crate) fn fetches(&self) -> KeySetFetches {
        KeySetFetches {
            succeeded: self.counters.succeeded.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }

    /// Why the last fetch failed; `None` once one succeeds.
    pub(crate) fn last_error(&self) -> Option<FetchError> {
        self.lock().last_error
    }

    fn lock(&self) -> MutexGuard<'_, FetchState> {
        // A panic while holding this lock cannot leave the state inconsistent
        // (every write is a single field store), so a poisoned lock is usable.
        crate::sync::lock(&self.state)
    }

    fn nanos_since_epoch(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Runs `f` on the current snapshot, without waiting, without a lock
    /// and without touching its reference count. Starts a background
    /// refresh when one is due. `None` if nothing usable is cached.
    pub(crate) fn with_current<R>(self: &Arc<Self>, f: impl FnOnce(&Snapshot) -> R) -> Option<R> {
        let guard = self.current.load();
        let snapshot = guard.as_deref()?;
        if let Some(refresh_at) = snapshot.refresh_at {
            let now = Instant::now();
            if !snapshot.is_usable(now) {
                return None;
            }
            if now >= refresh_at
                && self.nanos_since_epoch(now) >= self.refresh_blocked_until.load(Ordering::Relaxed)
                && !self.refreshing.load(Ordering::Relaxed)
            {
                self.refresh_in_background(now);
            }
        } // else: static keys, always usable, never refreshed
        Some(f(snapshot))
    }

    /// The current snapshot if it is usable.
    fn usable(&self, now: Instant) -> Option<Arc<Snapshot>> {
        self.current.load_full().filter(|s| s.is_usable(now))
    }

    /// Whether any key set is loaded and usable.
    pub(crate) fn is_loaded(&self) -> bool {
        self.usable(Instant::now()).is_some()
    }

    fn refresh_in_background(self: &Arc<Self>, now: Instant) {
        let mut state = self.lock();
        // Checked again under the lock: a fetch may have just stored a new
        // snapshot, which is not due for a refresh.
        let due = self
            .current
            .load()
            .as_ref()
            .and_then(|s| s.refresh_at)
            .is_some_and(|refresh_at| now >= refresh_at);
        if !due || in_flight(&state).is_some() {
            return;
        }
        if let Some(retry_at) = state.retry_at.filter(|t| now < *t) {
            self.refresh_blocked_until
                .store(self.nanos_since_epoch(retry_at), Ordering::Relaxed);
            return;
        }
        tracing::debug!("key set refresh due; fetching in the background");
        let _ = self.start_fetch(&mut state, now);
    }

    /// Keys for a request that found none usable: joins the running fetch
    /// or starts one (unless backing off), and waits for it.
    pub(crate) async fn load(self: &Arc<Self>) -> Result<Arc<Snapshot>, Unavailable> {
        let (wait, _slot) = {
            let mut state = self.lock();
            let now = Instant::now();
            // Checked under the lock, so that a fetch that just ended is seen
            // and not followed by a second one.
            if let Some(snapshot) = self.usable(now) {
                return Ok(snapshot);
            }
            let rx = match in_flight(&state) {
                Some(rx) => rx,
                None => {
                    if let Some(retry_at) = state.retry_at.filter(|t| now < *t) {
                        return Err(Unavailable {
                            retry_after: retry_at - now,
                        });
                    }
                    match self.start_fetch(&mut state, now) {
                        Some(rx) => rx,
                        None => return Err(self.unavailable(&state, now)),
                    }
                }
            };
            match WaiterSlot::take(&self.cold_waiters, MAX_COLD_WAITERS) {
                Some(slot) => (rx, slot),
                None => return Err(self.unavailable(&state, now)),
            }
        };
        self.wait(wait).await;
        let now = Instant::now();
        match self.usable(now) {
            Some(snapshot) => Ok(snapshot),
            None => Err(self.unavailable(&self.lock(), now)),
        }
    }

    /// Whether a token with an unknown `kid` could make a fetch happen now:
    /// one is running, or none started within the cooldown.
    pub(crate) fn may_refetch(&self) -> bool {
        if matches!(self.source, Source::Static) {
            return false;
        }
        let now = Instant::now();
        // Lock-free "no": no fetch is running and the cooldown or backoff is
        // not over. Anything else is decided under the lock.
        if !self.refreshing.load(Ordering::Acquire)
            && self.nanos_since_epoch(now) < self.no_refetch_until.load(Ordering::Acquire)
        {
            return false;
        }
        let state = self.lock();
        self.may_refetch_locked(&state, now)
    }

    fn may_refetch_locked(&self, state: &FetchState, now: Instant) -> bool {
        if matches!(self.source, Source::Static) {
            return false;
        }
        if in_flight(state).is_some() {
            return true;
        }
        let cooled_down = state
            .last_started
            .is_none_or(|t| now.saturating_duration_since(t) >= self.options.unknown_kid_cooldown);
        let not_backing_off = state.retry_at.is_none_or(|t| now >= t);
        cooled_down && not_backing_off
    }

    /// For a token whose `kid` is not in `seen`: returns a newer snapshot if
    /// one exists, else joins the running fetch or starts one if the cooldown
    /// allows, and returns the new snapshot if the keys changed.
    ///
    /// At most [`MAX_UNKNOWN_KID_WAITERS`] requests wait at once; the rest
    /// are refused at once, so a flood of forged `kid`s during a slow fetch
    /// cannot pile up requests.
    pub(crate) async fn refetch_for_unknown_kid(
        self: &Arc<Self>,
        seen: &Arc<Snapshot>,
    ) -> Option<Arc<Snapshot>> {
        let (wait, _slot) = {
            let mut state = self.lock();
            let now = Instant::now();
            if let Some(newer) = self.usable(now).filter(|s| !Arc::ptr_eq(s, seen)) {
                return Some(newer);
            }
            let rx = match in_flight(&state) {
                Some(rx) => rx,
                None if self.may_refetch_locked(&state, now) => {
                    tracing::debug!("unknown kid; fetching the key set");
                    self.start_fetch(&mut state, now)?
                }
                None => return None,
            };
            (
                rx,
                WaiterSlot::take(&self.unknown_kid_waiters, MAX_UNKNOWN_KID_WAITERS)?,
            )
        };
        self.wait(wait).await;
        self.usable(Instant::now())
            .filter(|fresh| !Arc::ptr_eq(fresh, seen))
    }

    fn unavailable(&self, state: &FetchState, now: Instant) -> Unavailable {
        let retry_after = state.retry_at.map_or(self.options.retry_initial, |t| {
            t.saturating_duration_since(now)
        });
        Unavailable {
            retry_after: retry_after.max(Duration::from_secs(1)),
        }
    }

    async fn wait(&self, mut done: watch::Receiver<()>) {
        // The fetch ends within its own timeouts (discovery, then the key
        // set); this bound only guards against a fetch task that never runs.
        let bound = self
            .options
            .timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1));
        let _ = tokio::time::timeout(bound, done.changed()).await;
    }

    fn start_fetch(
        self: &Arc<Self>,
        state: &mut FetchState,
        now: Instant,
    ) -> Option<watch::Receiver<()>> {
        if matches!(self.source, Source::Static) {
            return None;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("cannot fetch the key set: no Tokio runtime");
            state.last_error = Some(FetchError::NoRuntime);
            return None;
        };
        let (done, rx) = watch::channel(());
        state.in_flight = Some(rx.clone());
        state.last_started = Some(now);
        self.refreshing.store(true, Ordering::Release);
        self.no_refetch_until.fetch_max(
            self.nanos_since_epoch(later(now, self.options.unknown_kid_cooldown)),
            Ordering::Release,
        );
        // The guard ends the fetch however the task ends: normally, by a
        // panic, or dropped with its runtime. Waiters wake when `done` drops.
        let guard = FetchGuard {
            store: Arc::clone(self),
            outcome: None,
            _done: done,
        };
        runtime.spawn(async move {
            let outcome = guard.store.fetch().await;
            guard.complete(outcome);
        });
        Some(rx)
    }

    fn finish(&self, outcome: Result<(KeySet, Duration), FetchError>) {
        let now = Instant::now();
        let mut state = self.lock();
        match outcome {
            Ok((keys, ttl)) => {
                tracing::info!(
                    keys = keys.len(),
                    ttl_secs = ttl.as_secs(),
                    "key set fetched"
                );
                let ttl = ttl.max(Duration::from_millis(1));
                self.current.store(Some(Arc::new(Snapshot {
                    keys,
                    generation: next_generation(),
                    refresh_at: Some(later(now, ttl * 3 / 4)),
                    usable_until: Some(later(now, ttl.saturating_add(self.options.max_stale))),
                })));
                state.failures = 0;
                state.retry_at = None;
                state.last_error = None;
                self.counters.succeeded.fetch_add(1, Ordering::Relaxed);
                self.refresh_blocked_until.store(0, Ordering::Relaxed);
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let backoff = self.backoff(state.failures);
                let retry_at = later(now, backoff);
                state.retry_at = Some(retry_at);
                state.last_error = Some(error);
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                self.refresh_blocked_until
                    .store(self.nanos_since_epoch(retry_at), Ordering::Relaxed);
                self.no_refetch_until
                    .fetch_max(self.nanos_since_epoch(retry_at), Ordering::Release);
                tracing::warn!(
                    error = %error,
                    failures = state.failures,
                    retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    have_keys = self.current.load().is_some(),
                    "key set fetch failed"
                );
            }
        }
        state.in_flight = None;
        self.refreshing.store(false, Ordering::Release);
    }

    /// Exponential backoff with ±20% jitter, so that a fleet does not retry
    /// in step.
    fn backoff(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(16);
        let base = self
            .options
            .retry_initial
            .saturating_mul(1 << exponent)
            .min(self.options.retry_max);
        let jitter = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(failures);
            (h.finish() % 401) as u32 // 0..=400, i.e. -20.0% ..= +20.0%
        };
        (base.saturating_mul(800 + jitter) / 1000).max(Duration::from_millis(1))
    }

    /// One fetch: discovery if needed, then the key set.
    async fn fetch(&self) -> Result<(KeySet, Duration), FetchError> {
        let Source::Remote {
            fetcher,
            issuer,
            discovery,
        } = &self.source
        else {
            return Err(FetchError::NoUsableKeys);
        };
        let known = self.lock().jwks_url.clone();
        let jwks_url = match (known, discovery) {
            (Some(url), _) => url,
            (None, Some(discovery)) => {
                let url = discover(fetcher, discovery, issuer).await?;
                self.lock().jwks_url = Some(url.clone());
                url
            }
            (None, None) => return Err(FetchError::BadJwksUri),
        };
        let fetched = fetcher.get(&jwks_url).await?;
        let keys = KeySet::parse(&fetched.body, self.allowed).map_err(|_| FetchError::NotJson)?;
        if keys.is_empty() {
            return Err(FetchError::NoUsableKeys);
        }
        let ttl = fetched
            .max_age
            .unwrap_or(self.options.default_ttl)
            .clamp(self.options.min_ttl, self.options.max_ttl);
        Ok((keys, ttl))
    }
}

fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The most requests with unknown `kid`s that wait for one fetch.
pub(crate) const MAX_UNKNOWN_KID_WAITERS: usize = 256;
/// The most requests that wait for keys when none are usable (a cold start,
/// or keys past their maximum staleness); the rest get 503 at once.
pub(crate) const MAX_COLD_WAITERS: usize = 1024;

/// The running fetch, if any. A fetch whose task ended without clearing the
/// state (it cannot, but a closed channel says so) counts as not running.
fn in_flight(state: &FetchState) -> Option<watch::Receiver<()>> {
    state
        .in_flight
        .as_ref()
        .filter(|rx| rx.has_changed().is_ok())
        .cloned()
}

/// `now + d`, or a century from now if that overflows.
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Ends a fetch when its task ends, however it ends.
struct FetchGuard {
    store: Arc<KeyStore>,
    outcome: Option<Result<(KeySet, Duration), FetchError>>,
    _done: watch::Sender<()>,
}

impl FetchGuard {
    fn complete(mut self, outcome: Result<(KeySet, Duration), FetchError>) {
        self.outcome = Some(outcome);
    }
}

impl Drop for FetchGuard {
    fn drop(&mut self) {
        let outcome = self.outcome.take().unwrap_or(Err(FetchError::Interrupted));
        self.store.finish(outcome);
        // `_done` drops after this, waking the waiters.
    }
}

/// A counted slot among a bounded number of waiters, given back on drop
/// (also when the waiting request is cancelled).
struct WaiterSlot<'a>(&'a AtomicUsize);

impl<'a> WaiterSlot<'a> {
    fn take(count: &'a AtomicUsize, max: usize) -> Option<WaiterSlot<'a>> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| WaiterSlot(count))
    }
}

impl Drop for WaiterSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads an OpenID Connect discovery document and returns its `jwks_uri`,
/// after checking that its `issuer` is exactly the configured one (OpenID
/// Connect Discovery §4.3).
async fn discover(fetcher: &Fetcher, url: &Url, issuer: &str) -> Result<Url, FetchError> {
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: Option<String>,
    }
    let fetched = fetcher.get(url).await?;
    let document: Discovery = crate::json::object(&fetched.body).ok_or(FetchError::NotJson)?;
    if document.issuer != issuer {
        return Err(FetchError::IssuerMismatch);
    }
    let jwks_uri = document.jwks_uri.ok_or(FetchError::BadJwksUri)?;
    fetch_url("jwks_uri", &jwks_uri).map_err(|_| FetchError::BadJwksUri)
}
