//! The soak test: `scopegate proxy` (the binary) under sustained load for
//! 10 minutes, with valid, invalid and unknown-`kid` tokens mixed, a key
//! rotation every minute, and the key-set endpoint failing for one minute in
//! the middle. It counts wrongly accepted and wrongly refused requests and
//! samples the proxy's memory.
//!
//! Not part of the default test run:
//!
//! ```text
//! cargo test --release --features axum,issuer,proxy,cli,internals --test soak -- --ignored --nocapture
//! SOAK_SECS=120 cargo test --release --features axum,issuer,proxy,cli,internals --test soak -- --ignored --nocapture
//! ```
//!
//! `SOAK_SECS` (default 600) is the run time; the rotation period and the
//! outage scale with it (a tenth of it each, so one minute in ten).

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use scopegate::Algorithm;
use scopegate::local::{Fault, LocalIssuer};
use serde_json::json;
use support::proxy::ProxyToml;
use support::{CLIENT, READ, WRITE, serve};

/// Tokens the load generator picks from; replaced at each rotation.
#[derive(Default)]
struct Pools {
    /// Signed by published keys that the proxy has had time to fetch.
    valid: Vec<String>,
    /// Must be refused: bad signature, expired, another client, `alg: none`,
    /// a scope the route does not accept.
    invalid: Vec<String>,
}

#[derive(Default)]
struct Counts {
    valid_sent: AtomicU64,
    valid_refused: AtomicU64,
    invalid_sent: AtomicU64,
    unknown_kid_sent: AtomicU64,
    wrongly_accepted: AtomicU64,
    errors: AtomicU64,
}

fn mint_pool(issuer: &LocalIssuer, signing: &[String]) -> Pools {
    let token = |kid: &str, client: &str, scope: &str| {
        issuer
            .token()
            .client_id(client)
            .scope(scope)
            .signed_with(kid)
    };
    let mut pools = Pools::default();
    for kid in signing {
        for i in 0..300 {
            pools
                .valid
                .push(token(kid, CLIENT, READ).claim("n", json!(i)).mint());
        }
    }
    let kid = &signing[0];
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    for i in 0..100 {
        let good = token(kid, CLIENT, READ).claim("n", json!(i)).mint();
        let (h, p, s) = support::segments(&good);
        let flipped = if s.starts_with('A') { "B" } else { "A" };
        let none = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            json!({"alg": "none", "kid": kid}).to_string(),
        );
        pools.invalid.extend([
            format!("{h}.{p}.{flipped}{}", &s[1..]),
            token(kid, "someone-else", READ).mint(),
            token(kid, CLIENT, WRITE).mint(),
            token(kid, CLIENT, READ).issued_at(hour_ago).mint(),
            format!("{none}.{p}."),
        ]);
    }
    pools
}

