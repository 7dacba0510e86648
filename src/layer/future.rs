//! The response future of [`ScopeGate`](super::ScopeGate).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;
use sync_wrapper::SyncWrapper;

pub(crate) type BoxResponseFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send + 'static>>;

pin_project! {
    /// The response future of [`ScopeGate`](super::ScopeGate).
    ///
    /// On the common path (keys cached) the token is checked before this
    /// future exists, and it is either the inner service's future or a ready
    /// rejection. Only a request that must wait for a key-set fetch gets a
    /// boxed future.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<B>> },
        Waiting { future: SyncWrapper<BoxResponseFuture<B, E>> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn inner(future: F) -> Self {
        ResponseFuture {
            state: State::Inner { future },
        }
    }

    pub(crate) fn rejected(response: Response<B>) -> Self {
        ResponseFuture {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn waiting(future: BoxResponseFuture<B, E>) -> Self {
        ResponseFuture {
            state: State::Waiting {
                future: SyncWrapper::new(future),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .expect("a ResponseFuture is not polled after it completed"))),
            StateProj::Waiting { future } => future.get_mut().as_mut().poll(cx),
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Inner { .. } => "inner",
            State::Rejected { .. } => "rejected",
            State::Waiting { .. } => "waiting for keys or a replay check",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
