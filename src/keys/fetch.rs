//! Fetching key sets and discovery documents over HTTP, with every resource
//! bounded: connect and total timeouts, a body cap, no redirects, no retries,
//! `https` only except for loopback hosts.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::Url;
use reqwest::header::{CACHE_CONTROL, HeaderMap};

use crate::error::{ConfigError, ConfigErrorKind};

/// Why a key-set (or discovery) fetch failed: the cause of the last failure
/// is [`Verifier::last_fetch_error`](crate::Verifier::last_fetch_error).
/// Fixed descriptions plus numbers: nothing the endpoint sent is repeated, so
/// it is safe in logs and health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchError {
    /// The connection could not be made (refused, DNS, TLS).
    Connect,
    /// The endpoint did not answer in time.
    Timeout,
    /// The endpoint answered with a redirect, which is never followed.
    Redirect(u16),
    /// The endpoint answered with a status other than 200.
    Status(u16),
    /// The body is larger than the configured cap.
    TooLarge,
    /// The connection failed while the body was read.
    Body,
    /// The body is not a JWK Set (or not a discovery document).
    NotJson,
    /// The key set holds no key that passes the checks; the last good key
    /// set stays in use.
    NoUsableKeys,
    /// The discovery document's `issuer` is not the configured issuer.
    IssuerMismatch,
    /// The discovery document's `jwks_uri` is missing, malformed, or plain
    /// `http` to a host other than loopback.
    BadJwksUri,
    /// No Tokio runtime to run the fetch on.
    NoRuntime,
    /// The fetch task ended before the fetch did (a panic, or its runtime
    /// shut down).
    Interrupted,
}

impl FetchError {
    /// A short, fixed description.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchError::Connect => "could not connect",
            FetchError::Timeout => "timed out",
            FetchError::Redirect(_) => "redirected (redirects are not followed)",
            FetchError::Status(_) => "unexpected status",
            FetchError::TooLarge => "body larger than the cap",
            FetchError::Body => "connection failed while reading the body",
            FetchError::NotJson => "body is not the expected JSON document",
            FetchError::NoUsableKeys => "key set has no usable key",
            FetchError::IssuerMismatch => "discovery document names another issuer",
            FetchError::BadJwksUri => "discovery document has no acceptable jwks_uri",
            FetchError::NoRuntime => "no Tokio runtime",
            FetchError::Interrupted => "the fetch was interrupted",
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Redirect(status) | FetchError::Status(status) => {
                write!(f, "{} {status}", self.as_str())
            }
            _ => f.write_str(self.as_str()),
        }
    }
}

impl std::error::Error for FetchError {}

/// Whether `url`'s host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(host)) => {
            host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.")
        }
        None => false,
    }
}

/// Parses a URL the verifier will fetch from: `https`, or `http` to loopback.
pub(crate) fn fetch_url(what: &str, url: &str) -> Result<Url, ConfigError> {
    let parsed = Url::parse(url).map_err(|e| {
        ConfigError::new(
            ConfigErrorKind::InvalidIssuer,
            format!("{what} {url:?} is not a valid URL: {e}"),
        )
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError::new(
            ConfigErrorKind::InvalidIssuer,
            format!("{what} {url:?} must not carry credentials"),
        ));
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(ConfigError::new(
            ConfigErrorKind::InsecureUrl,
            format!(
                "{what} {url:?} uses plain http; only https is allowed, except for loopback hosts (127.0.0.0/8, ::1, localhost)"
            ),
        )),
        scheme => Err(ConfigError::new(
            ConfigErrorKind::InvalidIssuer,
            format!("{what} {url:?} has the scheme {scheme:?}; expected https"),
        )),
    }
}

/// The HTTP side of a key store.
#[derive(Clone, Debug)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_body_bytes: usize,
}

/// A fetched document and how long it may be cached, if the endpoint said.
pub(crate) struct Fetched {
    pub(crate) body: Bytes,
    pub(crate) max_age: Option<Duration>,
}

impl Fetcher {
    pub(crate) fn new(
        connect_timeout: Duration,
        timeout: Duration,
        max_body_bytes: usize,
        loopback_only: bool,
    ) -> Result<Fetcher, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .user_agent(concat!("scopegate/", env!("CARGO_PKG_VERSION")));
        if loopback_only {
            // A proxy from the environment must not see loopback traffic.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::InvalidOption,
                format!("cannot create the HTTP client for key sets: {e}"),
            )
        })?;
        Ok(Fetcher {
            client,
            max_body_bytes,
        })
    }

    /// GETs `url` and reads at most the body cap.
    pub(crate) async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/jwk-set+json",
            )
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect(status.as_u16()));
        }
        if status != reqwest::StatusCode::OK {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let max_age = max_age(response.headers());
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body: body.freeze(),
            max_age,
        })
    }
}

fn classify(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout
    } else if error.is_body() || error.is_decode() {
        FetchError::Body
    } else {
        FetchError::Connect
    }
}

/// Reads `Cache-Control`: `max-age=N` gives N seconds; `no-store` or
/// `no-cache` give zero (the caller clamps to its minimum).
pub(crate) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut found = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, arg) = match directive.split_once('=') {
                Some((name, arg)) => (name.trim(), Some(arg.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Some(secs) = arg.and_then(|a| a.parse::<u64>().ok())
            {
                found = Some(Duration::from_secs(secs));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x/.well-known/jwks.json",
            "http://127.0.0.1:9229/jwks",
            "http://127.8.9.10/jwks",
            "http://[::1]:80/jwks",
            "http://localhost:3000/jwks",
            "http://LOCALHOST/jwks",
        ] {
            assert!(fetch_url("key set URL", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/jwks",
            "http://10.0.0.1/jwks",
            "http://localhost.example.com/jwks",
            "http://127.0.0.1.nip.io/jwks",
            "ftp://127.0.0.1/jwks",
            "file:///etc/passwd",
            "https://user:pw@example.com/jwks",
            "not a url",
        ] {
            assert!(fetch_url("key set URL", bad).is_err(), "{bad}");
        }
        assert_eq!(
            fetch_url("x", "http://example.com").unwrap_err().kind(),
            ConfigErrorKind::InsecureUrl
        );
    }

    #[test]
    fn cache_control() {
        let of = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(CACHE_CONTROL, HeaderValue::from_str(v).unwrap());
            max_age(&h)
        };
        assert_eq!(of("public, max-age=3600"), Some(Duration::from_secs(3600)));
        assert_eq!(of("MAX-AGE=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(of("max-age=60, no-cache"), Some(Duration::ZERO));
        assert_eq!(of("no-store"), Some(Duration::ZERO));
        assert_eq!(of("max-age=-1"), None);
        assert_eq!(of("private"), None);
        assert_eq!(max_age(&HeaderMap::new()), None);
    }
}
