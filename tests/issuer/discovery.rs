//! The discovery document lists every endpoint of the user flows, and each
//! one answers.

use super::hosted_support::*;
use super::*;

#[tokio::test]
async fn discovery_lists_every_endpoint_and_each_answers() {
    let h = hosted().await;
    let doc: Value = json_body(
        http()
            .get(format!("{}/.well-known/openid-configuration", h.pool.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(doc["issuer"], h.pool.url());
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["response_types_supported"], json!(["code", "token"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(
        doc["grant_types_supported"],
        json!([
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials"
        ])
    );
    let scopes = doc["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("openid")) && scopes.contains(&json!(READ_FULL)));
    assert!(
        doc["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answers = [
        ("authorization_endpoint", "GET", 400),
        ("end_session_endpoint", "GET", 400),
        ("userinfo_endpoint", "GET", 401),
        ("token_endpoint", "POST", 400),
        ("revocation_endpoint", "POST", 400),
        ("jwks_uri", "GET", 200),
    ];
    for (member, method, status) in answers {
        let url = doc[member].as_str().unwrap_or_else(|| panic!("{member}"));
        let request = match method {
            "GET" => client.get(url),
            _ => client.post(url).form_body(&[]),
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{member} {url}");
    }
}
