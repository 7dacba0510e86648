//! Compact JWS (RFC 7515 §7.1): splitting, the protected header and the
//! signature. Nothing here reads a claim.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::jwk::{KeySet, Lookup, VerifyingKey};
use crate::token_error::TokenError;

/// The largest signature of any allowed algorithm: RSA with an 8192-bit key.
const MAX_SIGNATURE_BYTES: usize = 1024;
/// Room for `decode_slice`, which wants space for its rounded-up estimate.
const SIGNATURE_BUFFER: usize = MAX_SIGNATURE_BYTES + 8;

/// A token whose signature has been verified. The payload is still only
/// base64url text: decoding it is the next step.
#[derive(Debug)]
pub(crate) struct VerifiedJws<'t, 'k> {
    pub(crate) payload_b64: &'t str,
    /// The key that verified the signature.
    pub(crate) key: &'k VerifyingKey,
    /// Whether the header's `typ` is `at+jwt` (RFC 9068 §2.1).
    pub(crate) typ_is_at_jwt: bool,
}

/// Decodes strict base64url: the URL-safe alphabet only, no padding, no
/// whitespace, and no non-zero trailing bits (so each value has one encoding).
pub(crate) fn b64_decode(segment: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)
}

/// Splits `header.payload.signature`. Anything else (JWE's five parts, the
/// JSON serialization, an empty header or signature) is malformed. An empty
/// payload is a valid JWS (RFC 7515 §7.1); it is never a valid set of claims.
pub(crate) fn split(token: &str) -> Result<(&str, &str, &str), TokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !s.is_empty() => Ok((h, p, s)),
        _ => Err(TokenError::Malformed),
    }
}

/// The protected header. Unknown parameters are ignored unless listed here;
/// wrong types and duplicated known parameters are errors.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    // Refused: extensions we cannot honour (RFC 7515 §4.1.11, RFC 7797), and
    // parameters that point at keys, which are never followed (RFC 8725 §3.10).
    #[serde(default, deserialize_with = "crate::json::present")]
    crit: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    b64: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    jku: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    jwk: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    x5u: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    x5c: bool,
    // JWE-only parameters: this is not a JWS.
    #[serde(default, deserialize_with = "crate::json::present")]
    enc: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    zip: bool,
}

impl Header<'_> {
    fn has_forbidden_parameter(&self) -> bool {
        self.crit
            || self.b64
            || self.jku
            || self.jwk
            || self.x5u
            || self.x5c
            || self.enc
            || self.zip
    }
}

/// `typ` compares as a media type: case-insensitive, `application/` optional
/// (RFC 7515 §4.1.9).
fn is_at_jwt(typ: &str) -> bool {
    let subtype = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    subtype.eq_ignore_ascii_case("at+jwt")
}

/// The parts of a token whose header passed every check that needs no key.
struct Parsed<'t, 'h> {
    signing_input: &'t str,
    payload_b64: &'t str,
    signature_b64: &'t str,
    alg: Algorithm,
    kid: &'h str,
    typ_is_at_jwt: bool,
}

/// Splits the token and checks its header, then hands the result to `then`
/// while the decoded header is still alive (so the `kid` is not copied).
fn parse<'t, R>(
    token: &'t str,
    allowed: AlgorithmSet,
    then: impl for<'h> FnOnce(Parsed<'t, 'h>) -> Result<R, TokenError>,
) -> Result<R, TokenError> {
    let (header_b64, payload_b64, signature_b64) = split(token)?;
    let header_json = b64_decode(header_b64)?;
    // All of it UTF-8 (RFC 7515 §5.2), also inside members serde skips.
    if std::str::from_utf8(&header_json).is_err() {
        return Err(TokenError::MalformedHeader);
    }
    let header: Header<'_> =
        crate::json::object(&header_json).ok_or(TokenError::MalformedHeader)?;
    if header.has_forbidden_parameter() {
        return Err(TokenError::ForbiddenHeader);
    }
    let alg = Algorithm::from_name(&header.alg)
        .filter(|alg| allowed.contains(*alg))
        .ok_or(TokenError::AlgorithmNotAllowed)?;
    let kid = header.kid.as_deref().ok_or(TokenError::MissingKeyId)?;
    // No key has a longer `kid`: refused without a lookup or a refetch.
    if kid.len() > crate::jwk::MAX_KID_BYTES {
        return Err(TokenError::MalformedHeader);
    }
    then(Parsed {
        signing_input: &token[..header_b64.len() + 1 + payload_b64.len()],
        payload_b64,
        signature_b64,
        alg,
        kid,
        typ_is_at_jwt: header.typ.as_deref().is_some_and(is_at_jwt),
    })
}

/// Runs every check that needs no key: split, base64url, header, `alg`
/// allow-list, `kid` present.
pub(crate) fn check_header(token: &str, allowed: AlgorithmSet) -> Result<(), TokenError> {
    parse(token, allowed, |_| Ok(()))
}

