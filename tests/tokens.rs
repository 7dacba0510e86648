//! Verification rules over real HTTP: each crafted token is refused with
//! 401 `invalid_token` (or the stated status), and good tokens of every
//! algorithm pass.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate::local::LocalIssuer;
use scopegate::{Algorithm, TokenError, VerifyError};
use serde_json::json;
use support::*;

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn assert_invalid(api: &Api, token: &str, what: &str) {
    assert_eq!(
        status(api, Some(token)).await,
        (401, INVALID_TOKEN.into()),
        "{what}"
    );
}

async fn setup() -> (LocalIssuer, Api) {
    let issuer = issuer().await;
    let api = serve_layer(builder(&issuer).build().unwrap().require(READ).unwrap()).await;
    (issuer, api)
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies() {
    let issuer = issuer().await;
    let verifier = builder(&issuer).algorithms(Algorithm::ALL).build().unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let kids: Vec<_> = Algorithm::ALL
        .map(|alg| (alg, issuer.add_key(alg).unwrap()))
        .into();
    for (alg, kid) in kids {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .signed_with(&kid)
            .mint();
        assert_eq!(status(&api, Some(&token)).await.0, 200, "{alg}");
    }
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn alg_none_in_any_spelling_is_refused() {
    let (issuer, api) = setup().await;
    let good = token(&issuer, &[READ]);
    let (_, payload, _) = segments(&good);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "kid": issuer.signing_kid()}).to_string());
        assert_invalid(&api, &format!("{header}.{payload}."), alg).await;
        assert_invalid(&api, &format!("{header}.{payload}.AAAA"), alg).await;
    }
    // A good header with the signature stripped.
    let (header, payload, _) = segments(&good);
    assert_invalid(&api, &format!("{header}.{payload}."), "empty signature").await;
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let (issuer, api) = setup().await;
    let kid = issuer.signing_kid();
    let jwk = issuer.key(&kid).unwrap().public_jwk().clone();
    let header = b64(json!({"alg": "HS256", "kid": kid, "typ": "JWT"}).to_string());
    let (_, payload, _) = segments(&token(&issuer, &[READ]));
    let input = format!("{header}.{payload}");
    // Every plausible "secret" an attacker could derive from the public key.
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let secrets: Vec<Vec<u8>> = vec![
        jwk.to_string().into_bytes(),
        n,
        jwk["n"].as_str().unwrap().as_bytes().to_vec(),
    ];
    for secret in secrets {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        assert_invalid(
            &api,
            &format!("{input}.{}", b64(tag.as_ref())),
            "key confusion",
        )
        .await;
    }
}

#[tokio::test]
async fn algorithm_outside_the_allow_list_is_refused() {
    let issuer = issuer().await;
    let rs256_only = builder(&issuer)
        .algorithms([Algorithm::RS256])
        .build()
        .unwrap();
    let api = serve_layer(rs256_only.require(READ).unwrap()).await;
    for alg in [Algorithm::ES256, Algorithm::PS256, Algorithm::EdDSA] {
        let kid = issuer.add_key(alg).unwrap();
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .signed_with(&kid)
            .mint();
        assert_invalid(&api, &token, alg.as_str()).await;
    }
}

#[tokio::test]
async fn header_alg_that_does_not_fit_the_key_is_refused() {
    let issuer = issuer().await;
    let verifier = builder(&issuer).algorithms(Algorithm::ALL).build().unwrap();
    // An RS256 key (its JWK says alg RS256) used under other RSA algorithms.
    for alg in ["RS384", "RS512", "PS256", "ES256"] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .header("alg", alg.into())
            .mint();
        let err = verifier.verify(&token).await.unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::InvalidToken(
                    TokenError::KeyAlgorithmMismatch | TokenError::InvalidSignature
                )
            ),
            "{alg}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_key_without_alg_serves_only_one_algorithm() {
    let issuer = issuer().await;
    let verifier = builder(&issuer).algorithms(Algorithm::ALL).build().unwrap();
    let ps_kid = issuer.add_key(Algorithm::PS256).unwrap();
    let mut jwk = issuer.key(&ps_kid).unwrap().public_jwk().clone();
    jwk.as_object_mut().unwrap().remove("alg");
    jwk["kid"] = json!("no-alg");
    issuer.publish_raw_jwk(jwk);
    // Signed with PS256 by the same key, found under a kid whose JWK has no
    // `alg`: that key serves RS256 only (the first allowed RSA algorithm).
    let token = issuer
        .token()
        .client_id(CLIENT)
        .signed_with(&ps_kid)
        .header("kid", json!("no-alg"))
        .mint();
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        VerifyError::InvalidToken(TokenError::KeyAlgorithmMismatch)
    );
}

