//! `POST /revocations` on the admin listener: one [`Revocation`] as JSON.
//!
//! ```text
//! {"jti": "…"}                       the token with this jti
//! {"origin_jti": "…"}                every token of one sign-in
//! {"client_id": "…"}                 every token of the client issued until now
//! {"sub": "…", "before": 1764720000} every token of the user issued up to then
//!                                    (`before` in Unix seconds, default now)
//! ```
//!
//! Answers 204 once recorded, 400 for a body that is not one of these, 405
//! for another method, 413 above 16 KiB, 503 if the list could not record it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Deserialize;

use crate::{Revocation, Verifier};

/// The largest body read.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    jti: Option<String>,
    origin_jti: Option<String>,
    client_id: Option<String>,
    sub: Option<String>,
    before: Option<u64>,
}

/// Records the revocation of `request`; the status and a one-line body.
pub(super) async fn revoke(
    request: Request<Incoming>,
    verifier: &Verifier,
) -> (StatusCode, String) {
    if request.method() != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "use POST\n".into());
    }
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n".into()),
    };
    let revocation = match parse(&body) {
        Ok(revocation) => revocation,
        Err(message) => return (StatusCode::BAD_REQUEST, format!("{message}\n")),
    };
    let kind = kind(&revocation);
    match verifier.revoke(revocation).await {
        Ok(()) => {
            tracing::info!(kind, "revocation recorded");
            (StatusCode::NO_CONTENT, String::new())
        }
        Err(e) => {
            tracing::warn!(kind, error = %e, "revocation not recorded");
            let status = match e {
                crate::shared::SharedStateError::InvalidEntry => StatusCode::BAD_REQUEST,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, format!("{e}\n"))
        }
    }
}

/// The body as a revocation: exactly one of `jti`, `origin_jti`,
/// `client_id` or `sub`, and `before` with `sub` only.
fn parse(body: &Bytes) -> Result<Revocation, &'static str> {
    const SHAPE: &str = "the body must be a JSON object with one of jti, origin_jti, client_id, or sub (with an optional before)";
    let body: Body = crate::json::object(body).ok_or(SHAPE)?;
    match (
        body.jti,
        body.origin_jti,
        body.client_id,
        body.sub,
        body.before,
    ) {
        (Some(jti), None, None, None, None) => Ok(Revocation::jti(jti)),
        (None, Some(origin), None, None, None) => Ok(Revocation::origin_jti(origin)),
        (None, None, Some(client), None, None) => Ok(Revocation::client(client)),
        (None, None, None, Some(sub), before) => {
            let before = match before {
                None => SystemTime::now(),
                Some(secs) => UNIX_EPOCH
                    .checked_add(Duration::from_secs(secs))
                    .ok_or("before is not a time")?,
            };
            Ok(Revocation::subject_before(sub, before))
        }
        _ => Err(SHAPE),
    }
}

/// What kind of entry it is, for the log line (never its value).
fn kind(revocation: &Revocation) -> &'static str {
    match revocation {
        Revocation::TokenId(_) => "jti",
        Revocation::Origin(_) => "origin_jti",
        Revocation::ClientBefore { .. } => "client_id",
        Revocation::SubjectBefore { .. } => "sub",
    }
}
