//! DPoP (RFC 9449) at the layer, over real HTTP with a real local issuer:
//! every check of a proof with its positive control, the downgrade of a
//! bound token to `Bearer`, `required` routes, server nonces, and a proof
//! replayed to another replica that shares the proof-id store. Then
//! revocations, shared by two verifiers.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use scopegate::local::LocalIssuer;
use scopegate::shared::{InMemoryOneTimeIds, InMemoryRevocations};
use scopegate::{Dpop, DpopMode, Revocation, Verifier};
use serde_json::json;
use support::dpop::{DpopKey, ath, fresh_jti, now};
use support::*;

/// An API whose verifier takes DPoP for `origin`, with `configure` applied;
/// `GET /r` needs `READ`, `GET /strict` needs it with DPoP required.
async fn dpop_api(
    issuer: &LocalIssuer,
    origin: Option<&str>,
    configure: impl FnOnce(Dpop) -> Dpop,
    revocations: Option<Arc<InMemoryRevocations>>,
) -> Api {
    serve_at(|own| {
        let dpop = configure(Dpop::new(origin.unwrap_or(own)).unwrap());
        let mut builder = support::builder(issuer).dpop(dpop);
        if let Some(list) = revocations {
            builder = builder.revocations(list);
        }
        dpop_router(&builder.build().unwrap())
    })
    .await
}

/// `GET /r` needs `READ`; `GET /strict` too, with DPoP required.
fn dpop_router(verifier: &Verifier) -> Router {
    Router::new()
        .route(
            "/r",
            get(whoami).route_layer(verifier.require(READ).unwrap()),
        )
        .route(
            "/strict",
            get(whoami).route_layer(
                verifier
                    .require(READ)
                    .unwrap()
                    .dpop(DpopMode::Required)
                    .unwrap(),
            ),
        )
}

/// `GET {url}` with `token` under `DPoP` and a fresh, good proof of `key`.
async fn proved(url: &str, key: &DpopKey, token: &str) -> Answer {
    call(url, "DPoP", token, &[key.proof("GET", url, Some(token))]).await
}

struct Answer {
    status: u16,
    challenges: Vec<String>,
    nonce: Option<String>,
}

/// `GET {url}` with `Authorization: {scheme} {token}` and these proofs.
async fn call(url: &str, scheme: &str, token: &str, proofs: &[String]) -> Answer {
    let mut request = http()
        .get(url)
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    Answer {
        status: response.status().as_u16(),
        challenges: header("www-authenticate"),
        nonce: header("dpop-nonce").pop(),
    }
}

