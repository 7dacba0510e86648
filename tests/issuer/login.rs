//! The hosted sign-in page: its contract (fields, CSRF, headers), wrong
//! credentials that never tell whether the user exists, users who may not
//! sign in, CSRF refusals, and the new-password step.

use super::hosted_support::*;
use super::*;

fn query(h: &Hosted) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
    ]
}

#[tokio::test]
async fn the_login_page_is_a_plain_form_with_csrf_and_security_headers() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let page = browser
        .get(&format!("/login?{}", url_encode(&query(&h))))
        .await;
    assert_eq!(page.status, 200);
    for needle in [
        r#"<form method="post""#,
        r#"name="username""#,
        r#"name="password""#,
        r#"<button type="submit" name="signin">Sign in</button>"#,
        "development only",
    ] {
        assert!(page.body.contains(needle), "{needle}: {}", page.body);
    }
    assert!(!page.body.contains("<script"));
    let csrf = page.hidden("_csrf").unwrap();
    assert_eq!(browser.cookies.get("XSRF-TOKEN"), Some(&csrf));
    let set_cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && set_cookie.contains("Path=/")
    );
    // Browsers apply form-action to the redirect after the post too: the
    // callback's origin (and nothing else) is allowed beside 'self'.
    assert_eq!(
        page.headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://localhost:3000; frame-ancestors 'none'"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    // A fresh token on every GET.
    let again = browser
        .get(&format!("/login?{}", url_encode(&query(&h))))
        .await;
    assert_ne!(again.hidden("_csrf").unwrap(), csrf);
    // The query is checked here too: an unknown client is a page.
    let bad = browser
        .get("/login?response_type=code&client_id=nobody")
        .await;
    assert_eq!((bad.status, bad.location), (400, None));
}

#[tokio::test]
async fn the_query_is_escaped_in_the_forms_action() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let page = browser
        .get(&format!("/login?{}", url_encode(&query(&h))))
        .await;
    assert_eq!(page.status, 200);
    // askama escapes the `&` of the query in the attribute.
    assert!(
        page.body
            .contains(r#"action="/login?response_type=code&#38;client_id="#),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let wrong = browser
        .sign_in(&query(&h), "alice", "Wrong-Password-1")
        .await;
    let unknown = browser
        .sign_in(&query(&h), "mallory", "Wrong-Password-1")
        .await;
    for page in [&wrong, &unknown] {
        assert_eq!(page.status, 200);
        assert!(page.location.is_none());
        assert!(
            page.body
                .contains(r#"<p class="error" role="alert">Incorrect username or password.</p>"#),
            "{}",
            page.body
        );
        assert!(!page.body.contains("Wrong-Password-1"));
    }
    assert!(!browser.cookies.contains_key("cognito"));
}

#[tokio::test]
async fn csrf_missing_or_mismatched_is_403_and_no_session() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let login = format!("/login?{}", url_encode(&query(&h)));
    let page = browser.get(&login).await;
    let csrf = page.hidden("_csrf").unwrap();
    let no_field = browser
        .post(&login, &[("username", "alice"), ("password", PASSWORD)])
        .await;
    let mismatched = browser
        .post(
            &login,
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("_csrf", "forged"),
            ],
        )
        .await;
    browser.cookies.remove("XSRF-TOKEN");
    let no_cookie = browser
        .post(
            &login,
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("_csrf", &csrf),
            ],
        )
        .await;
    for page in [no_field, mismatched, no_cookie] {
        assert_eq!(page.status, 403);
        assert!(page.location.is_none());
    }
    assert!(!browser.cookies.contains_key("cognito"));
    let authorize = browser.authorize(&query(&h)).await;
    assert!(authorize.location.unwrap().starts_with("/login?"));
}

#[tokio::test]
async fn a_temporary_password_asks_for_a_new_one_that_follows_the_policy() {
    let h = hosted().await;
    h.pool
        .create_user_with_temporary_password(
            "bob",
            "Temporary-Pass-1",
            &[("email", "bob@example.com")],
        )
        .unwrap();
    let mut browser = Browser::new(&h.issuer);
    let login = format!("/login?{}", url_encode(&query(&h)));
    let page = browser.sign_in(&query(&h), "bob", "Temporary-Pass-1").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"name="new_password""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Temporary-Pass-1"));
    let session = page.hidden("_session").unwrap();
    let csrf = page.hidden("_csrf").unwrap();
    // Too weak: the policy's message, and a new form.
    let weak = browser
        .post(
            &login,
            &[
                ("_csrf", &csrf),
                ("_session", &session),
                ("new_password", "short"),
            ],
        )
        .await;
    assert!(
        weak.body.contains("Password did not conform with policy"),
        "{}",
        weak.body
    );
    // The old session id was used up.
    let csrf = weak.hidden("_csrf").unwrap();
    let reused = browser
        .post(
            &login,
            &[
                ("_csrf", &csrf),
                ("_session", &session),
                ("new_password", "Brand-New-Pass-2"),
            ],
        )
        .await;
    assert!(
        reused.body.contains("session is expired"),
        "{}",
        reused.body
    );
    // Again, properly.
    let page = browser.sign_in(&query(&h), "bob", "Temporary-Pass-1").await;
    let (session, csrf) = (
        page.hidden("_session").unwrap(),
        page.hidden("_csrf").unwrap(),
    );
    let done = browser
        .post(
            &login,
            &[
                ("_csrf", &csrf),
                ("_session", &session),
                ("new_password", "Brand-New-Pass-2"),
            ],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done.param("code").is_some());
    // The new password is the password now; the temporary one no longer works.
    let mut other = Browser::new(&h.issuer);
    let old = other.sign_in(&query(&h), "bob", "Temporary-Pass-1").await;
    assert!(old.body.contains("Incorrect username or password."));
    let new = other.sign_in(&query(&h), "bob", "Brand-New-Pass-2").await;
    assert_eq!(new.status, 302);
}

