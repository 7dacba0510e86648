//! The management API (AWS JSON 1.1): user pools, resource servers and app clients, created, described, listed, updated and deleted.

use super::*;

#[tokio::test]
async fn user_pools_are_created_described_listed_and_deleted() {
    let issuer = empty_issuer().await;
    let created = ok(&issuer, "CreateUserPool", json!({"PoolName": "Photos"})).await;
    let pool = &created["UserPool"];
    let id = pool["Id"].as_str().unwrap();
    // The region comes from the request's signature.
    let (region, suffix) = id.split_once('_').unwrap();
    assert_eq!(region, "eu-west-2");
    assert!(
        suffix.len() == 9 && suffix.chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
    assert_eq!(
        pool["Arn"],
        format!("arn:aws:cognito-idp:eu-west-2:000000000000:userpool/{id}")
    );
    assert!(pool["CreationDate"].is_number() && pool["LastModifiedDate"].is_number());

    let described = ok(&issuer, "DescribeUserPool", json!({"UserPoolId": id})).await;
    assert_eq!(described["UserPool"]["Name"], "Photos");

    for i in 0..4 {
        ok(
            &issuer,
            "CreateUserPool",
            json!({"PoolName": format!("Pool {i}")}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"MaxResults": 2});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = ok(&issuer, "ListUserPools", input).await;
        let items = page["UserPools"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["Id"].as_str().unwrap().to_string()));
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    fails(
        &issuer,
        "ListUserPools",
        json!({}),
        "InvalidParameterException",
    )
    .await;
    fails(
        &issuer,
        "ListUserPools",
        json!({"MaxResults": 61}),
        "InvalidParameterException",
    )
    .await;

    ok(&issuer, "DeleteUserPool", json!({"UserPoolId": id})).await;
    let message = fails(
        &issuer,
        "DescribeUserPool",
        json!({"UserPoolId": id}),
        "ResourceNotFoundException",
    )
    .await;
    assert_eq!(message, format!("User pool {id} does not exist."));
}

#[tokio::test]
async fn resource_servers_are_created_described_listed_updated_and_deleted() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    let created = ok(
        &issuer,
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com", "Name": "Photo API",
               "Scopes": photo_scopes(&["photos.read", "photos.write"])}),
    )
    .await;
    assert_eq!(
        created["ResourceServer"],
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com", "Name": "Photo API",
               "Scopes": photo_scopes(&["photos.read", "photos.write"])})
    );
    let described = ok(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com"}),
    )
    .await;
    assert_eq!(described, created);

    for i in 0..4 {
        ok(
            &issuer,
            "CreateResourceServer",
            json!({"UserPoolId": pool, "Identifier": format!("urn:api:{i}"), "Name": "API"}),
        )
        .await;
    }
    let mut all = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut input = json!({"UserPoolId": pool, "MaxResults": 2});
        if let Some(t) = &next {
            input["NextToken"] = json!(t);
        }
        let page = ok(&issuer, "ListResourceServers", input).await;
        all.extend(
            page["ResourceServers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Identifier"].clone()),
        );
        match page["NextToken"].as_str() {
            Some(t) => next = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(all.len(), 5);
    let without_max = ok(&issuer, "ListResourceServers", json!({"UserPoolId": pool})).await;
    assert_eq!(without_max["ResourceServers"].as_array().unwrap().len(), 5);

    let updated = ok(
        &issuer,
        "UpdateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com", "Name": "Photos v2",
               "Scopes": photo_scopes(&["photos.read"])}),
    )
    .await;
    assert_eq!(updated["ResourceServer"]["Name"], "Photos v2");
    assert_eq!(
        updated["ResourceServer"]["Scopes"],
        photo_scopes(&["photos.read"])
    );

    ok(
        &issuer,
        "DeleteResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com"}),
    )
    .await;
    fails(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com"}),
        "ResourceNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn app_clients_are_created_described_updated_listed_and_deleted() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read", "photos.write"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL, WRITE_FULL]).await;
    assert!(
        id.len() == 26
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
    assert!(secret.len() >= 24);
    let described = ok(
        &issuer,
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    )
    .await;
    let c = &described["UserPoolClient"];
    assert_eq!(c["ClientSecret"], secret);
    assert_eq!(c["AllowedOAuthScopes"], json!([READ_FULL, WRITE_FULL]));
    assert_eq!(c["AllowedOAuthFlows"], json!(["client_credentials"]));
    assert_eq!(c["AllowedOAuthFlowsUserPoolClient"], true);

    let updated = ok(
        &issuer,
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "ClientName": "renamed",
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": [READ_FULL],
               "AllowedOAuthFlowsUserPoolClient": true, "AccessTokenValidity": 30,
               "TokenValidityUnits": {"AccessToken": "minutes"}}),
    )
    .await;
    let u = &updated["UserPoolClient"];
    assert_eq!(u["ClientName"], "renamed");
    assert_eq!(u["ClientSecret"], secret, "the secret survives an update");
    assert_eq!(u["AllowedOAuthScopes"], json!([READ_FULL]));
    assert_eq!(u["AccessTokenValidity"], 30);

    for _ in 0..3 {
        client(&issuer, &pool, &[READ_FULL]).await;
    }
    let page = ok(
        &issuer,
        "ListUserPoolClients",
        json!({"UserPoolId": pool, "MaxResults": 3}),
    )
    .await;
    assert_eq!(page["UserPoolClients"].as_array().unwrap().len(), 3);
    assert!(page["NextToken"].is_string());
    let rest = ok(
        &issuer,
        "ListUserPoolClients",
        json!({"UserPoolId": pool, "MaxResults": 3, "NextToken": page["NextToken"]}),
    )
    .await;
    assert_eq!(rest["UserPoolClients"].as_array().unwrap().len(), 1);
    assert!(rest.get("NextToken").is_none());

    ok(
        &issuer,
        "DeleteUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    )
    .await;
    fails(
        &issuer,
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
        "ResourceNotFoundException",
    )
    .await;
    let (status, body) = token_request(
        &issuer,
        &id,
        &secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn update_client_may_leave_the_name_out_and_is_checked_like_create() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let (id, _) = client(&issuer, &pool, &[READ_FULL]).await;
    let updated = ok(
        &issuer,
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "AllowedOAuthFlows": ["client_credentials"],
               "AllowedOAuthScopes": [READ_FULL], "AllowedOAuthFlowsUserPoolClient": true}),
    )
    .await;
    assert_eq!(updated["UserPoolClient"]["ClientName"], "reader");
    let base = json!({"UserPoolId": pool, "ClientId": id, "AllowedOAuthFlows": ["client_credentials"],
                      "AllowedOAuthFlowsUserPoolClient": true});
    let with = |extra: Value| {
        let mut input = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    fails(
        &issuer,
        "UpdateUserPoolClient",
        with(json!({"AllowedOAuthScopes": [WRITE_FULL]})),
        "ScopeDoesNotExistException",
    )
    .await;
    fails(
        &issuer,
        "UpdateUserPoolClient",
        with(json!({"AllowedOAuthScopes": [READ_FULL, "openid"]})),
        "InvalidOAuthFlowException",
    )
    .await;
    fails(
        &issuer,
        "UpdateUserPoolClient",
        with(json!({"AllowedOAuthScopes": [READ_FULL], "IdTokenValidity": -1})),
        "InvalidParameterException",
    )
    .await;
    fails(
        &issuer,
        "UpdateUserPoolClient",
        with(json!({"AllowedOAuthScopes": [READ_FULL], "CallbackURLs": "x"})),
        "SerializationException",
    )
    .await;
}

