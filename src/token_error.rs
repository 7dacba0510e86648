//! Why a token is not accepted.

use std::fmt;

/// Why a bearer token was refused (RFC 6750 `invalid_token`).
///
/// Each variant is a fixed reason, safe to log and to count: nothing from the
/// token itself is ever carried along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured maximum; it was not decoded.
    TooLarge,
    /// Not three base64url segments (JWE, JSON serialization, padding, `+`,
    /// `/`, whitespace, empty segments, ...).
    Malformed,
    /// The JOSE header is not a JSON object with the right member types.
    MalformedHeader,
    /// The header uses a parameter the verifier refuses: `crit`, `b64`,
    /// `jku`, `jwk`, `x5u`, `x5c`, `enc`, `zip`.
    ForbiddenHeader,
    /// The header's `alg` is not on the allow-list (this covers `none` and
    /// every HMAC algorithm).
    AlgorithmNotAllowed,
    /// The header has no `kid`.
    MissingKeyId,
    /// No key in the key set has the header's `kid`.
    UnknownKeyId,
    /// A key has the `kid`, but it is not for the header's `alg`.
    KeyAlgorithmMismatch,
    /// The signature does not verify.
    InvalidSignature,
    /// The payload is not a JSON object of claims, or repeats a claim name.
    MalformedClaims,
    /// A claim the verifier needs is absent (`exp`, `iss`, or one the
    /// configuration requires).
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an impossible value.
    InvalidClaim(&'static str),
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still in the future (beyond the leeway).
    NotYetValid,
    /// `iss` is not the configured issuer (with several, none of them; or
    /// it is missing or not a string, so none can be chosen).
    IssuerMismatch,
    /// `token_use` is not the required one (an ID token used as an access
    /// token, for instance).
    TokenUseMismatch,
    /// `client_id` is not on the allow-list.
    ClientNotAllowed,
    /// No `aud` value is on the allow-list.
    AudienceNotAllowed,
    /// The header's `typ` is not `at+jwt` while the RFC 9068 profile is on.
    TypeMismatch,
    /// The token is on the revocation list.
    Revoked,
    /// The token is bound to a key (`cnf.jkt`, RFC 9449 §6) but came as a
    /// bearer token, without a proof of that key.
    BoundToKey,
    /// The token came under the `DPoP` scheme but is not bound to a key.
    NotBound,
    /// The DPoP proof's key is not the one the token is bound to.
    KeyBindingMismatch,
}

impl TokenError {
    /// A short, fixed description.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::TooLarge => "token is larger than the maximum size",
            TokenError::Malformed => "token is not a compact JWS",
            TokenError::MalformedHeader => "token header is malformed",
            TokenError::ForbiddenHeader => "token header uses a forbidden parameter",
            TokenError::AlgorithmNotAllowed => "token algorithm is not allowed",
            TokenError::MissingKeyId => "token header has no kid",
            TokenError::UnknownKeyId => "no key matches the token's kid",
            TokenError::KeyAlgorithmMismatch => "the key for this kid is not for this algorithm",
            TokenError::InvalidSignature => "token signature is invalid",
            TokenError::MalformedClaims => "token claims are malformed",
            TokenError::MissingClaim(_) => "a required claim is missing",
            TokenError::InvalidClaim(_) => "a claim has the wrong type or value",
            TokenError::Expired => "token has expired",
            TokenError::NotYetValid => "token is not valid yet",
            TokenError::IssuerMismatch => "token issuer is not a configured issuer",
            TokenError::TokenUseMismatch => "token_use is not the required one",
            TokenError::ClientNotAllowed => "client_id is not allowed",
            TokenError::AudienceNotAllowed => "audience is not allowed",
            TokenError::TypeMismatch => "token typ is not at+jwt",
            TokenError::Revoked => "token has been revoked",
            TokenError::BoundToKey => "token is bound to a DPoP key but was sent as a bearer token",
            TokenError::NotBound => "token sent with DPoP is not bound to a key",
            TokenError::KeyBindingMismatch => "the DPoP proof's key is not the token's key",
        }
    }

    /// The claim a [`MissingClaim`](TokenError::MissingClaim) or
    /// [`InvalidClaim`](TokenError::InvalidClaim) error is about.
    pub fn claim(self) -> Option<&'static str> {
        match self {
            TokenError::MissingClaim(name) | TokenError::InvalidClaim(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.claim() {
            Some(claim) => write!(f, "{} (`{claim}`)", self.as_str()),
            None => f.write_str(self.as_str()),
        }
    }
}

impl std::error::Error for TokenError {}
