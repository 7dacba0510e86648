//! `scopegate proxy`: the layer as a reverse proxy in front of an HTTP
//! upstream written in any language (feature `proxy`).
//!
//! Each `[[routes]]` entry of the configuration becomes the very same
//! [`ScopeGateLayer`](crate::ScopeGateLayer) an axum application would use,
//! wrapped around a forwarding service. A request that matches no route is
//! refused with 404 and never forwarded. Verified claims travel to the
//! upstream as configured headers, which a client can never set itself.
//!
//! ```no_run
//! use scopegate::proxy::{Proxy, ProxyConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ProxyConfig::from_file("scopegate.toml".as_ref())?;
//! let proxy = Proxy::bind(config).await?;
//! proxy.run(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```

mod config;
mod forward;
mod metrics;
mod routes;
mod service;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

pub use config::{ConfigFileError, LogFormat, ProxyConfig};

use forward::{Forward, ForwardOptions};
use metrics::Metrics;
use service::ProxyService;

/// A bound proxy, ready to [`run`](Proxy::run).
#[derive(Debug)]
pub struct Proxy {
    config: ProxyConfig,
    listener: TcpListener,
    admin: Option<TcpListener>,
    service: ProxyService,
    metrics: Arc<Metrics>,
}

/// Counts of what the proxy did, for tests and embedding.
#[derive(Clone, Debug)]
pub struct ProxyHandle {
    metrics: Arc<Metrics>,
}

impl ProxyHandle {
    /// How many requests were forwarded to the upstream (whatever it
    /// answered).
    pub fn forwarded(&self) -> u64 {
        self.metrics.outcome(metrics::Outcome::Forwarded)
    }
}

impl Proxy {
    /// Binds the listeners of `config`.
    pub async fn bind(config: ProxyConfig) -> io::Result<Proxy> {
        let named = |what: &'static str, addr: SocketAddr| {
            move |e: io::Error| {
                io::Error::new(e.kind(), format!("cannot listen on {addr} ({what}): {e}"))
            }
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(named("listen", config.listen))?;
        let admin = match config.admin_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(named("admin_listen", addr))?,
            ),
            None => None,
        };
        let metrics = Arc::new(Metrics::default());
        let forward = Forward::new(
            ForwardOptions {
                upstream: config.upstream.clone(),
                timeout: config.upstream_timeout,
                connect_timeout: config.connect_timeout,
                claim_headers: config.claim_headers.clone(),
                strip_authorization: config.strip_authorization,
                trust_x_forwarded_for: config.trust_x_forwarded_for,
            },
            Arc::clone(&metrics),
        )
        .ok_or_else(|| io::Error::other("the upstream URL has no host"))?;
        let service = ProxyService::new(&config.routes, forward, Arc::clone(&metrics));
        Ok(Proxy {
            config,
            listener,
            admin,
            service,
            metrics,
        })
    }

    /// Where clients connect.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where the admin endpoints are served, if anywhere.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|a| a.local_addr().ok())
    }

    /// A handle to the proxy's counters.
    pub fn handle(&self) -> ProxyHandle {
        ProxyHandle {
            metrics: Arc::clone(&self.metrics),
        }
    }

    /// Serves until `shutdown` completes, then stops accepting and lets
    /// requests in flight finish, for at most the configured
    /// `shutdown_timeout`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Proxy {
            config,
            listener,
            admin,
            service,
            metrics,
        } = self;
        let verifier = config.verifier.clone();
        if config.any_audience {
            tracing::warn!(
                "issuer: no client_ids or audiences configured: tokens of any client of the issuer are accepted (scopes still apply)"
            );
        }
        let prefetch = tokio::spawn(load_keys(verifier.clone()));
        let upstream_probe = tokio::spawn(probe_upstream(
            config.upstream.clone(),
            config.connect_timeout,
        ));
        let draining = Arc::new(AtomicBool::new(false));
        let admin_task = admin.map(|admin| {
            tokio::spawn(serve_admin(
                admin,
                verifier.clone(),
                Arc::clone(&metrics),
                Arc::clone(&draining),
            ))
        });
        tracing::info!(
            listen = %listener.local_addr().map_or_else(|_| "?".into(), |a| a.to_string()),
            upstream = %config.upstream,
            routes = config.routes.len(),
            "scopegate proxy started"
        );

        let graceful = GracefulShutdown::new();
        let mut connections = tokio::task::JoinSet::new();
        // At most this many connections at once; the others wait in the
        // listen backlog.
        let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
        tokio::pin!(shutdown);
        loop {
            while connections.try_join_next().is_some() {}
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => slot,
                () = &mut shutdown => break,
            };
            let Ok(slot) = slot else { break };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let service = TowerToHyperService::new(service.for_peer(peer));
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            connections.spawn(async move {
                let _ = connection.await;
                drop(slot);
            });
        }
        // Not ready any more, then no new connections.
        draining.store(true, Ordering::Relaxed);
        drop(listener);
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all requests finished"),
            () = tokio::time::sleep(config.shutdown_timeout) => {
                tracing::warn!(
                    connections = connections.len(),
                    "shutdown deadline passed; closing the remaining connections"
                );
            }
        }
        connections.abort_all();
        prefetch.abort();
        upstream_probe.abort();
        if let Some(task) = admin_task {
            task.abort();
        }
    }
}

