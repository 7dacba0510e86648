//! A DPoP proof (RFC 9449 §4), checked as §4.3 lists: the header and the
//! signature with the header's key first, then the claims. Nothing here
//! knows about requests or stores.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::DpopError;
use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::jws;

/// The largest proof accepted: room for an 8192-bit RSA key in the header.
pub(crate) const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The longest `jti` and `nonce` accepted.
const MAX_ID_BYTES: usize = 256;

/// What a proof must match.
pub(crate) struct Expected<'a> {
    /// The request's method (`htm`).
    pub(crate) method: &'a str,
    /// The request's URI, without query and fragment (`htu`).
    pub(crate) uri: &'a Url,
    pub(crate) algorithms: AlgorithmSet,
    /// The oldest `iat` accepted, and the latest (Unix seconds).
    pub(crate) issued_after: u64,
    pub(crate) issued_before: u64,
    /// The access token the proof comes with, whose hash `ath` must be.
    pub(crate) access_token: Option<&'a str>,
}

/// A proof whose signature, key and claims hold. Its `jti` has not been
/// checked for replay yet, nor its `nonce` against the server's.
#[derive(Debug)]
pub(crate) struct VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub(crate) jkt: String,
    pub(crate) jti: String,
    pub(crate) nonce: Option<String>,
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    jwk: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "crate::json::present")]
    crit: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    b64: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    jku: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    x5u: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    x5c: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    enc: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    zip: bool,
}

#[derive(Deserialize)]
struct Payload {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<serde_json::Number>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// Checks `proof` against `expected`: RFC 9449 §4.3 steps 2 to 9, 11 and 12
/// (the nonce, step 10, and the replay check are the caller's).
pub(crate) fn verify(proof: &str, expected: &Expected<'_>) -> Result<VerifiedProof, DpopError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(DpopError::TooLarge);
    }
    let (header_b64, payload_b64, signature_b64) =
        jws::split(proof).map_err(|_| DpopError::Malformed)?;
    let header_json = jws::b64_decode(header_b64).map_err(|_| DpopError::Malformed)?;
    if std::str::from_utf8(&header_json).is_err() {
        return Err(DpopError::MalformedHeader);
    }
    let header: Header<'_> = crate::json::object(&header_json).ok_or(DpopError::MalformedHeader)?;
    if header.crit
        || header.b64
        || header.jku
        || header.x5u
        || header.x5c
        || header.enc
        || header.zip
    {
        return Err(DpopError::ForbiddenHeader);
    }
    if !header.typ.as_deref().is_some_and(is_dpop_jwt) {
        return Err(DpopError::WrongType);
    }
    let alg = Algorithm::from_name(&header.alg)
        .filter(|alg| expected.algorithms.contains(*alg))
        .ok_or(DpopError::AlgorithmNotAllowed)?;
    let jwk = header.jwk.ok_or(DpopError::MissingKey)?;
    let key = crate::jwk::proof_key(jwk.get().as_bytes(), alg).map_err(|_| DpopError::BadKey)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| DpopError::InvalidSignature)?;
    let signing_input = &proof[..header_b64.len() + 1 + payload_b64.len()];
    if !key.key.verify(signing_input.as_bytes(), &signature) {
        return Err(DpopError::InvalidSignature);
    }
    let payload = jws::b64_decode(payload_b64).map_err(|_| DpopError::MalformedClaims)?;
    let claims = crate::json::unique_object(&payload).ok_or(DpopError::MalformedClaims)?;
    let claims: Payload = serde_json::from_value(serde_json::Value::Object(claims))
        .map_err(|_| DpopError::MalformedClaims)?;
    check_claims(&claims, expected)?;
    Ok(VerifiedProof {
        jkt: key.thumbprint,
        jti: claims.jti.unwrap_or_default(),
        nonce: claims.nonce,
    })
}

