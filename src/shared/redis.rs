//! [`RedisStore`]: the one-time ids and the revocation list in Redis, shared
//! by every replica that points at the same server and key prefix.
//!
//! - A proof id is `SET {prefix}dpop:{id} 1 NX PX {ttl}`: the first replica
//!   to set it wins, atomically.
//! - Revocations are members of the sorted set `{prefix}revocations`, scored
//!   by their expiry (Unix seconds; expired ones are trimmed on each write,
//!   and the key expires with the newest). Each write is also published on
//!   the channel `{prefix}revocations`. Every replica keeps a local copy
//!   ([`RevokedSet`]) that requests are checked against with no round trip:
//!   loaded whole when its subscription starts, then kept fresh by the
//!   messages; while the subscription is down, reloaded whole every
//!   `poll_interval`.
//! - If the copy has not been confirmed current for `max_stale` (the
//!   subscription and the reloads have failed that long), [`StalePolicy`]
//!   decides: refuse every token (the default) or keep serving the last
//!   known list.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{
    OneTimeIds, Revocation, RevocationList, RevocationStatus, RevokedSet, SharedStateError,
    StoreFuture,
};
use crate::claims::Claims;

/// What a replica does with tokens once its copy of the revocation list has
/// not been confirmed current for `max_stale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StalePolicy {
    /// Refuse every token with 503 until the list is current again: a
    /// revocation made meanwhile cannot be missed. The default.
    Refuse,
    /// Keep checking against the last known list.
    Serve,
}

/// The options of a [`RedisStore`].
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisOptions {
    key_prefix: String,
    timeout: Duration,
    poll_interval: Duration,
    max_stale: Duration,
    when_stale: StalePolicy,
    retention: Duration,
    max_entries: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            key_prefix: "scopegate:".into(),
            timeout: Duration::from_millis(500),
            poll_interval: Duration::from_secs(5),
            max_stale: Duration::from_secs(60),
            when_stale: StalePolicy::Refuse,
            retention: super::DEFAULT_RETENTION,
            max_entries: super::DEFAULT_MAX_REVOCATIONS,
        }
    }
}

impl RedisOptions {
    /// What every key and channel starts with (`scopegate:` by default).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long one command may take before the store counts as
    /// unavailable (500 ms by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often the list is reloaded while the subscription is down, and
    /// the connection checked while it is up (5 s by default).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long the last known list is used once it cannot be confirmed
    /// current, before `when_stale` applies (60 s by default).
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// What happens after `max_stale` ([`StalePolicy::Refuse`] by default).
    pub fn when_stale(mut self, policy: StalePolicy) -> Self {
        self.when_stale = policy;
        self
    }

    /// How long revocations are kept (a day by default: at least the
    /// longest token lifetime), and how many at most.
    pub fn retention(mut self, retention: Duration, max_entries: usize) -> Self {
        self.retention = retention;
        self.max_entries = max_entries;
        self
    }
}

/// Why a [`RedisStore`] could not be made.
#[derive(Debug)]
pub struct RedisConfigError(String);

impl std::fmt::Display for RedisConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedisConfigError {}

/// Used DPoP proof ids and revocations in Redis (see the module docs).
/// Cheap to clone; clones share the connection and the local copy. The
/// connection is made on first use and remade when it breaks.
///
/// ```no_run
/// use scopegate::shared::{RedisOptions, RedisStore};
/// use scopegate::{Dpop, Issuer, Verifier};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::open("redis://127.0.0.1:6379", RedisOptions::default())?;
/// let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
///     .client_ids(["1example23456789"])
///     .dpop(Dpop::new("https://api.example.com")?.one_time_ids(store.clone()))
///     .revocations(store)
///     .build()?;
/// # let _ = verifier; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

