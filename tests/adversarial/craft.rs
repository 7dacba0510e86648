//! Helpers for crafting tokens and key sets.

use super::*;

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

pub(crate) fn segments(token: &str) -> (String, String, String) {
    support::segments(token)
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token for `CLIENT` with `READ`, to be changed by the caller.
pub(crate) fn read_token(issuer: &LocalIssuer) -> scopegate::local::TokenBuilder {
    issuer.token().client_id(CLIENT).scope(READ)
}

/// Signs `header.payload` (already base64url) with the issuer's key `kid`.
pub(crate) fn sign_with(
    issuer: &LocalIssuer,
    kid: &str,
    header: &Value,
    payload_b64: &str,
) -> String {
    sign_raw(issuer, kid, header.to_string().as_bytes(), payload_b64)
}

/// Signs a header given as raw bytes (which need not be valid JSON).
pub(crate) fn sign_raw(
    issuer: &LocalIssuer,
    kid: &str,
    header: &[u8],
    payload_b64: &str,
) -> String {
    let input = format!("{}.{payload_b64}", b64(header));
    let signature = issuer.key(kid).unwrap().sign(input.as_bytes()).unwrap();
    format!("{input}.{signature}")
}

/// The issuer's signing key's JWK under another `kid`, with changes.
pub(crate) fn jwk_copy(issuer: &LocalIssuer, kid: &str, changes: Value) -> Value {
    let mut jwk = issuer
        .key(&issuer.signing_kid())
        .unwrap()
        .public_jwk()
        .clone();
    jwk["kid"] = json!(kid);
    for (name, value) in changes.as_object().unwrap() {
        jwk[name] = value.clone();
    }
    jwk
}

/// The positive control: a good token passes the same gate, so a refusal
/// above was for the reason the rule names.
pub(crate) async fn control(gate: &Gate, issuer: &LocalIssuer) {
    gate.token(&read_token(issuer).mint(), Expect::Accepted, "control")
        .await;
}

/// The `alg` a token's header names.
pub(crate) fn header_alg(token: &str) -> String {
    let (header, _, _) = segments(token);
    let header: Value = serde_json::from_slice(&unb64(&header)).unwrap();
    header["alg"].as_str().unwrap().to_string()
}

/// Waits (at most 10 s) until the issuer has answered `n` key-set requests.
pub(crate) async fn wait_for_fetches(issuer: &LocalIssuer, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while issuer.jwks_requests() < n {
        assert!(Instant::now() < deadline, "no key-set fetch within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) async fn setup(target: Target) -> (LocalIssuer, Gate) {
    let issuer = support::issuer().await;
    let gate = gate(target, &issuer, Policy::default()).await;
    (issuer, gate)
}

/// A loopback URL where nothing listens.
pub(crate) fn refused_url() -> String {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = unused.local_addr().unwrap().port();
    drop(unused);
    format!("http://127.0.0.1:{port}/jwks.json")
}

pub(crate) fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}
