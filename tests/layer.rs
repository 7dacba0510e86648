//! The layer over real HTTP: forwarding with claims, all-of and any-of
//! requirements, rejection details, custom rejections, axum extractors. The
//! attacks are in `tests/adversarial/`, against the layer and the proxy.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::{HeaderValue, Request, StatusCode};
use scopegate::{
    Claims, ConfigErrorKind, Issuer, Rejection, RejectionKind, ScopeGate, ScopeGateLayer,
    TokenError, Verifier,
};
use support::*;
use tower::{ServiceBuilder, ServiceExt};

#[tokio::test]
async fn valid_token_with_scope_is_forwarded_with_claims() {
    let issuer = issuer().await;
    let api = serve_layer(verifier(&issuer).require(READ).unwrap()).await;
    let response = http_get(&format!("{}/r", api.url), Some(&token(&issuer, &[READ]))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["client_id"], CLIENT);
    assert_eq!(body["sub"], CLIENT);
    assert_eq!(body["scope"], READ);
}

#[tokio::test]
async fn all_of_needs_every_scope_and_any_of_needs_one() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let all = serve_layer(verifier.require_all([READ, WRITE]).unwrap()).await;
    let any = serve_layer(verifier.require_any([READ, WRITE]).unwrap()).await;
    let read = token(&issuer, &[READ]);
    let write = token(&issuer, &[WRITE]);
    let both = token(&issuer, &[READ, WRITE]);
    let none = token(&issuer, &[]);

    let (code, challenge) = status(&all, Some(&read)).await;
    assert_eq!(code, 403);
    assert!(
        challenge.contains(&format!(r#"scope="{READ} {WRITE}""#)),
        "{challenge}"
    );
    assert_eq!(status(&all, Some(&both)).await.0, 200);
    assert_eq!(status(&any, Some(&read)).await.0, 200);
    assert_eq!(status(&any, Some(&write)).await.0, 200);
    assert_eq!(status(&any, Some(&none)).await.0, 403);
}

#[tokio::test]
async fn authenticated_route_needs_a_valid_token_and_no_scope() {
    let issuer = issuer().await;
    let api = serve_layer(verifier(&issuer).authenticated()).await;
    assert_eq!(status(&api, Some(&token(&issuer, &[]))).await.0, 200);
    assert_eq!(status(&api, None).await.0, 401);
    assert_eq!(status(&api, Some("x.y.z")).await.0, 401);
}

#[tokio::test]
async fn requiring_an_undefined_scope_is_a_config_error() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let err = verifier
        .require("https://photos.example.com/photos.delete")
        .unwrap_err();
    assert!(err.is_undefined_scope(), "{err}");
    let err = verifier
        .require("https://nowhere.example.com/photos.read")
        .unwrap_err();
    assert!(err.is_undefined_scope(), "{err}");
    let err = verifier.require("photos.read").unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::InvalidScope);
    let err = verifier.require_all(Vec::<&str>::new()).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::InvalidScope);
}

#[tokio::test]
async fn configuration_mistakes_are_errors_not_open_routes() {
    let issuer = issuer().await;
    let no_audience = Verifier::builder(issuer.issuer()).build().unwrap_err();
    assert_eq!(no_audience.kind(), ConfigErrorKind::MissingAudienceCheck);
    let cognito = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
        .build()
        .unwrap_err();
    assert_eq!(cognito.kind(), ConfigErrorKind::MissingAudienceCheck);
    assert!(cognito.to_string().contains("client_ids"), "{cognito}");
    let insecure = Verifier::builder(Issuer::with_jwks_url(
        "https://issuer",
        "http://example.com/jwks",
    ))
    .client_ids(["c"])
    .build()
    .unwrap_err();
    assert_eq!(insecure.kind(), ConfigErrorKind::InsecureUrl);
    let at_jwt = builder(&issuer).require_at_jwt().build().unwrap_err();
    assert_eq!(at_jwt.kind(), ConfigErrorKind::MissingAudienceCheck);
    assert!(at_jwt.to_string().contains("audiences"), "{at_jwt}");
    let leeway = builder(&issuer)
        .leeway(Duration::from_secs(3600))
        .build()
        .unwrap_err();
    assert_eq!(leeway.kind(), ConfigErrorKind::InvalidOption);
    let realm = builder(&issuer).realm("a\"b").build().unwrap_err();
    assert_eq!(realm.kind(), ConfigErrorKind::InvalidOption);
    let algorithms = builder(&issuer).algorithms([]).build().unwrap_err();
    assert_eq!(algorithms.kind(), ConfigErrorKind::InvalidOption);
    let bad_server = builder(&issuer)
        .resource_server(scopegate::ResourceServer::new("has space", "x"))
        .build()
        .unwrap_err();
    assert_eq!(bad_server.kind(), ConfigErrorKind::InvalidResourceServer);
    let twice = builder(&issuer)
        .resource_server(photo_api())
        .build()
        .unwrap_err();
    assert_eq!(twice.kind(), ConfigErrorKind::InvalidResourceServer);
}

