//! Rejections and how they become responses (RFC 6750 §3).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::bearer::MalformedReason;
use crate::dpop::DpopError;

/// The response header of a server nonce (RFC 9449 §8.1).
const DPOP_NONCE: http::HeaderName = http::HeaderName::from_static("dpop-nonce");
use crate::token_error::TokenError;

/// Why the layer refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No bearer credentials: no `Authorization` header (or another scheme)
    /// and no token cookie.
    /// 401 with a challenge and no error code.
    MissingCredentials,
    /// The `Authorization` header (or the token cookie) is malformed, or the
    /// token is sent in two places. 400 `invalid_request`.
    InvalidRequest(MalformedReason),
    /// The token is not valid. 401 `invalid_token`.
    InvalidToken(TokenError),
    /// The token is valid but lacks the route's scopes. 403
    /// `insufficient_scope`.
    InsufficientScope,
    /// The issuer's key set cannot be loaded and none is cached. 503 with
    /// `Retry-After`: an outage is not the client's fault.
    KeySetUnavailable,
    /// The token is valid and has the route's scopes, but is in none of the
    /// groups the route names
    /// ([`in_any_group`](crate::ScopeGateLayer::in_any_group)). 403 with
    /// `Bearer realm="..."` and no error code: RFC 6750 defines
    /// `insufficient_scope` for scopes only, and it would send the client
    /// off to ask for scopes that cannot help.
    MissingGroup,
    /// A route's own [`check`](crate::ScopeGateLayer::check) refused the
    /// token. 403 with `Bearer realm="..."` and no error code (no code is
    /// registered for "denied by policy"). The check's reason is in
    /// [`Rejection::reason`], never in the response.
    Denied,
    /// The token's `auth_time` (else `iat`) is older than the route's
    /// [`max_token_age`](crate::ScopeGateLayer::max_token_age), or the token
    /// has neither. 401 with RFC 9470's
    /// `error="insufficient_user_authentication"` and `max_age`: the user
    /// must sign in again.
    AuthenticationTooOld,
    /// A bearer token on a route that takes DPoP-bound tokens only (401,
    /// with a `DPoP` challenge).
    BearerNotAllowed,
    /// The DPoP proof was refused (401 `invalid_dpop_proof`, RFC 9449 §7.1).
    InvalidDpopProof(DpopError),
    /// The DPoP proof lacks the server's current nonce (401
    /// `use_dpop_nonce` with a `DPoP-Nonce` header, RFC 9449 §9).
    UseDpopNonce,
    /// The store of used DPoP proof ids could not be asked, so a replay
    /// cannot be ruled out: the server's problem (503), never a reason to
    /// accept.
    ReplayCheckUnavailable,
    /// The revocation list is not known to be current: 503.
    RevocationListUnavailable,
}

impl RejectionKind {
    /// The status code this rejection answers with.
    pub fn status(self) -> StatusCode {
        match self {
            RejectionKind::MissingCredentials | RejectionKind::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            RejectionKind::AuthenticationTooOld
            | RejectionKind::BearerNotAllowed
            | RejectionKind::InvalidDpopProof(_)
            | RejectionKind::UseDpopNonce => StatusCode::UNAUTHORIZED,
            RejectionKind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            RejectionKind::InsufficientScope
            | RejectionKind::MissingGroup
            | RejectionKind::Denied => StatusCode::FORBIDDEN,
            RejectionKind::KeySetUnavailable
            | RejectionKind::ReplayCheckUnavailable
            | RejectionKind::RevocationListUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The gRPC status code this rejection answers a gRPC call with: 16
    /// `UNAUTHENTICATED` (no, malformed or invalid token; an authentication
    /// too old), 7 `PERMISSION_DENIED` (missing scope or group, a custom
    /// check's denial), 14 `UNAVAILABLE` (no keys).
    pub fn grpc_status(self) -> u16 {
        match self {
            RejectionKind::MissingCredentials
            | RejectionKind::InvalidRequest(_)
            | RejectionKind::InvalidToken(_)
            | RejectionKind::AuthenticationTooOld
            | RejectionKind::BearerNotAllowed
            | RejectionKind::InvalidDpopProof(_)
            | RejectionKind::UseDpopNonce => 16,
            RejectionKind::InsufficientScope
            | RejectionKind::MissingGroup
            | RejectionKind::Denied => 7,
            RejectionKind::KeySetUnavailable
            | RejectionKind::ReplayCheckUnavailable
            | RejectionKind::RevocationListUnavailable => 14,
        }
    }

    /// A short, fixed description, safe for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionKind::MissingCredentials => "no bearer credentials",
            RejectionKind::InvalidRequest(reason) => reason.as_str(),
            RejectionKind::InvalidToken(reason) => reason.as_str(),
            RejectionKind::InsufficientScope => "token lacks the required scope",
            RejectionKind::KeySetUnavailable => "the issuer's key set is unavailable",
            RejectionKind::MissingGroup => "token is in none of the required groups",
            RejectionKind::Denied => "denied by the route's check",
            RejectionKind::AuthenticationTooOld => "authentication is older than the route allows",
            RejectionKind::BearerNotAllowed => "bearer token where DPoP is required",
            RejectionKind::InvalidDpopProof(reason) => reason.as_str(),
            RejectionKind::UseDpopNonce => "DPoP proof lacks the server's current nonce",
            RejectionKind::ReplayCheckUnavailable => "the DPoP replay check is unavailable",
            RejectionKind::RevocationListUnavailable => "the revocation list is unavailable",
        }
    }
}

