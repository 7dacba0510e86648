//! Forwarding to the upstream: hop-by-hop headers (RFC 9110 §7.6.1),
//! `X-Forwarded-*`, verified claims as headers, streaming bodies both ways,
//! 502 when the upstream cannot be reached and 504 when it is too slow.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::Value;
use tokio::time::Instant;
use tower_service::Service;

pub(crate) use super::body::{BoxError, ProxyBody, WatchedBody};
use super::config::UpstreamProtocol;
use super::header_list::lists_token;
use super::metrics::Metrics;
use super::spoofable::Untrusted;
use super::upstream::UpstreamClient;
use super::websocket::{self, Session, SessionLimits};
use crate::Claims;
use crate::cookie::TokenCookie;

/// Facts about a request, put in its extensions by the dispatcher.
#[derive(Clone, Debug)]
pub(crate) struct RequestFacts {
    pub(crate) start: Instant,
    /// The client's address, as an `X-Forwarded-For` value.
    pub(crate) peer_ip: Option<HeaderValue>,
    pub(crate) request_id: HeaderValue,
}

/// What happened upstream; in the response's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Upstream {
    Answered,
    Unreachable,
    TimedOut,
}

/// Headers that concern one connection only (RFC 9110 §7.6.1), removed in
/// both directions, with those that `Connection` names.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// Whether the client said `TE: trailers` (RFC 9110 §10.1.4), the one
/// `TE` that HTTP/2 allows (RFC 9113 §8.2.2).
fn accepts_trailers(headers: &HeaderMap) -> bool {
    lists_token(headers, header::TE, "trailers")
}

/// The forwarding service. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Forward {
    inner: Arc<Inner>,
}

struct Inner {
    upstream: UpstreamClient,
    /// `X-Forwarded-Proto`: `https` behind `[tls]`.
    client_scheme: HeaderValue,
    scheme: Scheme,
    authority: Authority,
    protocol: UpstreamProtocol,
    timeout: Duration,
    websocket_idle_timeout: Duration,
    claim_headers: Vec<(String, HeaderName)>,
    strip_authorization: bool,
    trust_x_forwarded_for: bool,
    untrusted: Untrusted,
    token_cookie: Option<TokenCookie>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("upstream", &self.inner.authority)
            .finish_non_exhaustive()
    }
}

pub(crate) struct ForwardOptions {
    pub(crate) upstream: Uri,
    pub(crate) protocol: UpstreamProtocol,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    /// How to speak TLS to an `https` upstream.
    pub(crate) upstream_tls: Option<rustls::ClientConfig>,
    /// Whether clients connect with TLS (`[tls]`).
    pub(crate) client_tls: bool,
    /// How long a WebSocket session may deliver nothing either way.
    pub(crate) websocket_idle_timeout: Duration,
    pub(crate) claim_headers: Vec<(String, HeaderName)>,
    pub(crate) strip_authorization: bool,
    pub(crate) trust_x_forwarded_for: bool,
    /// The headers a client may not set (see `spoofable.rs`).
    pub(crate) untrusted: Untrusted,
    /// The token cookie, removed with `Authorization` where it is.
    pub(crate) token_cookie: Option<TokenCookie>,
}

impl Forward {
    /// Removes `Authorization` and the token cookie: from a request no gate
    /// checked.
    pub(crate) fn remove_credentials(&self, headers: &mut HeaderMap) {
        self.inner.remove_credentials(headers);
    }

    pub(crate) fn new(options: ForwardOptions, metrics: Arc<Metrics>) -> Option<Forward> {
        let upstream = UpstreamClient::new(
            options.upstream.clone(),
            options.protocol,
            options.connect_timeout,
            options.upstream_tls,
        );
        let parts = options.upstream.into_parts();
        Some(Forward {
            inner: Arc::new(Inner {
                upstream,
                client_scheme: HeaderValue::from_static(if options.client_tls {
                    "https"
                } else {
                    "http"
                }),
                scheme: parts.scheme?,
                authority: parts.authority?,
                protocol: options.protocol,
                timeout: options.timeout,
                websocket_idle_timeout: options.websocket_idle_timeout,
                claim_headers: options.claim_headers,
                strip_authorization: options.strip_authorization,
                token_cookie: options.token_cookie,
                trust_x_forwarded_for: options.trust_x_forwarded_for,
                untrusted: options.untrusted,
                metrics,
            }),
        })
    }

    /// The names of the claim headers, which a client may never send.
    pub(crate) fn claim_header_names(&self) -> impl Iterator<Item = &HeaderName> {
        self.inner.claim_headers.iter().map(|(_, name)| name)
    }

    /// Whether a client's header of this name is removed as untrusted
    /// (original URL, path, host, method, address...).
    pub(crate) fn is_untrusted(&self, name: &str) -> bool {
        self.inner.untrusted.contains(name)
    }
}

