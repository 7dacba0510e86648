//! The proxy's TOML configuration, checked whole before anything starts.
//! Every mistake is reported as one line: `file:line: key: what is wrong`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use http::header::HeaderName;
use http::{Method, Uri};
use serde::Deserialize;
use toml::Spanned;

use super::routes::{Methods, PathPattern};
use crate::{Algorithm, ConfigError, Issuer, ResourceServer, ScopeGateLayer, Verifier};

/// A configuration mistake, located in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFileError {
    file: String,
    line: Option<usize>,
    key: Option<String>,
    message: String,
}

impl ConfigFileError {
    /// The file the mistake is in.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The key, e.g. `routes[2].require[0]`, when known.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigFileError {}

/// Raw configuration, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Spanned<String>,
    upstream: Spanned<String>,
    admin_listen: Option<Spanned<String>>,
    upstream_timeout: Option<Spanned<String>>,
    token_cache_capacity: Option<Spanned<i64>>,
    max_connections: Option<Spanned<i64>>,
    token_cache_ttl: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    shutdown_timeout: Option<Spanned<String>>,
    log_format: Option<Spanned<String>>,
    realm: Option<Spanned<String>>,
    issuer: Spanned<RawIssuer>,
    #[serde(default)]
    resource_servers: Vec<Spanned<RawResourceServer>>,
    #[serde(default)]
    routes: Vec<Spanned<RawRoute>>,
    #[serde(default)]
    forward: RawForward,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    url: Option<Spanned<String>>,
    jwks_url: Option<Spanned<String>>,
    cognito: Option<Spanned<RawCognito>>,
    token_use: Option<Spanned<String>>,
    client_ids: Option<Spanned<Vec<String>>>,
    audiences: Option<Spanned<Vec<String>>>,
    algorithms: Option<Spanned<Vec<Spanned<String>>>>,
    leeway: Option<Spanned<String>>,
    require_at_jwt: Option<bool>,
    allow_any_audience: Option<bool>,
    key_set_ttl: Option<Spanned<String>>,
    key_set_max_stale: Option<Spanned<String>>,
    unknown_kid_cooldown: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCognito {
    region: String,
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResourceServer {
    identifier: String,
    name: Option<String>,
    scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    methods: Option<Spanned<Vec<Spanned<String>>>>,
    path: Spanned<String>,
    require: Option<Spanned<Vec<String>>>,
    any_of: Option<Spanned<Vec<String>>>,
    public: Option<Spanned<bool>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawForward {
    claims: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    strip_authorization: bool,
    #[serde(default)]
    trust_x_forwarded_for: bool,
}

/// How to log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What a route lets through.
#[derive(Clone, Debug)]
pub(crate) enum Access {
    /// No token needed.
    Public,
    /// The layer, with the route's requirement.
    Gated(ScopeGateLayer),
}

#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) index: usize,
    pub(crate) methods: Methods,
    pub(crate) path: PathPattern,
    pub(crate) access: Access,
}

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
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    pub(crate) upstream: Uri,
    pub(crate) verifier: Verifier,
    pub(crate) routes: Vec<Route>,
    pub(crate) claim_headers: Vec<(String, HeaderName)>,
    pub(crate) strip_authorization: bool,
    pub(crate) trust_x_forwarded_for: bool,
    pub(crate) any_audience: bool,
}

/// Locates errors in the source text.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(
        &self,
        span: Option<&Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigFileError {
        ConfigFileError {
            file: self.file.to_string(),
            line: span.map(|s| self.line(s)),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// A TOML or type error, with the key read from the offending line
    /// when toml's message does not name it.
    fn parse_error(&self, error: &toml::de::Error) -> ConfigFileError {
        let message = error.message().trim().replace('\n', " ");
        let span = error.span();
        let key = span.as_ref().and_then(|span| {
            let before = &self.text[..span.start.min(self.text.len())];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line = self.text[line_start..].lines().next().unwrap_or("");
            let (key, _) = line.split_once('=')?;
            let key = key.trim();
            if key.is_empty() || key.starts_with('[') || message.contains(&format!("`{key}`")) {
                return None;
            }
            Some(match table_of(before) {
                Some(table) => format!("{table}.{key}"),
                None => key.to_string(),
            })
        });
        ConfigFileError {
            file: self.file.to_string(),
            line: span.as_ref().map(|s| self.line(s)),
            key,
            message,
        }
    }
}

/// The table a position is in, as `routes[1]` or `issuer`, from the last
/// `[table]` or `[[array]]` header before it.
fn table_of(before: &str) -> Option<String> {
    let headers: Vec<&str> = before
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .collect();
    let last = headers.last()?;
    if let Some(name) = last.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
        let name = name.trim();
        let index = headers
            .iter()
            .filter(|h| {
                h.strip_prefix("[[")
                    .and_then(|l| l.split("]]").next())
                    .map(str::trim)
                    == Some(name)
            })
            .count()
            - 1;
        return Some(format!("{name}[{index}]"));
    }
    last.strip_prefix('[')
        .and_then(|l| l.split(']').next())
        .map(|n| n.trim().to_string())
}

/// `30s`, `500ms`, `2m`, `1h`.
fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

/// Headers that a claim may not be forwarded as.
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "authorization",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-request-id",
];