/// A refused request: why, and the headers its response must carry.
///
/// The layer attaches a clone to the response's extensions, so that
/// logging, tracing and metrics layers outside it can see why.
#[derive(Clone)]
pub struct Rejection {
    kind: RejectionKind,
    challenge: Option<HeaderValue>,
    /// The headers only some rejections have (boxed: rejections travel in
    /// `Result`s, which stay small).
    extra: Option<Box<Extra>>,
    grpc: bool,
    reason: Option<Cow<'static, str>>,
}

/// A rejection's rarer headers.
#[derive(Clone, Default)]
struct Extra {
    /// The other scheme's challenge, where the route takes both.
    second_challenge: Option<HeaderValue>,
    /// A server nonce for the next DPoP proof (`DPoP-Nonce`).
    dpop_nonce: Option<HeaderValue>,
    /// For 503: when to try again.
    retry_after: Option<Duration>,
}

impl Rejection {
    pub(crate) fn new(
        kind: RejectionKind,
        challenge: Option<HeaderValue>,
        retry_after: Option<Duration>,
    ) -> Self {
        Rejection {
            kind,
            challenge,
            extra: retry_after.map(|retry_after| {
                Box::new(Extra {
                    retry_after: Some(retry_after),
                    ..Extra::default()
                })
            }),
            grpc: false,
            reason: None,
        }
    }

    pub(crate) fn with_second_challenge(mut self, challenge: HeaderValue) -> Self {
        self.extra.get_or_insert_with(Box::default).second_challenge = Some(challenge);
        self
    }

    pub(crate) fn with_dpop_nonce(mut self, nonce: HeaderValue) -> Self {
        self.extra.get_or_insert_with(Box::default).dpop_nonce = Some(nonce);
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.extra.get_or_insert_with(Box::default).retry_after = Some(retry_after);
        self
    }

    /// Marks the rejection of a gRPC call.
    pub(crate) fn of_grpc_call(mut self) -> Self {
        self.grpc = true;
        self
    }

    /// Whether the refused request was a gRPC call (`content-type`
    /// `application/grpc`, `application/grpc+proto`, ...).
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// The same rejection with the reason a custom check gave.
    pub(crate) fn with_reason(mut self, reason: Cow<'static, str>) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Why the request was refused.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The status code to answer with.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The `WWW-Authenticate` challenge (absent for 503).
    pub fn www_authenticate(&self) -> Option<&HeaderValue> {
        self.challenge.as_ref()
    }

    /// Every `WWW-Authenticate` challenge, in order: the one of the scheme
    /// the request used, then, where the route takes both `Bearer` and
    /// `DPoP`, the other's (RFC 9449 §7.2).
    pub fn www_authenticate_all(&self) -> impl Iterator<Item = &HeaderValue> {
        let second = self
            .extra
            .as_ref()
            .and_then(|e| e.second_challenge.as_ref());
        self.challenge.iter().chain(second)
    }

    /// The `DPoP-Nonce` to use in the next proof, for
    /// [`UseDpopNonce`](RejectionKind::UseDpopNonce).
    pub fn dpop_nonce(&self) -> Option<&HeaderValue> {
        self.extra.as_ref().and_then(|e| e.dpop_nonce.as_ref())
    }

    /// For 503: when the key set may be fetched again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.extra.as_ref().and_then(|e| e.retry_after)
    }