#[tokio::test]
async fn a_header_that_is_a_json_array_is_refused() {
    let (issuer, api) = setup().await;
    // serde would read ["RS256","kid"] as {alg, kid}: a JWS header is an object.
    let kid = issuer.signing_kid();
    let key = issuer.key(&kid).unwrap();
    let (_, payload, _) = segments(&token(&issuer, &[READ]));
    for header in [json!(["RS256", kid]), json!(null), json!("RS256")] {
        // Correctly signed over the odd header.
        let input = format!("{}.{payload}", b64(header.to_string()));
        let signed = format!("{input}.{}", key.sign(input.as_bytes()).unwrap());
        assert_invalid(&api, &signed, &header.to_string()).await;
    }
}

#[tokio::test]
async fn key_pointing_header_parameters_are_refused_and_never_followed() {
    let (issuer, api) = setup().await;
    let attacker = counting_server(json!({"keys": [issuer.jwks()["keys"][0].clone()]})).await;
    let attacker_url = format!("{}/jwks.json", attacker.api.url);
    for (name, value) in [
        ("jku", json!(attacker_url)),
        ("x5u", json!(attacker_url)),
        ("jwk", issuer.jwks()["keys"][0].clone()),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
        ("b64", json!(false)),
        ("enc", json!("A128GCM")),
        ("zip", json!("DEF")),
    ] {
        // Correctly signed by the real key: still refused.
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .header(name, value)
            .mint();
        assert_invalid(&api, &token, name).await;
    }
    // A kid only the attacker's key set knows.
    let token = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .header("kid", "attacker-kid".into())
        .header("jku", json!(attacker_url))
        .mint();
    assert_invalid(&api, &token, "jku with unknown kid").await;
    assert_eq!(attacker.hits(), 0, "the attacker's server was contacted");
}

#[tokio::test]
async fn kid_missing_or_hostile_is_refused() {
    let (issuer, api) = setup().await;
    let hostile = [
        json!(null),
        json!(5),
        json!("../../../../etc/passwd"),
        json!("' OR 1=1 --"),
        json!("a\r\nX-Injected: yes"),
        json!(""),
        json!("k".repeat(5000)),
    ];
    let token = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .without_header("kid")
        .mint();
    assert_invalid(&api, &token, "no kid").await;
    for kid in hostile {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .header("kid", kid.clone())
            .mint();
        assert_invalid(
            &api,
            &token,
            &kid.to_string()[..kid.to_string().len().min(40)],
        )
        .await;
    }
}

#[tokio::test]
async fn ecdsa_der_signatures_and_zero_signatures_are_refused() {
    let issuer = issuer().await;
    let verifier = builder(&issuer)
        .algorithms([Algorithm::ES256])
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let kid = issuer.add_key(Algorithm::ES256).unwrap();
    let good = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .signed_with(&kid)
        .mint();
    assert_eq!(status(&api, Some(&good)).await.0, 200);
    let (header, payload, signature) = segments(&good);
    let raw = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    let der = {
        fn integer(v: &[u8]) -> Vec<u8> {
            let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
            let mut out = vec![0x02];
            let pad = v.first().is_some_and(|b| b & 0x80 != 0);
            out.push((v.len() + usize::from(pad)) as u8);
            if pad {
                out.push(0);
            }
            out.extend(v);
            out
        }
        let mut body = integer(&raw[..32]);
        body.extend(integer(&raw[32..]));
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        der
    };
    assert_invalid(
        &api,
        &format!("{header}.{payload}.{}", b64(der)),
        "DER signature",
    )
    .await;
    assert_invalid(
        &api,
        &format!("{header}.{payload}.{}", b64([0u8; 64])),
        "r = s = 0",
    )
    .await;
    let mut flipped = raw.clone();
    flipped[10] ^= 1;
    assert_invalid(
        &api,
        &format!("{header}.{payload}.{}", b64(flipped)),
        "flipped bit",
    )
    .await;
}

