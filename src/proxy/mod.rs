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

mod admin;
mod config;
mod connections;
mod forward;
mod limits;
mod metrics;
mod routes;
mod service;
mod spoofable;
mod startup;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{ConfigFileError, LogFormat, ProxyConfig};

use connections::Connections;
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
        let metrics = Arc::new(Metrics::new(&config.verifier));
        let forward = Forward::new(
            ForwardOptions {
                upstream: config.upstream.clone(),
                protocol: config.upstream_protocol,
                timeout: config.upstream_timeout,
                connect_timeout: config.connect_timeout,
                claim_headers: config.claim_headers.clone(),
                strip_authorization: config.strip_authorization,
                trust_x_forwarded_for: config.trust_x_forwarded_for,
                untrusted: spoofable::Untrusted::new(
                    config.trust_x_forwarded_for,
                    &config.trusted_headers,
                ),
                token_cookie: config.verifier.token_cookie().cloned(),
            },
            Arc::clone(&metrics),
        )
        .ok_or_else(|| io::Error::other("the upstream URL has no host"))?;
        let service = ProxyService::new(
            &config.routes,
            forward,
            Arc::clone(&metrics),
            config.verifier.resource_metadata().cloned(),
        );
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
        let draining = Arc::new(AtomicBool::new(false));
        let background = Background::start(&config, admin, metrics, Arc::clone(&draining));
        tracing::info!(
            listen = %listener.local_addr().map_or_else(|_| "?".into(), |a| a.to_string()),
            upstream = %config.upstream,
            routes = config.routes.len(),
            "scopegate proxy started"
        );
        let mut connections = Connections::new(config.max_connections);
        connections
            .accept_until(&listener, &service, shutdown)
            .await;
        // Not ready any more, then no new connections.
        draining.store(true, Ordering::Relaxed);
        drop(listener);
        connections.drain(config.shutdown_timeout).await;
        background.abort();
    }
}

/// The tasks that run beside the accept loop, aborted when it ends.
struct Background {
    prefetch: JoinHandle<()>,
    upstream_probe: JoinHandle<()>,
    admin: Option<JoinHandle<()>>,
}

impl Background {
    fn start(
        config: &ProxyConfig,
        admin: Option<TcpListener>,
        metrics: Arc<Metrics>,
        draining: Arc<AtomicBool>,
    ) -> Background {
        let verifier = config.verifier.clone();
        if config.any_audience {
            tracing::warn!(
                "issuer: no client_ids or audiences configured: tokens of any client of the issuer are accepted (scopes still apply)"
            );
        }
        let prefetch = tokio::spawn(startup::load_keys(verifier.clone()));
        let upstream_probe = tokio::spawn(startup::probe_upstream(
            config.upstream.clone(),
            config.connect_timeout,
        ));
        let admin =
            admin.map(|admin| tokio::spawn(admin::serve_admin(admin, verifier, metrics, draining)));
        Background {
            prefetch,
            upstream_probe,
            admin,
        }
    }

    fn abort(self) {
        self.prefetch.abort();
        self.upstream_probe.abort();
        if let Some(task) = self.admin {
            task.abort();
        }
    }
}
