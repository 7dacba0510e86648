//! `POST /_local/{pool}/verify`: the console's token workbench asks whether
//! this crate's own verifier and layer accept a token for a scope.
//!
//! Nothing is decided here: the request goes through a [`Verifier`] built
//! for the pool (its issuer URL and JWKS over HTTP, `token_use` `access`,
//! the pool's app clients as the client allow-list, its resource servers as
//! the scope registry) and the layer's `require(scope)` (or
//! `authenticated()`), exactly as an API would configure them. The answer is
//! the layer's: its status, challenge and fixed reason, never a claim.

use std::convert::Infallible;
use std::future::{Ready, poll_fn, ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use serde_json::json;
use tower_layer::Layer;
use tower_service::Service;

use super::guard::has_content_type;
use super::shared::Shared;
use crate::layer::{Rejection, RejectionKind};
use crate::{Issuer, ResourceServer, Verifier};

#[derive(serde::Deserialize)]
struct VerifyRequest {
    token: String,
    /// A full scope, or empty for "any valid token".
    #[serde(default)]
    scope: String,
}

/// The verifier's answer for one token and scope.
pub(crate) async fn verify(
    State(shared): State<Arc<Shared>>,
    Path(pool): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    if !has_content_type(&headers, &["application/json"]) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The Content-Type must be application/json.",
        );
    }
    let Ok(request) = serde_json::from_slice::<VerifyRequest>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The body must be {\"token\": ..., \"scope\": ...}.",
        );
    };
    let verifier = match verifier_for(&shared, &pool) {
        Ok(verifier) => verifier,
        Err(why) => return refuse(why.status(), why.as_str()),
    };
    let gate = if request.scope.is_empty() {
        verifier.authenticated()
    } else {
        match verifier.require(&request.scope) {
            Ok(gate) => gate,
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "The scope is not a scope of this pool's resource servers.",
                );
            }
        }
    };
    let mut service = gate.layer(Accept);
    let Ok(call) = Request::builder()
        .header("authorization", format!("Bearer {}", request.token))
        .body(())
    else {
        // Bytes a header cannot carry: no client could send this token.
        return refuse(
            StatusCode::BAD_REQUEST,
            "The token cannot be sent in a header.",
        );
    };
    let _ = poll_fn(|cx| service.poll_ready(cx)).await;
    let Ok(response) = service.call(call).await;
    answer(response.status(), response.extensions().get::<Rejection>())
}

/// Why no verifier could be built for a pool.
#[derive(Clone, Copy, Debug)]
enum NoVerifier {
    UnknownPool,
    NoClient,
    /// The issuer listens on a non-loopback address: the verifier fetches
    /// plain `http` from loopback only, as it does everywhere.
    NotLoopback,
}

impl NoVerifier {
    fn status(self) -> StatusCode {
        match self {
            NoVerifier::UnknownPool => StatusCode::NOT_FOUND,
            NoVerifier::NoClient => StatusCode::CONFLICT,
            NoVerifier::NotLoopback => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            NoVerifier::UnknownPool => "No such user pool.",
            NoVerifier::NoClient => "The pool has no app client, so no token can be valid.",
            NoVerifier::NotLoopback => {
                "The workbench verifies only when the issuer listens on loopback or on all addresses."
            }
        }
    }
}

/// A verifier configured for `pool` as an API protecting its resource
/// servers would be.
fn verifier_for(shared: &Shared, pool: &str) -> Result<Verifier, NoVerifier> {
    let (clients, servers) = shared
        .with_pool(pool, |pool| {
            let clients: Vec<String> = pool.clients.keys().cloned().collect();
            let servers: Vec<ResourceServer> = pool
                .resource_servers
                .values()
                .filter(|server| !server.scopes.is_empty())
                .map(|server| {
                    server.scopes.iter().fold(
                        ResourceServer::new(&server.identifier, &server.name),
                        |rs, (name, description)| rs.scope(name, description),
                    )
                })
                .collect();
            (clients, servers)
        })
        .ok_or(NoVerifier::UnknownPool)?;
    if clients.is_empty() {
        return Err(NoVerifier::NoClient);
    }
    let jwks_url = format!("{}/.well-known/jwks.json", shared.pool_url(pool));
    let issuer = Issuer::with_jwks_url(shared.pool_url(pool), reachable(&jwks_url));
    let builder = Verifier::builder(issuer)
        .token_use("access")
        .client_ids(clients)
        .key_set_timeouts(Duration::from_secs(2), Duration::from_secs(5));
    servers
        .into_iter()
        .fold(builder, |b, server| b.resource_server(server))
        .build()
        .map_err(|_| NoVerifier::NotLoopback)
}

/// `url` on this issuer, as a process on this machine reaches it: an
/// unspecified listen address (`0.0.0.0`, `[::]`) becomes loopback.
fn reachable(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) if ip.is_unspecified() => "127.0.0.1",
        Some(url::Host::Ipv6(ip)) if ip.is_unspecified() => "[::1]",
        _ => return url.to_string(),
    };
    match parsed.set_host(Some(loopback)) {
        Ok(()) => parsed.into(),
        Err(_) => url.to_string(),
    }
}

/// The error code of a rejection's challenge (RFC 6750, RFC 9470), if it
/// has one.
fn error_code(kind: RejectionKind) -> Option<&'static str> {
    match kind {
        RejectionKind::MissingCredentials => None,
        RejectionKind::InvalidRequest(_) => Some("invalid_request"),
        RejectionKind::InvalidToken(_) => Some("invalid_token"),
        RejectionKind::InsufficientScope => Some("insufficient_scope"),
        RejectionKind::AuthenticationTooOld => Some("insufficient_user_authentication"),
        RejectionKind::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
        RejectionKind::UseDpopNonce => Some("use_dpop_nonce"),
        _ => None,
    }
}

/// The layer's answer: status, challenge, RFC 6750 error code and fixed
/// reason.
fn answer(status: StatusCode, rejection: Option<&Rejection>) -> axum::response::Response {
    let body = json!({
        "accepted": status == StatusCode::OK,
        "status": status.as_u16(),
        "www_authenticate": rejection
            .and_then(Rejection::www_authenticate)
            .and_then(|v| v.to_str().ok()),
        "error": rejection.and_then(|r| error_code(r.kind())),
        "detail": rejection.map(|r| r.kind().as_str()),
    });
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

fn refuse(status: StatusCode, message: &'static str) -> axum::response::Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// The service behind the layer: it accepts whatever reaches it.
#[derive(Clone, Copy)]
struct Accept;

impl Service<Request<()>> for Accept {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(())))
    }
}