/// How long a client may take to send a request's headers (and to start
/// the next request on a kept-alive connection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Loads the key set in the background until it succeeds, so that the proxy
/// becomes ready without waiting for a first request.
async fn load_keys(verifier: crate::Verifier) {
    let mut warned = false;
    loop {
        match verifier.load_keys().await {
            Ok(()) => {
                tracing::info!("key set loaded: ready");
                return;
            }
            Err(crate::VerifyError::KeySetUnavailable { retry_after }) => {
                if !warned {
                    tracing::warn!(
                        issuer = verifier.issuer(),
                        "issuer key set not loaded yet: not ready, answering 503 to protected routes until it loads"
                    );
                    warned = true;
                }
                tokio::time::sleep(retry_after.max(Duration::from_millis(200))).await;
            }
            Err(_) => return,
        }
    }
}

/// Says once, at start, whether the upstream accepts connections.
async fn probe_upstream(upstream: http::Uri, timeout: Duration) {
    let Some(authority) = upstream.authority() else {
        return;
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(_)) => tracing::info!(upstream = %authority, "upstream reachable"),
        Ok(Err(e)) => {
            tracing::warn!(upstream = %authority, error = %e, "upstream unreachable: answering 502 until it is up")
        }
        Err(_) => {
            tracing::warn!(upstream = %authority, "upstream did not accept a connection in time: answering 502 until it is up")
        }
    }
}

/// `/healthz`, `/readyz`, `/metrics`.
async fn serve_admin(
    listener: TcpListener,
    verifier: crate::Verifier,
    metrics: Arc<Metrics>,
    draining: Arc<AtomicBool>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (verifier, metrics) = (verifier.clone(), Arc::clone(&metrics));
        let draining = Arc::clone(&draining);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let draining = draining.load(Ordering::Relaxed);
            let response = admin_response(request.uri().path(), &verifier, &metrics, draining);
            async move { Ok::<_, Infallible>(response) }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn admin_response(
    path: &str,
    verifier: &crate::Verifier,
    metrics: &Metrics,
    draining: bool,
) -> Response<Full<Bytes>> {
    let ready = verifier.has_keys();
    let (status, content_type, body) = match path {
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        "/readyz" if draining => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "shutting down\n".to_string(),
        ),
        "/readyz" if ready => (StatusCode::OK, "text/plain", "ready\n".to_string()),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "key set not loaded\n".to_string(),
        ),
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(verifier, ready),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}