impl ProxyConfig {
    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> Result<ProxyConfig, ConfigFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
            file: file.clone(),
            line: None,
            key: None,
            message: format!("cannot be read: {e}"),
        })?;
        ProxyConfig::from_toml(&text, &file)
    }

    /// Checks a configuration given as TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<ProxyConfig, ConfigFileError> {
        let src = Source { file, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| src.parse_error(&e))?;
        build(&src, raw)
    }

    /// Whether no `client_ids` or `audiences` allow-list was configured.
    pub fn accepts_any_audience(&self) -> bool {
        self.any_audience
    }

    /// The verifier built from `[issuer]`.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

fn socket_addr(
    src: &Source<'_>,
    key: &str,
    value: &Spanned<String>,
) -> Result<SocketAddr, ConfigFileError> {
    value.get_ref().parse().map_err(|_| {
        src.error(
            Some(&value.span()),
            key,
            format!(
                "{:?} is not an address like 127.0.0.1:8080",
                value.get_ref()
            ),
        )
    })
}

fn timeout(
    src: &Source<'_>,
    key: &str,
    value: &Option<Spanned<String>>,
    default: Duration,
) -> Result<Duration, ConfigFileError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match duration(value.get_ref()) {
        Some(d) if !d.is_zero() && d <= Duration::from_secs(3600) => Ok(d),
        _ => Err(src.error(
            Some(&value.span()),
            key,
            format!(
                "{:?} is not a duration between 1ms and 1h, like \"30s\" or \"500ms\"",
                value.get_ref()
            ),
        )),
    }
}

/// A duration between `min` and `max`, for keys that have no default here.
fn bounded_duration(
    src: &Source<'_>,
    key: &str,
    value: &Spanned<String>,
    min: Duration,
    max: Duration,
) -> Result<Duration, ConfigFileError> {
    match duration(value.get_ref()) {
        Some(d) if (min..=max).contains(&d) => Ok(d),
        _ => Err(src.error(
            Some(&value.span()),
            key,
            format!(
                "{:?} is not a duration between {} and {}, like \"60s\" or \"10m\"",
                value.get_ref(),
                human(min),
                human(max)
            ),
        )),
    }
}

