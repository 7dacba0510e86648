//! [`ScopeGate`]: the service half of the middleware.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::CONTENT_TYPE;
use http::{HeaderMap, Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::gate::{Decision, Gate};
use super::rejection::{OnRejection, Rejection};

/// Middleware that verifies bearer tokens and route scopes. Made by
/// [`ScopeGateLayer`](crate::ScopeGateLayer).
///
/// Every rejection is a response (`Ok`); the inner service's errors pass
/// through unchanged. On success the verified [`Claims`](crate::Claims) are in the request's
/// extensions.
pub struct ScopeGate<S, R> {
    inner: S,
    gate: Arc<Gate>,
    on_rejection: R,
}

impl<S, R> ScopeGate<S, R> {
    pub(crate) fn new(inner: S, gate: Arc<Gate>, on_rejection: R) -> Self {
        ScopeGate {
            inner,
            gate,
            on_rejection,
        }
    }

    /// Gets a reference to the wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Gets a mutable reference to the wrapped service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

fn respond<B, R: OnRejection<B>>(
    on_rejection: &R,
    rejection: Rejection,
    grpc: bool,
) -> Response<B> {
    let rejection = if grpc {
        rejection.of_grpc_call()
    } else {
        rejection
    };
    let mut response = on_rejection.on_rejection(rejection.clone());
    response.extensions_mut().insert(rejection);
    response
}

/// Whether a request is a gRPC call: `content-type` `application/grpc`,
/// alone or followed by `+` (`+proto`, `+json`, ...) or `;`.
fn is_grpc(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let value = value.as_bytes();
    let prefix = b"application/grpc";
    value.len() >= prefix.len()
        && value[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(value.get(prefix.len()), None | Some(b'+' | b';'))
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
        // gRPC calls are POSTs: any other method keeps HTTP's statuses, so
        // that a client cannot turn its refusals into 200s.
        let grpc = request.method() == http::Method::POST && is_grpc(request.headers());
        match self.gate.decide(&request) {
            Decision::Done(Ok(claims)) => {
                request.extensions_mut().insert(claims);
                ResponseFuture::inner(self.inner.call(request))
            }
            Decision::Done(Err(rejection)) => {
                ResponseFuture::rejected(respond(&self.on_rejection, rejection, grpc))
            }
            Decision::Wait(pending) => {
                // Take the service that was driven to readiness, and leave a
                // clone in its place (tower-service, "Be careful when cloning
                // inner services").
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let gate = Arc::clone(&self.gate);
                let on_rejection = self.on_rejection.clone();
                ResponseFuture::waiting(Box::pin(async move {
                    match gate.finish(pending).await {
                        Ok(claims) => {
                            request.extensions_mut().insert(claims);
                            inner.call(request).await
                        }
                        Err(rejection) => Ok(respond(&on_rejection, rejection, grpc)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types() {
        let grpc = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, http::HeaderValue::from_static(value));
            is_grpc(&headers)
        };
        for yes in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "Application/GRPC;charset=utf-8",
        ] {
            assert!(grpc(yes), "{yes}");
        }
        for no in [
            "application/grpc-web",
            "application/grpcx",
            "application/json",
            "text/plain",
            "",
        ] {
            assert!(!grpc(no), "{no}");
        }
        assert!(!is_grpc(&HeaderMap::new()));
    }
}
