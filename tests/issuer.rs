//! The local Cognito-compatible issuer over real HTTP: the management API
//! (AWS JSON 1.1), Cognito's validation errors, the token endpoint and the
//! seed's scope rules, persistence, rotation, and the end-to-end path into
//! the layer.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate::local::LocalIssuer;
use serde_json::{Value, json};
use support::*;

/// A management call as an AWS SDK sends it. Returns the status, the body
/// and the `x-amzn-errortype` header.
async fn call(issuer: &LocalIssuer, action: &str, input: Value) -> (u16, Value, Option<String>) {
    let response = http()
        .post(issuer.base_url())
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{action}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-2/cognito-idp/aws4_request, SignedHeaders=host, Signature=0000",
        )
        .body(input.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    let body: Value = json_body(response).await;
    (status, body, error_type)
}

/// A response body, parsed as JSON.
async fn json_body(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// A call that must succeed.
async fn ok(issuer: &LocalIssuer, action: &str, input: Value) -> Value {
    let (status, body, _) = call(issuer, action, input).await;
    assert_eq!(status, 200, "{action}: {body}");
    body
}

/// A call that must fail with `expected`, in the AWS JSON error shape.
async fn fails(issuer: &LocalIssuer, action: &str, input: Value, expected: &str) -> String {
    let (status, body, header) = call(issuer, action, input.clone()).await;
    assert_eq!(status, 400, "{action} {input}: {body}");
    assert_eq!(body["__type"], expected, "{action} {input}: {body}");
    assert_eq!(header.as_deref(), Some(expected));
    body["message"].as_str().unwrap().to_string()
}

async fn empty_issuer() -> LocalIssuer {
    LocalIssuer::builder()
        .without_default_pool()
        .start()
        .await
        .unwrap()
}

async fn new_pool(issuer: &LocalIssuer) -> String {
    let out = ok(issuer, "CreateUserPool", json!({"PoolName": "Photos"})).await;
    out["UserPool"]["Id"].as_str().unwrap().to_string()
}

fn photo_scopes(names: &[&str]) -> Value {
    names
        .iter()
        .map(|n| json!({"ScopeName": n, "ScopeDescription": format!("{n} scope")}))
        .collect()
}

async fn photo_server(issuer: &LocalIssuer, pool: &str, scopes: &[&str]) {
    ok(
        issuer,
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com", "Name": "Photo API", "Scopes": photo_scopes(scopes)}),
    )
    .await;
}

/// A confidential client allowed client credentials with `scopes`.
async fn client(issuer: &LocalIssuer, pool: &str, scopes: &[&str]) -> (String, String) {
    let out = ok(
        issuer,
        "CreateUserPoolClient",
        json!({
            "UserPoolId": pool, "ClientName": "reader", "GenerateSecret": true,
            "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": scopes,
            "AllowedOAuthFlowsUserPoolClient": true,
        }),
    )
    .await;
    let c = &out["UserPoolClient"];
    (
        c["ClientId"].as_str().unwrap().to_string(),
        c["ClientSecret"].as_str().unwrap().to_string(),
    )
}

/// `POST /oauth2/token` with Basic auth; returns status and body.
async fn token_request(
    issuer: &LocalIssuer,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = http()
        .post(issuer.token_endpoint())
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(url_encode(form))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

fn url_encode(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

async fn scope_of(
    issuer: &LocalIssuer,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Option<String> {
    let mut full = vec![("grant_type", "client_credentials")];
    full.extend_from_slice(form);
    let (status, body) = token_request(issuer, id, secret, &full).await;
    assert_eq!(status, 200, "{body}");
    claims_of(body["access_token"].as_str().unwrap())["scope"]
        .as_str()
        .map(str::to_string)
}

const READ_FULL: &str = "https://photos.example.com/photos.read";
const WRITE_FULL: &str = "https://photos.example.com/photos.write";

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
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = json_body(response).await;
    assert_eq!(body["__type"], "SerializationException");
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

trait FormBody {
    fn form_body(self, form: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, form: &[(&str, &str)]) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(url_encode(form))
    }
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
            "grant_type=authorization_code&code=x".into(),
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

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scopegate-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn state_survives_a_restart_keys_included() {
    let dir = temp_dir("persist");
    let path = dir.join("state.json");
    let (pool, id, secret, jwks) = {
        let issuer = LocalIssuer::builder()
            .without_default_pool()
            .state_file(&path)
            .start()
            .await
            .unwrap();
        let pool = new_pool(&issuer).await;
        photo_server(&issuer, &pool, &["photos.read"]).await;
        let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
        let jwks = issuer.user_pool(&pool).jwks();
        (pool, id, secret, jwks)
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the state file holds private keys");
    }
    let issuer = LocalIssuer::builder()
        .without_default_pool()
        .state_file(&path)
        .start()
        .await
        .unwrap();
    assert_eq!(
        issuer.user_pool(&pool).jwks(),
        jwks,
        "the same keys after a restart"
    );
    ok(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com"}),
    )
    .await;
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[]).await.as_deref(),
        Some(READ_FULL)
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
}

#[tokio::test]
async fn a_corrupt_or_unreadable_state_file_is_a_startup_error() {
    let dir = temp_dir("corrupt");
    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, b"{\"format\": 1, \"pools\": [").unwrap();
    let err = LocalIssuer::builder()
        .state_file(&corrupt)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("corrupt.json"), "{err}");
    assert_eq!(
        std::fs::read(&corrupt).unwrap(),
        b"{\"format\": 1, \"pools\": [",
        "left untouched"
    );
    // A directory where the file should be.
    let err = LocalIssuer::builder()
        .state_file(&dir)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be read"), "{err}");

    // The command: one line, non-zero exit.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["issuer", "--listen", "127.0.0.1:0", "--state"])
        .arg(&corrupt)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("corrupt.json") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[tokio::test]
async fn rotation_signs_with_the_new_key_and_drops_the_old_after_the_grace_period() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
    let before = issuer.client_credentials(&id, &secret, None).await.unwrap();
    let old_kid = header_of(&before)["kid"].as_str().unwrap().to_string();

    let response = http()
        .post(format!(
            "{}/_local/{pool}/rotate-key?grace_seconds=1",
            issuer.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let rotated: Value = json_body(response).await;
    assert_eq!(rotated["previous_kid"], old_kid.as_str());
    let new_kid = rotated["kid"].as_str().unwrap().to_string();

    let after = issuer.client_credentials(&id, &secret, None).await.unwrap();
    assert_eq!(header_of(&after)["kid"], new_kid.as_str());
    let published = |issuer: &LocalIssuer| issuer.user_pool(&pool).kids();
    assert_eq!(published(&issuer), vec![old_kid.clone(), new_kid.clone()]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(published(&issuer), vec![new_kid]);
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
        .body(vec![0xff, 0xfe, b'{'])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
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

#[tokio::test]
async fn a_failed_save_changes_nothing() {
    let dir = temp_dir("rollback");
    let path = dir.join("sub").join("state.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let issuer = LocalIssuer::builder()
        .without_default_pool()
        .state_file(&path)
        .start()
        .await
        .unwrap();
    let pool = new_pool(&issuer).await;
    // The state directory disappears: the next save fails.
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    let (status, body, _) = call(
        &issuer,
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "urn:x", "Name": "X"}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["__type"], "InternalErrorException");
    fails(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "urn:x"}),
        "ResourceNotFoundException",
    )
    .await;
    // A state path that cannot be written is a startup error.
    let err = LocalIssuer::builder()
        .state_file(dir.join("missing").join("s.json"))
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("could not be saved"), "{err}");
}

#[tokio::test]
async fn key_retirement_survives_a_restart() {
    let dir = temp_dir("retire");
    let path = dir.join("state.json");
    let (pool, old, new) = {
        let issuer = LocalIssuer::builder()
            .without_default_pool()
            .state_file(&path)
            .start()
            .await
            .unwrap();
        let pool = issuer.create_user_pool("P").unwrap();
        let old = pool.signing_kid();
        let new = pool.rotate(Some(Duration::from_millis(800))).unwrap();
        (pool.id().to_string(), old, new)
    };
    let issuer = LocalIssuer::builder()
        .without_default_pool()
        .state_file(&path)
        .start()
        .await
        .unwrap();
    assert_eq!(issuer.user_pool(&pool).kids(), vec![old, new.clone()]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(issuer.user_pool(&pool).kids(), vec![new]);
}
