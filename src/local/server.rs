//! The local issuer's HTTP server.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::console;
use super::dev_endpoints;
use super::error::ApiError;
use super::fault::Fault;
use super::guard::has_content_type;
use super::hosted;
use super::ids::new_request_id;
use super::oauth;
use super::shared::Shared;
use super::state::{BUILT_IN_SCOPES, now_epoch};
use crate::log_safe::log_safe;
use crate::sync::lock;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // The controls: what only the issuer's own pages and programs may use.
    let controls = Router::new()
        .route("/", post(management))
        .merge(dev_endpoints::routes())
        .merge(console::routes())
        .route_layer(middleware::from_fn_with_state(Arc::clone(&shared), guarded));
    Router::new()
        .merge(controls)
        .route("/oauth2/token", post(token))
        .route("/oauth2/revoke", post(revoke))
        .merge(hosted::routes())
        .route("/{pool}/.well-known/jwks.json", get(jwks))
        .route("/{pool}/.well-known/openid-configuration", get(discovery))
        .with_state(shared)
}

/// Runs [`Guard::check`](super::guard::Guard::check) before a control.
async fn guarded(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let mut response = match shared.guard.check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::debug!(reason = refused.as_str(), "request to a control refused");
            let error = ApiError::new("AccessDeniedException", refused.as_str());
            let mut response = aws_json(StatusCode::FORBIDDEN, &error.body(), Some(error.kind()));
            response.headers_mut().insert(
                "x-scopegate-refused",
                HeaderValue::from_static(refused.code()),
            );
            response
        }
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The content types of AWS JSON requests (`application/json` too).
const AWS_JSON_TYPES: [&str; 3] = [
    "application/x-amz-json-1.1",
    "application/x-amz-json-1.0",
    "application/json",
];

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The region of a SigV4 `Authorization` header's credential scope
/// (`Credential=AKID/20260101/eu-west-1/cognito-idp/aws4_request`).
fn signed_region(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = value.split("Credential=").nth(1)?;
    let region = credential.split('/').nth(2)?;
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then(|| region.to_string())
}

fn aws_json(status: StatusCode, body: &Value, error_type: Option<&str>) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&new_request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(kind) = error_type.and_then(|k| HeaderValue::from_str(k).ok()) {
        headers.insert("x-amzn-errortype", kind);
    }
    response
}

/// `POST /`: the Cognito management API (AWS JSON 1.1). Any signature is
/// accepted: this is a local development server. An AWS JSON content type
/// is required, as AWS requires it (and as no HTML form can send).
async fn management(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = |status: StatusCode, e: ApiError| aws_json(status, &e.body(), Some(e.kind()));
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(action) = target.strip_prefix(TARGET_PREFIX) else {
        return error(
            StatusCode::BAD_REQUEST,
            ApiError::new(
                "UnknownOperationException",
                "X-Amz-Target names no Cognito action.",
            ),
        );
    };
    if !has_content_type(&headers, &AWS_JSON_TYPES) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::new(
                "UnsupportedMediaTypeException",
                "The Content-Type must be application/x-amz-json-1.1.",
            ),
        );
    }
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(input) => input,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    ApiError::new(
                        "SerializationException",
                        "The request body is not valid JSON.",
                    ),
                );
            }
        }
    };
    let region = signed_region(&headers).unwrap_or_else(|| shared.region.clone());
    // Off the async workers: key generation and state-file writes block.
    let (calling, action_name) = (Arc::clone(&shared), action.to_string());
    let outcome = tokio::task::spawn_blocking(move || calling.call(&region, &action_name, &input))
        .await
        .unwrap_or_else(|_| Err(ApiError::internal("the call was interrupted")));
    match outcome {
        Ok(output) => {
            tracing::debug!(action = %log_safe(action), "management call");
            aws_json(StatusCode::OK, &output, None)
        }
        Err(e) => {
            // The message may echo the input (names, values): escaped.
            tracing::debug!(
                action = %log_safe(action),
                error = %log_safe(&e.to_string()),
                "management call refused"
            );
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            error(status, e)
        }
    }
}

