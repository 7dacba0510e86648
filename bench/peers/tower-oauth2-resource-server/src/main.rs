//! Peer: tower-oauth2-resource-server 0.12.5 protecting GET /hello.
//! Env: PORT, ISSUER, JWKS_URL. No logger is installed, so the crate's `log`
//! calls (debug! per request) are no-ops.

#[cfg(all(feature = "rust-crypto", feature = "aws-lc-rs"))]
compile_error!("enable exactly one of `rust-crypto` / `aws-lc-rs`");
#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
compile_error!("enable one of `rust-crypto` / `aws-lc-rs`");

use axum::{body::Body, routing::get, Router};
use tower_oauth2_resource_server::{
    server::OAuth2ResourceServer, tenant::TenantConfiguration, validation::ClaimsValidationSpec,
};

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

    // Setting jwks_url skips OIDC discovery at startup. NOTE: with jwks_url set,
    // the crate's *default* claims spec does NOT check `iss` (it only copies the
    // issuer from a discovery document), so the spec is given explicitly:
    // exp + exact iss, no aud (aud is only checked when audiences are set), no nbf.
    let tenant = TenantConfiguration::builder(issuer.clone())
        .jwks_url(jwks_url)
        .claims_validation(ClaimsValidationSpec::new().exp(true).iss(&issuer))
        .build()
        .await
        .expect("tenant configuration");

    // DefaultClaims {iss, sub, aud, jti}; the crate has no scope check.
    let resource_server = <OAuth2ResourceServer>::builder()
        .add_tenant(tenant)
        .build()
        .await
        .expect("OAuth2ResourceServer");

    let app = Router::new()
        .route("/hello", get(hello))
        .layer(resource_server.into_layer::<Body>());

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
