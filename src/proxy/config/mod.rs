//! The proxy's TOML configuration, checked whole before anything starts.
//! Every mistake is reported as one line: `file:line: key: what is wrong`.
//!
//! The file is read into the serde types of [`schema`], then checked in
//! steps, one file each: single [`values`] (addresses, durations, limits),
//! the [`issuer`] table and the [`servers`] it knows, the [`routes`] and the
//! forwarded [`claims`]. [`locate`] turns a span into `file:line: key`.

mod claims;
mod dpop;
mod issuer;
mod locate;
mod routes;
mod schema;
mod servers;
mod shared;
mod tls;
mod values;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use http::Uri;
use http::header::HeaderName;
use toml::Spanned;

pub use locate::ConfigFileError;
pub(crate) use routes::{Access, Route};
pub use values::LogFormat;
pub(crate) use values::UpstreamProtocol;

use crate::cookie::TokenCookie;
use crate::proxy::tls::ServerCertificate;
use crate::{ProtectedResource, TrustedIssuer, Verifier, VerifierBuilder};
use locate::Source;
use schema::{RawConfig, RawResourceMetadata};
use values::timeout;

/// A checked proxy configuration.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// Where `/healthz`, `/readyz` and `/metrics` are served, if anywhere.
    pub admin_listen: Option<SocketAddr>,
    /// How long to wait for the upstream's response headers before 504.
    pub upstream_timeout: Duration,
    /// How long to wait for a connection to the upstream before 502.
    pub connect_timeout: Duration,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// How to log.
    pub log_format: LogFormat,
    /// Connections served at once; more wait to be accepted. A WebSocket
    /// session holds its client connection's place while it lasts.
    pub max_connections: usize,
    /// How long a WebSocket session may deliver nothing either way before
    /// the proxy closes it.
    pub websocket_idle_timeout: Duration,
    pub(crate) upstream: Uri,
    pub(crate) upstream_protocol: UpstreamProtocol,
    pub(crate) verifier: Verifier,
    pub(crate) routes: Vec<Route>,
    pub(crate) claim_headers: Vec<(String, HeaderName)>,
    pub(crate) strip_authorization: bool,
    pub(crate) trust_x_forwarded_for: bool,
    /// The client listener's certificate (`[tls]`); none: plain TCP.
    pub(crate) tls: Option<ServerCertificate>,
    /// How to speak TLS to an `https` upstream; none for `http`.
    pub(crate) upstream_tls: Option<rustls::ClientConfig>,
    /// Listed headers a client may set after all (`[forward] trusted_headers`).
    pub(crate) trusted_headers: Vec<HeaderName>,
    pub(crate) any_audience: bool,
}

impl ProxyConfig {
    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> Result<ProxyConfig, ConfigFileError> {
        ProxyConfig::read(path, None)
    }

    /// Checks a configuration given as TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<ProxyConfig, ConfigFileError> {
        ProxyConfig::parse(text, file, None)
    }

    /// Reads a configuration file again (a reload), keeping the key-set
    /// caches of `previous` for every issuer whose keys come from the same
    /// place the same way.
    pub(crate) fn reread(path: &Path, previous: &Verifier) -> Result<ProxyConfig, ConfigFileError> {
        ProxyConfig::read(path, Some(previous))
    }

    fn read(path: &Path, previous: Option<&Verifier>) -> Result<ProxyConfig, ConfigFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigFileError::unlocated(&file, None, format!("cannot be read: {e}")))?;
        ProxyConfig::parse(&text, &file, previous)
    }

    fn parse(
        text: &str,
        file: &str,
        previous: Option<&Verifier>,
    ) -> Result<ProxyConfig, ConfigFileError> {
        let src = Source { file, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| src.parse_error(&e))?;
        build(&src, raw, previous)
    }

    /// Whether no `client_ids` or `audiences` allow-list was configured
    /// (for some issuer, with several).
    pub fn accepts_any_audience(&self) -> bool {
        self.any_audience
    }

    /// The verifier built from `[issuer]` or `[[issuers]]`.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

/// The network side: where to listen, where to forward, and how long to wait.
struct Network {
    listen: SocketAddr,
    admin_listen: Option<SocketAddr>,
    upstream: Uri,
    upstream_protocol: UpstreamProtocol,
    upstream_timeout: Duration,
    connect_timeout: Duration,
    shutdown_timeout: Duration,
}