/// `POST /oauth2/token`.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    // Off the async workers: a grant may save the state file.
    let (granting, request_headers) = (Arc::clone(&shared), headers.clone());
    let outcome =
        tokio::task::spawn_blocking(move || oauth::token(&granting, &request_headers, &body))
            .await
            .unwrap_or_else(|_| Err(oauth::OAuthError::new("invalid_request", "interrupted")));
    let outcome = outcome.map(|issued| issued.body());
    oauth_json(outcome, "token request refused")
}

/// `POST /oauth2/revoke` (RFC 7009): 200 with an empty body, or an error.
async fn revoke(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (revoking, request_headers) = (Arc::clone(&shared), headers.clone());
    let outcome =
        tokio::task::spawn_blocking(move || oauth::revoke(&revoking, &request_headers, &body))
            .await
            .unwrap_or_else(|_| Err(oauth::OAuthError::new("invalid_request", "interrupted")));
    match outcome {
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        Err(e) => oauth_json(Err(e), "revocation refused"),
    }
}

/// A token-endpoint style JSON answer (RFC 6749 §5.1, §5.2).
fn oauth_json(outcome: Result<Value, oauth::OAuthError>, refused: &'static str) -> Response {
    let (status, body, basic) = match outcome {
        Ok(body) => (StatusCode::OK, body, false),
        Err(e) => {
            tracing::debug!(error = e.error, reason = e.description, "{refused}");
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, e.body(), e.status() == 401)
        }
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response();
    if basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"scopegate local issuer\""),
        );
    }
    response
}

/// Accepts connections until `stop` is dropped. Each connection serves one
/// request (no keep-alive), so that a fault applies to the very next request.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
) {
    let app = router(Arc::clone(&shared));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors or similar: wait a little, keep serving.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if *lock(&shared.fault) == Fault::Down {
            drop(stream);
            continue;
        }
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The response the current fault calls for, if it replaces the normal one.
async fn faulty(shared: &Shared) -> Option<Response> {
    let fault = lock(&shared.fault).clone();
    fault.response().await
}

/// A JSON response, as the fault of the moment (read again after a stall)
/// sends it.
fn json_response(shared: &Shared, body: Vec<u8>) -> Response {
    let fault = lock(&shared.fault).clone();
    fault.json_response(body)
}

async fn jwks(State(shared): State<Arc<Shared>>, Path(pool): Path<String>) -> Response {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    if let Some(response) = faulty(&shared).await {
        return response;
    }
    let now = now_epoch();
    let document = lock(&shared.state).pools.get(&pool).map(|p| p.jwks(now));
    let Some(document) = document else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = json_response(&shared, serde_json::to_vec(&document).unwrap_or_default());
    if let Some(value) = lock(&shared.cache_control)
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

async fn discovery(State(shared): State<Arc<Shared>>, Path(pool): Path<String>) -> Response {
    shared.discovery_requests.fetch_add(1, Ordering::SeqCst);
    if let Some(response) = faulty(&shared).await {
        return response;
    }
    let Some(document) = discovery_document(&shared, &pool) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    json_response(&shared, serde_json::to_vec(&document).unwrap_or_default())
}

/// A pool's OpenID Connect discovery document: every endpoint of the user
/// flows, so that a client library given only the issuer URL finds them.
fn discovery_document(shared: &Shared, pool_id: &str) -> Option<Value> {
    let state = lock(&shared.state);
    let pool = state.pools.get(pool_id)?;
    let base = &shared.base_url;
    let issuer = shared.pool_url(pool_id);
    let mut scopes: Vec<String> = BUILT_IN_SCOPES.iter().map(|s| s.to_string()).collect();
    for server in pool.resource_servers.values() {
        for (name, _) in &server.scopes {
            scopes.push(format!("{}/{name}", server.identifier));
        }
    }
    Some(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "end_session_endpoint": format!("{base}/logout"),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": super::oauth::DPOP_ALGORITHMS.map(|a| a.as_str()),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [pool.algorithm().as_str()],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "cognito:username", "cognito:groups", "email", "email_verified",
            "phone_number", "phone_number_verified", "name", "given_name",
            "family_name", "preferred_username", "username",
        ],
    }))
}
