//! WebSocket (RFC 6455) through the proxy: the upgrade request is verified
//! like any other, sent to the upstream on a connection of its own, and,
//! when the upstream answers `101 Switching Protocols`, both upgraded
//! connections are relayed byte for byte until one side closes, nothing
//! moves for `websocket_idle_timeout`, the token's `exp` passes, or the
//! proxy shuts down.
//!
//! The relay never parses frames and never buffers more than one
//! [`RELAY_BUFFER`] per direction: a client that stops reading stalls the
//! upstream (TCP flow control), and the session is closed once a side has
//! not taken what it is sent for the idle timeout, even while the other
//! direction still moves.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, Version};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::client::ClientConnection;
use super::header_list::lists_token;
use super::metrics::{Metrics, SessionEnd};
use super::upstream::UpgradeStream;

/// Bytes read from one side and not yet written to the other, at most, per
/// direction.
pub(crate) const RELAY_BUFFER: usize = 16 * 1024;

/// Whether a request asks for a WebSocket upgrade (RFC 6455 §4.1): an
/// HTTP/1.1 `GET` whose `Connection` names `upgrade` and whose `Upgrade`
/// names `websocket`. Any other upgrade is not relayed: its `Upgrade` and
/// `Connection` are removed like every hop-by-hop header.
pub(crate) fn is_websocket_upgrade<B>(request: &Request<B>) -> bool {
    request.version() == Version::HTTP_11
        && request.method() == http::Method::GET
        && lists_token(request.headers(), header::CONNECTION, "upgrade")
        && lists_token(request.headers(), header::UPGRADE, "websocket")
}

/// An upgrade request on its way: put in the request's extensions by the
/// dispatcher once the route allows it.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) connection: Arc<ClientConnection>,
}

/// The limits of one session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionLimits {
    pub(crate) idle_timeout: Duration,
    /// The token's `exp`; none on a public route.
    pub(crate) expires_at: Option<SystemTime>,
}

/// Opens a connection of its own to the upstream (an upgraded connection
/// can never go back to a pool) and sends the upgrade request on it.
pub(crate) async fn send_upgrade<B>(
    stream: UpgradeStream,
    request: Request<B>,
) -> Result<Response<hyper::body::Incoming>, hyper::Error>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(error = %error, "upstream WebSocket connection ended");
        }
    });
    sender.send_request(request).await
}

/// Puts back the headers that make a request or a 101 a WebSocket upgrade,
/// which the hop-by-hop rule removed: exactly `Upgrade: websocket`, never
/// the client's list (which could name another protocol, such as `h2c`,
/// first).
pub(crate) fn set_upgrade_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
}

/// Whether the upstream's 101 switched to WebSocket, and nothing else: a
/// relay to any other protocol would carry requests the proxy never saw.
pub(crate) fn switched_to_websocket(headers: &HeaderMap) -> bool {
    let values: Vec<&HeaderValue> = headers.get_all(header::UPGRADE).iter().collect();
    matches!(values.as_slice(), [only] if only.to_str().is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket")))
        && headers.contains_key("sec-websocket-accept")
}

/// Once both sides have switched protocols, relays them in the background.
pub(crate) fn spawn_relay(
    client: OnUpgrade,
    upstream: OnUpgrade,
    limits: SessionLimits,
    session: Session,
    metrics: Arc<Metrics>,
) {
    tokio::spawn(async move {
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(both) => both,
            Err(error) => {
                tracing::debug!(error = %error, "WebSocket upgrade did not complete");
                return;
            }
        };
        metrics.websocket_opened();
        let started = Instant::now();
        let (end, bytes) = relay(client, upstream, limits, &session).await;
        metrics.websocket_ended(end);
        tracing::info!(
            end = end.label(),
            to_upstream = bytes.to_upstream.load(Ordering::Relaxed),
            to_client = bytes.to_client.load(Ordering::Relaxed),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "WebSocket session ended"
        );
        // The client's slot among `max_connections` is freed only now.
        drop(session);
    });
}

