//! The client side of the token endpoint: a client-credentials request over
//! HTTP, as a real client makes it.

use serde_json::Value;

use super::error::TokenRequestError;

/// Asks `endpoint` for an access token: client credentials, HTTP Basic
/// authentication (each part form-urlencoded, RFC 6749 §2.3.1), and `scopes`
/// (all of the client's when `None`).
pub(crate) async fn client_credentials(
    endpoint: &str,
    client_id: &str,
    client_secret: &str,
    scopes: Option<&[&str]>,
) -> Result<String, TokenRequestError> {
    let unanswered = |error: &str| TokenRequestError {
        status: 0,
        error: error.into(),
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|_| unanswered("no HTTP client"))?;
    let response = client
        .post(endpoint)
        .basic_auth(form_encode(client_id), Some(form_encode(client_secret)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(scopes))
        .send()
        .await
        .map_err(|_| unanswered("the token endpoint did not answer"))?;
    let status = response.status().as_u16();
    let body: Value = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    match body["access_token"].as_str() {
        Some(token) if status == 200 => Ok(token.to_string()),
        _ => Err(TokenRequestError {
            status,
            error: body["error"].as_str().unwrap_or("unknown").to_string(),
        }),
    }
}

/// The request body: the grant type, and the scopes if any are named.
fn form(scopes: Option<&[&str]>) -> String {
    let mut form = vec![("grant_type", "client_credentials".to_string())];
    if let Some(scopes) = scopes {
        form.push(("scope", scopes.join(" ")));
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

fn form_encode(part: &str) -> String {
    url::form_urlencoded::byte_serialize(part.as_bytes()).collect()
}
