//! Cognito's validation errors, and its limits accepted at the limit.

use super::*;

#[tokio::test]
async fn cognito_validation_errors() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let rs = |identifier: Value, name: Value, scopes: Value| json!({"UserPoolId": pool, "Identifier": identifier, "Name": name, "Scopes": scopes});
    let ok_scopes = photo_scopes(&["read"]);
    let many: Value = (0..101)
        .map(|i| json!({"ScopeName": format!("s{i}"), "ScopeDescription": "d"}))
        .collect();
    let cases = [
        (
            rs(json!("has space"), json!("API"), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(json!("quote\"d"), json!("API"), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(json!("back\\slash"), json!("API"), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(json!("x".repeat(257)), json!("API"), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(json!(""), json!("API"), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(json!("urn:ok"), json!("bad/name"), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(json!("urn:ok"), json!("n".repeat(257)), ok_scopes.clone()),
            "InvalidParameterException",
        ),
        (
            rs(
                json!("urn:ok"),
                json!("API"),
                json!([{"ScopeName": "a/b", "ScopeDescription": "d"}]),
            ),
            "InvalidParameterException",
        ),
        (
            rs(
                json!("urn:ok"),
                json!("API"),
                json!([{"ScopeName": "a", "ScopeDescription": ""}]),
            ),
            "InvalidParameterException",
        ),
        (
            rs(
                json!("urn:ok"),
                json!("API"),
                json!([{"ScopeName": "a", "ScopeDescription": "d".repeat(257)}]),
            ),
            "InvalidParameterException",
        ),
        (
            rs(json!("urn:ok"), json!("API"), json!([{"ScopeName": "a"}])),
            "InvalidParameterException",
        ),
        (
            rs(json!("urn:ok"), json!("API"), many),
            "InvalidParameterException",
        ),
        (
            rs(
                json!("https://photos.example.com"),
                json!("API"),
                ok_scopes.clone(),
            ),
            "InvalidParameterException",
        ),
        (
            json!({"UserPoolId": pool, "Name": "API"}),
            "InvalidParameterException",
        ),
        (
            json!({"UserPoolId": "us-east-1_nope00000", "Identifier": "urn:x", "Name": "API"}),
            "ResourceNotFoundException",
        ),
        (
            json!({"UserPoolId": "not a pool id", "Identifier": "urn:x", "Name": "API"}),
            "InvalidParameterException",
        ),
        (
            json!({"UserPoolId": pool, "Identifier": 5, "Name": "API"}),
            "SerializationException",
        ),
    ];
    for (input, expected) in cases {
        fails(&issuer, "CreateResourceServer", input, expected).await;
    }
    fails(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "urn:none"}),
        "ResourceNotFoundException",
    )
    .await;
    fails(
        &issuer,
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": "nope"}),
        "ResourceNotFoundException",
    )
    .await;

    let client = |extra: Value| {
        let mut input = json!({"UserPoolId": pool, "ClientName": "c", "GenerateSecret": true,
            "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": [READ_FULL],
            "AllowedOAuthFlowsUserPoolClient": true});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    let client_cases = [
        (
            client(json!({"AllowedOAuthScopes": ["https://photos.example.com/photos.delete"]})),
            "ScopeDoesNotExistException",
        ),
        (
            client(json!({"AllowedOAuthScopes": ["https://nowhere.example.com/photos.read"]})),
            "ScopeDoesNotExistException",
        ),
        (
            client(json!({"GenerateSecret": false})),
            "InvalidOAuthFlowException",
        ),
        (
            client(json!({"AllowedOAuthFlows": ["client_credentials", "code"]})),
            "InvalidOAuthFlowException",
        ),
        (
            client(json!({"AllowedOAuthFlows": ["password"]})),
            "InvalidParameterException",
        ),
        (
            client(json!({"AllowedOAuthScopes": []})),
            "InvalidParameterException",
        ),
        (
            client(json!({"ClientName": "bad/name"})),
            "InvalidParameterException",
        ),
        (
            client(
                json!({"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "minutes"}}),
            ),
            "InvalidParameterException",
        ),
        (
            client(
                json!({"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "days"}}),
            ),
            "InvalidParameterException",
        ),
        (
            client(json!({"TokenValidityUnits": {"AccessToken": "weeks"}})),
            "InvalidParameterException",
        ),
    ];
    for (input, expected) in client_cases {
        fails(&issuer, "CreateUserPoolClient", input, expected).await;
    }
    let message = fails(
        &issuer,
        "CreateUserPoolClient",
        client(json!({"GenerateSecret": false})),
        "InvalidOAuthFlowException",
    )
    .await;
    assert_eq!(
        message,
        "client_credentials flow can not be selected if client does not have a client secret."
    );

    fails(
        &issuer,
        "NoSuchAction",
        json!({}),
        "UnknownOperationException",
    )
    .await;
    let response = http()
        .post(issuer.base_url())
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.ListUserPools",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = json_body(response).await;
    assert_eq!(body["__type"], "SerializationException");
}

#[tokio::test]
async fn cognito_limits_are_accepted_at_the_limit() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    let hundred: Value = (0..100)
        .map(|i| json!({"ScopeName": format!("{i}{}", "s".repeat(250)), "ScopeDescription": "d".repeat(256)}))
        .collect();
    let identifier = "i".repeat(256);
    let created = ok(
        &issuer,
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": identifier, "Name": "n".repeat(256), "Scopes": hundred}),
    )
    .await;
    assert_eq!(
        created["ResourceServer"]["Scopes"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
}

#[tokio::test]
async fn browser_flows_need_valid_callback_urls_and_no_client_credentials() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    let client = |extra: Value| {
        let mut input = json!({"UserPoolId": pool, "ClientName": "web",
            "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
            "AllowedOAuthFlowsUserPoolClient": true, "CallbackURLs": ["https://app.example.com/cb"]});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    let message = fails(
        &issuer,
        "CreateUserPoolClient",
        client(json!({"AllowedOAuthFlows": ["implicit", "client_credentials"], "GenerateSecret": true})),
        "InvalidOAuthFlowException",
    )
    .await;
    assert_eq!(
        message,
        "client_credentials flow can not be selected along with code flow or implicit flow."
    );
    let refused = [
        json!({"CallbackURLs": []}),
        json!({"CallbackURLs": null}),
        json!({"AllowedOAuthFlows": ["implicit"], "CallbackURLs": []}),
        json!({"CallbackURLs": ["http://app.example.com/cb"]}),
        json!({"CallbackURLs": ["https://app.example.com/cb#frag"]}),
        json!({"CallbackURLs": ["/relative/cb"]}),
        json!({"LogoutURLs": ["http://app.example.com/bye"]}),
        json!({"DefaultRedirectURI": "https://elsewhere.example.com/cb"}),
    ];
    for extra in refused {
        fails(
            &issuer,
            "CreateUserPoolClient",
            client(extra),
            "InvalidParameterException",
        )
        .await;
    }
    let accepted = [
        json!({}),
        json!({"CallbackURLs": ["http://localhost:8080/cb", "http://127.0.0.1/cb", "myapp://cb"]}),
        json!({"DefaultRedirectURI": "https://app.example.com/cb"}),
    ];
    for extra in accepted {
        ok(&issuer, "CreateUserPoolClient", client(extra)).await;
    }
    // The same rules on update.
    let id =
        ok(&issuer, "CreateUserPoolClient", client(json!({}))).await["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string();
    let mut update = client(json!({"CallbackURLs": ["http://app.example.com/cb"]}));
    update["ClientId"] = json!(id);
    fails(
        &issuer,
        "UpdateUserPoolClient",
        update,
        "InvalidParameterException",
    )
    .await;
}
