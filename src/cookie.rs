//! A token in a cookie, for browser apps that keep it there (opt in:
//! [`VerifierBuilder::token_cookie`](crate::VerifierBuilder::token_cookie)).
//!
//! Without an `Authorization` header the cookie is read; a request with a
//! token in both is `invalid_request` (two methods at once, as RFC 6750
//! §3.1 says of the query). A browser attaches cookies to cross-site requests as well, so a
//! cookie token on an unsafe method (anything but `GET`, `HEAD`, `OPTIONS`)
//! or an upgrade (a WebSocket handshake) counts only when the request shows it is same-origin: `Sec-Fetch-Site:
//! same-origin`, or an `Origin` on the configured allow-list. Otherwise a
//! page on another site could make the browser act with the user's token
//! (CSRF). The query string is still never read.

use http::header::{COOKIE, ORIGIN, UPGRADE};
use http::{HeaderMap, HeaderValue, Method};

use crate::bearer::{Credentials, MalformedReason, token_credentials};
use crate::error::{ConfigError, ConfigErrorKind};

/// Where the token cookie is, and which origins may send it on unsafe
/// requests.
#[derive(Clone, Debug)]
pub(crate) struct TokenCookie {
    name: String,
    origins: Vec<String>,
}

impl TokenCookie {
    /// Checks the name (an RFC 6265 `cookie-name`, an HTTP token) and the
    /// origins (`scheme://host[:port]`, nothing after).
    pub(crate) fn new(name: &str, origins: &[String]) -> Result<Self, ConfigError> {
        let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidOption,
                "the token cookie's name must be a non-empty HTTP token (letters, digits, !#$%&'*+-.^_`|~)",
            ));
        }
        for origin in origins {
            if !is_origin(origin) {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidOption,
                    format!("{origin:?} is not an origin like https://app.example.com"),
                ));
            }
        }
        Ok(TokenCookie {
            name: name.to_string(),
            origins: origins.to_vec(),
        })
    }

    /// The token in the cookie, as [`Credentials`]: `Missing` when there is
    /// no such cookie.
    pub(crate) fn credentials<'a>(
        &self,
        method: &Method,
        headers: &'a HeaderMap,
    ) -> Credentials<'a> {
        let mut found = None;
        for pair in headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|value| value.as_bytes().split(|b| *b == b';'))
        {
            let pair = pair.trim_ascii();
            if !self.names(pair) {
                continue;
            }
            let value = &pair[self.name.len() + 1..];
            if found.replace(value).is_some() {
                return Credentials::Malformed(MalformedReason::MultipleCookies);
            }
        }
        let Some(value) = found else {
            return Credentials::Missing;
        };
        // A WebSocket handshake is a GET, but what follows is not read-only:
        // cross-site WebSocket hijacking rides on cookies too.
        let unsafe_request = !is_safe(method) || headers.contains_key(UPGRADE);
        if unsafe_request && !self.is_same_origin(headers) {
            return Credentials::Malformed(MalformedReason::CrossSiteCookie);
        }
        // RFC 6265 allows a value in double quotes.
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        token_credentials(value)
    }

    /// Removes the token cookie from the request's `Cookie` headers (the
    /// other cookies stay; a header left empty goes): what a proxy does
    /// where it removes `Authorization`.
    #[cfg_attr(not(feature = "proxy"), allow(dead_code))] // the proxy calls it
    pub(crate) fn remove_from(&self, headers: &mut HeaderMap) {
        if !headers.contains_key(COOKIE) {
            return;
        }
        let kept: Vec<HeaderValue> = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| {
                let rest: Vec<&[u8]> = value
                    .as_bytes()
                    .split(|b| *b == b';')
                    .map(<[u8]>::trim_ascii)
                    .filter(|pair| !pair.is_empty() && !self.names(pair))
                    .collect();
                (!rest.is_empty()).then(|| HeaderValue::from_bytes(&rest.join(&b"; "[..])).ok())?
            })
            .collect();
        headers.remove(COOKIE);
        for value in kept {
            headers.append(COOKIE, value);
        }
    }

    /// Whether a `name=value` pair is the token cookie.
    fn names(&self, pair: &[u8]) -> bool {
        pair.strip_prefix(self.name.as_bytes())
            .is_some_and(|rest| rest.starts_with(b"="))
    }

    fn is_same_origin(&self, headers: &HeaderMap) -> bool {
        let one = |name| {
            let mut values = headers.get_all(name).iter();
            match (values.next(), values.next()) {
                (Some(value), None) => value.to_str().ok(),
                _ => None,
            }
        };
        one("sec-fetch-site") == Some("same-origin")
            || one(ORIGIN.as_str()).is_some_and(|o| self.origins.iter().any(|a| a == o))
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `scheme://host[:port]` with nothing after, as browsers send `Origin`.
fn is_origin(value: &str) -> bool {
    let Ok(url) = url::Url::parse(value) else {
        return false;
    };
    let serialized = url.origin().ascii_serialization();
    serialized != "null" && serialized == value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_strategies::header_map as headers;

    fn cookie(origins: &[&str]) -> TokenCookie {
        let origins: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
        TokenCookie::new("access_token", &origins).unwrap()
    }

    #[test]
    fn finds_the_cookie_among_others_and_across_headers() {
        let c = cookie(&[]);
        let one = headers(&[("cookie", "theme=dark; access_token=abc.def.ghi; x=1")]);
        assert_eq!(
            c.credentials(&Method::GET, &one),
            Credentials::Bearer("abc.def.ghi")
        );
        let split = headers(&[
            ("cookie", "theme=dark"),
            ("cookie", "access_token=\"a.b.c\""),
        ]);
        assert_eq!(
            c.credentials(&Method::GET, &split),
            Credentials::Bearer("a.b.c")
        );
        let none = headers(&[("cookie", "my_access_token=a.b.c; access_tokenx=1")]);
        assert_eq!(c.credentials(&Method::GET, &none), Credentials::Missing);
        assert_eq!(
            c.credentials(&Method::GET, &HeaderMap::new()),
            Credentials::Missing
        );
    }

    #[test]
    fn malformed_cookies() {
        let c = cookie(&[]);
        for (value, reason) in [
            (
                "access_token=a; access_token=b",
                MalformedReason::MultipleCookies,
            ),
            ("access_token=", MalformedReason::EmptyToken),
            ("access_token=a,b", MalformedReason::TokenSyntax),
        ] {
            let h = headers(&[("cookie", value)]);
            assert_eq!(
                c.credentials(&Method::GET, &h),
                Credentials::Malformed(reason),
                "{value}"
            );
        }
    }

    #[test]
    fn unsafe_methods_need_a_same_origin_sign() {
        let c = cookie(&["https://app.example.com"]);
        let token = ("cookie", "access_token=a.b.c");
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            for refused in [
                headers(&[token]),
                headers(&[token, ("sec-fetch-site", "same-site")]),
                headers(&[token, ("sec-fetch-site", "cross-site")]),
                headers(&[token, ("origin", "https://evil.example")]),
                headers(&[token, ("origin", "null")]),
            ] {
                assert_eq!(
                    c.credentials(&method, &refused),
                    Credentials::Malformed(MalformedReason::CrossSiteCookie),
                    "{method} {refused:?}"
                );
            }
            for allowed in [
                headers(&[token, ("sec-fetch-site", "same-origin")]),
                headers(&[token, ("origin", "https://app.example.com")]),
            ] {
                assert_eq!(
                    c.credentials(&method, &allowed),
                    Credentials::Bearer("a.b.c")
                );
            }
        }
        assert_eq!(
            c.credentials(&Method::GET, &headers(&[token])),
            Credentials::Bearer("a.b.c")
        );
        // A WebSocket handshake from another site.
        let upgrade = headers(&[
            token,
            ("upgrade", "websocket"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(
            c.credentials(&Method::GET, &upgrade),
            Credentials::Malformed(MalformedReason::CrossSiteCookie)
        );
        let own = headers(&[
            token,
            ("upgrade", "websocket"),
            ("origin", "https://app.example.com"),
        ]);
        assert_eq!(
            c.credentials(&Method::GET, &own),
            Credentials::Bearer("a.b.c")
        );
    }

    #[test]
    fn removing_keeps_the_other_cookies() {
        let c = cookie(&[]);
        let mut h = headers(&[
            ("cookie", "theme=dark; access_token=a.b.c; x=1"),
            ("cookie", "access_token=d"),
            ("cookie", "access_tokens=keep"),
        ]);
        c.remove_from(&mut h);
        let left: Vec<&str> = h
            .get_all("cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(left, ["theme=dark; x=1", "access_tokens=keep"]);
        let mut none = HeaderMap::new();
        c.remove_from(&mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn configuration_is_checked() {
        assert!(TokenCookie::new("", &[]).is_err());
        assert!(TokenCookie::new("a b", &[]).is_err());
        assert!(TokenCookie::new("a=b", &[]).is_err());
        for bad in [
            "https://app.example.com/",
            "app.example.com",
            "https://a.example/x",
            "null",
        ] {
            assert!(TokenCookie::new("t", &[bad.to_string()]).is_err(), "{bad}");
        }
        for good in ["https://app.example.com", "http://localhost:3000"] {
            assert!(TokenCookie::new("t", &[good.to_string()]).is_ok(), "{good}");
        }
    }
}
