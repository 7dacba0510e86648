//! The client side of the issuer, over HTTP as a real client makes it: a
//! client-credentials request, and a user's sign-in through the hosted pages
//! (authorization code with PKCE).

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
    let (status, body) = json_body(response).await;
    match body["access_token"].as_str() {
        Some(token) if status == 200 => Ok(token.to_string()),
        _ => Err(TokenRequestError {
            status,
            error: body["error"].as_str().unwrap_or("unknown").to_string(),
        }),
    }
}

/// A token endpoint's answer: its status and JSON body (`null` if it has
/// none).
async fn json_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    (status, body)
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

/// The tokens of a user's sign-in through the hosted pages
/// ([`LocalIssuer::sign_in`](super::LocalIssuer::sign_in)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UserSignIn {
    /// The access token (`token_use` `access`, the granted scopes).
    pub access_token: String,
    /// The ID token, when `openid` was granted.
    pub id_token: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// What a browser would do, over HTTP: authorize (PKCE S256) → the login
/// page → post the form (with its CSRF token and cookie) → the code at the
/// redirect URI → the token endpoint.
pub(crate) struct CodeFlow<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) username: &'a str,
    pub(crate) password: &'a str,
    pub(crate) scopes: Option<&'a [&'a str]>,
}

impl CodeFlow<'_> {
    pub(crate) async fn run(&self) -> Result<UserSignIn, TokenRequestError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| refused(0, "no HTTP client"))?;
        let verifier = super::ids::random_alnum(64, true);
        let state = super::ids::random_alnum(16, true);
        let login = self.authorize(&http, &verifier, &state).await?;
        let code = self.post_login(&http, &login, &state).await?;
        self.redeem(&http, &code, &verifier).await
    }

    /// `GET /oauth2/authorize`: the login page's URL.
    async fn authorize(
        &self,
        http: &reqwest::Client,
        verifier: &str,
        state: &str,
    ) -> Result<String, TokenRequestError> {
        let challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("state", state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        let scope = self.scopes.map(|s| s.join(" "));
        if let Some(scope) = &scope {
            query.push(("scope", scope));
        }
        let url = format!("{}/oauth2/authorize?{}", self.base_url, encode(&query));
        let response = send(http.get(url)).await?;
        let login = location(&response).ok_or_else(|| page_error(&response))?;
        Ok(format!("{}{login}", self.base_url))
    }

    /// `GET` then `POST /login`: the code from the redirect.
    async fn post_login(
        &self,
        http: &reqwest::Client,
        login: &str,
        state: &str,
    ) -> Result<String, TokenRequestError> {
        let page = send(http.get(login)).await?;
        let cookie = set_cookie(&page, "XSRF-TOKEN").ok_or_else(|| page_error(&page))?;
        let body = page.text().await.unwrap_or_default();
        let csrf = hidden_input(&body, "_csrf").ok_or_else(|| refused(200, "no login form"))?;
        let form = encode(&[
            ("_csrf", &csrf),
            ("username", self.username),
            ("password", self.password),
        ]);
        let response = send(
            http.post(login)
                .header("cookie", format!("XSRF-TOKEN={cookie}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        )
        .await?;
        let target = location(&response)
            .ok_or_else(|| refused(response.status().as_u16(), "sign-in refused"))?;
        let params = query_of(&target);
        if params.iter().any(|(k, v)| k == "state" && v != state) {
            return Err(refused(302, "the state came back changed"));
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        match param("code") {
            Some(code) => Ok(code),
            None => Err(refused(
                302,
                &param("error").unwrap_or_else(|| "no code".into()),
            )),
        }
    }

    /// `POST /oauth2/token` with the code and the PKCE verifier.
    async fn redeem(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
    ) -> Result<UserSignIn, TokenRequestError> {
        let form = encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri),
            ("client_id", self.client_id),
            ("code_verifier", verifier),
        ]);
        let response = send(
            http.post(format!("{}/oauth2/token", self.base_url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        )
        .await?;
        let (status, body) = json_body(response).await;
        let text = |name: &str| body[name].as_str().map(str::to_string);
        match text("access_token") {
            Some(access_token) if status == 200 => Ok(UserSignIn {
                access_token,
                id_token: text("id_token"),
                refresh_token: text("refresh_token"),
                expires_in: body["expires_in"].as_u64().unwrap_or(0),
            }),
            _ => Err(refused(status, body["error"].as_str().unwrap_or("unknown"))),
        }
    }
}

fn refused(status: u16, error: &str) -> TokenRequestError {
    TokenRequestError {
        status,
        error: error.to_string(),
    }
}

/// A page that should have been a redirect: an error page of the issuer.
fn page_error(response: &reqwest::Response) -> TokenRequestError {
    refused(
        response.status().as_u16(),
        "the issuer answered with a page",
    )
}

async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, TokenRequestError> {
    request
        .send()
        .await
        .map_err(|_| refused(0, "the issuer did not answer"))
}

fn location(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get("location")?.to_str().ok()?;
    Some(value.to_string())
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            let pair = v.to_str().ok()?.split(';').next()?;
            let (n, value) = pair.split_once('=')?;
            (n.trim() == name).then(|| value.to_string())
        })
}

/// The value of `<input type="hidden" name="{name}" value="...">`.
fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