fn check_claims(claims: &Payload, expected: &Expected<'_>) -> Result<(), DpopError> {
    let jti = claims
        .jti
        .as_deref()
        .ok_or(DpopError::MissingClaim("jti"))?;
    if jti.is_empty() || jti.len() > MAX_ID_BYTES {
        return Err(DpopError::InvalidClaim("jti"));
    }
    if claims
        .nonce
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.len() > MAX_ID_BYTES)
    {
        return Err(DpopError::InvalidClaim("nonce"));
    }
    let htm = claims
        .htm
        .as_deref()
        .ok_or(DpopError::MissingClaim("htm"))?;
    if htm != expected.method {
        return Err(DpopError::MethodMismatch);
    }
    let htu = claims
        .htu
        .as_deref()
        .ok_or(DpopError::MissingClaim("htu"))?;
    if !same_uri(htu, expected.uri) {
        return Err(DpopError::UriMismatch);
    }
    let iat = claims
        .iat
        .as_ref()
        .ok_or(DpopError::MissingClaim("iat"))?
        .as_f64()
        .filter(|iat| iat.is_finite() && *iat >= 0.0)
        .ok_or(DpopError::InvalidClaim("iat"))? as u64;
    if iat < expected.issued_after {
        return Err(DpopError::TooOld);
    }
    if iat > expected.issued_before {
        return Err(DpopError::IssuedInFuture);
    }
    match (expected.access_token, claims.ath.as_deref()) {
        (Some(token), Some(ath)) if ath == access_token_hash(token) => Ok(()),
        (Some(_), Some(_)) => Err(DpopError::AccessTokenHashMismatch),
        (Some(_), None) => Err(DpopError::MissingClaim("ath")),
        (None, _) => Ok(()),
    }
}

/// `typ` compares as a media type: case-insensitive, `application/`
/// optional (RFC 7515 §4.1.9).
fn is_dpop_jwt(typ: &str) -> bool {
    let subtype = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    subtype.eq_ignore_ascii_case("dpop+jwt")
}

/// Whether `htu` names `expected`, ignoring its query and fragment, after
/// the syntax- and scheme-based normalisation of RFC 3986 §6.2.2 and §6.2.3
/// that RFC 9449 §4.3 recommends (case of scheme and host, default port,
/// dot segments, an empty path as `/`).
fn same_uri(htu: &str, expected: &Url) -> bool {
    let Ok(mut htu) = Url::parse(htu) else {
        return false;
    };
    htu.set_query(None);
    htu.set_fragment(None);
    same_escapes(htu.as_str(), expected.as_str())
}

/// Equal but for the case of percent-escapes' hex digits (RFC 3986
/// §6.2.2.1: `%7b` and `%7B` are the same).
fn same_escapes(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut escape = 0u8;
    a.iter().zip(b).all(|(x, y)| {
        let hex = escape > 0;
        escape = if *x == b'%' {
            2
        } else {
            escape.saturating_sub(1)
        };
        if hex {
            x.eq_ignore_ascii_case(y)
        } else {
            x == y
        }
    })
}

