//! The client connections: accepted up to `max_connections`, each served
//! as HTTP/1.1 or HTTP/2 with the limits of [`limits`](super::limits), and
//! drained on shutdown.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::client::ClientConnection;
use super::limits::{
    H2_KEEP_ALIVE_INTERVAL, H2_KEEP_ALIVE_TIMEOUT, H2_MAX_CONCURRENT_STREAMS,
    H2_MAX_HEADER_LIST_SIZE, H2_MAX_LOCAL_ERROR_RESET_STREAMS, H2_MAX_PENDING_ACCEPT_RESET_STREAMS,
    HEADER_READ_TIMEOUT,
};
use super::service::ProxyService;
use tokio_rustls::TlsAcceptor;

/// HTTP/1.1 with the header read timeout; HTTP/2 with bounded streams,
/// header lists and resets, and keep-alive pings.
fn builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
        .max_header_list_size(H2_MAX_HEADER_LIST_SIZE)
        .max_pending_accept_reset_streams(H2_MAX_PENDING_ACCEPT_RESET_STREAMS)
        .max_local_error_reset_streams(H2_MAX_LOCAL_ERROR_RESET_STREAMS)
        .keep_alive_interval(H2_KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT);
    builder
}

/// The client connections: at most `max_connections` at once (the others
/// wait in the listen backlog), each watched for a graceful shutdown.
pub(super) struct Connections {
    graceful: GracefulShutdown,
    tasks: JoinSet<()>,
    slots: Arc<Semaphore>,
    builder: Arc<Builder<TokioExecutor>>,
    /// Set when the drain ends: WebSocket sessions close then.
    closing: watch::Sender<bool>,
    /// `[tls]`: the handshake before HTTP.
    tls: Option<TlsAcceptor>,
}

impl Connections {
    pub(super) fn new(max_connections: usize, tls: Option<TlsAcceptor>) -> Connections {
        Connections {
            graceful: GracefulShutdown::new(),
            tasks: JoinSet::new(),
            slots: Arc::new(Semaphore::new(max_connections)),
            builder: Arc::new(builder()),
            closing: watch::Sender::new(false),
            tls,
        }
    }

    /// Accepts and serves connections until `shutdown` completes.
    pub(super) async fn accept_until(
        &mut self,
        listener: &TcpListener,
        service: &ProxyService,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            while self.tasks.try_join_next().is_some() {}
            let slot = tokio::select! {
                slot = Arc::clone(&self.slots).acquire_owned() => slot,
                () = &mut shutdown => break,
            };
            let Ok(slot) = slot else { break };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let closing = self.closing.subscribe();
                    let connection = Arc::new(ClientConnection::new(slot, closing));
                    self.serve(stream, service.for_connection(peer, connection));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Serves one connection, HTTP/1.1 or HTTP/2, as its first bytes say
    /// (after the TLS handshake with `[tls]`, whose ALPN offers `h2` and
    /// `http/1.1`); its slot is freed when it closes and no WebSocket
    /// session it started is left. A client that sends nothing, or does not
    /// finish the handshake, within the header read timeout is dropped.
    fn serve(&mut self, stream: TcpStream, service: ProxyService) {
        let builder = Arc::clone(&self.builder);
        let graceful = self.graceful.watcher();
        let tls = self.tls.clone();
        self.tasks.spawn(async move {
            let first = tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut [0u8; 1])).await;
            if !matches!(first, Ok(Ok(1..))) {
                return;
            }
            let service = TowerToHyperService::new(service);
            let Some(tls) = tls else {
                let connection =
                    builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let _ = graceful.watch(connection.into_owned()).await;
                return;
            };
            let peer = stream.peer_addr().ok();
            match tokio::time::timeout(HEADER_READ_TIMEOUT, tls.accept(stream).into_fallible())
                .await
            {
                Ok(Ok(stream)) => {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = graceful.watch(connection.into_owned()).await;
                }
                // A scanner or a client that does not trust the certificate:
                // nothing to act on, so one line at debug.
                // The connection is closed after the line is written.
                Ok(Err((error, stream))) => {
                    tracing::debug!(?peer, error = %error, "TLS handshake failed");
                    drop(stream);
                }
                Err(_) => tracing::debug!(?peer, "TLS handshake timed out"),
            }
        });
    }

    /// Lets requests in flight finish, for at most `deadline`, then closes
    /// what is left, WebSocket sessions included.
    pub(super) async fn drain(mut self, deadline: Duration) {
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        tokio::select! {
            () = self.graceful.shutdown() => tracing::info!("all requests finished"),
            () = tokio::time::sleep(deadline) => {
                tracing::warn!(
                    connections = self.tasks.len(),
                    "shutdown deadline passed; closing the remaining connections"
                );
            }
        }
        self.tasks.abort_all();
        self.closing.send_replace(true);
    }
}
