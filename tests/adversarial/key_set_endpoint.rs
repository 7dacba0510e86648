//! The key-set endpoint: floods, cold starts, faults, rotation.

use super::*;

pub(crate) async fn unknown_kid_flood_makes_no_extra_fetch(target: Target) {
    let issuer = support::issuer().await;
    // A cooldown far longer than the flood takes, even on a slow debug
    // build, so that "no extra fetch" stays an exact assertion.
    let policy = Policy {
        unknown_kid_cooldown: Some(Duration::from_secs(3600)),
        ..Policy::default()
    };
    let gate = gate(target, &issuer, policy).await;
    gate.token(&read_token(&issuer).mint(), Expect::Accepted, "warm")
        .await;
    let fetches = issuer.jwks_requests();
    // 10,000 tokens with random kids, 50 at a time over keep-alive.
    let client = support::http();
    let url = format!("{}/read", gate.url);
    let tokens: Vec<String> = (0..10_000)
        .map(|i| {
            read_token(&issuer)
                .header("kid", json!(format!("random-{i}-{}", now())))
                .mint()
        })
        .collect();
    let mut statuses = Vec::with_capacity(tokens.len());
    for chunk in tokens.chunks(50) {
        let requests = chunk.iter().map(|token| {
            let request = client.get(&url).bearer_auth(token);
            async move { request.send().await.unwrap().status().as_u16() }
        });
        statuses.extend(futures_util::future::join_all(requests).await);
    }
    assert!(statuses.iter().all(|s| *s == 401), "{target:?}");
    // The first fetch was just now: the cooldown (1 h) allows none.
    assert_eq!(issuer.jwks_requests(), fetches, "{target:?}");
    assert_eq!(gate.reached.load(Ordering::SeqCst), 1);
}

pub(crate) async fn cold_cache_under_concurrency_makes_one_fetch(target: Target) {
    let issuer = support::issuer().await;
    issuer.set_fault(Fault::Stall(Duration::from_millis(300)));
    let gate = gate(target, &issuer, Policy::default()).await;
    let token = read_token(&issuer).mint();
    let client = support::http();
    let url = format!("{}/read", gate.url);
    let requests = (0..500).map(|_| {
        let request = client.get(&url).bearer_auth(&token);
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(
        statuses.into_iter().all(|s| s.unwrap() == 200),
        "{target:?}"
    );
    assert_eq!(issuer.jwks_requests(), 1, "{target:?}");
    assert_eq!(gate.reached.load(Ordering::SeqCst), 500);
}

pub(crate) async fn key_set_down_at_a_cold_start_is_503(target: Target) {
    let issuer = support::issuer().await;
    let gate = gate(
        target,
        &issuer,
        Policy {
            jwks_url: Some(refused_url()),
            ..Policy::default()
        },
    )
    .await;
    let token = read_token(&issuer).mint();
    for _ in 0..5 {
        gate.token(&token, Expect::Unavailable, "endpoint down")
            .await;
    }
    // A malformed token is still the client's fault.
    gate.token("garbage", Expect::InvalidToken, "garbage").await;
    gate.expect("/read", &[], Expect::NoCredentials, "no token")
        .await;
}

pub(crate) async fn known_keys_keep_working_while_the_key_set_is_down(target: Target) {
    let issuer = support::issuer().await;
    let gate = gate(
        target,
        &issuer,
        Policy {
            key_set_ttl: Some(Duration::from_secs(1)),
            ..Policy::default()
        },
    )
    .await;
    let token = read_token(&issuer).mint();
    gate.token(&token, Expect::Accepted, "warm").await;
    let mut fresh = 0;
    for fault in [Fault::Status(500), Fault::Down] {
        let requests_before = issuer.jwks_requests();
        let failed_before = gate.verifier.as_ref().map(|v| v.key_set_fetches().failed);
        issuer.set_fault(fault.clone());
        // Past the TTL, several times over.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            gate.token(&token, Expect::Accepted, &format!("{fault:?}"))
                .await;
            // A new token of the same key: verified, not a cache hit.
            fresh += 1;
            let new = read_token(&issuer).claim("n", json!(fresh)).mint();
            gate.token(&new, Expect::Accepted, "new token").await;
        }
        // Refreshes were attempted, spaced by the retry backoff (1 s
        // doubling), not one per request (12 requests in 2.4 s).
        if fault == Fault::Status(500) {
            let attempts = issuer.jwks_requests() - requests_before;
            assert!(
                (1..=3).contains(&attempts),
                "{target:?}: {attempts} attempts"
            );
        }
        // A closed connection is not counted by the issuer; the layer's
        // verifier counts its failed fetches.
        if let (Some(verifier), Some(before)) = (&gate.verifier, failed_before) {
            let failed = verifier.key_set_fetches().failed - before;
            assert!(
                (1..=3).contains(&failed),
                "{fault:?}: {failed} failed fetches"
            );
        }
    }
}

pub(crate) async fn slow_or_endless_key_set_fails_fast_and_closed(target: Target) {
    for fault in [
        Fault::Stall(Duration::from_secs(30)),
        Fault::Trickle(Duration::from_millis(100)),
        Fault::HugeBody(10 * 1024 * 1024),
    ] {
        let issuer = support::issuer().await;
        issuer.set_fault(fault.clone());
        let gate = gate(target, &issuer, Policy::default()).await;
        let started = Instant::now();
        gate.token(
            &read_token(&issuer).mint(),
            Expect::Unavailable,
            &format!("{fault:?}"),
        )
        .await;
        // The default total fetch timeout is 5 s.
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{target:?} {fault:?}: {:?}",
            started.elapsed()
        );
    }
}

pub(crate) async fn key_set_redirect_is_not_followed(target: Target) {
    let issuer = support::issuer().await;
    let elsewhere = counting_server(issuer.jwks()).await;
    issuer.set_fault(Fault::Redirect(format!("{}/jwks.json", elsewhere.api.url)));
    let gate = gate(target, &issuer, Policy::default()).await;
    gate.token(&read_token(&issuer).mint(), Expect::Unavailable, "redirect")
        .await;
    assert_eq!(elsewhere.hits(), 0, "{target:?}: the redirect was followed");
}

pub(crate) async fn key_rotation_is_followed(target: Target) {
    let issuer = support::issuer().await;
    // A long TTL: every fetch below is caused by an unknown kid.
    let gate = gate(
        target,
        &issuer,
        Policy {
            unknown_kid_cooldown: Some(Duration::from_secs(1)),
            ..Policy::default()
        },
    )
    .await;
    let old_kid = issuer.signing_kid();
    let old = read_token(&issuer).mint();
    gate.token(&old, Expect::Accepted, "old key").await;
    assert_eq!(issuer.jwks_requests(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    issuer.rotate().unwrap();
    let new = read_token(&issuer).mint();
    gate.token(&new, Expect::Accepted, "new key after one refetch")
        .await;
    assert_eq!(issuer.jwks_requests(), 2, "{target:?}");
    gate.token(&old, Expect::Accepted, "old key, still published")
        .await;
    // Retired; the next refetch (here caused by another unknown kid) drops it.
    assert!(issuer.retire(&old_kid));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stranger = read_token(&issuer).header("kid", json!("nobody")).mint();
    gate.token(&stranger, Expect::InvalidToken, "unknown kid")
        .await;
    assert_eq!(issuer.jwks_requests(), 3, "{target:?}");
    gate.token(&old, Expect::InvalidToken, "retired key").await;
    gate.token(&new, Expect::Accepted, "new key").await;
    assert_eq!(issuer.jwks_requests(), 3, "{target:?}");
}
