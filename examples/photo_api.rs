//! Run with: cargo run --example photo_api
//!
//! A photo API protected by scopegate, with a local Cognito-compatible issuer
//! in the same process, so it runs offline:
//!
//! - `GET /photos` needs `https://photos.example.com/photos.read`;
//! - `POST /photos` and `DELETE /photos/{id}` need `.../photos.write`.
//!
//! It sets up the issuer as you would set up Cognito (a user pool, the "Photo
//! API" resource server with two scopes, a read-only and a read-write machine
//! client, a web client and a user `alice` in the `editors` group), gets the
//! machines' tokens from `/oauth2/token` with client credentials and signs
//! alice in through the hosted pages (`/oauth2/authorize` → `/login` →
//! `/oauth2/token`, authorization code with PKCE) over HTTP like real
//! clients, walks through allowed and refused calls, and prints curl
//! commands. In a terminal it keeps serving until Ctrl-C so that you can
//! paste them; otherwise it exits.
//!
//! Against an issuer of your own (`scopegate issuer`, or Cognito), it only
//! serves the API, until Ctrl-C:
//!
//! ```sh
//! cargo run --example photo_api -- --issuer http://127.0.0.1:9229/us-east-1_XXXX \
//!     --client-id YOUR_CLIENT_ID [--listen 127.0.0.1:8080]
//! ```

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use scopegate::local::LocalIssuer;
use scopegate::{Claims, ResourceServer, Verifier};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

pub(crate) const READ: &str = "https://photos.example.com/photos.read";
pub(crate) const WRITE: &str = "https://photos.example.com/photos.write";
/// Where the web client's sign-ins come back to (a registered callback URL).
const CALLBACK: &str = "http://localhost:3000/callback";
const ALICE_PASSWORD: &str = "Photos-4-alice!";

#[derive(Clone, Default)]
struct Photos {
    inner: Arc<Mutex<BTreeMap<u64, Photo>>>,
}

#[derive(Clone, Serialize)]
struct Photo {
    id: u64,
    title: String,
    owner: String,
}

#[derive(Deserialize)]
struct NewPhoto {
    title: String,
}

/// The resource server, as it would be defined in Cognito.
pub(crate) fn photo_api() -> ResourceServer {
    ResourceServer::new("https://photos.example.com", "Photo API")
        .scope("photos.read", "Read your photos")
        .scope("photos.write", "Add and delete your photos")
}

/// The API: each route carries the scope it needs.
pub(crate) fn app(verifier: &Verifier) -> Result<Router, scopegate::ConfigError> {
    let read = verifier.require(READ)?;
    let write = verifier.require(WRITE)?;
    Ok(Router::new()
        .route("/photos", get(list).route_layer(read))
        .route("/photos", post(upload).route_layer(write.clone()))
        .route("/photos/{id}", delete(remove).route_layer(write))
        .with_state(Photos::default()))
}

async fn list(State(photos): State<Photos>) -> Json<Vec<Photo>> {
    let photos = photos.inner.lock().unwrap_or_else(|p| p.into_inner());
    Json(photos.values().cloned().collect())
}

async fn upload(
    State(photos): State<Photos>,
    claims: Claims,
    Json(new): Json<NewPhoto>,
) -> (StatusCode, Json<Photo>) {
    let mut photos = photos.inner.lock().unwrap_or_else(|p| p.into_inner());
    let id = photos.keys().next_back().map_or(1, |last| last + 1);
    let photo = Photo {
        id,
        title: new.title,
        // A user's token names the user; a machine's, only its client.
        owner: claims
            .username()
            .or(claims.client_id())
            .unwrap_or_default()
            .to_string(),
    };
    photos.insert(id, photo.clone());
    (StatusCode::CREATED, Json(photo))
}

