//! DPoP at the token endpoint (RFC 9449 §5): a token request with a `DPoP`
//! proof gets tokens bound to the proof's key.

use http::HeaderMap;
use url::Url;

use super::outcome::OAuthError;
use crate::Algorithm;
use crate::dpop::proof::{self, Expected};
use crate::dpop::{MAX_FUTURE_SECS, one_time_id, proof_header, replay_window};
use crate::local::shared::Shared;

/// How old a proof may be.
const MAX_AGE_SECS: u64 = 60;

/// The algorithms proofs may use (advertised as
/// `dpop_signing_alg_values_supported`).
pub(crate) const ALGORITHMS: [Algorithm; 9] = Algorithm::ALL;

/// The thumbprint of the key of the request's proof, if it has one; an
/// `invalid_dpop_proof` error if the proof is refused (RFC 9449 §5.1).
pub(crate) fn proof_key(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<Option<String>, OAuthError> {
    let Some(proof) = proof_header(headers).map_err(|e| invalid(e.as_str()))? else {
        return Ok(None);
    };
    let endpoint = Url::parse(&format!("{}/oauth2/token", shared.base_url))
        .map_err(|_| invalid("the token endpoint has no URL"))?;
    let now = crate::clock::now_secs();
    let expected = Expected {
        method: "POST",
        uri: &endpoint,
        algorithms: ALGORITHMS.into_iter().collect(),
        issued_after: now.saturating_sub(MAX_AGE_SECS),
        issued_before: now + MAX_FUTURE_SECS,
        access_token: None,
    };
    let verified = proof::verify(proof, &expected).map_err(|e| invalid(e.as_str()))?;
    let ttl = replay_window(MAX_AGE_SECS);
    match shared.dpop_proof_ids.record(&one_time_id(&verified), ttl) {
        Ok(true) => Ok(Some(verified.jkt)),
        Ok(false) => Err(invalid("the DPoP proof was used before")),
        Err(_) => Err(invalid("the DPoP proof cannot be checked for replay now")),
    }
}

fn invalid(description: &'static str) -> OAuthError {
    OAuthError::new("invalid_dpop_proof", description)
}