#[tokio::test]
async fn transplanted_or_modified_parts_are_refused() {
    let (issuer, api) = setup().await;
    let a = token(&issuer, &[READ]);
    let b = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ, WRITE])
        .mint();
    let (ah, ap, _) = segments(&a);
    let (_, bp, bs) = segments(&b);
    assert_invalid(&api, &format!("{ah}.{ap}.{bs}"), "transplanted signature").await;
    assert_invalid(
        &api,
        &format!("{ah}.{bp}.{}", segments(&a).2),
        "transplanted payload",
    )
    .await;
}

#[tokio::test]
async fn malformed_compact_serialization_is_refused() {
    let (issuer, api) = setup().await;
    // A token whose header and payload segments are not multiples of 4
    // characters, so that padding them changes them.
    let good = (0..4)
        .map(|n| {
            issuer
                .token()
                .client_id(CLIENT)
                .scope(READ)
                .header("pad", json!("x".repeat(n)))
                .claim("pad", json!("y".repeat(n)))
                .mint()
        })
        .find(|t| {
            let (h, p, _) = segments(t);
            h.len() % 4 != 0 && p.len() % 4 != 0
        })
        .unwrap();
    assert_eq!(status(&api, Some(&good)).await.0, 200);
    let (h, p, s) = segments(&good);
    let pad = |seg: &str| format!("{seg}{}", "=".repeat((4 - seg.len() % 4) % 4));
    let cases = [
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!("{}.{p}.{s}", pad(&h)),
        format!("{h}.{}.{s}", pad(&p)),
        format!("{h}.{p}.{}", pad(&s)),
        format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}."),
        format!("{h}.{}.{s}", b64("not json")),
        format!("{h}.{}.{s}", b64("[]")),
        format!("{}.{p}.{s}", b64("{\"alg\":\"RS256\"")),
    ];
    for token in cases {
        assert_ne!(token, good);
        assert_invalid(&api, &token, &token[..token.len().min(40)]).await;
    }
    // The JWS JSON serialization, base64url-encoded to pass as a b64token.
    let json = json!({"payload": p, "signatures": [{"protected": h, "signature": s}]});
    assert_invalid(&api, &b64(json.to_string()), "JSON serialization").await;
}

#[tokio::test]
async fn oversized_token_is_refused_before_decoding() {
    let (issuer, api) = setup().await;
    let big = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("padding", "x".repeat(9000).into())
        .mint();
    assert!(big.len() > 8 * 1024);
    assert_invalid(&api, &big, "9 KiB token").await;
    let verifier = builder(&issuer).build().unwrap();
    assert_eq!(
        verifier.verify(&"a".repeat(9000)).await.unwrap_err(),
        VerifyError::InvalidToken(TokenError::TooLarge)
    );
}

#[tokio::test]
async fn exp_is_required_and_must_be_a_sane_number() {
    let (issuer, api) = setup().await;
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let cases = [
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .without_claim("exp")
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("exp", json!("4102444800"))
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("exp", json!(-1))
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("exp", json!(1e300))
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("exp", json!(null))
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .issued_at(hour_ago)
            .expires_in(Duration::from_secs(60))
            .mint(),
    ];
    for token in cases {
        assert_invalid(&api, &token, "exp").await;
    }
}

