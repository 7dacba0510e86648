//! The wall clock, read in one place.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time since the Unix epoch (zero if the clock is set before it).
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

/// The current time in whole seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    since_epoch().as_secs()
}
