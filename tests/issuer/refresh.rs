//! The refresh-token grant and the revocation endpoint.

use super::hosted_support::*;
use super::*;

async fn refresh(
    h: &Hosted,
    basic: Option<(&str, &str)>,
    client: Option<&str>,
    token: &str,
) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(client) = client {
        form.push(("client_id", client));
    }
    token_call(&h.issuer, basic, &form).await
}

async fn revoke(h: &Hosted, client: &str, token: &str) -> (u16, String) {
    let response = http()
        .post(format!("{}/oauth2/revoke", h.issuer.base_url()))
        .form_body(&[("token", token), ("client_id", client)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_refresh_token_gives_new_access_and_id_tokens_and_no_new_refresh_token() {
    let h = hosted().await;
    let first = public_tokens(&h).await;
    let token = first["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&h, None, Some(&h.public), token).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());
    let access = body["access_token"].as_str().unwrap();
    assert!(
        access_verifier(&h, &h.public)
            .verify(access)
            .await
            .unwrap()
            .has_scope(READ_FULL)
    );
    let (old, new) = (
        claims_of(first["access_token"].as_str().unwrap()),
        claims_of(access),
    );
    assert_eq!(new["origin_jti"], old["origin_jti"]);
    assert_eq!(new["auth_time"], old["auth_time"]);
    assert_eq!(new["scope"], old["scope"]);
    let id = claims_of(body["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "alice");
}

#[tokio::test]
async fn another_clients_or_an_unknown_refresh_token_is_invalid_grant() {
    let h = hosted().await;
    let tokens = public_tokens(&h).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let (id, secret) = (&h.confidential.0, &h.confidential.1);
    let (status, body) = refresh(&h, Some((id, secret)), None, token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = refresh(&h, None, Some(&h.public), "not-a-refresh-token").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = refresh(&h, None, Some(&h.public), "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Still good for its own client.
    assert_eq!(refresh(&h, None, Some(&h.public), token).await.0, 200);
}

#[tokio::test]
async fn a_revoked_refresh_token_and_its_access_tokens_stop_working() {
    let h = hosted().await;
    let tokens = public_tokens(&h).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&h.issuer, Some(access)).await.0, 200);
    // Another client cannot revoke it.
    let other = browser_client(&h.issuer, json!({"ClientName": "other"})).await;
    let other = other["ClientId"].as_str().unwrap();
    assert_eq!(revoke(&h, other, token).await.0, 400);
    assert_eq!(refresh(&h, None, Some(&h.public), token).await.0, 200);
    assert_eq!(revoke(&h, &h.public, token).await, (200, String::new()));
    let (status, body) = refresh(&h, None, Some(&h.public), token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&h.issuer, Some(access)).await.0, 401);
    // Revoking again, or an unknown token: 200 (RFC 7009 §2.2).
    assert_eq!(revoke(&h, &h.public, token).await.0, 200);
    assert_eq!(revoke(&h, &h.public, "unknown").await.0, 200);
}

#[tokio::test]
async fn revoking_an_access_token_is_unsupported_token_type() {
    let h = hosted().await;
    let tokens = public_tokens(&h).await;
    let (status, body) = revoke(&h, &h.public, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "unsupported_token_type"
    );
    // The access token still works.
    assert_eq!(
        userinfo(&h.issuer, tokens["access_token"].as_str()).await.0,
        200
    );
}
