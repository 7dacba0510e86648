//! What a sign-out, a disabled user or a user deleted and created again
//! ends: codes not yet redeemed, browser sessions, pending password
//! changes, and the tokens of the sign-out's own second.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::hosted_support::*;
use super::*;

fn query(h: &Hosted) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
    ]
}

/// A management call on alice (or `name`) of the default pool.
async fn on_user(h: &Hosted, action: &str, name: &str) {
    ok(
        &h.issuer,
        action,
        json!({"UserPoolId": h.issuer.pool_id(), "Username": name}),
    )
    .await;
}

/// Redeems a code of the public client (no PKCE).
async fn redeem(h: &Hosted, code: &str) -> (u16, Value) {
    token_call(
        &h.issuer,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &h.public),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
}

/// Whether the browser's session still signs it in (a code at once, no
/// form).
async fn still_signed_in(h: &Hosted, browser: &mut Browser) -> bool {
    let page = browser.authorize(&query(h)).await;
    assert_eq!(page.status, 302, "{}", page.body);
    !page.location.unwrap().starts_with("/login?")
}

/// alice signed in, in a browser; the code she got.
async fn alice_in_browser(h: &Hosted) -> (Browser, String) {
    let mut browser = Browser::new(&h.issuer);
    let page = browser.sign_in(&query(h), "alice", PASSWORD).await;
    assert_eq!(page.status, 302, "{}", page.body);
    let code = page.param("code").unwrap();
    (browser, code)
}

fn is_invalid_grant((status, body): &(u16, Value)) -> bool {
    *status == 400 && body["error"] == "invalid_grant"
}

/// Waits for the start of the next second (so that what follows likely
/// happens within one second, and not in the second of an earlier
/// sign-out).
async fn next_second() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let left = Duration::from_secs(1) - Duration::from_nanos(now.subsec_nanos().into());
    tokio::time::sleep(left + Duration::from_millis(5)).await;
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_code_issued_before_a_global_sign_out_is_refused() {
    let h = hosted().await;
    let (_, code) = alice_in_browser(&h).await;
    on_user(&h, "AdminUserGlobalSignOut", "alice").await;
    assert!(is_invalid_grant(&redeem(&h, &code).await));
}

#[tokio::test]
async fn a_session_or_code_does_not_sign_in_a_user_created_again_under_the_same_name() {
    let h = hosted().await;
    let (mut browser, code) = alice_in_browser(&h).await;
    assert!(still_signed_in(&h, &mut browser).await);
    on_user(&h, "AdminDeleteUser", "alice").await;
    h.pool.create_user("alice", PASSWORD, &[]).unwrap();
    assert!(!still_signed_in(&h, &mut browser).await);
    assert!(is_invalid_grant(&redeem(&h, &code).await));
}

#[tokio::test]
async fn a_pending_password_change_does_not_apply_to_a_user_created_again() {
    let h = hosted().await;
    let temporary = "Temporary-Pass-1";
    h.pool
        .create_user_with_temporary_password("bob", temporary, &[])
        .unwrap();
    let mut browser = Browser::new(&h.issuer);
    let page = browser.sign_in(&query(&h), "bob", temporary).await;
    let (session, csrf) = (
        page.hidden("_session").unwrap(),
        page.hidden("_csrf").unwrap(),
    );
    on_user(&h, "AdminDeleteUser", "bob").await;
    h.pool
        .create_user_with_temporary_password("bob", temporary, &[])
        .unwrap();
    let login = format!("/login?{}", url_encode(&query(&h)));
    let form = [
        ("_csrf", csrf.as_str()),
        ("_session", &session),
        ("new_password", "Brand-New-Pass-2"),
    ];
    let done = browser.post(&login, &form).await;
    assert_eq!(done.status, 200, "no code: {:?}", done.location);
    assert!(done.body.contains("Sign in again"), "{}", done.body);
}

#[tokio::test]
async fn disabling_a_user_ends_sessions_codes_and_tokens_even_once_enabled_again() {
    let h = hosted().await;
    let (mut browser, code) = alice_in_browser(&h).await;
    let tokens = public_tokens(&h).await;
    let access = tokens["access_token"].as_str().unwrap();
    on_user(&h, "AdminDisableUser", "alice").await;
    assert!(!still_signed_in(&h, &mut browser).await);
    on_user(&h, "AdminEnableUser", "alice").await;
    assert!(!still_signed_in(&h, &mut browser).await);
    assert!(is_invalid_grant(&redeem(&h, &code).await));
    assert_eq!(userinfo(&h.issuer, Some(access)).await.0, 401);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed = token_call(
        &h.issuer,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &h.public),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert!(is_invalid_grant(&refreshed));
}

/// An access token of the implicit flow: no refresh token, so no
/// `origin_jti` the sign-out revokes; only `signed_out_at` ends it.
async fn implicit_access_token(h: &Hosted) -> String {
    let mut browser = Browser::new(&h.issuer);
    let mut query = query(h);
    query[0] = ("response_type", "token");
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    assert_eq!(page.status, 302, "{}", page.body);
    page.param("access_token").unwrap()
}

/// The rule: a global sign-out ends every token and sign-in of its own
/// second too (`iat <= floor(signed_out_at)`).
#[tokio::test]
async fn tokens_minted_in_the_same_second_as_a_global_sign_out_are_revoked() {
    let h = hosted().await;
    let mut same_second = 0;
    for _ in 0..10 {
        next_second().await;
        let access = &implicit_access_token(&h).await;
        let iat = claims_of(access)["iat"].as_u64().unwrap();
        on_user(&h, "AdminUserGlobalSignOut", "alice").await;
        if now_secs() != iat {
            continue; // the sign-out fell in a later second: not this case
        }
        same_second += 1;
        assert_eq!(userinfo(&h.issuer, Some(access)).await.0, 401);
        if same_second == 3 {
            return;
        }
    }
    assert!(same_second > 0, "never signed in and out within one second");
}
