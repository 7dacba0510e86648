//! RFC 7518 §3.4 and RFC 8037: signature forms.

use super::*;

pub(crate) async fn ecdsa_der_zero_and_wrong_length_signatures_are_refused(target: Target) {
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

pub(crate) async fn eddsa_needs_an_ed25519_key(target: Target) {
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

pub(crate) async fn every_supported_algorithm_is_accepted(target: Target) {
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
