//! Locking helpers.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, using a poisoned lock as it is.
///
/// Callers must only hold these locks for writes that cannot be left half
/// done by a panic (a single field store, or a copy that replaces the value
/// once complete), so a poisoned lock still guards consistent data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
