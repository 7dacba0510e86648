//! `[forward]`: which verified claim travels upstream in which header
//! (`claims`, refusing headers the proxy manages itself), and which
//! removed client headers are trusted after all (`trusted_headers`).

use http::header::HeaderName;

use crate::proxy::spoofable::is_spoofable;

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

/// `trusted_headers`: names from the list of headers the proxy removes
/// (`spoofable.rs`), each once.
pub(super) fn trusted_headers(
    src: &Source<'_>,
    forward: &RawForward,
) -> Result<Vec<HeaderName>, ConfigFileError> {
    let Some(list) = &forward.trusted_headers else {
        return Ok(Vec::new());
    };
    let mut out: Vec<HeaderName> = Vec::new();
    for (i, header) in list.get_ref().iter().enumerate() {
        let key = format!("forward.trusted_headers[{i}]");
        let refuse = |why: String| src.error(Some(&header.span()), &key, why);
        let given = header.get_ref();
        let name = HeaderName::from_bytes(given.as_bytes())
            .map_err(|_| refuse(format!("{given:?} is not a header name")))?;
        if name == "x-forwarded-for" {
            return Err(refuse(
                "x-forwarded-for is trusted with trust_x_forwarded_for = true".into(),
            ));
        }
        if !is_spoofable(name.as_str()) {
            return Err(refuse(format!(
                "{given:?} is not a header the proxy removes (the README lists them)"
            )));
        }
        if out.contains(&name) {
            return Err(refuse(format!("{given:?} is listed twice")));
        }
        out.push(name);
    }
    Ok(out)
}
