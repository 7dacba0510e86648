//! The configuration in use, and its replacement by a reload (SIGHUP).
//!
//! A reload swaps the routes, issuers and forwarding rules at once, for the
//! requests that arrive after it; requests in flight finish with what they
//! started with, and open connections stay open. The key-set caches of
//! issuers whose keys come from the same place are kept. What is bound at
//! start (listeners, `max_connections`, logging, `shutdown_timeout`) needs a
//! restart: a reload that changes it says so and changes the rest. The
//! listener's certificate is read again too: new TLS handshakes get the new
//! one.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::task::JoinHandle;

use super::config::{ConfigFileError, LogFormat, ProxyConfig};
use super::forward::{Forward, ForwardOptions};
use super::metrics::Metrics;
use super::service::{ProxyService, Routing};
use super::tls::{self, CertificateSlot};
use super::{spoofable, startup};
use crate::Verifier;
use tokio_rustls::TlsAcceptor;

/// The configuration in use.
pub(crate) struct Live {
    routing: Arc<ArcSwap<Routing>>,
    verifier: ArcSwap<Verifier>,
    metrics: Arc<Metrics>,
    fixed: Fixed,
    /// Loads the key sets of the verifier in use; replaced with it.
    key_loading: Mutex<Option<JoinHandle<()>>>,
    /// The look at the upstream after a reload; replaced by the next.
    probe: Mutex<Option<JoinHandle<()>>>,
    /// Where those run: the proxy's runtime, whatever thread reloads.
    runtime: tokio::runtime::Handle,
    /// Held by a reload, so that two at once cannot mix their parts.
    reloading: Mutex<()>,
    /// The listener's certificate (`[tls]`), replaced by a reload, and the
    /// TLS configuration that serves it.
    tls: Option<(Arc<CertificateSlot>, TlsAcceptor)>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("fixed", &self.fixed)
            .finish_non_exhaustive()
    }
}

/// The settings bound at start, which a reload cannot change.
#[derive(Debug)]
struct Fixed {
    listen: std::net::SocketAddr,
    admin_listen: Option<std::net::SocketAddr>,
    max_connections: usize,
    log_format: LogFormat,
    shutdown_timeout: Duration,
    tls: bool,
}

impl Fixed {
    fn of(config: &ProxyConfig) -> Fixed {
        Fixed {
            listen: config.listen,
            admin_listen: config.admin_listen,
            max_connections: config.max_connections,
            log_format: config.log_format,
            shutdown_timeout: config.shutdown_timeout,
            tls: config.tls.is_some(),
        }
    }

    /// The keys whose new values wait for a restart.
    fn changed(&self, new: &Fixed) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.listen != new.listen {
            keys.push("listen");
        }
        if self.admin_listen != new.admin_listen {
            keys.push("admin_listen");
        }
        if self.max_connections != new.max_connections {
            keys.push("max_connections");
        }
        if self.log_format != new.log_format {
            keys.push("log_format");
        }
        if self.shutdown_timeout != new.shutdown_timeout {
            keys.push("shutdown_timeout");
        }
        if self.tls != new.tls {
            keys.push("tls");
        }
        keys
    }
}

impl Live {
    pub(crate) fn new(config: &ProxyConfig, metrics: Arc<Metrics>) -> io::Result<Live> {
        let routing = routing(config, &metrics, config.tls.is_some())
            .ok_or_else(|| io::Error::other("the upstream URL has no host"))?;
        let tls = match &config.tls {
            Some(certificate) => {
                let slot = Arc::new(CertificateSlot::new(certificate));
                let acceptor = tls::acceptor(Arc::clone(&slot)).map_err(io::Error::other)?;
                Some((slot, acceptor))
            }
            None => None,
        };
        Ok(Live {
            routing: Arc::new(ArcSwap::from_pointee(routing)),
            verifier: ArcSwap::from_pointee(config.verifier.clone()),
            metrics,
            fixed: Fixed::of(config),
            key_loading: Mutex::new(None),
            probe: Mutex::new(None),
            runtime: tokio::runtime::Handle::current(),
            reloading: Mutex::new(()),
            tls,
        })
    }

    /// The TLS configuration of the client listener, if `[tls]` is given.
    pub(crate) fn tls_acceptor(&self) -> Option<TlsAcceptor> {
        self.tls.as_ref().map(|(_, acceptor)| acceptor.clone())
    }

