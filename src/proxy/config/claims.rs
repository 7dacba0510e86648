//! `[forward] claims`: which verified claim travels upstream in which
//! header, refusing headers the proxy manages itself.

use http::header::HeaderName;

use super::locate::{ConfigFileError, Source};
use super::schema::RawForward;

/// Headers that a claim may not be forwarded as.
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "authorization",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-request-id",
];

pub(super) fn claim_headers(
    src: &Source<'_>,
    forward: &RawForward,
) -> Result<Vec<(String, HeaderName)>, ConfigFileError> {
    let Some(claims) = &forward.claims else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, HeaderName)> = Vec::new();
    for (claim, header) in claims.get_ref() {
        let key = format!("forward.claims.{claim}");
        let refuse = |why: String| src.error(Some(&header.span()), &key, why);
        let name = HeaderName::from_bytes(header.get_ref().as_bytes())
            .map_err(|_| refuse(format!("{:?} is not a header name", header.get_ref())))?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(refuse(format!(
                "{:?} is managed by the proxy and cannot carry a claim",
                name.as_str()
            )));
        }
        if out.iter().any(|(_, n)| *n == name) {
            return Err(refuse(format!(
                "{:?} is used for two claims",
                name.as_str()
            )));
        }
        out.push((claim.clone(), name));
    }
    Ok(out)
}