/// The steps, in the order their mistakes are reported.
fn build(
    src: &Source<'_>,
    raw: RawConfig,
    previous: Option<&Verifier>,
) -> Result<ProxyConfig, ConfigFileError> {
    let network = network(src, &raw)?;
    let max_connections = values::max_connections(src, &raw.max_connections)?;
    let log_format = values::log_format(src, &raw.log_format)?;
    let listener_tls = tls::listener(src, &raw)?;
    let upstream_tls = tls::upstream(src, &raw, &network.upstream)?;
    let store = shared::store(src, &raw)?;
    let dpop = dpop::policy(src, &raw, network.listen)?;
    let (verifier, any_audience) = verifier(src, &raw, dpop, store, previous)?;
    let routes = routes::routes(src, &raw.routes, &verifier)?;
    let claim_headers = claims::claim_headers(src, &raw.forward)?;
    let trusted_headers = claims::trusted_headers(src, &raw.forward)?;
    Ok(ProxyConfig {
        listen: network.listen,
        admin_listen: network.admin_listen,
        upstream_timeout: network.upstream_timeout,
        connect_timeout: network.connect_timeout,
        shutdown_timeout: network.shutdown_timeout,
        log_format,
        max_connections,
        websocket_idle_timeout: values::websocket_idle_timeout(src, &raw.websocket_idle_timeout)?,
        upstream: network.upstream,
        upstream_protocol: network.upstream_protocol,
        verifier,
        routes,
        claim_headers,
        strip_authorization: raw.forward.strip_authorization,
        trust_x_forwarded_for: raw.forward.trust_x_forwarded_for,
        trusted_headers,
        tls: listener_tls,
        upstream_tls,
        any_audience,
    })
}

fn network(src: &Source<'_>, raw: &RawConfig) -> Result<Network, ConfigFileError> {
    let listen = values::socket_addr(src, "listen", &raw.listen)?;
    let admin_listen = raw
        .admin_listen
        .as_ref()
        .map(|a| values::socket_addr(src, "admin_listen", a))
        .transpose()?;
    let upstream = values::upstream(src, &raw.upstream)?;
    let upstream_protocol = values::upstream_protocol(src, &raw.upstream_protocol, &upstream)?;
    let upstream_timeout = timeout(
        src,
        "upstream_timeout",
        &raw.upstream_timeout,
        Duration::from_secs(30),
    )?;
    let connect_timeout = timeout(
        src,
        "connect_timeout",
        &raw.connect_timeout,
        Duration::from_secs(5),
    )?;
    let shutdown_timeout = timeout(
        src,
        "shutdown_timeout",
        &raw.shutdown_timeout,
        Duration::from_secs(30),
    )?;
    if connect_timeout >= upstream_timeout {
        let span = raw.connect_timeout.as_ref().map(Spanned::span);
        return Err(src.error(
            span.as_ref(),
            "connect_timeout",
            "must be shorter than upstream_timeout (a dead upstream is a 502, not a 504)",
        ));
    }
    if listen.port() != 0
        && upstream.authority().map(|a| a.as_str()) == Some(listen.to_string().as_str())
    {
        return Err(src.error(
            Some(&raw.upstream.span()),
            "upstream",
            "is the proxy's own address: requests would loop",
        ));
    }
    Ok(Network {
        listen,
        admin_listen,
        upstream,
        upstream_protocol,
        upstream_timeout,
        connect_timeout,
        shutdown_timeout,
    })
}

/// `[resource_metadata]` as a [`ProtectedResource`].
fn protected_resource(raw: &RawResourceMetadata) -> ProtectedResource {
    let mut resource = ProtectedResource::new(raw.resource.clone());
    for server in raw.authorization_servers.iter().flatten() {
        resource = resource.authorization_server(server.clone());
    }
    if let Some(scopes) = &raw.scopes_supported {
        resource = resource.scopes_supported(scopes.iter().cloned());
    }
    if let Some(name) = &raw.resource_name {
        resource = resource.resource_name(name.clone());
    }
    if let Some(url) = &raw.resource_documentation {
        resource = resource.resource_documentation(url.clone());
    }
    resource
}

/// `token_cookie` and `token_cookie_origins`, checked where they are written.
fn token_cookie(
    src: &Source<'_>,
    raw: &RawConfig,
    builder: VerifierBuilder,
) -> Result<VerifierBuilder, ConfigFileError> {
    let origins = raw
        .token_cookie_origins
        .as_ref()
        .map_or_else(Vec::new, |o| o.get_ref().clone());
    match &raw.token_cookie {
        Some(name) => {
            TokenCookie::new(name.get_ref(), &[])
                .map_err(|e| src.config_error(&name.span(), "token_cookie", e))?;
            if let Some(spanned) = &raw.token_cookie_origins {
                TokenCookie::new(name.get_ref(), &origins)
                    .map_err(|e| src.config_error(&spanned.span(), "token_cookie_origins", e))?;
            }
            Ok(builder
                .token_cookie(name.get_ref().clone())
                .token_cookie_origins(origins))
        }
        None => match &raw.token_cookie_origins {
            Some(spanned) => Err(src.error(
                Some(&spanned.span()),
                "token_cookie_origins",
                "needs token_cookie",
            )),
            None => Ok(builder),
        },
    }
}

