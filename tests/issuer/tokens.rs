//! The token endpoint: Cognito-shaped client-credentials tokens, RFC 6749 errors and edge cases, and the end-to-end path into the layer.

use super::*;

#[tokio::test]
async fn tokens_are_shaped_like_cognito_client_credentials_tokens() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
    let response = http()
        .post(issuer.token_endpoint())
        .basic_auth(&id, Some(&secret))
        .form_body(&[("grant_type", "client_credentials"), ("scope", READ_FULL)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = json_body(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let header = header_of(token);
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    let claims = claims_of(token);
    let mut names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "auth_time",
            "client_id",
            "exp",
            "iat",
            "iss",
            "jti",
            "scope",
            "sub",
            "token_use",
            "version"
        ]
    );
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["iss"], format!("{}/{pool}", issuer.base_url()));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert_eq!(claims["auth_time"], claims["iat"]);
    assert_eq!(claims["scope"], READ_FULL);
}

#[tokio::test]
async fn access_token_lifetime_follows_the_client() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let out = ok(
        &issuer,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "short", "GenerateSecret": true,
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": [READ_FULL],
               "AllowedOAuthFlowsUserPoolClient": true, "AccessTokenValidity": 10,
               "TokenValidityUnits": {"AccessToken": "minutes"}}),
    )
    .await;
    let c = &out["UserPoolClient"];
    let (status, body) = token_request(
        &issuer,
        c["ClientId"].as_str().unwrap(),
        c["ClientSecret"].as_str().unwrap(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 600);
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
    let no_flow = ok(
        &issuer,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "no-flow", "GenerateSecret": true}),
    )
    .await;
    let no_flow_id = no_flow["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let no_flow_secret = no_flow["UserPoolClient"]["ClientSecret"]
        .as_str()
        .unwrap()
        .to_string();

    let post = |basic: Option<(&str, &str)>, body: String, content_type: &str| {
        let mut request = http()
            .post(issuer.token_endpoint())
            .header("content-type", content_type.to_string())
            .body(body);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send()
    };
    let form = "application/x-www-form-urlencoded";
    type Case<'a> = (Option<(&'a str, &'a str)>, String, &'a str, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            Some((&id, &secret)),
            "scope=x".into(),
            form,
            400,
            "invalid_request",
        ),
        (
            Some((&id, &secret)),
            "grant_type=password&username=a&password=b".into(),
            form,
            400,
            "unsupported_grant_type",
        ),
        (
            Some((&id, &secret)),
            "grant_type=urn:ietf:params:oauth:grant-type:device_code".into(),
            form,
            400,
            "unsupported_grant_type",
        ),
        (
            Some((&id, "wrong")),
            "grant_type=client_credentials".into(),
            form,
            401,
            "invalid_client",
        ),
        (
            Some(("unknown", "x")),
            "grant_type=client_credentials".into(),
            form,
            401,
            "invalid_client",
        ),
        (
            None,
            format!("grant_type=client_credentials&client_id={id}&client_secret=wrong"),
            form,
            400,
            "invalid_client",
        ),
        (
            None,
            "grant_type=client_credentials".into(),
            form,
            400,
            "invalid_client",
        ),
        (
            Some((&id, &secret)),
            format!("grant_type=client_credentials&client_secret={secret}"),
            form,
            400,
            "invalid_request",
        ),
        (
            Some((&id, &secret)),
            "grant_type=client_credentials&grant_type=client_credentials".into(),
            form,
            400,
            "invalid_request",
        ),
        (
            Some((&id, &secret)),
            r#"{"grant_type":"client_credentials"}"#.into(),
            "application/json",
            400,
            "invalid_request",
        ),
        (
            Some((&no_flow_id, &no_flow_secret)),
            "grant_type=client_credentials".into(),
            form,
            400,
            "unauthorized_client",
        ),
        (
            Some((&id, &secret)),
            "grant_type=client_credentials&scope=openid".into(),
            form,
            400,
            "invalid_scope",
        ),
    ];
    for (basic, body, content_type, status, error) in cases {
        let response = post(basic, body.clone(), content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        if status == 401 {
            assert!(
                response.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic ")
            );
        }
        let json: Value = json_body(response).await;
        assert_eq!(json["error"], error, "{body}");
        assert!(json.get("access_token").is_none());
    }
    // client_secret_post works too.
    let response = post(
        None,
        format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        form,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn end_to_end_issuer_token_endpoint_layer() {
    let issuer = empty_issuer().await;
    let pool = issuer.create_user_pool("Photos").unwrap();
    pool.create_resource_server(&photo_api()).unwrap();
    let reader = pool.create_client("reader", &[READ]).unwrap();
    let writer = pool.create_client("writer", &[WRITE]).unwrap();
    let verifier = scopegate::Verifier::builder(pool.issuer())
        .token_use("access")
        .client_ids([reader.id.as_str(), writer.id.as_str()])
        .resource_server(photo_api())
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let read_token = issuer
        .client_credentials(&reader.id, &reader.secret, None)
        .await
        .unwrap();
    let write_token = issuer
        .client_credentials(&writer.id, &writer.secret, None)
        .await
        .unwrap();
    assert_eq!(status(&api, Some(&read_token)).await.0, 200);
    let (code, challenge) = status(&api, Some(&write_token)).await;
    assert_eq!(code, 403);
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    // Discovery works against the same pool.
    let discovered = scopegate::Verifier::builder(scopegate::Issuer::discover(pool.url()))
        .client_ids([reader.id.as_str()])
        .build()
        .unwrap();
    discovered.verify(&read_token).await.unwrap();
}

#[tokio::test]
async fn token_endpoint_edge_cases() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read", "photos.write"]).await;
    // A given secret with `+`: curl and most clients send Basic unencoded.
    let secret = "abc+def_ghi+jkl0123456789xyz";
    let out = ok(
        &issuer,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "plus", "ClientSecret": secret,
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": [READ_FULL, WRITE_FULL],
               "AllowedOAuthFlowsUserPoolClient": true}),
    )
    .await;
    let id = out["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = token_request(
        &issuer,
        &id,
        secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "raw Basic secret with +");
    let (status, _) = token_request(
        &issuer,
        &id,
        &secret.replace('+', "%2B"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "form-encoded Basic secret");
    // An empty parameter counts as omitted (RFC 6749 §3.1): all scopes.
    let both = format!("{READ_FULL} {WRITE_FULL}");
    assert_eq!(
        scope_of(&issuer, &id, secret, &[("scope", "")])
            .await
            .as_deref(),
        Some(both.as_str())
    );
    let (status, body) = token_request(
        &issuer,
        &id,
        secret,
        &[("grant_type", "client_credentials"), ("scope", " ")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = token_request(&issuer, &id, secret, &[("grant_type", "")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    for header in ["Basic !!!", "Basic bm9jb2xvbg==", "Basic", "Basic /w=="] {
        let response = http()
            .post(issuer.token_endpoint())
            .header("authorization", header)
            .form_body(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
    }
}
