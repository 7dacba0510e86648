//! Single values: addresses, durations, the upstream URL, limits and the
//! log format, each checked with the message a config writer can act on.

use std::net::SocketAddr;
use std::time::Duration;

use http::Uri;
use toml::Spanned;

use super::locate::{ConfigFileError, Source};

/// How to log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

pub(super) fn socket_addr(
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

/// `30s`, `500ms`, `2m`, `1h`, and whatever else [`humantime`] reads
/// (`1h 30m`, `90sec`, `1.5s`). A bare number has no unit and is refused.
pub(super) fn duration(text: &str) -> Option<Duration> {
    humantime::parse_duration(text.trim()).ok()
}

/// An optional timeout between 1ms and 1h.
pub(super) fn timeout(
    src: &Source<'_>,
    key: &str,
    value: &Option<Spanned<String>>,
    default: Duration,
) -> Result<Duration, ConfigFileError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match duration(value.get_ref()) {
        Some(d) if d >= Duration::from_millis(1) && d <= Duration::from_secs(3600) => Ok(d),
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
pub(super) fn bounded_duration(
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

/// `websocket_idle_timeout`: 1s to 24h, five minutes when not given.
pub(super) fn websocket_idle_timeout(
    src: &Source<'_>,
    value: &Option<Spanned<String>>,
) -> Result<Duration, ConfigFileError> {
    match value {
        None => Ok(Duration::from_secs(300)),
        Some(value) => bounded_duration(
            src,
            "websocket_idle_timeout",
            value,
            Duration::from_secs(1),
            Duration::from_secs(24 * 3600),
        ),
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

/// `http://host:port` or `https://host:port`, nothing more.
pub(super) fn upstream(src: &Source<'_>, value: &Spanned<String>) -> Result<Uri, ConfigFileError> {
    let bad = |why: &str| {
        src.error(
            Some(&value.span()),
            "upstream",
            format!("{:?} {why}", value.get_ref()),
        )
    };
    let uri: Uri = value.get_ref().parse().map_err(|_| bad("is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("is not an http:// or https:// URL"));
    }
    if uri.authority().is_none() {
        return Err(bad("has no host"));
    }
    if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        return Err(bad("has a path or query; give only http://host:port"));
    }
    Ok(uri)
}

/// How the proxy speaks to its upstream (`upstream_protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpstreamProtocol {
    /// HTTP/1.1, connections pooled (the default).
    Http1,
    /// HTTP/2 over plain TCP with prior knowledge: what gRPC needs.
    H2c,
    /// HTTP/2 over TLS (ALPN `h2`), to an `https` upstream.
    H2,
}

impl UpstreamProtocol {
    /// Whether this is HTTP/2, over TLS or not.
    pub(crate) fn is_http2(self) -> bool {
        self != UpstreamProtocol::Http1
    }
}

/// `http1` (default), `h2c` (cleartext, `http://`) or `h2` (TLS, `https://`).
pub(super) fn upstream_protocol(
    src: &Source<'_>,
    value: &Option<Spanned<String>>,
    upstream: &Uri,
) -> Result<UpstreamProtocol, ConfigFileError> {
    let https = upstream.scheme_str() == Some("https");
    let Some(value) = value else {
        return Ok(UpstreamProtocol::Http1);
    };
    let error = |message: String| src.error(Some(&value.span()), "upstream_protocol", message);
    match (value.get_ref().as_str(), https) {
        ("http1", _) => Ok(UpstreamProtocol::Http1),
        ("h2c", false) => Ok(UpstreamProtocol::H2c),
        ("h2", true) => Ok(UpstreamProtocol::H2),
        ("h2c", true) => Err(error(
            "\"h2c\" is HTTP/2 without TLS; an https:// upstream speaks \"h2\"".into(),
        )),
        ("h2", false) => Err(error(
            "\"h2\" is HTTP/2 over TLS; an http:// upstream speaks \"h2c\"".into(),
        )),
        (other, _) => Err(error(format!(
            "{other:?} is not \"http1\", \"h2c\" or \"h2\""
        ))),
    }
}

pub(super) fn max_connections(
    src: &Source<'_>,
    value: &Option<Spanned<i64>>,
) -> Result<usize, ConfigFileError> {
    let Some(n) = value else {
        return Ok(10_000);
    };
    usize::try_from(*n.get_ref())
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| {
            src.error(
                Some(&n.span()),
                "max_connections",
                "must be between 1 and 1000000",
            )
        })
}

pub(super) fn log_format(
    src: &Source<'_>,
    value: &Option<Spanned<String>>,
) -> Result<LogFormat, ConfigFileError> {
    match value.as_ref().map(|f| (f.get_ref().as_str(), f.span())) {
        None | Some(("text", _)) => Ok(LogFormat::Text),
        Some(("json", _)) => Ok(LogFormat::Json),
        Some((other, span)) => Err(src.error(
            Some(&span),
            "log_format",
            format!("{other:?} is not \"text\" or \"json\""),
        )),
    }
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
        assert_eq!(duration(" 1h 30m "), Some(Duration::from_secs(5400)));
        assert_eq!(duration("1.5s"), Some(Duration::from_millis(1500)));
        for bad in ["", "s", "30", "-1s", "30 parsecs", "1h30"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }
}