    /// A request handler that follows reloads.
    pub(crate) fn service(&self) -> ProxyService {
        ProxyService::new(Arc::clone(&self.routing), Arc::clone(&self.metrics))
    }

    /// The verifier in use.
    pub(crate) fn verifier(&self) -> Arc<Verifier> {
        self.verifier.load_full()
    }

    /// Loads the key sets of the verifier in use in the background, so that
    /// the proxy is ready without waiting for a first request.
    pub(crate) fn load_keys(&self) {
        let verifier = Verifier::clone(&self.verifier.load());
        let task = self.runtime.spawn(startup::load_keys(verifier));
        replace_task(&self.key_loading, Some(task));
    }

    /// Stops the background tasks (at shutdown).
    pub(crate) fn stop(&self) {
        replace_task(&self.key_loading, None);
        replace_task(&self.probe, None);
    }

    /// Reads `path` again and, if it is valid, serves the next requests with
    /// it. If not, says why in one line and keeps the configuration in use.
    pub(crate) fn reload(&self, path: &Path) -> Result<(), ConfigFileError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = ProxyConfig::reread(path, &self.verifier.load()).and_then(|config| {
            // `X-Forwarded-Proto` follows the listener that runs, which a
            // reload does not change.
            let routing = routing(&config, &self.metrics, self.fixed.tls).ok_or_else(|| {
                ConfigFileError::unlocated(
                    &path.display().to_string(),
                    Some("upstream"),
                    "has no host",
                )
            })?;
            self.replace(config, routing);
            Ok(())
        });
        self.metrics.count_reload(result.is_ok());
        if let Err(e) = &result {
            tracing::error!("{e} (not reloaded: the previous configuration keeps serving)");
        }
        result
    }

    fn replace(&self, config: ProxyConfig, routing: Routing) {
        // Readiness and metrics follow the new verifier from the moment the
        // first request is routed with it.
        self.verifier.store(Arc::new(config.verifier.clone()));
        self.metrics.expose(&config.verifier);
        self.routing.store(Arc::new(routing));
        if let (Some((slot, _)), Some(certificate)) = (&self.tls, &config.tls) {
            slot.replace(certificate);
        }
        self.load_keys();
        let probe = startup::probe_upstream(config.upstream.clone(), config.connect_timeout);
        replace_task(&self.probe, Some(self.runtime.spawn(probe)));
        startup::warn_if_any_audience(&config);
        let restart = self.fixed.changed(&Fixed::of(&config));
        if !restart.is_empty() {
            tracing::warn!(
                keys = restart.join(", "),
                "changed settings that take effect only after a restart"
            );
        }
        tracing::info!(
            routes = config.routes.len(),
            issuers = config.verifier.issuers().len(),
            "configuration reloaded"
        );
    }
}

/// Puts `task` in `slot`, stopping the one it replaces.
fn replace_task(slot: &Mutex<Option<JoinHandle<()>>>, task: Option<JoinHandle<()>>) {
    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(previous) = std::mem::replace(&mut *slot, task) {
        previous.abort();
    }
}

/// The routing a configuration describes, behind a TLS listener or not;
/// `None` if its upstream has no host.
fn routing(config: &ProxyConfig, metrics: &Arc<Metrics>, client_tls: bool) -> Option<Routing> {
    let forward = Forward::new(
        ForwardOptions {
            upstream: config.upstream.clone(),
            protocol: config.upstream_protocol,
            timeout: config.upstream_timeout,
            connect_timeout: config.connect_timeout,
            upstream_tls: config.upstream_tls.clone(),
            client_tls,
            websocket_idle_timeout: config.websocket_idle_timeout,
            claim_headers: config.claim_headers.clone(),
            strip_authorization: config.strip_authorization,
            trust_x_forwarded_for: config.trust_x_forwarded_for,
            untrusted: spoofable::Untrusted::new(
                config.trust_x_forwarded_for,
                &config.trusted_headers,
            ),
            token_cookie: config.verifier.token_cookie().cloned(),
        },
        Arc::clone(metrics),
    )?;
    Some(Routing::new(
        &config.routes,
        forward,
        config.verifier.resource_metadata().cloned(),
    ))
}
