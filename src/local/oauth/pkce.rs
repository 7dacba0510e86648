//! PKCE (RFC 7636): the `S256` transformation and the checks of a verifier
//! and a challenge. `plain` is refused, as Cognito does.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A verifier or challenge of RFC 7636's syntax: 43 to 128 unreserved
/// characters (§4.1; an S256 challenge is 43 of them).
pub(crate) fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 challenge of a verifier.
fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge` (compared in constant time).
pub(crate) fn verifies(challenge: &str, verifier: &str) -> bool {
    well_formed(verifier)
        && aws_lc_rs::constant_time::verify_slices_are_equal(
            challenge_of(verifier).as_bytes(),
            challenge.as_bytes(),
        )
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifies(challenge, verifier));
        assert!(!verifies(challenge, &verifier.replace('d', "e")));
        assert!(!verifies(challenge, "short"));
    }
}
