//! Several issuers in one verifier, over real HTTP: two pools of one local
//! issuer and a third issuer that is down. The token's `iss` chooses whose
//! keys and policy apply; nothing else about the choice is trusted.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::time::Duration;

use scopegate::local::{Fault, LocalIssuer, UserPool};
use scopegate::{
    Algorithm, ConfigErrorKind, Issuer, ProtectedResource, TokenError, TrustedIssuer, Verifier,
    VerifyError,
};
use serde_json::json;
use support::*;

const OTHER_CLIENT: &str = "second-client";

/// A pool's issuer with short timings, accepting `client`.
fn trusted(pool: &UserPool, client: &str) -> TrustedIssuer {
    TrustedIssuer::new(pool.issuer())
        .client_ids([client])
        .leeway(Duration::ZERO)
        .key_set_retry_backoff(Duration::from_millis(200), Duration::from_secs(2))
        .key_set_timeouts(Duration::from_millis(500), Duration::from_secs(1))
}

fn mint(pool: &UserPool, client: &str, scopes: &[&str]) -> String {
    pool.token()
        .client_id(client)
        .scopes(scopes.iter().copied())
        .mint()
}

/// Pools `a` (default) and `b` on one issuer, and `down`, another issuer
/// that closes every connection.
struct Three {
    local: LocalIssuer,
    a: UserPool,
    b: UserPool,
    down_issuer: LocalIssuer,
    down: UserPool,
}

async fn three() -> Three {
    let local = issuer().await;
    let a = local.pool();
    let b = local.create_user_pool("second").unwrap();
    let down_issuer = issuer().await;
    let down = down_issuer.pool();
    down_issuer.set_fault(Fault::Down);
    Three {
        local,
        a,
        b,
        down_issuer,
        down,
    }
}

fn verifier_of(t: &Three) -> Verifier {
    Verifier::builder(trusted(&t.a, CLIENT))
        .trust(trusted(&t.b, OTHER_CLIENT))
        .trust(trusted(&t.down, CLIENT))
        .resource_server(photo_api())
        .build()
        .unwrap()
}

