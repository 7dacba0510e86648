//! The dispatcher: request id, path check, route match (deny by default),
//! spoofed-header removal, then the route's service: the layer in front of
//! [`Forward`], or `Forward` alone for public routes.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tokio::time::Instant;
use tower_service::Service;

use super::client::ClientConnection;
use super::config::{Access, Route};
use super::forward::{Forward, ProxyBody, RequestFacts, Upstream, plain};
use super::metrics::{Metrics, Outcome};
use super::routes::{Methods, PathPattern, ambiguous_path, canonical_path};
use super::spoofable::is_spoofable;
use super::websocket::{Session, is_websocket_upgrade};
use crate::ResourceMetadata;
use crate::layer::{DefaultRejection, Rejection, RejectionKind, ScopeGate};
use tower_layer::Layer as _;

/// A route, ready to serve.
struct CompiledRoute {
    index: usize,
    methods: Methods,
    path: PathPattern,
    /// Whether WebSocket upgrades are relayed (`websocket`, default true).
    websocket: bool,
    service: RouteService,
}

#[derive(Clone)]
enum RouteService {
    Gated(ScopeGate<Forward, DefaultRejection>),
    Public(Forward),
}

/// What a configuration says about requests: the routes, the forwarding
/// rules and the protected-resource metadata. Replaced whole by a reload.
pub(crate) struct Routing {
    routes: Box<[CompiledRoute]>,
    forward: Forward,
    /// The protected-resource metadata (RFC 9728), served before routing.
    metadata: Option<ResourceMetadata>,
}

impl Routing {
    pub(crate) fn new(
        routes: &[Route],
        forward: Forward,
        metadata: Option<ResourceMetadata>,
    ) -> Routing {
        let routes = routes
            .iter()
            .map(|route| CompiledRoute {
                index: route.index,
                methods: route.methods.clone(),
                path: route.path.clone(),
                websocket: route.websocket,
                service: match &route.access {
                    Access::Public => RouteService::Public(forward.clone()),
                    Access::Gated(layer) => RouteService::Gated(layer.layer(forward.clone())),
                },
            })
            .collect();
        Routing {
            routes,
            forward,
            metadata,
        }
    }
}

/// The proxy's request handler. Cheap to clone; one per connection, with
/// the peer's address. Each request reads the routing in use when it
/// arrives, so a reload applies to the next request of an open connection.
#[derive(Clone)]
pub(crate) struct ProxyService {
    routing: Arc<ArcSwap<Routing>>,
    metrics: Arc<Metrics>,
    /// The client's address, made once per connection.
    peer_ip: Option<HeaderValue>,
    /// The client's connection, which a WebSocket session keeps.
    connection: Option<Arc<ClientConnection>>,
}

impl std::fmt::Debug for ProxyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyService")
            .field("routes", &self.routing.load().routes.len())
            .field("peer", &self.peer_ip)
            .finish_non_exhaustive()
    }
}

impl ProxyService {
    pub(crate) fn new(routing: Arc<ArcSwap<Routing>>, metrics: Arc<Metrics>) -> ProxyService {
        ProxyService {
            routing,
            metrics,
            peer_ip: None,
            connection: None,
        }
    }

