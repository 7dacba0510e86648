//! `GET /oauth2/authorize`: what is a page and what goes back to the
//! client, each error code with `state`; the implicit flow; scopes and
//! resource indicators.

use super::hosted_support::*;
use super::*;

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_uri_is_a_page_never_a_redirect() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("response_type", "code"),
            ("client_id", "nobody"),
            ("redirect_uri", CALLBACK),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", &h.public),
            ("redirect_uri", "https://evil.example/cb"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", &h.public),
            ("redirect_uri", "http://localhost:3000/callback/x"),
        ],
        vec![("response_type", "code"), ("client_id", &h.public)],
        vec![("response_type", "code"), ("redirect_uri", CALLBACK)],
    ];
    for query in cases {
        let page = browser.authorize(&query).await;
        assert_eq!(page.status, 400, "{query:?}");
        assert!(page.location.is_none(), "{query:?}");
        assert!(page.body.contains(r#"role="alert""#), "{}", page.body);
        assert_eq!(page.headers["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn each_redirect_error_comes_back_with_its_code_and_state() {
    let h = hosted().await;
    let cc_only = browser_client(
        &h.issuer,
        json!({"AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": [READ_FULL]}),
    )
    .await["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let challenge = challenge(VERIFIER);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut q: Vec<(&str, String)> = vec![
            ("client_id", h.public.clone()),
            ("redirect_uri", CALLBACK.to_string()),
            ("state", "xyz".to_string()),
        ];
        q.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        q
    };
    let with_challenge = |method: &'static str| {
        let mut q = base(&[("response_type", "code"), ("code_challenge_method", method)]);
        q.push(("code_challenge", challenge.clone()));
        q
    };
    let mut implicit_refused = base(&[("response_type", "token")]);
    implicit_refused[0].1 = cc_only.clone();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            base(&[("response_type", "id_token")]),
            "unsupported_response_type",
        ),
        (base(&[]), "invalid_request"),
        (with_challenge("plain"), "invalid_request"),
        (
            base(&[("response_type", "code"), ("code_challenge_method", "S256")]),
            "invalid_request",
        ),
        (implicit_refused, "unauthorized_client"),
        (
            base(&[
                ("response_type", "code"),
                ("scope", "https://photos.example.com/photos.delete"),
            ]),
            "invalid_scope",
        ),
        (
            base(&[("response_type", "code"), ("scope", "email")]),
            "invalid_scope",
        ),
        (
            base(&[
                ("response_type", "code"),
                ("resource", "https://nowhere.example.com"),
            ]),
            "invalid_target",
        ),
    ];
    let mut browser = Browser::new(&h.issuer);
    for (query, error) in cases {
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = browser.authorize(&query).await;
        assert_eq!(page.status, 302, "{query:?}");
        assert_eq!(page.target(), CALLBACK, "{query:?}");
        assert_eq!(page.param("error").as_deref(), Some(error), "{query:?}");
        assert_eq!(page.param("state").as_deref(), Some("xyz"), "{query:?}");
        assert!(page.param("error_description").is_some());
    }
}

#[tokio::test]
async fn the_implicit_flow_answers_in_the_fragment_without_a_refresh_token() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let query = [
        ("response_type", "token"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
        ("state", "s1"),
        ("nonce", "n1"),
        ("scope", "openid https://photos.example.com/photos.read"),
    ];
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location.clone().unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    assert_eq!(page.param("state").as_deref(), Some("s1"));
    assert_eq!(page.param("token_type").as_deref(), Some("Bearer"));
    assert_eq!(page.param("expires_in").as_deref(), Some("3600"));
    assert!(page.param("refresh_token").is_none());
    let access = page.param("access_token").unwrap();
    let claims = access_verifier(&h, &h.public)
        .verify(&access)
        .await
        .unwrap();
    assert!(claims.has_scope(READ_FULL));
    let id = claims_of(&page.param("id_token").unwrap());
    assert_eq!(id["nonce"], "n1");
    // Errors of a token request go in the fragment too.
    let refused = browser
        .authorize(&[
            ("response_type", "token"),
            ("client_id", &h.public),
            ("redirect_uri", CALLBACK),
            ("scope", "nope"),
        ])
        .await;
    assert!(
        refused
            .location
            .unwrap()
            .starts_with(&format!("{CALLBACK}#error=invalid_scope"))
    );
}

