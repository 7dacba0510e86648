//! The local issuer's HTTP server.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{Fault, Shared, lock};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{pool}/.well-known/jwks.json", get(jwks))
        .route("/{pool}/.well-known/openid-configuration", get(discovery))
        .with_state(shared)
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

/// The response a fault calls for, if it replaces the normal one. A stall
/// waits here and then lets the normal response through.
async fn faulty(shared: &Shared) -> Option<Response> {
    let fault = lock(&shared.fault).clone();
    match fault {
        Fault::None | Fault::Down | Fault::Trickle(_) => None,
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(status.into_response())
        }
        Fault::Stall(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Fault::Garbage => Some(
            (
                [(header::CONTENT_TYPE, "application/json")],
                "<html>this is not a key set</html>",
            )
                .into_response(),
        ),
        Fault::HugeBody(bytes) => {
            const CHUNK: usize = 64 * 1024;
            let chunks = futures_util::stream::unfold(bytes, |left| async move {
                (left > 0).then(|| {
                    let n = left.min(CHUNK);
                    (Ok::<_, Infallible>(Bytes::from(vec![b' '; n])), left - n)
                })
            });
            Some(
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    Body::from_stream(chunks),
                )
                    .into_response(),
            )
        }
        Fault::EmptyKeys => Some(axum::Json(json!({ "keys": [] })).into_response()),
        Fault::Redirect(location) => {
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Some(response)
        }
    }
}

/// A JSON response, trickled one byte at a time under [`Fault::Trickle`].
fn json_response(shared: &Shared, body: Vec<u8>) -> Response {
    let fault = lock(&shared.fault).clone();
    let body = match fault {
        Fault::Trickle(interval) => {
            let bytes =
                futures_util::stream::unfold((body, 0usize), move |(body, at)| async move {
                    if at >= body.len() {
                        return None;
                    }
                    tokio::time::sleep(interval).await;
                    let byte = Bytes::copy_from_slice(&body[at..at + 1]);
                    Some((Ok::<_, Infallible>(byte), (body, at + 1)))
                });
            Body::from_stream(bytes)
        }
        _ => Body::from(body),
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn jwks(State(shared): State<Arc<Shared>>, Path(pool): Path<String>) -> Response {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    if let Some(response) = faulty(&shared).await {
        return response;
    }
    let document = lock(&shared.pools).get(&pool).map(super::Pool::jwks);
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
    if !lock(&shared.pools).contains_key(&pool) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let issuer = format!("{}/{pool}", shared.base_url);
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{}/oauth2/token", shared.base_url),
        "response_types_supported": ["code", "token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    });
    json_response(&shared, serde_json::to_vec(&document).unwrap_or_default())
}
