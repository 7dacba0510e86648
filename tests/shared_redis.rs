//! State shared by replicas in a real Redis (`redis-server` on a free
//! loopback port): two layer instances and two proxy replicas that share
//! used DPoP proof ids and revocations; the local issuer's global sign-out
//! published through it; Redis killed mid-run (proofs refused, the stale
//! policy, then recovery).

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use scopegate::local::LocalIssuer;
use scopegate::shared::{RedisOptions, RedisStore, StalePolicy};
use scopegate::{Dpop, Verifier};
use serde_json::json;
use support::dpop::DpopKey;
use support::proxy::{ProxyToml, start_proxy};
use support::redis::RedisServer;
use support::*;

/// The origin of the load balancer in front of the replicas.
const ORIGIN: &str = "https://api.example.com";

fn store(redis: &RedisServer, options: RedisOptions) -> RedisStore {
    RedisStore::open(
        &redis.url(),
        options.poll_interval(Duration::from_millis(200)),
    )
    .unwrap()
}

/// A replica: `GET /r` needs `READ`, DPoP for `ORIGIN`, state in `store`.
async fn replica(issuer: &LocalIssuer, store: &RedisStore) -> (Api, Verifier) {
    let verifier = support::builder(issuer)
        .dpop(Dpop::new(ORIGIN).unwrap().one_time_ids(store.clone()))
        .revocations(store.clone())
        .build()
        .unwrap();
    store.connect().await.unwrap();
    let layer = verifier.require(READ).unwrap();
    let api = serve_at(|_| Router::new().route("/r", get(whoami).route_layer(layer))).await;
    (api, verifier)
}

async fn status(url: &str, scheme: &str, token: &str, proof: Option<String>) -> u16 {
    let mut request = http()
        .get(url)
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.send().await.unwrap().status().as_u16()
}

/// A proof accepted by replica A (`a_url`), then refused as a replay by B.
async fn replayed_across(a_url: &str, b_url: &str, key: &DpopKey, bound: &str, path: &str) {
    let proof = key.proof("GET", &format!("{ORIGIN}{path}"), Some(bound));
    assert_eq!(status(a_url, "DPoP", bound, Some(proof.clone())).await, 200);
    assert_eq!(
        status(b_url, "DPoP", bound, Some(proof)).await,
        401,
        "replayed on B"
    );
}

/// Waits (up to `within`) until `GET url` answers `expected`; how long it took.
async fn until_status(url: &str, token: &str, expected: u16, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if status(url, "Bearer", token, None).await == expected {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{url}: not {expected} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_replicas_share_proof_ids_and_revocations() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let issuer = issuer().await;
    let (a, a_verifier) = replica(&issuer, &store(&redis, RedisOptions::default())).await;
    let (b, _) = replica(&issuer, &store(&redis, RedisOptions::default())).await;
    let (a_url, b_url) = (format!("{}/r", a.url), format!("{}/r", b.url));
    let key = DpopKey::generate();
    let bound = bound_token(&issuer, &key);
    replayed_across(&a_url, &b_url, &key, &bound, "/r").await;
    let fresh = key.proof("GET", &format!("{ORIGIN}/r"), Some(&bound));
    assert_eq!(
        status(&b_url, "DPoP", &bound, Some(fresh)).await,
        200,
        "a fresh proof on B"
    );

    let mint = |jti: &str| {
        issuer
            .token()
            .client_id(CLIENT)
            .scopes([READ])
            .claim("jti", json!(jti))
            .mint()
    };
    let (revoked, kept) = (mint("shared-1"), mint("shared-2"));
    for url in [&a_url, &b_url] {
        assert_eq!(status(url, "Bearer", &revoked, None).await, 200);
    }
    a_verifier.revoke_jti("shared-1").await.unwrap();
    assert_eq!(
        status(&a_url, "Bearer", &revoked, None).await,
        401,
        "at once on A"
    );
    let took = until_status(&b_url, &revoked, 401, Duration::from_secs(1)).await;
    eprintln!("revocation reached replica B in {took:?}");
    assert_eq!(
        status(&b_url, "Bearer", &kept, None).await,
        200,
        "another token passes"
    );
}

#[tokio::test]
async fn redis_down_refuses_proofs_then_the_stale_policy_then_recovers() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let issuer = issuer().await;
    let stale = Duration::from_secs(2);
    let refuse = store(
        &redis,
        RedisOptions::default()
            .max_stale(stale)
            .timeout(Duration::from_millis(200)),
    );
    let serve = store(
        &redis,
        RedisOptions::default()
            .max_stale(stale)
            .timeout(Duration::from_millis(200))
            .when_stale(StalePolicy::Serve),
    );
    let (strict, strict_verifier) = replica(&issuer, &refuse).await;
    let (lenient, _) = replica(&issuer, &serve).await;
    let (strict_url, lenient_url) = (format!("{}/r", strict.url), format!("{}/r", lenient.url));
    let plain = token(&issuer, &[READ]);
    let revoked = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ])
        .claim("jti", json!("down-1"))
        .mint();
    strict_verifier.revoke_jti("down-1").await.unwrap();
    until_status(&lenient_url, &revoked, 401, Duration::from_secs(1)).await;

    redis.kill();
    // A proof cannot be checked for replay: 503, never 200.
    let key = DpopKey::generate();
    let bound = bound_token(&issuer, &key);
    let proof = key.proof("GET", &format!("{ORIGIN}/r"), Some(&bound));
    assert_eq!(status(&strict_url, "DPoP", &bound, Some(proof)).await, 503);
    // Bearer tokens: the last known list serves until `max_stale`...
    assert_eq!(status(&strict_url, "Bearer", &plain, None).await, 200);
    assert_eq!(
        status(&strict_url, "Bearer", &revoked, None).await,
        401,
        "still revoked"
    );
    // ...then the policy: refuse (503), or keep serving the last list.
    until_status(&strict_url, &plain, 503, stale + Duration::from_secs(3)).await;
    assert!(!strict_verifier.revocations_usable());
    assert_eq!(status(&lenient_url, "Bearer", &plain, None).await, 200);
    assert_eq!(status(&lenient_url, "Bearer", &revoked, None).await, 401);

    // Back: both recover on their own (the list is gone with the old
    // server's memory: a fresh Redis starts empty).
    redis.restart().await;
    until_status(&strict_url, &plain, 200, Duration::from_secs(5)).await;
    assert!(strict_verifier.revocations_usable());
    let proof = key.proof("GET", &format!("{ORIGIN}/r"), Some(&bound));
    assert_eq!(status(&strict_url, "DPoP", &bound, Some(proof)).await, 200);
}

