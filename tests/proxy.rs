//! `scopegate proxy` over real sockets: a real upstream that records what
//! it receives, the local issuer, and the proxy (in process, or the binary).

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::IntoResponse;
use bytes::Bytes;
use scopegate::local::{Fault, LocalIssuer};
use scopegate::proxy::ProxyConfig;
use serde_json::{Value, json};
use support::proxy::{ProxyToml, RunningProxy, start_proxy};
use support::*;

/// What the upstream received.
#[derive(Clone, Debug)]
struct Seen {
    uri: String,
    headers: BTreeMap<String, String>,
    body_len: u64,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

/// The upstream: records each request (headers and body length, not the
/// body), answers with what it saw. `/slow` waits 1.5 s; `/download?n=N`
/// streams N bytes back.
async fn upstream() -> (Api, Recorder) {
    async fn handle(
        State(recorder): State<Recorder>,
        request: Request,
    ) -> axum::response::Response {
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
            .collect();
        let mut body = request.into_body().into_data_stream();
        let mut body_len = 0u64;
        use futures_util::StreamExt as _;
        while let Some(Ok(chunk)) = body.next().await {
            body_len += chunk.len() as u64;
        }
        let seen = Seen {
            uri: uri.clone(),
            headers,
            body_len,
        };
        recorder.0.lock().unwrap().push(seen.clone());
        if uri.starts_with("/slow") {
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        if let Some(n) = uri.strip_prefix("/download?n=") {
            let total: usize = n.parse().unwrap();
            let chunks = futures_util::stream::iter((0..total.div_ceil(65536)).map(move |i| {
                let len = 65536.min(total - i * 65536);
                Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; len]))
            }));
            return Body::from_stream(chunks).into_response();
        }
        (
            [
                ("connection", "close, x-hop"),
                ("x-hop", "1"),
                ("x-upstream", "yes"),
            ],
            axum::Json(
                json!({ "uri": seen.uri, "headers": seen.headers, "body_len": seen.body_len }),
            ),
        )
            .into_response()
    }
    let recorder = Recorder::default();
    let router = Router::new().fallback(handle).with_state(recorder.clone());
    (serve(router).await, recorder)
}