/// Verifies a compact JWS against a key set: steps 2 to 5 of
/// [the verification order](crate::Verifier#how-a-token-is-verified).
pub(crate) fn verify<'t, 'k>(
    token: &'t str,
    keys: &'k KeySet,
    allowed: AlgorithmSet,
) -> Result<VerifiedJws<'t, 'k>, TokenError> {
    parse(token, allowed, |parsed| {
        let key = match keys.lookup(parsed.kid, parsed.alg) {
            Lookup::Found(key) => key,
            Lookup::UnknownKid => return Err(TokenError::UnknownKeyId),
            Lookup::WrongAlgorithm => return Err(TokenError::KeyAlgorithmMismatch),
        };
        let mut signature = [0u8; SIGNATURE_BUFFER];
        let signature_len = URL_SAFE_NO_PAD
            .decode_slice(parsed.signature_b64, &mut signature)
            .map_err(|_| TokenError::InvalidSignature)?;
        if !key.verify(parsed.signing_input.as_bytes(), &signature[..signature_len]) {
            return Err(TokenError::InvalidSignature);
        }
        Ok(VerifiedJws {
            payload_b64: parsed.payload_b64,
            key,
            typ_is_at_jwt: parsed.typ_is_at_jwt,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use crate::jws;
    use crate::test_strategies::{all_algorithms, ed25519_jwk, key_set, sign};

    #[test]
    fn split_wants_three_segments_with_a_header_and_a_signature() {
        assert!(split("a.b.c").is_ok());
        assert_eq!(split("a..c"), Ok(("a", "", "c")));
        for token in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "a.b.c.d.e",
            ".b.c",
            "a.b.",
            "..",
            "{\"payload\":1}",
        ] {
            assert_eq!(split(token), Err(TokenError::Malformed), "{token:?}");
        }
    }

    #[test]
    fn base64url_is_strict() {
        assert_eq!(b64_decode("eyJ9").unwrap(), b"{\"}");
        for bad in [
            "eyJ9=", "ey+9", "ey/9", "ey J9", "eyJ\n9", "eyJ9\t", "e", "eyK",
        ] {
            assert!(b64_decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn typ_at_jwt_matches_as_a_media_type() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(is_at_jwt(typ), "{typ}");
        }
        for typ in [
            "JWT",
            "at+jwt ",
            "application/jwt",
            "applicationat+jwt",
            "",
            "x/at+jwt",
        ] {
            assert!(!is_at_jwt(typ), "{typ}");
        }
    }

    // ----- Property tests (proptest) of the splitter and the whole token check.

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn splitter_never_panics_and_round_trips(
            token in prop_oneof!["[a-zA-Z0-9._-]{0,40}", ".{0,200}"],
        ) {
            if let Ok((h, p, s)) = jws::split(&token) {
                prop_assert_eq!(format!("{h}.{p}.{s}"), token.clone());
                prop_assert!(!h.is_empty() && !s.is_empty());
                prop_assert!(!h.contains('.') && !p.contains('.') && !s.contains('.'));
            } else {
                let dots = token.matches('.').count();
                let parts: Vec<&str> = token.split('.').collect();
                let well_formed = dots == 2 && !parts[0].is_empty() && !parts[2].is_empty();
                prop_assert!(!well_formed);
            }
        }

        #[test]
        fn base64url_has_one_encoding_per_value(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(jws::b64_decode(&text).expect("URL_SAFE_NO_PAD output decodes"), bytes);
        }

        #[test]
        fn base64url_decoding_is_canonical(text in "[A-Za-z0-9_-]{0,60}") {
            if let Ok(bytes) = jws::b64_decode(&text) {
                prop_assert_eq!(URL_SAFE_NO_PAD.encode(bytes), text);
            }
        }

        #[test]
        fn token_check_never_panics_and_refuses_noise(token in ".{0,400}") {
            let keys = key_set(&[ed25519_jwk(1, "k")]);
            prop_assert!(jws::verify(&token, &keys, all_algorithms()).is_err());
        }

        #[test]
        fn signed_payloads_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let keys = key_set(&[ed25519_jwk(1, "k")]);
            let token = sign(1, "k", &payload);
            let verified = jws::verify(&token, &keys, all_algorithms()).expect("signed by a key in the set");
            prop_assert_eq!(jws::b64_decode(verified.payload_b64).expect("a verified payload is base64url"), payload);
        }

        #[test]
        fn no_one_character_change_of_a_signed_token_verifies(
            payload in proptest::collection::vec(any::<u8>(), 1..100),
            at in any::<prop::sample::Index>(),
            replacement in proptest::sample::select(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ".as_bytes()
            ),
        ) {
            let keys = key_set(&[ed25519_jwk(1, "k")]);
            let token = sign(1, "k", &payload);
            let mut bytes = token.clone().into_bytes();
            let at = at.index(bytes.len());
            prop_assume!(bytes[at] != replacement);
            bytes[at] = replacement;
            let changed = String::from_utf8(bytes).expect("an ASCII byte replaced by an ASCII byte");
            prop_assert!(jws::verify(&changed, &keys, all_algorithms()).is_err());
        }
    }
}
