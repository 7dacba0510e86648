//! `scopegate proxy` with `[dpop]` (RFC 9449) and `POST /revocations` on
//! its admin listener, over real HTTP with a real issuer and upstream; and
//! the `[dpop]` mistakes, each one line naming its key.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use scopegate::local::LocalIssuer;
use scopegate::proxy::ProxyConfig;
use serde_json::json;
use support::dpop::DpopKey;
use support::proxy::{ProxyToml, start_proxy};
use support::*;

/// The origin clients address, as behind a load balancer.
const ORIGIN: &str = "https://api.example.com";

/// An upstream that records the header names of what reaches it.
async fn upstream() -> (Api, Arc<Mutex<Vec<Vec<String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let router = Router::new().fallback(move |request: Request| {
        let recorded = Arc::clone(&recorded);
        async move {
            let names = request.headers().keys().map(|k| k.to_string()).collect();
            recorded.lock().unwrap().push(names);
            "ok"
        }
    });
    (serve(router).await, seen)
}

fn config(issuer: &LocalIssuer, upstream: &str, dpop: &str) -> String {
    ProxyToml::for_issuer(issuer, upstream)
        .admin(true)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            r#"
[[routes]]
path = "/photos"
require = ["{READ}"]

[[routes]]
path = "/strict"
require = ["{READ}"]
dpop = "required"

[forward]
strip_authorization = true

{dpop}
"#
        ))
        .render()
}

