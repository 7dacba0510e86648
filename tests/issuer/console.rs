//! The console's server side over real HTTP: the page and its defences, the
//! guard in front of the management API and the `/_local/` endpoints, the
//! workbench's verification through the real layer, and the key list. (The
//! console itself is walked in a real browser by scripts/browser-check.sh.)

use super::*;

/// The CSRF token embedded in the console page.
async fn csrf_token(issuer: &LocalIssuer) -> String {
    let page = http()
        .get(format!("{}/console", issuer.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"scopegate-csrf\" content=\"";
    let start = page.find(marker).expect("the page embeds its CSRF token") + marker.len();
    let token = &page[start..start + page[start..].find('"').unwrap()];
    assert!(token.len() >= 40 && !token.contains("__"), "{token}");
    token.to_string()
}

/// `ListUserPools` with extra headers; returns the status and the body
/// (with the `x-scopegate-refused` code as `refused`, if any).
async fn list_pools_with(issuer: &LocalIssuer, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = http()
        .post(issuer.base_url())
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.ListUserPools",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(r#"{"MaxResults": 10}"#);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let status = response.status().as_u16();
    let refused = response.headers().get("x-scopegate-refused").cloned();
    let mut body = json_body(response).await;
    // The header's code, beside the body, for the assertions.
    if let Some(code) = refused {
        body["refused"] = json!(code.to_str().unwrap());
    }
    (status, body)
}

fn origin_of(issuer: &LocalIssuer) -> String {
    issuer.base_url().trim_end_matches('/').to_string()
}

#[tokio::test]
async fn the_console_page_is_served_with_its_defences() {
    let issuer = empty_issuer().await;
    let response = http()
        .get(format!("{}/console", issuer.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Development only"),
        "the page shows the notice"
    );
    // A new issuer, a new token.
    let other = empty_issuer().await;
    assert_ne!(csrf_token(&issuer).await, csrf_token(&other).await);
    for (path, kind) in [
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/app.css", "text/css; charset=utf-8"),
    ] {
        let response = http()
            .get(format!("{}{path}", issuer.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], kind, "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(!response.text().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn programs_reach_the_management_api_as_before() {
    let issuer = empty_issuer().await;
    assert_eq!(list_pools_with(&issuer, &[]).await.0, 200);
}

#[tokio::test]
async fn the_console_reaches_it_with_its_token() {
    let issuer = empty_issuer().await;
    let token = csrf_token(&issuer).await;
    let origin = origin_of(&issuer);
    let browser = [
        ("origin", origin.as_str()),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "cors"),
        ("x-scopegate-csrf", token.as_str()),
    ];
    let (status, body) = list_pools_with(&issuer, &browser).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn cross_site_and_tokenless_browser_requests_are_refused() {
    let issuer = empty_issuer().await;
    let token = csrf_token(&issuer).await;
    let origin = origin_of(&issuer);
    let other = "http://127.0.0.1:1";
    let token = token.as_str();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("origin", other), ("x-scopegate-csrf", token)], "origin"),
        (&[("origin", "null"), ("x-scopegate-csrf", token)], "origin"),
        (
            &[("sec-fetch-site", "same-site"), ("x-scopegate-csrf", token)],
            "fetch-site",
        ),
        (
            &[
                ("sec-fetch-site", "cross-site"),
                ("x-scopegate-csrf", token),
            ],
            "fetch-site",
        ),
        (
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
            "csrf-token",
        ),
        (
            &[("origin", &origin), ("x-scopegate-csrf", "not-the-token")],
            "csrf-token",
        ),
    ];
    for (headers, code) in cases {
        let (status, body) = list_pools_with(&issuer, headers).await;
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert_eq!(body["refused"], code, "{headers:?}");
        assert_eq!(body["__type"], "AccessDeniedException", "{headers:?}");
    }
}

#[tokio::test]
async fn what_an_html_form_can_send_is_refused_and_changes_nothing() {
    let issuer = empty_issuer().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = http()
            .post(issuer.base_url())
            .header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.CreateUserPool",
            )
            .header("content-type", content_type)
            .body(r#"{"PoolName": "Forged"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
        let body = json_body(response).await;
        assert_eq!(body["__type"], "UnsupportedMediaTypeException");
    }
    let pools = ok(&issuer, "ListUserPools", json!({"MaxResults": 10})).await;
    assert_eq!(pools["UserPools"], json!([]));
}

#[tokio::test]
async fn a_preflight_is_never_granted() {
    let issuer = empty_issuer().await;
    let response = http()
        .request(reqwest::Method::OPTIONS, issuer.base_url())
        .header("origin", "http://127.0.0.1:1")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-amz-target",
        )
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_success(), "{}", response.status());
    for name in [
        "access-control-allow-origin",
        "access-control-allow-headers",
        "access-control-allow-methods",
    ] {
        assert!(!response.headers().contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn node_fetch_is_a_program_not_a_browser() {
    // undici (Node 18+ fetch, Amplify and the AWS SDK v3 in Node) sends
    // `sec-fetch-mode: cors` but neither `Origin` nor `Sec-Fetch-Site`.
    let issuer = empty_issuer().await;
    let response = http()
        .post(issuer.base_url())
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.CreateUserPool",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header("sec-fetch-mode", "cors")
        .header("accept-language", "*")
        .header("user-agent", "node")
        .body(r#"{"PoolName": "FromNode"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn allowed_host_names_reach_the_controls_on_any_address() {
    let issuer = LocalIssuer::builder()
        .listen(std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
        .allowed_hosts(["issuer"])
        .start()
        .await
        .unwrap();
    let port = issuer.addr().port();
    let pool = issuer.pool().id().to_string();
    for (host, expected) in [
        (format!("issuer:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
        (format!("attacker.example:{port}"), 403),
        (format!("issuer.attacker.example:{port}"), 403),
    ] {
        let response = http()
            .get(format!("http://127.0.0.1:{port}/_local/{pool}/messages"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{host}");
    }
    // The workbench's verifier reaches the keys over loopback.
    let photos = scopegate::ResourceServer::new("https://photos.example.com", "Photo API")
        .scope("photos.read", "Read");
    issuer.pool().create_resource_server(&photos).unwrap();
    let client = issuer
        .pool()
        .create_client("viewer", &["https://photos.example.com/photos.read"])
        .unwrap();
    let token = issuer
        .client_credentials(&client.id, &client.secret, None)
        .await
        .unwrap();
    let response = http()
        .post(format!("http://127.0.0.1:{port}/_local/{pool}/verify"))
        .header("content-type", "application/json")
        .body(
            json!({"token": token, "scope": "https://photos.example.com/photos.read"}).to_string(),
        )
        .send()
        .await
        .unwrap();
    let verdict = json_body(response).await;
    assert_eq!(verdict["accepted"], true, "{verdict}");
}

#[tokio::test]
async fn a_rebound_host_name_is_refused() {
    let issuer = LocalIssuer::start().await.unwrap();
    let pool = issuer.pool().id().to_string();
    let (status, body) = list_pools_with(&issuer, &[("host", "attacker.example")]).await;
    assert_eq!(status, 403, "{body}");
    for path in [
        "/console".to_string(),
        format!("/_local/{pool}/messages"),
        format!("/_local/{pool}/keys"),
    ] {
        let response = http()
            .get(format!("{}{path}", issuer.base_url()))
            .header("host", "attacker.example:9229")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let fine = http()
            .get(format!("{}{path}", issuer.base_url()))
            .header("host", format!("localhost:{}", issuer.addr().port()))
            .send()
            .await
            .unwrap();
        assert_eq!(fine.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn key_rotation_refuses_another_origin_and_keeps_the_key() {
    let issuer = LocalIssuer::start().await.unwrap();
    let pool = issuer.pool().id().to_string();
    let url = format!(
        "{}/_local/{pool}/rotate-key?grace_seconds=60",
        issuer.base_url()
    );
    let keys = || async {
        let response = http()
            .get(format!("{}/_local/{pool}/keys", issuer.base_url()))
            .send()
            .await
            .unwrap();
        json_body(response).await["Keys"].clone()
    };
    let before = keys().await;
    let forged = http()
        .post(&url)
        .header("origin", "http://127.0.0.1:1")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(keys().await, before);
    // As curl sends it (the README's command).
    let rotated = http().post(&url).send().await.unwrap();
    assert_eq!(rotated.status(), 200);
    let after = keys().await;
    assert_eq!(after.as_array().unwrap().len(), 2, "{after}");
}

#[tokio::test]
async fn the_key_list_marks_the_signing_key_and_the_retiring_one() {
    let issuer = LocalIssuer::start().await.unwrap();
    let pool = issuer.pool();
    let old = pool.signing_kid();
    let url = format!("{}/_local/{}", issuer.base_url(), pool.id());
    let rotated: Value = json_body(
        http()
            .post(format!("{url}/rotate-key?grace_seconds=120"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let listed = json_body(http().get(format!("{url}/keys")).send().await.unwrap()).await;
    let keys = listed["Keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{listed}");
    let by_kid = |kid: &str| keys.iter().find(|k| k["kid"] == kid).unwrap().clone();
    let (new, previous) = (by_kid(rotated["kid"].as_str().unwrap()), by_kid(&old));
    assert_eq!(new["signing"], true);
    assert_eq!(new["retires_at"], Value::Null);
    assert_eq!(previous["signing"], false);
    let retires = previous["retires_at"].as_f64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now + 100.0..now + 121.0).contains(&retires), "{retires}");
    assert_eq!(new["alg"], "RS256");
    assert_eq!(new["kty"], "RSA");
    assert!(
        listed["jwks_uri"]
            .as_str()
            .unwrap()
            .ends_with("/.well-known/jwks.json")
    );
    let missing = http()
        .get(format!("{}/_local/nope/keys", issuer.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The workbench's verdict on `token` for `scope`.
async fn verdict(issuer: &LocalIssuer, pool: &str, token: &str, scope: &str) -> (u16, Value) {
    let response = http()
        .post(format!("{}/_local/{pool}/verify", issuer.base_url()))
        .header("content-type", "application/json")
        .body(json!({"token": token, "scope": scope}).to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), json_body(response).await)
}

#[tokio::test]
async fn the_workbench_asks_the_layer() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read", "photos.write"]).await;
    let read = "https://photos.example.com/photos.read";
    let write = "https://photos.example.com/photos.write";
    let (id, secret) = client(&issuer, &pool, &[read]).await;
    let token = issuer.client_credentials(&id, &secret, None).await.unwrap();

    let (status, accepted) = verdict(&issuer, &pool, &token, read).await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["accepted"], true, "{accepted}");
    assert_eq!(accepted["status"], 200);
    let (_, any) = verdict(&issuer, &pool, &token, "").await;
    assert_eq!(any["accepted"], true, "{any}");

    let (_, refused) = verdict(&issuer, &pool, &token, write).await;
    assert_eq!(refused["accepted"], false);
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["error"], "insufficient_scope");
    let challenge = refused["www_authenticate"].as_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains(write), "{challenge}");

    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let (_, bad) = verdict(&issuer, &pool, &forged, read).await;
    assert_eq!(bad["status"], 401, "{bad}");
    assert_eq!(bad["error"], "invalid_token");
    assert!(
        !bad.to_string().contains(&forged),
        "the token is never echoed"
    );
}

#[tokio::test]
async fn the_workbench_refuses_what_it_cannot_judge() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    let (status, _) = verdict(&issuer, &pool, "x", "").await;
    assert_eq!(status, 409, "a pool without clients has no verifier");
    photo_server(&issuer, &pool, &["photos.read"]).await;
    client(&issuer, &pool, &["https://photos.example.com/photos.read"]).await;
    let (status, body) = verdict(&issuer, &pool, "x", "https://elsewhere.example/x").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = verdict(&issuer, "eu-west-1_none", "x", "").await;
    assert_eq!(status, 404);
    let plain = http()
        .post(format!("{}/_local/{pool}/verify", issuer.base_url()))
        .header("content-type", "text/plain")
        .body(r#"{"token": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
}
