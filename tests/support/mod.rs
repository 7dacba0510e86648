//! Shared test helpers: a real local issuer, a real API on loopback, a real
//! HTTP client. Nothing is mocked.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing;
use scopegate::local::LocalIssuer;
use scopegate::{Claims, ResourceServer, Verifier, VerifierBuilder};
use serde_json::{Value, json};

/// DPoP proofs signed with a fresh key.
pub mod dpop;

/// A real redis-server, for the targets that declare the `redis` feature.
#[cfg(feature = "redis")]
pub mod redis;

/// The proxy harness, for the targets that declare the `proxy` feature.
#[cfg(feature = "proxy")]
pub mod proxy;

pub const READ: &str = "https://photos.example.com/photos.read";
pub const WRITE: &str = "https://photos.example.com/photos.write";
pub const CLIENT: &str = "photo-client";

pub fn photo_api() -> ResourceServer {
    ResourceServer::new("https://photos.example.com", "Photo API")
        .scope("photos.read", "Read photos")
        .scope("photos.write", "Write photos")
        .scope("photos.readwrite", "A scope whose name starts like another")
}

pub fn other_api() -> ResourceServer {
    ResourceServer::new("https://other.example.com", "Other API").scope("photos.read", "Same name")
}

pub async fn issuer() -> LocalIssuer {
    LocalIssuer::start().await.expect("the local issuer starts")
}

/// A Cognito-like verifier for `issuer`, with short timings so that tests of
/// the key cache run in seconds.
pub fn builder(issuer: &LocalIssuer) -> VerifierBuilder {
    Verifier::builder(issuer.issuer())
        .token_use("access")
        .client_ids([CLIENT])
        .resource_server(photo_api())
        .resource_server(other_api())
        .leeway(Duration::ZERO)
        .key_set_retry_backoff(Duration::from_millis(200), Duration::from_secs(2))
        .key_set_timeouts(Duration::from_millis(500), Duration::from_secs(1))
}

pub fn verifier(issuer: &LocalIssuer) -> Verifier {
    builder(issuer).build().expect("the test verifier is valid")
}

/// A valid token for `CLIENT` with these scopes.
pub fn token(issuer: &LocalIssuer, scopes: &[&str]) -> String {
    issuer
        .token()
        .client_id(CLIENT)
        .scopes(scopes.iter().copied())
        .mint()
}

/// A token for `CLIENT` with `READ`, bound to the DPoP `key`.
pub fn bound_token(issuer: &LocalIssuer, key: &dpop::DpopKey) -> String {
    issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ])
        .claim("cnf", key.cnf())
        .mint()
}

/// An axum server on a free loopback port; stops when dropped.
pub struct Api {
    pub url: String,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(router: Router) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Api {
        url: format!("http://{addr}"),
        addr,
        task,
    }
}

/// An axum server on a free loopback port whose router is built knowing
/// its own origin (`http://127.0.0.1:PORT`); stops when dropped.
pub async fn serve_at(build: impl FnOnce(&str) -> Router) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let url = format!("http://{addr}");
    let router = build(&url);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Api { url, addr, task }
}

/// The handler behind the layer: answers with what the layer verified.
pub async fn whoami(claims: Claims) -> axum::Json<Value> {
    axum::Json(json!({
        "sub": claims.subject(),
        "client_id": claims.client_id(),
        "scope": claims.scope(),
    }))
}

/// `GET /r` behind `layer`.
pub async fn serve_layer(layer: scopegate::ScopeGateLayer) -> Api {
    serve(
        Router::new()
            .route("/r", routing::get(whoami))
            .route_layer(layer),
    )
    .await
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

/// `GET {url}` with an optional bearer token.
pub async fn http_get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = http().get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.expect("the API answers")
}

/// Status and `WWW-Authenticate` of `GET {api}/r` with `token`.
pub async fn status(api: &Api, token: Option<&str>) -> (u16, String) {
    let response = http_get(&format!("{}/r", api.url), token).await;
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii challenge").to_string())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

pub const INVALID_TOKEN: &str = r#"Bearer realm="api", error="invalid_token""#;

/// A server that counts the requests it gets: the attacker's, or another host.
pub struct Counter {
    pub api: Api,
    pub hits: Arc<AtomicU64>,
}

impl Counter {
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

pub async fn counting_server(body: Value) -> Counter {
    let hits = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&hits);
    let router = Router::new().fallback(move || {
        let counted = Arc::clone(&counted);
        let body = body.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            axum::Json(body)
        }
    });
    Counter {
        api: serve(router).await,
        hits,
    }
}

/// Splits a compact token into its three segments.
pub fn segments(token: &str) -> (String, String, String) {
    let mut parts = token.split('.').map(str::to_string);
    (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    )
}