async fn call(url: &str, scheme: &str, token: &str, proof: Option<String>) -> (u16, String) {
    let mut request = http()
        .get(url)
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

#[tokio::test]
async fn the_proxy_checks_proofs_against_its_configured_origin() {
    let issuer = issuer().await;
    let (api, seen) = upstream().await;
    let text = config(
        &issuer,
        &api.url,
        &format!("[dpop]\norigin = {ORIGIN:?}\nmax_age = \"30s\""),
    );
    let proxy = start_proxy(&text).await;
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    let photos = format!("{}/photos", proxy.url);
    let htu = format!("{ORIGIN}/photos");
    let proof = key.proof("GET", &htu, Some(&token));
    assert_eq!(
        call(&photos, "DPoP", &token, Some(proof.clone())).await.0,
        200
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    let names = seen.lock().unwrap()[0].clone();
    assert!(
        !names.iter().any(|n| n == "dpop" || n == "authorization"),
        "{names:?}"
    );

    // A replay, a proof for the proxy's own address, and the bound token as
    // Bearer: refused before the upstream.
    let (status, challenge) = call(&photos, "DPoP", &token, Some(proof)).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_dpop_proof""#),
        "{challenge}"
    );
    let own = key.proof("GET", &photos, Some(&token));
    assert_eq!(call(&photos, "DPoP", &token, Some(own)).await.0, 401);
    assert_eq!(call(&photos, "Bearer", &token, None).await.0, 401);

    // `dpop = "required"`: an unbound bearer token is refused there only.
    let plain = support::token(&issuer, &[READ]);
    assert_eq!(call(&photos, "Bearer", &plain, None).await.0, 200);
    let (status, challenge) = call(&format!("{}/strict", proxy.url), "Bearer", &plain, None).await;
    assert_eq!(status, 401);
    assert!(challenge.starts_with("DPoP realm="), "{challenge}");
    let strict = key.proof("GET", &format!("{ORIGIN}/strict"), Some(&token));
    assert_eq!(
        call(
            &format!("{}/strict", proxy.url),
            "DPoP",
            &token,
            Some(strict)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "only the three good requests"
    );
    let metrics = support::proxy::admin_metrics(&proxy.admin).await;
    assert!(
        metrics.contains(r#"scopegate_requests_total{outcome="401"} 4"#),
        "{metrics}"
    );
}

/// `POST {admin}/revocations` with `body`.
async fn revoke(admin: &str, body: &str) -> u16 {
    http()
        .post(format!("{admin}/revocations"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn revocations_posted_to_the_admin_listener_refuse_tokens_at_once() {
    let issuer = issuer().await;
    let (api, _seen) = upstream().await;
    let dpop = format!("[dpop]\norigin = {ORIGIN:?}");
    let proxy = start_proxy(&config(&issuer, &api.url, &dpop)).await;
    let photos = format!("{}/photos", proxy.url);
    let mint = |sub: &str, jti: &str| {
        issuer
            .token()
            .client_id(CLIENT)
            .scopes([READ])
            .claim("sub", json!(sub))
            .claim("jti", json!(jti))
            .mint()
    };
    let (alice, bob) = (mint("alice", "a-1"), mint("bob", "b-1"));
    assert_eq!(call(&photos, "Bearer", &alice, None).await.0, 200);
    assert_eq!(revoke(&proxy.admin, r#"{"jti": "a-1"}"#).await, 204);
    let (status, challenge) = call(&photos, "Bearer", &alice, None).await;
    assert_eq!(status, 401);
    assert!(challenge.contains(r#"error="invalid_token""#));
    assert_eq!(
        call(&photos, "Bearer", &bob, None).await.0,
        200,
        "bob is untouched"
    );
    assert_eq!(revoke(&proxy.admin, r#"{"sub": "bob"}"#).await, 204);
    assert_eq!(call(&photos, "Bearer", &bob, None).await.0, 401);

    for bad in [
        "",
        "[]",
        r#"{"jti": 1}"#,
        r#"{"jti": "x", "sub": "y"}"#,
        r#"{"nope": "x"}"#,
        r#"{"jti": ""}"#,
        r#"{"jti": "x", "before": 1}"#,
    ] {
        assert_eq!(revoke(&proxy.admin, bad).await, 400, "{bad}");
    }
    let get = http()
        .get(format!("{}/revocations", proxy.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let big = format!(r#"{{"jti": "{}"}}"#, "x".repeat(20_000));
    assert_eq!(revoke(&proxy.admin, &big).await, 413);
    // The client listener does not take revocations.
    let through_proxy = http()
        .post(format!("{}/revocations", proxy.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(through_proxy.status(), 404);
}

#[tokio::test]
async fn a_reload_keeps_revocations_and_used_proof_ids() {
    let issuer = issuer().await;
    let (api, _seen) = upstream().await;
    let dpop = format!("[dpop]\norigin = {ORIGIN:?}");
    let dir = std::env::temp_dir().join(format!("scopegate-dpop-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, config(&issuer, &api.url, &dpop)).unwrap();
    let proxy = start_proxy(&std::fs::read_to_string(&path).unwrap()).await;
    let photos = format!("{}/photos", proxy.url);
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    let proof = key.proof("GET", &format!("{ORIGIN}/photos"), Some(&token));
    assert_eq!(
        call(&photos, "DPoP", &token, Some(proof.clone())).await.0,
        200
    );
    let revoked = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ])
        .claim("jti", json!("r-1"))
        .mint();
    assert_eq!(revoke(&proxy.admin, r#"{"jti": "r-1"}"#).await, 204);
    std::fs::write(
        &path,
        config(&issuer, &api.url, &format!("{dpop}\nmax_age = \"20s\"")),
    )
    .unwrap();
    proxy.handle.reload(&path).unwrap();
    assert_eq!(
        call(&photos, "DPoP", &token, Some(proof)).await.0,
        401,
        "still a replay"
    );
    assert_eq!(
        call(&photos, "Bearer", &revoked, None).await.0,
        401,
        "still revoked"
    );
    let fresh = key.proof("GET", &format!("{ORIGIN}/photos"), Some(&token));
    assert_eq!(call(&photos, "DPoP", &token, Some(fresh)).await.0, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dpop_mistakes_are_one_line_naming_the_key() {
    let issuer = issuer().await;
    let upstream = "http://127.0.0.1:9";
    let cases = [
        (
            "[dpop]\norigin = \"https://api.example.com/path\"",
            "dpop.origin",
        ),
        ("[dpop]\norigin = \"ftp://api.example.com\"", "dpop.origin"),
        ("[dpop]\nmode = \"always\"", "dpop.mode"),
        ("[dpop]\nalgorithms = [\"HS256\"]", "dpop.algorithms[0]"),
        ("[dpop]\nalgorithms = []", "dpop.algorithms"),
        ("[dpop]\nmax_age = \"2h\"", "dpop.max_age"),
        ("[dpop]\nmax_age = \"1500ms\"", "dpop.max_age"),
        ("[dpop]\nunknown = 1", "unknown"),
        // Listening on port 0 (or a wildcard): no origin clients address.
        ("[dpop]\nmode = \"allowed\"\n# origin", "dpop.origin"),
    ];
    for (table, key) in cases {
        let table = match table.contains("origin") {
            true => table.to_string(),
            false => table.replace("[dpop]", "[dpop]\norigin = \"https://a.example\""),
        };
        let text = config(&issuer, upstream, &table);
        let error = ProxyConfig::from_toml(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains(key), "{table}: {error}");
        assert_eq!(error.lines().count(), 1, "{error}");
    }
    // A route's `dpop` needs the table, and a public route takes none.
    let text = config(&issuer, upstream, "");
    let error = ProxyConfig::from_toml(&text, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("routes[1].dpop") && error.contains("[dpop]"),
        "{error}"
    );
    let text = config(&issuer, upstream, "[dpop]\norigin = \"https://a.example\"")
        .replace("dpop = \"required\"", "dpop = \"sometimes\"");
    let error = ProxyConfig::from_toml(&text, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("routes[1].dpop"), "{error}");
    // The positive control.
    let good = config(
        &issuer,
        upstream,
        "[dpop]\norigin = \"https://a.example\"\nnonce = true\nalgorithms = [\"ES256\"]",
    );
    assert!(ProxyConfig::from_toml(&good, "p.toml").is_ok());
}

#[tokio::test]
async fn replicas_with_one_nonce_secret_accept_each_others_nonces() {
    let issuer = issuer().await;
    let (api, _seen) = upstream().await;
    let dir = std::env::temp_dir().join(format!("scopegate-nonce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("nonce.secret");
    std::fs::write(&secret, [42u8; 32]).unwrap();
    let dpop = format!(
        "[dpop]\norigin = {ORIGIN:?}\nnonce = true\nnonce_secret_file = {:?}",
        secret.display().to_string()
    );
    let text = config(&issuer, &api.url, &dpop);
    let (a, b) = (start_proxy(&text).await, start_proxy(&text).await);
    let key = DpopKey::generate();
    let token = bound_token(&issuer, &key);
    let htu = format!("{ORIGIN}/photos");
    let first = http()
        .get(format!("{}/photos", a.url))
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", key.proof("GET", &htu, Some(&token)))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 401);
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_string();
    let claims = json!({"jti": support::dpop::fresh_jti(), "htm": "GET", "htu": htu,
                        "iat": support::dpop::now(), "ath": support::dpop::ath(&token), "nonce": nonce});
    let with_nonce = key.sign(&key.header(), &claims);
    let url = format!("{}/photos", b.url);
    assert_eq!(
        call(&url, "DPoP", &token, Some(with_nonce)).await.0,
        200,
        "B takes A's nonce"
    );

    // The secret file's mistakes, each one line naming the key.
    std::fs::write(&secret, b"short").unwrap();
    let short = ProxyConfig::from_toml(&text, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        short.contains("dpop.nonce_secret_file") && short.contains("32 bytes"),
        "{short}"
    );
    let missing = text.replace("nonce.secret", "absent.secret");
    let error = ProxyConfig::from_toml(&missing, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("dpop.nonce_secret_file"), "{error}");
    let without_nonce = text.replace("nonce = true", "nonce = false");
    let error = ProxyConfig::from_toml(&without_nonce, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs nonce = true"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