/// The proxy's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 10-minute soak; run by hand (see the module docs)"]
async fn proxy_soak() {
    let total = Duration::from_secs(
        std::env::var("SOAK_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(600),
    );
    let period = total / 10;
    let issuer = support::issuer().await;
    let upstream = serve(Router::new().fallback(|| async { "ok" })).await;
    // Keys: one is published each period; tokens are signed by the keys
    // published two and three periods ago; the one four periods old is
    // retired. So every key signs only after the proxy could fetch it, even
    // across the outage.
    let mut keys: VecDeque<String> = VecDeque::new();
    keys.push_back(issuer.signing_kid());
    for _ in 0..3 {
        keys.push_back(issuer.add_key(Algorithm::RS256).unwrap());
    }

    let dir = std::env::temp_dir().join(format!("scopegate-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The key set is fresh for a third of a rotation period: a key
    // published one period before it signs is always known by then.
    let ttl = (period / 3).max(Duration::from_secs(1));
    // Verified tokens are remembered for two periods, so the token cache
    // reaches its steady size (two pools' worth) well before the end and
    // the memory samples after that must stay flat.
    let cache_ttl = (period * 2).max(Duration::from_secs(1));
    let config = ProxyToml::for_issuer(&issuer, &upstream.url)
        .listen(&format!("127.0.0.1:{port}"))
        .setting("log_format", r#""json""#)
        .setting(
            "token_cache_ttl",
            &format!("\"{}ms\"", cache_ttl.as_millis()),
        )
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .issuer_key(&format!("key_set_ttl = \"{}ms\"", ttl.as_millis()))
        .tail(&format!(
            r#"
[[routes]]
methods = ["GET"]
path = "/photos"
require = ["{READ}"]
"#
        ))
        .render();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["proxy", "--config"])
        .arg(&path)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let url = format!("http://127.0.0.1:{port}/photos");
    let client = support::http();
    let started = Instant::now();
    while client.get(&url).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the proxy did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let signing = |keys: &VecDeque<String>| vec![keys[0].clone(), keys[1].clone()];
    let pools = Arc::new(RwLock::new(mint_pool(&issuer, &signing(&keys))));
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for worker in 0..32u64 {
        let (pools, counts, stop, client, url) = (
            Arc::clone(&pools),
            Arc::clone(&counts),
            Arc::clone(&stop),
            client.clone(),
            url.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = worker;
            while !stop.load(Ordering::Relaxed) {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = (n >> 33) as usize;
                // 70 % valid, 20 % invalid, 10 % unknown kid.
                let (token, valid) = {
                    let pools = pools.read().unwrap();
                    match pick % 10 {
                        0..=6 => (pools.valid[pick % pools.valid.len()].clone(), Some(true)),
                        7 | 8 => (
                            pools.invalid[pick % pools.invalid.len()].clone(),
                            Some(false),
                        ),
                        _ => (String::new(), None),
                    }
                };
                let token = match valid {
                    None => {
                        let header = base64::Engine::encode(
                            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                            json!({"alg": "RS256", "kid": format!("unknown-{n}")}).to_string(),
                        );
                        format!("{header}.e30.c2ln")
                    }
                    Some(_) => token,
                };
                let status = match client.get(&url).bearer_auth(&token).send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                match valid {
                    Some(true) => {
                        counts.valid_sent.fetch_add(1, Ordering::Relaxed);
                        if status != 200 {
                            counts.valid_refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(false) => {
                        counts.invalid_sent.fetch_add(1, Ordering::Relaxed);
                        if status == 200 {
                            counts.wrongly_accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    None => {
                        counts.unknown_kid_sent.fetch_add(1, Ordering::Relaxed);
                        if status == 200 {
                            counts.wrongly_accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }));
    }

    let rss_start = rss_kib(pid);
    let mut rss_peak = rss_start;
    let mut rss_samples = Vec::new();
    let mut rotations = 0;
    let mut outage = false;
    let begin = Instant::now();
    let mut next_rotation = begin + period;
    while begin.elapsed() < total {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let elapsed = begin.elapsed();
        // The key-set endpoint fails from 40 % to 50 % of the run.
        let failing = elapsed >= total * 4 / 10 && elapsed < total / 2;
        if failing != outage {
            outage = failing;
            issuer.set_fault(if failing {
                Fault::Status(503)
            } else {
                Fault::None
            });
            eprintln!(
                "{:>4}s key-set endpoint {}",
                elapsed.as_secs(),
                if failing { "failing" } else { "back" }
            );
        }
        if Instant::now() >= next_rotation {
            next_rotation += period;
            rotations += 1;
            keys.push_back(issuer.add_key(Algorithm::RS256).unwrap());
            let retired = keys.pop_front().unwrap();
            let fresh = mint_pool(&issuer, &signing(&keys));
            *pools.write().unwrap() = fresh;
            issuer.retire(&retired);
        }
        let rss = rss_kib(pid);
        rss_peak = rss_peak.max(rss);
        if rss_samples.len() < (elapsed.as_secs_f64() / period.as_secs_f64()) as usize + 1 {
            rss_samples.push(rss);
            eprintln!(
                "{:>4}s rss {} KiB, {} valid sent ({} refused), {} invalid, {} unknown kid, {} wrongly accepted, {} key-set requests",
                elapsed.as_secs(),
                rss,
                counts.valid_sent.load(Ordering::Relaxed),
                counts.valid_refused.load(Ordering::Relaxed),
                counts.invalid_sent.load(Ordering::Relaxed),
                counts.unknown_kid_sent.load(Ordering::Relaxed),
                counts.wrongly_accepted.load(Ordering::Relaxed),
                issuer.jwks_requests(),
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let rss_end = rss_kib(pid);
    let valid_sent = counts.valid_sent.load(Ordering::Relaxed);
    let valid_refused = counts.valid_refused.load(Ordering::Relaxed);
    let wrongly_accepted = counts.wrongly_accepted.load(Ordering::Relaxed);
    let sent = valid_sent
        + counts.invalid_sent.load(Ordering::Relaxed)
        + counts.unknown_kid_sent.load(Ordering::Relaxed);
    eprintln!(
        "soak: {}s, {sent} requests ({:.0}/s), {valid_sent} valid ({valid_refused} refused), {} invalid, {} unknown kid, {wrongly_accepted} wrongly accepted, {} client errors, {rotations} rotations, {} key-set requests; proxy RSS {rss_start} KiB at start, {rss_peak} KiB peak, {rss_end} KiB at the end",
        total.as_secs(),
        sent as f64 / total.as_secs_f64(),
        counts.invalid_sent.load(Ordering::Relaxed),
        counts.unknown_kid_sent.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed),
        issuer.jwks_requests(),
    );
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(
        wrongly_accepted, 0,
        "requests that should have been refused were accepted"
    );
    assert_eq!(valid_refused, 0, "valid requests were refused");
    assert!(rotations >= 9, "{rotations} rotations");
    // Bounded memory: once the token cache has reached its steady size
    // (after the cache TTL, two periods), the samples stay within 20 %
    // (or 4 MiB) of the one taken at three periods.
    let settled = rss_samples.get(3).copied().unwrap_or(rss_start);
    let bound = settled + (settled / 5).max(4 * 1024);
    assert!(
        rss_samples.iter().skip(3).all(|&rss| rss <= bound)
            && rss_end <= bound
            && rss_peak < 512 * 1024,
        "proxy memory grew: {rss_samples:?} KiB, end {rss_end} KiB"
    );
}
