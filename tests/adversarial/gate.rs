//! The two gates under test (the tower layer and `scopegate proxy`), and
//! what a request sent to them must get.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Layer,
    Proxy,
}

/// What the verifier is configured with: through `VerifierBuilder` for the
/// layer, through the TOML file for the proxy.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    pub(crate) algorithms: Option<Vec<Algorithm>>,
    pub(crate) leeway: Duration,
    /// Instead of the `client_id` allow-list (the RFC 9068 profile).
    pub(crate) audiences: Option<Vec<&'static str>>,
    pub(crate) require_at_jwt: bool,
    /// Another key-set endpoint than the issuer's.
    pub(crate) jwks_url: Option<String>,
    pub(crate) key_set_ttl: Option<Duration>,
    pub(crate) unknown_kid_cooldown: Option<Duration>,
}

/// `GET /read` needs `READ`, `GET /write` needs `WRITE`, `GET /me` needs a
/// valid token.
pub(crate) struct Gate {
    pub(crate) target: Target,
    pub(crate) addr: SocketAddr,
    pub(crate) url: String,
    pub(crate) reached: Arc<AtomicU64>,
    /// The layer's verifier (none for the proxy, which runs its own).
    pub(crate) verifier: Option<Verifier>,
    pub(crate) _backend: Api,
    pub(crate) _proxy: Option<RunningProxy>,
}

pub(crate) async fn gate(target: Target, issuer: &LocalIssuer, policy: Policy) -> Gate {
    let reached = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&reached);
    let handler = move || {
        let counted = Arc::clone(&counted);
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            "reached"
        }
    };
    match target {
        Target::Layer => {
            let verifier = layer_verifier(issuer, &policy);
            let app = Router::new()
                .route(
                    "/read",
                    get(handler.clone()).route_layer(verifier.require(READ).unwrap()),
                )
                .route(
                    "/write",
                    get(handler.clone()).route_layer(verifier.require(WRITE).unwrap()),
                )
                .route("/me", get(handler).route_layer(verifier.authenticated()));
            let api = serve(app).await;
            Gate {
                target,
                addr: api.addr,
                url: api.url.clone(),
                reached,
                verifier: Some(verifier),
                _backend: api,
                _proxy: None,
            }
        }
        Target::Proxy => {
            let upstream = serve(Router::new().fallback(handler)).await;
            let proxy = start_proxy(&proxy_config(issuer, &policy, &upstream.url)).await;
            Gate {
                target,
                addr: proxy.addr,
                url: proxy.url.clone(),
                reached,
                verifier: None,
                _backend: upstream,
                _proxy: Some(proxy),
            }
        }
    }
}

pub(crate) fn layer_verifier(issuer: &LocalIssuer, policy: &Policy) -> Verifier {
    let source = match &policy.jwks_url {
        Some(url) => Issuer::with_jwks_url(issuer.url(), url.clone()),
        None => issuer.issuer(),
    };
    let mut builder = Verifier::builder(source)
        .token_use("access")
        .resource_server(photo_api())
        .resource_server(other_api())
        .leeway(policy.leeway);
    builder = match &policy.audiences {
        Some(audiences) => builder.audiences(audiences.iter().copied()),
        None => builder.client_ids([CLIENT]),
    };
    if let Some(algorithms) = &policy.algorithms {
        builder = builder.algorithms(algorithms.iter().copied());
    }
    if policy.require_at_jwt {
        builder = builder.require_at_jwt();
    }
    if let Some(ttl) = policy.key_set_ttl {
        builder = builder
            .key_set_ttl(ttl)
            .key_set_ttl_bounds(ttl, Duration::from_secs(86_400));
    }
    if let Some(cooldown) = policy.unknown_kid_cooldown {
        builder = builder.unknown_kid_cooldown(cooldown);
    }
    builder.build().unwrap()
}

