//! The adversarial suite: every rule of the project's security floor, every
//! MUST and MUST NOT that RFC 8725, RFC 7515, RFC 7517, RFC 7518, RFC 8037,
//! RFC 6750 and RFC 9068 put on a verifier, and the attacks of the advisories
//! filed against JWT libraries, each as a named rule.
//!
//! Each rule runs twice, over real HTTP with real keys:
//!
//! - `layer::<rule>`: the tower layer in front of an axum handler;
//! - `proxy::<rule>`: `scopegate proxy` in front of a real upstream.
//!
//! Both count what reaches the handler or the upstream: a rejected request
//! must reach nothing, an accepted one exactly once. Requests are written
//! byte for byte on a TCP socket, so that header case, repetition and odd
//! bytes are what the rule says.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate::local::{Fault, LocalIssuer};
use scopegate::proxy::{Proxy, ProxyConfig};
use scopegate::{Algorithm, Issuer, Verifier};
use serde_json::{Value, json};
use support::{Api, CLIENT, Counter, READ, WRITE, counting_server, other_api, photo_api, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------
// The two gates under test
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Layer,
    Proxy,
}

/// What the verifier is configured with: through `VerifierBuilder` for the
/// layer, through the TOML file for the proxy.
#[derive(Clone, Debug, Default)]
struct Policy {
    algorithms: Option<Vec<Algorithm>>,
    leeway: Duration,
    /// Instead of the `client_id` allow-list (the RFC 9068 profile).
    audiences: Option<Vec<&'static str>>,
    require_at_jwt: bool,
    /// Another key-set endpoint than the issuer's.
    jwks_url: Option<String>,
    key_set_ttl: Option<Duration>,
    unknown_kid_cooldown: Option<Duration>,
}

/// `GET /read` needs `READ`, `GET /write` needs `WRITE`, `GET /me` needs a
/// valid token.
struct Gate {
    target: Target,
    addr: SocketAddr,
    url: String,
    reached: Arc<AtomicU64>,
    /// The layer's verifier (none for the proxy, which runs its own).
    verifier: Option<Verifier>,
    _backend: Api,
    _proxy: Option<oneshot::Sender<()>>,
}

async fn gate(target: Target, issuer: &LocalIssuer, policy: Policy) -> Gate {
    let reached = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&reached);
    let handler = move || {
        let counted = Arc::clone(&counted);
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            "reached"
        }
    };
    match target {
        Target::Layer => {
            let verifier = layer_verifier(issuer, &policy);
            let app = Router::new()
                .route(
                    "/read",
                    get(handler.clone()).route_layer(verifier.require(READ).unwrap()),
                )
                .route(
                    "/write",
                    get(handler.clone()).route_layer(verifier.require(WRITE).unwrap()),
                )
                .route("/me", get(handler).route_layer(verifier.authenticated()));
            let api = serve(app).await;
            Gate {
                target,
                addr: api.addr,
                url: api.url.clone(),
                reached,
                verifier: Some(verifier),
                _backend: api,
                _proxy: None,
            }
        }
        Target::Proxy => {
            let upstream = serve(Router::new().fallback(handler)).await;
            let config = ProxyConfig::from_toml(
                &proxy_config(issuer, &policy, &upstream.url),
                "adversarial.toml",
            )
            .unwrap();
            let proxy = Proxy::bind(config).await.unwrap();
            let addr = proxy.local_addr().unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            tokio::spawn(proxy.run(async move {
                let _ = stopped.await;
            }));
            Gate {
                target,
                addr,
                url: format!("http://{addr}"),
                reached,
                verifier: None,
                _backend: upstream,
                _proxy: Some(stop),
            }
        }
    }
}

fn layer_verifier(issuer: &LocalIssuer, policy: &Policy) -> Verifier {
    let source = match &policy.jwks_url {
        Some(url) => Issuer::with_jwks_url(issuer.url(), url.clone()),
        None => issuer.issuer(),
    };
    let mut builder = Verifier::builder(source)
        .token_use("access")
        .resource_server(photo_api())
        .resource_server(other_api())
        .leeway(policy.leeway);
    builder = match &policy.audiences {
        Some(audiences) => builder.audiences(audiences.iter().copied()),
        None => builder.client_ids([CLIENT]),
    };
    if let Some(algorithms) = &policy.algorithms {
        builder = builder.algorithms(algorithms.iter().copied());
    }
    if policy.require_at_jwt {
        builder = builder.require_at_jwt();
    }
    if let Some(ttl) = policy.key_set_ttl {
        builder = builder
            .key_set_ttl(ttl)
            .key_set_ttl_bounds(ttl, Duration::from_secs(86_400));
    }
    if let Some(cooldown) = policy.unknown_kid_cooldown {
        builder = builder.unknown_kid_cooldown(cooldown);
    }
    builder.build().unwrap()
}

fn proxy_config(issuer: &LocalIssuer, policy: &Policy, upstream: &str) -> String {
    let list = |items: Vec<String>| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut issuer_keys = vec![
        format!("url = {:?}", issuer.url()),
        format!(
            "jwks_url = {:?}",
            policy.jwks_url.clone().unwrap_or_else(|| issuer.jwks_url())
        ),
        r#"token_use = "access""#.to_string(),
        format!("leeway = \"{}ms\"", policy.leeway.as_millis()),
    ];
    issuer_keys.push(match &policy.audiences {
        Some(audiences) => format!(
            "audiences = {}",
            list(audiences.iter().map(|a| a.to_string()).collect())
        ),
        None => format!("client_ids = {}", list(vec![CLIENT.to_string()])),
    });
    if let Some(algorithms) = &policy.algorithms {
        let names = algorithms.iter().map(|a| a.as_str().to_string()).collect();
        issuer_keys.push(format!("algorithms = {}", list(names)));
    }
    if policy.require_at_jwt {
        issuer_keys.push("require_at_jwt = true".into());
    }
    if let Some(ttl) = policy.key_set_ttl {
        issuer_keys.push(format!("key_set_ttl = \"{}ms\"", ttl.as_millis()));
    }
    if let Some(cooldown) = policy.unknown_kid_cooldown {
        issuer_keys.push(format!(
            "unknown_kid_cooldown = \"{}ms\"",
            cooldown.as_millis()
        ));
    }
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"

[issuer]
{issuer_keys}

[[routes]]
methods = ["GET"]
path = "/read"
require = ["{READ}"]

[[routes]]
methods = ["GET"]
path = "/write"
require = ["{WRITE}"]

[[routes]]
methods = ["GET"]
path = "/me"
"#,
        issuer_keys = issuer_keys.join("\n"),
    )
}

/// An answer, read off the socket.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn contains(&self, needle: &str) -> bool {
        self.head.contains(needle) || String::from_utf8_lossy(&self.body).contains(needle)
    }
}

/// What a request must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// 200, and the handler or upstream is reached once.
    Accepted,
    /// 401 with a bare challenge: no bearer credentials (RFC 6750 §3.1).
    NoCredentials,
    /// 400 `invalid_request`.
    InvalidRequest,
    /// 401 `invalid_token`.
    InvalidToken,
    /// 403 `insufficient_scope`, naming the scope.
    InsufficientScope(&'static str),
    /// 503 with `Retry-After`, no challenge: the key set is unavailable.
    Unavailable,
}

impl Gate {
    /// Sends a request with these raw `Authorization` values.
    async fn send(&self, target: &str, authorization: &[&[u8]]) -> Reply {
        let mut request = format!("GET {target} HTTP/1.1\r\nHost: gate\r\n").into_bytes();
        for value in authorization {
            request.extend_from_slice(b"Authorization: ");
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"Connection: close\r\n\r\n");
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        // A server may answer and close before reading a huge request.
        let _ = stream.write_all(&request).await;
        let mut raw = Vec::new();
        // A server may close without reading a large request to its end.
        let _ = stream.read_to_end(&mut raw).await;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Reply {
            status,
            head,
            body: raw.get(split + 4..).unwrap_or_default().to_vec(),
        }
    }

