//! RFC 7519, RFC 9068 and Cognito: the claims.

use super::*;

pub(crate) async fn exp_missing_mistyped_or_past_is_refused(target: Target) {
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

pub(crate) async fn nbf_in_the_future_is_refused(target: Target) {
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

pub(crate) async fn issuer_must_match_exactly(target: Target) {
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

pub(crate) async fn id_tokens_are_refused(target: Target) {
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

pub(crate) async fn other_clients_are_refused(target: Target) {
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

pub(crate) async fn claims_of_the_wrong_type_are_refused(target: Target) {
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

pub(crate) async fn repeated_claim_names_are_refused(target: Target) {
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

pub(crate) async fn rfc9068_profile_is_enforced(target: Target) {
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
