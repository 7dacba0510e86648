//! Limits that both listeners (clients and admin) apply, and the client
//! listener's HTTP/2 limits.

use std::time::Duration;

/// How long a client may take to send a request's headers (and to start
/// the next request on a kept-alive connection).
pub(super) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP/2 streams a client may have open at once on one connection
/// (nginx's `http2_max_concurrent_streams` is 128; hyper's default 200).
pub(super) const H2_MAX_CONCURRENT_STREAMS: u32 = 128;

/// The largest header list (HPACK-decoded, RFC 9113 §6.5.2) a client may
/// send: 16 KiB, as hyper's and nginx's defaults. It also bounds how many
/// CONTINUATION frames one header block may take (the h2 crate counts
/// them against it), which answers the CONTINUATION flood (2024).
pub(super) const H2_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

/// Streams a client may reset before the server has accepted them before
/// the connection is closed with `ENHANCE_YOUR_CALM`: the rapid-reset
/// attack (CVE-2023-44487). The h2 crate's default, written down.
pub(super) const H2_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;

/// Streams the server may reset for a client's protocol errors before it
/// closes the connection (the h2 crate's answer to the "MadeYouReset"
/// variant of rapid reset).
pub(super) const H2_MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

/// How often an idle HTTP/2 connection is pinged, and how long the answer
/// may take before the connection is closed.
pub(super) const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub(super) const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);
