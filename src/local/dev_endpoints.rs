//! The `/_local/` endpoints: what a developer needs that Cognito has no API
//! for. Key rotation, the key list, the message outbox, and the token
//! workbench's verification (`workbench.rs`). Guarded like the management
//! API (`guard.rs`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::error::ApiError;
use super::shared::Shared;
use super::state::now_epoch;
use super::workbench;
use crate::sync::lock;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_local/{pool}/rotate-key", post(rotate_key))
        .route("/_local/{pool}/keys", get(keys))
        .route("/_local/{pool}/messages", get(messages))
        .route("/_local/{pool}/verify", post(workbench::verify))
}

#[derive(serde::Deserialize)]
struct RotateQuery {
    grace_seconds: Option<f64>,
}

/// `POST /_local/{pool}/rotate-key?grace_seconds=N`: a new signing key; the
/// old one stays published for N seconds (default 3600).
async fn rotate_key(
    State(shared): State<Arc<Shared>>,
    Path(pool): Path<String>,
    Query(query): Query<RotateQuery>,
) -> Response {
    let grace = query.grace_seconds.unwrap_or(3600.0);
    if !(grace.is_finite() && grace >= 0.0) {
        return (
            StatusCode::BAD_REQUEST,
            "grace_seconds must be a number >= 0\n",
        )
            .into_response();
    }
    let rotating = Arc::clone(&shared);
    let outcome = tokio::task::spawn_blocking(move || rotating.rotate(&pool, Some(grace)))
        .await
        .unwrap_or_else(|_| Err(ApiError::internal("the rotation was interrupted")))
        .map(|(kid, previous)| json!({ "kid": kid, "previous_kid": previous, "grace_seconds": grace }));
    match outcome {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => {
            let status = if e.kind() == "ResourceNotFoundException" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (status, axum::Json(e.body())).into_response()
        }
    }
}

/// `GET /_local/{pool}/messages`: the messages Cognito would have sent
/// (confirmation codes, temporary passwords), newest first; 404 for an
/// unknown pool. A local development aid: it shows temporary passwords.
async fn messages(State(shared): State<Arc<Shared>>, Path(pool): Path<String>) -> Response {
    if !lock(&shared.state).pools.contains_key(&pool) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let messages = lock(&shared.sessions).messages(&pool);
    let mut response = axum::Json(json!({ "Messages": messages })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /_local/{pool}/keys`: the pool's keys, the signing one marked, each
/// with its retirement time (epoch seconds) if it has one.
async fn keys(State(shared): State<Arc<Shared>>, Path(pool): Path<String>) -> Response {
    let now = now_epoch();
    let keys = shared.with_pool(&pool, |pool| {
        pool.keys
            .iter()
            .filter(|k| k.retire_at.is_none_or(|t| now < t))
            .map(|k| {
                json!({
                    "kid": k.key.kid(),
                    "alg": k.key.algorithm().as_str(),
                    "kty": k.key.public_jwk()["kty"],
                    "signing": k.key.kid() == pool.signing_kid,
                    "retires_at": k.retire_at,
                })
            })
            .collect::<Vec<_>>()
    });
    let Some(keys) = keys else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let jwks_uri = format!("{}/.well-known/jwks.json", shared.pool_url(&pool));
    let mut response = axum::Json(json!({ "Keys": keys, "jwks_uri": jwks_uri })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