/// The issuer tables: `[issuer]`, or every `[[issuers]]` table (one at
/// least), each with the key that names it in errors.
fn issuer_tables<'a>(
    src: &Source<'_>,
    raw: &'a RawConfig,
) -> Result<Vec<issuer::Table<'a>>, ConfigFileError> {
    match (&raw.issuer, &raw.issuers) {
        (Some(table), None) => Ok(vec![issuer::Table {
            key: "issuer".into(),
            raw: table,
        }]),
        (None, Some(tables)) if !tables.get_ref().is_empty() => Ok(tables
            .get_ref()
            .iter()
            .enumerate()
            .map(|(i, raw)| issuer::Table {
                key: format!("issuers[{i}]"),
                raw,
            })
            .collect()),
        (None, Some(tables)) => Err(src.error(
            Some(&tables.span()),
            "issuers",
            "is empty: give at least one issuer",
        )),
        (Some(table), Some(_)) => Err(src.error(
            Some(&table.span()),
            "issuer",
            "give either [issuer] or [[issuers]], not both",
        )),
        (None, None) => Err(src.error(
            None,
            "issuer",
            "is missing: give [issuer], or a [[issuers]] table per issuer",
        )),
    }
}

/// Every issuer, each checked on its own so that a mistake names its
/// table; and whether any of them accepts any audience.
fn trusted_issuers(
    src: &Source<'_>,
    tables: Vec<issuer::Table<'_>>,
    resource: Option<&ProtectedResource>,
) -> Result<(Vec<TrustedIssuer>, bool), ConfigFileError> {
    let mut trusted = Vec::new();
    let mut any_audience = false;
    let mut seen: Vec<(String, String)> = Vec::new();
    for table in tables {
        let (issuer, any) = issuer::issuer(src, &table, resource.is_some())?;
        let mut alone = Verifier::builder(issuer.clone());
        if let Some(resource) = resource {
            alone = alone.protected_resource(resource.clone());
        }
        let url = alone
            .build()
            .map_err(|e| src.config_error(&table.raw.span(), &table.key, e))?
            .issuer()
            .to_string();
        if let Some((_, first)) = seen.iter().find(|(seen_url, _)| *seen_url == url) {
            return Err(src.error(
                Some(&table.raw.span()),
                table.key.clone(),
                format!("has the same issuer as {first}: each issuer once"),
            ));
        }
        seen.push((url, table.key));
        any_audience |= any;
        trusted.push(issuer);
    }
    Ok((trusted, any_audience))
}

/// The issuers, the token cache, the realm and the resource servers, built
/// into the verifier every route shares.
fn verifier(
    src: &Source<'_>,
    raw: &RawConfig,
    dpop: Option<crate::Dpop>,
    store: Option<shared::Store>,
    previous: Option<&Verifier>,
) -> Result<(Verifier, bool), ConfigFileError> {
    let resource = match &raw.resource_metadata {
        Some(spanned) => {
            let resource = protected_resource(spanned.get_ref());
            // Checked here, so that a mistake names this table.
            resource
                .clone()
                .resolve(&["https://issuer.invalid"], Vec::new())
                .map_err(|e| src.config_error(&spanned.span(), "resource_metadata", e))?;
            Some(resource)
        }
        None => None,
    };
    let tables = issuer_tables(src, raw)?;
    // What is not one issuer's mistake is reported at the first table.
    let Some((first_key, first_span)) = tables.first().map(|t| (t.key.clone(), t.raw.span()))
    else {
        return Err(src.error(None, "issuer", "is missing"));
    };
    let (issuers, any_audience) = trusted_issuers(src, tables, resource.as_ref())?;
    let mut issuers = issuers.into_iter();
    let Some(first) = issuers.next() else {
        return Err(src.error(None, "issuer", "is missing"));
    };
    let mut builder = issuers.fold(Verifier::builder(first), VerifierBuilder::trust);
    if let Some(previous) = previous {
        builder = builder.keeping_key_sets_of(previous);
    }
    if let Some(capacity) = &raw.token_cache_capacity {
        let entries = u64::try_from(*capacity.get_ref()).map_err(|_| {
            src.error(
                Some(&capacity.span()),
                "token_cache_capacity",
                "must be 0 (off) or more",
            )
        })?;
        builder = builder.token_cache_capacity(entries);
    }
    let ttl = timeout(
        src,
        "token_cache_ttl",
        &raw.token_cache_ttl,
        Duration::from_secs(600),
    )?;
    builder = builder.token_cache_ttl(ttl);
    if let Some(realm) = &raw.realm {
        builder = builder.realm(realm.get_ref().clone());
    }
    builder = token_cookie(src, raw, builder)?;
    #[cfg(feature = "redis")]
    if let Some(store) = &store {
        builder = builder.revocations(store.clone());
    }
    if let Some(dpop) = dpop {
        #[cfg(feature = "redis")]
        let dpop = match &store {
            Some(store) => dpop.one_time_ids(store.clone()),
            None => dpop,
        };
        builder = builder.dpop(dpop);
    }
    #[cfg(not(feature = "redis"))]
    let _ = store;
    if let Some(resource) = resource {
        builder = builder.protected_resource(resource);
    }
    for server in servers::resource_servers(src, &raw.resource_servers, &raw.routes)? {
        builder = builder.resource_server(server);
    }
    let verifier = builder
        .build()
        .map_err(|e| src.config_error(&first_span, &first_key, e))?;
    Ok((verifier, any_audience))
}