fn invalid(result: Result<scopegate::Claims, VerifyError>) -> TokenError {
    match result {
        Err(VerifyError::InvalidToken(e)) => e,
        other => unreachable!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn each_issuers_tokens_pass_with_its_own_policy_and_claims_name_it() {
    let t = three().await;
    let verifier = verifier_of(&t);
    let from_a = verifier.verify(&mint(&t.a, CLIENT, &[READ])).await.unwrap();
    assert_eq!(from_a.issuer(), t.a.url());
    let b_token = mint(&t.b, OTHER_CLIENT, &[READ]);
    let from_b = verifier.verify(&b_token).await.unwrap();
    assert_eq!(from_b.issuer(), t.b.url());
    // Each issuer's own client allow-list: A's client is not B's.
    let wrong_client = verifier.verify(&mint(&t.b, CLIENT, &[READ])).await;
    assert_eq!(invalid(wrong_client), TokenError::ClientNotAllowed);
    let wrong_client = verifier.verify(&mint(&t.a, OTHER_CLIENT, &[READ])).await;
    assert_eq!(invalid(wrong_client), TokenError::ClientNotAllowed);
    // A hit in the shared token cache keeps the issuer.
    let hits = verifier.token_cache_stats().hits;
    assert_eq!(verifier.verify(&b_token).await.unwrap().issuer(), t.b.url());
    assert_eq!(verifier.token_cache_stats().hits, hits + 1);
}

#[tokio::test]
async fn one_issuer_down_leaves_the_others_working() {
    let t = three().await;
    let verifier = verifier_of(&t);
    let load = verifier.load_keys().await;
    assert!(
        matches!(load, Err(VerifyError::KeySetUnavailable { .. })),
        "{load:?}"
    );
    let states: Vec<(String, bool)> = verifier
        .issuers()
        .map(|i| (i.issuer().to_string(), i.has_keys()))
        .collect();
    assert_eq!(
        states,
        [(t.a.url(), true), (t.b.url(), true), (t.down.url(), false)]
    );
    assert!(!verifier.has_keys(), "has_keys means every issuer");
    let down = verifier.issuers().nth(2).unwrap();
    assert!(down.last_fetch_error().is_some());
    assert!(down.key_ids().is_empty());

    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let down_token = mint(&t.down, CLIENT, &[READ]);
    for _ in 0..3 {
        assert_eq!(status(&api, Some(&down_token)).await.0, 503);
        assert_eq!(
            status(&api, Some(&mint(&t.a, CLIENT, &[READ]))).await.0,
            200
        );
        assert_eq!(
            status(&api, Some(&mint(&t.b, OTHER_CLIENT, &[READ])))
                .await
                .0,
            200
        );
    }
    // Back up: its tokens pass, without touching the others.
    t.down_issuer.set_fault(Fault::None);
    let mut up = false;
    for _ in 0..50 {
        if status(&api, Some(&down_token)).await.0 == 200 {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the issuer that came back is used again");
    assert!(verifier.has_keys());
}

#[tokio::test]
async fn an_iss_outside_the_set_is_refused_without_any_request() {
    let t = three().await;
    let verifier = verifier_of(&t);
    let stranger = issuer().await;
    let before = (t.local.jwks_requests(), t.local.discovery_requests());
    let token = mint(&stranger.pool(), CLIENT, &[READ]);
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let (code, challenge) = status(&api, Some(&token)).await;
    assert_eq!((code, challenge.as_str()), (401, INVALID_TOKEN));
    assert_eq!(
        invalid(verifier.verify(&token).await),
        TokenError::IssuerMismatch
    );
    assert_eq!(stranger.jwks_requests(), 0);
    assert_eq!(stranger.discovery_requests(), 0);
    assert_eq!(
        (t.local.jwks_requests(), t.local.discovery_requests()),
        before
    );
    assert_eq!(t.down_issuer.jwks_requests(), 0);
}

#[tokio::test]
async fn iss_only_chooses_keys_a_token_signed_by_another_issuer_fails() {
    let t = three().await;
    let verifier = verifier_of(&t);
    verifier.load_keys().await.ok();
    // Signed with A's key, claiming B as its issuer (and B's client).
    let forged =
        t.a.token()
            .client_id(OTHER_CLIENT)
            .scope(READ)
            .claim("iss", json!(t.b.url()))
            .mint();
    assert_eq!(
        invalid(verifier.verify(&forged).await),
        TokenError::UnknownKeyId
    );
    // A's kid published by B too is still B's key, not A's: the signature fails.
    let a_kid = t.a.signing_kid();
    let mut jwk = t.a.jwks()["keys"][0].clone();
    jwk["kid"] = json!(a_kid);
    let b_key = t.b.jwks()["keys"][0].clone();
    for member in ["n", "e"] {
        jwk[member] = b_key[member].clone();
    }
    t.b.publish_raw_jwk(jwk);
    let fresh = Verifier::builder(trusted(&t.a, CLIENT))
        .trust(trusted(&t.b, OTHER_CLIENT))
        .build()
        .unwrap();
    assert_eq!(
        invalid(fresh.verify(&forged).await),
        TokenError::InvalidSignature
    );
}

#[tokio::test]
async fn an_iss_that_cannot_choose_is_invalid_before_any_key_is_tried() {
    let t = three().await;
    let verifier = verifier_of(&t);
    let cases = [
        (
            t.a.token().client_id(CLIENT).without_claim("iss").mint(),
            TokenError::IssuerMismatch,
        ),
        (
            t.a.token().client_id(CLIENT).claim("iss", json!(7)).mint(),
            TokenError::IssuerMismatch,
        ),
        (
            t.a.token()
                .client_id(CLIENT)
                .claim("iss", json!(format!("{}/", t.a.url())))
                .mint(),
            TokenError::IssuerMismatch,
        ),
        (
            t.a.token().mint_payload(
                format!(
                    r#"{{"iss":"{}","iss":"{}","client_id":"{CLIENT}"}}"#,
                    t.a.url(),
                    t.b.url()
                )
                .as_bytes(),
            ),
            TokenError::MalformedClaims,
        ),
        (
            t.a.token().mint_payload(b"[1]"),
            TokenError::MalformedClaims,
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(invalid(verifier.verify(&token).await), expected);
    }
    assert_eq!(t.local.jwks_requests(), 0, "no key set was fetched");
}

#[tokio::test]
async fn algorithms_and_leeway_are_each_issuers_own() {
    let local = issuer().await;
    let a = local.pool();
    let b = local.create_user_pool("second").unwrap();
    let verifier = Verifier::builder(trusted(&a, CLIENT).leeway(Duration::from_secs(120)))
        .trust(trusted(&b, CLIENT).algorithms([Algorithm::ES256]))
        .build()
        .unwrap();
    // RS256 is A's, not B's.
    assert!(verifier.verify(&mint(&a, CLIENT, &[])).await.is_ok());
    assert_eq!(
        invalid(verifier.verify(&mint(&b, CLIENT, &[])).await),
        TokenError::AlgorithmNotAllowed
    );
    // Expired a minute ago: within A's leeway, beyond B's (none).
    let expired = |pool: &UserPool| {
        pool.token()
            .client_id(CLIENT)
            .issued_at(std::time::SystemTime::now() - Duration::from_secs(3660))
            .expires_in(Duration::from_secs(3600))
            .mint()
    };
    assert!(verifier.verify(&expired(&a)).await.is_ok());
    let es_pool = local.create_user_pool("third").unwrap();
    let es_kid = es_pool.add_key(Algorithm::ES256).unwrap();
    let only_es = Verifier::builder(trusted(&a, CLIENT))
        .trust(trusted(&es_pool, CLIENT).algorithms([Algorithm::ES256]))
        .build()
        .unwrap();
    let es_expired = es_pool
        .token()
        .client_id(CLIENT)
        .signed_with(es_kid)
        .issued_at(std::time::SystemTime::now() - Duration::from_secs(3660))
        .expires_in(Duration::from_secs(3600))
        .mint();
    assert_eq!(
        invalid(only_es.verify(&es_expired).await),
        TokenError::Expired
    );
}

#[tokio::test]
async fn mistakes_in_the_set_of_issuers_are_config_errors() {
    let local = issuer().await;
    let a = local.pool();
    let twice = Verifier::builder(trusted(&a, CLIENT))
        .trust(trusted(&a, OTHER_CLIENT))
        .build()
        .unwrap_err();
    assert!(twice.to_string().contains("trusted twice"), "{twice}");
    let b = local.create_user_pool("second").unwrap();
    let no_audience = Verifier::builder(trusted(&a, CLIENT))
        .trust(b.issuer())
        .build()
        .unwrap_err();
    assert_eq!(no_audience.kind(), ConfigErrorKind::MissingAudienceCheck);
    assert!(
        no_audience.to_string().contains(&b.url()),
        "the message names the issuer: {no_audience}"
    );
    let many = (0..100).fold(Verifier::builder(trusted(&a, CLIENT)), |builder, i| {
        builder.trust(
            TrustedIssuer::new(Issuer::with_jwks_url(
                format!("https://issuer{i}.example.com"),
                format!("https://issuer{i}.example.com/jwks"),
            ))
            .client_ids([CLIENT]),
        )
    });
    assert_eq!(
        many.build().unwrap_err().kind(),
        ConfigErrorKind::InvalidOption
    );
}

#[tokio::test]
async fn the_protected_resource_names_every_issuer() {
    let local = issuer().await;
    let (a, b) = (local.pool(), local.create_user_pool("second").unwrap());
    let verifier = Verifier::builder(trusted(&a, CLIENT))
        .trust(trusted(&b, OTHER_CLIENT))
        .protected_resource(ProtectedResource::new("https://api.example.com"))
        .build()
        .unwrap();
    let metadata = verifier.resource_metadata().unwrap();
    let doc: serde_json::Value = serde_json::from_str(metadata.document()).unwrap();
    assert_eq!(doc["authorization_servers"], json!([a.url(), b.url()]));
}

#[tokio::test]
async fn the_resource_is_an_accepted_audience_of_every_issuer() {
    let local = issuer().await;
    let (a, b) = (local.pool(), local.create_user_pool("second").unwrap());
    let resource = "https://api.example.com";
    let verifier = Verifier::builder(a.issuer())
        .trust(b.issuer())
        .protected_resource(ProtectedResource::new(resource))
        .build()
        .unwrap();
    for pool in [&a, &b] {
        let bound = pool.token().claim("aud", json!(resource)).mint();
        assert!(verifier.verify(&bound).await.is_ok());
        let elsewhere = pool
            .token()
            .claim("aud", json!("https://else.example.com"))
            .mint();
        assert_eq!(
            invalid(verifier.verify(&elsewhere).await),
            TokenError::AudienceNotAllowed
        );
    }
}
