//! The key-set cache against a real issuer over HTTP: sharing, coalescing,
//! rotation, the unknown-kid cooldown, faults, staleness and discovery.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::time::{Duration, Instant};

use scopegate::local::{Fault, LocalIssuer};
use scopegate::{FetchError, Issuer, TokenError, Verifier, VerifyError};
use serde_json::json;
use support::*;

/// A verifier whose key sets live `ttl` (the issuer sends that max-age).
fn short_lived(issuer: &LocalIssuer, ttl: Duration) -> scopegate::VerifierBuilder {
    issuer.set_cache_control(Some(&format!("max-age={}", ttl.as_secs())));
    builder(issuer).key_set_ttl_bounds(Duration::from_millis(100), Duration::from_secs(3600))
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn keys_are_fetched_once_and_shared_by_all_requests() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let token = token(&issuer, &[READ]);
    for _ in 0..20 {
        assert_eq!(status(&api, Some(&token)).await.0, 200);
    }
    assert_eq!(issuer.jwks_requests(), 1);
    assert_eq!(fetches(&verifier), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_a_cold_cache_make_one_fetch() {
    let issuer = issuer().await;
    issuer.set_fault(Fault::Stall(Duration::from_millis(300)));
    let verifier = verifier(&issuer);
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let token = token(&issuer, &[READ]);
    let url = format!("{}/r", api.url);
    let client = http();
    let requests = (0..500).map(|_| {
        let request = client.get(&url).bearer_auth(&token);
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    });
    let statuses = futures_join(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        issuer.jwks_requests(),
        1,
        "500 cold requests made more than one fetch"
    );
}

async fn futures_join<T: std::fmt::Debug>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<Result<T, reqwest::Error>>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.expect("task").expect("request"));
    }
    out
}

#[tokio::test]
async fn unknown_kid_flood_fetches_at_most_once_per_cooldown() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(Duration::from_secs(30))
        .build()
        .unwrap();
    verifier.load_keys().await.unwrap();
    assert_eq!(issuer.jwks_requests(), 1);
    // Over the cooldown since the first fetch? Not yet: no refetch at all.
    let mut tasks = Vec::new();
    for i in 0..2000 {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .header("kid", json!(format!("random-{i}")))
            .mint();
        let verifier = verifier.clone();
        tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap_err(),
            VerifyError::InvalidToken(TokenError::UnknownKeyId)
        );
    }
    assert_eq!(
        issuer.jwks_requests(),
        1,
        "unknown kids inside the cooldown caused fetches"
    );
}

#[tokio::test]
async fn unknown_kid_after_the_cooldown_refetches_once_for_many_tokens() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(Duration::from_millis(300))
        .build()
        .unwrap();
    verifier.load_keys().await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    issuer.set_fault(Fault::Stall(Duration::from_millis(200)));
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .header("kid", json!(format!("k{i}")))
            .mint();
        let verifier = verifier.clone();
        tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    assert_eq!(
        issuer.jwks_requests(),
        2,
        "one initial fetch and one refetch"
    );
}