    /// For [`RejectionKind::Denied`]: the reason the route's
    /// [`check`](crate::ScopeGateLayer::check) gave in its
    /// [`Denied`](crate::Denied). It is for logs and metrics on the server:
    /// [`with_body`](Self::with_body) and [`DefaultRejection`] never put it in
    /// the response (a custom [`OnRejection`] must not either). `None` for
    /// every other kind.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// A response with this rejection's status and headers, the given body,
    /// and the rejection in its extensions. Custom [`OnRejection`]s use it to
    /// add a body without losing the RFC 6750 headers.
    pub fn with_body<B>(self, body: B) -> Response<B> {
        let mut response = Response::new(body);
        *response.status_mut() = self.status();
        self.add_headers(response.headers_mut());
        response.extensions_mut().insert(self);
        response
    }

    /// `WWW-Authenticate` and `Retry-After`, in either form.
    fn add_headers(&self, headers: &mut HeaderMap) {
        if let Some(challenge) = &self.challenge {
            headers.insert(WWW_AUTHENTICATE, challenge.clone());
        }
        if let Some(second) = self
            .extra
            .as_ref()
            .and_then(|e| e.second_challenge.as_ref())
        {
            headers.append(WWW_AUTHENTICATE, second.clone());
        }
        if let Some(nonce) = self.dpop_nonce() {
            headers.insert(DPOP_NONCE, nonce.clone());
        }
        if let Some(retry_after) = self.retry_after() {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
    }
}

impl Rejection {
    /// The gRPC form of this rejection: HTTP 200 with no body and the
    /// status in the headers (a trailers-only response), `grpc-status` from
    /// [`RejectionKind::grpc_status`], `grpc-message` with the same fixed
    /// reason as [`RejectionKind::as_str`], and the RFC 6750
    /// `WWW-Authenticate` challenge kept as a header. The rejection is in
    /// the response's extensions. `body` should be empty: with a body, the
    /// status is no longer trailers-only.
    pub fn with_grpc_body<B>(self, body: B) -> Response<B> {
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        // A 200 that no cache may keep.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("grpc-status", HeaderValue::from(self.kind.grpc_status()));
        headers.insert(
            "grpc-message",
            HeaderValue::from_static(grpc_message(self.kind.as_str())),
        );
        self.add_headers(headers);
        response.extensions_mut().insert(self);
        response
    }
}

/// A fixed reason as `grpc-message` carries it: printable ASCII other than
/// `%` passes unencoded (gRPC over HTTP/2, "Responses"), which every fixed
/// reason is.
fn grpc_message(reason: &'static str) -> &'static str {
    let plain = reason
        .bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && b != b'%');
    if plain { reason } else { "request refused" }
}

impl fmt::Debug for Rejection {
    /// A custom check's reason escaped and truncated, as in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("challenge", &self.challenge)
            .field("second_challenge", &self.www_authenticate_all().nth(1))
            .field("dpop_nonce", &self.dpop_nonce().is_some())
            .field("retry_after", &self.retry_after())
            .field("grpc", &self.grpc)
            .field(
                "reason",
                &self.reason.as_deref().map(crate::log_safe::log_safe),
            )
            .finish()
    }
}

impl fmt::Display for Rejection {
    /// What kind of refusal this is, lower-case; the reason (never anything
    /// from the token) is the [`source`](std::error::Error::source).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            RejectionKind::MissingCredentials => "no bearer credentials",
            RejectionKind::InvalidRequest(_) => "invalid request",
            RejectionKind::InvalidToken(_) => "invalid token",
            RejectionKind::InsufficientScope => "token lacks the required scope",
            RejectionKind::KeySetUnavailable => "the issuer's key set is unavailable",
            RejectionKind::MissingGroup => "token is in none of the required groups",
            RejectionKind::Denied => "denied by the route's check",
            RejectionKind::AuthenticationTooOld => "authentication is too old",
            RejectionKind::BearerNotAllowed => "bearer token where DPoP is required",
            RejectionKind::InvalidDpopProof(_) => "invalid DPoP proof",
            RejectionKind::UseDpopNonce => "DPoP nonce required",
            RejectionKind::ReplayCheckUnavailable => "the DPoP replay check is unavailable",
            RejectionKind::RevocationListUnavailable => "the revocation list is unavailable",
        })
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RejectionKind::InvalidRequest(reason) => Some(reason),
            RejectionKind::InvalidToken(error) => Some(error),
            RejectionKind::InvalidDpopProof(error) => Some(error),
            _ => None,
        }
    }
}

