//! gRPC behind the layer, over real HTTP/2: the example's tonic service and
//! a real tonic client. Refusals are gRPC statuses (trailers-only), the
//! verified claims reach the method, and HTTP callers still get RFC 6750.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

#[path = "../examples/grpc_api.rs"]
#[allow(dead_code)]
mod grpc_api;

use grpc_api::photos::PhotosClient;
use grpc_api::{READ, WRITE};
use scopegate::local::{Fault, LocalIssuer};
use scopegate::{GrpcRejection, Verifier};
use support::{Api, http, serve};
use tonic::Code;

const CLIENT: &str = "photo-client";

fn verifier(issuer: &LocalIssuer) -> Verifier {
    Verifier::builder(issuer.issuer())
        .token_use("access")
        .client_ids([CLIENT])
        .resource_server(grpc_api::photo_server())
        .build()
        .unwrap()
}

fn token(issuer: &LocalIssuer, scopes: &[&str]) -> String {
    issuer
        .token()
        .client_id(CLIENT)
        .scopes(scopes.iter().copied())
        .mint()
}

async fn service(verifier: &Verifier) -> (Api, PhotosClient) {
    let api = serve(grpc_api::app(verifier).unwrap()).await;
    let client = PhotosClient::connect(api.url.clone()).await.unwrap();
    (api, client)
}

#[tokio::test]
async fn scopes_decide_each_method_and_claims_reach_it() {
    let issuer = LocalIssuer::start().await.unwrap();
    let (_api, mut client) = service(&verifier(&issuer)).await;
    let reader = token(&issuer, &[READ]);
    let listed = client.list(Some(&reader)).await.unwrap();
    assert_eq!(listed.names, ["beach.jpg", "hills.jpg"]);
    assert_eq!(listed.caller, CLIENT, "the claims reached the method");

    let refused = client.upload("x.jpg", Some(&reader)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(refused.message(), "token lacks the required scope");
    let challenge = refused.metadata().get("www-authenticate").unwrap();
    let challenge = challenge.to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains(WRITE),
        "{challenge}"
    );

    let writer = token(&issuer, &[READ, WRITE]);
    let uploaded = client.upload("x.jpg", Some(&writer)).await.unwrap();
    assert_eq!(
        (uploaded.name.as_str(), uploaded.caller.as_str()),
        ("x.jpg", CLIENT)
    );
}

#[tokio::test]
async fn no_or_bad_tokens_are_unauthenticated() {
    let issuer = LocalIssuer::start().await.unwrap();
    let (_api, mut client) = service(&verifier(&issuer)).await;
    let missing = client.list(None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    assert_eq!(missing.message(), "no bearer credentials");

    let mut forged = token(&issuer, &[READ]);
    forged.push('x');
    let invalid = client.list(Some(&forged)).await.unwrap_err();
    assert_eq!(invalid.code(), Code::Unauthenticated, "{invalid:?}");
    assert!(!invalid.message().contains(&forged));
    let challenge = invalid.metadata().get("www-authenticate").unwrap();
    assert!(
        challenge
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    let expired = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .issued_at(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .expires_in(std::time::Duration::from_secs(60))
        .mint();
    let old = client.list(Some(&expired)).await.unwrap_err();
    assert_eq!(old.code(), Code::Unauthenticated, "{old:?}");
}

#[tokio::test]
async fn no_keys_is_unavailable() {
    let issuer = LocalIssuer::start().await.unwrap();
    issuer.set_fault(Fault::Status(500));
    let (_api, mut client) = service(&verifier(&issuer)).await;
    let down = client
        .list(Some(&token(&issuer, &[READ])))
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    assert_eq!(down.message(), "the issuer's key set is unavailable");
}

#[tokio::test]
async fn http_callers_still_get_rfc_6750_and_grpc_rejection_forces_the_grpc_form() {
    let issuer = LocalIssuer::start().await.unwrap();
    let verifier = verifier(&issuer);
    let (api, _client) = service(&verifier).await;
    let url = format!("{}{}", api.url, grpc_api::photos::LIST);
    let plain = http().post(&url).send().await.unwrap();
    assert_eq!(plain.status(), 401);
    assert!(plain.headers().get("grpc-status").is_none());
    assert!(plain.headers().contains_key("www-authenticate"));
    // gRPC is POST only: a GET cannot turn its refusal into a 200.
    let gets = serve(
        axum::Router::new()
            .route("/g", axum::routing::get(|| async { "ok" }))
            .route_layer(verifier.require(READ).unwrap()),
    )
    .await;
    let get = http()
        .get(format!("{}/g", gets.url))
        .header("content-type", "application/grpc")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 401);
    assert!(get.headers().get("grpc-status").is_none());

    // A refusal in gRPC form whatever the content type.
    let always = serve(
        axum::Router::new()
            .route("/r", axum::routing::post(|| async { "ok" }))
            .route_layer(verifier.require(READ).unwrap().on_rejection(GrpcRejection)),
    )
    .await;
    let refused = http()
        .post(format!("{}/r", always.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 200);
    assert_eq!(refused.headers()["grpc-status"], "16");
    assert_eq!(refused.headers()["grpc-message"], "no bearer credentials");
    assert_eq!(refused.headers()["content-type"], "application/grpc");
    assert_eq!(refused.headers()["cache-control"], "no-store");
    assert!(
        refused.bytes().await.unwrap().is_empty(),
        "trailers-only: no body"
    );
}
