//! State that several verifiers, in one process or in many replicas, may
//! share: the one-time ids of DPoP proofs ([`OneTimeIds`]) and the list of
//! revoked tokens ([`RevocationList`]). The in-process stores
//! ([`InMemoryOneTimeIds`], [`InMemoryRevocations`]) are the defaults; a
//! store that replicas share implements the same traits.

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod revocation;
mod revoked;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::claims::Claims;

pub use memory::{
    DEFAULT_MAX_REVOCATIONS, DEFAULT_ONE_TIME_IDS, DEFAULT_RETENTION, InMemoryOneTimeIds,
    InMemoryRevocations,
};
#[cfg(feature = "redis")]
pub use redis::{RedisConfigError, RedisOptions, RedisStore, StalePolicy};
pub use revocation::Revocation;
pub(crate) use revoked::RevokedSet;

/// What a shared store's operations return: a boxed future, so that the
/// traits can be used as `dyn` objects.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, SharedStateError>> + Send>>;

/// Why a shared store could not do what it was asked. Fixed descriptions
/// only: they reach logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SharedStateError {
    /// The store could not be reached or did not answer in time.
    Unavailable,
    /// The store holds as many entries as it may: nothing was recorded.
    Full,
    /// The entry is empty or longer than [`MAX_ID_BYTES`].
    InvalidEntry,
}

/// The longest id, `jti`, `client_id` or `sub` a store records.
pub const MAX_ID_BYTES: usize = 1024;

impl SharedStateError {
    /// A short, fixed description, safe for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SharedStateError::Unavailable => "the shared store is unavailable",
            SharedStateError::Full => "the shared store is full",
            SharedStateError::InvalidEntry => "the entry is empty or too long",
        }
    }
}

impl fmt::Display for SharedStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for SharedStateError {}

/// Ids that may be used once: a DPoP proof's `jti` (RFC 9449 §11.1).
///
/// An implementation records `id` for at least `ttl` and answers whether
/// this was its first use, atomically: of two verifiers that present the
/// same id at once, exactly one gets `true`. When it cannot tell, it answers
/// an error, and the proof is refused (a replay cannot be ruled out).
pub trait OneTimeIds: Send + Sync + fmt::Debug + 'static {
    /// Records `id` for `ttl`; `true` if it was not recorded already.
    fn first_use(&self, id: &str, ttl: Duration) -> StoreFuture<bool>;
}

/// Whether a token is revoked, as far as a [`RevocationList`] knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationStatus {
    /// Not revoked.
    Valid,
    /// Revoked: refused as `invalid_token`.
    Revoked,
    /// The list is not known to be current (its store has been unreachable
    /// for longer than its policy allows): refused with 503.
    Unknown,
}

/// Revoked tokens: by `jti`, by `origin_jti` (every token of one Cognito
/// sign-in, refreshed or not), and every token of a client or of a user
/// issued up to a time.
///
/// [`status`](Self::status) runs on every request, so it reads local state
/// only and never waits; [`revoke`](Self::revoke) records an entry (and, in
/// a shared store, tells the other replicas).
pub trait RevocationList: Send + Sync + fmt::Debug + 'static {
    /// Whether `claims` (of a verified token) are revoked, at `now` (Unix
    /// seconds).
    fn status(&self, claims: &Claims, now: u64) -> RevocationStatus;

    /// Records a revocation.
    fn revoke(&self, revocation: Revocation) -> StoreFuture<()>;

    /// Whether [`status`](Self::status) is answering from a list it may use
    /// (false while it answers `Unknown` for every token), for readiness
    /// probes and metrics. An in-process list always is.
    fn is_usable(&self) -> bool {
        true
    }
}
