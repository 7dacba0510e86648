//! Helpers of the hosted sign-in tests: a pool with a photo API, a public and
//! a confidential browser client and a user; a browser (no redirects
//! followed, its own cookie jar); PKCE; the login form read from the HTML.

use std::collections::BTreeMap;

use aws_lc_rs::digest;
use scopegate::local::{LocalIssuer, UserPool};
use scopegate::{ResourceServer, Verifier};

use super::*;

pub(crate) const CALLBACK: &str = "http://localhost:3000/callback";
pub(crate) const SIGNED_OUT: &str = "http://localhost:3000/bye";
pub(crate) const PASSWORD: &str = "Correct-Horse-9";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// An issuer and what the tests sign in with.
pub(crate) struct Hosted {
    pub(crate) issuer: LocalIssuer,
    pub(crate) pool: UserPool,
    pub(crate) public: String,
    pub(crate) confidential: (String, String),
}

pub(crate) fn photos() -> ResourceServer {
    ResourceServer::new("https://photos.example.com", "Photo API")
        .scope("photos.read", "Read photos")
        .scope("photos.write", "Write photos")
}

/// A browser client of the default pool: `extra` overrides the members.
pub(crate) async fn browser_client(issuer: &LocalIssuer, extra: Value) -> Value {
    let mut input = json!({
        "UserPoolId": issuer.pool_id(), "ClientName": "web",
        "AllowedOAuthFlows": ["code", "implicit"],
        "AllowedOAuthScopes": ["openid", "email", "profile", READ_FULL, WRITE_FULL],
        "AllowedOAuthFlowsUserPoolClient": true,
        "CallbackURLs": [CALLBACK], "LogoutURLs": [SIGNED_OUT],
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    ok(issuer, "CreateUserPoolClient", input).await["UserPoolClient"].clone()
}

/// The photo API, a public and a confidential client, and `alice`
/// (in group `editors`).
pub(crate) async fn hosted() -> Hosted {
    let issuer = LocalIssuer::start().await.unwrap();
    let pool = issuer.pool();
    pool.create_resource_server(&photos()).unwrap();
    let public = browser_client(&issuer, json!({})).await["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let confidential = browser_client(
        &issuer,
        json!({"ClientName": "server", "GenerateSecret": true, "AllowedOAuthFlows": ["code"]}),
    )
    .await;
    let confidential = (
        confidential["ClientId"].as_str().unwrap().to_string(),
        confidential["ClientSecret"].as_str().unwrap().to_string(),
    );
    pool.create_user(
        "alice",
        PASSWORD,
        &[("email", "alice@example.com"), ("email_verified", "true")],
    )
    .unwrap();
    pool.add_user_to_group("alice", "editors").unwrap();
    Hosted {
        issuer,
        pool,
        public,
        confidential,
    }
}

/// The S256 challenge of a verifier.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// The hidden input `name`'s value.
    pub(crate) fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!(r#"name="{name}" value=""#);
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_string())
    }

    /// A parameter of the `Location`'s query or fragment.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        let location = self.location.as_deref()?;
        let part = location.split_once('#').map_or_else(
            || location.split_once('?').map_or("", |(_, q)| q),
            |(_, f)| f,
        );
        url::form_urlencoded::parse(part.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The `Location` without its query or fragment.
    pub(crate) fn target(&self) -> String {
        let location = self.location.clone().unwrap_or_default();
        location
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// A browser: follows no redirect, keeps its cookies.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    pub(crate) cookies: BTreeMap<String, String>,
}

impl Browser {
    pub(crate) fn new(issuer: &LocalIssuer) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: issuer.base_url().to_string(),
            cookies: BTreeMap::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, val) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), val.to_string());
            }
        }
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(self.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .form_body(form)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// `GET /oauth2/authorize?{query}`.
    pub(crate) async fn authorize(&mut self, query: &[(&str, &str)]) -> Page {
        self.get(&format!("/oauth2/authorize?{}", url_encode(query)))
            .await
    }

    /// Authorize, then the login form (GET, read `_csrf`, POST).
    pub(crate) async fn sign_in(
        &mut self,
        query: &[(&str, &str)],
        user: &str,
        password: &str,
    ) -> Page {
        let authorize = self.authorize(query).await;
        assert_eq!(authorize.status, 302, "{}", authorize.body);
        let login = authorize.location.clone().unwrap();
        assert!(login.starts_with("/login?"), "{login}");
        let form = self.get(&login).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.hidden("_csrf").unwrap();
        self.post(
            &login,
            &[
                ("username", user),
                ("password", password),
                ("_csrf", &csrf),
                ("signin", ""),
            ],
        )
        .await
    }
}

/// The query of a code + PKCE request of `client`.
pub(crate) fn code_query<'a>(client: &'a str, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", CALLBACK),
        ("state", "st-123"),
        ("nonce", "n-456"),
        (
            "scope",
            "openid email https://photos.example.com/photos.read",
        ),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// `POST /oauth2/token` with `form`, Basic when `basic` is given.
pub(crate) async fn token_call(
    issuer: &LocalIssuer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = http().post(issuer.token_endpoint()).form_body(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

/// Redeems a code of the public client (verifier `VERIFIER`, callback
/// `CALLBACK`), with `extra` parameters.
pub(crate) async fn redeem_public(h: &Hosted, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", h.public.as_str()),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    form.extend_from_slice(extra);
    token_call(&h.issuer, None, &form).await
}

/// Signs `alice` in with the public client and redeems the code.
pub(crate) async fn public_tokens(h: &Hosted) -> Value {
    let mut browser = Browser::new(&h.issuer);
    let challenge = challenge(VERIFIER);
    let page = browser
        .sign_in(&code_query(&h.public, &challenge), "alice", PASSWORD)
        .await;
    let code = page.param("code").unwrap();
    let (status, body) = redeem_public(h, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A verifier of the pool's access tokens for `client`.
pub(crate) fn access_verifier(h: &Hosted, client: &str) -> Verifier {
    Verifier::builder(h.pool.issuer())
        .token_use("access")
        .client_ids([client])
        .resource_server(photos())
        .build()
        .unwrap()
}

/// `GET /oauth2/userInfo` with a bearer token.
pub(crate) async fn userinfo(issuer: &LocalIssuer, token: Option<&str>) -> (u16, String, String) {
    let mut request = http().get(format!("{}/oauth2/userInfo", issuer.base_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, challenge, response.text().await.unwrap())
}
