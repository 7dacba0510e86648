//! Wycheproof conformance (C2SP/wycheproof, Apache-2.0): every JWS and JWK
//! vector that applies to a verifier, and the raw ECDSA P-256/P-384
//! (IEEE P1363), Ed25519, RSA PKCS#1 v1.5 and RSA-PSS signature vectors,
//! through scopegate's key ingestion and verification.
//!
//! The vectors are not copied into the project: they are read from
//! `../shared/testdata/wycheproof` (or `$WYCHEPROOF_DIR`). These tests are
//! ignored by a plain `cargo test` and run by `.ci/run`
//! (`cargo test --features axum,issuer,proxy,cli,internals --test wycheproof
//! -- --ignored`), where a missing folder is a
//! failure, never a skip.
//!
//! Policy: a vector expected *invalid* must be refused. A vector expected
//! *valid* must be accepted, with two kinds of exception, each checked:
//!
//! - vectors that need a symmetric (HMAC, `oct`) key: scopegate never uses
//!   one (RFC 8725 §3.2 and the project's rules), so they are refused and
//!   counted as "not applicable";
//! - the four RFC 7520 vectors listed in [`STRICTER`], whose key declares an
//!   `alg` other than the token's. scopegate binds a key to its `alg`
//!   (RFC 7517 §4.4), as Wycheproof's own `WrongPrimitive` vectors require;
//!   the test shows that each is refused for that reason alone.

#![allow(clippy::unwrap_used, clippy::panic)] // tests state their expectations

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate::__internals::KeySet;
use scopegate::Algorithm;
use serde_json::{Value, json};

fn dir() -> PathBuf {
    let dir = std::env::var_os("WYCHEPROOF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/wycheproof")
        });
    assert!(
        dir.join("json_web_signature_test.json").is_file(),
        "the Wycheproof vectors are not at {} (set WYCHEPROOF_DIR): these tests must run, not skip",
        dir.display()
    );
    dir
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[derive(Default, Debug)]
struct Tally {
    passed: usize,
    not_applicable: usize,
    stricter: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn finish(self, what: &str) {
        println!(
            "{what}: {} passed, {} not applicable (symmetric keys), {} refused by the alg binding, {} failed",
            self.passed,
            self.not_applicable,
            self.stricter.len(),
            self.failures.len()
        );
        for line in &self.stricter {
            println!("  stricter: {line}");
        }
        assert!(
            self.failures.is_empty(),
            "{what}:\n{}",
            self.failures.join("\n")
        );
        assert!(self.passed > 0, "{what}: no vector ran");
    }
}

/// The `alg` of a compact JWS header, if readable.
fn header_alg(jws: &str) -> Option<String> {
    let header = jws.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value["alg"].as_str().map(str::to_string)
}

/// A JWK or a JWK Set, as a JWK Set document.
fn as_key_set(keys: &Value) -> Vec<u8> {
    let doc = if keys.get("keys").is_some() {
        keys.clone()
    } else {
        json!({ "keys": [keys] })
    };
    serde_json::to_vec(&doc).unwrap()
}

/// Valid vectors that scopegate refuses on purpose: RFC 7520's examples,
/// to which Wycheproof added an `alg` to the key that is not the token's.
const STRICTER: [(u64, &str); 4] = [
    (
        346,
        "Figure 20: a PS384 token, but the key says `alg: PS256`",
    ),
    (
        350,
        "Figure 20: a PS384 token, but the key says `alg: PS256`",
    ),
    (
        347,
        "Figure 27: an ES512 token, but the key says `alg: ES521`, no algorithm",
    ),
    (
        351,
        "Figure 27: an ES512 token, but the key says `alg: ES521`, no algorithm",
    ),
];

/// Whether any key of a JWK or JWK Set is symmetric.
fn symmetric(keys: &Value) -> bool {
    let list = keys
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| vec![keys.clone()]);
    list.iter().any(|key| key["kty"] == "oct")
}

/// For a [`STRICTER`] vector: the key with its `alg` set to the token's
/// verifies the token when the algorithm is one scopegate supports (ES512
/// is not), so the refusal comes from the `alg` binding alone.
fn check_stricter(keys: &Value, jws: &str) {
    let alg = header_alg(jws).unwrap();
    let mut key = keys.clone();
    key["alg"] = json!(alg);
    let key_set = KeySet::parse(&as_key_set(&key)).unwrap();
    if alg.parse::<Algorithm>().is_ok() {
        assert!(
            key_set.verify_jws(jws).is_ok(),
            "with `alg: {alg}` on the key, the token must verify"
        );
    } else {
        assert!(
            key_set.is_empty(),
            "{alg} is not supported: the key must be dropped"
        );
    }
}

