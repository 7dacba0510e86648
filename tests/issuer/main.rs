//! The local Cognito-compatible issuer over real HTTP: the management API
//! (AWS JSON 1.1), Cognito's validation errors, the token endpoint and the
//! seed's scope rules, persistence, rotation, and the end-to-end path into
//! the layer. Tests live in one file per topic; the helpers are here.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate::local::LocalIssuer;
use serde_json::{Value, json};
use support::*;

mod admin;
mod authorize;
mod code_flow;
mod console;
mod discovery;
mod dpop;
mod groups;
mod hardening;
mod hosted_support;
mod login;
mod logout;
mod persistence;
mod pool_users;
mod refresh;
mod rotation;
mod seed_rules;
mod sign_in;
mod sign_out;
mod sign_up;
mod tokens;
mod userinfo;
mod users;
mod validation;

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

trait FormBody {
    fn form_body(self, form: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, form: &[(&str, &str)]) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(url_encode(form))
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scopegate-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A pool for users: Cognito's default password policy unless `extra`
/// (merged into the CreateUserPool input) says otherwise.
async fn users_pool(issuer: &LocalIssuer, extra: Value) -> String {
    let mut input = json!({"PoolName": "People"});
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let out = ok(issuer, "CreateUserPool", input).await;
    out["UserPool"]["Id"].as_str().unwrap().to_string()
}

/// An app client for sign-ins with these `ExplicitAuthFlows` (none: the
/// member is left out) and, if `secret`, a client secret.
async fn app_client(
    issuer: &LocalIssuer,
    pool: &str,
    flows: &[&str],
    secret: bool,
) -> (String, Option<String>) {
    let mut input = json!({"UserPoolId": pool, "ClientName": "app", "GenerateSecret": secret});
    if !flows.is_empty() {
        input["ExplicitAuthFlows"] = json!(flows);
    }
    let out = ok(issuer, "CreateUserPoolClient", input).await;
    let c = &out["UserPoolClient"];
    (
        c["ClientId"].as_str().unwrap().to_string(),
        c["ClientSecret"].as_str().map(str::to_string),
    )
}

/// A confirmed user with a permanent password (set in process).
fn confirmed_user(issuer: &LocalIssuer, pool: &str, name: &str, password: &str, attributes: Value) {
    issuer
        .call(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS", "UserAttributes": attributes}),
        )
        .unwrap();
    issuer
        .call(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": name, "Password": password, "Permanent": true}),
        )
        .unwrap();
}

/// `SECRET_HASH`: Base64(HMAC-SHA256(client secret, username + client id)).
fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    use aws_lc_rs::hmac;
    use base64::engine::general_purpose::STANDARD;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    STANDARD.encode(hmac::sign(&key, format!("{username}{client_id}").as_bytes()).as_ref())
}

/// InitiateAuth with USER_PASSWORD_AUTH over HTTP: status, body, error type.
async fn password_auth(
    issuer: &LocalIssuer,
    client_id: &str,
    username: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    call(
        issuer,
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
               "AuthParameters": {"USERNAME": username, "PASSWORD": password}}),
    )
    .await
}

/// The pool's outbox, over HTTP.
async fn outbox(issuer: &LocalIssuer, pool: &str) -> (u16, Value) {
    let response = http()
        .get(format!("{}/_local/{pool}/messages", issuer.base_url()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = if status == 200 {
        json_body(response).await
    } else {
        Value::Null
    };
    (status, body)
}

const GOOD_PASSWORD: &str = "Correct-h0rse";
