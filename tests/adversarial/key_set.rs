//! RFC 7517: what the key set may hold.

use super::*;

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

pub(crate) async fn keys_not_for_signatures_are_never_used(target: Target) {
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

pub(crate) async fn symmetric_keys_in_the_set_are_never_used(target: Target) {
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

pub(crate) async fn keys_with_private_material_are_never_used(target: Target) {
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

pub(crate) async fn weak_or_malformed_rsa_keys_are_never_used(target: Target) {
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

pub(crate) async fn small_order_ed25519_keys_are_never_used(target: Target) {
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

pub(crate) async fn ambiguous_kid_in_the_set_is_refused(target: Target) {
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

pub(crate) async fn key_without_alg_serves_one_algorithm(target: Target) {
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
