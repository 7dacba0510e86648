//! Property tests (proptest) of the parsers that read attacker-controlled
//! input: the bearer header, the compact-JWS splitter and the whole token
//! check, the scope parser and matcher, and the key-set parser. Each must
//! never panic, and round-trips where one exists.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::bearer::{self, Credentials, MalformedReason};
use crate::jwk::{KeySet, Lookup};
use crate::jws;
use crate::scope::{Scope, has_scope};

const B64TOKEN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";

fn all_algorithms() -> AlgorithmSet {
    Algorithm::ALL.into_iter().collect()
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="`.
fn b64token() -> impl Strategy<Value = String> {
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
fn bearer_scheme() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), 6).prop_map(|upper| {
        "bearer"
            .chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A fixed Ed25519 key (from a seed, so cases are reproducible).
fn ed25519(seed: u8) -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("any 32-byte seed is an Ed25519 key")
}

fn ed25519_jwk(seed: u8, kid: &str) -> Value {
    let pair = ed25519(seed);
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
    })
}

fn sign(seed: u8, kid: &str, payload: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": kid}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = ed25519(seed).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

fn key_set(keys: &[Value]) -> KeySet {
    let document = json!({ "keys": keys }).to_string();
    KeySet::parse(document.as_bytes(), all_algorithms())
        .expect("the test key sets are JSON objects with a keys array")
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // ----- the bearer header ---------------------------------------------

    #[test]
    fn bearer_parser_never_panics(value in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = bearer::parse(&value);
    }

    #[test]
    fn bearer_token_round_trips(scheme in bearer_scheme(), spaces in 1..5usize, token in b64token()) {
        prop_assume!(!token.chars().all(|c| c == '='));
        let value = format!("{scheme}{}{token}", " ".repeat(spaces));
        prop_assert_eq!(bearer::parse(value.as_bytes()), Credentials::Bearer(&token));
    }

    #[test]
    fn bearer_token_with_a_foreign_visible_byte_is_malformed(
        token in b64token(),
        at in any::<prop::sample::Index>(),
        byte in prop::sample::select(b" \"',;:<>()[]{}@\\?!#$%&*|^`".as_slice()),
    ) {
        let mut bytes = token.into_bytes();
        let at = at.index(bytes.len() + 1);
        bytes.insert(at, byte);
        let value = [b"Bearer ".as_slice(), &bytes].concat();
        // A space at the start is only more separation: skip that case.
        prop_assume!(!(byte == b' ' && at == 0));
        let parsed = bearer::parse(&value);
        let is_malformed = matches!(parsed, Credentials::Malformed(_));
        prop_assert!(is_malformed, "{:?}", parsed);
    }

    #[test]
    fn bearer_token_with_a_control_or_non_ascii_byte_is_an_invalid_header(
        token in b64token(),
        at in any::<prop::sample::Index>(),
        byte in prop_oneof![0u8..0x20, 0x7fu8..=0xff],
    ) {
        let mut bytes = token.into_bytes();
        let at = at.index(bytes.len() + 1);
        bytes.insert(at, byte);
        let value = [b"Bearer ".as_slice(), &bytes].concat();
        prop_assert_eq!(
            bearer::parse(&value),
            Credentials::Malformed(MalformedReason::InvalidHeader)
        );
    }

    #[test]
    fn other_schemes_are_never_bearer_credentials(
        scheme in "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
        rest in "[ -~]{0,60}",
    ) {
        prop_assume!(!scheme.eq_ignore_ascii_case("bearer"));
        let value = format!("{scheme} {rest}");
        let parsed = bearer::parse(value.as_bytes());
        let not_bearer = !matches!(parsed, Credentials::Bearer(_));
        prop_assert!(not_bearer, "{:?}", parsed);
    }

    // ----- the token splitter and the whole token check --------------------

    #[test]
    fn splitter_never_panics_and_round_trips(
        token in prop_oneof!["[a-zA-Z0-9._-]{0,40}", ".{0,200}"],
    ) {
        if let Ok((h, p, s)) = jws::split(&token) {
            prop_assert_eq!(format!("{h}.{p}.{s}"), token.clone());
            prop_assert!(!h.is_empty() && !s.is_empty());
            prop_assert!(!h.contains('.') && !p.contains('.') && !s.contains('.'));
        } else {
            let dots = token.matches('.').count();
            let parts: Vec<&str> = token.split('.').collect();
            let well_formed = dots == 2 && !parts[0].is_empty() && !parts[2].is_empty();
            prop_assert!(!well_formed);
        }
    }

    #[test]
    fn base64url_has_one_encoding_per_value(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let text = URL_SAFE_NO_PAD.encode(&bytes);
        prop_assert_eq!(jws::b64_decode(&text).expect("URL_SAFE_NO_PAD output decodes"), bytes);
    }

    #[test]
    fn base64url_decoding_is_canonical(text in "[A-Za-z0-9_-]{0,60}") {
        if let Ok(bytes) = jws::b64_decode(&text) {
            prop_assert_eq!(URL_SAFE_NO_PAD.encode(bytes), text);
        }
    }

    #[test]
    fn token_check_never_panics_and_refuses_noise(token in ".{0,400}") {
        let keys = key_set(&[ed25519_jwk(1, "k")]);
        prop_assert!(jws::verify(&token, &keys, all_algorithms()).is_err());
    }

    #[test]
    fn signed_payloads_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        let keys = key_set(&[ed25519_jwk(1, "k")]);
        let token = sign(1, "k", &payload);
        let verified = jws::verify(&token, &keys, all_algorithms()).expect("signed by a key in the set");
        prop_assert_eq!(jws::b64_decode(verified.payload_b64).expect("a verified payload is base64url"), payload);
    }

    #[test]
    fn no_one_character_change_of_a_signed_token_verifies(
        payload in proptest::collection::vec(any::<u8>(), 1..100),
        at in any::<prop::sample::Index>(),
        replacement in proptest::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ".as_bytes()
        ),
    ) {
        let keys = key_set(&[ed25519_jwk(1, "k")]);
        let token = sign(1, "k", &payload);
        let mut bytes = token.clone().into_bytes();
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let changed = String::from_utf8(bytes).expect("an ASCII byte replaced by an ASCII byte");
        prop_assert!(jws::verify(&changed, &keys, all_algorithms()).is_err());
    }

    // ----- scopes ---------------------------------------------------------

    #[test]
    fn scope_parser_never_panics_and_round_trips(full in ".{0,80}") {
        if let Ok(scope) = Scope::parse(&full) {
            prop_assert_eq!(scope.as_str(), full.as_str());
            prop_assert_eq!(format!("{}/{}", scope.identifier(), scope.name()), full.clone());
            prop_assert!(!scope.name().contains('/'));
        }
    }

    #[test]
    fn well_formed_scopes_parse(
        identifier in "[a-z]{1,10}(\\.[a-z]{1,10}){0,2}",
        scheme in prop_oneof![Just(""), Just("https://")],
        name in "[a-z][a-z0-9._-]{0,20}",
    ) {
        let full = format!("{scheme}{identifier}/{name}");
        let scope = Scope::parse(&full).expect("the strategy only makes well-formed scopes");
        prop_assert_eq!(scope.name(), name.as_str());
        prop_assert_eq!(scope.identifier(), format!("{scheme}{identifier}"));
    }

    #[test]
    fn scope_matching_is_exact_membership(
        tokens in proptest::collection::vec("[a-zA-Z0-9:/._-]{1,20}", 0..8),
        separators in proptest::collection::vec(1..4usize, 8),
        wanted in "[a-zA-Z0-9:/._-]{0,20}",
        pick in any::<prop::sample::Index>(),
        twist in 0..4u8,
    ) {
        let mut granted = String::new();
        for (i, token) in tokens.iter().enumerate() {
            granted.push_str(&" ".repeat(separators[i]));
            granted.push_str(token);
        }
        // Ask for a granted scope, or one a character off it.
        let wanted = match (tokens.is_empty(), twist) {
            (true, _) | (false, 0) => wanted,
            (false, 1) => tokens[pick.index(tokens.len())].clone(),
            (false, 2) => format!("{}x", tokens[pick.index(tokens.len())]),
            (false, _) => tokens[pick.index(tokens.len())].to_uppercase(),
        };
        let expected = !wanted.is_empty() && tokens.contains(&wanted);
        prop_assert_eq!(has_scope(&granted, &wanted), expected);
    }

    // ----- the key-set parser ---------------------------------------------

    #[test]
    fn key_set_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = KeySet::parse(&bytes, all_algorithms());
    }

    #[test]
    fn key_set_parser_never_panics_on_json(keys in proptest::collection::vec(json_value(), 0..6)) {
        let document = json!({ "keys": keys }).to_string();
        let _ = KeySet::parse(document.as_bytes(), all_algorithms());
    }

    #[test]
    fn bad_keys_never_break_good_ones(
        good in proptest::collection::btree_set(1u8..16, 0..5),
        junk in proptest::collection::vec(json_value(), 0..6),
        broken in proptest::collection::vec(0..6usize, 0..4),
        order in any::<u64>(),
    ) {
        let mut keys: Vec<Value> = good.iter().map(|seed| ed25519_jwk(*seed, &format!("good-{seed}"))).collect();
        keys.extend(junk.into_iter().map(|mut value| {
            if let Some(object) = value.as_object_mut() {
                object.insert("kid".into(), json!("junk"));
            }
            value
        }));
        // Good keys spoiled in one way each: all dropped.
        for (i, how) in broken.iter().enumerate() {
            let mut key = ed25519_jwk(100 + i as u8, &format!("broken-{i}"));
            match how {
                0 => key["use"] = json!("enc"),
                1 => key["d"] = json!("AAAA"),
                2 => key["alg"] = json!("ES256"),
                3 => key["x"] = json!("AAAA"),
                4 => key["crv"] = json!("X25519"),
                _ => key["key_ops"] = json!(["encrypt"]),
            }
            keys.push(key);
        }
        // A reproducible shuffle.
        let mut state = order | 1;
        for i in (1..keys.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            keys.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let set = key_set(&keys);
        prop_assert_eq!(set.len(), good.len());
        for seed in &good {
            let found = matches!(set.lookup(&format!("good-{seed}"), Algorithm::EdDSA), Lookup::Found(_));
            prop_assert!(found);
            let token = sign(*seed, &format!("good-{seed}"), b"{}");
            prop_assert!(jws::verify(&token, &set, all_algorithms()).is_ok());
        }
        for i in 0..broken.len() {
            let token = sign(100 + i as u8, &format!("broken-{i}"), b"{}");
            prop_assert!(jws::verify(&token, &set, all_algorithms()).is_err());
        }
    }
}
