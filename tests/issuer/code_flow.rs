//! The authorization-code flow with PKCE, end to end over HTTP: authorize,
//! the hosted login form, the code, the token endpoint, and the tokens
//! verified by the crate's own `Verifier`; its error paths.

use super::hosted_support::*;
use super::*;

#[tokio::test]
async fn code_flow_with_pkce_gives_verified_tokens_bound_to_the_request() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let challenge = challenge(VERIFIER);
    let page = browser
        .sign_in(&code_query(&h.public, &challenge), "alice", PASSWORD)
        .await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(page.target(), CALLBACK);
    assert_eq!(page.param("state").as_deref(), Some("st-123"));
    assert!(browser.cookies.contains_key("cognito"));
    let code = page.param("code").unwrap();
    let (status, body) = redeem_public(&h, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["refresh_token"].is_string());
    let access = body["access_token"].as_str().unwrap();
    let claims = access_verifier(&h, &h.public).verify(access).await.unwrap();
    assert!(claims.has_scope(READ_FULL));
    let access_claims = claims_of(access);
    assert_eq!(access_claims["username"], "alice");
    assert_eq!(access_claims["cognito:groups"], json!(["editors"]));
    assert_eq!(access_claims["scope"], format!("openid email {READ_FULL}"));
    let id = claims_of(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], h.public.as_str());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["sub"], access_claims["sub"]);
    // at_hash: the left half of SHA-256 of the access token (RS256).
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes());
    assert_eq!(id["at_hash"], URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]));
}

#[tokio::test]
async fn a_second_authorize_in_the_same_session_skips_the_form() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let challenge = challenge(VERIFIER);
    browser
        .sign_in(&code_query(&h.public, &challenge), "alice", PASSWORD)
        .await;
    let again = browser.authorize(&code_query(&h.public, &challenge)).await;
    assert_eq!(again.status, 302);
    assert_eq!(again.target(), CALLBACK);
    assert!(again.param("code").is_some());
    // A browser without the cookie is sent to the form.
    let mut other = Browser::new(&h.issuer);
    let fresh = other.authorize(&code_query(&h.public, &challenge)).await;
    assert!(fresh.location.unwrap().starts_with("/login?"));
}

#[tokio::test]
async fn a_confidential_client_authenticates_at_the_token_endpoint() {
    let h = hosted().await;
    let (id, secret) = (&h.confidential.0, &h.confidential.1);
    let mut browser = Browser::new(&h.issuer);
    let query = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", READ_FULL),
    ];
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    let code = page.param("code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    // Without its secret: refused, and the code is still good.
    let mut with_id = form.to_vec();
    with_id.push(("client_id", id));
    let (status, body) = token_call(&h.issuer, None, &with_id).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let (status, body) = token_call(&h.issuer, Some((id, "wrong")), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_call(&h.issuer, Some((id, secret)), &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none(), "no openid, no ID token");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["scope"],
        READ_FULL
    );
}

/// Signs alice in with the public client; returns the code.
async fn code_for(h: &Hosted, challenge: Option<&str>) -> String {
    let mut browser = Browser::new(&h.issuer);
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
    ];
    if let Some(challenge) = challenge {
        query.push(("code_challenge", challenge));
        query.push(("code_challenge_method", "S256"));
    }
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    page.param("code").unwrap()
}

async fn redeem(h: &Hosted, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", h.public.as_str()),
    ];
    form.extend_from_slice(extra);
    token_call(&h.issuer, None, &form).await
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let h = hosted().await;
    let challenge = challenge(VERIFIER);
    let code = code_for(&h, Some(&challenge)).await;
    let form = [
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, first) = redeem(&h, &form).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&h.issuer, Some(access)).await.0, 200);
    let (status, body) = redeem(&h, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The first redemption's refresh and access tokens are revoked.
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, body) = redeem_refresh(&h, refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&h.issuer, Some(access)).await.0, 401);
}

async fn redeem_refresh(h: &Hosted, refresh: &str) -> (u16, Value) {
    token_call(
        &h.issuer,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &h.public),
            ("refresh_token", refresh),
        ],
    )
    .await
}

#[tokio::test]
async fn pkce_is_enforced_at_the_token_endpoint() {
    let h = hosted().await;
    let challenge = challenge(VERIFIER);
    let other_verifier = "another-verifier-another-verifier-another-verifier";
    // Wrong verifier: refused, and the code is spent.
    let code = code_for(&h, Some(&challenge)).await;
    let wrong = [
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", other_verifier),
    ];
    let (status, body) = redeem(&h, &wrong).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let right = [
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(redeem(&h, &right).await.1["error"], "invalid_grant");
    // Missing verifier.
    let code = code_for(&h, Some(&challenge)).await;
    let (status, body) = redeem(&h, &[("code", &code), ("redirect_uri", CALLBACK)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A verifier for a code without a challenge.
    let code = code_for(&h, None).await;
    let (status, body) = redeem(
        &h,
        &[
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // No challenge, no verifier: fine.
    let code = code_for(&h, None).await;
    let (status, body) = redeem(&h, &[("code", &code), ("redirect_uri", CALLBACK)]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_code_is_bound_to_its_redirect_uri_and_client() {
    let h = hosted().await;
    let code = code_for(&h, None).await;
    let (status, body) = redeem(
        &h,
        &[
            ("code", &code),
            ("redirect_uri", "http://localhost:3000/other"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = redeem(&h, &[("code", &code)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Another client's code.
    let code = code_for(&h, None).await;
    let (id, secret) = (&h.confidential.0, &h.confidential.1);
    let (status, body) = token_call(
        &h.issuer,
        Some((id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // An unknown code.
    let (status, body) = redeem(&h, &[("code", "not-a-code"), ("redirect_uri", CALLBACK)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}