/// `90s` as `90s`, `3600s` as `1h`: bounds as a config would write them.
fn human(d: Duration) -> String {
    match d.as_secs() {
        0 => "0s".into(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn config_error(
    src: &Source<'_>,
    span: &Range<usize>,
    key: &str,
    e: ConfigError,
) -> ConfigFileError {
    src.error(Some(span), key, e.to_string())
}

fn build(src: &Source<'_>, raw: RawConfig) -> Result<ProxyConfig, ConfigFileError> {
    let listen = socket_addr(src, "listen", &raw.listen)?;
    let admin_listen = raw
        .admin_listen
        .as_ref()
        .map(|a| socket_addr(src, "admin_listen", a))
        .transpose()?;
    let upstream = upstream(src, &raw.upstream)?;
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
    let max_connections = match &raw.max_connections {
        None => 10_000,
        Some(n) => usize::try_from(*n.get_ref())
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                src.error(
                    Some(&n.span()),
                    "max_connections",
                    "must be between 1 and 1000000",
                )
            })?,
    };
    let log_format = match raw
        .log_format
        .as_ref()
        .map(|f| (f.get_ref().as_str(), f.span()))
    {
        None | Some(("text", _)) => LogFormat::Text,
        Some(("json", _)) => LogFormat::Json,
        Some((other, span)) => {
            return Err(src.error(
                Some(&span),
                "log_format",
                format!("{other:?} is not \"text\" or \"json\""),
            ));
        }
    };

    let (builder, any_audience) = issuer(src, &raw.issuer)?;
    let mut builder = builder;
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

    // Resource servers: the declared ones, or, if none are declared, one
    // per identifier the routes name (so that only syntax is checked).
    let mut servers: Vec<(ResourceServer, Range<usize>)> = Vec::new();
    for (i, rs) in raw.resource_servers.iter().enumerate() {
        let span = rs.span();
        let rs = rs.get_ref();
        let server = rs.scopes.iter().fold(
            ResourceServer::new(
                rs.identifier.clone(),
                rs.name.clone().unwrap_or_else(|| "API".into()),
            ),
            |server, scope| server.scope(scope.clone(), scope.clone()),
        );
        server
            .validate()
            .map_err(|e| config_error(src, &span, &format!("resource_servers[{i}]"), e))?;
        servers.push((server, span));
    }
    if raw.resource_servers.is_empty() {
        servers = derived_servers(src, &raw.routes)?;
    }
    for (server, _) in &servers {
        builder = builder.resource_server(server.clone());
    }
    let issuer_span = raw.issuer.span();
    let verifier = builder
        .build()
        .map_err(|e| config_error(src, &issuer_span, "issuer", e))?;

    let routes = routes(src, &raw.routes, &verifier)?;
    let claim_headers = claim_headers(src, &raw.forward)?;

    Ok(ProxyConfig {
        listen,
        admin_listen,
        upstream_timeout,
        connect_timeout,
        shutdown_timeout,
        log_format,
        max_connections,
        upstream,
        verifier,
        routes,
        claim_headers,
        strip_authorization: raw.forward.strip_authorization,
        trust_x_forwarded_for: raw.forward.trust_x_forwarded_for,
        any_audience,
    })
}

fn upstream(src: &Source<'_>, value: &Spanned<String>) -> Result<Uri, ConfigFileError> {
    let bad = |why: &str| {
        src.error(
            Some(&value.span()),
            "upstream",
            format!("{:?} {why}", value.get_ref()),
        )
    };
    let uri: Uri = value.get_ref().parse().map_err(|_| bad("is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(bad(
                "uses https; the proxy speaks plain http to its upstream (run it beside the upstream)",
            ));
        }
        _ => return Err(bad("is not an http:// URL")),
    }
    if uri.authority().is_none() {
        return Err(bad("has no host"));
    }
    if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        return Err(bad("has a path or query; give only http://host:port"));
    }
    Ok(uri)
}