/// `ath`: the base64url SHA-256 of the access token (RFC 9449 §4.2).
pub(crate) fn access_token_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9449 §4.1, Figure 2 (the `\` line wrapping of RFC 8792 undone).
    const FIGURE_2: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    /// RFC 9449 §7.1, Figure 13: a proof for a request to a resource.
    const FIGURE_13: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";
    /// Figure 13's access token, and Figure 9's `cnf.jkt` of the key.
    const TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    const JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    fn all() -> AlgorithmSet {
        Algorithm::ALL.into_iter().collect()
    }

    fn at_token_endpoint(uri: &Url) -> Expected<'_> {
        Expected {
            method: "POST",
            uri,
            algorithms: all(),
            issued_after: 1_562_262_616 - 60,
            issued_before: 1_562_262_616 + 5,
            access_token: None,
        }
    }

    #[test]
    fn the_rfc_token_request_proof_verifies_with_its_thumbprint() {
        let uri = Url::parse("https://server.example.com/token").unwrap();
        let proof = verify(FIGURE_2, &at_token_endpoint(&uri)).unwrap();
        assert_eq!(proof.jkt, JKT);
        assert_eq!(proof.jti, "-BwC3ESc6acc2lTc");
        // Normalised forms of the same URI name it too.
        let same = Url::parse("HTTPS://Server.Example.COM:443/token").unwrap();
        assert!(verify(FIGURE_2, &at_token_endpoint(&same)).is_ok());
    }

    #[test]
    fn the_rfc_resource_request_proof_checks_ath() {
        assert_eq!(
            access_token_hash(TOKEN),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
        let uri = Url::parse("https://resource.example.org/protectedresource").unwrap();
        let expected = |token| Expected {
            method: "GET",
            uri: &uri,
            algorithms: all(),
            issued_after: 1_562_262_618 - 60,
            issued_before: 1_562_262_618 + 5,
            access_token: Some(token),
        };
        assert_eq!(verify(FIGURE_13, &expected(TOKEN)).unwrap().jkt, JKT);
        assert_eq!(
            verify(FIGURE_13, &expected("another-token")).unwrap_err(),
            DpopError::AccessTokenHashMismatch
        );
        // Figure 2 has no `ath`: refused with an access token.
        let token_uri = Url::parse("https://server.example.com/token").unwrap();
        let mut with_token = at_token_endpoint(&token_uri);
        with_token.access_token = Some(TOKEN);
        assert_eq!(
            verify(FIGURE_2, &with_token).unwrap_err(),
            DpopError::MissingClaim("ath")
        );
    }

    #[test]
    fn every_request_check_refuses_its_mismatch() {
        let uri = Url::parse("https://server.example.com/token").unwrap();
        let other = Url::parse("https://server.example.com/other").unwrap();
        let base = at_token_endpoint(&uri);
        let cases: Vec<(Expected<'_>, DpopError)> = vec![
            (
                Expected {
                    method: "GET",
                    ..at_token_endpoint(&uri)
                },
                DpopError::MethodMismatch,
            ),
            (at_token_endpoint(&other), DpopError::UriMismatch),
            (
                Expected {
                    issued_after: 1_562_262_617,
                    ..at_token_endpoint(&uri)
                },
                DpopError::TooOld,
            ),
            (
                Expected {
                    issued_before: 1_562_262_615,
                    ..at_token_endpoint(&uri)
                },
                DpopError::IssuedInFuture,
            ),
            (
                Expected {
                    algorithms: [Algorithm::RS256].into_iter().collect(),
                    ..at_token_endpoint(&uri)
                },
                DpopError::AlgorithmNotAllowed,
            ),
        ];
        assert!(verify(FIGURE_2, &base).is_ok(), "the positive control");
        for (expected, error) in cases {
            assert_eq!(verify(FIGURE_2, &expected).unwrap_err(), error);
        }
        let (header, payload, signature) = jws::split(FIGURE_2).unwrap();
        let mut flipped = signature.as_bytes().to_vec();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{header}.{payload}.{}", String::from_utf8(flipped).unwrap());
        assert_eq!(
            verify(&tampered, &base).unwrap_err(),
            DpopError::InvalidSignature
        );
        assert_eq!(verify("a.b", &base).unwrap_err(), DpopError::Malformed);
        let huge = "a".repeat(MAX_PROOF_BYTES + 1);
        assert_eq!(verify(&huge, &base).unwrap_err(), DpopError::TooLarge);
    }

    #[test]
    fn htu_compares_without_query_and_fragment() {
        let uri = Url::parse("https://api.example.com/photos").unwrap();
        assert!(same_uri("https://api.example.com/photos?size=1#x", &uri));
        assert!(same_uri("https://api.example.com:443/photos", &uri));
        assert!(same_uri("https://API.example.com/a/../photos", &uri));
        assert!(!same_uri("http://api.example.com/photos", &uri));
        assert!(!same_uri("https://api.example.com/photos/", &uri));
        assert!(!same_uri("https://api.example.com:8443/photos", &uri));
        assert!(!same_uri("/photos", &uri));
        let escaped = Url::parse("https://api.example.com/a%7Bb").unwrap();
        assert!(same_uri("https://api.example.com/a%7bb", &escaped));
        assert!(!same_uri("https://api.example.com/A%7Bb", &escaped));
    }

    #[test]
    fn typ_compares_as_a_media_type() {
        for yes in ["dpop+jwt", "DPoP+JWT", "application/dpop+jwt"] {
            assert!(is_dpop_jwt(yes), "{yes}");
        }
        for no in ["jwt", "at+jwt", "dpop", "application/jwt", ""] {
            assert!(!is_dpop_jwt(no), "{no}");
        }
    }
}