#[tokio::test]
async fn realm_is_configurable() {
    let issuer = issuer().await;
    let verifier = builder(&issuer).realm("photos").build().unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    assert_eq!(status(&api, None).await.1, r#"Bearer realm="photos""#);
}

#[tokio::test]
async fn rejection_reason_is_in_the_response_extensions() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let service = ServiceBuilder::new()
        .layer(verifier.require(WRITE).unwrap())
        .service_fn(|_req: Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
        });
    let cases = [
        (None, RejectionKind::MissingCredentials),
        (
            Some("a.b".to_string()),
            RejectionKind::InvalidToken(TokenError::Malformed),
        ),
        (
            Some(token(&issuer, &[READ])),
            RejectionKind::InsufficientScope,
        ),
    ];
    for (token, kind) in cases {
        let mut request = Request::new(String::new());
        if let Some(token) = &token {
            request.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            );
        }
        let response = service.clone().oneshot(request).await.unwrap();
        let rejection = response
            .extensions()
            .get::<Rejection>()
            .expect("a rejection");
        assert_eq!(rejection.kind(), kind);
        assert_eq!(response.status(), kind.status());
        assert!(response.body().is_empty());
    }
}

#[tokio::test]
async fn rejection_response_is_customisable() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .require(READ)
        .unwrap()
        .on_rejection(|rejection: Rejection| {
            let body = format!(r#"{{"error":"{}"}}"#, rejection.kind().as_str());
            rejection.with_body(axum::body::Body::from(body))
        });
    let api = serve(Router::new().route("/r", get(whoami)).route_layer(layer)).await;
    let response = http_get(&format!("{}/r", api.url), None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="api""#
    );
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"no bearer credentials"}"#
    );
}

#[tokio::test]
async fn claims_extractor_outside_the_layer_is_500_and_option_is_none() {
    async fn optional(claims: Option<Claims>) -> &'static str {
        if claims.is_some() { "some" } else { "none" }
    }
    let api = serve(
        Router::new()
            .route("/r", get(whoami))
            .route("/o", get(optional)),
    )
    .await;
    let response = http_get(&format!("{}/r", api.url), None).await;
    assert_eq!(response.status(), 500);
    let response = http_get(&format!("{}/o", api.url), None).await;
    assert_eq!(response.text().await.unwrap(), "none");
}

#[tokio::test]
async fn nested_layers_check_scopes_with_one_verification() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let app = Router::new()
        .route(
            "/r",
            get(whoami).route_layer(verifier.require(WRITE).unwrap()),
        )
        .layer(verifier.authenticated());
    let api = serve(app).await;
    assert_eq!(status(&api, None).await.0, 401);
    assert_eq!(status(&api, Some(&token(&issuer, &[READ]))).await.0, 403);
    assert_eq!(status(&api, Some(&token(&issuer, &[WRITE]))).await.0, 200);
}

#[tokio::test]
async fn layers_of_another_verifier_do_not_trust_each_other() {
    let issuer = issuer().await;
    let other_issuer = support::issuer().await;
    let app = Router::new()
        .route(
            "/r",
            get(whoami).route_layer(verifier(&other_issuer).require(READ).unwrap()),
        )
        .layer(verifier(&issuer).authenticated());
    let api = serve(app).await;
    // Valid for the outer verifier, but not for the inner one.
    assert_eq!(
        status(&api, Some(&token(&issuer, &[READ]))).await,
        (401, INVALID_TOKEN.into())
    );
}