    /// Sends the request and checks the answer, and that a rejected request
    /// reached nothing and an accepted one reached the handler once.
    async fn expect(&self, target: &str, authorization: &[&[u8]], expect: Expect, what: &str) {
        let before = self.reached.load(Ordering::SeqCst);
        let reply = self.send(target, authorization).await;
        let who = format!("{:?}: {what}", self.target);
        let challenge = reply.header("www-authenticate");
        match expect {
            Expect::Accepted => assert_eq!(reply.status, 200, "{who}\n{}", reply.head),
            Expect::NoCredentials => {
                assert_eq!(reply.status, 401, "{who}\n{}", reply.head);
                assert_eq!(challenge, Some(r#"Bearer realm="api""#), "{who}");
            }
            Expect::InvalidRequest => {
                assert_eq!(reply.status, 400, "{who}\n{}", reply.head);
                assert_eq!(
                    challenge,
                    Some(r#"Bearer realm="api", error="invalid_request""#),
                    "{who}"
                );
            }
            Expect::InvalidToken => {
                assert_eq!(reply.status, 401, "{who}\n{}", reply.head);
                assert_eq!(
                    challenge,
                    Some(r#"Bearer realm="api", error="invalid_token""#),
                    "{who}"
                );
            }
            Expect::InsufficientScope(scope) => {
                assert_eq!(reply.status, 403, "{who}\n{}", reply.head);
                let wanted =
                    format!(r#"Bearer realm="api", error="insufficient_scope", scope="{scope}""#);
                assert_eq!(challenge, Some(wanted.as_str()), "{who}");
            }
            Expect::Unavailable => {
                assert_eq!(reply.status, 503, "{who}\n{}", reply.head);
                let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=3600).contains(&retry), "{who}: Retry-After {retry}");
                assert_eq!(challenge, None, "{who}");
            }
        }
        let after = self.reached.load(Ordering::SeqCst);
        let reached = if expect == Expect::Accepted { 1 } else { 0 };
        assert_eq!(
            after - before,
            reached,
            "{who}: the handler or upstream was reached {} times",
            after - before
        );
    }

    /// `GET /read` with this bearer token.
    async fn token(&self, token: &str, expect: Expect, what: &str) {
        let header = format!("Bearer {token}");
        self.expect("/read", &[header.as_bytes()], expect, what)
            .await;
    }
}

// ---------------------------------------------------------------------------
// Helpers for crafting tokens
// ---------------------------------------------------------------------------

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn segments(token: &str) -> (String, String, String) {
    support::segments(token)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token for `CLIENT` with `READ`, to be changed by the caller.
fn read_token(issuer: &LocalIssuer) -> scopegate::local::TokenBuilder {
    issuer.token().client_id(CLIENT).scope(READ)
}

/// Signs `header.payload` (already base64url) with the issuer's key `kid`.
fn sign_with(issuer: &LocalIssuer, kid: &str, header: &Value, payload_b64: &str) -> String {
    sign_raw(issuer, kid, header.to_string().as_bytes(), payload_b64)
}

/// Signs a header given as raw bytes (which need not be valid JSON).
fn sign_raw(issuer: &LocalIssuer, kid: &str, header: &[u8], payload_b64: &str) -> String {
    let input = format!("{}.{payload_b64}", b64(header));
    let signature = issuer.key(kid).unwrap().sign(input.as_bytes()).unwrap();
    format!("{input}.{signature}")
}

/// The issuer's signing key's JWK under another `kid`, with changes.
fn jwk_copy(issuer: &LocalIssuer, kid: &str, changes: Value) -> Value {
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
async fn control(gate: &Gate, issuer: &LocalIssuer) {
    gate.token(&read_token(issuer).mint(), Expect::Accepted, "control")
        .await;
}

/// The `alg` a token's header names.
fn header_alg(token: &str) -> String {
    let (header, _, _) = segments(token);
    let header: Value = serde_json::from_slice(&unb64(&header)).unwrap();
    header["alg"].as_str().unwrap().to_string()
}

/// Waits (at most 10 s) until the issuer has answered `n` key-set requests.
async fn wait_for_fetches(issuer: &LocalIssuer, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while issuer.jwks_requests() < n {
        assert!(Instant::now() < deadline, "no key-set fetch within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn setup(target: Target) -> (LocalIssuer, Gate) {
    let issuer = support::issuer().await;
    let gate = gate(target, &issuer, Policy::default()).await;
    (issuer, gate)
}

/// A loopback URL where nothing listens.
fn refused_url() -> String {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = unused.local_addr().unwrap().port();
    drop(unused);
    format!("http://127.0.0.1:{port}/jwks.json")
}

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $rule:ident,)*) => {
        /// The rules against the tower layer.
        mod layer {
            $(
                $(#[doc = $doc])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $rule() {
                    super::$rule(super::Target::Layer).await;
                }
            )*
        }
        /// The rules against `scopegate proxy`.
        mod proxy {
            $(
                $(#[doc = $doc])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $rule() {
                    super::$rule(super::Target::Proxy).await;
                }
            )*
        }
    };
}

rules! {
    // RFC 6750: how the token travels, and how refusals read.
    /// RFC 6750 §3.1: no credentials, no error code.
    no_credentials_is_401_with_a_bare_challenge,
    /// RFC 6750 §3.1, RFC 7235: another scheme is not bearer credentials.
    another_scheme_is_401_with_a_bare_challenge,
    /// RFC 7235 §2.1: the scheme is case-insensitive; RFC 6750 §2.1: 1*SP.
    bearer_scheme_is_case_insensitive,
    /// RFC 6750 §3.1: repeated credentials are an invalid request.
    two_authorization_headers_are_400,
    /// RFC 6750 §2.1: `b64token` syntax.
    malformed_bearer_credentials_are_400,
    /// RFC 7230 §3.2: header values are visible ASCII.
    control_and_non_ascii_bytes_are_400,
    /// RFC 6750 §2.3, RFC 9700 §2.5: never from the query.
    token_in_the_query_is_never_accepted,
    /// RFC 6750 §3.1: more than one method is an invalid request.
    header_and_query_token_together_are_400,
    /// RFC 6750 §3.1: `insufficient_scope` names the scope.
    missing_scope_is_403_naming_the_scope,
    /// Project rule 9: nothing from the token is echoed.
    nothing_from_the_token_is_echoed,

    // RFC 7515 / RFC 8725: the JWS itself.
    /// RFC 8725 §3.1, CVE-2015-9235: `alg: none` in every spelling.
    alg_none_in_any_spelling_is_refused,
    /// RFC 7515 §5.2: the signature is verified; an empty one is not one.
    empty_or_stripped_signature_is_refused,
    /// RFC 8725 §2.1, §3.1, CVE-2016-10555: HMAC with the public key.
    hs256_signed_with_the_public_key_is_refused,
    /// RFC 7515 §4.1.1: `alg` names are case-sensitive.
    alg_names_are_case_sensitive,
    /// RFC 8725 §3.1: the verifier's allow-list decides.
    algorithm_outside_the_allow_list_is_refused,
    /// RFC 7517 §4.4, RFC 8725 §3.1: a key serves its one algorithm.
    header_alg_that_does_not_fit_the_key_is_refused,
    /// RFC 7515 §4: the header is a JSON object.
    header_that_is_not_a_json_object_is_refused,
    /// RFC 7515 §4: header parameter names are unique.
    duplicate_header_parameters_are_refused,
    /// RFC 7515 §5.2, RFC 8725 §3.7: JSON and UTF-8 tricks in the header.
    header_json_tricks_are_refused,
    /// RFC 7515 §4.1.11, RFC 7797: unknown critical extensions.
    crit_and_unencoded_payload_are_refused,
    /// RFC 8725 §3.10, CVE-2018-0114: `jku`, `x5u`, `jwk`, `x5c`.
    key_pointing_header_parameters_are_never_followed,
    /// Project rule 8: a hostile `kid` is one lookup, then a refusal.
    kid_missing_or_hostile_is_refused,
    /// RFC 7515 §7.1, §2: compact form, strict base64url.
    malformed_compact_serialization_is_refused,
    /// RFC 7516, RFC 8725 §2.3: encrypted tokens are not signed tokens.
    encrypted_tokens_are_refused,
    /// RFC 7515 §5.2: another token's signature or payload.
    transplanted_or_modified_parts_are_refused,
    /// Project rule 8: the size cap comes before any decoding.
    oversized_token_is_refused,
    /// RFC 7519 §7.2: a signed empty payload is not a claims set.
    signed_empty_payload_is_refused,
    /// RFC 7519 §7.2, RFC 8725 §3.3: a nested JWT is not unwrapped.
    nested_jwt_is_not_unwrapped,
    /// RFC 8725 §3.7, RFC 7519 §7.2: UTF-8, one complete JSON object.
    claims_that_are_not_one_utf8_json_object_are_refused,

    // RFC 7518 §3.4, RFC 8037: signature forms.
    /// RFC 7518 §3.4, CVE-2022-21449: R || S only; no zero signatures.
    ecdsa_der_zero_and_wrong_length_signatures_are_refused,
    /// RFC 8037 §3.1: EdDSA with Ed25519 keys only.
    eddsa_needs_an_ed25519_key,
    /// Every supported algorithm verifies when allowed (the control).
    every_supported_algorithm_is_accepted,

    // RFC 7517: the key set.
    /// RFC 7517 §4.2, §4.3: keys for encryption are never used.
    keys_not_for_signatures_are_never_used,
    /// RFC 8725 §3.2: symmetric keys in the set are never used.
    symmetric_keys_in_the_set_are_never_used,
    /// A key set that publishes private material has lost that key.
    keys_with_private_material_are_never_used,
    /// RFC 7517 §4.5: a `kid` that names two keys names none.
    ambiguous_kid_in_the_set_is_refused,
    /// RFC 7518 §3.3, §6.3: weak or malformed RSA keys are never used.
    weak_or_malformed_rsa_keys_are_never_used,
    /// RFC 8032 §5.1.3: a small-order Ed25519 key takes a fixed forgery.
    small_order_ed25519_keys_are_never_used,
    /// RFC 8725 §3.1: a key without `alg` still serves one algorithm.
    key_without_alg_serves_one_algorithm,

    // RFC 7519, RFC 9068, Cognito: the claims.
    /// RFC 7519 §4.1.4: `exp` required, a number, in the future.
    exp_missing_mistyped_or_past_is_refused,
    /// RFC 7519 §4.1.5: `nbf` in the future, beyond the leeway.
    nbf_in_the_future_is_refused,
    /// RFC 8725 §3.8: `iss` matches exactly.
    issuer_must_match_exactly,
    /// RFC 8725 §3.11, §2.8: an ID token is not an access token.
    id_tokens_are_refused,
    /// RFC 8725 §3.9: the client or audience allow-list.
    other_clients_are_refused,
    /// RFC 8725 §3.9 (project rule 5): claims are checked for type.
    claims_of_the_wrong_type_are_refused,
    /// Repeated claim names (parser differentials) are refused.
    repeated_claim_names_are_refused,
    /// RFC 9068 §2.1, §2.2, §4: `typ`, `aud` and the required claims.
    rfc9068_profile_is_enforced,

    // Scopes (Cognito resource servers).
    /// Project rule 6: exact, whole, case-sensitive scope matching.
    scopes_match_exactly,
    /// The same scope name on another resource server is another scope.
    scope_of_another_resource_server_is_403,

    // The key-set endpoint.
    /// Project rule 8: a flood of unknown `kid`s makes no extra fetch.
    unknown_kid_flood_makes_no_extra_fetch,
    /// 500 concurrent requests on a cold cache: one fetch.
    cold_cache_under_concurrency_makes_one_fetch,
    /// Project rule 7: no keys at a cold start is 503, never 200.
    key_set_down_at_a_cold_start_is_503,
    /// Known keys keep working while the endpoint fails.
    known_keys_keep_working_while_the_key_set_is_down,
    /// A redirect of the key-set endpoint is not followed.
    key_set_redirect_is_not_followed,
    /// A slow, endless or huge key-set answer fails fast and closed.
    slow_or_endless_key_set_fails_fast_and_closed,
    /// Rotation: the new key after one refetch; the removed key refused.
    key_rotation_is_followed,
}

// ---------------------------------------------------------------------------
// RFC 6750
// ---------------------------------------------------------------------------

async fn no_credentials_is_401_with_a_bare_challenge(target: Target) {
    let (_issuer, gate) = setup(target).await;
    for path in ["/read", "/write", "/me"] {
        gate.expect(path, &[], Expect::NoCredentials, path).await;
    }
}

async fn another_scheme_is_401_with_a_bare_challenge(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    let basic_with_token = format!("Basic {token}");
    let values: [&[u8]; 5] = [
        b"Basic dXNlcjpwYXNz",
        b"Negotiate abc",
        b"Digest username=\"a\", realm=\"b\"",
        b"Bearerx abc",
        basic_with_token.as_bytes(),
    ];
    for value in values {
        let what = String::from_utf8_lossy(&value[..value.len().min(20)]).into_owned();
        gate.expect("/read", &[value], Expect::NoCredentials, &what)
            .await;
    }
}

async fn bearer_scheme_is_case_insensitive(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    for scheme in ["Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "] {
        let value = format!("{scheme}{token}");
        gate.expect("/read", &[value.as_bytes()], Expect::Accepted, scheme)
            .await;
    }
}

async fn two_authorization_headers_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let good = format!("Bearer {}", read_token(&issuer).mint());
    let cases: [&[&[u8]]; 3] = [
        &[good.as_bytes(), good.as_bytes()],
        &[good.as_bytes(), b"Basic dXNlcjpwYXNz"],
        &[b"Basic dXNlcjpwYXNz", good.as_bytes()],
    ];
    for values in cases {
        gate.expect("/read", values, Expect::InvalidRequest, "two lines")
            .await;
    }
}

async fn malformed_bearer_credentials_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let good = read_token(&issuer).mint();
    let cases = [
        "Bearer".to_string(),
        "Bearer    ".to_string(),
        format!("Bearer {good} extra"),
        format!("Bearer \"{good}\""),
        format!("Bearer {good},"),
        format!("Bearer {good}, Bearer {good}"),
        "Bearer ===".to_string(),
        format!("Bearer <{good}>"),
    ];
    for value in cases {
        gate.expect(
            "/read",
            &[value.as_bytes()],
            Expect::InvalidRequest,
            &value[..value.len().min(30)],
        )
        .await;
    }
}

async fn control_and_non_ascii_bytes_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let good = read_token(&issuer).mint();
    let values: Vec<Vec<u8>> = vec![
        [b"Bearer ".as_slice(), good.as_bytes(), b"\xff"].concat(),
        [b"Bearer \xc3\xa9".as_slice(), good.as_bytes()].concat(),
        [b"Bearer\t".as_slice(), good.as_bytes()].concat(),
        [
            b"Bearer ".as_slice(),
            &good.as_bytes()[..10],
            b"\x01",
            &good.as_bytes()[10..],
        ]
        .concat(),
    ];
    for value in values {
        // The HTTP server may refuse such bytes before the gate does (with
        // 400 as well); the verifier must never get them.
        let reply = gate.send("/read", &[&value]).await;
        assert_eq!(reply.status, 400, "{target:?}: {}", reply.head);
        assert_eq!(gate.reached.load(Ordering::SeqCst), 0);
    }
}

async fn token_in_the_query_is_never_accepted(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    gate.expect(
        &format!("/read?access_token={token}"),
        &[],
        Expect::NoCredentials,
        "query",
    )
    .await;
    gate.expect(
        &format!("/read?access_token={token}"),
        &[b"Basic dXNlcjpwYXNz"],
        Expect::NoCredentials,
        "query with Basic",
    )
    .await;
}

async fn header_and_query_token_together_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    let header = format!("Bearer {token}");
    for query in [
        format!("access_token={token}"),
        "page=2&access_token=x".to_string(),
    ] {
        gate.expect(
            &format!("/read?{query}"),
            &[header.as_bytes()],
            Expect::InvalidRequest,
            "header and query",
        )
        .await;
    }
    // Other parameters are fine.
    gate.expect(
        "/read?my_access_token=x&page=2",
        &[header.as_bytes()],
        Expect::Accepted,
        "other parameters",
    )
    .await;
}

