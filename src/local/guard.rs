//! Keeps other web pages away from the issuer's controls.
//!
//! A development issuer runs on a laptop whose browser opens any page on the
//! web, and every such page can send requests to `127.0.0.1`. The management
//! API, the `/_local/` endpoints and the console therefore answer only
//! requests that a page of the issuer's own origin (or a program that is not
//! a browser) sends:
//!
//! - **Host**, on every request: it must be a loopback name (`localhost`),
//!   an IP address, the host of the base URL, or a name allowed with
//!   [`allowed_hosts`](super::LocalIssuerBuilder::allowed_hosts). A page
//!   whose own name was rebound to the issuer's address (DNS rebinding)
//!   sends that name and is refused, whatever address the issuer listens on.
//! - **Origin**, on every request but `GET` and `HEAD`: when present, it
//!   must be the issuer's own (`http://` + the `Host` it addressed).
//! - **Fetch metadata**, on the same requests: `Sec-Fetch-Site`, when
//!   present, must be `same-origin` or `none`.
//! - **CSRF token**, on the same requests from a browser (one that sends
//!   `Origin` or `Sec-Fetch-Site`): `X-Scopegate-Csrf` must carry the token
//!   the console page was served with.
//!
//! `GET` and `HEAD` are exempt from the last three so that a link to the
//! console opens from anywhere; another origin cannot read what they return,
//! since no response carries CORS headers (which also makes a cross-origin
//! `fetch` with `X-Amz-Target` fail its preflight). AWS SDKs, the AWS CLI,
//! Node's `fetch` and `curl` send neither `Origin` nor `Sec-Fetch-Site` and
//! pass unchanged. Endpoints that take JSON also require a JSON content
//! type ([`has_content_type`]).

use std::net::IpAddr;

use axum::http::{HeaderMap, Method, header};

/// The header a console request carries its CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-scopegate-csrf";

/// Why a request was refused. The text is fixed: it never repeats a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `Host` is a name that is neither loopback nor allowed.
    Host,
    /// `Origin` is not the issuer's own.
    Origin,
    /// `Sec-Fetch-Site` says another site or origin sent it.
    FetchSite,
    /// A browser's state-changing request without the right CSRF token.
    CsrfToken,
}

impl Refused {
    /// A stable code for the `x-scopegate-refused` header, which the
    /// console reads (a restarted issuer has a new CSRF token).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refused::Host => "host",
            Refused::Origin => "origin",
            Refused::FetchSite => "fetch-site",
            Refused::CsrfToken => "csrf-token",
        }
    }

    /// A short, fixed explanation.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refused::Host => {
                "The Host header names neither this issuer nor an allowed host (--allowed-host)."
            }
            Refused::Origin => "Cross-origin requests to the issuer's controls are refused.",
            Refused::FetchSite => "Cross-site requests to the issuer's controls are refused.",
            Refused::CsrfToken => "The console's CSRF token is missing or wrong.",
        }
    }
}

/// The rules, with what they need to know about this issuer.
#[derive(Debug)]
pub(crate) struct Guard {
    csrf_token: String,
    /// Host names (lower case, no port) allowed besides loopback names and
    /// IP addresses: the base URL's and the configured ones.
    allowed_hosts: Vec<String>,
    base_origin: String,
}

