//! RFC 7515 and RFC 8725: the JWS itself.

use super::*;

pub(crate) async fn alg_none_in_any_spelling_is_refused(target: Target) {
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

pub(crate) async fn empty_or_stripped_signature_is_refused(target: Target) {
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

pub(crate) async fn hs256_signed_with_the_public_key_is_refused(target: Target) {
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

pub(crate) async fn alg_names_are_case_sensitive(target: Target) {
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

pub(crate) async fn algorithm_outside_the_allow_list_is_refused(target: Target) {
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

pub(crate) async fn header_alg_that_does_not_fit_the_key_is_refused(target: Target) {
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

pub(crate) async fn header_that_is_not_a_json_object_is_refused(target: Target) {
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

pub(crate) async fn duplicate_header_parameters_are_refused(target: Target) {
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

pub(crate) async fn header_json_tricks_are_refused(target: Target) {
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

pub(crate) async fn crit_and_unencoded_payload_are_refused(target: Target) {
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

pub(crate) async fn key_pointing_header_parameters_are_never_followed(target: Target) {
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

pub(crate) async fn kid_missing_or_hostile_is_refused(target: Target) {
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

pub(crate) async fn malformed_compact_serialization_is_refused(target: Target) {
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

pub(crate) async fn encrypted_tokens_are_refused(target: Target) {
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

pub(crate) async fn transplanted_or_modified_parts_are_refused(target: Target) {
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

pub(crate) async fn oversized_token_is_refused(target: Target) {
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

pub(crate) async fn signed_empty_payload_is_refused(target: Target) {
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

pub(crate) async fn nested_jwt_is_not_unwrapped(target: Target) {
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

pub(crate) async fn claims_that_are_not_one_utf8_json_object_are_refused(target: Target) {
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