#[tokio::test]
async fn nbf_in_the_future_is_refused_and_leeway_applies() {
    let issuer = issuer().await;
    let strict = serve_layer(builder(&issuer).build().unwrap().require(READ).unwrap()).await;
    let lenient = serve_layer(
        builder(&issuer)
            .leeway(Duration::from_secs(120))
            .build()
            .unwrap()
            .require(READ)
            .unwrap(),
    )
    .await;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let soon = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("nbf", json!(now + 60))
        .mint();
    assert_invalid(&strict, &soon, "nbf in 60 s").await;
    assert_eq!(status(&lenient, Some(&soon)).await.0, 200);
    let later = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("nbf", json!(now + 600))
        .mint();
    assert_invalid(&lenient, &later, "nbf in 10 min").await;
    let typed = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .claim("nbf", json!("0"))
        .mint();
    assert_invalid(&strict, &typed, "nbf as a string").await;
}

#[tokio::test]
async fn issuer_must_match_exactly() {
    let (issuer, api) = setup().await;
    let url = issuer.url();
    for iss in [
        json!(format!("{url}/")),
        json!(url.replace("us-east-1_Local", "us-east-1_Other")),
        json!(url.to_uppercase()),
        json!([url.clone()]),
        json!(null),
        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Local"),
    ] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("iss", iss.clone())
            .mint();
        assert_invalid(&api, &token, &iss.to_string()).await;
    }
    let token = issuer
        .token()
        .client_id(CLIENT)
        .scope(READ)
        .without_claim("iss")
        .mint();
    assert_invalid(&api, &token, "no iss").await;
}

#[tokio::test]
async fn id_tokens_and_other_clients_are_refused() {
    let (issuer, api) = setup().await;
    let cases = [
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("token_use", json!("id"))
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .without_claim("token_use")
            .mint(),
        issuer.token().client_id("someone-else").scope(READ).mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .without_claim("client_id")
            .mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("client_id", json!([CLIENT]))
            .mint(),
    ];
    for token in cases {
        assert_invalid(&api, &token, "token_use / client_id").await;
    }
}

#[tokio::test]
async fn claims_of_the_wrong_type_are_refused() {
    let (issuer, api) = setup().await;
    for (name, value) in [
        ("scope", json!([READ])),
        ("sub", json!(42)),
        ("iat", json!("now")),
        ("auth_time", json!({})),
        ("jti", json!(1)),
        ("aud", json!(7)),
    ] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim(name, value)
            .mint();
        assert_invalid(&api, &token, name).await;
    }
}

#[tokio::test]
async fn repeated_claim_names_are_refused() {
    let (issuer, api) = setup().await;
    let claims =
        serde_json::to_string(&issuer.token().client_id(CLIENT).scope(WRITE).claims()).unwrap();
    // The same claims, then a second `scope` that would grant READ.
    let payload = format!("{},\"scope\":\"{READ}\"}}", claims.trim_end_matches('}'));
    let token = issuer.token().mint_payload(payload.as_bytes());
    assert_invalid(&api, &token, "duplicate scope").await;
}

#[tokio::test]
async fn audience_allow_list_and_rfc9068_profile() {
    let issuer = issuer().await;
    let verifier = scopegate::Verifier::builder(issuer.issuer())
        .audiences(["https://photos.example.com"])
        .require_at_jwt()
        .resource_server(photo_api())
        .build()
        .unwrap();
    let api = serve_layer(verifier.require(READ).unwrap()).await;
    let good = || {
        issuer
            .token()
            .client_id(CLIENT)
            .scope(READ)
            .claim("aud", json!(["x", "https://photos.example.com"]))
            .header("typ", json!("at+jwt"))
    };
    assert_eq!(status(&api, Some(&good().mint())).await.0, 200);
    assert_invalid(&api, &good().header("typ", json!("JWT")).mint(), "typ JWT").await;
    assert_invalid(
        &api,
        &good().claim("aud", json!("other")).mint(),
        "other aud",
    )
    .await;
    assert_invalid(&api, &good().without_claim("aud").mint(), "no aud").await;
    assert_invalid(&api, &good().without_claim("jti").mint(), "no jti").await;
}