/// Turns a [`Rejection`] into the response sent to the client.
///
/// [`DefaultRejection`] sends an empty body; implement this (or pass a
/// closure `Fn(Rejection) -> Response<B>`) for a JSON body, a gRPC status, or
/// anything else. [`Rejection::with_body`] keeps the status and
/// `WWW-Authenticate` right.
pub trait OnRejection<B> {
    /// Builds the response.
    fn on_rejection(&self, rejection: Rejection) -> Response<B>;
}

/// The default rejection response: the status, `WWW-Authenticate` (and
/// `Retry-After` for 503), and an empty body; for a gRPC call, the gRPC
/// status instead ([`Rejection::with_grpc_body`]), since a gRPC client sees
/// an HTTP error as a transport failure. Nothing from the token is ever
/// echoed.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRejection;

impl<B: Default> OnRejection<B> for DefaultRejection {
    fn on_rejection(&self, rejection: Rejection) -> Response<B> {
        if rejection.is_grpc() {
            rejection.with_grpc_body(B::default())
        } else {
            rejection.with_body(B::default())
        }
    }
}

/// Every rejection in its gRPC form ([`Rejection::with_grpc_body`]),
/// whatever the request's `content-type`: for a service that speaks only
/// gRPC.
///
/// ```
/// # use scopegate::{GrpcRejection, Issuer, ResourceServer, Verifier};
/// # fn main() -> Result<(), scopegate::ConfigError> {
/// # let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
/// #     .client_ids(["1example23456789"])
/// #     .resource_server(ResourceServer::new("com.example.photos", "Photos").scope("read", "Read"))
/// #     .build()?;
/// let layer = verifier.require("com.example.photos/read")?.on_rejection(GrpcRejection);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcRejection;

impl<B: Default> OnRejection<B> for GrpcRejection {
    fn on_rejection(&self, rejection: Rejection) -> Response<B> {
        rejection.with_grpc_body(B::default())
    }
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(Rejection) -> Response<B>,
{
    fn on_rejection(&self, rejection: Rejection) -> Response<B> {
        self(rejection)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn rejection_display_is_its_kind_and_source_is_the_reason() {
        let rejection =
            Rejection::new(RejectionKind::InvalidToken(TokenError::Expired), None, None);
        assert_eq!(rejection.to_string(), "invalid token");
        let source = rejection.source().expect("an invalid token has a reason");
        assert_eq!(source.to_string(), "token has expired");

        let kind = RejectionKind::InvalidRequest(MalformedReason::EmptyToken);
        let rejection = Rejection::new(kind, None, None);
        assert_eq!(rejection.to_string(), "invalid request");
        let source = rejection.source().expect("an invalid request has a reason");
        assert_eq!(source.to_string(), "Bearer or DPoP scheme without a token");

        let rejection = Rejection::new(RejectionKind::InsufficientScope, None, None);
        assert_eq!(rejection.to_string(), "token lacks the required scope");
        assert!(rejection.source().is_none());

        let rejection = Rejection::new(RejectionKind::Denied, None, None)
            .with_reason(Cow::Borrowed("tenant not allowed"));
        assert_eq!(rejection.to_string(), "denied by the route's check");
        assert_eq!(rejection.reason(), Some("tenant not allowed"));
        assert!(rejection.source().is_none());
    }

    #[test]
    fn new_kinds_have_their_status() {
        assert_eq!(RejectionKind::MissingGroup.status(), StatusCode::FORBIDDEN);
        assert_eq!(RejectionKind::Denied.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            RejectionKind::AuthenticationTooOld.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn rejection_is_a_send_sync_static_error() {
        fn error<E: std::error::Error + Send + Sync + 'static>() {}
        error::<Rejection>();
        error::<MalformedReason>();
    }
}