pub(crate) fn proxy_config(issuer: &LocalIssuer, policy: &Policy, upstream: &str) -> String {
    let list = |items: Vec<String>| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let jwks_url = policy.jwks_url.clone().unwrap_or_else(|| issuer.jwks_url());
    let mut config = ProxyToml::new(upstream)
        .issuer_key(&format!("url = {:?}", issuer.url()))
        .issuer_key(&format!("jwks_url = {jwks_url:?}"))
        .issuer_key(r#"token_use = "access""#)
        .issuer_key(&format!("leeway = \"{}ms\"", policy.leeway.as_millis()));
    config = config.issuer_key(&match &policy.audiences {
        Some(audiences) => format!(
            "audiences = {}",
            list(audiences.iter().map(|a| a.to_string()).collect())
        ),
        None => format!("client_ids = {}", list(vec![CLIENT.to_string()])),
    });
    if let Some(algorithms) = &policy.algorithms {
        let names = algorithms.iter().map(|a| a.as_str().to_string()).collect();
        config = config.issuer_key(&format!("algorithms = {}", list(names)));
    }
    if policy.require_at_jwt {
        config = config.issuer_key("require_at_jwt = true");
    }
    if let Some(ttl) = policy.key_set_ttl {
        config = config.issuer_key(&format!("key_set_ttl = \"{}ms\"", ttl.as_millis()));
    }
    if let Some(cooldown) = policy.unknown_kid_cooldown {
        config = config.issuer_key(&format!(
            "unknown_kid_cooldown = \"{}ms\"",
            cooldown.as_millis()
        ));
    }
    config
        .tail(&format!(
            r#"
[[routes]]
methods = ["GET"]
path = "/read"
require = ["{READ}"]

[[routes]]
methods = ["GET"]
path = "/write"
require = ["{WRITE}"]

[[routes]]
methods = ["GET"]
path = "/me"
"#
        ))
        .render()
}

/// An answer, read off the socket.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.head.contains(needle) || String::from_utf8_lossy(&self.body).contains(needle)
    }
}

/// What a request must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// 200, and the handler or upstream is reached once.
    Accepted,
    /// 401 with a bare challenge: no bearer credentials (RFC 6750 §3.1).
    NoCredentials,
    /// 400 `invalid_request`.
    InvalidRequest,
    /// 401 `invalid_token`.
    InvalidToken,
    /// 403 `insufficient_scope`, naming the scope.
    InsufficientScope(&'static str),
    /// 503 with `Retry-After`, no challenge: the key set is unavailable.
    Unavailable,
}

impl Gate {
    /// Sends a request with these raw `Authorization` values.
    pub(crate) async fn send(&self, target: &str, authorization: &[&[u8]]) -> Reply {
        let mut request = format!("GET {target} HTTP/1.1\r\nHost: gate\r\n").into_bytes();
        for value in authorization {
            request.extend_from_slice(b"Authorization: ");
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"Connection: close\r\n\r\n");
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        // A server may answer and close before reading a huge request.
        let _ = stream.write_all(&request).await;
        let mut raw = Vec::new();
        // A server may close without reading a large request to its end.
        let _ = stream.read_to_end(&mut raw).await;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Reply {
            status,
            head,
            body: raw.get(split + 4..).unwrap_or_default().to_vec(),
        }
    }

    /// Sends the request and checks the answer, and that a rejected request
    /// reached nothing and an accepted one reached the handler once.
    pub(crate) async fn expect(
        &self,
        target: &str,
        authorization: &[&[u8]],
        expect: Expect,
        what: &str,
    ) {
        let before = self.reached.load(Ordering::SeqCst);
        let reply = self.send(target, authorization).await;
        let who = format!("{:?}: {what}", self.target);
        let challenge = reply.header("www-authenticate");
        match expect {
            Expect::Accepted => assert_eq!(reply.status, 200, "{who}\n{}", reply.head),
            Expect::NoCredentials => {
                assert_eq!(reply.status, 401, "{who}\n{}", reply.head);
                assert_eq!(challenge, Some(r#"Bearer realm="api""#), "{who}");
            }
            Expect::InvalidRequest => {
                assert_eq!(reply.status, 400, "{who}\n{}", reply.head);
                assert_eq!(
                    challenge,
                    Some(r#"Bearer realm="api", error="invalid_request""#),
                    "{who}"
                );
            }
            Expect::InvalidToken => {
                assert_eq!(reply.status, 401, "{who}\n{}", reply.head);
                assert_eq!(
                    challenge,
                    Some(r#"Bearer realm="api", error="invalid_token""#),
                    "{who}"
                );
            }
            Expect::InsufficientScope(scope) => {
                assert_eq!(reply.status, 403, "{who}\n{}", reply.head);
                let wanted =
                    format!(r#"Bearer realm="api", error="insufficient_scope", scope="{scope}""#);
                assert_eq!(challenge, Some(wanted.as_str()), "{who}");
            }
            Expect::Unavailable => {
                assert_eq!(reply.status, 503, "{who}\n{}", reply.head);
                let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=3600).contains(&retry), "{who}: Retry-After {retry}");
                assert_eq!(challenge, None, "{who}");
            }
        }
        let after = self.reached.load(Ordering::SeqCst);
        let reached = if expect == Expect::Accepted { 1 } else { 0 };
        assert_eq!(
            after - before,
            reached,
            "{who}: the handler or upstream was reached {} times",
            after - before
        );
    }

    /// `GET /read` with this bearer token.
    pub(crate) async fn token(&self, token: &str, expect: Expect, what: &str) {
        let header = format!("Bearer {token}");
        self.expect("/read", &[header.as_bytes()], expect, what)
            .await;
    }
}