fn issuer(
    src: &Source<'_>,
    raw: &Spanned<RawIssuer>,
) -> Result<(crate::VerifierBuilder, bool), ConfigFileError> {
    let span = raw.span();
    let raw = raw.get_ref();
    let issuer = match (&raw.cognito, &raw.url, &raw.jwks_url) {
        (Some(cognito), None, None) => {
            let c = cognito.get_ref();
            Issuer::cognito(c.region.clone(), c.user_pool_id.clone())
        }
        (Some(cognito), _, _) => {
            return Err(src.error(
                Some(&cognito.span()),
                "issuer.cognito",
                "give either `cognito = { region, user_pool_id }` or `url` (and `jwks_url`), not both",
            ));
        }
        (None, Some(url), Some(jwks)) => {
            Issuer::with_jwks_url(url.get_ref().clone(), jwks.get_ref().clone())
        }
        (None, Some(url), None) => Issuer::discover(url.get_ref().clone()),
        (None, None, Some(jwks)) => {
            return Err(src.error(
                Some(&jwks.span()),
                "issuer.jwks_url",
                "`jwks_url` needs `url`, the exact `iss` of the tokens",
            ));
        }
        (None, None, None) => {
            return Err(src.error(
                Some(&span),
                "issuer",
                "give `cognito = { region, user_pool_id }` or `url`",
            ));
        }
    };
    let mut builder = Verifier::builder(issuer);
    if let Some(token_use) = &raw.token_use {
        builder = builder.token_use(token_use.get_ref().clone());
    }
    if let Some(algorithms) = &raw.algorithms {
        let mut list = Vec::new();
        for (i, name) in algorithms.get_ref().iter().enumerate() {
            let alg: Algorithm = name
                .get_ref()
                .parse()
                .map_err(|e: crate::UnknownAlgorithm| {
                    src.error(
                        Some(&name.span()),
                        format!("issuer.algorithms[{i}]"),
                        format!("{:?} is {e}", name.get_ref()),
                    )
                })?;
            list.push(alg);
        }
        builder = builder.algorithms(list);
    }
    let mut any_audience = true;
    if let Some(ids) = &raw.client_ids {
        builder = builder.client_ids(ids.get_ref().clone());
        any_audience = false;
    }
    if let Some(audiences) = &raw.audiences {
        builder = builder.audiences(audiences.get_ref().clone());
        any_audience = false;
    }
    match (any_audience, raw.allow_any_audience) {
        (true, Some(true)) => builder = builder.with_insecure_any_audience(),
        (true, _) => {
            return Err(src.error(
                Some(&span),
                "issuer",
                "no client_ids or audiences: tokens minted for any client of the issuer would be accepted; list them, or set allow_any_audience = true",
            ));
        }
        (false, _) => {}
    }
    if let Some(leeway) = &raw.leeway {
        let d = duration(leeway.get_ref()).ok_or_else(|| {
            src.error(
                Some(&leeway.span()),
                "issuer.leeway",
                format!("{:?} is not a duration like \"60s\"", leeway.get_ref()),
            )
        })?;
        builder = builder.leeway(d);
    }
    if raw.require_at_jwt == Some(true) {
        builder = builder.require_at_jwt();
    }
    const MINUTE: Duration = Duration::from_secs(60);
    const DAY: Duration = Duration::from_secs(86_400);
    if let Some(ttl) = &raw.key_set_ttl {
        let ttl = bounded_duration(src, "issuer.key_set_ttl", ttl, Duration::from_secs(1), DAY)?;
        // A short TTL also lets a short `Cache-Control: max-age` through.
        builder = builder
            .key_set_ttl(ttl)
            .key_set_ttl_bounds(ttl.min(MINUTE), DAY);
    }
    if let Some(stale) = &raw.key_set_max_stale {
        let stale = bounded_duration(
            src,
            "issuer.key_set_max_stale",
            stale,
            Duration::ZERO,
            7 * DAY,
        )?;
        builder = builder.key_set_max_stale(stale);
    }
    if let Some(cooldown) = &raw.unknown_kid_cooldown {
        let cooldown = bounded_duration(
            src,
            "issuer.unknown_kid_cooldown",
            cooldown,
            Duration::from_secs(1),
            Duration::from_secs(3600),
        )?;
        builder = builder.unknown_kid_cooldown(cooldown);
    }
    Ok((builder, any_audience))
}

/// Without `[[resource_servers]]`, one resource server per identifier used by
/// the routes, defining exactly the names used.
fn derived_servers(
    src: &Source<'_>,
    routes: &[Spanned<RawRoute>],
) -> Result<Vec<(ResourceServer, Range<usize>)>, ConfigFileError> {
    let mut by_identifier: BTreeMap<String, (Vec<String>, Range<usize>)> = BTreeMap::new();
    for (i, route) in routes.iter().enumerate() {
        let r = route.get_ref();
        for (key, list) in [("require", &r.require), ("any_of", &r.any_of)] {
            let Some(list) = list else { continue };
            for (j, full) in list.get_ref().iter().enumerate() {
                let scope = crate::Scope::parse(full).map_err(|e| {
                    config_error(src, &list.span(), &format!("routes[{i}].{key}[{j}]"), e)
                })?;
                let entry = by_identifier
                    .entry(scope.identifier().to_string())
                    .or_insert_with(|| (Vec::new(), list.span()));
                if !entry.0.iter().any(|n| n == scope.name()) {
                    entry.0.push(scope.name().to_string());
                }
            }
        }
    }
    Ok(by_identifier
        .into_iter()
        .map(|(identifier, (names, span))| {
            let server = names
                .iter()
                .fold(ResourceServer::new(identifier, "API"), |s, n| {
                    s.scope(n.clone(), n.clone())
                });
            (server, span)
        })
        .collect())
}

