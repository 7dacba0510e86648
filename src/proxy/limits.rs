//! Limits that both listeners (clients and admin) apply.

use std::time::Duration;

/// How long a client may take to send a request's headers (and to start
/// the next request on a kept-alive connection).
pub(super) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
