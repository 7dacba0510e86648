//! The connections to the upstream, plain TCP or TLS: a pool for requests
//! (HTTP/1.1, h2c or h2, as configured), and a fresh HTTP/1.1 connection
//! for each WebSocket upgrade (an upgraded connection never goes back to a
//! pool).

use std::time::Duration;

use http::{Request, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::body::{BoxError, WatchedBody};
use super::config::UpstreamProtocol;

/// A connection made for an upgrade.
pub(crate) type UpgradeStream = MaybeHttpsStream<TokioIo<TcpStream>>;

/// The upstream: where it is, and its connections.
pub(crate) struct UpstreamClient {
    /// Its scheme and authority.
    target: Uri,
    connections: Connections,
}

enum Connections {
    Plain {
        pool: Client<HttpConnector, WatchedBody>,
        connector: HttpConnector,
    },
    Tls {
        pool: Client<HttpsConnector<HttpConnector>, WatchedBody>,
        /// ALPN `http/1.1` only, whatever the pool speaks.
        http1: HttpsConnector<HttpConnector>,
    },
}

impl UpstreamClient {
    /// Connections as configured: TLS when `tls` is given (an `https`
    /// upstream).
    pub(crate) fn new(
        target: Uri,
        protocol: UpstreamProtocol,
        connect_timeout: Duration,
        tls: Option<rustls::ClientConfig>,
    ) -> UpstreamClient {
        UpstreamClient {
            target,
            connections: Connections::new(protocol, connect_timeout, tls),
        }
    }

    /// Sends a request on a pooled connection.
    pub(crate) fn request(&self, request: Request<WatchedBody>) -> ResponseFuture {
        match &self.connections {
            Connections::Plain { pool, .. } => pool.request(request),
            Connections::Tls { pool, .. } => pool.request(request),
        }
    }

    /// A new HTTP/1.1 connection for an upgrade, within the connect timeout.
    pub(crate) async fn connect(&self) -> Result<UpgradeStream, BoxError> {
        let uri = self.target.clone();
        match &self.connections {
            Connections::Plain { connector, .. } => Ok(MaybeHttpsStream::Http(
                oneshot(connector.clone(), uri).await?,
            )),
            Connections::Tls { http1, .. } => oneshot(http1.clone(), uri).await,
        }
    }
}

impl Connections {
    fn new(
        protocol: UpstreamProtocol,
        connect_timeout: Duration,
        tls: Option<rustls::ClientConfig>,
    ) -> Connections {
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        let mut pool = Client::builder(TokioExecutor::new());
        pool.http2_only(protocol.is_http2());
        let Some(tls) = tls else {
            return Connections::Plain {
                pool: pool.build(tcp.clone()),
                connector: tcp,
            };
        };
        tcp.enforce_http(false);
        let https = || {
            HttpsConnectorBuilder::new()
                .with_tls_config(tls.clone())
                .https_only()
        };
        let pooled = match protocol {
            UpstreamProtocol::Http1 => https().enable_http1().wrap_connector(tcp.clone()),
            _ => https().enable_http2().wrap_connector(tcp.clone()),
        };
        Connections::Tls {
            pool: pool.build(pooled),
            http1: https().enable_http1().wrap_connector(tcp),
        }
    }
}

/// Waits until `service` is ready, then calls it once.
async fn oneshot<S: tower_service::Service<Uri>>(
    mut service: S,
    uri: Uri,
) -> Result<S::Response, S::Error> {
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(uri).await
}