async fn missing_scope_is_403_naming_the_scope(target: Target) {
    let (issuer, gate) = setup(target).await;
    let read = format!("Bearer {}", read_token(&issuer).mint());
    gate.expect(
        "/write",
        &[read.as_bytes()],
        Expect::InsufficientScope(WRITE),
        "read token on a write route",
    )
    .await;
    let none = format!("Bearer {}", issuer.token().client_id(CLIENT).mint());
    gate.expect(
        "/read",
        &[none.as_bytes()],
        Expect::InsufficientScope(READ),
        "no scope",
    )
    .await;
    gate.expect(
        "/me",
        &[none.as_bytes()],
        Expect::Accepted,
        "authenticated only",
    )
    .await;
}

async fn nothing_from_the_token_is_echoed(target: Target) {
    let (issuer, gate) = setup(target).await;
    let marker = "ZZmarkerZZ";
    let tokens = [
        read_token(&issuer).claim("marker", json!(marker)).mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(format!("{READ} {marker}"))
            .mint(),
        read_token(&issuer).header("kid", json!(marker)).mint(),
        issuer.token().client_id(marker).scope(READ).mint(),
        read_token(&issuer).claim("iss", json!(marker)).mint(),
        format!("{marker}.{marker}.{marker}"),
        format!("{marker} {marker}"),
    ];
    for token in tokens {
        let header = format!("Bearer {token}");
        for path in ["/write", "/read"] {
            let reply = gate.send(path, &[header.as_bytes()]).await;
            if reply.status == 200 {
                continue;
            }
            assert!(
                !reply.contains(marker) && !reply.contains(&token[..20]),
                "{target:?}: echoed\n{}",
                reply.head
            );
        }
    }
}

