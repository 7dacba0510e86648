//! The bodies the proxy passes on: every response's boxed body, and the
//! request body on its way upstream, which says when the client has sent
//! all of it.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;

/// Any error of a streamed body.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body of every proxy response.
pub(crate) type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

pin_project_lite::pin_project! {
    /// The request body on its way upstream; says when the client has sent
    /// all of it, so that the upstream timeout starts then.
    pub(crate) struct WatchedBody {
        #[pin]
        inner: Incoming,
        done: Option<tokio::sync::oneshot::Sender<()>>,
    }
}

impl WatchedBody {
    /// `inner`, telling `done` when it has ended.
    pub(crate) fn new(inner: Incoming, done: tokio::sync::oneshot::Sender<()>) -> WatchedBody {
        WatchedBody {
            inner,
            done: Some(done),
        }
    }
}

impl hyper::body::Body for WatchedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        let this = self.project();
        let frame = this.inner.poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_))))
            && let Some(done) = this.done.take()
        {
            let _ = done.send(());
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
