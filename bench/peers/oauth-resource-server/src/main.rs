//! Peer: oauth-resource-server 0.4.1 protecting GET /hello.
//! Env: PORT, ISSUER, JWKS_URL, and AUDIENCE (optional, default below).
//!
//! This crate REQUIRES an `aud` claim (required_spec_claims = exp, iss, aud;
//! src/validator.rs ~L393-436) and refuses a config with no audience. There is
//! no switch to turn it off, so Cognito-shaped access tokens (no `aud`) are all
//! refused with 401 unless the load generator adds `"aud": AUDIENCE` to the
//! tokens it mints for this peer.
//! No tracing subscriber is installed, so per-request tracing events are no-ops.

use std::sync::Arc;

use axum::{routing::get, Router};
use oauth_resource_server::axum::AuthLayer;
use oauth_resource_server::{KeyNaming, OAuthConfig, OAuthValidator};

const REQUIRED_SCOPE: &str = "https://photos.example.com/photos.read";
const DEFAULT_AUDIENCE: &str = "https://photos.example.com";

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
    let audience = std::env::var("AUDIENCE").unwrap_or_else(|_| DEFAULT_AUDIENCE.to_string());

    let resolved = OAuthConfig {
        enabled: true,
        issuer,                      // compared byte-for-byte with `iss`
        jwks_uri: Some(jwks_url),    // set => no discovery
        audience,                    // mandatory (see module doc)
        // Only published in RFC 9728 metadata; loopback http is accepted.
        resource: format!("http://127.0.0.1:{port}"),
        // Read from `scope`/`scp` (space-delimited); missing => 403.
        required_scope: Some(REQUIRED_SCOPE.to_string()),
        algorithms: vec!["RS256".to_string()],
        // Lets a plain-http JWKS/issuer on a non-loopback host through; harmless on loopback.
        allow_insecure_http: true,
        ..OAuthConfig::default()
    }
    .resolve(KeyNaming::Dotted("oauth"))
    .expect("invalid OAuth config")
    .expect("enabled: true, so resolve returns Some");

    let validator = Arc::new(OAuthValidator::new(&resolved).expect("validator"));
    // Loads the JWKS now (async) and re-reads it on a timer; an unknown kid
    // also triggers at most one refetch per minute.
    validator.spawn_background_refresh();

    let auth = AuthLayer::builder()
        .oauth(Arc::clone(&validator))
        .build()
        .expect("auth layer");

    let app = Router::new().route("/hello", get(hello)).route_layer(auth);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
