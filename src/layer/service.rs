//! [`ScopeGate`]: the service half of the middleware.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::Gate;
use super::rejection::{OnRejection, Rejection, RejectionKind};
use crate::bearer::{Credentials, MalformedReason, credentials, query_has_access_token};
use crate::claims::Claims;
use crate::verifier::{Immediate, VerifyError};

/// Middleware that verifies bearer tokens and route scopes. Made by
/// [`ScopeGateLayer`](super::ScopeGateLayer).
///
/// Every rejection is a response (`Ok`); the inner service's errors pass
/// through unchanged. On success the verified [`Claims`] are in the request's
/// extensions.
pub struct ScopeGate<S, R> {
    inner: S,
    gate: Arc<Gate>,
    on_rejection: R,
}

enum Decision {
    Done(Result<Claims, Rejection>),
    /// The token needs keys that must be fetched first.
    Wait(String),
}

impl<S, R> ScopeGate<S, R> {
    pub(crate) fn new(inner: S, gate: Arc<Gate>, on_rejection: R) -> Self {
        ScopeGate {
            inner,
            gate,
            on_rejection,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl Gate {
    fn decide<B>(&self, request: &Request<B>) -> Decision {
        // An outer layer with the same verifier already checked this token:
        // only the scopes are left to check.
        if let Some(claims) = request.extensions().get::<Claims>()
            && claims.verifier_id() == self.verifier.id()
        {
            return Decision::Done(self.authorize(claims.clone()));
        }
        let token = match credentials(request.headers()) {
            Credentials::Bearer(_) if request.uri().query().is_some_and(query_has_access_token) => {
                let kind = RejectionKind::InvalidRequest(MalformedReason::MultipleMethods);
                return Decision::Done(Err(self.reject(kind, None)));
            }
            Credentials::Bearer(token) => token,
            Credentials::Missing => {
                return Decision::Done(Err(self.reject(RejectionKind::MissingCredentials, None)));
            }
            Credentials::Malformed(reason) => {
                let kind = RejectionKind::InvalidRequest(reason);
                return Decision::Done(Err(self.reject(kind, None)));
            }
        };
        match self.verifier.verify_now(token) {
            Immediate::Done(Ok(claims)) => Decision::Done(self.authorize(claims)),
            Immediate::Done(Err(error)) => {
                Decision::Done(Err(self.reject(RejectionKind::InvalidToken(error), None)))
            }
            Immediate::NeedsKeys => Decision::Wait(token.to_owned()),
        }
    }

    async fn decide_after_fetch(&self, token: &str) -> Result<Claims, Rejection> {
        match self.verifier.verify_after_fetch(token).await {
            Ok(claims) => self.authorize(claims),
            Err(VerifyError::InvalidToken(error)) => {
                Err(self.reject(RejectionKind::InvalidToken(error), None))
            }
            Err(VerifyError::KeySetUnavailable { retry_after }) => {
                Err(self.reject(RejectionKind::KeySetUnavailable, Some(retry_after)))
            }
        }
    }

    fn authorize(&self, claims: Claims) -> Result<Claims, Rejection> {
        if claims.meets(&self.requirement) {
            Ok(claims)
        } else {
            Err(self.reject(RejectionKind::InsufficientScope, None))
        }
    }

    fn reject(&self, kind: RejectionKind, retry_after: Option<Duration>) -> Rejection {
        let challenges = self.verifier.challenges();
        let challenge = match kind {
            RejectionKind::MissingCredentials => Some(challenges.missing.clone()),
            RejectionKind::InvalidRequest(_) => Some(challenges.invalid_request.clone()),
            RejectionKind::InvalidToken(_) => Some(challenges.invalid_token.clone()),
            RejectionKind::InsufficientScope => Some(self.insufficient_scope.clone()),
            RejectionKind::KeySetUnavailable => None,
        };
        tracing::debug!(
            status = kind.status().as_u16(),
            reason = kind.as_str(),
            "request rejected"
        );
        Rejection::new(kind, challenge, retry_after)
    }
}

fn respond<B, R: OnRejection<B>>(on_rejection: &R, rejection: Rejection) -> Response<B> {
    let mut response = on_rejection.on_rejection(rejection.clone());
    response.extensions_mut().insert(rejection);
    response
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for ScopeGate<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: OnRejection<ResBody> + Clone + Send + Sync + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        match self.gate.decide(&request) {
            Decision::Done(Ok(claims)) => {
                request.extensions_mut().insert(claims);
                ResponseFuture::inner(self.inner.call(request))
            }
            Decision::Done(Err(rejection)) => {
                ResponseFuture::rejected(respond(&self.on_rejection, rejection))
            }
            Decision::Wait(token) => {
                // Take the service that was driven to readiness, and leave a
                // clone in its place (tower-service, "Be careful when cloning
                // inner services").
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let gate = Arc::clone(&self.gate);
                let on_rejection = self.on_rejection.clone();
                ResponseFuture::waiting(Box::pin(async move {
                    match gate.decide_after_fetch(&token).await {
                        Ok(claims) => {
                            request.extensions_mut().insert(claims);
                            inner.call(request).await
                        }
                        Err(rejection) => Ok(respond(&on_rejection, rejection)),
                    }
                }))
            }
        }
    }
}

impl<S: Clone, R: Clone> Clone for ScopeGate<S, R> {
    fn clone(&self) -> Self {
        ScopeGate {
            inner: self.inner.clone(),
            gate: Arc::clone(&self.gate),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for ScopeGate<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGate")
            .field("inner", &self.inner)
            .field("requirement", &self.gate.requirement)
            .finish_non_exhaustive()
    }
}