#[tokio::test]
async fn unknown_things_are_resource_not_found_for_every_action() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    let gone = "us-east-1_Gone00000";
    for (action, input) in [
        ("DeleteUserPool", json!({"UserPoolId": gone})),
        (
            "UpdateResourceServer",
            json!({"UserPoolId": pool, "Identifier": "urn:none", "Name": "x"}),
        ),
        (
            "DeleteResourceServer",
            json!({"UserPoolId": pool, "Identifier": "urn:none"}),
        ),
        (
            "UpdateUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": "none", "ClientName": "x"}),
        ),
        (
            "DeleteUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": "none"}),
        ),
        ("ListResourceServers", json!({"UserPoolId": gone})),
        ("ListUserPoolClients", json!({"UserPoolId": gone})),
    ] {
        fails(&issuer, action, input, "ResourceNotFoundException").await;
    }
    fails(
        &issuer,
        "ListUserPools",
        json!({"MaxResults": 10, "NextToken": ""}),
        "InvalidParameterException",
    )
    .await;
    for body in ["[]", "null", "\"x\""] {
        let response = http()
            .post(issuer.base_url())
            .header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.ListUserPools",
            )
            .header("content-type", "application/x-amz-json-1.1")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
    }
    let response = http()
        .post(issuer.base_url())
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.ListUserPools",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(vec![0xff, 0xfe, b'{'])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}