#[test]
fn services_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    type Inner = tower::util::BoxCloneSyncService<Request<String>, http::Response<String>, ()>;
    send_sync::<Verifier>();
    send_sync::<ScopeGateLayer>();
    send_sync::<ScopeGate<Inner, scopegate::DefaultRejection>>();
    send_sync::<
        scopegate::future::ResponseFuture<
            std::future::Ready<Result<http::Response<String>, ()>>,
            String,
            (),
        >,
    >();
    send_sync::<Claims>();
    send_sync::<Rejection>();
    send_sync::<scopegate::ConfigError>();
    send_sync::<scopegate::VerifyError>();
}

#[test]
fn scope_gate_gives_access_to_its_inner_service() {
    use tower::Layer as _;
    let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
        .client_ids([CLIENT])
        .build()
        .unwrap();
    let mut gate = verifier.authenticated().layer(5u32);
    assert_eq!(*gate.get_ref(), 5);
    *gate.get_mut() = 6;
    assert_eq!(gate.into_inner(), 6);
}

#[tokio::test]
async fn cognito_groups_are_read_and_a_mistyped_list_is_refused() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let grouped = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("cognito:groups", serde_json::json!(["editors", "admins"]))
        .mint();
    let claims = verifier.verify(&grouped).await.unwrap();
    assert_eq!(claims.groups(), ["editors", "admins"]);
    let machine = verifier.verify(&token(&issuer, &[READ])).await.unwrap();
    assert!(machine.groups().is_empty());
    for mistyped in [
        serde_json::json!("editors"),
        serde_json::json!([1]),
        serde_json::json!({"0": "editors"}),
        serde_json::json!(null),
    ] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("cognito:groups", mistyped.clone())
            .mint();
        let refused = verifier.verify(&token).await.unwrap_err();
        assert!(
            matches!(
                refused,
                scopegate::VerifyError::InvalidToken(TokenError::InvalidClaim("cognito:groups"))
            ),
            "{mistyped}: {refused:?}"
        );
    }
}

/// `GET` and `POST /r` behind `require(READ)` of a verifier that also takes
/// the token from the `access_token` cookie.
async fn cookie_api(issuer: &scopegate::local::LocalIssuer) -> Api {
    let verifier = builder(issuer)
        .token_cookie("access_token")
        .token_cookie_origins(["https://photos.example.com"])
        .build()
        .unwrap();
    serve(
        Router::new()
            .route("/r", get(whoami).post(whoami))
            .route_layer(verifier.require(READ).unwrap()),
    )
    .await
}