async fn remove(State(photos): State<Photos>, Path(id): Path<u64>) -> StatusCode {
    let mut photos = photos.inner.lock().unwrap_or_else(|p| p.into_inner());
    match photos.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

/// A public web client (no secret) for people: the authorization-code flow,
/// the OpenID and photo scopes, and its callback URL.
pub(crate) fn create_web_client(
    issuer: &LocalIssuer,
    pool_id: &str,
) -> Result<String, scopegate::local::ApiError> {
    let out = issuer.call(
        "CreateUserPoolClient",
        serde_json::json!({
            "UserPoolId": pool_id,
            "ClientName": "photo-web",
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthScopes": ["openid", "email", READ, WRITE],
            "CallbackURLs": [CALLBACK],
        }),
    )?;
    Ok(out["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// `--issuer URL --client-id ID... [--listen ADDR]`: serve the API for
/// another issuer's tokens.
struct External {
    issuer: String,
    client_ids: Vec<String>,
    listen: String,
}

fn external_issuer() -> Result<Option<External>, String> {
    let mut args = std::env::args().skip(1);
    let mut external = External {
        issuer: String::new(),
        client_ids: Vec::new(),
        listen: "127.0.0.1:0".into(),
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--issuer" => external.issuer = value,
            "--client-id" => external.client_ids.push(value),
            "--listen" => external.listen = value,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    match (external.issuer.is_empty(), external.client_ids.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some(external)),
        _ => Err("--issuer and --client-id go together".into()),
    }
}

/// Serves the API for tokens of `external.issuer` (found by OpenID Connect
/// discovery) until Ctrl-C.
async fn serve_external(external: External) -> Result<(), Box<dyn std::error::Error>> {
    let verifier = Verifier::builder(scopegate::Issuer::discover(&external.issuer))
        .token_use("access")
        .client_ids(external.client_ids.iter().map(String::as_str))
        .resource_server(photo_api())
        .build()?;
    let listener = tokio::net::TcpListener::bind(&external.listen).await?;
    println!("photo API   http://{}", listener.local_addr()?);
    axum::serve(listener, app(&verifier)?)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();
    match external_issuer() {
        Ok(Some(external)) => return serve_external(external).await,
        Ok(None) => {}
        Err(message) => {
            eprintln!("photo_api: {message}");
            std::process::exit(2);
        }
    }

    // 1. A local issuer, set up as you would set up Cognito: a user pool, a
    //    resource server with custom scopes, and two app clients.
    let issuer = LocalIssuer::builder()
        .without_default_pool()
        .start()
        .await?;
    let pool = issuer.create_user_pool("Photos")?;
    pool.create_resource_server(&photo_api())?;
    let viewer_client = pool.create_client("photo-viewer", &[READ])?;
    let editor_client = pool.create_client("photo-editor", &[READ, WRITE])?;
    let web_client = create_web_client(&issuer, pool.id())?;
    pool.create_user("alice", ALICE_PASSWORD, &[("email", "alice@example.com")])?;
    pool.add_user_to_group("alice", "editors")?;
    println!("issuer      {}", pool.url());

    // 2. The verifier: which issuer, which clients, which resource servers.
    let verifier = Verifier::builder(pool.issuer())
        .token_use("access")
        .client_ids([
            viewer_client.id.as_str(),
            editor_client.id.as_str(),
            web_client.as_str(),
        ])
        .resource_server(photo_api())
        .build()?;

    // 3. The API on loopback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("photo API   {base}");
    let server = tokio::spawn(axum::serve(listener, app(&verifier)?).into_future());

    // 4. Each client gets its token from the token endpoint (client
    //    credentials over HTTP), with all the scopes it is allowed.
    let viewer = issuer
        .client_credentials(&viewer_client.id, &viewer_client.secret, None)
        .await?;
    let editor = issuer
        .client_credentials(&editor_client.id, &editor_client.secret, None)
        .await?;
    // Alice signs in through the hosted pages, as a browser would, asking
    // for the read scope only: her token carries it, and `editors`.
    let alice = issuer
        .sign_in(
            &web_client,
            CALLBACK,
            "alice",
            ALICE_PASSWORD,
            Some(&["openid", "email", READ]),
        )
        .await?
        .access_token;

    // 5. A walk through allowed and refused calls.
    let http = reqwest::Client::new();
    let photos = format!("{base}/photos");
    let calls: [(&str, &str, Option<&str>, Option<&str>); 9] = [
        ("GET", &photos, None, None),
        ("GET", &photos, Some("not-a-token"), None),
        ("GET", &photos, Some(&viewer), None),
        (
            "POST",
            &photos,
            Some(&viewer),
            Some(r#"{"title":"sunset"}"#),
        ),
        (
            "POST",
            &photos,
            Some(&editor),
            Some(r#"{"title":"sunset"}"#),
        ),
        ("GET", &photos, Some(&viewer), None),
        ("GET", &photos, Some(&alice), None),
        ("POST", &photos, Some(&alice), Some(r#"{"title":"beach"}"#)),
        ("DELETE", &format!("{base}/photos/1"), Some(&editor), None),
    ];
    println!();
    for (method, url, token, body) in calls {
        let mut request = http.request(method.parse()?, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("  WWW-Authenticate: {v}"))
            .unwrap_or_default();
        let who = match token {
            None => "no token",
            Some(t) if t == viewer => "viewer",
            Some(t) if t == editor => "editor",
            Some(t) if t == alice => "alice",
            Some(_) => "bad token",
        };
        let body = response.text().await?;
        let body = if body.is_empty() {
            String::new()
        } else {
            format!("  {body}")
        };
        println!(
            "{method:6} {:18} {who:9} -> {status}{challenge}{body}",
            url.trim_start_matches(&base)
        );
    }

    println!("\nTry it yourself:\n");
    println!(
        "  export VIEWER=$(curl -s -u '{}:{}' -d grant_type=client_credentials {} | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')",
        viewer_client.id,
        viewer_client.secret,
        issuer.token_endpoint()
    );
    println!("  export EDITOR='{editor}'");
    println!("  curl -i {photos}");
    println!("  curl -i -H \"Authorization: Bearer $VIEWER\" {photos}");
    println!(
        "  curl -i -H \"Authorization: Bearer $VIEWER\" -H 'content-type: application/json' -d '{{\"title\":\"x\"}}' {photos}"
    );
    println!(
        "  curl -i -H \"Authorization: Bearer $EDITOR\" -H 'content-type: application/json' -d '{{\"title\":\"x\"}}' {photos}"
    );

    println!(
        "\nAlice signs in in a browser at:\n  {}/oauth2/authorize?response_type=code&client_id={web_client}&redirect_uri={CALLBACK}&scope=openid+{READ}\n  (user alice, password {ALICE_PASSWORD}; the code lands on {CALLBACK})",
        issuer.base_url()
    );

    if std::io::stdout().is_terminal() {
        println!("\nServing until Ctrl-C.");
        tokio::signal::ctrl_c().await?;
    }
    server.abort();
    Ok(())
}
