//! The admin listener: `/healthz`, `/readyz`, `/metrics`, and
//! `POST /revocations` (`revocations.rs`).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::limits::HEADER_READ_TIMEOUT;
use super::live::Live;
use super::metrics::{self, Metrics};
use crate::Verifier;

/// Serves the admin endpoints, one request per connection, until aborted.
pub(super) async fn serve_admin(
    listener: TcpListener,
    live: Arc<Live>,
    metrics: Arc<Metrics>,
    draining: Arc<AtomicBool>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (live, metrics) = (Arc::clone(&live), Arc::clone(&metrics));
        let draining = Arc::clone(&draining);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let draining = draining.load(Ordering::Relaxed);
            let verifier = live.verifier();
            let metrics = Arc::clone(&metrics);
            async move {
                let response = if request.uri().path() == "/revocations" {
                    let (status, body) = super::revocations::revoke(request, &verifier).await;
                    text_response(status, "text/plain", body)
                } else {
                    admin_response(&request, &verifier, &metrics, draining)
                };
                Ok::<_, Infallible>(response)
            }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `/readyz`: ready once a key set is loaded, any issuer's (so that one
/// issuer that is down never takes the others' traffic away), with a line
/// for each issuer whose key set is not loaded, and why.
fn readiness(verifier: &Verifier) -> (StatusCode, String) {
    let several = verifier.issuers().len() > 1;
    let mut body = String::new();
    for issuer in verifier.issuers().filter(|issuer| !issuer.has_keys()) {
        body.push_str("key set not loaded");
        if several {
            body.push_str(&format!(" for {}", issuer.issuer()));
        }
        if let Some(cause) = issuer.last_fetch_error() {
            body.push_str(&format!(": {cause}"));
        }
        body.push('\n');
    }
    if !verifier.revocations_usable() {
        // Tokens are refused (503) until the list is current again.
        body.push_str("revocation list unusable: its shared store is unreachable\n");
        return (StatusCode::SERVICE_UNAVAILABLE, body);
    }
    if verifier.issuers().any(|issuer| issuer.has_keys()) {
        (StatusCode::OK, format!("ready\n{body}"))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}

fn admin_response(
    request: &Request<Incoming>,
    verifier: &Verifier,
    metrics: &Metrics,
    draining: bool,
) -> Response<Full<Bytes>> {
    let format = metrics::Format::from_accept(request.headers().get(http::header::ACCEPT));
    let (status, content_type, body) = match request.uri().path() {
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        "/readyz" if draining => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "shutting down\n".to_string(),
        ),
        "/readyz" => {
            let (status, body) = readiness(verifier);
            (status, "text/plain", body)
        }
        "/metrics" => (
            StatusCode::OK,
            format.content_type(),
            metrics.render(format),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    text_response(status, content_type, body)
}

fn text_response(
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}