#[tokio::test]
async fn a_resource_indicator_becomes_the_access_tokens_audience() {
    let h = hosted().await;
    let other = scopegate::ResourceServer::new("https://other.example.com", "Other")
        .scope("things.read", "Read things");
    h.pool.create_resource_server(&other).unwrap();
    let client = browser_client(
        &h.issuer,
        json!({"AllowedOAuthScopes": ["openid", READ_FULL, "https://other.example.com/things.read"]}),
    )
    .await["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut browser = Browser::new(&h.issuer);
    let query = [
        ("response_type", "token"),
        ("client_id", client.as_str()),
        ("redirect_uri", CALLBACK),
        ("resource", "https://photos.example.com"),
    ];
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    let access = claims_of(&page.param("access_token").unwrap());
    assert_eq!(access["aud"], "https://photos.example.com");
    // Only that resource's scopes (and the OIDC ones) are in the token.
    assert_eq!(access["scope"], format!("openid {READ_FULL}"));
    // A resource server with none of the granted scopes is refused.
    let refused = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client),
            ("redirect_uri", CALLBACK),
            ("scope", READ_FULL),
            ("resource", "https://other.example.com"),
        ])
        .await;
    assert_eq!(refused.param("error").as_deref(), Some("invalid_target"));
}

#[tokio::test]
async fn scope_rules_a_deleted_scope_is_left_out_and_a_removed_one_is_invalid() {
    let h = hosted().await;
    let mut browser = Browser::new(&h.issuer);
    let both = format!("openid {READ_FULL} {WRITE_FULL}");
    let query = |scope: &str| {
        vec![
            ("response_type".to_string(), "token".to_string()),
            ("client_id".to_string(), h.public.clone()),
            ("redirect_uri".to_string(), CALLBACK.to_string()),
            ("scope".to_string(), scope.to_string()),
        ]
    };
    let scope_of = async |browser: &mut Browser, scope: &str| {
        let q = query(scope);
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let page = browser.authorize(&q).await;
        page.param("access_token")
            .map(|t| claims_of(&t)["scope"].as_str().unwrap().to_string())
    };
    browser
        .sign_in(
            &query(&both)
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            "alice",
            PASSWORD,
        )
        .await;
    let update = |scopes: &[&str]| json!({"UserPoolId": h.pool.id(), "Identifier": "https://photos.example.com", "Name": "Photo API", "Scopes": photo_scopes(scopes)});
    ok(&h.issuer, "UpdateResourceServer", update(&["photos.read"])).await;
    assert_eq!(
        scope_of(&mut browser, &both).await.as_deref(),
        Some(format!("openid {READ_FULL}").as_str())
    );
    ok(
        &h.issuer,
        "UpdateResourceServer",
        update(&["photos.read", "photos.write"]),
    )
    .await;
    assert_eq!(
        scope_of(&mut browser, &both).await.as_deref(),
        Some(both.as_str())
    );
    // Taken off the client: asking for it is invalid_scope, no token.
    let client = ok(
        &h.issuer,
        "DescribeUserPoolClient",
        json!({"UserPoolId": h.pool.id(), "ClientId": h.public}),
    )
    .await;
    let mut input = client["UserPoolClient"].clone();
    input["AllowedOAuthScopes"] = json!(["openid", READ_FULL]);
    let input = json!({
        "UserPoolId": h.pool.id(), "ClientId": h.public,
        "AllowedOAuthFlows": input["AllowedOAuthFlows"], "AllowedOAuthScopes": input["AllowedOAuthScopes"],
        "AllowedOAuthFlowsUserPoolClient": true, "CallbackURLs": [CALLBACK],
    });
    ok(&h.issuer, "UpdateUserPoolClient", input).await;
    let q = query(&both);
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = browser.authorize(&q).await;
    assert_eq!(page.param("error").as_deref(), Some("invalid_scope"));
    assert!(page.param("access_token").is_none());
    // No scope: everything allowed.
    let q = [
        ("response_type", "token"),
        ("client_id", h.public.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let page = browser.authorize(&q).await;
    let all = claims_of(&page.param("access_token").unwrap());
    assert_eq!(all["scope"], format!("openid {READ_FULL}"));
}