fn routes(
    src: &Source<'_>,
    raw: &[Spanned<RawRoute>],
    verifier: &Verifier,
) -> Result<Vec<Route>, ConfigFileError> {
    if raw.is_empty() {
        return Err(ConfigFileError {
            file: src.file.to_string(),
            line: None,
            key: Some("routes".into()),
            message: "no [[routes]]: every request would be refused".into(),
        });
    }
    let mut routes: Vec<Route> = Vec::new();
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (i, spanned) in raw.iter().enumerate() {
        let span = spanned.span();
        let r = spanned.get_ref();
        let key = |k: &str| format!("routes[{i}].{k}");
        let path = PathPattern::parse(r.path.get_ref()).map_err(|e| {
            src.error(
                Some(&r.path.span()),
                key("path"),
                format!("{:?}: {e}", r.path.get_ref()),
            )
        })?;
        let methods = match &r.methods {
            None => Methods(None),
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(src.error(
                        Some(&list.span()),
                        key("methods"),
                        "an empty list matches nothing; leave `methods` out for any method",
                    ));
                }
                let mut methods = Vec::new();
                for (j, m) in list.get_ref().iter().enumerate() {
                    let upper = m.get_ref().to_ascii_uppercase();
                    let method = Method::from_bytes(upper.as_bytes()).map_err(|_| {
                        src.error(
                            Some(&m.span()),
                            format!("routes[{i}].methods[{j}]"),
                            format!("{:?} is not an HTTP method", m.get_ref()),
                        )
                    })?;
                    methods.push(method);
                }
                Methods(Some(methods))
            }
        };
        let public = r.public.as_ref().is_some_and(|p| *p.get_ref());
        let chosen = [r.require.is_some(), r.any_of.is_some(), public]
            .iter()
            .filter(|x| **x)
            .count();
        if chosen > 1 {
            return Err(src.error(
                Some(&span),
                format!("routes[{i}]"),
                "give one of `require`, `any_of` or `public = true`",
            ));
        }
        let access = if public {
            Access::Public
        } else if let Some(list) = &r.require {
            let layer = verifier
                .require_all(list.get_ref())
                .map_err(|e| config_error(src, &list.span(), &key("require"), e))?;
            Access::Gated(layer)
        } else if let Some(list) = &r.any_of {
            let layer = verifier
                .require_any(list.get_ref())
                .map_err(|e| config_error(src, &list.span(), &key("any_of"), e))?;
            Access::Gated(layer)
        } else {
            Access::Gated(verifier.authenticated())
        };
        let route = Route {
            index: i,
            methods,
            path,
            access,
        };
        if let Some((j, _)) = routes
            .iter()
            .enumerate()
            .find(|(_, e)| e.methods.covers(&route.methods) && e.path.covers(&route.path))
        {
            return Err(src.error(
                Some(&span),
                format!("routes[{i}]"),
                format!(
                    "can never match: routes[{j}] (line {}) comes first and matches every request it would",
                    src.line(&spans[j]),
                ),
            ));
        }
        if let Some((j, _)) = routes.iter().enumerate().find(|(_, e)| {
            e.path.source() != route.path.source()
                && e.path.source().eq_ignore_ascii_case(route.path.source())
        }) {
            return Err(src.error(
                Some(&span),
                format!("routes[{i}].path"),
                format!(
                    "differs from routes[{j}] (line {}) only by case; an upstream that ignores case would mix them up",
                    src.line(&spans[j]),
                ),
            ));
        }
        routes.push(route);
        spans.push(span);
    }
    Ok(routes)
}

fn claim_headers(
    src: &Source<'_>,
    forward: &RawForward,
) -> Result<Vec<(String, HeaderName)>, ConfigFileError> {
    let Some(claims) = &forward.claims else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, HeaderName)> = Vec::new();
    for (claim, header) in claims.get_ref() {
        let key = format!("forward.claims.{claim}");
        let name = HeaderName::from_bytes(header.get_ref().as_bytes()).map_err(|_| {
            src.error(
                Some(&header.span()),
                &key,
                format!("{:?} is not a header name", header.get_ref()),
            )
        })?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(src.error(
                Some(&header.span()),
                &key,
                format!(
                    "{:?} is managed by the proxy and cannot carry a claim",
                    name.as_str()
                ),
            ));
        }
        if out.iter().any(|(_, n)| *n == name) {
            return Err(src.error(
                Some(&header.span()),
                &key,
                format!("{:?} is used for two claims", name.as_str()),
            ));
        }
        out.push((claim.clone(), name));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration("1h"), Some(Duration::from_secs(3600)));
        for bad in ["", "s", "30", "30 s", "-1s", "1.5s", "30sec"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }
}
