//! The seed's scope rules: which scopes a client's token gets.

use super::*;

#[tokio::test]
async fn seed_rule_scopes_are_requested_in_full_and_default_to_all_allowed() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read", "photos.write"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL, WRITE_FULL]).await;
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[("scope", READ_FULL)])
            .await
            .as_deref(),
        Some(READ_FULL)
    );
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[]).await.as_deref(),
        Some(format!("{READ_FULL} {WRITE_FULL}").as_str())
    );
    // The bare scope name is not the scope.
    let (status, body) = token_request(
        &issuer,
        &id,
        &secret,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "photos.read"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    assert!(body.get("access_token").is_none());
}

#[tokio::test]
async fn seed_rule_a_deleted_scope_becomes_inactive_and_comes_back_when_re_added() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read", "photos.write"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL, WRITE_FULL]).await;
    let update = |scopes: &[&str]| json!({"UserPoolId": pool, "Identifier": "https://photos.example.com", "Name": "Photo API", "Scopes": photo_scopes(scopes)});
    // Delete photos.write from the resource server.
    ok(&issuer, "UpdateResourceServer", update(&["photos.read"])).await;
    // Still associated with the client...
    let described = ok(
        &issuer,
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    )
    .await;
    assert_eq!(
        described["UserPoolClient"]["AllowedOAuthScopes"],
        json!([READ_FULL, WRITE_FULL])
    );
    // ...but inactive: requesting it is ignored, and it is left out of tokens.
    let both = format!("{READ_FULL} {WRITE_FULL}");
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[("scope", &both)])
            .await
            .as_deref(),
        Some(READ_FULL)
    );
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[]).await.as_deref(),
        Some(READ_FULL)
    );
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[("scope", WRITE_FULL)]).await,
        None
    );
    // Re-added: in tokens again.
    ok(
        &issuer,
        "UpdateResourceServer",
        update(&["photos.read", "photos.write"]),
    )
    .await;
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[("scope", &both)])
            .await
            .as_deref(),
        Some(both.as_str())
    );
    // Deleting the whole resource server makes all of its scopes inactive.
    ok(
        &issuer,
        "DeleteResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com"}),
    )
    .await;
    assert_eq!(scope_of(&issuer, &id, &secret, &[]).await, None);
}

#[tokio::test]
async fn seed_rule_a_scope_removed_from_a_client_is_an_error_and_no_token() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read", "photos.write"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL, WRITE_FULL]).await;
    ok(
        &issuer,
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "ClientName": "reader",
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": [READ_FULL],
               "AllowedOAuthFlowsUserPoolClient": true}),
    )
    .await;
    for scope in [WRITE_FULL, &format!("{READ_FULL} {WRITE_FULL}")] {
        let (status, body) = token_request(
            &issuer,
            &id,
            &secret,
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope")),
            "{scope}"
        );
        assert!(body.get("access_token").is_none());
    }
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[]).await.as_deref(),
        Some(READ_FULL)
    );
}

#[tokio::test]
async fn seed_rule_a_client_without_a_secret_cannot_use_client_credentials() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    fails(
        &issuer,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "public", "AllowedOAuthFlows": ["client_credentials"],
               "AllowedOAuthScopes": [READ_FULL], "AllowedOAuthFlowsUserPoolClient": true}),
        "InvalidOAuthFlowException",
    )
    .await;
    // A public client made for another flow is refused at the token endpoint.
    let out = ok(
        &issuer,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "public"}),
    )
    .await;
    let id = out["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(out["UserPoolClient"].get("ClientSecret").is_none());
    let response = http()
        .post(issuer.token_endpoint())
        .form_body(&[("grant_type", "client_credentials"), ("client_id", &id)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = json_body(response).await;
    assert_eq!(body["error"], "unauthorized_client");
}
