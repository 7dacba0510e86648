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

/// `http://host:port`, nothing more.
pub(super) fn upstream(src: &Source<'_>, value: &Spanned<String>) -> Result<Uri, ConfigFileError> {
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

/// How the proxy speaks to its upstream (`upstream_protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpstreamProtocol {
    /// HTTP/1.1, connections pooled (the default).
    Http1,
    /// HTTP/2 over plain TCP with prior knowledge: what gRPC needs.
    H2c,
}

pub(super) fn upstream_protocol(
    src: &Source<'_>,
    value: &Option<Spanned<String>>,
) -> Result<UpstreamProtocol, ConfigFileError> {
    match value.as_ref().map(|v| (v.get_ref().as_str(), v.span())) {
        None | Some(("http1", _)) => Ok(UpstreamProtocol::Http1),
        Some(("h2c", _)) => Ok(UpstreamProtocol::H2c),
        Some((other, span)) => Err(src.error(
            Some(&span),
            "upstream_protocol",
            format!("{other:?} is not \"http1\" or \"h2c\""),
        )),
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
