//! axum integration: extractors for the verified [`Claims`].

use std::convert::Infallible;
use std::fmt;

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::claims::Claims;
use crate::layer::Rejection;

/// Extracts the claims the layer verified.
///
/// A handler that takes `Claims` must sit behind a
/// [`ScopeGateLayer`](crate::ScopeGateLayer); if it does not, the extractor
/// answers 500, because that is a server bug, not a client error. Take
/// `Option<Claims>` on routes where a token is optional.
impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or(ClaimsRejection { _private: () })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Claims>().cloned())
    }
}

/// The [`Claims`] extractor's rejection: the route is not behind a
/// [`ScopeGateLayer`](crate::ScopeGateLayer).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClaimsRejection {
    _private: (),
}

impl ClaimsRejection {
    /// 500: a handler asked for claims on a route the layer does not guard.
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The response body.
    pub fn body_text(&self) -> String {
        "no verified claims: this route is not behind a scopegate layer".to_string()
    }
}

impl fmt::Display for ClaimsRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl std::error::Error for ClaimsRejection {}

impl IntoResponse for ClaimsRejection {
    fn into_response(self) -> Response {
        tracing::error!("{}", self.body_text());
        (self.status(), self.body_text()).into_response()
    }
}

impl IntoResponse for Rejection {
    /// As [`DefaultRejection`](crate::DefaultRejection) answers: the gRPC
    /// form for a gRPC call.
    fn into_response(self) -> Response {
        if self.is_grpc() {
            self.with_grpc_body(Body::empty())
        } else {
            self.with_body(Body::empty())
        }
    }
}

impl crate::ResourceMetadata {
    /// A router that serves the metadata document at its
    /// [`path`](crate::ResourceMetadata::path); merge it into the app's.
    ///
    /// ```ignore
    /// let metadata = verifier.resource_metadata().expect("configured");
    /// let app = Router::new()
    ///     .route("/mcp", post(mcp).route_layer(verifier.require("com.example.photos/read")?))
    ///     .merge(metadata.router());
    /// ```
    pub fn router<S>(&self) -> ::axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        ::axum::Router::new().route_service(self.path(), self.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use axum_core::response::IntoResponse;
    use http::{HeaderValue, StatusCode};

    use crate::layer::{Rejection, RejectionKind};

    #[test]
    fn the_new_rejections_answer_with_their_status_and_challenge_only() {
        let bare = HeaderValue::from_static(r#"Bearer realm="api""#);
        let too_old = HeaderValue::from_static(
            r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="900""#,
        );
        let cases = [
            (
                RejectionKind::MissingGroup,
                bare.clone(),
                StatusCode::FORBIDDEN,
            ),
            (RejectionKind::Denied, bare, StatusCode::FORBIDDEN),
            (
                RejectionKind::AuthenticationTooOld,
                too_old,
                StatusCode::UNAUTHORIZED,
            ),
        ];
        for (kind, challenge, status) in cases {
            let rejection = Rejection::new(kind, Some(challenge.clone()), None)
                .with_reason(Cow::Borrowed("secret reason"));
            let response = rejection.into_response();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers().len(), 1, "{:?}", response.headers());
            assert_eq!(response.headers()["www-authenticate"], challenge);
            let kept = response.extensions().get::<Rejection>().expect("kept");
            assert_eq!(kept.kind(), kind);
            assert_eq!(kept.reason(), Some("secret reason"));
        }
    }
}