/// Never shows the URL: it may hold a password.
impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.inner.options.key_prefix)
            .field("subscribed", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

struct Inner {
    client: redis::Client,
    options: RedisOptions,
    connection: OnceCell<ConnectionManager>,
    copy: RwLock<RevokedSet>,
    any: AtomicBool,
    /// When the copy was last confirmed current (Unix seconds; 0: never).
    confirmed_at: AtomicU64,
    /// Whether the subscription is up.
    subscribed: AtomicBool,
    /// Whether the task that keeps the copy fresh is running.
    running: AtomicBool,
    /// Whether the copy could not hold every entry: it is then never
    /// current (a revocation it dropped would be missed).
    overflowed: AtomicBool,
}

impl RedisStore {
    /// A store at `url` (`redis://`, or `rediss://` for TLS; a password as
    /// `redis://:password@host:6379`, a database as `/N`). Nothing is
    /// connected yet.
    pub fn open(url: &str, mut options: RedisOptions) -> Result<RedisStore, RedisConfigError> {
        // The copy must be confirmed more often than it may be stale.
        let half = (options.max_stale / 2).max(Duration::from_millis(100));
        options.poll_interval = options.poll_interval.min(half);
        let client = redis::Client::open(url)
            .map_err(|e| RedisConfigError(format!("is not a Redis URL ({:?})", e.kind())))?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                options,
                connection: OnceCell::new(),
                copy: RwLock::new(RevokedSet::default()),
                any: AtomicBool::new(false),
                confirmed_at: AtomicU64::new(0),
                subscribed: AtomicBool::new(false),
                running: AtomicBool::new(false),
                overflowed: AtomicBool::new(false),
            }),
        })
    }

    /// Connects and loads the revocation list now, instead of on first use
    /// (until it is loaded, with [`StalePolicy::Refuse`], tokens are refused
    /// with 503).
    pub async fn connect(&self) -> Result<(), SharedStateError> {
        self.inner.start();
        self.inner.reload().await
    }

    /// Whether the subscription to revocations is up (else the list is
    /// reloaded every `poll_interval`).
    pub fn is_subscribed(&self) -> bool {
        self.inner.subscribed.load(Ordering::Relaxed)
    }
}

impl Inner {
    /// Confirmed within `max_stale` (by a reload or a message: while
    /// subscribed, a reload every `poll_interval` confirms it), and whole.
    fn is_current(&self, now: u64) -> bool {
        let confirmed = self.confirmed_at.load(Ordering::Relaxed);
        confirmed != 0
            && now <= confirmed.saturating_add(self.options.max_stale.as_secs())
            && !self.overflowed.load(Ordering::Relaxed)
    }

    /// Starts the task that keeps the copy fresh, if it is not running and
    /// a Tokio runtime is at hand (else on a later call). A task that ended
    /// (its runtime gone) is started again.
    fn start(self: &Arc<Self>) {
        if self.running.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self
            .running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let guard = Running(Arc::downgrade(self));
            runtime.spawn(keep_fresh(guard));
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, SharedStateError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.options.timeout))
            .set_response_timeout(Some(self.options.timeout))
            .set_number_of_retries(1);
        let made = tokio::time::timeout(
            self.options.timeout * 2,
            self.connection.get_or_try_init(|| {
                ConnectionManager::new_with_config(self.client.clone(), config)
            }),
        )
        .await;
        match made {
            Ok(Ok(connection)) => Ok(connection.clone()),
            _ => Err(SharedStateError::Unavailable),
        }
    }

    /// A key (or channel) under the prefix.
    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.options.key_prefix)
    }

    fn revocations_key(&self) -> String {
        self.key("revocations")
    }

    /// Loads the whole list into the copy.
    async fn reload(&self) -> Result<(), SharedStateError> {
        let mut connection = self.connection().await?;
        let now = crate::clock::now_secs();
        let members: Vec<(String, u64)> = tokio::time::timeout(
            self.options.timeout,
            connection.zrangebyscore_withscores(self.revocations_key(), now + 1, "+inf"),
        )
        .await
        .map_err(|_| SharedStateError::Unavailable)?
        .map_err(|_| SharedStateError::Unavailable)?;
        let mut fresh = RevokedSet::default();
        let mut overflowed = false;
        for (member, expires) in members {
            if let Some(revocation) = decode(&member) {
                overflowed |= fresh
                    .insert(&revocation, expires, now, self.options.max_entries)
                    .is_err();
            }
        }
        if overflowed {
            tracing::error!(
                max = self.options.max_entries,
                "the shared revocation list holds more entries than this replica may keep; it counts as unusable"
            );
        }
        self.overflowed.store(overflowed, Ordering::Relaxed);
        self.any.store(fresh.len() > 0, Ordering::Release);
        *self.copy.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.confirmed_at.store(now, Ordering::Relaxed);
        Ok(())
    }

    /// Applies one published revocation (`{expires} {member}`) to the copy.
    fn apply(&self, message: &str) {
        let Some((expires, member)) = message.split_once(' ') else {
            return;
        };
        let (Ok(expires), Some(revocation)) = (expires.parse::<u64>(), decode(member)) else {
            return;
        };
        self.remember(&revocation, expires);
    }

    fn remember(&self, revocation: &Revocation, expires: u64) {
        let now = crate::clock::now_secs();
        let mut copy = self.copy.write().unwrap_or_else(|p| p.into_inner());
        match copy.insert(revocation, expires, now, self.options.max_entries) {
            Ok(()) => self.any.store(true, Ordering::Release),
            Err(_) => self.overflowed.store(true, Ordering::Relaxed),
        }
    }
}

