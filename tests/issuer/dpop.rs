//! DPoP at the token endpoint (RFC 9449 §5): a token request with a proof
//! gets a `DPoP` token bound to the proof's key (`cnf.jkt`) for the
//! client-credentials, authorization-code and refresh grants; a public
//! client's refresh token is bound to the key too; bad proofs are
//! `invalid_dpop_proof`.

use super::hosted_support::*;
use super::*;
use support::dpop::{DpopKey, fresh_jti, now};

/// `POST /oauth2/token` with these `DPoP` header values.
async fn with_proofs(
    issuer: &LocalIssuer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
    proofs: &[String],
) -> (u16, Value) {
    let mut request = http().post(issuer.token_endpoint()).form_body(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    for proof in proofs {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

#[tokio::test]
async fn client_credentials_with_a_proof_give_a_token_bound_to_its_key() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
    let key = DpopKey::generate();
    let form = [("grant_type", "client_credentials")];
    let endpoint = issuer.token_endpoint();
    let proof = key.proof("POST", &endpoint, None);
    let (status, body) = with_proofs(
        &issuer,
        Some((&id, &secret)),
        &form,
        std::slice::from_ref(&proof),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"], json!({"jkt": key.thumbprint()}));

    // The positive control: without a proof, a bearer token, unbound.
    let (status, body) = with_proofs(&issuer, Some((&id, &secret)), &form, &[]).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")));
    assert!(
        claims_of(body["access_token"].as_str().unwrap())
            .get("cnf")
            .is_none()
    );

    // The same proof again, and proofs that do not hold, are refused.
    let wrong_uri = key.proof("POST", &format!("{endpoint}x"), None);
    let wrong_method = key.proof("GET", &endpoint, None);
    let old = key.sign(
        &key.header(),
        &json!({"jti": fresh_jti(), "htm": "POST", "htu": endpoint, "iat": now() - 600}),
    );
    let unsigned = format!("{}.", proof.rsplit_once('.').unwrap().0);
    for bad in [
        vec![proof],
        vec![wrong_uri],
        vec![wrong_method],
        vec![old],
        vec![unsigned],
    ] {
        let (status, body) = with_proofs(&issuer, Some((&id, &secret)), &form, &bad).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{body}"
        );
    }
    let two = [
        key.proof("POST", &endpoint, None),
        key.proof("POST", &endpoint, None),
    ];
    let (status, body) = with_proofs(&issuer, Some((&id, &secret)), &form, &two).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
}

#[tokio::test]
async fn the_code_flow_binds_the_access_token_and_the_public_clients_refresh_token() {
    let h = hosted().await;
    let key = DpopKey::generate();
    let endpoint = h.issuer.token_endpoint();
    let mut browser = Browser::new(&h.issuer);
    let page = browser
        .sign_in(
            &code_query(&h.public, &challenge(VERIFIER)),
            "alice",
            PASSWORD,
        )
        .await;
    let code = page.param("code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", h.public.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = with_proofs(
        &h.issuer,
        None,
        &form,
        &[key.proof("POST", &endpoint, None)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["cnf"]["jkt"], key.thumbprint());
    assert!(
        claims_of(body["id_token"].as_str().unwrap())
            .get("cnf")
            .is_none(),
        "the ID token is not bound"
    );
    let refresh = body["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", h.public.as_str()),
        ("refresh_token", refresh),
    ];
    // Without a proof, or with another key's: refused.
    let other = DpopKey::generate();
    for proofs in [vec![], vec![other.proof("POST", &endpoint, None)]] {
        let (status, body) = with_proofs(&h.issuer, None, &form, &proofs).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{body}"
        );
    }
    // The management API's refresh calls carry no proof: refused there.
    fails(
        &h.issuer,
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": h.public,
               "AuthParameters": {"REFRESH_TOKEN": refresh}}),
        "NotAuthorizedException",
    )
    .await;
    fails(
        &h.issuer,
        "GetTokensFromRefreshToken",
        json!({"ClientId": h.public, "RefreshToken": refresh}),
        "NotAuthorizedException",
    )
    .await;
    // With the key's: a new bound token.
    let (status, body) = with_proofs(
        &h.issuer,
        None,
        &form,
        &[key.proof("POST", &endpoint, None)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.thumbprint()
    );
}

#[tokio::test]
async fn an_unbound_refresh_token_may_be_refreshed_into_a_bound_token() {
    let h = hosted().await;
    let tokens = public_tokens(&h).await;
    let key = DpopKey::generate();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", h.public.as_str()),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    let proof = key.proof("POST", &h.issuer.token_endpoint(), None);
    let (status, body) = with_proofs(&h.issuer, None, &form, &[proof]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let (status, body) = with_proofs(&h.issuer, None, &form, &[]).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")));
}

#[tokio::test]
async fn discovery_advertises_the_proof_algorithms() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    let url = format!(
        "{}/{pool}/.well-known/openid-configuration",
        issuer.base_url()
    );
    let document: Value = json_body(http().get(url).send().await.unwrap()).await;
    let algs = document["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    for alg in ["ES256", "RS256", "PS256", "EdDSA"] {
        assert!(algs.iter().any(|a| a == alg), "{alg} in {algs:?}");
    }
}
