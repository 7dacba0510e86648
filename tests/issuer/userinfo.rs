//! `/oauth2/userInfo`: attributes for a token with `openid`, RFC 6750
//! errors otherwise.

use super::hosted_support::*;
use super::*;

#[tokio::test]
async fn userinfo_returns_the_users_attributes_as_cognito_does() {
    let h = hosted().await;
    let tokens = public_tokens(&h).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = userinfo(&h.issuer, Some(access)).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    let sub = claims_of(access)["sub"].clone();
    assert_eq!(
        body,
        json!({"sub": sub, "email": "alice@example.com", "email_verified": "true", "username": "alice"})
    );
    // POST answers the same.
    let response = http()
        .post(format!("{}/oauth2/userInfo", h.issuer.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn userinfo_without_openid_or_with_a_bad_token_is_refused() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let query = [
        ("response_type", "token"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", READ_FULL),
    ];
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    let access = page.param("access_token").unwrap();
    let (status, challenge, _) = userinfo(&h.issuer, Some(&access)).await;
    assert_eq!(status, 403);
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    let (status, challenge, body) = userinfo(&h.issuer, None).await;
    assert_eq!(
        (status, challenge.as_str(), body.as_str()),
        (401, "Bearer", "")
    );
    // A client-credentials token (no user) and garbage are invalid_token.
    let machine = h.pool.token().scopes([READ_FULL]).mint();
    for token in [
        machine.as_str(),
        "garbage",
        access.get(..access.len() - 2).unwrap(),
    ] {
        let (status, challenge, _) = userinfo(&h.issuer, Some(token)).await;
        assert_eq!(status, 401);
        assert!(
            challenge.starts_with(r#"Bearer error="invalid_token""#),
            "{challenge}"
        );
    }
}