/// Marks the task as ended when it ends, however it ends (its runtime
/// dropped, a panic), so that the next request starts it again.
struct Running(std::sync::Weak<Inner>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner.subscribed.store(false, Ordering::Relaxed);
            inner.running.store(false, Ordering::Release);
        }
    }
}

/// The background task: subscribe, load the list, apply messages; while
/// the subscription is down, reload every `poll_interval`. Ends when the
/// store is dropped.
async fn keep_fresh(running: Running) {
    let inner = &running.0;
    loop {
        let Some(store) = inner.upgrade() else {
            return;
        };
        let interval = store.options.poll_interval;
        let channel = store.revocations_key();
        let subscribed = tokio::time::timeout(store.options.timeout * 2, async {
            let mut pubsub = store.client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                // Subscribed first, then loaded: nothing published between
                // the two is missed.
                if store.reload().await.is_ok() {
                    store.subscribed.store(true, Ordering::Relaxed);
                    tracing::info!("revocation list loaded; subscribed to its updates");
                    drop(store);
                    follow(inner, pubsub, interval).await;
                    if let Some(store) = inner.upgrade() {
                        store.subscribed.store(false, Ordering::Relaxed);
                        tracing::warn!(
                            "revocation subscription lost; reloading every poll interval"
                        );
                    }
                    continue;
                }
            }
            _ => {
                let _ = store.reload().await;
            }
        }
        drop(store);
        tokio::time::sleep(interval).await;
    }
}