#[tokio::test]
async fn unknown_kids_waiting_on_a_slow_fetch_are_bounded() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(Duration::from_millis(100))
        .key_set_timeouts(Duration::from_millis(500), Duration::from_secs(3))
        .build()
        .unwrap();
    verifier.load_keys().await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Minted before the clock starts: signing 1000 tokens takes a while.
    let tokens: Vec<String> = (0..1000)
        .map(|i| {
            issuer
                .token()
                .client_id(CLIENT)
                .header("kid", json!(format!("f{i}")))
                .mint()
        })
        .collect();
    issuer.set_fault(Fault::Stall(Duration::from_secs(2)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for token in tokens {
        let verifier = verifier.clone();
        tasks.push(tokio::spawn(async move {
            let result = verifier.verify(&token).await;
            (result.is_err(), started.elapsed())
        }));
    }
    let mut fast = 0;
    for task in tasks {
        let (refused, took) = task.await.unwrap();
        assert!(refused);
        if took < Duration::from_millis(1500) {
            fast += 1;
        }
    }
    // At most 256 wait for the stalled fetch; the rest are refused at once.
    assert!(
        fast >= 1000 - 256,
        "only {fast} of 1000 were answered without waiting"
    );
    assert_eq!(issuer.jwks_requests(), 2);
}

#[test]
fn a_fetch_cut_short_by_its_runtime_does_not_wedge_the_cache() {
    let issuer_runtime = tokio::runtime::Runtime::new().unwrap();
    let issuer = issuer_runtime.block_on(support::issuer());
    issuer.set_fault(Fault::Stall(Duration::from_millis(500)));
    let verifier = verifier(&issuer);
    let token = token(&issuer, &[READ]);

    // A runtime that ends while its fetch is stalled.
    let short_lived = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    short_lived.block_on(async {
        let verifier = verifier.clone();
        let token = token.clone();
        tokio::spawn(async move { verifier.verify(&token).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
    drop(short_lived);

    issuer.set_fault(Fault::None);
    let next = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = next.block_on(async {
        let start = Instant::now();
        loop {
            match verifier.verify(&token).await {
                Ok(claims) => return Ok(claims),
                Err(e) if start.elapsed() > Duration::from_secs(5) => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn rotation_new_key_accepted_after_one_refetch_and_removed_key_refused() {
    let issuer = issuer().await;
    let verifier = short_lived(&issuer, Duration::from_secs(1))
        .unknown_kid_cooldown(Duration::from_millis(200))
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let old_token = token(&issuer, &[READ]);
    assert_eq!(status(&api, Some(&old_token)).await.0, 200);
    let old_kid = issuer.signing_kid();

    tokio::time::sleep(Duration::from_millis(250)).await;
    issuer.rotate().unwrap();
    let new_token = token(&issuer, &[READ]);
    assert_eq!(
        status(&api, Some(&new_token)).await.0,
        200,
        "new kid accepted after a refetch"
    );
    assert_eq!(issuer.jwks_requests(), 2);
    assert_eq!(
        status(&api, Some(&old_token)).await.0,
        200,
        "old key still published"
    );

    assert!(issuer.retire(&old_kid));
    // The next refresh (TTL 1 s) drops the retired key.
    wait_until("the retired key to disappear", || {
        !verifier.key_ids().contains(&old_kid)
    })
    .await;
    assert_eq!(
        status(&api, Some(&old_token)).await,
        (401, INVALID_TOKEN.into())
    );
    assert_eq!(status(&api, Some(&new_token)).await.0, 200);
}

/// How the key-set endpoint fails.
#[derive(Clone, Debug)]
enum Outage {
    /// Nothing listens: the connection is refused.
    Refused,
    /// The issuer answers, badly.
    Fault(Fault),
}

impl Outage {
    fn begin(&self, issuer: &LocalIssuer) {
        match self {
            Outage::Refused => issuer.shutdown(),
            Outage::Fault(fault) => issuer.set_fault(fault.clone()),
        }
    }
}

/// The three promises for one way the key-set endpoint can fail:
///
/// - at a cold start, every request fails closed (503 with `Retry-After`,
///   never 200) within the 1 s fetch timeout, and the attempts are spaced by
///   the retry backoff (200 ms doubling to 2 s), not one per request;
/// - after a good load and with the TTL (1 s) run out, the known keys keep
///   serving, without waiting on the failing endpoint;
/// - there too, refresh attempts follow the backoff, not the requests.
async fn endpoint_failure(outage: Outage) {
    // Cold start.
    let issuer = issuer().await;
    outage.begin(&issuer);
    let verifier = verifier(&issuer);
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let token = token(&issuer, &[READ]);
    for _ in 0..20 {
        let start = Instant::now();
        let response = http_get(&format!("{}/r", api.url), Some(&token)).await;
        assert_eq!(response.status(), 503, "{outage:?}");
        assert!(response.headers().contains_key("retry-after"), "{outage:?}");
        assert!(
            start.elapsed() < Duration::from_millis(2500),
            "{outage:?}: a cold request took {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ok, failed) = fetches(&verifier);
    assert_eq!(ok, 0, "{outage:?}");
    assert!(
        (1..=6).contains(&failed),
        "{outage:?}: {failed} fetches for 20 requests"
    );

    // After a good load.
    let issuer = support::issuer().await;
    let verifier = short_lived(&issuer, Duration::from_secs(1))
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let token = support::token(&issuer, &[READ]);
    assert_eq!(status(&api, Some(&token)).await.0, 200);
    outage.begin(&issuer);
    let start = Instant::now();
    let mut requests = 0;
    while start.elapsed() < Duration::from_millis(3000) {
        let sent = Instant::now();
        assert_eq!(status(&api, Some(&token)).await.0, 200, "{outage:?}");
        assert!(
            sent.elapsed() < Duration::from_millis(500),
            "{outage:?}: a request waited {:?} for the failing endpoint",
            sent.elapsed()
        );
        requests += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = verifier.key_set_fetches().failed;
    // Refreshes start once the TTL has run out (after about 1 s) and are
    // spaced by the backoff (a stalled one also by its timeout).
    assert!(
        (1..=6).contains(&failed),
        "{outage:?}: {failed} failed refreshes for {requests} requests"
    );
    assert_eq!(verifier.key_set_fetches().succeeded, 1, "{outage:?}");
}

#[tokio::test]
async fn endpoint_connection_refused() {
    endpoint_failure(Outage::Refused).await;
}

#[tokio::test]
async fn endpoint_closes_connections_without_answering() {
    endpoint_failure(Outage::Fault(Fault::Down)).await;
}

#[tokio::test]
async fn endpoint_answers_5xx() {
    endpoint_failure(Outage::Fault(Fault::Status(503))).await;
}

#[tokio::test]
async fn endpoint_answers_404() {
    endpoint_failure(Outage::Fault(Fault::Status(404))).await;
}

#[tokio::test]
async fn endpoint_stalls_30_s() {
    endpoint_failure(Outage::Fault(Fault::Stall(Duration::from_secs(30)))).await;
}

#[tokio::test]
async fn endpoint_trickles_its_body() {
    endpoint_failure(Outage::Fault(Fault::Trickle(Duration::from_millis(100)))).await;
}

#[tokio::test]
async fn endpoint_sends_a_10_mb_body() {
    endpoint_failure(Outage::Fault(Fault::HugeBody(10 * 1024 * 1024))).await;
}

#[tokio::test]
async fn endpoint_sends_invalid_json() {
    endpoint_failure(Outage::Fault(Fault::Garbage)).await;
}

#[tokio::test]
async fn endpoint_sends_an_empty_key_list() {
    endpoint_failure(Outage::Fault(Fault::EmptyKeys)).await;
}

#[tokio::test]
async fn endpoint_redirects_to_another_host() {
    let other = counting_server(json!({"keys": []})).await;
    endpoint_failure(Outage::Fault(Fault::Redirect(format!(
        "{}/jwks.json",
        other.api.url
    ))))
    .await;
    assert_eq!(other.hits(), 0, "a redirect was followed");
}

#[tokio::test]
async fn a_key_set_that_changes_between_fetches_is_followed_exactly() {
    let issuer = issuer().await;
    let verifier = short_lived(&issuer, Duration::from_secs(1))
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let kid = issuer.signing_kid();
    let old = token(&issuer, &[READ]);
    assert_eq!(status(&api, Some(&old)).await.0, 200);
    // The same kid now names another key: tokens of the old key, even ones
    // verified before, are refused; tokens of the new key are accepted.
    let replacement = issuer.add_key(scopegate::Algorithm::RS256).unwrap();
    let mut jwk = issuer.key(&replacement).unwrap().public_jwk().clone();
    jwk["kid"] = json!(kid);
    assert!(issuer.retire(&kid));
    issuer.publish_raw_jwk(jwk);
    let new = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .signed_with(&replacement)
        .header("kid", json!(kid))
        .mint();
    // Until the TTL (1 s) runs out the old snapshot serves; then a refresh
    // brings the changed set and the old key's tokens stop working.
    let start = Instant::now();
    while status(&api, Some(&old)).await.0 == 200 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the replaced key is still trusted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status(&api, Some(&old)).await,
        (401, INVALID_TOKEN.into()),
        "a token of the replaced key"
    );
    assert_eq!(status(&api, Some(&new)).await.0, 200);
    assert_eq!(fetches(&verifier), (2, 0));
}

#[tokio::test]
async fn routine_refresh_happens_in_the_background() {
    let issuer = issuer().await;
    let verifier = short_lived(&issuer, Duration::from_secs(1))
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let token = token(&issuer, &[READ]);
    assert_eq!(status(&api, Some(&token)).await.0, 200);
    // Past 3/4 of the TTL, with a slow endpoint: the request that notices
    // does not wait for the refresh it starts.
    tokio::time::sleep(Duration::from_millis(800)).await;
    issuer.set_fault(Fault::Stall(Duration::from_millis(1500)));
    let start = Instant::now();
    assert_eq!(status(&api, Some(&token)).await.0, 200);
    assert!(
        start.elapsed() < Duration::from_millis(700),
        "waited {:?}",
        start.elapsed()
    );
    wait_until("the background refresh", || issuer.jwks_requests() == 2).await;
}

#[tokio::test]
async fn discovery_finds_the_key_set_and_checks_the_issuer() {
    let issuer = issuer().await;
    let verifier = Verifier::builder(Issuer::discover(issuer.url()))
        .token_use("access")
        .client_ids([CLIENT])
        .resource_server(photo_api())
        .build()
        .unwrap();
    verifier.verify(&token(&issuer, &[READ])).await.unwrap();
    assert_eq!(
        (issuer.discovery_requests(), issuer.jwks_requests()),
        (1, 1)
    );

    // Same discovery URL (the trailing slash is dropped), but the document
    // names the issuer without it: refused.
    let mismatched = Verifier::builder(Issuer::discover(format!("{}/", issuer.url())))
        .client_ids([CLIENT])
        .key_set_timeouts(Duration::from_millis(500), Duration::from_secs(1))
        .build()
        .unwrap();
    let err = mismatched
        .verify(&token(&issuer, &[READ]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::KeySetUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(
        issuer.jwks_requests(),
        1,
        "the key set of a mismatched issuer was fetched"
    );
}

#[tokio::test]
async fn bad_keys_in_the_set_are_dropped_and_good_ones_kept() {
    let issuer = issuer().await;
    let kid = issuer.signing_kid();
    // A symmetric key with the signing key's kid, and an encryption key.
    issuer.publish_raw_jwk(json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"}));
    let mut enc = issuer.jwks()["keys"][0].clone();
    enc["kid"] = json!("enc-key");
    enc["use"] = json!("enc");
    issuer.publish_raw_jwk(enc);
    let verifier = verifier(&issuer);
    verifier.verify(&token(&issuer, &[READ])).await.unwrap();
    assert_eq!(verifier.key_ids(), vec![kid]);
    let hs = issuer
        .token()
        .client_id(CLIENT)
        .header("kid", json!("enc-key"))
        .mint();
    assert!(verifier.verify(&hs).await.is_err());
}

#[tokio::test]
async fn static_key_set_works_offline() {
    let issuer = issuer().await;
    let jwks = issuer.jwks().to_string();
    let verifier = Verifier::builder(Issuer::with_static_jwks(issuer.url(), jwks))
        .token_use("access")
        .client_ids([CLIENT])
        .build()
        .unwrap();
    verifier.verify(&token(&issuer, &[READ])).await.unwrap();
    assert_eq!(issuer.jwks_requests(), 0);
    let empty = Verifier::builder(Issuer::with_static_jwks(issuer.url(), r#"{"keys":[]}"#))
        .client_ids([CLIENT])
        .build()
        .unwrap_err();
    assert_eq!(empty.kind(), scopegate::ConfigErrorKind::InvalidKeySet);
}

#[tokio::test]
async fn last_fetch_error_names_the_cause_until_a_fetch_succeeds() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .key_set_retry_backoff(Duration::from_millis(10), Duration::from_millis(10))
        .build()
        .unwrap();
    assert_eq!(verifier.last_fetch_error(), None, "nothing fetched yet");

    issuer.set_fault(Fault::Status(500));
    assert!(verifier.load_keys().await.is_err());
    let error = verifier.last_fetch_error().unwrap();
    assert_eq!(error, FetchError::Status(500));
    assert_eq!(error.to_string(), "unexpected status 500");
    assert_eq!(fetches(&verifier), (0, 1));

    issuer.set_fault(Fault::Garbage);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(verifier.load_keys().await.is_err());
    assert_eq!(verifier.last_fetch_error(), Some(FetchError::NotJson));

    issuer.set_fault(Fault::None);
    tokio::time::sleep(Duration::from_millis(30)).await;
    verifier.load_keys().await.unwrap();
    assert_eq!(verifier.last_fetch_error(), None, "cleared by a good fetch");
    assert_eq!(fetches(&verifier), (1, 2));
}

/// The key-set fetch counters as `(succeeded, failed)`.
fn fetches(verifier: &Verifier) -> (u64, u64) {
    let fetches = verifier.key_set_fetches();
    (fetches.succeeded, fetches.failed)
}