#[tokio::test]
async fn a_bound_token_with_its_proof_passes_and_every_check_refuses_its_mismatch() {
    let issuer = issuer().await;
    let api = dpop_api(&issuer, None, |d| d, None).await;
    let url = format!("{}/r", api.url);
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    let good = proved(&url, &key, &token).await;
    assert_eq!(good.status, 200);
    // The scheme is case-insensitive; a query is not part of `htu`.
    let with_query = format!("{url}?size=large");
    let proof = key.proof("GET", &url, Some(&token));
    assert_eq!(
        call(&with_query, "dpop", &token, &[proof]).await.status,
        200
    );

    let claims = |htm: &str, htu: &str, iat: u64| json!({"jti": fresh_jti(), "htm": htm, "htu": htu, "iat": iat, "ath": ath(&token)});
    let other = DpopKey::generate();
    let mut private_jwk = key.jwk();
    private_jwk["d"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let bad_proofs: Vec<(&str, Vec<String>)> = vec![
        ("no proof", vec![]),
        (
            "two proofs",
            vec![
                key.proof("GET", &url, Some(&token)),
                key.proof("GET", &url, Some(&token)),
            ],
        ),
        (
            "htm",
            vec![key.sign(&key.header(), &claims("POST", &url, now()))],
        ),
        (
            "htu path",
            vec![key.sign(
                &key.header(),
                &claims("GET", &format!("{}/other", api.url), now()),
            )],
        ),
        (
            "htu host",
            vec![key.sign(
                &key.header(),
                &claims("GET", "http://elsewhere.example/r", now()),
            )],
        ),
        (
            "old iat",
            vec![key.sign(&key.header(), &claims("GET", &url, now() - 120))],
        ),
        (
            "future iat",
            vec![key.sign(&key.header(), &claims("GET", &url, now() + 120))],
        ),
        (
            "ath of another token",
            vec![key.proof("GET", &url, Some("another.token.value"))],
        ),
        ("no ath", vec![key.proof("GET", &url, None)]),
        (
            "typ",
            vec![key.sign(
                &json!({"typ": "jwt", "alg": "ES256", "jwk": key.jwk()}),
                &claims("GET", &url, now()),
            )],
        ),
        (
            "alg none",
            vec![key.sign(
                &json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk()}),
                &claims("GET", &url, now()),
            )],
        ),
        (
            "alg HS256",
            vec![key.sign(
                &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk()}),
                &claims("GET", &url, now()),
            )],
        ),
        (
            "private jwk",
            vec![key.sign(
                &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private_jwk}),
                &claims("GET", &url, now()),
            )],
        ),
        (
            "signed by another key",
            vec![other.sign(&key.header(), &claims("GET", &url, now()))],
        ),
        (
            "no jwk",
            vec![key.sign(
                &json!({"typ": "dpop+jwt", "alg": "ES256"}),
                &claims("GET", &url, now()),
            )],
        ),
        (
            "crit",
            vec![key.sign(
                &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk(), "crit": ["x"]}),
                &claims("GET", &url, now()),
            )],
        ),
        (
            "no jti",
            vec![key.sign(
                &key.header(),
                &json!({"htm": "GET", "htu": url, "iat": now(), "ath": ath(&token)}),
            )],
        ),
        ("not a JWS", vec!["not-a-proof".to_string()]),
    ];
    for (what, proofs) in bad_proofs {
        let answer = call(&url, "DPoP", &token, &proofs).await;
        assert_eq!(answer.status, 401, "{what}");
        let challenge = &answer.challenges[0];
        assert!(challenge.starts_with("DPoP "), "{what}: {challenge}");
        assert!(
            challenge.contains(r#"error="invalid_dpop_proof""#),
            "{what}: {challenge}"
        );
        assert!(
            challenge.contains(r#"algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA""#)
        );
        assert!(
            !challenge.contains(&token[..20]),
            "no token content in the challenge"
        );
        // Bearer is allowed on this route: its plain challenge follows.
        assert_eq!(answer.challenges[1], r#"Bearer realm="api""#, "{what}");
    }

    // A proof of another key than the token's: the binding does not hold.
    let answer = proved(&url, &other, &token).await;
    assert_eq!(answer.status, 401);
    assert!(answer.challenges[0].starts_with(r#"DPoP realm="api", error="invalid_token""#));

    // The same proof twice: the second is a replay.
    let once = key.proof("GET", &url, Some(&token));
    assert_eq!(
        call(&url, "DPoP", &token, std::slice::from_ref(&once))
            .await
            .status,
        200
    );
    let replay = call(&url, "DPoP", &token, &[once]).await;
    assert_eq!(replay.status, 401);
    assert!(replay.challenges[0].contains("invalid_dpop_proof"));
}

#[tokio::test]
async fn a_bound_token_is_never_a_bearer_token_and_dpop_needs_a_bound_one() {
    let issuer = issuer().await;
    let api = dpop_api(&issuer, None, |d| d, None).await;
    let url = format!("{}/r", api.url);
    let key = DpopKey::generate();
    let bound = bound_token(&issuer, &key);
    let downgrade = call(&url, "Bearer", &bound, &[]).await;
    assert_eq!(downgrade.status, 401);
    assert!(downgrade.challenges[0].starts_with(r#"Bearer realm="api", error="invalid_token""#));
    assert!(downgrade.challenges[1].starts_with("DPoP realm=\"api\", algs="));
    // The positive control: an unbound token as Bearer passes.
    let plain = token(&issuer, &[READ]);
    assert_eq!(call(&url, "Bearer", &plain, &[]).await.status, 200);
    // An unbound token under DPoP, even with a good proof, is refused.
    let answer = proved(&url, &key, &plain).await;
    assert_eq!(answer.status, 401);
    assert!(answer.challenges[0].contains(r#"error="invalid_token""#));
    // A token bound by another method (mTLS, RFC 8705) cannot be checked: refused.
    let mtls = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ])
        .claim(
            "cnf",
            json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        )
        .mint();
    assert_eq!(call(&url, "Bearer", &mtls, &[]).await.status, 401);
    // Scopes still count: a bound token without READ is 403 in DPoP terms.
    let write_only = issuer
        .token()
        .client_id(CLIENT)
        .scopes([WRITE])
        .claim("cnf", key.cnf())
        .mint();
    let answer = proved(&url, &key, &write_only).await;
    assert_eq!(answer.status, 403);
    assert!(answer.challenges[0].starts_with(r#"DPoP realm="api", error="insufficient_scope""#));
}

#[tokio::test]
async fn inside_a_nested_router_htu_is_the_path_the_client_addressed() {
    let issuer = issuer().await;
    let api = serve_at(|origin| {
        let verifier = support::builder(&issuer)
            .dpop(Dpop::new(origin).unwrap())
            .build()
            .unwrap();
        let inner = Router::new().route(
            "/r",
            get(whoami).route_layer(verifier.require(READ).unwrap()),
        );
        Router::new().nest("/api", inner)
    })
    .await;
    let url = format!("{}/api/r", api.url);
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    assert_eq!(proved(&url, &key, &token).await.status, 200);
    let stripped = format!("{}/r", api.url);
    let answer = call(
        &url,
        "DPoP",
        &token,
        &[key.proof("GET", &stripped, Some(&token))],
    )
    .await;
    assert_eq!(
        answer.status, 401,
        "a proof for the path without the prefix"
    );
}

#[tokio::test]
async fn verify_refuses_a_bound_token_and_short_nonce_secrets_are_refused() {
    let issuer = issuer().await;
    let verifier = support::builder(&issuer)
        .dpop(Dpop::new("https://api.example.com").unwrap())
        .build()
        .unwrap();
    let key = DpopKey::generate();
    let error = verifier
        .verify(&bound_token(&issuer, &key))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        scopegate::VerifyError::InvalidToken(scopegate::TokenError::BoundToKey)
    );
    assert!(
        verifier.verify(&token(&issuer, &[READ])).await.is_ok(),
        "the control"
    );
    let short = support::builder(&issuer).dpop(
        Dpop::new("https://a.example")
            .unwrap()
            .nonce_secret(b"short"),
    );
    assert!(short.build().is_err());
    let long = support::builder(&issuer).dpop(
        Dpop::new("https://a.example")
            .unwrap()
            .nonce_secret(&[7; 32]),
    );
    assert!(long.build().is_ok());
}

#[tokio::test]
async fn a_required_route_takes_no_bearer_token() {
    let issuer = issuer().await;
    let api = dpop_api(&issuer, None, |d| d, None).await;
    let url = format!("{}/strict", api.url);
    let plain = token(&issuer, &[READ]);
    let answer = call(&url, "Bearer", &plain, &[]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.challenges.len(),
        1,
        "no Bearer challenge: {:?}",
        answer.challenges
    );
    assert!(answer.challenges[0].starts_with(r#"DPoP realm="api""#));
    let none = http().get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(
        none.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("DPoP ")
    );
    let key = DpopKey::generate();
    let bound = bound_token(&issuer, &key);
    assert_eq!(proved(&url, &key, &bound).await.status, 200);
}

#[tokio::test]
async fn with_nonces_a_proof_needs_the_servers_current_one() {
    let issuer = issuer().await;
    let api = dpop_api(&issuer, None, Dpop::with_nonces, None).await;
    let url = format!("{}/r", api.url);
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    let first = proved(&url, &key, &token).await;
    assert_eq!(first.status, 401);
    assert!(
        first.challenges[0].contains(r#"error="use_dpop_nonce""#),
        "{:?}",
        first.challenges
    );
    let nonce = first.nonce.expect("a DPoP-Nonce header");
    let with = |nonce: &str| {
        key.sign(
            &key.header(),
            &json!({"jti": fresh_jti(), "htm": "GET", "htu": url, "iat": now(),
                    "ath": ath(&token), "nonce": nonce}),
        )
    };
    assert_eq!(
        call(&url, "DPoP", &token, &[with(&nonce)]).await.status,
        200
    );
    let forged = call(
        &url,
        "DPoP",
        &token,
        &[with("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")],
    )
    .await;
    assert_eq!(forged.status, 401);
    assert!(forged.nonce.is_some());
}

#[tokio::test]
async fn a_proof_replayed_to_another_replica_sharing_the_store_is_refused() {
    let issuer = issuer().await;
    let origin = "https://api.example.com";
    let shared = Arc::new(InMemoryOneTimeIds::default());
    let store = Arc::clone(&shared);
    let one = dpop_api(
        &issuer,
        Some(origin),
        |d| d.one_time_ids(Arc::clone(&store)),
        None,
    )
    .await;
    let store = Arc::clone(&shared);
    let two = dpop_api(&issuer, Some(origin), |d| d.one_time_ids(store), None).await;
    let alone = dpop_api(&issuer, Some(origin), |d| d, None).await;
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    // Every replica expects the load balancer's origin, not its own address.
    let proof = key.proof("GET", &format!("{origin}/r"), Some(&token));
    assert_eq!(
        call(
            &format!("{}/r", one.url),
            "DPoP",
            &token,
            std::slice::from_ref(&proof)
        )
        .await
        .status,
        200
    );
    let replay = call(
        &format!("{}/r", two.url),
        "DPoP",
        &token,
        std::slice::from_ref(&proof),
    )
    .await;
    assert_eq!(replay.status, 401, "replayed on the other replica");
    // The control: a replica with a store of its own cannot tell.
    assert_eq!(
        call(&format!("{}/r", alone.url), "DPoP", &token, &[proof])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn without_a_dpop_policy_the_dpop_scheme_is_no_credentials() {
    let issuer = issuer().await;
    let api = serve_layer(verifier(&issuer).require(READ).unwrap()).await;
    let url = format!("{}/r", api.url);
    let key = DpopKey::generate();
    let bound = bound_token(&issuer, &key);
    let answer = proved(&url, &key, &bound).await;
    assert_eq!(
        (answer.status, answer.challenges.clone()),
        (401, vec![r#"Bearer realm="api""#.to_string()])
    );
    assert_eq!(
        call(&url, "Bearer", &bound, &[]).await.status,
        401,
        "bound, as Bearer"
    );
    let layer = verifier(&issuer).require(READ).unwrap();
    assert!(
        layer.dpop(DpopMode::Required).is_err(),
        "a route mode needs a policy"
    );
}

#[tokio::test]
async fn a_token_from_the_issuers_token_endpoint_works_with_its_key() {
    let issuer = issuer().await;
    let pool = issuer.pool();
    pool.create_resource_server(&photo_api()).unwrap();
    let client = issuer
        .call(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool.id(), "ClientName": "machine", "GenerateSecret": true,
                   "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": [READ],
                   "AllowedOAuthFlowsUserPoolClient": true}),
        )
        .unwrap();
    let id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = client["UserPoolClient"]["ClientSecret"]
        .as_str()
        .unwrap()
        .to_string();
    let key = DpopKey::generate();
    let response = http()
        .post(issuer.token_endpoint())
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", key.proof("POST", &issuer.token_endpoint(), None))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();

    let api = serve_at(|origin| {
        let verifier = Verifier::builder(issuer.issuer())
            .client_ids([id.as_str()])
            .resource_server(photo_api())
            .dpop(Dpop::new(origin).unwrap().required())
            .build()
            .unwrap();
        Router::new().route(
            "/r",
            get(whoami).route_layer(verifier.require(READ).unwrap()),
        )
    })
    .await;
    let url = format!("{}/r", api.url);
    assert_eq!(proved(&url, &key, &token).await.status, 200);
    let thief = DpopKey::generate();
    assert_eq!(proved(&url, &thief, &token).await.status, 401);
}

#[tokio::test]
async fn revocations_on_a_shared_list_refuse_tokens_on_every_verifier() {
    let issuer = issuer().await;
    let list = Arc::new(InMemoryRevocations::new());
    let one = dpop_api(&issuer, None, |d| d, Some(Arc::clone(&list))).await;
    let two = dpop_api(&issuer, None, |d| d, Some(Arc::clone(&list))).await;
    let revoker = support::builder(&issuer)
        .revocations(Arc::clone(&list))
        .build()
        .unwrap();
    let mint = |sub: &str, jti: &str, origin: &str, iat: SystemTime| {
        issuer
            .token()
            .client_id(CLIENT)
            .scopes([READ])
            .claim("sub", json!(sub))
            .claim("jti", json!(jti))
            .claim("origin_jti", json!(origin))
            .issued_at(iat)
            .mint()
    };
    let ok = |api: &Api, token: &str| {
        let url = format!("{}/r", api.url);
        let token = token.to_string();
        async move { call(&url, "Bearer", &token, &[]).await.status }
    };
    let earlier = SystemTime::now() - Duration::from_secs(30);
    let by_jti = mint("alice", "jti-1", "origin-1", earlier);
    let by_origin = mint("alice", "jti-2", "origin-2", earlier);
    let bob = mint("bob", "jti-3", "origin-3", earlier);
    for token in [&by_jti, &by_origin, &bob] {
        // Verified (and cached) on both before anything is revoked.
        assert_eq!((ok(&one, token).await, ok(&two, token).await), (200, 200));
    }
    revoker.revoke_jti("jti-1").await.unwrap();
    assert_eq!(
        (ok(&one, &by_jti).await, ok(&two, &by_jti).await),
        (401, 401)
    );
    assert_eq!(ok(&two, &by_origin).await, 200, "another jti is untouched");
    revoker
        .revoke(Revocation::origin_jti("origin-2"))
        .await
        .unwrap();
    assert_eq!(ok(&two, &by_origin).await, 401);
    assert_eq!(ok(&one, &bob).await, 200);

    // A user's sign-out: their tokens issued until then, not later ones,
    // and no one else's.
    let alice_before = mint("alice", "jti-4", "origin-4", earlier);
    revoker
        .revoke_subject_before("alice", SystemTime::now() - Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(ok(&one, &alice_before).await, 401);
    let alice_after = mint("alice", "jti-5", "origin-5", SystemTime::now());
    assert_eq!(ok(&one, &alice_after).await, 200);
    assert_eq!(ok(&two, &bob).await, 200);

    // A client's tokens issued until now.
    revoker.revoke_client(CLIENT).await.unwrap();
    assert_eq!(ok(&two, &bob).await, 401);
    let invalid = call(&format!("{}/r", one.url), "Bearer", &bob, &[]).await;
    assert!(invalid.challenges[0].contains(r#"error="invalid_token""#));
    assert!(
        revoker.revoke_jti("").await.is_err(),
        "an empty id is refused"
    );
}