/// A claim as a header value: strings as they are, anything else as JSON.
fn claim_value(claims: &Claims, claim: &str) -> Option<HeaderValue> {
    let text: Cow<'_, str> = match claim {
        "scope" => Cow::Borrowed(claims.scope()),
        _ => match claims.get(claim)? {
            Value::String(s) => Cow::Borrowed(s),
            other => Cow::Owned(other.to_string()),
        },
    };
    // UTF-8 is sent as it is (field values may hold such bytes); control
    // characters cannot be, and the header is left out.
    let value = HeaderValue::from_bytes(text.as_bytes()).ok();
    if value.is_none() {
        tracing::warn!(
            claim,
            "a claim holds control characters and is not forwarded"
        );
    }
    value
}

pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(
        http_body_util::Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl Service<Request<Incoming>> for Forward {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { Ok(inner.forward(request).await) })
    }
}

impl Inner {
    /// Rewrites the request for the upstream, sends it, and answers with the
    /// upstream's response, or 502/504.
    async fn forward(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let (mut parts, body) = request.into_parts();
        let mut facts = parts.extensions.remove::<RequestFacts>();
        let claims = parts.extensions.remove::<Claims>();
        if let (Some(_), Some(facts)) = (&claims, &facts) {
            self.metrics.observe_verification(facts.start.elapsed());
        }
        let upgrade = Upgrade::take(&mut parts, claims.as_ref(), self.websocket_idle_timeout);
        self.rewrite_headers(&mut parts.headers, claims.as_ref(), facts.as_mut());
        let client_version = parts.version;
        let (mut response, upstream) = if let Some(upgrade) = upgrade {
            self.upgrade(parts, body, upgrade).await
        } else {
            match self.upstream_uri(&parts.uri) {
                Some(uri) => parts.uri = uri,
                None => return plain(StatusCode::BAD_REQUEST, "bad request target\n"),
            }
            self.set_version(&mut parts);
            parts.extensions = http::Extensions::new();
            self.send(parts, body).await
        };
        // The client's connection writes its own version; say it.
        *response.version_mut() = client_version;
        response.extensions_mut().insert(upstream);
        response
    }

    /// The upstream's version. Over HTTP/2 the upstream's `:authority` is
    /// its own address (the request target), so `Host` is left out: the
    /// two would disagree (RFC 9113 §8.3.1).
    fn set_version(&self, parts: &mut http::request::Parts) {
        match self.protocol {
            UpstreamProtocol::Http1 => parts.version = http::Version::HTTP_11,
            UpstreamProtocol::H2c | UpstreamProtocol::H2 => {
                parts.version = http::Version::HTTP_2;
                parts.headers.remove(header::HOST);
            }
        }
    }

    /// Hop-by-hop headers out; claims, `X-Forwarded-*` and `X-Request-Id`
    /// in. The client's claim headers are already gone: `ProxyService`
    /// scrubs them from every request before the gate.
    fn rewrite_headers(
        &self,
        headers: &mut HeaderMap,
        claims: Option<&Claims>,
        facts: Option<&mut RequestFacts>,
    ) {
        let trailers = accepts_trailers(headers);
        remove_hop_by_hop(headers);
        if trailers {
            // The proxy relays trailers; gRPC servers look for this.
            headers.insert(header::TE, HeaderValue::from_static("trailers"));
        }
        if self.strip_authorization {
            self.remove_credentials(headers);
        }
        if let Some(claims) = claims {
            for (claim, name) in &self.claim_headers {
                if let Some(value) = claim_value(claims, claim) {
                    headers.insert(name.clone(), value);
                }
            }
        }
        let request_id = facts.as_ref().map(|f| f.request_id.clone());
        let peer = facts.and_then(|f| f.peer_ip.take());
        self.forwarded_headers(headers, peer);
        if let Some(request_id) = request_id {
            headers.insert("x-request-id", request_id);
        }
    }

    /// `Authorization`, and the token cookie if one is configured.
    fn remove_credentials(&self, headers: &mut HeaderMap) {
        headers.remove(header::AUTHORIZATION);
        // The DPoP proof that came with the token (RFC 9449).
        headers.remove("dpop");
        if let Some(cookie) = &self.token_cookie {
            cookie.remove_from(headers);
        }
    }

    /// `X-Forwarded-For` (appended to only when trusted) and
    /// `X-Forwarded-Proto` (the client's only when trusted: `ProxyService`
    /// removed the untrusted ones before the gate).
    fn forwarded_headers(&self, headers: &mut HeaderMap, peer: Option<HeaderValue>) {
        let forwarded_for = match (
            self.trust_x_forwarded_for,
            headers.get("x-forwarded-for"),
            peer,
        ) {
            (true, Some(existing), Some(peer)) => existing
                .to_str()
                .ok()
                .zip(peer.to_str().ok())
                .and_then(|(e, p)| HeaderValue::from_str(&format!("{e}, {p}")).ok()),
            (_, _, peer) => peer,
        };
        headers.remove("x-forwarded-for");
        if let Some(value) = forwarded_for {
            headers.insert("x-forwarded-for", value);
        }
        if !headers.contains_key("x-forwarded-proto") {
            headers.insert("x-forwarded-proto", self.client_scheme.clone());
        }
    }

