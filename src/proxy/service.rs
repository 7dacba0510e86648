//! The dispatcher: request id, path check, route match (deny by default),
//! spoofed-header removal, then the route's service: the layer in front of
//! [`Forward`], or `Forward` alone for public routes.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::time::Instant;
use tower_service::Service;

use super::config::{Access, Route};
use super::forward::{Forward, ProxyBody, RequestFacts, Upstream, plain};
use super::metrics::{Metrics, Outcome};
use super::routes::{Methods, PathPattern, ambiguous_path};
use crate::layer::{DefaultRejection, Rejection, RejectionKind, ScopeGate};
use tower_layer::Layer as _;

/// A route, ready to serve.
struct CompiledRoute {
    index: usize,
    methods: Methods,
    path: PathPattern,
    service: RouteService,
}

#[derive(Clone)]
enum RouteService {
    Gated(ScopeGate<Forward, DefaultRejection>),
    Public(Forward),
}

/// The proxy's request handler. Cheap to clone; one per connection, with
/// the peer's address.
#[derive(Clone)]
pub(crate) struct ProxyService {
    routes: Arc<[CompiledRoute]>,
    forward: Forward,
    metrics: Arc<Metrics>,
    peer: Option<SocketAddr>,
}

impl std::fmt::Debug for ProxyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyService")
            .field("routes", &self.routes.len())
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl ProxyService {
    pub(crate) fn new(routes: &[Route], forward: Forward, metrics: Arc<Metrics>) -> ProxyService {
        let routes: Vec<CompiledRoute> = routes
            .iter()
            .map(|route| CompiledRoute {
                index: route.index,
                methods: route.methods.clone(),
                path: route.path.clone(),
                service: match &route.access {
                    Access::Public => RouteService::Public(forward.clone()),
                    Access::Gated(layer) => RouteService::Gated(layer.layer(forward.clone())),
                },
            })
            .collect();
        ProxyService {
            routes: routes.into(),
            forward,
            metrics,
            peer: None,
        }
    }

    /// The same service, for a connection from `peer`.
    pub(crate) fn for_peer(&self, peer: SocketAddr) -> ProxyService {
        ProxyService {
            peer: Some(peer),
            ..self.clone()
        }
    }
}

/// A request id: the client's `x-request-id` if it is short and plain, else
/// a new one.
fn request_id(request: &Request<Incoming>) -> HeaderValue {
    let given = request
        .headers()
        .get("x-request-id")
        .filter(|v| {
            let b = v.as_bytes();
            !b.is_empty()
                && b.len() <= 64
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
        })
        .cloned();
    given.unwrap_or_else(|| {
        let mut bytes = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        HeaderValue::from_str(&hex).unwrap_or(HeaderValue::from_static("0"))
    })
}

fn outcome_of(response: &Response<ProxyBody>) -> Outcome {
    if let Some(rejection) = response.extensions().get::<Rejection>() {
        return match rejection.kind() {
            RejectionKind::InvalidRequest(_) => Outcome::BadRequest,
            RejectionKind::MissingCredentials | RejectionKind::InvalidToken(_) => {
                Outcome::Unauthorized
            }
            RejectionKind::InsufficientScope => Outcome::Forbidden,
            _ => Outcome::KeySetUnavailable,
        };
    }
    match response.extensions().get::<Upstream>() {
        Some(Upstream::Unreachable) => Outcome::BadGateway,
        Some(Upstream::TimedOut) => Outcome::GatewayTimeout,
        _ => Outcome::Forwarded,
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, Infallible>> + Send>>;

impl Service<Request<Incoming>> for ProxyService {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Incoming>) -> BoxFuture {
        let start = Instant::now();
        let id = request_id(&request);
        let method = request.method().clone();
        // The path only: the query may hold secrets (`?access_token=`).
        let path = request.uri().path().to_string();
        let metrics = Arc::clone(&self.metrics);

        let finish = move |mut response: Response<ProxyBody>,
                           outcome: Outcome,
                           route: Option<usize>,
                           id: HeaderValue| {
            metrics.count(outcome);
            if matches!(
                outcome,
                Outcome::BadRequest
                    | Outcome::Unauthorized
                    | Outcome::Forbidden
                    | Outcome::KeySetUnavailable
            ) && route.is_some()
            {
                metrics.observe_verification(start.elapsed());
            }
            let reason = response
                .extensions()
                .get::<Rejection>()
                .map(|r| r.kind().as_str());
            tracing::info!(
                request_id = id.to_str().unwrap_or(""),
                method = %method,
                path = %crate::jwk::log_safe(&path),
                route,
                status = response.status().as_u16(),
                outcome = outcome.label(),
                reason,
                elapsed_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
                "request"
            );
            response.headers_mut().insert("x-request-id", id);
            Ok(response)
        };

        if ambiguous_path(request.uri().path()) {
            let response = plain(StatusCode::BAD_REQUEST, "ambiguous request path\n");
            return Box::pin(async move { finish(response, Outcome::BadRequest, None, id) });
        }
        let Some(route) = self
            .routes
            .iter()
            .find(|r| r.methods.allows(request.method()) && r.path.matches(request.uri().path()))
        else {
            let response = plain(StatusCode::NOT_FOUND, "no route\n");
            return Box::pin(async move { finish(response, Outcome::NoRoute, None, id) });
        };

        // A client never sets the claim headers, on any route.
        for name in self.forward.claim_header_names() {
            request.headers_mut().remove(name);
        }
        request.extensions_mut().insert(RequestFacts {
            start,
            peer: self.peer,
            request_id: id.clone(),
        });
        let index = route.index;
        let mut service = route.service.clone();
        Box::pin(async move {
            let response = match &mut service {
                RouteService::Gated(gate) => {
                    let ready = std::future::poll_fn(|cx| gate.poll_ready(cx)).await;
                    match ready {
                        Ok(()) => gate.call(request).await,
                        Err(never) => match never {},
                    }
                }
                RouteService::Public(forward) => forward.call(request).await,
            };
            let response = match response {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let outcome = outcome_of(&response);
            finish(response, outcome, Some(index), id)
        })
    }
}
