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

#[tokio::test]
async fn photo_api_serves_a_user_signed_in_through_the_hosted_pages() {
    let issuer = issuer().await;
    let pool = issuer.pool();
    pool.create_resource_server(&photo_api::photo_api())
        .unwrap();
    let web = photo_api::create_web_client(&issuer, issuer.pool_id()).unwrap();
    pool.create_user(
        "alice",
        "Photos-4-alice!",
        &[("email", "alice@example.com")],
    )
    .unwrap();
    pool.add_user_to_group("alice", "editors").unwrap();
    let verifier = Verifier::builder(issuer.issuer())
        .token_use("access")
        .client_ids([web.as_str()])
        .resource_server(photo_api::photo_api())
        .build()
        .unwrap();
    let api = serve(photo_api::app(&verifier).unwrap()).await;
    let photos = format!("{}/photos", api.url);
    let sign_in = |scopes: &'static [&'static str]| {
        issuer.sign_in(
            &web,
            "http://localhost:3000/callback",
            "alice",
            "Photos-4-alice!",
            Some(scopes),
        )
    };

    let reader = sign_in(&["openid", photo_api::READ]).await.unwrap();
    let claims = verifier.verify(&reader.access_token).await.unwrap();
    assert_eq!(claims.username(), Some("alice"));
    assert_eq!(claims.groups(), ["editors"]);
    assert!(reader.id_token.is_some() && reader.refresh_token.is_some());
    let client = http();
    let upload = |token: String| {
        client
            .post(&photos)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"title":"beach"}"#)
            .send()
    };
    let listed = client
        .get(&photos)
        .bearer_auth(&reader.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(upload(reader.access_token).await.unwrap().status(), 403);

    let writer = sign_in(&[photo_api::READ, photo_api::WRITE]).await.unwrap();
    let created = upload(writer.access_token).await.unwrap();
    assert_eq!(created.status(), 201);
    assert!(created.text().await.unwrap().contains(r#""owner":"alice""#));

    let wrong = issuer
        .sign_in(
            &web,
            "http://localhost:3000/callback",
            "alice",
            "nope",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.error, "sign-in refused");
}
