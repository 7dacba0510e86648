//! The photo example's router, driven over real HTTP with real tokens.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

#[path = "../examples/photo_api.rs"]
#[allow(dead_code)]
mod photo_api;

use scopegate::Verifier;
use support::{http, issuer, serve};

#[tokio::test]
async fn photo_api_enforces_read_and_write_scopes() {
    let issuer = issuer().await;
    let verifier = Verifier::builder(issuer.issuer())
        .token_use("access")
        .client_ids(["viewer", "editor"])
        .resource_server(photo_api::photo_api())
        .build()
        .unwrap();
    let api = serve(photo_api::app(&verifier).unwrap()).await;
    let viewer = issuer
        .token()
        .client_id("viewer")
        .scope(photo_api::READ)
        .mint();
    let editor = issuer
        .token()
        .client_id("editor")
        .scopes([photo_api::READ, photo_api::WRITE])
        .mint();
    let photos = format!("{}/photos", api.url);
    let client = http();

    let list = |token: Option<&str>| {
        let mut request = client.get(&photos);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let upload = |token: &str| {
        client
            .post(&photos)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"title":"sunset"}"#)
            .send()
    };

    assert_eq!(list(None).await.unwrap().status(), 401);
    assert_eq!(list(Some(&viewer)).await.unwrap().status(), 200);
    assert_eq!(upload(&viewer).await.unwrap().status(), 403);
    let created = upload(&editor).await.unwrap();
    assert_eq!(created.status(), 201);
    assert!(
        created
            .text()
            .await
            .unwrap()
            .contains(r#""owner":"editor""#)
    );
    let listed = list(Some(&viewer)).await.unwrap().text().await.unwrap();
    assert!(listed.contains("sunset"), "{listed}");
    let delete = |token: &str| {
        client
            .delete(format!("{photos}/1"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(delete(&viewer).await.unwrap().status(), 403);
    assert_eq!(delete(&editor).await.unwrap().status(), 204);
    assert_eq!(delete(&editor).await.unwrap().status(), 404);
}
