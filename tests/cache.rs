//! The verified-token cache against a real issuer: hits skip the crypto but
//! never the lifetime, key-presence or scope checks.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::time::{Duration, SystemTime};

use scopegate::local::Fault;
use scopegate::{TokenError, VerifyError};
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_repeated_token_is_a_hit() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let token = token(&issuer, &[READ]);
    let first = verifier.verify(&token).await.unwrap();
    let second = verifier.verify(&token).await.unwrap();
    assert_eq!(first.jwt_id(), second.jwt_id());
    let stats = verifier.token_cache_stats();
    assert_eq!((stats.hits, stats.misses), (1, 1));
    // Another token is another entry, even from the same client.
    verifier
        .verify(&crate::token(&issuer, &[READ]))
        .await
        .unwrap();
    assert_eq!(verifier.token_cache_stats().misses, 2);
}

#[tokio::test]
async fn a_tampered_copy_of_a_cached_token_is_not_a_hit() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let token = token(&issuer, &[READ]);
    verifier.verify(&token).await.unwrap();
    let (h, p, s) = segments(&token);
    let mut signature = s.into_bytes();
    let last = signature.len() - 1;
    signature[last] = if signature[last] == b'A' { b'Q' } else { b'A' };
    let tampered = format!("{h}.{p}.{}", String::from_utf8(signature).unwrap());
    assert!(verifier.verify(&tampered).await.is_err());
}

#[tokio::test]
async fn scopes_are_checked_on_every_hit() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let read = serve_layer(verifier.require(READ).unwrap()).await;
    let write = serve_layer(verifier.require(WRITE).unwrap()).await;
    let token = token(&issuer, &[READ]);
    assert_eq!(status(&read, Some(&token)).await.0, 200);
    assert_eq!(status(&read, Some(&token)).await.0, 200);
    assert_eq!(status(&write, Some(&token)).await.0, 403);
    assert!(verifier.token_cache_stats().hits >= 2);
}

#[tokio::test]
async fn a_cached_token_expires_with_its_exp() {
    let issuer = issuer().await;
    let verifier = verifier(&issuer);
    let now = SystemTime::now();
    let token = issuer
        .token()
        .client_id(CLIENT)
        .issued_at(now)
        .expires_in(Duration::from_secs(2))
        .mint();
    verifier.verify(&token).await.unwrap();
    verifier.verify(&token).await.unwrap();
    assert_eq!(verifier.token_cache_stats().hits, 1);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        VerifyError::InvalidToken(TokenError::Expired)
    );
}

#[tokio::test]
async fn a_key_that_leaves_the_key_set_takes_its_cached_tokens_with_it() {
    let issuer = issuer().await;
    issuer.set_cache_control(Some("max-age=1"));
    let verifier = builder(&issuer)
        .key_set_ttl_bounds(Duration::from_millis(100), Duration::from_secs(60))
        .build()
        .unwrap();
    let old = token(&issuer, &[READ]);
    verifier.verify(&old).await.unwrap();
    verifier.verify(&old).await.unwrap();
    let old_kid = issuer.signing_kid();
    issuer.rotate().unwrap();
    assert!(issuer.retire(&old_kid));
    // The next refresh (TTL 1 s) drops the key; its cached token goes too.
    let start = std::time::Instant::now();
    while verifier.key_ids().contains(&old_kid) {
        assert!(start.elapsed() < Duration::from_secs(5));
        // Keep requests coming, so that the refresh is triggered.
        let _ = verifier.verify(&old).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        verifier.verify(&old).await.is_err(),
        "a token of a removed key was served from the cache"
    );
    verifier.verify(&token(&issuer, &[READ])).await.unwrap();
}

#[tokio::test]
async fn stale_keys_past_max_stale_are_not_bypassed_by_the_cache() {
    let issuer = issuer().await;
    issuer.set_cache_control(Some("max-age=1"));
    let verifier = builder(&issuer)
        .key_set_ttl_bounds(Duration::from_millis(100), Duration::from_secs(60))
        .key_set_max_stale(Duration::from_secs(1))
        .build()
        .unwrap();
    let token = token(&issuer, &[READ]);
    verifier.verify(&token).await.unwrap();
    issuer.set_fault(Fault::Status(500));
    tokio::time::sleep(Duration::from_millis(2300)).await;
    // The cached token is refused too: keys past max-stale are not used.
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::KeySetUnavailable { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn large_tokens_are_not_cached_and_the_cache_can_be_off() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .token_cache_max_token_bytes(1024)
        .build()
        .unwrap();
    let big = issuer
        .token()
        .client_id(CLIENT)
        .claim("padding", json!("x".repeat(2000)))
        .mint();
    verifier.verify(&big).await.unwrap();
    verifier.verify(&big).await.unwrap();
    let stats = verifier.token_cache_stats();
    assert_eq!((stats.hits, stats.entries), (0, 0));

    let off = builder(&issuer).token_cache_capacity(0).build().unwrap();
    let token = token(&issuer, &[READ]);
    off.verify(&token).await.unwrap();
    off.verify(&token).await.unwrap();
    assert_eq!(
        off.token_cache_stats(),
        scopegate::TokenCacheStats::default()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn verifiers_do_not_share_cached_tokens() {
    // Same issuer, same thread, different client allow-lists: what one
    // verifier cached must not pass the other's checks.
    let issuer = issuer().await;
    let for_client = verifier(&issuer);
    let for_other = scopegate::Verifier::builder(issuer.issuer())
        .token_use("access")
        .client_ids(["another-client"])
        .build()
        .unwrap();
    let token = token(&issuer, &[READ]);
    for_client.verify(&token).await.unwrap();
    for_client.verify(&token).await.unwrap();
    assert_eq!(
        for_other.verify(&token).await.unwrap_err(),
        VerifyError::InvalidToken(TokenError::ClientNotAllowed)
    );
}
