//! Headers that a client may not set: those that frameworks, servers and
//! proxies read as the request's original URL, path, prefix, host, scheme,
//! method or client address. An upstream that routes or authorizes by one
//! of them could be steered to what the proxy never checked, so they are
//! removed from every client request unless the configuration trusts them.
//!
//! The one list is [`SPOOFABLE`]; each entry names who reads the header.
//! `X-Forwarded-For` is not in it: the proxy always rewrites it (see
//! `forward.rs`).

use http::header::HeaderName;

/// What lets a client's value through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeptBy {
    /// `trust_x_forwarded_for = true` (a trusted proxy in front sets it), or
    /// `trusted_headers`.
    TrustedForwardedFor,
    /// Only naming it in `trusted_headers`.
    TrustedHeaders,
}

use KeptBy::{TrustedForwardedFor, TrustedHeaders};

/// Every header removed from client requests, lower case, with who reads
/// it. Keep it sorted by name.
#[rustfmt::skip]
const SPOOFABLE: [(&str, KeptBy, &str); 33] = [
    ("cf-connecting-ip",          TrustedForwardedFor, "Cloudflare"),
    ("client-ip",                 TrustedForwardedFor, "Rails ActionDispatch::RemoteIp"),
    ("fastly-client-ip",          TrustedForwardedFor, "Fastly"),
    ("forwarded",                 TrustedForwardedFor, "RFC 7239; Spring, ASP.NET Core, Express"),
    ("front-end-https",           TrustedHeaders,      "Microsoft ISA/OWA, Rack"),
    ("true-client-ip",            TrustedForwardedFor, "Akamai, Cloudflare"),
    ("x-client-ip",               TrustedForwardedFor, "Apache mod_remoteip setups, request-ip (Node)"),
    ("x-cluster-client-ip",       TrustedForwardedFor, "Rackspace/Riverbed balancers, Rack"),
    ("x-envoy-original-dst-host", TrustedHeaders,      "Envoy original-destination clusters (picks the upstream host)"),
    ("x-envoy-original-path",     TrustedHeaders,      "Envoy (the path before prefix_rewrite); Spring asked to read it"),
    ("x-forwarded-host",          TrustedForwardedFor, "Spring, ASP.NET Core, Django USE_X_FORWARDED_HOST, Rails, Express"),
    ("x-forwarded-method",        TrustedHeaders,      "Traefik ForwardAuth, Caddy forward_auth, Authelia"),
    ("x-forwarded-path",          TrustedHeaders,      "Kong"),
    ("x-forwarded-port",          TrustedForwardedFor, "Spring, Django USE_X_FORWARDED_PORT, Rack"),
    ("x-forwarded-prefix",        TrustedForwardedFor, "Spring ForwardedHeaderFilter, ASP.NET Core, Werkzeug ProxyFix, Traefik, Kong, YARP"),
    ("x-forwarded-proto",         TrustedForwardedFor, "every framework (the scheme)"),
    ("x-forwarded-protocol",      TrustedHeaders,      "some load balancers, Rack setups"),
    ("x-forwarded-scheme",        TrustedHeaders,      "Rack, nginx configs"),
    ("x-forwarded-server",        TrustedHeaders,      "Apache mod_proxy; a host override in cache-poisoning research"),
    ("x-forwarded-ssl",           TrustedHeaders,      "Rack, Rails"),
    ("x-forwarded-uri",           TrustedHeaders,      "Traefik ForwardAuth, Caddy forward_auth, Authelia, oauth2-proxy"),
    ("x-host",                    TrustedHeaders,      "a host override in cache-poisoning research (PortSwigger)"),
    ("x-http-host-override",      TrustedHeaders,      "a host override in cache-poisoning research (PortSwigger)"),
    ("x-http-method",             TrustedHeaders,      "OData, Microsoft services"),
    ("x-http-method-override",    TrustedHeaders,      "Google APIs, Express method-override, Symfony, Laravel"),
    ("x-method-override",         TrustedHeaders,      "IBM, Express method-override"),
    ("x-original-host",           TrustedHeaders,      "ASP.NET Core ForwardedHeaders, Azure Front Door"),
    ("x-original-method",         TrustedHeaders,      "ingress-nginx auth subrequests"),
    ("x-original-prefix",         TrustedHeaders,      "ASP.NET Core ForwardedHeaders"),
    ("x-original-uri",            TrustedHeaders,      "nginx auth_request configs, ingress-nginx"),
    ("x-original-url",            TrustedHeaders,      "IIS URL Rewrite; Symfony and Zend before CVE-2018-14773; ingress-nginx"),
    ("x-real-ip",                 TrustedForwardedFor, "nginx realip, Gin, Echo, Express setups"),
    ("x-rewrite-url",             TrustedHeaders,      "IIS ISAPI_Rewrite; Symfony and Zend before CVE-2018-14773"),
];

/// Whether `name` (lower case) is in the list, so that `trusted_headers`
/// may name it.
pub(crate) fn is_spoofable(name: &str) -> bool {
    SPOOFABLE
        .binary_search_by(|(entry, _, _)| entry.cmp(&name))
        .is_ok()
}

/// The headers removed from client requests under one configuration.
#[derive(Clone, Debug)]
pub(crate) struct Untrusted {
    /// Sorted, for a binary search per request header.
    names: Box<[&'static str]>,
}

impl Untrusted {
    /// Every listed header but those kept by `trust_x_forwarded_for` (when
    /// it is on) and those named in `trusted`.
    pub(crate) fn new(trust_x_forwarded_for: bool, trusted: &[HeaderName]) -> Untrusted {
        let names = SPOOFABLE
            .iter()
            .filter(|(name, kept, _)| {
                let by_forwarded_for = trust_x_forwarded_for && *kept == TrustedForwardedFor;
                !by_forwarded_for && !trusted.iter().any(|t| t.as_str() == *name)
            })
            .map(|(name, _, _)| *name)
            .collect();
        Untrusted { names }
    }

    /// Whether a header of this name (lower case, as `HeaderName` keeps
    /// it) is removed.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.binary_search(&name).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    impl Untrusted {
        fn remove_from(&self, headers: &mut HeaderMap) {
            let doomed: Vec<HeaderName> = headers
                .keys()
                .filter(|name| self.contains(name.as_str()))
                .cloned()
                .collect();
            for name in doomed {
                headers.remove(name);
            }
        }
    }

    #[test]
    fn the_list_is_sorted_lower_case_and_valid() {
        for pair in SPOOFABLE.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (name, _, source) in SPOOFABLE {
            assert_eq!(HeaderName::from_static(name).as_str(), name);
            assert!(!source.is_empty());
        }
    }

    #[test]
    fn forwarding_trust_keeps_only_the_forwarding_headers() {
        let mut headers = HeaderMap::new();
        for (name, _, _) in SPOOFABLE {
            headers.insert(HeaderName::from_static(name), "x".parse().unwrap());
        }
        headers.insert("x-keep", "1".parse().unwrap());
        let mut all = headers.clone();
        Untrusted::new(false, &[]).remove_from(&mut all);
        assert_eq!(all.len(), 1);
        let mut trusted = headers.clone();
        Untrusted::new(true, &[HeaderName::from_static("x-forwarded-uri")])
            .remove_from(&mut trusted);
        assert!(trusted.contains_key("x-forwarded-host"));
        assert!(trusted.contains_key("x-forwarded-uri"));
        assert!(!trusted.contains_key("x-original-url"));
        assert!(!trusted.contains_key("x-envoy-original-path"));
        assert!(is_spoofable("x-envoy-original-path"));
        assert!(!is_spoofable("x-forwarded-for"));
    }
}
