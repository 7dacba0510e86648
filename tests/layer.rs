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
    let too_old = r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=900"#;
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