impl Guard {
    /// A guard for an issuer serving at `base_url` (`http://ip:port`) that
    /// also answers to `allowed_hosts`, with the given CSRF token.
    pub(crate) fn new(base_url: &str, allowed_hosts: &[String], csrf_token: String) -> Self {
        let base_host = url::Url::parse(base_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
        Guard {
            csrf_token,
            allowed_hosts: base_host
                .into_iter()
                .chain(allowed_hosts.iter().map(|h| h.to_ascii_lowercase()))
                .collect(),
            base_origin: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// The token the console page embeds.
    pub(crate) fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// Checks a request to a guarded endpoint.
    pub(crate) fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refused> {
        let host = text(headers, header::HOST.as_str());
        if host.is_some_and(|h| !self.is_allowed_host(h)) {
            return Err(Refused::Host);
        }
        if method == Method::GET || method == Method::HEAD {
            return Ok(());
        }
        let origin = text(headers, header::ORIGIN.as_str());
        if let Some(origin) = origin
            && !self.is_own_origin(origin, host)
        {
            return Err(Refused::Origin);
        }
        let fetch_site = text(headers, "sec-fetch-site");
        if fetch_site.is_some_and(|site| site != "same-origin" && site != "none") {
            return Err(Refused::FetchSite);
        }
        // Not `Sec-Fetch-Mode` alone: Node's `fetch` sends it too.
        let from_browser = origin.is_some() || fetch_site.is_some();
        if from_browser && !self.has_csrf_token(headers) {
            return Err(Refused::CsrfToken);
        }
        Ok(())
    }

    fn is_allowed_host(&self, host: &str) -> bool {
        let name = host_name(host);
        name.eq_ignore_ascii_case("localhost")
            || name.parse::<IpAddr>().is_ok()
            || self
                .allowed_hosts
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
    }

    fn is_own_origin(&self, origin: &str, host: Option<&str>) -> bool {
        origin == self.base_origin
            || host.is_some_and(|h| origin.strip_prefix("http://") == Some(h))
    }

    fn has_csrf_token(&self, headers: &HeaderMap) -> bool {
        let given = text(headers, CSRF_HEADER).unwrap_or_default();
        aws_lc_rs::constant_time::verify_slices_are_equal(
            given.as_bytes(),
            self.csrf_token.as_bytes(),
        )
        .is_ok()
    }
}

/// Whether the request's `Content-Type` is one of `accepted` (parameters
/// such as `charset` aside).
pub(crate) fn has_content_type(headers: &HeaderMap, accepted: &[&str]) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media_type = value.split(';').next().unwrap_or_default().trim();
    accepted.iter().any(|a| media_type.eq_ignore_ascii_case(a))
}

/// A header's value, if present (once) and visible ASCII.
fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        // Two Host or Origin headers: treat as unreadable, i.e. foreign.
        return Some("");
    }
    Some(value.to_str().unwrap_or(""))
}