/// An issuer on a state file whose user `carol` was edited by `edit` (the
/// user management API is not part of this branch), restarted.
async fn with_edited_carol(name: &str, edit: impl Fn(&mut Value)) -> (LocalIssuer, String) {
    let dir = temp_dir(name);
    let path = dir.join("state.json");
    let client = {
        let issuer = LocalIssuer::builder()
            .state_file(&path)
            .start()
            .await
            .unwrap();
        issuer.pool().create_resource_server(&photos()).unwrap();
        issuer.pool().create_user("carol", PASSWORD, &[]).unwrap();
        browser_client(&issuer, json!({})).await["ClientId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit_user(&mut state, &edit);
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let issuer = LocalIssuer::builder()
        .state_file(&path)
        .start()
        .await
        .unwrap();
    (issuer, client)
}

fn edit_user(value: &mut Value, edit: &impl Fn(&mut Value)) {
    match value {
        Value::Object(map) if map.get("username") == Some(&json!("carol")) => edit(value),
        Value::Object(map) => map.values_mut().for_each(|v| edit_user(v, edit)),
        Value::Array(items) => items.iter_mut().for_each(|v| edit_user(v, edit)),
        _ => {}
    }
}

#[tokio::test]
async fn disabled_and_unconfirmed_users_are_told_only_after_a_correct_password() {
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 2] = [
        (
            "disabled",
            |u| u["enabled"] = json!(false),
            "User is disabled.",
        ),
        (
            "unconfirmed",
            |u| u["status"] = json!("UNCONFIRMED"),
            "User is not confirmed.",
        ),
    ];
    for (name, edit, message) in cases {
        let (issuer, client) = with_edited_carol(name, edit).await;
        let q = [
            ("response_type", "code"),
            ("client_id", client.as_str()),
            ("redirect_uri", CALLBACK),
        ];
        let mut browser = Browser::new(&issuer);
        let wrong = browser.sign_in(&q, "carol", "Wrong-Password-1").await;
        assert!(
            wrong.body.contains("Incorrect username or password."),
            "{name}"
        );
        let right = browser.sign_in(&q, "carol", PASSWORD).await;
        assert_eq!(right.status, 200, "{name}");
        assert!(right.body.contains(message), "{name}: {}", right.body);
        assert!(!browser.cookies.contains_key("cognito"));
    }
}

#[tokio::test]
async fn repeated_failures_answer_password_attempts_exceeded() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    // Five failures are free; the sixth makes the next attempt wait.
    for _ in 0..6 {
        let page = browser
            .sign_in(&query(&h), "alice", "Wrong-Password-1")
            .await;
        assert!(page.body.contains("Incorrect username or password."));
    }
    let locked = browser.sign_in(&query(&h), "alice", PASSWORD).await;
    assert_eq!(locked.status, 200);
    assert!(
        locked.body.contains("Password attempts exceeded"),
        "{}",
        locked.body
    );
    assert!(!browser.cookies.contains_key("cognito"));
}

#[tokio::test]
async fn signing_in_again_ends_the_previous_session() {
    let h = hosted().await;
    h.pool.create_user("dave", PASSWORD, &[]).unwrap();
    let mut browser = Browser::new(&h.issuer);
    browser.sign_in(&query(&h), "alice", PASSWORD).await;
    let first = browser.cookies["cognito"].clone();
    // A fresh form post (not through authorize, which would reuse the session).
    let login = format!("/login?{}", url_encode(&query(&h)));
    let form = browser.get(&login).await;
    let csrf = form.hidden("_csrf").unwrap();
    let page = browser
        .post(
            &login,
            &[
                ("username", "dave"),
                ("password", PASSWORD),
                ("_csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, 302);
    let second = browser.cookies["cognito"].clone();
    assert_ne!(first, second, "a new session id");
    browser.cookies.insert("cognito".into(), first);
    let old = browser.authorize(&query(&h)).await;
    assert!(
        old.location.unwrap().starts_with("/login?"),
        "the old session is gone"
    );
}