// ---------------------------------------------------------------------------
// RFC 7515 / RFC 8725
// ---------------------------------------------------------------------------

async fn alg_none_in_any_spelling_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    for alg in ["none", "None", "NONE", "nOnE", "none ", ""] {
        let header = b64(json!({"alg": alg, "kid": issuer.signing_kid()}).to_string());
        for signature in ["", "AAAA"] {
            gate.token(
                &format!("{header}.{payload}.{signature}"),
                Expect::InvalidToken,
                alg,
            )
            .await;
        }
    }
    let header = b64(json!({"kid": issuer.signing_kid()}).to_string());
    gate.token(
        &format!("{header}.{payload}.AAAA"),
        Expect::InvalidToken,
        "no alg",
    )
    .await;
    control(&gate, &issuer).await;
}

async fn empty_or_stripped_signature_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let (header, payload, signature) = segments(&read_token(&issuer).mint());
    gate.token(
        &format!("{header}.{payload}."),
        Expect::InvalidToken,
        "stripped",
    )
    .await;
    gate.token(
        &format!("{header}.{payload}"),
        Expect::InvalidToken,
        "two parts",
    )
    .await;
    let zeros = b64(vec![0u8; unb64(&signature).len()]);
    gate.token(
        &format!("{header}.{payload}.{zeros}"),
        Expect::InvalidToken,
        "zeros",
    )
    .await;
    control(&gate, &issuer).await;
}

async fn hs256_signed_with_the_public_key_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let kid = issuer.signing_kid();
    let jwk = issuer.key(&kid).unwrap().public_jwk().clone();
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    let n = jwk["n"].as_str().unwrap();
    // Every "secret" an attacker could derive from the public key.
    let secrets: Vec<Vec<u8>> = vec![
        jwk.to_string().into_bytes(),
        unb64(n),
        n.as_bytes().to_vec(),
        serde_json::to_vec(&json!({"keys": [jwk]})).unwrap(),
    ];
    for alg in ["HS256", "HS384", "HS512"] {
        let header = b64(json!({"alg": alg, "kid": kid, "typ": "JWT"}).to_string());
        let input = format!("{header}.{payload}");
        let hmac = match alg {
            "HS256" => aws_lc_rs::hmac::HMAC_SHA256,
            "HS384" => aws_lc_rs::hmac::HMAC_SHA384,
            _ => aws_lc_rs::hmac::HMAC_SHA512,
        };
        for secret in &secrets {
            let key = aws_lc_rs::hmac::Key::new(hmac, secret);
            let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            gate.token(
                &format!("{input}.{}", b64(tag.as_ref())),
                Expect::InvalidToken,
                alg,
            )
            .await;
        }
    }
    control(&gate, &issuer).await;
}

async fn alg_names_are_case_sensitive(target: Target) {
    let (issuer, gate) = setup(target).await;
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    let kid = issuer.signing_kid();
    for alg in ["rs256", "Rs256", "RS256 ", " RS256"] {
        // Correctly signed (RS256) under the odd name.
        let token = sign_with(&issuer, &kid, &json!({"alg": alg, "kid": kid}), &payload);
        gate.token(&token, Expect::InvalidToken, alg).await;
    }
    let token = sign_with(
        &issuer,
        &kid,
        &json!({"alg": "RS256", "kid": kid}),
        &payload,
    );
    gate.token(&token, Expect::Accepted, "RS256").await;
}

async fn algorithm_outside_the_allow_list_is_refused(target: Target) {
    let issuer = support::issuer().await;
    let policy = Policy {
        algorithms: Some(vec![Algorithm::RS256]),
        ..Policy::default()
    };
    let kids: Vec<(Algorithm, String)> = [Algorithm::ES256, Algorithm::PS256, Algorithm::EdDSA]
        .into_iter()
        .map(|alg| (alg, issuer.add_key(alg).unwrap()))
        .collect();
    let gate = gate(target, &issuer, policy).await;
    for (alg, kid) in kids {
        let token = read_token(&issuer).signed_with(&kid).mint();
        gate.token(&token, Expect::InvalidToken, alg.as_str()).await;
    }
    gate.token(&read_token(&issuer).mint(), Expect::Accepted, "RS256")
        .await;
}

async fn header_alg_that_does_not_fit_the_key_is_refused(target: Target) {
    let issuer = support::issuer().await;
    let gate = gate(
        target,
        &issuer,
        Policy {
            algorithms: Some(Algorithm::ALL.to_vec()),
            ..Policy::default()
        },
    )
    .await;
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    let kid = issuer.signing_kid();
    // Signed by the RS256 key, claiming another algorithm.
    for alg in ["RS384", "RS512", "PS256", "ES256", "EdDSA"] {
        let token = sign_with(&issuer, &kid, &json!({"alg": alg, "kid": kid}), &payload);
        gate.token(&token, Expect::InvalidToken, alg).await;
    }
    control(&gate, &issuer).await;
}

async fn header_that_is_not_a_json_object_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let kid = issuer.signing_kid();
    let key = issuer.key(&kid).unwrap();
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    for header in [json!(["RS256", kid]), json!(null), json!("RS256"), json!(1)] {
        let input = format!("{}.{payload}", b64(header.to_string()));
        let token = format!("{input}.{}", key.sign(input.as_bytes()).unwrap());
        gate.token(&token, Expect::InvalidToken, &header.to_string())
            .await;
    }
    control(&gate, &issuer).await;
}

async fn duplicate_header_parameters_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let kid = issuer.signing_kid();
    let key = issuer.key(&kid).unwrap();
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    for header in [
        format!(r#"{{"alg":"none","alg":"RS256","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","alg":"HS256","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","kid":"other","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","typ":"JWT","typ":"at+jwt"}}"#),
    ] {
        let input = format!("{}.{payload}", b64(&header));
        let token = format!("{input}.{}", key.sign(input.as_bytes()).unwrap());
        gate.token(&token, Expect::InvalidToken, &header).await;
    }
    control(&gate, &issuer).await;
}