/// The test config: the photo routes, claim forwarding, `extra` appended.
fn config(issuer: &LocalIssuer, upstream: &str, extra: &str) -> ProxyToml {
    ProxyToml::for_issuer(issuer, upstream)
        .admin(true)
        .setting("upstream_timeout", r#""1s""#)
        .setting("connect_timeout", r#""500ms""#)
        .setting("shutdown_timeout", r#""5s""#)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            r#"
[[routes]]
methods = ["GET"]
path = "/photos"
require = ["{READ}"]

[[routes]]
methods = ["POST"]
path = "/photos"
require = ["{WRITE}"]

[[routes]]
methods = ["DELETE"]
path = "/photos/{{id}}"
any_of = ["{WRITE}", "https://photos.example.com/photos.admin"]

[[routes]]
path = "/public/{{*rest}}"
public = true

[[routes]]
path = "/me"

[[routes]]
path = "/slow"
public = true

[[routes]]
methods = ["GET", "PUT"]
path = "/download"
public = true

[[routes]]
methods = ["PUT"]
path = "/upload"
require = ["{WRITE}"]

[forward]
claims = {{ sub = "x-auth-sub", client_id = "x-auth-client-id", scope = "x-auth-scope" }}
{extra}
"#
        ))
}

fn config_text(issuer: &LocalIssuer, upstream: &str, extra: &str) -> String {
    config(issuer, upstream, extra).render()
}

type Running = RunningProxy;

async fn start(text: &str) -> Running {
    start_proxy(text).await
}

async fn setup() -> (LocalIssuer, Api, Recorder, Running) {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let proxy = start(&config_text(&issuer, &api.url, "")).await;
    (issuer, api, recorder, proxy)
}

async fn send(method: &str, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = http().request(method.parse().unwrap(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The status of a GET of `path` sent byte for byte.
async fn raw_status(base: &str, path: &str) -> u16 {
    raw_request(
        base,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// The status of a request sent byte for byte.
async fn raw_request(base: &str, request: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn metrics(proxy: &Running) -> String {
    support::proxy::admin_metrics(&proxy.admin).await
}

#[tokio::test]
async fn every_outcome_has_its_status_and_only_passing_requests_reach_the_upstream() {
    let (issuer, _api, recorder, proxy) = setup().await;
    let read = token(&issuer, &[READ]);
    let photos = format!("{}/photos", proxy.url);
    let cases = [
        ("GET", photos.clone(), Some(read.as_str()), 200),
        ("GET", photos.clone(), None, 401),
        ("GET", photos.clone(), Some("not.a.token"), 401),
        ("POST", photos.clone(), Some(read.as_str()), 403),
        ("DELETE", format!("{photos}/7"), Some(read.as_str()), 403),
        (
            "GET",
            format!("{}/nowhere", proxy.url),
            Some(read.as_str()),
            404,
        ),
        ("PATCH", photos.clone(), Some(read.as_str()), 404),
    ];
    for (method, url, token, status) in cases {
        assert_eq!(
            send(method, &url, token).await.status(),
            status,
            "{method} {url}"
        );
    }
    // Sent raw: an HTTP client would resolve the dot segments itself.
    for path in [
        "/public/a/../../photos",
        "/public/%2e%2e/photos",
        "/public//photos",
        "/public/a%2fb",
        // What a decoding, case-insensitive or `;`-stripping upstream would
        // route to /photos, while the proxy would not.
        "/ph%6ftos",
        "/PHOTOS",
        "/photos/",
        "/photos;x",
        "/public/..;/photos",
    ] {
        assert_eq!(raw_status(&proxy.url, path).await, 400, "{path}");
    }
    for (request, status) in [
        (
            "get /photos HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "TRACE /public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            405,
        ),
        (
            "GET http://evil.example/public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "GET /public/x HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "POST /public/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
            400,
        ),
    ] {
        assert_eq!(
            raw_request(&proxy.url, request).await,
            status,
            "{request:?}"
        );
    }
    let response = http()
        .get(&photos)
        .header("authorization", format!("Bearer {read}"))
        .header("authorization", "Bearer x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="api", error="invalid_request""#
    );
    // Only the first request passed.
    assert_eq!(recorder.seen().len(), 1);
    assert_eq!(proxy.handle.forwarded(), 1);
    let text = metrics(&proxy).await;
    for line in [
        r#"scopegate_requests_total{outcome="forwarded"} 1"#,
        r#"scopegate_requests_total{outcome="401"} 2"#,
        r#"scopegate_requests_total{outcome="403"} 2"#,
        r#"scopegate_requests_total{outcome="404"} 2"#,
        r#"scopegate_requests_total{outcome="400"} 14"#,
        r#"scopegate_key_set_fetches_total{result="ok"} 1"#,
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    assert!(
        text.contains("scopegate_verification_seconds_count 6"),
        "{text}"
    );
}

/// A scraper that asks for OpenMetrics (as Prometheus does) gets it, with
/// the same samples; anything else gets the Prometheus text format.
#[tokio::test]
async fn metrics_speak_openmetrics_when_asked() {
    let (_issuer, _api, _recorder, proxy) = setup().await;
    // Ready first, so that both scrapes see the same counts.
    let started = Instant::now();
    while http()
        .get(format!("{}/readyz", proxy.admin))
        .send()
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let scrape = |accept: &'static str| {
        let url = format!("{}/metrics", proxy.admin);
        async move {
            let response = http()
                .get(url)
                .header("accept", accept)
                .send()
                .await
                .unwrap();
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (content_type, response.text().await.unwrap())
        }
    };
    let (content_type, open) = scrape("application/openmetrics-text;version=1.0.0,*/*;q=0.1").await;
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        open.contains("# TYPE scopegate_requests counter\n"),
        "{open}"
    );
    let (content_type, text) = scrape("*/*").await;
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(!text.contains("# EOF"), "{text}");
    assert!(
        text.contains("# TYPE scopegate_requests_total counter\n"),
        "{text}"
    );
    let samples = |t: &str| -> Vec<String> {
        let mut lines: Vec<String> = t
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(samples(&open), samples(&text));
}

/// `/metrics` of a proxy that has served a request, checked by
/// `promtool check metrics` (the Prometheus project's own linter). Skipped
/// when promtool is not installed, unless `CI` or
/// `SCOPEGATE_REQUIRE_PROMTOOL` is set: then a missing promtool fails.
#[tokio::test]
async fn metrics_pass_promtool_check_metrics() {
    use std::io::Write as _;
    let required = ["CI", "SCOPEGATE_REQUIRE_PROMTOOL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            eprintln!("promtool not on PATH: skipped (set SCOPEGATE_REQUIRE_PROMTOOL to fail)");
            return;
        }
        Err(e) => panic!("promtool check metrics cannot run: {e}"),
    };
    let (issuer, _api, _recorder, proxy) = setup().await;
    let token = token(&issuer, &[READ]);
    let url = format!("{}/photos", proxy.url);
    assert_eq!(send("GET", &url, Some(&token)).await.status(), 200);
    assert_eq!(send("GET", &url, None).await.status(), 401);
    let text = metrics(&proxy).await;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

#[tokio::test]
async fn a_token_cookie_when_configured_and_same_origin_for_writes() {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let text = config(&issuer, &api.url, "")
        .setting("token_cookie", r#""access_token""#)
        .setting("token_cookie_origins", r#"["https://photos.example.com"]"#)
        .render();
    let proxy = start(&text).await;
    let cookie = |scopes: &[&str]| format!("access_token={}", token(&issuer, scopes));
    let url = format!("{}/photos", proxy.url);
    let read = http()
        .get(&url)
        .header("cookie", cookie(&[READ]))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let forged_write = http()
        .post(&url)
        .header("cookie", cookie(&[WRITE]))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged_write.status(), 400);
    let write = http()
        .post(&url)
        .header("cookie", cookie(&[WRITE]))
        .header("origin", "https://photos.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 200);
    let seen = recorder.seen();
    assert_eq!(
        seen.len(),
        2,
        "the refused write never reached the upstream"
    );
    // A public route: nothing checked the cookie, so it does not go on.
    let public = http()
        .get(format!("{}/public/x", proxy.url))
        .header("cookie", format!("theme=dark; {}", cookie(&[READ])))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    let seen = recorder.seen();
    let last = seen.last().unwrap();
    assert_eq!(last.headers["cookie"], "theme=dark");
}

#[tokio::test]
async fn resource_metadata_is_served_and_named_in_challenges() {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let text = config(
        &issuer,
        &api.url,
        "\n[resource_metadata]\nresource = \"https://photos.example.com\"\nresource_name = \"Photos\"\n",
    )
    .render();
    let proxy = start(&text).await;
    let response = send(
        "GET",
        &format!("{}/.well-known/oauth-protected-resource", proxy.url),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: serde_json::Value =
        serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(document["resource"], "https://photos.example.com");
    assert_eq!(document["authorization_servers"][0], issuer.issuer().url());
    assert_eq!(document["resource_name"], "Photos");
    assert_eq!(
        document["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
    let refused = send("GET", &format!("{}/photos", proxy.url), None).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(
            "resource_metadata=\"https://photos.example.com/.well-known/oauth-protected-resource\""
        ),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{READ}\"")),
        "{challenge}"
    );
    assert!(recorder.seen().is_empty(), "nothing reached the upstream");
}

#[tokio::test]
async fn public_routes_and_authenticated_routes() {
    let (issuer, _api, recorder, proxy) = setup().await;
    assert_eq!(
        send("GET", &format!("{}/public/x/y", proxy.url), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        send("POST", &format!("{}/public/z", proxy.url), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        send("GET", &format!("{}/me", proxy.url), None)
            .await
            .status(),
        401
    );
    assert_eq!(
        send(
            "GET",
            &format!("{}/me", proxy.url),
            Some(&token(&issuer, &[]))
        )
        .await
        .status(),
        200
    );
    let seen = recorder.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|s| !s.headers.contains_key("x-auth-sub") || s.uri == "/me")
    );
}

#[tokio::test]
async fn routes_with_groups_and_max_token_age_over_http() {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let text = ProxyToml::for_issuer(&issuer, &api.url)
        .admin(true)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            r#"
[[routes]]
methods = ["GET"]
path = "/edit"
require = ["{READ}"]
groups = ["editors", "admins"]

[[routes]]
path = "/account"
max_token_age = "15m"
"#
        ))
        .render();
    let proxy = start(&text).await;
    let edit = format!("{}/edit", proxy.url);
    let account = format!("{}/account", proxy.url);
    let grouped = |scopes: &[&str], groups: &[&str]| {
        issuer
            .token()
            .client_id(CLIENT)
            .scopes(scopes.iter().copied())
            .claim("cognito:groups", json!(groups))
            .mint()
    };
    let challenge = |response: &reqwest::Response| {
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string()
    };

    let member = send("GET", &edit, Some(&grouped(&[READ], &["admins"]))).await;
    assert_eq!(member.status(), 200);
    let outsider = send("GET", &edit, Some(&grouped(&[READ], &["viewers"]))).await;
    assert_eq!(outsider.status(), 403);
    assert_eq!(challenge(&outsider), r#"Bearer realm="api""#);
    let no_scope = send("GET", &edit, Some(&grouped(&[], &["admins"]))).await;
    assert_eq!(no_scope.status(), 403);
    assert!(challenge(&no_scope).contains("insufficient_scope"));
    let mistyped = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("cognito:groups", json!("admins"))
        .mint();
    assert_eq!(send("GET", &edit, Some(&mistyped)).await.status(), 401);

    assert_eq!(
        send("GET", &account, Some(&token(&issuer, &[])))
            .await
            .status(),
        200
    );
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let old = issuer
        .token()
        .client_id(CLIENT)
        .issued_at(hour_ago)
        .expires_in(Duration::from_secs(7200))
        .mint();
    let refused = send("POST", &account, Some(&old)).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        challenge(&refused),
        r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="900""#
    );

    // Only the two passing requests reached the upstream, and the refusals
    // are counted as 403 and 401 (never as 503).
    let seen: Vec<String> = recorder.seen().into_iter().map(|s| s.uri).collect();
    assert_eq!(seen, ["/edit", "/account"]);
    let text = metrics(&proxy).await;
    for line in [
        r#"scopegate_requests_total{outcome="forwarded"} 2"#,
        r#"scopegate_requests_total{outcome="403"} 2"#,
        r#"scopegate_requests_total{outcome="401"} 2"#,
        r#"scopegate_requests_total{outcome="503"} 0"#,
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
}

#[tokio::test]
async fn claims_are_forwarded_and_spoofed_claim_headers_removed() {
    let (issuer, _api, recorder, proxy) = setup().await;
    let read = token(&issuer, &[READ]);
    for path in ["/photos", "/public/p"] {
        let response = http()
            .get(format!("{}{path}?q=1", proxy.url))
            .bearer_auth(&read)
            .header("x-auth-sub", "admin")
            .header("X-Auth-Client-Id", "spoofed")
            .header("x-auth-scope", "https://photos.example.com/photos.write")
            .header("x-forwarded-for", "1.2.3.4")
            .header("connection", "x-custom")
            .header("x-custom", "hop")
            .header("te", "deflate, trailers;q=1")
            .header("x_auth_sub", "admin")
            .header("x-http-method-override", "DELETE")
            .header("x-original-url", "/admin")
            .header("forwarded", "for=1.2.3.4")
            .header("x-real-ip", "1.2.3.4")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers().get("x-hop").is_none(),
            "hop-by-hop response header forwarded"
        );
        assert_eq!(response.headers()["x-upstream"], "yes");
        assert!(response.headers().contains_key("x-request-id"));
    }
    let seen = recorder.seen();
    let gated = &seen[0].headers;
    assert_eq!(seen[0].uri, "/photos?q=1");
    assert_eq!(gated["x-auth-sub"], CLIENT);
    assert_eq!(gated["x-auth-client-id"], CLIENT);
    assert_eq!(gated["x-auth-scope"], READ);
    assert_eq!(gated["x-forwarded-for"], "127.0.0.1");
    assert_eq!(gated["x-forwarded-proto"], "http");
    assert!(
        gated.contains_key("authorization"),
        "kept unless strip_authorization"
    );
    assert!(gated.contains_key("x-request-id"));
    assert!(
        !gated.contains_key("x-custom"),
        "a Connection-named header forwarded"
    );
    assert_eq!(
        gated["te"], "trailers",
        "only the trailers of TE, which the proxy relays"
    );
    for dropped in [
        "x_auth_sub",
        "x-http-method-override",
        "x-original-url",
        "forwarded",
        "x-real-ip",
    ] {
        assert!(!gated.contains_key(dropped), "{dropped} forwarded");
    }
    let public = &seen[1].headers;
    assert!(
        !public.contains_key("authorization"),
        "an unchecked token reached the upstream on a public route"
    );
    for spoofed in [
        "x-auth-sub",
        "x-auth-client-id",
        "x-auth-scope",
        "x_auth_sub",
    ] {
        assert!(
            !public.contains_key(spoofed),
            "{spoofed} reached the upstream on a public route"
        );
    }
}

#[tokio::test]
async fn strip_authorization_and_trusted_forwarded_for() {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let extra = "strip_authorization = true\ntrust_x_forwarded_for = true";
    let proxy = start(&config_text(&issuer, &api.url, extra)).await;
    let response = http()
        .get(format!("{}/photos", proxy.url))
        .bearer_auth(token(&issuer, &[READ]))
        .header("x-forwarded-for", "10.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = &recorder.seen()[0].headers;
    assert!(!headers.contains_key("authorization"));
    assert_eq!(headers["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
}

/// Headers that frameworks, servers and proxies read as the original URL,
/// path, prefix, host, scheme, method or client address: written out here
/// on their own, so that the proxy's list is checked, not trusted.
const ORIGINAL_REQUEST_HEADERS: [&str; 33] = [
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-forwarded-uri",
    "x-envoy-original-path",
    "x-envoy-original-dst-host",
    "x-forwarded-path",
    "x-forwarded-prefix",
    "x-original-prefix",
    "x-forwarded-host",
    "x-original-host",
    "x-host",
    "x-http-host-override",
    "x-forwarded-server",
    "x-forwarded-port",
    "x-forwarded-proto",
    "x-forwarded-scheme",
    "x-forwarded-protocol",
    "x-forwarded-ssl",
    "front-end-https",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-method",
    "x-forwarded-method",
    "forwarded",
    "x-real-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "client-ip",
];

/// What the upstream saw of a GET /photos that carried every header of
/// [`ORIGINAL_REQUEST_HEADERS`] (also spelled with `_`).
async fn seen_with_every_original_header(forward: &str) -> BTreeMap<String, String> {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let proxy = start(&config_text(&issuer, &api.url, forward)).await;
    let mut request = http()
        .get(format!("{}/photos", proxy.url))
        .bearer_auth(token(&issuer, &[READ]));
    for name in ORIGINAL_REQUEST_HEADERS {
        request = request
            .header(name, "/admin")
            .header(name.replace('-', "_"), "/admin");
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    recorder.seen().remove(0).headers
}

#[tokio::test]
async fn headers_read_as_the_original_url_path_host_or_method_never_reach_the_upstream() {
    let seen = seen_with_every_original_header("").await;
    for name in ORIGINAL_REQUEST_HEADERS {
        let underscored = name.replace('-', "_");
        assert!(!seen.contains_key(&underscored), "{underscored} forwarded");
        match name {
            "x-forwarded-proto" => assert_eq!(seen[name], "http", "the proxy's own"),
            _ => assert!(!seen.contains_key(name), "{name} forwarded"),
        }
    }
    // A trusted proxy in front: its forwarding headers pass, paths do not.
    let seen = seen_with_every_original_header("trust_x_forwarded_for = true").await;
    for kept in [
        "x-forwarded-host",
        "x-forwarded-prefix",
        "forwarded",
        "x-real-ip",
    ] {
        assert_eq!(seen[kept], "/admin", "{kept}");
    }
    for removed in [
        "x-original-url",
        "x-forwarded-uri",
        "x-envoy-original-path",
        "x-http-method-override",
    ] {
        assert!(!seen.contains_key(removed), "{removed} forwarded");
    }
    // Only what trusted_headers names.
    let seen = seen_with_every_original_header(
        r#"trusted_headers = ["X-Forwarded-Uri", "x-envoy-original-path"]"#,
    )
    .await;
    assert_eq!(seen["x-forwarded-uri"], "/admin");
    assert_eq!(seen["x-envoy-original-path"], "/admin");
    for removed in ["x-original-url", "x-forwarded-host", "x_forwarded_uri"] {
        assert!(!seen.contains_key(removed), "{removed} forwarded");
    }
}

#[tokio::test]
async fn upstream_down_is_502_and_slow_is_504() {
    let issuer = issuer().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let proxy = start(&config_text(&issuer, &dead, "")).await;
    let response = send(
        "GET",
        &format!("{}/photos", proxy.url),
        Some(&token(&issuer, &[READ])),
    )
    .await;
    assert_eq!(response.status(), 502);

    let (api, _recorder) = upstream().await;
    let proxy2 = start(&config_text(&issuer, &api.url, "")).await;
    let started = Instant::now();
    let response = send("GET", &format!("{}/slow", proxy2.url), None).await;
    assert_eq!(response.status(), 504);
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    assert!(
        metrics(&proxy)
            .await
            .contains(r#"scopegate_requests_total{outcome="502"} 1"#)
    );
    assert!(
        metrics(&proxy2)
            .await
            .contains(r#"scopegate_requests_total{outcome="504"} 1"#)
    );
}

#[tokio::test]
async fn readyz_names_the_cause_of_the_last_failed_key_set_fetch() {
    let issuer = issuer().await;
    issuer.set_fault(Fault::Status(500));
    let (api, _recorder) = upstream().await;
    let proxy = start(&config_text(&issuer, &api.url, "")).await;
    let readyz = || async {
        let response = http()
            .get(format!("{}/readyz", proxy.admin))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    // The start-up load fails; until it has, the body has no cause yet.
    let started = Instant::now();
    let (status, body) = loop {
        let (status, body) = readyz().await;
        if body != "key set not loaded\n" {
            break (status, body);
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no cause");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503);
    assert_eq!(body, "key set not loaded: unexpected status 500\n");
    assert!(issuer.jwks_requests() >= 1);
}

#[tokio::test]
async fn readiness_follows_the_key_set_and_cold_start_is_503() {
    let issuer = issuer().await;
    issuer.set_fault(Fault::Down);
    let (api, recorder) = upstream().await;
    let proxy = start(&config_text(&issuer, &api.url, "")).await;
    let readyz = || async {
        http()
            .get(format!("{}/readyz", proxy.admin))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        http()
            .get(format!("{}/healthz", proxy.admin))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(readyz().await, 503);
    let response = send(
        "GET",
        &format!("{}/photos", proxy.url),
        Some(&token(&issuer, &[READ])),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    // Public routes do not need keys.
    assert_eq!(
        send("GET", &format!("{}/public/x", proxy.url), None)
            .await
            .status(),
        200
    );

    issuer.set_fault(Fault::None);
    let started = Instant::now();
    while readyz().await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let response = send(
        "GET",
        &format!("{}/photos", proxy.url),
        Some(&token(&issuer, &[READ])),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(recorder.seen().len(), 2);
    assert!(
        metrics(&proxy)
            .await
            .contains(r#"scopegate_requests_total{outcome="503"} 1"#)
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_request_in_flight() {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    // The slow route waits 1.5 s upstream: give it time.
    let text = config(&issuer, &api.url, "")
        .setting("upstream_timeout", r#""5s""#)
        .render();
    let mut proxy = start(&text).await;
    let url = format!("{}/slow", proxy.url);
    let in_flight = tokio::spawn(async move { send("GET", &url, None).await.status() });
    while recorder.seen().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = proxy.stop.take().unwrap().send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Not ready while draining...
    let ready = http()
        .get(format!("{}/readyz", proxy.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    // ...no new connections once shutdown began...
    let refused = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
        .get(format!("{}/public/x", proxy.url))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a new connection was accepted during shutdown"
    );
    // ...but the request in flight completes, and then the proxy stops.
    assert_eq!(in_flight.await.unwrap(), 200);
    tokio::time::timeout(Duration::from_secs(5), &mut proxy.task)
        .await
        .unwrap()
        .unwrap();
}

/// The proxy binary with the test config (and `extra` appended), logging at
/// `log_level`, with stdout and stderr piped; returns it with its URL.
async fn spawn_binary(
    issuer: &LocalIssuer,
    upstream: &str,
    extra: &str,
    log_level: &str,
) -> (tokio::process::Child, String) {
    let dir = std::env::temp_dir().join(format!(
        "scopegate-proxy-bin-{}-{}",
        std::process::id(),
        ulid_like()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = config(issuer, upstream, extra)
        .listen(&format!("127.0.0.1:{port}"))
        .admin(false)
        .setting("upstream_timeout", r#""10s""#)
        .render();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, text).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["proxy", "--config"])
        .arg(&path)
        .env("RUST_LOG", log_level)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while http().get(format!("{url}/public/x")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, url)
}

/// A name unique within this test process.
fn ulid_like() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The proxy binary, with a config file; peak RSS read from /proc.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn fifty_megabytes_stream_through_without_the_proxy_growing() {
    let issuer = issuer().await;
    let (api, recorder) = upstream().await;
    let (mut child, url) = spawn_binary(&issuer, &api.url, "", "warn").await;
    let pid = child.id().unwrap();
    let peak = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .unwrap()
            .to_string();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    };
    let before = peak();
    const SIZE: usize = 50 * 1024 * 1024;
    // Upload: a streamed body of 50 MB.
    let chunks = futures_util::stream::iter(
        (0..SIZE / 65536).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'u'; 65536]))),
    );
    let response = http()
        .put(format!("{url}/upload"))
        .bearer_auth(token(&issuer, &[WRITE]))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(recorder.seen().last().unwrap().body_len, SIZE as u64);
    // Download: 50 MB streamed back.
    let mut response = http()
        .get(format!("{url}/download?n={SIZE}"))
        .send()
        .await
        .unwrap();
    let mut received = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, SIZE);
    let grown = peak().saturating_sub(before);
    eprintln!(
        "proxy peak RSS: {} KiB before, grew {} KiB for 2 x 50 MB streamed",
        before / 1024,
        grown / 1024
    );
    assert!(
        grown < 16 * 1024 * 1024,
        "the proxy's peak memory grew by {} MB for 100 MB streamed",
        grown / (1024 * 1024)
    );
    child.kill().await.unwrap();
}

/// Rule 9 of the security floor: at the most verbose log level, the logs
/// hold no token, no claim value, no `kid` from a request and no query.
#[tokio::test]
async fn logs_never_hold_tokens_claims_kids_or_query_strings() {
    let issuer = issuer().await;
    let (api, _recorder) = upstream().await;
    let (child, url) = spawn_binary(&issuer, &api.url, "", "trace").await;
    let marker = "ZZmarkerZZ";
    let good = token(&issuer, &[READ]);
    let tokens = [
        good.clone(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("marker", json!(marker))
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .header("kid", json!(format!("{marker}\r\nX-Forged: 1")))
            .mint(),
        issuer.token().client_id(marker).scope(WRITE).mint(),
        format!("{marker}.{marker}.{marker}"),
    ];
    for token in &tokens {
        for path in ["/photos", "/photos/1", "/me", "/nowhere"] {
            let _ = send("GET", &format!("{url}{path}?q={marker}"), Some(token)).await;
        }
    }
    let _ = send("GET", &format!("{url}/photos?access_token={good}"), None).await;
    let output = child.wait_with_output_after_kill().await;
    assert!(
        output.contains("/photos"),
        "the requests were logged at all:\n{output}"
    );
    assert!(!output.contains(marker), "a marker was logged:\n{output}");
    for token in &tokens {
        for part in token.split('.').filter(|p| p.len() >= 16) {
            assert!(!output.contains(part), "a token segment was logged");
        }
    }
}

/// Kills a child process and returns what it wrote to stdout and stderr.
trait KillAndCollect {
    async fn wait_with_output_after_kill(self) -> String;
}

impl KillAndCollect for tokio::process::Child {
    async fn wait_with_output_after_kill(mut self) -> String {
        self.start_kill().unwrap();
        let output = self.wait_with_output().await.unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let base = r#"listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:9000"

[issuer]
url = "https://issuer.example.com/pool"
jwks_url = "https://issuer.example.com/pool/jwks.json"
client_ids = ["c"]

[[routes]]
path = "/photos"
require = ["https://photos.example.com/photos.read"]
"#;
    let cases: Vec<(String, usize, &str)> = vec![
        (base.replace("listen =", "lisen ="), 1, "lisen"),
        (
            base.replace(
                "upstream = \"http://127.0.0.1:9000\"",
                "upstream = \"http://127.0.0.1:9000\"\nwebsocket_idle_timeout = \"500ms\"",
            ),
            3,
            "websocket_idle_timeout",
        ),
        (
            base.replace(
                r#"path = "/photos""#,
                "path = \"/photos\"\nwebsocket = \"no\"",
            ),
            11,
            "routes[0].websocket",
        ),
        (base.replace("127.0.0.1:8080", "nowhere"), 1, "listen"),
        (
            base.replace("http://127.0.0.1:9000", "ftp://127.0.0.1:9000"),
            2,
            "upstream",
        ),
        (
            base.replace(
                r#"require = ["https://photos.example.com/photos.read"]"#,
                r#"require = ["photos.read"]"#,
            ),
            11,
            "routes[0].require",
        ),
        (
            base.replace(r#"path = "/photos""#, r#"path = "photos""#),
            10,
            "routes[0].path",
        ),
        (
            base.replace(r#"path = "/photos""#, r#"path = "/photos/{*rest}/x""#),
            10,
            "routes[0].path",
        ),
        (
            format!("{base}\n[[routes]]\nmethods = [\"GET\"]\npath = \"/photos\"\npublic = true\n"),
            13,
            "routes[1]",
        ),
        (
            format!("{base}\n[[routes]]\npath = \"/x\"\npublic = true\nrequire = [\"a/b\"]\n"),
            13,
            "routes[1]",
        ),
        (
            base.replace(
                r#"jwks_url = "https://issuer.example.com/pool/jwks.json""#,
                r#"jwks_url = "http://example.com/jwks""#,
            ),
            4,
            "issuer",
        ),
        (
            base.replace(
                r#"client_ids = ["c"]"#,
                "client_ids = [\"c\"]\nalgorithms = [\"HS256\"]",
            ),
            8,
            "issuer.algorithms[0]",
        ),
        (
            base.replace(
                r#"client_ids = ["c"]"#,
                "client_ids = [\"c\"]\nrequire_at_jwt = true",
            ),
            4,
            "audiences",
        ),
        (
            base.replace(
                r#"client_ids = ["c"]"#,
                "client_ids = [\"c\"]\nkey_set_ttl = \"0s\"",
            ),
            8,
            "issuer.key_set_ttl",
        ),
        (
            base.replace(
                r#"client_ids = ["c"]"#,
                "client_ids = [\"c\"]\nunknown_kid_cooldown = \"2h\"",
            ),
            8,
            "issuer.unknown_kid_cooldown",
        ),
        (
            base.replace(
                r#"client_ids = ["c"]"#,
                "client_ids = [\"c\"]\nkey_set_max_stale = \"soon\"",
            ),
            8,
            "issuer.key_set_max_stale",
        ),
        (
            format!("{base}\n[forward]\nclaims = {{ sub = \"authorization\" }}\n"),
            14,
            "forward.claims.sub",
        ),
        (
            base.replace(
                "upstream = \"http://127.0.0.1:9000\"",
                "upstream = \"http://127.0.0.1:9000\"\ntoken_cookie = \"access token\"",
            ),
            3,
            "token_cookie",
        ),
        (
            base.replace(
                "upstream = \"http://127.0.0.1:9000\"",
                "upstream = \"http://127.0.0.1:9000\"\ntoken_cookie = \"t\"\ntoken_cookie_origins = [\"https://a.example/x\"]",
            ),
            4,
            "token_cookie_origins",
        ),
        (
            base.replace(
                "upstream = \"http://127.0.0.1:9000\"",
                "upstream = \"http://127.0.0.1:9000\"\ntoken_cookie_origins = [\"https://a.example\"]",
            ),
            3,
            "token_cookie_origins",
        ),
        (
            format!("{base}\n[resource_metadata]\nresource = \"http://api.example.com\"\n"),
            13,
            "resource_metadata",
        ),
        (base.replace(r#"path = "/photos""#, "path = 5"), 10, "path"),
        (
            format!(
                "{base}\n[[resource_servers]]\nidentifier = \"https://photos.example.com\"\nscopes = [\"photos.write\"]\n"
            ),
            11,
            "routes[0].require",
        ),
    ];
    for (text, line, key) in cases {
        let err = ProxyConfig::from_toml(&text, "proxy.toml").unwrap_err();
        let message = err.to_string();
        assert_eq!(err.line(), Some(line), "{message}");
        assert!(
            message.starts_with(&format!("proxy.toml:{line}: ")),
            "{message}"
        );
        assert!(message.contains(key), "{key} not in {message}");
        assert!(!message.contains('\n'), "{message}");
    }
    let more: Vec<(String, usize, &str)> = vec![
        (base.replace(r#"client_ids = ["c"]"#, ""), 4, "issuer"),
        (
            format!("connect_timeout = \"5s\"\nupstream_timeout = \"5s\"\n{base}"),
            1,
            "connect_timeout",
        ),
        (
            format!("{base}\n[[routes]]\npath = \"/Photos\"\npublic = true\n"),
            13,
            "routes[1].path",
        ),
        (
            format!("{base}\n[[routes]]\npath = \"/x\"\nmethods = \"GET\"\n"),
            15,
            "routes[1].methods",
        ),
        (
            base.replace("http://127.0.0.1:9000", "http://127.0.0.1:8080"),
            2,
            "upstream",
        ),
        (
            base.replace(
                r#"require = ["https://photos.example.com/photos.read"]"#,
                "require = [\"https://photos.example.com/photos.read\"]\ngroups = []",
            ),
            12,
            "routes[0].groups",
        ),
        (
            base.replace(
                r#"require = ["https://photos.example.com/photos.read"]"#,
                "require = [\"https://photos.example.com/photos.read\"]\ngroups = [\"editors\", \"two words\"]",
            ),
            12,
            "routes[0].groups",
        ),
        (
            base.replace(
                r#"require = ["https://photos.example.com/photos.read"]"#,
                "require = [\"https://photos.example.com/photos.read\"]\ngroups = [\"\"]",
            ),
            12,
            "routes[0].groups",
        ),
        (
            base.replace(
                r#"require = ["https://photos.example.com/photos.read"]"#,
                "require = [\"https://photos.example.com/photos.read\"]\nmax_token_age = \"soon\"",
            ),
            12,
            "routes[0].max_token_age",
        ),
        (
            base.replace(
                r#"require = ["https://photos.example.com/photos.read"]"#,
                "require = [\"https://photos.example.com/photos.read\"]\nmax_token_age = \"0s\"",
            ),
            12,
            "routes[0].max_token_age",
        ),
        (
            format!("{base}\n[[routes]]\npath = \"/x\"\npublic = true\ngroups = [\"editors\"]\n"),
            16,
            "routes[1].groups",
        ),
        (
            format!("{base}\n[[routes]]\npath = \"/x\"\npublic = true\nmax_token_age = \"5m\"\n"),
            16,
            "routes[1].max_token_age",
        ),
        (
            format!("{base}\n[forward]\ntrusted_headers = [\"x-forwarded-uri\", \"x-my-header\"]\n"),
            14,
            "forward.trusted_headers[1]",
        ),
        (
            format!("{base}\n[forward]\ntrusted_headers = [\"X-Forwarded-For\"]\n"),
            14,
            "forward.trusted_headers[0]",
        ),
        (
            format!("{base}\n[forward]\ntrusted_headers = [\"bad header\"]\n"),
            14,
            "forward.trusted_headers[0]",
        ),
    ];
    for (text, line, key) in more {
        let err = ProxyConfig::from_toml(&text, "proxy.toml").unwrap_err();
        let message = err.to_string();
        assert_eq!(err.line(), Some(line), "{message}");
        assert!(message.contains(key), "{key} not in {message}");
    }
    let any = base.replace(r#"client_ids = ["c"]"#, "allow_any_audience = true");
    assert!(
        ProxyConfig::from_toml(&any, "proxy.toml")
            .unwrap()
            .accepts_any_audience()
    );
    assert!(ProxyConfig::from_toml(base, "proxy.toml").is_ok());
}

#[tokio::test]
async fn unreachable_issuer_and_upstream_at_start_are_not_config_errors() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = ProxyToml::new(&format!("http://127.0.0.1:{port}"))
        .admin(true)
        .issuer_key(&format!(r#"url = "http://127.0.0.1:{port}/pool""#))
        .issuer_key(r#"client_ids = ["c"]"#)
        .tail("[[routes]]\npath = \"/x\"\n")
        .render();
    let proxy = start(&text).await;
    let ready = http()
        .get(format!("{}/readyz", proxy.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let response = send("GET", &format!("{}/x", proxy.url), Some("a.b.c")).await;
    assert_eq!(
        response.status(),
        401,
        "a malformed token is still the client's problem"
    );
    let response = send(
        "GET",
        &format!("{}/x", proxy.url),
        Some(&valid_looking_token()),
    )
    .await;
    assert_eq!(response.status(), 503);
}

/// A well-formed token whose key cannot be fetched.
fn valid_looking_token() -> String {
    use base64::Engine as _;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2ln",
        b64(json!({"alg": "RS256", "kid": "k"})),
        b64(json!({"sub": "x"}))
    )
}

#[test]
fn the_example_sidecar_config_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/sidecar.toml"
    ))
    .unwrap()
    .replace("POOL_ID", "us-east-1_Example")
    .replace("CLIENT_ID", "abc");
    let config = ProxyConfig::from_toml(&text, "examples/sidecar.toml").unwrap();
    assert_eq!(config.listen.port(), 8080);
    assert!(!config.accepts_any_audience());
}

/// One `[[issuers]]` table for a local pool, accepting `client`.
fn issuers_table(pool: &scopegate::local::UserPool, client: &str) -> String {
    format!(
        "[[issuers]]\nurl = {:?}\njwks_url = {:?}\ntoken_use = \"access\"\nclient_ids = [{client:?}]\n",
        pool.url(),
        pool.jwks_url()
    )
}

#[tokio::test]
async fn several_issuers_each_with_its_own_table_and_one_down() {
    let local = issuer().await;
    let (a, b) = (local.pool(), local.create_user_pool("second").unwrap());
    let down_issuer = issuer().await;
    down_issuer.set_fault(Fault::Down);
    let down = down_issuer.pool();
    let (api, recorder) = upstream().await;
    let text = format!(
        "listen = \"127.0.0.1:0\"\nupstream = {:?}\nadmin_listen = \"127.0.0.1:0\"\n\n{}\n{}\n{}\n[[routes]]\npath = \"/photos\"\nrequire = [\"{READ}\"]\n\n[forward]\nclaims = {{ iss = \"x-auth-iss\" }}\n",
        api.url,
        issuers_table(&a, CLIENT),
        issuers_table(&b, "b-client"),
        issuers_table(&down, CLIENT),
    );
    let proxy = start(&text).await;
    let photos = format!("{}/photos", proxy.url);
    let mint = |pool: &scopegate::local::UserPool, client: &str| {
        pool.token().client_id(client).scope(READ).mint()
    };
    let stranger = issuer().await;
    let cases = [
        (mint(&a, CLIENT), 200),
        (mint(&b, "b-client"), 200),
        (mint(&b, CLIENT), 401),
        (mint(&down, CLIENT), 503),
        (mint(&stranger.pool(), CLIENT), 401),
    ];
    for (token, expected) in &cases {
        let response = send("GET", &photos, Some(token)).await;
        assert_eq!(response.status().as_u16(), *expected);
    }
    assert_eq!(stranger.jwks_requests(), 0);
    let issuers: Vec<String> = recorder
        .seen()
        .iter()
        .map(|seen| seen.headers["x-auth-iss"].clone())
        .collect();
    assert_eq!(issuers, [a.url(), b.url()]);

    // Ready: one issuer down does not take the others' traffic away.
    let readyz = http()
        .get(format!("{}/readyz", proxy.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(readyz.status(), 200);
    let body = readyz.text().await.unwrap();
    assert!(body.starts_with("ready\n"), "{body}");
    assert!(
        body.contains(&format!("key set not loaded for {}", down.url())),
        "{body}"
    );
    let metrics = metrics(&proxy).await;
    for (pool, loaded) in [(&a, 1), (&b, 1), (&down, 0)] {
        let line = format!(
            "scopegate_issuer_key_set_loaded{{issuer=\"{}\"}} {loaded}",
            pool.url()
        );
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }
}

#[test]
fn issuers_tables_mistakes_name_their_table() {
    let head = "listen = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:9000\"\n\n";
    let table = |n: u8| {
        format!(
            "[[issuers]]\nurl = \"https://issuer{n}.example.com\"\njwks_url = \"https://issuer{n}.example.com/jwks\"\nclient_ids = [\"c\"]\n"
        )
    };
    let single = "[issuer]\nurl = \"https://i.example.com\"\njwks_url = \"https://i.example.com/jwks\"\nclient_ids = [\"c\"]\n";
    let routes = "\n[[routes]]\npath = \"/\"\n";
    let ok = format!("{head}{}{}{routes}", table(1), table(2));
    let config = ProxyConfig::from_toml(&ok, "proxy.toml").unwrap();
    assert_eq!(config.verifier().issuers().len(), 2);
    let cases: Vec<(String, Option<usize>, &str)> = vec![
        (format!("{head}{single}{}", table(1)), Some(4), "issuer"),
        (
            format!("{head}{}{}", table(1), table(1)),
            Some(8),
            "issuers[1]",
        ),
        (
            format!("{head}{}{}algorithms = [\"HS256\"]\n", table(1), table(2)),
            Some(12),
            "issuers[1].algorithms[0]",
        ),
        (
            format!(
                "{head}{}{}",
                table(1),
                table(2).replace("client_ids = [\"c\"]\n", "")
            ),
            Some(8),
            "issuers[1]",
        ),
        (
            format!(
                "{head}{}{}",
                table(1),
                table(2).replace("https://issuer2", "http://issuer2")
            ),
            Some(8),
            "issuers[1]",
        ),
        (format!("{head}issuers = []\n"), Some(4), "issuers"),
        (head.to_string(), None, "issuer"),
    ];
    for (text, line, key) in cases {
        let err = ProxyConfig::from_toml(&format!("{text}{routes}"), "proxy.toml").unwrap_err();
        let message = err.to_string();
        assert_eq!(err.line(), line, "{message}");
        assert!(message.contains(key), "{key} not in {message}");
        assert!(!message.contains('\n'), "{message}");
    }
}
