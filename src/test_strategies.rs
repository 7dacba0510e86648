//! Shared proptest strategies and fixtures for the property tests that live
//! in each parser's `mod tests` (bearer, jws, jwk, scope), and small
//! fixtures the unit tests share.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::jwk::KeySet;

const B64TOKEN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";

/// A header map of `(name, value)` pairs, repeated names appended.
pub(crate) fn header_map(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, http::HeaderValue::from_static(value));
    }
    map
}

pub(crate) fn all_algorithms() -> AlgorithmSet {
    Algorithm::ALL.into_iter().collect()
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="`.
pub(crate) fn b64token() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(proptest::sample::select(B64TOKEN.as_bytes()), 1..200),
        0..3usize,
    )
        .prop_map(|(chars, pad)| {
            let mut token: String = chars.into_iter().map(char::from).collect();
            token.push_str(&"=".repeat(pad));
            token
        })
}

/// `bearer` in a random mix of cases.
pub(crate) fn bearer_scheme() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), 6).prop_map(|upper| {
        "bearer"
            .chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A fixed Ed25519 key (from a seed, so cases are reproducible).
pub(crate) fn ed25519(seed: u8) -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("any 32-byte seed is an Ed25519 key")
}

pub(crate) fn ed25519_jwk(seed: u8, kid: &str) -> Value {
    let pair = ed25519(seed);
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
    })
}

pub(crate) fn sign(seed: u8, kid: &str, payload: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": kid}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = ed25519(seed).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

pub(crate) fn key_set(keys: &[Value]) -> KeySet {
    let document = json!({ "keys": keys }).to_string();
    KeySet::parse(document.as_bytes(), all_algorithms())
        .expect("the test key sets are JSON objects with a keys array")
}

/// Any JSON value, a few levels deep.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("kty"),
            Just("RSA"),
            Just("EC"),
            Just("OKP"),
            Just("oct"),
            Just("P-256"),
            Just("Ed25519"),
            Just("sig"),
            Just("RS256"),
            Just("AQAB"),
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("kty".to_string()),
                    Just("kid".to_string()),
                    Just("alg".to_string()),
                    Just("crv".to_string()),
                    Just("x".to_string()),
                    Just("y".to_string()),
                    Just("n".to_string()),
                    Just("e".to_string()),
                    Just("use".to_string()),
                    Just("key_ops".to_string()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..8
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}