async fn header_json_tricks_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let kid = issuer.signing_kid();
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    let headers: Vec<Vec<u8>> = vec![
        // A repeated name, written with an escape.
        format!(r#"{{"alg":"none","\u0061lg":"RS256","kid":"{kid}"}}"#).into_bytes(),
        format!(r#"{{"alg":"RS256","k\u0069d":"other","kid":"{kid}"}}"#).into_bytes(),
        // Something after the object.
        format!(r#"{{"alg":"RS256","kid":"{kid}"}} x"#).into_bytes(),
        format!(r#"{{"alg":"RS256","kid":"{kid}"}}{{}}"#).into_bytes(),
        // Invalid UTF-8, in a member nobody reads.
        [
            format!(r#"{{"alg":"RS256","kid":"{kid}","x":""#).as_bytes(),
            b"\xff\xfe\"}",
        ]
        .concat(),
        // A UTF-8 byte-order mark before the object.
        [
            b"\xef\xbb\xbf".as_slice(),
            format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#).as_bytes(),
        ]
        .concat(),
        // Known parameters of the wrong type.
        format!(r#"{{"alg":["RS256"],"kid":"{kid}"}}"#).into_bytes(),
        format!(r#"{{"alg":null,"kid":"{kid}"}}"#).into_bytes(),
        format!(r#"{{"alg":1,"kid":"{kid}"}}"#).into_bytes(),
        format!(r#"{{"alg":{{"name":"RS256"}},"kid":"{kid}"}}"#).into_bytes(),
        format!(r#"{{"alg":"RS256","kid":"{kid}","typ":1}}"#).into_bytes(),
    ];
    for header in headers {
        let token = sign_raw(&issuer, &kid, &header, &payload);
        gate.token(
            &token,
            Expect::InvalidToken,
            &String::from_utf8_lossy(&header),
        )
        .await;
    }
    let token = sign_raw(
        &issuer,
        &kid,
        format!(r#"{{ "alg" : "RS256" , "kid" : "{kid}" }}"#).as_bytes(),
        &payload,
    );
    gate.token(&token, Expect::Accepted, "whitespace is fine")
        .await;
}

async fn crit_and_unencoded_payload_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    for (name, value) in [
        ("crit", json!(["exp"])),
        ("crit", json!(["http://example.com/ext"])),
        ("crit", json!([])),
        ("crit", json!("b64")),
        ("b64", json!(false)),
        ("b64", json!(true)),
    ] {
        // Correctly signed: still refused, whatever the value.
        let mut builder = read_token(&issuer).header(name, value.clone());
        if name == "crit" {
            builder = builder.header("http://example.com/ext", json!(1));
        }
        gate.token(
            &builder.mint(),
            Expect::InvalidToken,
            &format!("{name} {value}"),
        )
        .await;
    }
    let unencoded = read_token(&issuer)
        .header("b64", json!(false))
        .header("crit", json!(["b64"]))
        .mint();
    gate.token(&unencoded, Expect::InvalidToken, "RFC 7797")
        .await;
    control(&gate, &issuer).await;
}

async fn key_pointing_header_parameters_are_never_followed(target: Target) {
    let (issuer, gate) = setup(target).await;
    // The attacker serves a key set holding their own key.
    let attacker_issuer = support::issuer().await;
    let attacker: Counter = counting_server(attacker_issuer.jwks()).await;
    let url = format!("{}/jwks.json", attacker.api.url);
    let attacker_jwk = attacker_issuer.jwks()["keys"][0].clone();
    let attacker_kid = attacker_issuer.signing_kid();
    for (name, value) in [
        ("jku", json!(url)),
        ("x5u", json!(url)),
        ("jwk", attacker_jwk.clone()),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
        ("x5t", json!("dGh1bWJwcmludA")),
    ] {
        // Signed by the attacker, pointing at the attacker's key.
        let forged = attacker_issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("iss", json!(issuer.url()))
            .header(name, value.clone())
            .mint();
        gate.token(&forged, Expect::InvalidToken, name).await;
        // Signed by the real key, with the parameter added: refused too,
        // except `x5t`, a thumbprint that points at nothing.
        let real = read_token(&issuer).header(name, value).mint();
        let expect = if name == "x5t" {
            Expect::Accepted
        } else {
            Expect::InvalidToken
        };
        gate.token(&real, expect, name).await;
    }
    // The attacker's kid with a jku: refused, and no fetch anywhere.
    let fetches = issuer.jwks_requests();
    let forged = attacker_issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("iss", json!(issuer.url()))
        .header("jku", json!(url))
        .header("kid", json!(attacker_kid))
        .mint();
    gate.token(&forged, Expect::InvalidToken, "jku with the attacker's kid")
        .await;
    assert_eq!(
        attacker.hits(),
        0,
        "{target:?}: the attacker's server was contacted"
    );
    // Inside the cooldown: no fetch at all, not even of the real key set.
    assert_eq!(issuer.jwks_requests(), fetches);
}

async fn kid_missing_or_hostile_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    gate.token(&read_token(&issuer).mint(), Expect::Accepted, "warm")
        .await;
    let fetches = issuer.jwks_requests();
    gate.token(
        &read_token(&issuer).without_header("kid").mint(),
        Expect::InvalidToken,
        "no kid",
    )
    .await;
    for kid in [
        json!(null),
        json!(5),
        json!([issuer.signing_kid()]),
        json!({"kid": issuer.signing_kid()}),
        json!("../../../../etc/passwd"),
        json!("' OR 1=1 --"),
        json!("a\r\nX-Injected: yes"),
        json!("\u{0000}"),
        json!(""),
        json!(format!("{} ", issuer.signing_kid())),
        json!(issuer.signing_kid().to_uppercase()),
        json!("k".repeat(3000)),
    ] {
        let token = read_token(&issuer).header("kid", kid.clone()).mint();
        let what = kid.to_string();
        gate.token(&token, Expect::InvalidToken, &what[..what.len().min(40)])
            .await;
    }
    // A 1 MB kid: over the token cap, and over the HTTP server's header
    // limit too, which may answer 431 first. Either way, nothing passes.
    let huge = read_token(&issuer)
        .header("kid", json!("k".repeat(1024 * 1024)))
        .mint();
    let reply = gate
        .send("/read", &[format!("Bearer {huge}").as_bytes()])
        .await;
    assert!(
        matches!(reply.status, 401 | 431),
        "{target:?}: {}",
        reply.head
    );
    assert_eq!(gate.reached.load(Ordering::SeqCst), 1, "{target:?}");
    // Inside the cooldown: no refetch, whatever the kids.
    assert_eq!(issuer.jwks_requests(), fetches, "{target:?}");
}

async fn malformed_compact_serialization_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    // A token whose header and payload lengths are not multiples of 4, so
    // that padding changes them.
    let good = (0..4)
        .map(|n| {
            read_token(&issuer)
                .header("pad", json!("x".repeat(n)))
                .claim("pad", json!("y".repeat(n)))
                .mint()
        })
        .find(|t| {
            let (h, p, _) = segments(t);
            h.len() % 4 != 0 && p.len() % 4 != 0
        })
        .unwrap();
    gate.token(&good, Expect::Accepted, "control").await;
    let (h, p, s) = segments(&good);
    let pad = |seg: &str| format!("{seg}{}", "=".repeat((4 - seg.len() % 4) % 4));
    let standard = |seg: &str| base64::engine::general_purpose::STANDARD_NO_PAD.encode(unb64(seg));
    let mut cases = vec![
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{h}.{p}.{s}"),
        format!("{}.{p}.{s}", pad(&h)),
        format!("{h}.{}.{s}", pad(&p)),
        format!("{h}.{p}.{}", pad(&s)),
        format!(".{p}.{s}"),
        format!("{h}.{p}.."),
        format!("{h}..{s}"),
        format!("{h}.{}.{s}", b64("not json")),
        format!("{h}.{}.{s}", b64("[]")),
        format!("{}.{p}.{s}", b64("{\"alg\":\"RS256\"")),
        "a.b.c".to_string(),
        "...".to_string(),
        "e30.e30.e30".to_string(),
    ];
    // Standard base64 (`+`, `/`) for the signature, which almost always
    // has a `-` or `_` to change.
    if standard(&s) != s {
        cases.push(format!("{h}.{p}.{}", standard(&s)));
    }
    for token in cases {
        assert_ne!(token, good);
        gate.token(&token, Expect::InvalidToken, &token[..token.len().min(40)])
            .await;
    }
    // Non-canonical base64url: the last character with unused bits set.
    let last = s.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    if s.len() % 4 != 0 {
        let sibling = alphabet.chars().nth(index ^ 1).unwrap();
        let token = format!("{h}.{p}.{}{sibling}", &s[..s.len() - 1]);
        gate.token(&token, Expect::InvalidToken, "non-canonical base64url")
            .await;
    }
    // The JWS JSON serialization, as a b64token.
    let json = json!({"payload": p, "signatures": [{"protected": h, "signature": s}]});
    gate.token(
        &b64(json.to_string()),
        Expect::InvalidToken,
        "JSON serialization",
    )
    .await;
}

async fn encrypted_tokens_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let header =
        b64(json!({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": issuer.signing_kid()}).to_string());
    gate.token(
        &format!(
            "{header}.{}.{}.{}.{}",
            b64([1; 40]),
            b64([2; 12]),
            b64([3; 30]),
            b64([4; 16])
        ),
        Expect::InvalidToken,
        "five-part JWE",
    )
    .await;
    for (name, value) in [("enc", json!("A256GCM")), ("zip", json!("DEF"))] {
        let token = read_token(&issuer).header(name, value).mint();
        gate.token(&token, Expect::InvalidToken, name).await;
    }
    control(&gate, &issuer).await;
}

async fn transplanted_or_modified_parts_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let a = read_token(&issuer).mint();
    let b = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ, WRITE])
        .mint();
    let (ah, ap, as_) = segments(&a);
    let (bh, bp, bs) = segments(&b);
    gate.token(
        &format!("{ah}.{ap}.{bs}"),
        Expect::InvalidToken,
        "signature of b",
    )
    .await;
    gate.token(
        &format!("{ah}.{bp}.{as_}"),
        Expect::InvalidToken,
        "payload of b",
    )
    .await;
    gate.token(
        &format!("{bh}.{ap}.{bs}"),
        Expect::InvalidToken,
        "header of b",
    )
    .await;
    // One bit flipped anywhere in the signature.
    let raw = unb64(&as_);
    for index in [0, raw.len() / 2, raw.len() - 1] {
        let mut flipped = raw.clone();
        flipped[index] ^= 1;
        gate.token(
            &format!("{ah}.{ap}.{}", b64(flipped)),
            Expect::InvalidToken,
            "flipped bit",
        )
        .await;
    }
    // The same claims with one scope more, under the old signature.
    let mut claims: Value = serde_json::from_slice(&unb64(&ap)).unwrap();
    claims["scope"] = json!(format!("{READ} {WRITE}"));
    let widened = b64(claims.to_string());
    gate.token(
        &format!("{ah}.{widened}.{as_}"),
        Expect::InvalidToken,
        "widened scope",
    )
    .await;
    gate.token(&a, Expect::Accepted, "control").await;
}

async fn oversized_token_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let big = read_token(&issuer)
        .claim("padding", json!("x".repeat(9000)))
        .mint();
    assert!(big.len() > 8 * 1024);
    // Cold: the layer has fetched nothing yet; the proxy loads the key set
    // once in the background at start, so wait for that load to land.
    if target == Target::Proxy {
        wait_for_fetches(&issuer, 1).await;
    }
    let fetches = issuer.jwks_requests();
    gate.token(&big, Expect::InvalidToken, "9 KiB token").await;
    gate.token(&"a".repeat(64 * 1024), Expect::InvalidToken, "64 KiB of a")
        .await;
    assert_eq!(
        issuer.jwks_requests(),
        fetches,
        "{target:?}: a fetch for an oversized token"
    );
    control(&gate, &issuer).await;
}

async fn signed_empty_payload_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let kid = issuer.signing_kid();
    let token = sign_with(&issuer, &kid, &json!({"alg": "RS256", "kid": kid}), "");
    gate.token(&token, Expect::InvalidToken, "empty payload")
        .await;
    let token = sign_with(
        &issuer,
        &kid,
        &json!({"alg": "RS256", "kid": kid}),
        &b64("{}"),
    );
    gate.token(&token, Expect::InvalidToken, "empty claims")
        .await;
    control(&gate, &issuer).await;
}

async fn nested_jwt_is_not_unwrapped(target: Target) {
    let (issuer, gate) = setup(target).await;
    let inner = read_token(&issuer).mint();
    let kid = issuer.signing_kid();
    let outer = sign_with(
        &issuer,
        &kid,
        &json!({"alg": "RS256", "kid": kid, "cty": "JWT"}),
        &b64(&inner),
    );
    gate.token(&outer, Expect::InvalidToken, "nested JWT").await;
    control(&gate, &issuer).await;
}

async fn claims_that_are_not_one_utf8_json_object_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let claims = serde_json::to_vec(&read_token(&issuer).claims()).unwrap();
    let with = |tail: &[u8]| [claims.as_slice(), tail].concat();
    let mut invalid_utf8 = claims.clone();
    let at = invalid_utf8.len() - 1;
    invalid_utf8.splice(at..at, br#","x":"#.iter().copied().chain(*b"\"\xff\xfe\""));
    let payloads: Vec<Vec<u8>> = vec![
        with(b" x"),
        with(b"{}"),
        with(b"\x00"),
        [b"\xef\xbb\xbf".as_slice(), &claims].concat(),
        invalid_utf8,
        claims[..claims.len() - 1].to_vec(),
    ];
    for payload in payloads {
        let token = issuer.token().mint_payload(&payload);
        gate.token(
            &token,
            Expect::InvalidToken,
            &String::from_utf8_lossy(&payload[payload.len() - 4..]),
        )
        .await;
    }
    gate.token(
        &issuer.token().mint_payload(&claims),
        Expect::Accepted,
        "control",
    )
    .await;
}

// ---------------------------------------------------------------------------
// RFC 7518 §3.4, RFC 8037
// ---------------------------------------------------------------------------

async fn ecdsa_der_zero_and_wrong_length_signatures_are_refused(target: Target) {
    let issuer = support::issuer().await;
    let p256 = issuer.add_key(Algorithm::ES256).unwrap();
    let p384 = issuer.add_key(Algorithm::ES384).unwrap();
    let gate = gate(target, &issuer, Policy::default()).await;
    // The group orders n: (r, s) = (n, n) and r = s = 0 are never valid.
    let curves = [
        (
            Algorithm::ES256,
            p256,
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        ),
        (
            Algorithm::ES384,
            p384,
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
        ),
    ];
    for (alg, kid, order) in curves {
        let good = read_token(&issuer).signed_with(&kid).mint();
        assert_eq!(header_alg(&good), alg.as_str());
        gate.token(&good, Expect::Accepted, "control").await;
        let (header, payload, signature) = segments(&good);
        let raw = unb64(&signature);
        let width = raw.len() / 2;
        assert_eq!(width, if alg == Algorithm::ES256 { 32 } else { 48 });
        let der = {
            fn integer(v: &[u8]) -> Vec<u8> {
                let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
                let pad = v.first().is_some_and(|b| b & 0x80 != 0);
                let mut out = vec![0x02, (v.len() + usize::from(pad)) as u8];
                if pad {
                    out.push(0);
                }
                out.extend(v);
                out
            }
            let mut body = integer(&raw[..width]);
            body.extend(integer(&raw[width..]));
            [vec![0x30, body.len() as u8], body].concat()
        };
        let order = hex_bytes(order);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("DER", der),
            ("r = s = 0", vec![0; 2 * width]),
            ("r = s = n", [order.clone(), order].concat()),
            ("one byte short", raw[..raw.len() - 1].to_vec()),
            ("one byte long", [raw.clone(), vec![0]].concat()),
            (
                "the other curve's length",
                [raw.clone(), vec![0; 32]].concat(),
            ),
            (
                "r and s swapped",
                [raw[width..].to_vec(), raw[..width].to_vec()].concat(),
            ),
        ];
        for (what, signature) in cases {
            gate.token(
                &format!("{header}.{payload}.{}", b64(signature)),
                Expect::InvalidToken,
                &format!("{alg} {what}"),
            )
            .await;
        }
        // The same key claimed for the other curve's algorithm.
        let other = if alg == Algorithm::ES256 {
            "ES384"
        } else {
            "ES256"
        };
        let token = sign_with(&issuer, &kid, &json!({"alg": other, "kid": kid}), &payload);
        gate.token(
            &token,
            Expect::InvalidToken,
            &format!("{alg} key as {other}"),
        )
        .await;
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

async fn eddsa_needs_an_ed25519_key(target: Target) {
    let issuer = support::issuer().await;
    let kid = issuer.add_key(Algorithm::EdDSA).unwrap();
    let jwk = issuer.key(&kid).unwrap().public_jwk().clone();
    for (copy, crv) in [
        ("x25519", "X25519"),
        ("ed448", "Ed448"),
        ("ed-copy", "Ed25519"),
    ] {
        let mut other = jwk.clone();
        other["kid"] = json!(copy);
        other["crv"] = json!(crv);
        issuer.publish_raw_jwk(other);
    }
    let gate = gate(target, &issuer, Policy::default()).await;
    for (copy, expect) in [
        ("x25519", Expect::InvalidToken),
        ("ed448", Expect::InvalidToken),
        ("ed-copy", Expect::Accepted),
    ] {
        let token = read_token(&issuer)
            .signed_with(&kid)
            .header("kid", json!(copy))
            .mint();
        gate.token(&token, expect, copy).await;
    }
}

async fn every_supported_algorithm_is_accepted(target: Target) {
    let issuer = support::issuer().await;
    let kids: Vec<(Algorithm, String)> = Algorithm::ALL
        .into_iter()
        .map(|alg| (alg, issuer.add_key(alg).unwrap()))
        .collect();
    let gate = gate(
        target,
        &issuer,
        Policy {
            algorithms: Some(Algorithm::ALL.to_vec()),
            ..Policy::default()
        },
    )
    .await;
    for (alg, kid) in kids {
        let token = read_token(&issuer).signed_with(&kid).mint();
        assert_eq!(header_alg(&token), alg.as_str());
        gate.token(&token, Expect::Accepted, alg.as_str()).await;
    }
    assert_eq!(issuer.jwks_requests(), 1);
}

// ---------------------------------------------------------------------------
// RFC 7517: the key set
// ---------------------------------------------------------------------------

/// Publishes copies of the signing key under `kid`s with `changes`, and a
/// clean copy, then checks each: refused, and the clean copy accepted.
async fn published_copies(target: Target, bad: &[(&str, Value)]) {
    let issuer = support::issuer().await;
    for (kid, changes) in bad {
        issuer.publish_raw_jwk(jwk_copy(&issuer, kid, changes.clone()));
    }
    issuer.publish_raw_jwk(jwk_copy(&issuer, "clean-copy", json!({})));
    let gate = gate(target, &issuer, Policy::default()).await;
    for (kid, changes) in bad {
        let token = read_token(&issuer).header("kid", json!(kid)).mint();
        gate.token(&token, Expect::InvalidToken, &changes.to_string())
            .await;
    }
    let token = read_token(&issuer)
        .header("kid", json!("clean-copy"))
        .mint();
    gate.token(&token, Expect::Accepted, "clean copy").await;
}

async fn keys_not_for_signatures_are_never_used(target: Target) {
    published_copies(
        target,
        &[
            ("use-enc", json!({"use": "enc"})),
            ("use-other", json!({"use": "other"})),
            ("ops-encrypt", json!({"key_ops": ["encrypt"]})),
            ("ops-sign", json!({"key_ops": ["sign"]})),
            ("ops-wrap", json!({"key_ops": ["verify", "wrapKey"]})),
            ("ops-twice", json!({"key_ops": ["verify", "verify"]})),
            ("use-enc-ops", json!({"use": "enc", "key_ops": ["verify"]})),
        ],
    )
    .await;
}

async fn symmetric_keys_in_the_set_are_never_used(target: Target) {
    let issuer = support::issuer().await;
    let secret = b"a shared secret the key set gave away";
    let kid = issuer.signing_kid();
    // One under its own kid, one under the RSA signing key's kid.
    for oct_kid in ["hmac", kid.as_str()] {
        issuer.publish_raw_jwk(
            json!({"kty": "oct", "kid": oct_kid, "alg": "HS256", "k": b64(secret)}),
        );
    }
    let gate = gate(target, &issuer, Policy::default()).await;
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    for oct_kid in ["hmac", kid.as_str()] {
        let input = format!(
            "{}.{payload}",
            b64(json!({"alg": "HS256", "kid": oct_kid}).to_string())
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        gate.token(
            &format!("{input}.{}", b64(tag.as_ref())),
            Expect::InvalidToken,
            oct_kid,
        )
        .await;
    }
    // The oct keys were dropped when the set was read, and did not make the
    // RSA key's kid ambiguous.
    control(&gate, &issuer).await;
    if let Some(verifier) = &gate.verifier {
        assert_eq!(verifier.key_ids(), vec![kid]);
    }
}

async fn keys_with_private_material_are_never_used(target: Target) {
    published_copies(
        target,
        &[
            ("with-d", json!({"d": "AQAB"})),
            ("with-p", json!({"p": "AQAB"})),
            ("with-null-d", json!({"d": null})),
        ],
    )
    .await;
}

async fn weak_or_malformed_rsa_keys_are_never_used(target: Target) {
    let issuer = support::issuer().await;
    let jwk = issuer
        .key(&issuer.signing_kid())
        .unwrap()
        .public_jwk()
        .clone();
    let n = unb64(jwk["n"].as_str().unwrap());
    // The same modulus written with a leading zero, the same exponent with
    // one: the same key, if it were read leniently (RFC 7518 §6.3.1).
    let copies = [
        (
            "n-leading-zero",
            json!({"n": b64([[0].as_slice(), &n].concat())}),
        ),
        ("e-leading-zero", json!({"e": "AAEAAQ"})),
        ("e-2", json!({"e": "Ag"})),
        ("e-even", json!({"e": "AQAA"})),
        ("e-huge", json!({"e": b64([1u8; 9])})),
        ("e-1", json!({"e": "AQ"})),
    ];
    for (kid, changes) in &copies {
        issuer.publish_raw_jwk(jwk_copy(&issuer, kid, changes.clone()));
    }
    let gate = gate(target, &issuer, Policy::default()).await;
    for (kid, changes) in &copies {
        let token = read_token(&issuer).header("kid", json!(kid)).mint();
        gate.token(&token, Expect::InvalidToken, &changes.to_string())
            .await;
    }
    // With e = 1 the PKCS#1 v1.5 encoding of the hash is itself a valid
    // "signature" of any message.
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    let input = format!(
        "{}.{payload}",
        b64(json!({"alg": "RS256", "kid": "e-1"}).to_string())
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    let digest_info = hex_bytes("3031300d060960864801650304020105000420");
    let mut encoded = vec![0x00, 0x01];
    encoded.resize(n.len() - digest_info.len() - 32 - 1, 0xff);
    encoded.push(0x00);
    encoded.extend(digest_info);
    encoded.extend(digest.as_ref());
    assert_eq!(encoded.len(), n.len());
    gate.token(
        &format!("{input}.{}", b64(encoded)),
        Expect::InvalidToken,
        "e = 1 forgery",
    )
    .await;
    control(&gate, &issuer).await;
}

async fn small_order_ed25519_keys_are_never_used(target: Target) {
    let issuer = support::issuer().await;
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut identity_signed = identity;
    identity_signed[31] |= 0x80;
    for (kid, x) in [
        ("identity", identity),
        ("identity-sign-bit", identity_signed),
    ] {
        issuer.publish_raw_jwk(
            json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": kid, "x": b64(x)}),
        );
    }
    let ed = issuer.add_key(Algorithm::EdDSA).unwrap();
    let gate = gate(target, &issuer, Policy::default()).await;
    let (_, payload, _) = segments(&read_token(&issuer).mint());
    // R = identity, S = 0: under the identity key, valid for any message.
    let mut forged = [0u8; 64];
    forged[0] = 1;
    for kid in ["identity", "identity-sign-bit"] {
        let input = format!(
            "{}.{payload}",
            b64(json!({"alg": "EdDSA", "kid": kid}).to_string())
        );
        // The forgery is real: the crypto library alone accepts it.
        let raw_key =
            aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, identity);
        assert!(
            raw_key.verify(input.as_bytes(), &forged).is_ok(),
            "this forgery no longer verifies under aws-lc; pick one that does"
        );
        gate.token(
            &format!("{input}.{}", b64(forged)),
            Expect::InvalidToken,
            kid,
        )
        .await;
    }
    let token = read_token(&issuer).signed_with(&ed).mint();
    gate.token(&token, Expect::Accepted, "a real Ed25519 key")
        .await;
}

async fn ambiguous_kid_in_the_set_is_refused(target: Target) {
    let issuer = support::issuer().await;
    let other = issuer.add_key(Algorithm::RS256).unwrap();
    // A second key under the signing key's kid, for the same algorithm.
    let mut twin = issuer.key(&other).unwrap().public_jwk().clone();
    twin["kid"] = json!(issuer.signing_kid());
    issuer.publish_raw_jwk(twin);
    let gate = gate(target, &issuer, Policy::default()).await;
    gate.token(
        &read_token(&issuer).mint(),
        Expect::InvalidToken,
        "ambiguous kid",
    )
    .await;
    let token = read_token(&issuer).signed_with(&other).mint();
    gate.token(&token, Expect::Accepted, "the other key's own kid")
        .await;
}

async fn key_without_alg_serves_one_algorithm(target: Target) {
    let issuer = support::issuer().await;
    let ps_kid = issuer.add_key(Algorithm::PS256).unwrap();
    let mut jwk = issuer.key(&ps_kid).unwrap().public_jwk().clone();
    jwk.as_object_mut().unwrap().remove("alg");
    jwk["kid"] = json!("no-alg");
    issuer.publish_raw_jwk(jwk);
    let gate = gate(
        target,
        &issuer,
        Policy {
            algorithms: Some(vec![Algorithm::RS256, Algorithm::PS256]),
            ..Policy::default()
        },
    )
    .await;
    // The RSA key without `alg` serves RS256 only, the first allowed RSA
    // algorithm: its PS256 signatures are refused under that kid.
    let token = read_token(&issuer)
        .signed_with(&ps_kid)
        .header("kid", json!("no-alg"))
        .mint();
    gate.token(
        &token,
        Expect::InvalidToken,
        "PS256 under a kid without alg",
    )
    .await;
    let token = read_token(&issuer).signed_with(&ps_kid).mint();
    gate.token(&token, Expect::Accepted, "PS256 under its own kid")
        .await;
}

// ---------------------------------------------------------------------------
// RFC 7519, RFC 9068, Cognito: claims
// ---------------------------------------------------------------------------

async fn exp_missing_mistyped_or_past_is_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let tokens = [
        read_token(&issuer).without_claim("exp").mint(),
        read_token(&issuer).claim("exp", json!("4102444800")).mint(),
        read_token(&issuer).claim("exp", json!(-1)).mint(),
        read_token(&issuer).claim("exp", json!(1e300)).mint(),
        read_token(&issuer).claim("exp", json!(u64::MAX)).mint(),
        read_token(&issuer).claim("exp", json!(null)).mint(),
        read_token(&issuer).claim("exp", json!(true)).mint(),
        read_token(&issuer)
            .claim("exp", json!([now() + 600]))
            .mint(),
        read_token(&issuer).claim("exp", json!(now() - 1)).mint(),
        read_token(&issuer)
            .issued_at(hour_ago)
            .expires_in(Duration::from_secs(60))
            .mint(),
    ];
    for token in tokens {
        gate.token(&token, Expect::InvalidToken, "exp").await;
    }
    gate.token(
        &read_token(&issuer).claim("exp", json!(now() + 600)).mint(),
        Expect::Accepted,
        "control",
    )
    .await;
}

async fn nbf_in_the_future_is_refused(target: Target) {
    let issuer = support::issuer().await;
    let lenient = gate(
        target,
        &issuer,
        Policy {
            leeway: Duration::from_secs(120),
            ..Policy::default()
        },
    )
    .await;
    let strict = gate(target, &issuer, Policy::default()).await;
    let soon = read_token(&issuer).claim("nbf", json!(now() + 60)).mint();
    strict
        .token(&soon, Expect::InvalidToken, "nbf in 60 s")
        .await;
    lenient
        .token(&soon, Expect::Accepted, "nbf in 60 s, leeway 120 s")
        .await;
    let later = read_token(&issuer).claim("nbf", json!(now() + 600)).mint();
    lenient
        .token(&later, Expect::InvalidToken, "nbf in 10 min")
        .await;
    for nbf in [json!("0"), json!(null), json!([0])] {
        let token = read_token(&issuer).claim("nbf", nbf.clone()).mint();
        strict
            .token(&token, Expect::InvalidToken, &nbf.to_string())
            .await;
    }
}

async fn issuer_must_match_exactly(target: Target) {
    let (issuer, gate) = setup(target).await;
    let url = issuer.url();
    for iss in [
        json!(format!("{url}/")),
        json!(url.replace(issuer.pool_id(), "us-east-1_Other")),
        json!(url.to_uppercase()),
        json!(url.replace("http://", "https://")),
        json!(format!(" {url}")),
        json!([url.clone()]),
        json!(null),
        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Local"),
    ] {
        let token = read_token(&issuer).claim("iss", iss.clone()).mint();
        gate.token(&token, Expect::InvalidToken, &iss.to_string())
            .await;
    }
    gate.token(
        &read_token(&issuer).without_claim("iss").mint(),
        Expect::InvalidToken,
        "no iss",
    )
    .await;
    control(&gate, &issuer).await;
}

async fn id_tokens_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    for token_use in [
        json!("id"),
        json!("ID"),
        json!("access "),
        json!(["access"]),
        json!(null),
    ] {
        let token = read_token(&issuer)
            .claim("token_use", token_use.clone())
            .mint();
        gate.token(&token, Expect::InvalidToken, &token_use.to_string())
            .await;
    }
    gate.token(
        &read_token(&issuer).without_claim("token_use").mint(),
        Expect::InvalidToken,
        "no token_use",
    )
    .await;
    control(&gate, &issuer).await;
}

async fn other_clients_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let tokens = [
        issuer.token().client_id("someone-else").scope(READ).mint(),
        issuer
            .token()
            .client_id(CLIENT.to_uppercase())
            .scope(READ)
            .mint(),
        read_token(&issuer).without_claim("client_id").mint(),
        read_token(&issuer)
            .claim("client_id", json!([CLIENT]))
            .mint(),
        read_token(&issuer).claim("client_id", json!(null)).mint(),
    ];
    for token in tokens {
        gate.token(&token, Expect::InvalidToken, "client_id").await;
    }
    control(&gate, &issuer).await;
}

async fn claims_of_the_wrong_type_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    for (name, value) in [
        ("scope", json!([READ])),
        ("scope", json!(null)),
        ("sub", json!(42)),
        ("iat", json!("now")),
        ("auth_time", json!({})),
        ("jti", json!(1)),
        ("aud", json!(7)),
        ("aud", json!([7])),
        ("username", json!(false)),
    ] {
        let token = read_token(&issuer).claim(name, value.clone()).mint();
        gate.token(&token, Expect::InvalidToken, &format!("{name}: {value}"))
            .await;
    }
    control(&gate, &issuer).await;
}

async fn repeated_claim_names_are_refused(target: Target) {
    let (issuer, gate) = setup(target).await;
    let claims =
        serde_json::to_string(&issuer.token().client_id(CLIENT).scope(WRITE).claims()).unwrap();
    let body = claims.trim_end_matches('}');
    for extra in [
        format!(r#","scope":"{READ}""#),
        r#","client_id":"someone-else""#.to_string(),
        format!(r#","exp":{}"#, now() + 86_400),
        r#","iss":"https://attacker.example""#.to_string(),
    ] {
        let payload = format!("{body}{extra}}}");
        let token = issuer.token().mint_payload(payload.as_bytes());
        gate.token(&token, Expect::InvalidToken, &extra).await;
    }
    control(&gate, &issuer).await;
}

async fn rfc9068_profile_is_enforced(target: Target) {
    let issuer = support::issuer().await;
    let gate = gate(
        target,
        &issuer,
        Policy {
            audiences: Some(vec!["https://photos.example.com"]),
            require_at_jwt: true,
            ..Policy::default()
        },
    )
    .await;
    let good = || {
        read_token(&issuer)
            .claim("aud", json!(["x", "https://photos.example.com"]))
            .header("typ", json!("at+jwt"))
    };
    gate.token(&good().mint(), Expect::Accepted, "at+jwt").await;
    gate.token(
        &good().header("typ", json!("application/at+jwt")).mint(),
        Expect::Accepted,
        "application/at+jwt",
    )
    .await;
    let refused = [
        ("typ JWT", good().header("typ", json!("JWT")).mint()),
        ("no typ", good().without_header("typ").mint()),
        ("typ at+jwt ", good().header("typ", json!("at+jwt ")).mint()),
        ("other aud", good().claim("aud", json!("other")).mint()),
        (
            "aud with a trailing slash",
            good()
                .claim("aud", json!("https://photos.example.com/"))
                .mint(),
        ),
        ("no aud", good().without_claim("aud").mint()),
        ("no jti", good().without_claim("jti").mint()),
        ("no sub", good().without_claim("sub").mint()),
        ("no iat", good().without_claim("iat").mint()),
        ("no client_id", good().without_claim("client_id").mint()),
    ];
    for (what, token) in refused {
        gate.token(&token, Expect::InvalidToken, what).await;
    }
}

// ---------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------

async fn scopes_match_exactly(target: Target) {
    let (issuer, gate) = setup(target).await;
    let refused = [
        "https://photos.example.com/photos.readwrite",
        "https://photos.example.com/photos.rea",
        "https://photos.example.com/Photos.read",
        "https://PHOTOS.example.com/photos.read",
        "https://photos.example.com//photos.read",
        "https://photos.example.com/photos.read/",
        "photos.read",
        "https://photos.example.com/photos.read,openid",
        "openid\thttps://photos.example.com/photos.read",
        "https://photos.example.com/photos.read\u{0}",
        "https://photos.example.com/*",
        "*",
        "",
    ];
    for scope in refused {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .claim("scope", json!(scope))
            .mint();
        gate.token(&token, Expect::InsufficientScope(READ), scope)
            .await;
    }
    for scope in [
        "openid https://photos.example.com/photos.read profile",
        "https://photos.example.com/photos.read",
        "  https://photos.example.com/photos.read  ",
    ] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .claim("scope", json!(scope))
            .mint();
        gate.token(&token, Expect::Accepted, scope).await;
    }
}

async fn scope_of_another_resource_server_is_403(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = issuer
        .token()
        .client_id(CLIENT)
        .scope("https://other.example.com/photos.read")
        .mint();
    gate.token(&token, Expect::InsufficientScope(READ), "other identifier")
        .await;
}

// ---------------------------------------------------------------------------
// The key-set endpoint
// ---------------------------------------------------------------------------

async fn unknown_kid_flood_makes_no_extra_fetch(target: Target) {
    let (issuer, gate) = setup(target).await;
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
    // The first fetch was just now: the cooldown (30 s) allows none.
    assert_eq!(issuer.jwks_requests(), fetches, "{target:?}");
    assert_eq!(gate.reached.load(Ordering::SeqCst), 1);
}

async fn cold_cache_under_concurrency_makes_one_fetch(target: Target) {
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

async fn key_set_down_at_a_cold_start_is_503(target: Target) {
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

async fn known_keys_keep_working_while_the_key_set_is_down(target: Target) {
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

async fn slow_or_endless_key_set_fails_fast_and_closed(target: Target) {
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

async fn key_set_redirect_is_not_followed(target: Target) {
    let issuer = support::issuer().await;
    let elsewhere = counting_server(issuer.jwks()).await;
    issuer.set_fault(Fault::Redirect(format!("{}/jwks.json", elsewhere.api.url)));
    let gate = gate(target, &issuer, Policy::default()).await;
    gate.token(&read_token(&issuer).mint(), Expect::Unavailable, "redirect")
        .await;
    assert_eq!(elsewhere.hits(), 0, "{target:?}: the redirect was followed");
}

async fn key_rotation_is_followed(target: Target) {
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