    /// The same service, for a connection from `peer`.
    pub(crate) fn for_connection(
        &self,
        peer: SocketAddr,
        connection: Arc<ClientConnection>,
    ) -> ProxyService {
        ProxyService {
            peer_ip: HeaderValue::from_str(&peer.ip().to_string()).ok(),
            connection: Some(connection),
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
    given.unwrap_or_else(new_request_id)
}

/// A new request id: a random per-process prefix and a counter, as 24 hex
/// digits. Unique without a random draw per request.
fn new_request_id() -> HeaderValue {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        u32::from_be_bytes(bytes)
    });
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [0u8; 24];
    let digits = b"0123456789abcdef";
    let value = (u128::from(prefix) << 64) | u128::from(count);
    for (i, slot) in id.iter_mut().enumerate() {
        *slot = digits[((value >> (4 * (23 - i))) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("0"))
}

fn outcome_of(response: &Response<ProxyBody>) -> Outcome {
    if let Some(rejection) = response.extensions().get::<Rejection>() {
        return match rejection.kind() {
            RejectionKind::InvalidRequest(_) => Outcome::BadRequest,
            RejectionKind::MissingCredentials
            | RejectionKind::InvalidToken(_)
            | RejectionKind::AuthenticationTooOld
            | RejectionKind::BearerNotAllowed
            | RejectionKind::InvalidDpopProof(_)
            | RejectionKind::UseDpopNonce => Outcome::Unauthorized,
            RejectionKind::InsufficientScope
            | RejectionKind::MissingGroup
            | RejectionKind::Denied => Outcome::Forbidden,
            // Written out, not `_`: a new kind must be placed by hand.
            RejectionKind::KeySetUnavailable
            | RejectionKind::ReplayCheckUnavailable
            | RejectionKind::RevocationListUnavailable => Outcome::KeySetUnavailable,
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
        let log = RequestLog {
            start: Instant::now(),
            id: request_id(&request),
            method: request.method().clone(),
            uri: request.uri().clone(),
            metrics: Arc::clone(&self.metrics),
            done: false,
        };
        let routing = self.routing.load();
        if let Some(metadata) = &routing.metadata
            && request.uri().path() == metadata.path()
        {
            let response = metadata.response(&request).map(|body| {
                http_body_util::Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync()
            });
            return Box::pin(async move { log.finish(response, Outcome::Metadata, None) });
        }
        let route = match routing.route(&request) {
            Ok(route) => route,
            Err((status, why, outcome)) => {
                let response = plain(status, why);
                return Box::pin(async move { log.finish(response, outcome, None) });
            }
        };
        if is_websocket_upgrade(&request) {
            if !route.websocket {
                let response = plain(
                    StatusCode::FORBIDDEN,
                    "WebSocket upgrades are not allowed on this route\n",
                );
                let index = route.index;
                return Box::pin(
                    async move { log.finish(response, Outcome::Forbidden, Some(index)) },
                );
            }
            if let Some(connection) = &self.connection {
                let connection = Arc::clone(connection);
                request.extensions_mut().insert(Session { connection });
            }
        }
        scrub(request.headers_mut(), &routing.forward);
        host_from_authority(&mut request);
        if matches!(route.service, RouteService::Public(_)) {
            // Nothing checked it: the upstream must not think something did.
            routing.forward.remove_credentials(request.headers_mut());
        }
        request.extensions_mut().insert(RequestFacts {
            start: log.start,
            peer_ip: self.peer_ip.clone(),
            request_id: log.id.clone(),
        });
        let index = route.index;
        let service = route.service.clone();
        Box::pin(async move {
            let response = service.serve(request).await;
            let outcome = outcome_of(&response);
            log.finish(response, outcome, Some(index))
        })
    }
}

/// A request refused before it reaches a route: status, body and outcome.
type Refusal = (StatusCode, &'static str, Outcome);

impl Routing {
    /// The route a request goes to; or 400/405 for what is refused before
    /// routing, 400 for an ambiguous path, 404 when no route matches.
    fn route(&self, request: &Request<Incoming>) -> Result<&CompiledRoute, Refusal> {
        if let Some((status, why)) = refuse(request) {
            let outcome = if status == StatusCode::METHOD_NOT_ALLOWED {
                Outcome::MethodNotAllowed
            } else {
                Outcome::BadRequest
            };
            return Err((status, why, outcome));
        }
        let path = request.uri().path();
        let find = |path: &str| {
            self.routes
                .iter()
                .find(|r| r.methods.allows(request.method()) && r.path.matches(path))
        };
        let route = find(path);
        // An upstream that ignores case or a trailing `/` must not be sent to
        // another route than the one checked here. A canonical form that
        // reaches no route is no danger: gRPC's `/pkg.Service/Method` paths
        // have upper case by design.
        let needs_canonical =
            path.bytes().any(|b| b.is_ascii_uppercase()) || (path.len() > 1 && path.ends_with('/'));
        if needs_canonical
            && let Some(other) = find(&canonical_path(path))
            && Some(other.index) != route.map(|r| r.index)
        {
            return Err((
                StatusCode::BAD_REQUEST,
                "ambiguous request path\n",
                Outcome::BadRequest,
            ));
        }
        route.ok_or((StatusCode::NOT_FOUND, "no route\n", Outcome::NoRoute))
    }
}

impl RouteService {
    /// Through the gate (if any) to the upstream.
    async fn serve(mut self, request: Request<Incoming>) -> Response<ProxyBody> {
        let response = match &mut self {
            RouteService::Gated(gate) => {
                let ready = std::future::poll_fn(|cx| gate.poll_ready(cx)).await;
                match ready {
                    Ok(()) => gate.call(request).await,
                    Err(never) => match never {},
                }
            }
            RouteService::Public(forward) => forward.call(request).await,
        };
        match response {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Requests refused before routing: 400 or 405, never forwarded.
fn refuse(request: &Request<Incoming>) -> Option<(StatusCode, &'static str)> {
    let method = request.method();
    if method == Method::CONNECT || method == Method::TRACE {
        return Some((StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"));
    }
    if method.as_str().bytes().any(|b| b.is_ascii_lowercase()) {
        return Some((StatusCode::BAD_REQUEST, "methods are upper case\n"));
    }
    let uri = request.uri();
    let h2 = request.version() == Version::HTTP_2;
    // HTTP/2 carries :scheme and :authority in every request (hyper puts
    // them in the URI); HTTP/1.1 must use the origin form.
    if !h2 && (uri.scheme().is_some() || uri.authority().is_some()) {
        return Some((
            StatusCode::BAD_REQUEST,
            "absolute-form request targets are not accepted\n",
        ));
    }
    let headers = request.headers();
    if headers.get_all(http::header::HOST).iter().count() > 1 {
        return Some((StatusCode::BAD_REQUEST, "more than one Host header\n"));
    }
    if h2
        && let (Some(authority), Some(host)) = (uri.authority(), headers.get(http::header::HOST))
        && host.as_bytes() != authority.as_str().as_bytes()
    {
        // RFC 9113 §8.3.1: a request whose Host names another entity than
        // its :authority is malformed.
        return Some((StatusCode::BAD_REQUEST, "Host differs from :authority\n"));
    }
    let chunked_only = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .all(|v| {
            v.to_str()
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("chunked"))
        });
    if !chunked_only {
        return Some((StatusCode::BAD_REQUEST, "unsupported transfer coding\n"));
    }
    if ambiguous_path(uri.path()) {
        return Some((StatusCode::BAD_REQUEST, "ambiguous request path\n"));
    }
    None
}

/// An HTTP/2 request names its host in `:authority`; an HTTP/1.1 upstream
/// reads `Host`, so the authority becomes the `Host` header, as HTTP/1.1
/// clients send it.
fn host_from_authority(request: &mut Request<Incoming>) {
    if request.headers().contains_key(http::header::HOST) {
        return;
    }
    let host = request
        .uri()
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
    if let Some(host) = host {
        request.headers_mut().insert(http::header::HOST, host);
    }
}

/// Removes what a client may never send on: the claim headers, and the
/// headers frameworks read as the original URL, path, host, method or
/// address (`spoofable.rs`) unless trusted. Spelled with `_` (CGI-style
/// servers read `x_auth_sub` as `x-auth-sub`), each is removed even when
/// trusted: a proxy in front sets the `-` spelling, not this one. One look
/// per header sent; nothing is allocated unless something is removed.
fn scrub(headers: &mut http::HeaderMap, forward: &Forward) {
    let is_claim = |name: &str| forward.claim_header_names().any(|c| c.as_str() == name);
    let doomed = |name: &HeaderName| {
        let name = name.as_str();
        forward.is_untrusted(name)
            || is_claim(name)
            || (name.contains('_') && {
                let dashed = name.replace('_', "-");
                is_spoofable(&dashed) || is_claim(&dashed)
            })
    };
    if !headers.keys().any(doomed) {
        return;
    }
    let names: Vec<HeaderName> = headers.keys().filter(|n| doomed(n)).cloned().collect();
    for name in &names {
        headers.remove(name);
    }
}

/// The log line (and count) of one request, written when the response is
/// ready, or when the client leaves first.
struct RequestLog {
    start: Instant,
    id: HeaderValue,
    method: Method,
    /// For the path only: the query may hold secrets.
    uri: http::Uri,
    metrics: Arc<Metrics>,
    done: bool,
}

impl RequestLog {
    fn finish(
        mut self,
        mut response: Response<ProxyBody>,
        outcome: Outcome,
        route: Option<usize>,
    ) -> Result<Response<ProxyBody>, Infallible> {
        self.done = true;
        self.metrics.count(outcome);
        let rejected = matches!(
            outcome,
            Outcome::BadRequest
                | Outcome::Unauthorized
                | Outcome::Forbidden
                | Outcome::KeySetUnavailable
        );
        if rejected && route.is_some() {
            self.metrics.observe_verification(self.start.elapsed());
        }
        let reason = response
            .extensions()
            .get::<Rejection>()
            .map(|r| r.kind().as_str());
        tracing::info!(
            request_id = self.id.to_str().unwrap_or(""),
            method = %self.method,
            path = %crate::log_safe::log_safe(self.uri.path()),
            route,
            status = response.status().as_u16(),
            outcome = outcome.label(),
            reason,
            elapsed_us = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX),
            "request"
        );
        response
            .headers_mut()
            .insert("x-request-id", self.id.clone());
        Ok(response)
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        if !self.done {
            self.metrics.count(Outcome::ClientClosed);
            tracing::info!(
                request_id = self.id.to_str().unwrap_or(""),
                method = %self.method,
                path = %crate::log_safe::log_safe(self.uri.path()),
                outcome = Outcome::ClientClosed.label(),
                elapsed_us = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX),
                "request abandoned by the client"
            );
        }
    }
}