/// Applies messages until the subscription ends or a periodic check of the
/// connection fails.
async fn follow(inner: &std::sync::Weak<Inner>, pubsub: redis::aio::PubSub, interval: Duration) {
    let mut messages = pubsub.into_on_message();
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        tokio::select! {
            message = messages.next() => {
                let (Some(message), Some(store)) = (message, inner.upgrade()) else {
                    return;
                };
                if let Ok(text) = message.get_payload::<String>() {
                    store.apply(&text);
                }
                store.confirmed_at.store(crate::clock::now_secs(), Ordering::Relaxed);
            }
            _ = tick.tick() => {
                let Some(store) = inner.upgrade() else {
                    return;
                };
                // A subscription can look up on a dead socket: a reload
                // checks the server, and keeps the copy exact.
                if store.reload().await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A revocation as a sorted-set member: its kind, then for the "issued
/// before" kinds the bound, then the value (which may hold anything but is
/// last, so needs no escaping).
fn encode(revocation: &Revocation) -> String {
    match revocation {
        Revocation::TokenId(jti) => format!("jti {jti}"),
        Revocation::Origin(origin) => format!("origin_jti {origin}"),
        Revocation::ClientBefore { client_id, .. } => {
            format!(
                "client_id {} {client_id}",
                revocation.before_secs().unwrap_or(0)
            )
        }
        Revocation::SubjectBefore { subject, .. } => {
            format!("sub {} {subject}", revocation.before_secs().unwrap_or(0))
        }
    }
}

fn decode(member: &str) -> Option<Revocation> {
    let (kind, rest) = member.split_once(' ')?;
    let before = |rest: &str| {
        let (secs, value) = rest.split_once(' ')?;
        let at = std::time::UNIX_EPOCH.checked_add(Duration::from_secs(secs.parse().ok()?))?;
        Some((at, value.to_string()))
    };
    match kind {
        "jti" => Some(Revocation::jti(rest)),
        "origin_jti" => Some(Revocation::origin_jti(rest)),
        "client_id" => {
            before(rest).map(|(before, client_id)| Revocation::ClientBefore { client_id, before })
        }
        "sub" => before(rest).map(|(at, sub)| Revocation::subject_before(sub, at)),
        _ => None,
    }
}

impl OneTimeIds for RedisStore {
    fn first_use(&self, id: &str, ttl: Duration) -> StoreFuture<bool> {
        let store = self.clone();
        let key = self.inner.key(&format!("dpop:{id}"));
        Box::pin(async move {
            let mut connection = store.inner.connection().await?;
            let options = redis::SetOptions::default()
                .conditional_set(redis::ExistenceCheck::NX)
                .with_expiration(redis::SetExpiry::PX(ttl.as_millis().max(1) as u64));
            let set = tokio::time::timeout(
                store.inner.options.timeout,
                connection.set_options::<_, _, Option<String>>(key, 1, options),
            )
            .await;
            match set {
                Ok(Ok(reply)) => Ok(reply.is_some()),
                _ => Err(SharedStateError::Unavailable),
            }
        })
    }
}

impl RevocationList for RedisStore {
    fn status(&self, claims: &Claims, now: u64) -> RevocationStatus {
        let inner = &self.inner;
        inner.start();
        if !inner.is_current(now) && inner.options.when_stale == StalePolicy::Refuse {
            return RevocationStatus::Unknown;
        }
        if !inner.any.load(Ordering::Acquire) {
            return RevocationStatus::Valid;
        }
        let copy = inner.copy.read().unwrap_or_else(|p| p.into_inner());
        if copy.revokes(claims, now) {
            RevocationStatus::Revoked
        } else {
            RevocationStatus::Valid
        }
    }

    /// Whether the local copy is confirmed current (subscribed, or reloaded
    /// within `max_stale`), or the policy serves a stale one.
    fn is_usable(&self) -> bool {
        self.inner.start();
        self.inner.options.when_stale == StalePolicy::Serve
            || self.inner.is_current(crate::clock::now_secs())
    }

    fn revoke(&self, revocation: Revocation) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move {
            let revocation = revocation.checked()?;
            let inner = &store.inner;
            inner.start();
            let now = crate::clock::now_secs();
            let expires = now + inner.options.retention.as_secs();
            let member = encode(&revocation);
            let key = inner.revocations_key();
            let mut connection = inner.connection().await?;
            let count =
                tokio::time::timeout(inner.options.timeout, connection.zcard::<_, usize>(&key))
                    .await
                    .map_err(|_| SharedStateError::Unavailable)?
                    .map_err(|_| SharedStateError::Unavailable)?;
            if count >= inner.options.max_entries {
                // Trimmed on writes; one more would not fit every replica.
                return Err(SharedStateError::Full);
            }
            let mut pipe = redis::pipe();
            pipe.atomic()
                .zrembyscore(&key, "-inf", now)
                .ignore()
                .zadd(&key, &member, expires)
                .ignore()
                .expire(&key, inner.options.retention.as_secs() as i64)
                .ignore()
                .publish(&key, format!("{expires} {member}"))
                .ignore();
            let write = pipe.query_async::<()>(&mut connection);
            match tokio::time::timeout(inner.options.timeout, write).await {
                Ok(Ok(())) => {
                    inner.remember(&revocation, expires);
                    Ok(())
                }
                _ => Err(SharedStateError::Unavailable),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_764_720_000);
        for revocation in [
            Revocation::jti("a b c"),
            Revocation::origin_jti("o-1"),
            Revocation::ClientBefore {
                client_id: "client 1".into(),
                before: at,
            },
            Revocation::subject_before("user-1", at),
        ] {
            assert_eq!(decode(&encode(&revocation)), Some(revocation));
        }
        assert_eq!(decode("nonsense"), None);
        assert_eq!(decode("sub x y"), None);
    }

    #[test]
    fn debug_never_shows_the_url() {
        let store = RedisStore::open("redis://:s3cret@127.0.0.1:1/2", RedisOptions::default());
        let shown = format!("{:?}", store.unwrap());
        assert!(
            shown.contains("scopegate:") && !shown.contains("s3cret"),
            "{shown}"
        );
        let error = RedisStore::open("http://:s3cret@x", RedisOptions::default()).unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