#[tokio::test]
async fn a_global_sign_out_at_the_issuer_refuses_that_users_tokens_everywhere() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let publisher = store(&redis, RedisOptions::default());
    let issuer = LocalIssuer::builder()
        .publish_revocations(publisher)
        .start()
        .await
        .unwrap();
    let pool = issuer.pool_id().to_string();
    let client = issuer
        .call(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "app",
                   "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .unwrap()["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_in = |user: &str| {
        let password = "Correct-horse-9!";
        issuer
            .call(
                "AdminCreateUser",
                json!({"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS"}),
            )
            .unwrap();
        issuer
            .call(
                "AdminSetUserPassword",
                json!({"UserPoolId": pool, "Username": user, "Password": password, "Permanent": true}),
            )
            .unwrap();
        let out = issuer
            .call(
                "AdminInitiateAuth",
                json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": user, "PASSWORD": password}}),
            )
            .unwrap();
        out["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (alice, bob) = (sign_in("alice"), sign_in("bob"));
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let shared = store(&redis, RedisOptions::default());
        let verifier = Verifier::builder(issuer.issuer())
            .token_use("access")
            .client_ids([client.as_str()])
            .revocations(shared.clone())
            .build()
            .unwrap();
        shared.connect().await.unwrap();
        let layer = verifier.authenticated();
        replicas
            .push(serve_at(|_| Router::new().route("/r", get(whoami).route_layer(layer))).await);
    }
    for api in &replicas {
        let url = format!("{}/r", api.url);
        assert_eq!(
            (
                status(&url, "Bearer", &alice, None).await,
                status(&url, "Bearer", &bob, None).await
            ),
            (200, 200)
        );
    }
    issuer
        .call(
            "AdminUserGlobalSignOut",
            json!({"UserPoolId": pool, "Username": "alice"}),
        )
        .unwrap();
    for api in &replicas {
        let url = format!("{}/r", api.url);
        until_status(&url, &alice, 401, Duration::from_secs(1)).await;
        assert_eq!(
            status(&url, "Bearer", &bob, None).await,
            200,
            "bob is not signed out"
        );
    }
}

#[tokio::test]
async fn two_proxy_replicas_share_state_through_shared() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let issuer = issuer().await;
    let upstream = serve(Router::new().fallback(|| async { "ok" })).await;
    let text = ProxyToml::for_issuer(&issuer, &upstream.url)
        .admin(true)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            "[[routes]]\npath = \"/photos\"\nrequire = [\"{READ}\"]\n\n[dpop]\norigin = \"{ORIGIN}\"\n\n\
             [shared]\nredis_url = \"{}\"\nkey_prefix = \"proxy-test:\"\n",
            redis.url()
        ))
        .render();
    let (a, b) = (start_proxy(&text).await, start_proxy(&text).await);
    let key = DpopKey::generate();
    let bound = bound_token(&issuer, &key);
    let (a_url, b_url) = (format!("{}/photos", a.url), format!("{}/photos", b.url));
    // The first requests may wait for the store's first load.
    let plain = token(&issuer, &[READ]);
    until_status(&a_url, &plain, 200, Duration::from_secs(3)).await;
    until_status(&b_url, &plain, 200, Duration::from_secs(3)).await;
    replayed_across(&a_url, &b_url, &key, &bound, "/photos").await;

    let revoked = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ])
        .claim("jti", json!("p-1"))
        .mint();
    assert_eq!(status(&b_url, "Bearer", &revoked, None).await, 200);
    let posted = http()
        .post(format!("{}/revocations", a.admin))
        .body(r#"{"jti": "p-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 204);
    until_status(&b_url, &revoked, 401, Duration::from_secs(1)).await;
    let metrics = support::proxy::admin_metrics(&b.admin).await;
    assert!(
        metrics.contains("scopegate_revocation_list_usable 1"),
        "{metrics}"
    );
}
