//! `/logout`: the session ends, and only registered URLs are redirected to.

use super::hosted_support::*;
use super::*;

async fn signed_in(h: &Hosted) -> Browser {
    let mut browser = Browser::new(&h.issuer);
    let query = [
        ("response_type", "code"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    assert_eq!(page.status, 302);
    browser
}

async fn goes_to_login(h: &Hosted, browser: &mut Browser, cookie: &str) -> bool {
    // The old cookie, sent again, no longer signs anyone in.
    browser.cookies.insert("cognito".into(), cookie.into());
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &h.public),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    page.location.unwrap().starts_with("/login?")
}

#[tokio::test]
async fn logout_to_a_registered_logout_uri_ends_the_session() {
    let h = hosted().await;
    let mut browser = signed_in(&h).await;
    let cookie = browser.cookies["cognito"].clone();
    let page = browser
        .get(&format!(
            "/logout?{}",
            url_encode(&[("client_id", &h.public), ("logout_uri", SIGNED_OUT)])
        ))
        .await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location.as_deref(), Some(SIGNED_OUT));
    assert!(
        !browser.cookies.contains_key("cognito"),
        "the cookie is expired"
    );
    assert!(goes_to_login(&h, &mut browser, &cookie).await);
}

#[tokio::test]
async fn logout_with_redirect_uri_signs_in_again() {
    let h = hosted().await;
    let mut browser = signed_in(&h).await;
    let cookie = browser.cookies["cognito"].clone();
    let query = [
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("state", "again"),
    ];
    let page = browser
        .get(&format!("/logout?{}", url_encode(&query)))
        .await;
    assert_eq!(page.status, 302);
    assert_eq!(
        page.location,
        Some(format!("/login?{}", url_encode(&query)))
    );
    assert!(goes_to_login(&h, &mut browser, &cookie).await);
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_url() {
    let h = hosted().await;
    let mut browser = signed_in(&h).await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("client_id", &h.public),
            ("logout_uri", "https://evil.example/"),
        ],
        vec![
            ("client_id", &h.public),
            ("redirect_uri", "https://evil.example/"),
            ("response_type", "code"),
        ],
        vec![("client_id", "nobody"), ("logout_uri", SIGNED_OUT)],
        vec![("logout_uri", SIGNED_OUT)],
        vec![("client_id", &h.public)],
    ];
    for query in cases {
        let page = browser
            .get(&format!("/logout?{}", url_encode(&query)))
            .await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (400, None),
            "{query:?}"
        );
    }
    // The session is untouched by refused logouts.
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &h.public),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(page.target(), CALLBACK);
}
