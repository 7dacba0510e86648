//! The layer over real HTTP: forwarding with claims, all-of and any-of
//! requirements, rejection details, custom rejections, axum extractors. The
//! attacks are in `tests/adversarial/`, against the layer and the proxy.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

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
