//! Fault injection: how the key-set and discovery endpoints misbehave.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

/// How the key-set and discovery endpoints misbehave, for fault tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// The whole issuer is down: every connection (key set, discovery,
    /// management API, token endpoint) is closed at once, without an answer.
    Down,
    /// Answer with this status and an empty body.
    Status(u16),
    /// Wait this long before answering (normally).
    Stall(Duration),
    /// Answer normally, but send the body one byte at a time, this far apart.
    Trickle(Duration),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with a body of this many bytes, streamed without a
    /// `Content-Length`.
    HugeBody(usize),
    /// Answer 200 with `{"keys":[]}`.
    EmptyKeys,
    /// Answer 302 with this `Location`.
    Redirect(String),
}

impl Fault {
    /// The response this fault calls for, if it replaces the normal one. A
    /// stall waits here and then lets the normal response through.
    pub(crate) async fn response(self) -> Option<Response> {
        match self {
            Fault::None | Fault::Down | Fault::Trickle(_) => None,
            Fault::Status(code) => {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Some(status.into_response())
            }
            Fault::Stall(delay) => {
                tokio::time::sleep(delay).await;
                None
            }
            Fault::Garbage => Some(
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "<html>this is not a key set</html>",
                )
                    .into_response(),
            ),
            Fault::HugeBody(bytes) => {
                const CHUNK: usize = 64 * 1024;
                let chunks = futures_util::stream::unfold(bytes, |left| async move {
                    (left > 0).then(|| {
                        let n = left.min(CHUNK);
                        (Ok::<_, Infallible>(Bytes::from(vec![b' '; n])), left - n)
                    })
                });
                Some(
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        Body::from_stream(chunks),
                    )
                        .into_response(),
                )
            }
            Fault::EmptyKeys => Some(axum::Json(json!({ "keys": [] })).into_response()),
            Fault::Redirect(location) => {
                let mut response = StatusCode::FOUND.into_response();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                Some(response)
            }
        }
    }

    /// A JSON response, trickled one byte at a time under [`Fault::Trickle`].
    pub(crate) fn json_response(&self, body: Vec<u8>) -> Response {
        let body = match *self {
            Fault::Trickle(interval) => {
                let bytes =
                    futures_util::stream::unfold((body, 0usize), move |(body, at)| async move {
                        if at >= body.len() {
                            return None;
                        }
                        tokio::time::sleep(interval).await;
                        let byte = Bytes::copy_from_slice(&body[at..at + 1]);
                        Some((Ok::<_, Infallible>(byte), (body, at + 1)))
                    });
                Body::from_stream(bytes)
            }
            _ => Body::from(body),
        };
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}