/// Bytes delivered each way, when anything last was, and since when a
/// side has not taken what it was sent.
#[derive(Debug)]
struct Activity {
    epoch: Instant,
    /// Milliseconds after `epoch` of the last write that delivered bytes.
    last_ms: AtomicU64,
    to_upstream: AtomicU64,
    to_client: AtomicU64,
    /// One plus the milliseconds after `epoch` since which a write to the
    /// upstream (or the client) has been waiting; 0 while none waits.
    upstream_stalled: AtomicU64,
    client_stalled: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            epoch: Instant::now(),
            last_ms: AtomicU64::new(0),
            to_upstream: AtomicU64::new(0),
            to_client: AtomicU64::new(0),
            upstream_stalled: AtomicU64::new(0),
            client_stalled: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    /// A write that delivered `bytes`.
    fn delivered(&self, counter: &AtomicU64, stalled: &AtomicU64, bytes: usize) {
        counter.fetch_add(bytes as u64, Ordering::Relaxed);
        stalled.store(0, Ordering::Relaxed);
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A write that has to wait: the side is not reading.
    fn waiting(&self, stalled: &AtomicU64) {
        if stalled.load(Ordering::Relaxed) == 0 {
            stalled.store(self.now_ms() + 1, Ordering::Relaxed);
        }
    }

    /// When the session is idle: `idle` after the last delivery either
    /// way, or `idle` after a side stopped taking what it is sent (a client
    /// that writes but never reads keeps the other direction busy, not the
    /// session alive).
    fn idle_at(&self, idle: Duration) -> Instant {
        let mut at = self.at(self.last_ms.load(Ordering::Relaxed)) + idle;
        for stalled in [&self.upstream_stalled, &self.client_stalled] {
            let since = stalled.load(Ordering::Relaxed);
            if since != 0 {
                at = at.min(self.at(since - 1) + idle);
            }
        }
        at
    }

    /// Completes once the session is idle; looks again at least every
    /// quarter of `idle`, so that a stall that starts meanwhile counts.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let at = self.idle_at(idle);
            let now = Instant::now();
            if now >= at {
                return;
            }
            tokio::time::sleep_until(at.min(now + idle / 4)).await;
        }
    }
}

/// One side of the relay; counts what is written to it.
struct Side {
    io: TokioIo<Upgraded>,
    activity: Arc<Activity>,
    /// Whether this is the upstream (writes to it go upstream).
    upstream: bool,
}

impl AsyncRead for Side {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Side {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        let activity = &self.activity;
        let (counter, stalled) = if self.upstream {
            (&activity.to_upstream, &activity.upstream_stalled)
        } else {
            (&activity.to_client, &activity.client_stalled)
        };
        match written {
            Poll::Ready(Ok(n)) if n > 0 => activity.delivered(counter, stalled, n),
            Poll::Pending => activity.waiting(stalled),
            _ => {}
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Relays until one of the ends of [`SessionEnd`]; both connections are
/// closed when it returns.
async fn relay(
    client: Upgraded,
    upstream: Upgraded,
    limits: SessionLimits,
    session: &Session,
) -> (SessionEnd, Arc<Activity>) {
    let activity = Arc::new(Activity::new());
    let side = |io, upstream| Side {
        io: TokioIo::new(io),
        activity: Arc::clone(&activity),
        upstream,
    };
    let (mut client, mut upstream) = (side(client, false), side(upstream, true));
    let copy = tokio::io::copy_bidirectional_with_sizes(
        &mut client,
        &mut upstream,
        RELAY_BUFFER,
        RELAY_BUFFER,
    );
    let expiry = async {
        match limits.expires_at {
            Some(exp) => {
                let left = exp
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                tokio::time::sleep(left).await;
            }
            None => std::future::pending().await,
        }
    };
    let mut closing = session.connection.closing();
    let end = tokio::select! {
        copied = copy => match copied {
            Ok(_) => SessionEnd::Closed,
            Err(_) => SessionEnd::Error,
        },
        () = activity.idle_for(limits.idle_timeout) => SessionEnd::Idle,
        () = expiry => SessionEnd::Expired,
        _ = closing.wait_for(|closing| *closing) => SessionEnd::Shutdown,
    };
    (end, activity)
}