    /// The request target on the upstream: its scheme and authority, the
    /// client's path and query.
    fn upstream_uri(&self, uri: &Uri) -> Option<Uri> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = uri.path_and_query().cloned();
        Uri::from_parts(parts).ok()
    }

    /// Sends the request. The timeout runs from when the client has sent
    /// the whole body: a slow upload is not a slow upstream.
    async fn send(
        &self,
        parts: http::request::Parts,
        body: Incoming,
    ) -> (Response<ProxyBody>, Upstream) {
        let (body_sent, body_done) = tokio::sync::oneshot::channel();
        let empty = hyper::body::Body::is_end_stream(&body);
        let body = WatchedBody::new(body, body_sent);
        let deadline = async {
            if !empty {
                let _ = body_done.await;
            }
            tokio::time::sleep(self.timeout).await;
        };
        let sent = tokio::select! {
            response = self.upstream.request(Request::from_parts(parts, body)) => Ok(response),
            () = deadline => Err(()),
        };
        match sent {
            Ok(Ok(response)) => (relayed(response), Upstream::Answered),
            Ok(Err(error)) => self.unreachable(&error),
            Err(()) => self.timed_out(),
        }
    }

    fn unreachable(&self, error: &dyn std::fmt::Display) -> (Response<ProxyBody>, Upstream) {
        tracing::warn!(error = %error, upstream = %self.authority, "upstream unreachable");
        (
            plain(StatusCode::BAD_GATEWAY, "upstream unavailable\n"),
            Upstream::Unreachable,
        )
    }

    fn timed_out(&self) -> (Response<ProxyBody>, Upstream) {
        tracing::warn!(
            timeout_ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            upstream = %self.authority,
            "upstream timed out"
        );
        (
            plain(StatusCode::GATEWAY_TIMEOUT, "upstream timed out\n"),
            Upstream::TimedOut,
        )
    }

    /// A WebSocket upgrade: sent on a connection of its own, over HTTP/1.1
    /// whatever `upstream_protocol` says (RFC 6455 upgrades HTTP/1.1). On
    /// `101 Switching Protocols` both sides are relayed in the background;
    /// any other answer is relayed as it is.
    async fn upgrade(
        &self,
        mut parts: http::request::Parts,
        body: Incoming,
        upgrade: Upgrade,
    ) -> (Response<ProxyBody>, Upstream) {
        websocket::set_upgrade_headers(&mut parts.headers);
        parts.version = http::Version::HTTP_11;
        // The origin form, always: the upstream gets no authority from the
        // client (absolute forms are refused before routing anyway).
        let target = parts.uri.path_and_query().cloned();
        parts.uri = target.map_or_else(|| Uri::from_static("/"), Uri::from);
        parts.extensions = http::Extensions::new();
        let request = Request::from_parts(parts, body);
        let sent = tokio::time::timeout(self.timeout, async {
            let stream = self.upstream.connect().await?;
            websocket::send_upgrade(stream, request)
                .await
                .map_err(BoxError::from)
        })
        .await;
        let mut response = match sent {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => return self.unreachable(&error),
            Err(_) => return self.timed_out(),
        };
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return (relayed(response), Upstream::Answered);
        }
        if !websocket::switched_to_websocket(response.headers()) {
            tracing::warn!(upstream = %self.authority, "upstream answered a WebSocket upgrade with another protocol");
            return (
                plain(
                    StatusCode::BAD_GATEWAY,
                    "upstream did not switch to WebSocket\n",
                ),
                Upstream::Unreachable,
            );
        }
        let upstream = hyper::upgrade::on(&mut response);
        let mut response = relayed(response);
        websocket::set_upgrade_headers(response.headers_mut());
        websocket::spawn_relay(
            upgrade.client,
            upstream,
            upgrade.limits,
            upgrade.session,
            Arc::clone(&self.metrics),
        );
        (response, Upstream::Answered)
    }
}

/// The upstream's response for the client: hop-by-hop headers out, the
/// body streamed.
fn relayed(response: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    remove_hop_by_hop(&mut parts.headers);
    let body = body.map_err(BoxError::from).boxed_unsync();
    Response::from_parts(parts, body)
}

/// A WebSocket upgrade that the dispatcher let through: the client's side
/// of the upgrade, and the session's limits.
struct Upgrade {
    client: hyper::upgrade::OnUpgrade,
    session: Session,
    limits: SessionLimits,
}

impl Upgrade {
    fn take(
        parts: &mut http::request::Parts,
        claims: Option<&Claims>,
        idle_timeout: Duration,
    ) -> Option<Upgrade> {
        let session = parts.extensions.remove::<Session>()?;
        let client = parts.extensions.remove::<hyper::upgrade::OnUpgrade>()?;
        Some(Upgrade {
            client,
            session,
            limits: SessionLimits {
                idle_timeout,
                expires_at: claims.map(Claims::expires_at),
            },
        })
    }
}