/// JWS vectors: the group's public keys (else the private ones, which
/// scopegate drops) against each token.
fn run_jws_file(name: &str) {
    let file = load(name);
    let mut tally = Tally::default();
    for group in file["testGroups"].as_array().unwrap() {
        let keys = group
            .get("public")
            .or_else(|| group.get("private"))
            .unwrap();
        let key_set = KeySet::parse(&as_key_set(keys));
        for test in group["tests"].as_array().unwrap() {
            let id = &test["tcId"];
            let jws = test["jws"].as_str().unwrap_or("");
            let expected = test["result"].as_str().unwrap();
            let accepted = key_set.as_ref().is_some_and(|k| k.verify_jws(jws).is_ok());
            let stricter = STRICTER.iter().find(|(tc, _)| id.as_u64() == Some(*tc));
            match (expected, accepted) {
                // Without a usable key nothing is tested: not applicable.
                (_, false) if symmetric(keys) => tally.not_applicable += 1,
                ("invalid", false) | ("valid", true) => tally.passed += 1,
                ("valid", false) if stricter.is_some() => {
                    check_stricter(keys, jws);
                    tally
                        .stricter
                        .push(format!("tcId {id}: {}", stricter.unwrap().1));
                }
                ("acceptable", _) => tally.passed += 1,
                _ => tally.failures.push(format!(
                    "tcId {id} ({}): expected {expected}, scopegate {}",
                    test["comment"],
                    if accepted { "accepted" } else { "refused" }
                )),
            }
        }
    }
    tally.finish(name);
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn json_web_signature_vectors() {
    run_jws_file("json_web_signature_test.json");
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn json_web_key_vectors() {
    run_jws_file("json_web_key_test.json");
}

/// The JWK of an EC public key given as hex coordinates (the groups whose
/// coordinates have leading zeros carry no `publicKeyJwk`).
fn ec_jwk(key: &Value) -> Value {
    let (crv, width) = match key["curve"].as_str().unwrap() {
        "secp256r1" => ("P-256", 32),
        "secp384r1" => ("P-384", 48),
        other => panic!("unexpected curve {other}"),
    };
    let coordinate = |name: &str| {
        let bytes = hex(key[name].as_str().unwrap());
        let significant: Vec<u8> = bytes.into_iter().skip_while(|b| *b == 0).collect();
        assert!(significant.len() <= width, "{name} is wider than the curve");
        let mut fixed = vec![0; width - significant.len()];
        fixed.extend(significant);
        URL_SAFE_NO_PAD.encode(fixed)
    };
    json!({ "kty": "EC", "crv": crv, "x": coordinate("wx"), "y": coordinate("wy") })
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Raw signature vectors, with the group's `publicKeyJwk` (or `keyJwk`)
/// read through scopegate's key ingestion under `alg`.
fn run_signature_file(name: &str, alg: Algorithm) {
    let file = load(name);
    let mut tally = Tally::default();
    for group in file["testGroups"].as_array().unwrap() {
        let mut jwk = group
            .get("publicKeyJwk")
            .or_else(|| group.get("keyJwk"))
            .cloned()
            .unwrap_or_else(|| ec_jwk(&group["publicKey"]));
        let object = jwk.as_object_mut().unwrap();
        // The signature-only view of the key: what a JWKS would publish.
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            object.remove(private);
        }
        object.insert("kid".into(), json!("k"));
        object.insert("alg".into(), json!(alg.as_str()));
        let key_set = KeySet::parse(&as_key_set(&jwk)).unwrap();
        for test in group["tests"].as_array().unwrap() {
            let expected = test["result"].as_str().unwrap();
            let verified = key_set
                .verify(
                    "k",
                    alg,
                    &hex(test["msg"].as_str().unwrap()),
                    &hex(test["sig"].as_str().unwrap()),
                )
                .unwrap_or(false);
            match (expected, verified) {
                ("valid", true) | ("invalid", false) | ("acceptable", _) => tally.passed += 1,
                _ => tally.failures.push(format!(
                    "tcId {} ({}): expected {expected}, scopegate {}",
                    test["tcId"],
                    test["comment"],
                    if verified { "accepted" } else { "refused" }
                )),
            }
        }
    }
    tally.finish(name);
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn ecdsa_p256_p1363_vectors() {
    run_signature_file("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256);
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn ecdsa_p384_p1363_vectors() {
    run_signature_file("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384);
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn ed25519_vectors() {
    run_signature_file("ed25519_test.json", Algorithm::EdDSA);
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn rsa_pkcs1_2048_sha256_vectors() {
    run_signature_file("rsa_signature_2048_sha256_test.json", Algorithm::RS256);
}

#[test]
#[ignore = "needs ../shared/testdata/wycheproof; run by .ci/run"]
fn rsa_pss_2048_sha256_vectors() {
    run_signature_file("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::PS256);
}
