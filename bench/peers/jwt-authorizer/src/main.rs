//! Peer: jwt-authorizer 0.15.0 (axum 0.7) protecting GET /hello.
//! Env: PORT, ISSUER, JWKS_URL. No tracing subscriber is installed, so the
//! crate's per-request tracing events (info!/debug! on refusals) are no-ops.

use axum::{routing::get, Router};
use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, Validation};
use serde::Deserialize;

const REQUIRED_SCOPE: &str = "https://photos.example.com/photos.read";

/// Only what the checker needs; unknown claims are ignored by serde.
#[derive(Debug, Clone, Deserialize)]
struct CognitoClaims {
    #[serde(default)]
    scope: String,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("env var {name} is required"))
}

async fn hello() -> &'static str {
    "hello"
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let port: u16 = env("PORT").parse().expect("PORT must be a u16");
    let issuer = env("ISSUER");
    let jwks_url = env("JWKS_URL");

    // Validation defaults: exp checked (leeway 60 s), nbf off, aud None (not
    // checked), iss None. We add the exact issuer. Algorithms: empty => the
    // algorithms of the matched JWK.
    let mut validation = Validation::new().iss(&[issuer.as_str()]);
    // jsonwebtoken 9 refuses a token with `aud` unless an audience is set:
    // the benchmark's tokens carry one (see bench/run.sh).
    if let Ok(audience) = std::env::var("AUDIENCE") {
        validation = validation.aud(&[audience]);
    }

    // from_jwks_url: no discovery; JWKS is fetched lazily on the first request
    // (default Refresh: KeyNotFound strategy, min 10 s between refetches).
    let auth: Authorizer<CognitoClaims> = JwtAuthorizer::<CognitoClaims>::from_jwks_url(&jwks_url)
        .validation(validation)
        // Claims checker: false => 403 (insufficient_scope).
        .check(|c: &CognitoClaims| c.scope.split_ascii_whitespace().any(|s| s == REQUIRED_SCOPE))
        .build()
        .await
        .expect("jwt authorizer");

    let app = Router::new()
        .route("/hello", get(hello))
        .layer(auth.into_layer());

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