/// The name of a `Host` value (`name[:port]`, `[v6]:port`), brackets off.
fn host_name(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or("", |(name, _)| name),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_strategies::header_map as headers;
    use axum::http::HeaderValue;

    fn guard() -> Guard {
        Guard::new("http://127.0.0.1:9229", &[], "token".into())
    }

    #[test]
    fn programs_without_browser_headers_pass() {
        let plain = headers(&[("host", "127.0.0.1:9229")]);
        assert_eq!(guard().check(&Method::POST, &plain), Ok(()));
        assert_eq!(guard().check(&Method::POST, &HeaderMap::new()), Ok(()));
    }

    #[test]
    fn the_console_passes_with_its_token() {
        for host in ["127.0.0.1:9229", "localhost:9229", "[::1]:9229"] {
            let mut h = headers(&[
                ("sec-fetch-site", "same-origin"),
                ("x-scopegate-csrf", "token"),
            ]);
            h.insert("host", HeaderValue::from_str(host).unwrap());
            h.insert(
                "origin",
                HeaderValue::from_str(&format!("http://{host}")).unwrap(),
            );
            assert_eq!(guard().check(&Method::POST, &h), Ok(()), "{host}");
        }
    }

    #[test]
    fn rebound_names_are_refused_wherever_it_listens() {
        let everywhere = Guard::new("http://0.0.0.0:9229", &["issuer".into()], "t".into());
        for guard in [guard(), everywhere] {
            for host in [
                "attacker.example:9229",
                "127.0.0.1.attacker.example",
                "localhost.attacker.example:1",
                "",
            ] {
                let mut h = HeaderMap::new();
                h.insert("host", HeaderValue::from_str(host).unwrap());
                assert_eq!(guard.check(&Method::GET, &h), Err(Refused::Host), "{host}");
            }
            for host in [
                "127.0.0.1:9229",
                "LOCALHOST:1",
                "[::1]:9229",
                "192.168.1.5:9229",
                "[fe80::1]",
            ] {
                let mut h = HeaderMap::new();
                h.insert("host", HeaderValue::from_str(host).unwrap());
                assert_eq!(guard.check(&Method::GET, &h), Ok(()), "{host}");
            }
        }
    }

    #[test]
    fn configured_names_are_allowed() {
        let compose = Guard::new("http://0.0.0.0:9229", &["Issuer".into()], "t".into());
        let h = headers(&[("host", "issuer:9229")]);
        assert_eq!(compose.check(&Method::POST, &h), Ok(()));
        assert_eq!(guard().check(&Method::POST, &h), Err(Refused::Host));
    }

    #[test]
    fn other_origins_are_refused() {
        for origin in [
            "http://127.0.0.1:8000",
            "null",
            "https://127.0.0.1:9229",
            "http://evil",
        ] {
            let mut h = headers(&[("host", "127.0.0.1:9229"), ("x-scopegate-csrf", "token")]);
            h.insert("origin", HeaderValue::from_str(origin).unwrap());
            assert_eq!(
                guard().check(&Method::POST, &h),
                Err(Refused::Origin),
                "{origin}"
            );
        }
    }

    #[test]
    fn cross_site_fetch_metadata_is_refused() {
        for site in ["cross-site", "same-site", ""] {
            let mut h = headers(&[("host", "127.0.0.1:9229"), ("x-scopegate-csrf", "token")]);
            h.insert("sec-fetch-site", HeaderValue::from_str(site).unwrap());
            assert_eq!(
                guard().check(&Method::POST, &h),
                Err(Refused::FetchSite),
                "{site}"
            );
        }
    }

    #[test]
    fn browser_writes_need_the_token() {
        let same = [
            ("host", "127.0.0.1:9229"),
            ("origin", "http://127.0.0.1:9229"),
        ];
        assert_eq!(
            guard().check(&Method::POST, &headers(&same)),
            Err(Refused::CsrfToken)
        );
        let mut wrong = headers(&same);
        wrong.insert("x-scopegate-csrf", HeaderValue::from_static("tokeN"));
        assert_eq!(
            guard().check(&Method::POST, &wrong),
            Err(Refused::CsrfToken)
        );
        // What Node's fetch sends: not a browser.
        let node = headers(&[("host", "127.0.0.1:9229"), ("sec-fetch-mode", "cors")]);
        assert_eq!(guard().check(&Method::POST, &node), Ok(()));
        // Reads need no token.
        assert_eq!(guard().check(&Method::GET, &headers(&same)), Ok(()));
    }

    #[test]
    fn json_content_types() {
        let accepted = ["application/x-amz-json-1.1", "application/json"];
        for ok in [
            "application/x-amz-json-1.1",
            "Application/JSON; charset=utf-8",
        ] {
            let mut h = HeaderMap::new();
            h.insert("content-type", HeaderValue::from_str(ok).unwrap());
            assert!(has_content_type(&h, &accepted), "{ok}");
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "",
        ] {
            let mut h = HeaderMap::new();
            h.insert("content-type", HeaderValue::from_str(refused).unwrap());
            assert!(!has_content_type(&h, &accepted), "{refused}");
        }
        assert!(!has_content_type(&HeaderMap::new(), &accepted));
    }

    #[test]
    fn repeated_headers_are_foreign() {
        let twice = headers(&[("host", "127.0.0.1:9229"), ("host", "127.0.0.1:9229")]);
        assert_eq!(guard().check(&Method::GET, &twice), Err(Refused::Host));
    }
}