#[tokio::test]
async fn a_token_cookie_is_read_when_configured() {
    let issuer = issuer().await;
    let api = cookie_api(&issuer).await;
    let url = format!("{}/r", api.url);
    let token = token(&issuer, &[READ]);
    let cookie = format!("theme=dark; access_token={token}");
    let response = http()
        .get(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["client_id"], CLIENT, "the claims reached the handler");

    // Not configured: a cookie is no credential.
    let plain = serve_layer(verifier(&issuer).require(READ).unwrap()).await;
    let ignored = http()
        .get(format!("{}/r", plain.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(ignored.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        ignored.headers()["www-authenticate"],
        "Bearer realm=\"api\""
    );

    let mut forged = token.clone();
    forged.push('x');
    let bad = http()
        .get(&url)
        .header("cookie", format!("access_token={forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let challenge = bad.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn a_token_in_the_header_and_a_cookie_is_an_invalid_request() {
    let issuer = issuer().await;
    let api = cookie_api(&issuer).await;
    let url = format!("{}/r", api.url);
    let token = token(&issuer, &[READ]);
    for (query, header) in [("", true), ("?access_token=x", false)] {
        let mut request = http()
            .get(format!("{url}{query}"))
            .header("cookie", format!("access_token={token}"));
        if header {
            request = request.bearer_auth(&token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{query} {header}"
        );
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_request"), "{challenge}");
    }
    let twice = http()
        .get(&url)
        .header(
            "cookie",
            format!("access_token={token}; access_token={token}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_cookie_token_on_an_unsafe_request_needs_a_same_origin_sign() {
    let issuer = issuer().await;
    let api = cookie_api(&issuer).await;
    let url = format!("{}/r", api.url);
    let cookie = format!("access_token={}", token(&issuer, &[READ]));
    let post = |headers: &[(&str, &str)]| {
        let mut request = http().post(&url).header("cookie", &cookie);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    for refused in [
        &[][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
    ] {
        let response = post(refused).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{refused:?}");
    }
    for allowed in [
        &[("sec-fetch-site", "same-origin")][..],
        &[("origin", "https://photos.example.com")][..],
    ] {
        let response = post(allowed).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{allowed:?}");
    }
    // A bearer header on a cross-site POST is not a cookie: no CSRF risk.
    let header = http()
        .post(&url)
        .bearer_auth(token(&issuer, &[READ]))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_cookie_mistakes_are_config_errors() {
    let issuer = issuer().await;
    let cases = [
        builder(&issuer).token_cookie(""),
        builder(&issuer).token_cookie("access token"),
        builder(&issuer)
            .token_cookie("t")
            .token_cookie_origins(["https://app.example.com/"]),
        builder(&issuer).token_cookie_origins(["https://app.example.com"]),
    ];
    for case in cases {
        let error = case.build().expect_err("a config error");
        assert_eq!(error.kind(), ConfigErrorKind::InvalidOption, "{error}");
    }
}

/// A loopback listener bound before the verifier is built, so that the
/// resource identifier can name its port.
async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The value of `name="..."` in a challenge.
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let end = challenge[start..].find('"')?;
    Some(challenge[start..start + end].to_string())
}

#[tokio::test]
async fn an_mcp_client_finds_the_authorization_server_from_a_401() {
    let issuer = scopegate::local::LocalIssuer::start().await.unwrap();
    let pool = issuer.pool();
    let photos = scopegate::ResourceServer::new("com.example.photos", "Photo Server")
        .scope("read", "view your photos");
    pool.create_resource_server(&photos).unwrap();
    let client = pool
        .create_client("agent", &["com.example.photos/read"])
        .unwrap();
    let (listener, base) = listener().await;
    let verifier = Verifier::builder(pool.issuer())
        .client_ids([client.id.as_str()])
        .resource_server(photos)
        .protected_resource(scopegate::ProtectedResource::new(format!("{base}/mcp")))
        .build()
        .unwrap();
    let metadata = verifier.resource_metadata().unwrap();
    let app = Router::new()
        .route("/mcp", get(whoami))
        .route_layer(verifier.require("com.example.photos/read").unwrap())
        .merge(metadata.router());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = http();

    // 1. Unauthenticated: 401 naming the metadata and the scopes.
    let first = http.get(format!("{base}/mcp")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let challenge = first.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    let metadata_url = challenge_param(&challenge, "resource_metadata").expect("resource_metadata");
    assert_eq!(
        metadata_url,
        format!("{base}/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(
        challenge_param(&challenge, "scope").as_deref(),
        Some("com.example.photos/read")
    );

    // 2. The metadata, exactly RFC 9728 §2.
    let response = http.get(&metadata_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("cache-control"));
    let document: serde_json::Value =
        serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(
        document,
        serde_json::json!({
            "resource": format!("{base}/mcp"),
            "authorization_servers": [pool.url()],
            "scopes_supported": ["com.example.photos/read"],
            "bearer_methods_supported": ["header"],
        })
    );

    // 3. The authorization server's metadata, from the local issuer.
    let server_url = document["authorization_servers"][0].as_str().unwrap();
    let discovery = http
        .get(format!("{server_url}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    let discovery: serde_json::Value =
        serde_json::from_str(&discovery.text().await.unwrap()).unwrap();
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap();

    // 4. A token, as the client asks for it.
    let granted = http
        .post(token_endpoint)
        .basic_auth(&client.id, Some(&client.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=com.example.photos%2Fread")
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    let granted: serde_json::Value = serde_json::from_str(&granted.text().await.unwrap()).unwrap();
    let token = granted["access_token"].as_str().unwrap();

    // 5. Called again: 200.
    let second = http
        .get(format!("{base}/mcp"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    server.abort();
}

#[tokio::test]
async fn with_resource_metadata_every_challenge_names_it_and_aud_may_be_the_resource() {
    let issuer = issuer().await;
    let resource = "https://photos.example.com/api";
    let verifier = Verifier::builder(issuer.issuer())
        .resource_server(photo_api())
        .protected_resource(scopegate::ProtectedResource::new(resource))
        .build()
        .expect("no client allow-list is needed: aud must be the resource");
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let url = format!("{}/r", api.url);
    let metadata_url = "https://photos.example.com/.well-known/oauth-protected-resource/api";
    let bound = |aud: &str, scopes: &[&str]| {
        issuer
            .token()
            .client_id("any-client")
            .claim("aud", serde_json::json!(aud))
            .scopes(scopes.iter().copied())
            .mint()
    };
    let ok = http_get(&url, Some(&bound(resource, &[READ]))).await;
    assert_eq!(ok.status(), StatusCode::OK);
    for (token, status, error) in [
        (
            Some(bound("https://elsewhere.example", &[READ])),
            401,
            Some("invalid_token"),
        ),
        (None, 401, None),
        (
            Some(bound(resource, &[WRITE])),
            403,
            Some("insufficient_scope"),
        ),
    ] {
        let response = http_get(&url, token.as_deref()).await;
        assert_eq!(response.status().as_u16(), status);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert_eq!(
            challenge_param(challenge, "resource_metadata").as_deref(),
            Some(metadata_url),
            "{challenge}"
        );
        assert_eq!(
            challenge_param(challenge, "scope").as_deref(),
            Some(READ),
            "{challenge}"
        );
        assert_eq!(
            challenge_param(challenge, "error").as_deref(),
            error,
            "{challenge}"
        );
    }
}

// Groups and custom checks (`in_any_group`, `check`, `max_token_age`).

const BARE: &str = r#"Bearer realm="api""#;

/// A valid token for `CLIENT` with these scopes and `cognito:groups`.
fn grouped(issuer: &scopegate::local::LocalIssuer, scopes: &[&str], groups: &[&str]) -> String {
    issuer
        .token()
        .client_id(CLIENT)
        .scopes(scopes.iter().copied())
        .claim("cognito:groups", serde_json::json!(groups))
        .mint()
}

/// `GET /r` behind `layer`, with an outer middleware that keeps the
/// `Rejection` of each refused response (as a logging layer would).
async fn serve_recording(layer: ScopeGateLayer) -> (Api, Arc<Mutex<Vec<Rejection>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let app = Router::new()
        .route("/r", get(whoami))
        .route_layer(layer)
        .layer(tower::util::MapResponseLayer::new(
            move |response: axum::response::Response| {
                if let Some(rejection) = response.extensions().get::<Rejection>() {
                    record.lock().unwrap().push(rejection.clone());
                }
                response
            },
        ));
    (serve(app).await, seen)
}

#[tokio::test]
async fn a_group_member_is_forwarded_with_claims_and_others_get_403_with_a_bare_challenge() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .require(READ)
        .unwrap()
        .in_any_group(["editors", "admins"])
        .unwrap();
    let (api, seen) = serve_recording(layer).await;

    let member = grouped(&issuer, &[READ], &["viewers", "admins"]);
    let response = http_get(&format!("{}/r", api.url), Some(&member)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["client_id"], CLIENT);
    assert_eq!(body["scope"], READ);

    // Not in a listed group, no groups at all, or a group that differs by
    // case only: 403, a bare challenge (no `insufficient_scope`, no scope=).
    for groups in [&["viewers"][..], &[], &["Admins"], &["admins "]] {
        let token = grouped(&issuer, &[READ], groups);
        assert_eq!(
            status(&api, Some(&token)).await,
            (403, BARE.into()),
            "{groups:?}"
        );
    }
    assert_eq!(
        status(&api, Some(&token(&issuer, &[READ]))).await,
        (403, BARE.into())
    );
    let kinds: Vec<_> = seen.lock().unwrap().iter().map(Rejection::kind).collect();
    assert_eq!(kinds, [RejectionKind::MissingGroup; 5]);
    assert!(seen.lock().unwrap().iter().all(|r| r.reason().is_none()));
}

#[tokio::test]
async fn scopes_and_groups_are_both_required() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .require(WRITE)
        .unwrap()
        .in_any_group(["editors"])
        .unwrap();
    let (api, seen) = serve_recording(layer).await;
    let insufficient =
        format!(r#"Bearer realm="api", error="insufficient_scope", scope="{WRITE}""#);
    // In the group, without the scope: the scope decides (checked first),
    // and `scope=` lists only scopes.
    let no_scope = grouped(&issuer, &[READ], &["editors"]);
    assert_eq!(
        status(&api, Some(&no_scope)).await,
        (403, insufficient.clone())
    );
    // Neither: still the scope first.
    let neither = grouped(&issuer, &[READ], &["viewers"]);
    assert_eq!(status(&api, Some(&neither)).await, (403, insufficient));
    let no_group = grouped(&issuer, &[WRITE], &["viewers"]);
    assert_eq!(status(&api, Some(&no_group)).await, (403, BARE.into()));
    let both = grouped(&issuer, &[WRITE], &["editors"]);
    assert_eq!(status(&api, Some(&both)).await.0, 200);
    let kinds: Vec<_> = seen.lock().unwrap().iter().map(Rejection::kind).collect();
    assert_eq!(
        kinds,
        [
            RejectionKind::InsufficientScope,
            RejectionKind::InsufficientScope,
            RejectionKind::MissingGroup
        ]
    );
}

#[tokio::test]
async fn a_mistyped_cognito_groups_claim_is_401_invalid_token_on_a_group_route() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .authenticated()
        .in_any_group(["editors"])
        .unwrap();
    let api = serve_layer(layer).await;
    for mistyped in [
        serde_json::json!("editors"),
        serde_json::json!(["editors", 1]),
        serde_json::json!({"editors": true}),
    ] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .claim("cognito:groups", mistyped.clone())
            .mint();
        assert_eq!(
            status(&api, Some(&token)).await,
            (401, INVALID_TOKEN.into()),
            "{mistyped}"
        );
    }
}

#[tokio::test]
async fn group_lists_given_twice_must_both_hold() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .authenticated()
        .in_any_group(["editors", "admins"])
        .unwrap()
        .in_any_group(["eu"])
        .unwrap();
    let api = serve_layer(layer).await;
    for (groups, expected) in [
        (&["editors", "eu"][..], 200),
        (&["admins", "eu"], 200),
        (&["editors"], 403),
        (&["eu"], 403),
        (&[], 403),
    ] {
        let token = grouped(&issuer, &[], groups);
        assert_eq!(status(&api, Some(&token)).await.0, expected, "{groups:?}");
    }
}

#[tokio::test]
async fn a_user_signed_in_through_the_hosted_pages_passes_by_group_membership() {
    let issuer = issuer().await;
    let pool = issuer.pool();
    pool.create_resource_server(&photo_api()).unwrap();
    let out = issuer
        .call(
            "CreateUserPoolClient",
            serde_json::json!({
                "UserPoolId": issuer.pool_id(),
                "ClientName": "web",
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthScopes": ["openid", READ],
                "CallbackURLs": ["http://localhost:3000/callback"],
            }),
        )
        .unwrap();
    let web = out["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    pool.create_user("alice", "Photos-4-alice!", &[]).unwrap();
    pool.create_user("bob", "Photos-4-bob!!", &[]).unwrap();
    pool.add_user_to_group("alice", "editors").unwrap();
    pool.add_user_to_group("bob", "viewers").unwrap();
    let verifier = builder(&issuer).client_ids([web.as_str()]).build().unwrap();
    let api = serve_layer(
        verifier
            .require(READ)
            .unwrap()
            .in_any_group(["editors"])
            .unwrap(),
    )
    .await;
    let sign_in = |user: &'static str, password: &'static str| {
        issuer.sign_in(
            &web,
            "http://localhost:3000/callback",
            user,
            password,
            Some(&["openid", READ]),
        )
    };
    let alice = sign_in("alice", "Photos-4-alice!").await.unwrap();
    let bob = sign_in("bob", "Photos-4-bob!!").await.unwrap();
    assert_eq!(status(&api, Some(&alice.access_token)).await.0, 200);
    assert_eq!(
        status(&api, Some(&bob.access_token)).await,
        (403, BARE.into())
    );
}

#[tokio::test]
async fn empty_or_malformed_group_names_are_config_errors() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let long = "g".repeat(129);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec![""],
        vec!["editors", ""],
        vec![" "],
        vec!["two words"],
        vec!["tab\there"],
        vec!["line\n"],
        vec!["zero\u{200b}width"],
        vec![&long],
    ];
    for groups in cases {
        let err = verifier
            .require(READ)
            .unwrap()
            .in_any_group(groups.iter().copied())
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ConfigErrorKind::InvalidGroup,
            "{groups:?}: {err}"
        );
    }
    // Cognito's rule allows any letters, marks, symbols, numbers and
    // punctuation, up to 128 characters.
    let ok = "g".repeat(128);
    assert!(
        verifier
            .authenticated()
            .in_any_group(["Éditeurs", "team:eu-west/1", "管理者", &ok])
            .is_ok()
    );
}

#[tokio::test]
async fn a_custom_check_denial_is_403_and_its_reason_never_reaches_the_client() {
    const REASON: &str = "tenant globex-7731 is not allowed here";
    let issuer = issuer().await;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let layer = verifier(&issuer)
        .require(READ)
        .unwrap()
        .check(move |claims: &Claims| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match claims.get("custom:tenant").and_then(|t| t.as_str()) {
                Some("acme") => Ok(()),
                _ => Err(scopegate::Denied::new(REASON)),
            }
        });
    let (api, seen) = serve_recording(layer).await;
    let tenant = |tenant: &str, scopes: &[&str]| {
        issuer
            .token()
            .client_id(CLIENT)
            .scopes(scopes.iter().copied())
            .claim("custom:tenant", serde_json::json!(tenant))
            .mint()
    };

    assert_eq!(status(&api, Some(&tenant("acme", &[READ]))).await.0, 200);

    // The raw response, byte for byte: status, a bare challenge, and the
    // reason nowhere in the headers or the body.
    let refused = tenant("globex", &[READ]);
    let raw = raw_get(&api, &refused).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 403 "), "{text}");
    assert!(
        text.contains("\r\nwww-authenticate: Bearer realm=\"api\"\r\n"),
        "{text}"
    );
    for leak in ["globex", "tenant", "allowed", "denied", "check"] {
        assert!(
            !text.to_ascii_lowercase().contains(leak),
            "{leak} in {text}"
        );
    }
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(body.is_empty(), "{body}");
    assert!(head.contains("content-length: 0"), "{head}");

    // On the server side, the rejection carries the reason.
    let rejection = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(rejection.kind(), RejectionKind::Denied);
    assert_eq!(rejection.status(), StatusCode::FORBIDDEN);
    assert_eq!(rejection.reason(), Some(REASON));
    assert_eq!(rejection.www_authenticate().unwrap(), BARE);
    assert_eq!(rejection.to_string(), "denied by the route's check");

    // The check runs after every standard check: a token without the
    // scope, or an invalid one, never reaches it.
    let before = calls.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(status(&api, Some(&tenant("globex", &[WRITE]))).await.0, 403);
    assert_eq!(
        seen.lock().unwrap().last().unwrap().kind(),
        RejectionKind::InsufficientScope
    );
    assert_eq!(status(&api, Some("a.b.c")).await.0, 401);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), before);
}

#[tokio::test]
async fn checks_run_in_the_order_added_and_the_first_denial_answers() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .authenticated()
        .check(|_: &Claims| Err(scopegate::Denied::new("first")))
        .check(|_: &Claims| Err(scopegate::Denied::new(String::from("second"))));
    let (api, seen) = serve_recording(layer).await;
    assert_eq!(
        status(&api, Some(&token(&issuer, &[]))).await,
        (403, BARE.into())
    );
    assert_eq!(seen.lock().unwrap()[0].reason(), Some("first"));
}

#[tokio::test]
async fn max_token_age_refuses_an_old_authentication_with_the_rfc_9470_challenge() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .authenticated()
        .max_token_age(Duration::from_secs(15 * 60));
    let (api, seen) = serve_recording(layer).await;
    let too_old = r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="900""#;
    let now = std::time::SystemTime::now();
    let secs =
        |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let hour_ago = now - Duration::from_secs(3600);
    let minute_ago = now - Duration::from_secs(60);
    let base = || issuer.token().client_id(CLIENT);

    // Fresh: `auth_time` = `iat` = now.
    assert_eq!(status(&api, Some(&base().mint())).await.0, 200);
    // Signed in an hour ago, token refreshed a minute ago: too old.
    let refreshed = base()
        .issued_at(minute_ago)
        .claim("auth_time", serde_json::json!(secs(hour_ago)))
        .mint();
    assert_eq!(status(&api, Some(&refreshed)).await, (401, too_old.into()));
    // `auth_time` wins over `iat`.
    let recent = base()
        .issued_at(hour_ago)
        .expires_in(Duration::from_secs(7200))
        .claim("auth_time", serde_json::json!(secs(minute_ago)))
        .mint();
    assert_eq!(status(&api, Some(&recent)).await.0, 200);
    // Without `auth_time`, `iat` is the age.
    let by_iat = |at| {
        base()
            .issued_at(at)
            .expires_in(Duration::from_secs(7200))
            .without_claim("auth_time")
            .mint()
    };
    assert_eq!(status(&api, Some(&by_iat(minute_ago))).await.0, 200);
    assert_eq!(
        status(&api, Some(&by_iat(hour_ago))).await,
        (401, too_old.into())
    );
    // Neither claim: refused.
    let neither = base()
        .without_claim("auth_time")
        .without_claim("iat")
        .mint();
    assert_eq!(status(&api, Some(&neither)).await, (401, too_old.into()));

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|r| r.kind() == RejectionKind::AuthenticationTooOld
                && r.status() == StatusCode::UNAUTHORIZED
                && r.reason().is_none())
    );
}

/// `GET /r` with `token`, the raw response bytes (HTTP/1.1, closed after).
async fn raw_get(api: &Api, token: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    let request = format!(
        "GET /r HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn group_and_age_refusals_name_the_resource_metadata_too() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .protected_resource(scopegate::ProtectedResource::new(
            "https://photos.example.com",
        ))
        .build()
        .unwrap();
    let metadata =
        r#"resource_metadata="https://photos.example.com/.well-known/oauth-protected-resource""#;
    let grouped = verifier
        .require(READ)
        .unwrap()
        .in_any_group(["editors"])
        .unwrap();
    let api = serve_layer(grouped).await;
    let refused = http_get(&format!("{}/r", api.url), Some(&token(&issuer, &[READ]))).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(challenge, format!(r#"Bearer realm="api", {metadata}"#));

    let aged = verifier
        .require(READ)
        .unwrap()
        .max_token_age(Duration::from_secs(60));
    let api = serve_layer(aged).await;
    let old = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("auth_time", serde_json::json!(1))
        .mint();
    let refused = http_get(&format!("{}/r", api.url), Some(&old)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.ends_with(&format!(r#"max_age="60", {metadata}"#)),
        "{challenge}"
    );
}

#[tokio::test]
async fn the_resource_joins_configured_audiences_and_never_overrides_an_explicit_any() {
    let issuer = issuer().await;
    let resource = "https://photos.example.com";
    let with_aud = |aud: &str| {
        issuer
            .token()
            .client_id(CLIENT)
            .claim("aud", serde_json::json!(aud))
            .scope(READ)
            .mint()
    };
    let joined = builder(&issuer)
        .audiences(["api://photos"])
        .protected_resource(scopegate::ProtectedResource::new(resource))
        .build()
        .unwrap();
    for aud in ["api://photos", resource] {
        assert!(joined.verify(&with_aud(aud)).await.is_ok(), "{aud}");
    }
    assert!(joined.verify(&with_aud("api://other")).await.is_err());
    // Said explicitly: any audience, the resource or not.
    let any = Verifier::builder(issuer.issuer())
        .with_insecure_any_audience()
        .resource_server(photo_api())
        .protected_resource(scopegate::ProtectedResource::new(resource))
        .build()
        .unwrap();
    assert!(
        any.verify(&token(&issuer, &[READ])).await.is_ok(),
        "no aud at all"
    );
    // An empty list stays a mistake.
    let empty = builder(&issuer)
        .audiences(Vec::<String>::new())
        .protected_resource(scopegate::ProtectedResource::new(resource))
        .build();
    assert!(empty.is_err());
}

#[tokio::test]
async fn a_sign_in_from_the_future_is_not_recent() {
    let issuer = issuer().await;
    let layer = verifier(&issuer)
        .require(READ)
        .unwrap()
        .max_token_age(Duration::from_secs(60));
    let api = serve_layer(layer).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed_in = |at: u64| {
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("auth_time", serde_json::json!(at))
            .mint()
    };
    let skewed = http_get(&format!("{}/r", api.url), Some(&signed_in(now + 10))).await;
    assert_eq!(
        skewed.status(),
        StatusCode::OK,
        "a little clock skew is fine"
    );
    let future = http_get(&format!("{}/r", api.url), Some(&signed_in(now + 3600))).await;
    assert_eq!(future.status(), StatusCode::UNAUTHORIZED);
}
