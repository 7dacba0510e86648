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
mod body;
mod client;
mod config;
mod connections;
mod forward;
mod header_list;
mod limits;
mod live;
mod metrics;
mod revocations;
mod routes;
mod service;
mod spoofable;
mod startup;
mod tls;
mod upstream;
mod websocket;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{ConfigFileError, LogFormat, ProxyConfig};

use connections::Connections;
use live::Live;
use metrics::Metrics;

/// A bound proxy, ready to [`run`](Proxy::run).
#[derive(Debug)]
pub struct Proxy {
    config: ProxyConfig,
    listener: TcpListener,
    admin: Option<TcpListener>,
    live: Arc<Live>,
    metrics: Arc<Metrics>,
}

/// A handle to a running proxy: its counters, and reloads.
#[derive(Clone, Debug)]
pub struct ProxyHandle {
    metrics: Arc<Metrics>,
    live: Arc<Live>,
}

impl ProxyHandle {
    /// How many requests were forwarded to the upstream (whatever it
    /// answered).
    pub fn forwarded(&self) -> u64 {
        self.metrics.outcome(metrics::Outcome::Forwarded)
    }

    /// Reads the configuration file at `path` again (what `scopegate proxy`
    /// does on SIGHUP). A valid one replaces the routes, issuers and
    /// forwarding rules for the requests that arrive next; requests in
    /// flight and open connections are not touched, and the key-set caches
    /// of issuers whose keys come from the same place are kept. An invalid
    /// one is logged as one line and changes nothing. The `[tls]`
    /// certificate is read again, for the handshakes that follow.
    /// Listeners, `max_connections`, `log_format`, `shutdown_timeout` and
    /// whether `[tls]` is on change only on a restart. Counted in `scopegate_config_reloads_total{result}`.
    ///
    /// It reads and checks the file on the calling thread: from async code,
    /// call it in `tokio::task::spawn_blocking`, as `scopegate proxy` does.
    pub fn reload(&self, path: &Path) -> Result<(), ConfigFileError> {
        self.live.reload(path)
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
        let live = Arc::new(Live::new(&config, Arc::clone(&metrics))?);
        Ok(Proxy {
            config,
            listener,
            admin,
            live,
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
            live: Arc::clone(&self.live),
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
            live,
            metrics,
        } = self;
        let draining = Arc::new(AtomicBool::new(false));
        let background = Background::start(&config, admin, &live, metrics, Arc::clone(&draining));
        tracing::info!(
            listen = %listener.local_addr().map_or_else(|_| "?".into(), |a| a.to_string()),
            upstream = %config.upstream,
            routes = config.routes.len(),
            "scopegate proxy started"
        );
        let mut connections = Connections::new(config.max_connections, live.tls_acceptor());
        connections
            .accept_until(&listener, &live.service(), shutdown)
            .await;
        // Not ready any more, then no new connections.
        draining.store(true, Ordering::Relaxed);
        drop(listener);
        connections.drain(config.shutdown_timeout).await;
        background.abort();
        live.stop();
    }
}

/// The tasks that run beside the accept loop, aborted when it ends.
struct Background {
    upstream_probe: JoinHandle<()>,
    admin: Option<JoinHandle<()>>,
}

impl Background {
    fn start(
        config: &ProxyConfig,
        admin: Option<TcpListener>,
        live: &Arc<Live>,
        metrics: Arc<Metrics>,
        draining: Arc<AtomicBool>,
    ) -> Background {
        startup::warn_if_any_audience(config);
        live.load_keys();
        let upstream_probe = tokio::spawn(startup::probe_upstream(
            config.upstream.clone(),
            config.connect_timeout,
        ));
        let admin = admin.map(|admin| {
            let live = Arc::clone(live);
            tokio::spawn(admin::serve_admin(admin, live, metrics, draining))
        });
        Background {
            upstream_probe,
            admin,
        }
    }

    fn abort(self) {
        self.upstream_probe.abort();
        if let Some(task) = self.admin {
            task.abort();
        }
    }
}
