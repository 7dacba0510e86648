//! DPoP (RFC 9449): tokens bound to a key that the client proves it holds
//! on every request. [`Dpop`] is a verifier's DPoP policy; `proof.rs` checks
//! one proof, `nonce.rs` makes and checks server nonces. The layer's gate
//! (`layer/gate.rs`) decides which requests need a proof and answers them.

mod nonce;
pub(crate) mod proof;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::claims::Claims;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::shared::{InMemoryOneTimeIds, OneTimeIds, StoreFuture};
use crate::token_error::TokenError;
use nonce::Nonces;
use proof::{Expected, VerifiedProof};

/// How old a proof may be by default (its `iat`).
pub const DEFAULT_PROOF_MAX_AGE: Duration = Duration::from_secs(60);
/// How far ahead of this server's clock a proof's `iat` may be.
pub(crate) const MAX_FUTURE_SECS: u64 = 5;
/// How long a server nonce is handed out for (it is accepted for twice as
/// long).
const NONCE_WINDOW_SECS: u64 = 300;

/// Whether a route takes DPoP-bound tokens only, or bearer tokens too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopMode {
    /// `Authorization: DPoP` with a proof, or `Bearer` for tokens not bound
    /// to a key. A bound token is never accepted as `Bearer`.
    Allowed,
    /// `Authorization: DPoP` with a proof only.
    Required,
}

/// Why a DPoP proof was refused (`invalid_dpop_proof`). Fixed descriptions
/// only: nothing of the proof or the token reaches a response or a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopError {
    /// No `DPoP` header came with a `DPoP` token.
    MissingProof,
    /// More than one `DPoP` header (RFC 9449 §4.3: exactly one).
    MultipleProofs,
    /// The proof is longer than 8 KiB.
    TooLarge,
    /// Not a compact JWS of strict base64url.
    Malformed,
    /// The header is not a JSON object of the right types.
    MalformedHeader,
    /// The header uses `crit`, `jku`, `x5u`, `x5c`, `b64`, `enc` or `zip`.
    ForbiddenHeader,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// `alg` is not on the allow-list (asymmetric only).
    AlgorithmNotAllowed,
    /// No `jwk` in the header.
    MissingKey,
    /// The `jwk` is not a well-formed public signing key for `alg` (a
    /// private key, a symmetric one, a weak RSA modulus, ...).
    BadKey,
    /// The signature does not verify with the header's key.
    InvalidSignature,
    /// The claims are not a JSON object of the right types.
    MalformedClaims,
    /// A required claim is missing (`jti`, `htm`, `htu`, `iat`, `ath`).
    MissingClaim(&'static str),
    /// A claim is empty or too long.
    InvalidClaim(&'static str),
    /// `htm` is not the request's method.
    MethodMismatch,
    /// `htu` is not the request's URI.
    UriMismatch,
    /// `iat` is older than the maximum age.
    TooOld,
    /// `iat` is ahead of this server's clock.
    IssuedInFuture,
    /// `ath` is not the hash of the access token.
    AccessTokenHashMismatch,
    /// The proof's `jti` was used before.
    Replayed,
}

impl DpopError {
    /// A short, fixed description, safe for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DpopError::MissingProof => "no DPoP proof",
            DpopError::MultipleProofs => "more than one DPoP proof",
            DpopError::TooLarge => "DPoP proof is larger than the maximum size",
            DpopError::Malformed => "DPoP proof is not a compact JWS",
            DpopError::MalformedHeader => "DPoP proof header is malformed",
            DpopError::ForbiddenHeader => "DPoP proof header uses a forbidden parameter",
            DpopError::WrongType => "DPoP proof typ is not dpop+jwt",
            DpopError::AlgorithmNotAllowed => "DPoP proof algorithm is not allowed",
            DpopError::MissingKey => "DPoP proof header has no jwk",
            DpopError::BadKey => "DPoP proof jwk is not a usable public key for its alg",
            DpopError::InvalidSignature => "DPoP proof signature is invalid",
            DpopError::MalformedClaims => "DPoP proof claims are malformed",
            DpopError::MissingClaim(_) => "a required DPoP proof claim is missing",
            DpopError::InvalidClaim(_) => "a DPoP proof claim is empty or too long",
            DpopError::MethodMismatch => "DPoP proof htm is not the request method",
            DpopError::UriMismatch => "DPoP proof htu is not the request URI",
            DpopError::TooOld => "DPoP proof is too old",
            DpopError::IssuedInFuture => "DPoP proof iat is in the future",
            DpopError::AccessTokenHashMismatch => "DPoP proof ath is not the access token's hash",
            DpopError::Replayed => "DPoP proof was used before",
        }
    }

    /// The claim concerned, for [`MissingClaim`](Self::MissingClaim) and
    /// [`InvalidClaim`](Self::InvalidClaim).
    pub fn claim(self) -> Option<&'static str> {
        match self {
            DpopError::MissingClaim(name) | DpopError::InvalidClaim(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.claim() {
            Some(claim) => write!(f, "{} (`{claim}`)", self.as_str()),
            None => f.write_str(self.as_str()),
        }
    }
}

impl std::error::Error for DpopError {}

/// A verifier's DPoP policy (RFC 9449): the origin clients address, the
/// mode, the proof algorithms, the proofs' maximum age, server nonces, and
/// the store of used proof ids.
///
/// ```
/// use std::time::Duration;
/// use scopegate::{Algorithm, Dpop};
///
/// # fn main() -> Result<(), scopegate::ConfigError> {
/// let dpop = Dpop::new("https://photos.example.com")?
///     .required()
///     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
///     .max_age(Duration::from_secs(30));
/// # let _ = dpop;
/// # Ok(())
/// # }
/// ```
///
/// A proof's `htu` must be the origin given here followed by the request's
/// path (the query and fragment are ignored): the origin is configured,
/// never guessed from a `Host` header. Behind a load balancer, give every
/// replica the same origin (and the same
/// [one-time-id store](Self::one_time_ids)), so that a proof is good at most
/// once on any of them.
#[derive(Clone)]
#[must_use]
pub struct Dpop {
    origin: String,
    mode: DpopMode,
    algorithms: AlgorithmSet,
    max_age: Duration,
    nonces: Option<Arc<Nonces>>,
    nonce_secret_len: usize,
    one_time_ids: Arc<dyn OneTimeIds>,
}

impl Dpop {
    /// DPoP for the API at `origin` (`https://api.example.com`: a scheme,
    /// a host and an optional port, nothing else), in mode
    /// [`Allowed`](DpopMode::Allowed), every supported algorithm, a
    /// [maximum age](DEFAULT_PROOF_MAX_AGE) of 60 s, no nonces, and an
    /// [in-process](InMemoryOneTimeIds) store of proof ids.
    pub fn new(origin: &str) -> Result<Dpop, ConfigError> {
        Ok(Dpop {
            origin: checked_origin(origin)?,
            mode: DpopMode::Allowed,
            algorithms: Algorithm::ALL.into_iter().collect(),
            max_age: DEFAULT_PROOF_MAX_AGE,
            nonces: None,
            nonce_secret_len: 0,
            one_time_ids: Arc::new(InMemoryOneTimeIds::default()),
        })
    }

    /// Takes DPoP-bound tokens only (mode [`Required`](DpopMode::Required)).
    pub fn required(self) -> Self {
        self.mode(DpopMode::Required)
    }

    /// The mode of every route that does not set its own.
    pub fn mode(mut self, mode: DpopMode) -> Self {
        self.mode = mode;
        self
    }

    /// The algorithms a proof may be signed with (all of them by default).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How old a proof's `iat` may be: 1 s to 1 h (60 s by default). Proof
    /// ids are remembered for this long (plus 5 s of clock skew).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Requires a server nonce in every proof (RFC 9449 §9), made with a
    /// random secret: a proof without the current nonce is answered 401
    /// `use_dpop_nonce` with a `DPoP-Nonce` header. Replicas that must accept
    /// each other's nonces use [`nonce_secret`](Self::nonce_secret) instead.
    pub fn with_nonces(self) -> Self {
        let mut secret = [0u8; 32];
        // The system's random source failing leaves no safe way on.
        aws_lc_rs::rand::fill(&mut secret).unwrap_or_else(|_| std::process::abort());
        self.nonce_secret(&secret)
    }

    /// Requires a server nonce in every proof, made with `secret` (at least
    /// 32 bytes, checked at build: the same on every replica behind one load
    /// balancer).
    pub fn nonce_secret(mut self, secret: &[u8]) -> Self {
        self.nonces = Some(Arc::new(Nonces::new(secret, NONCE_WINDOW_SECS)));
        self.nonce_secret_len = secret.len();
        self
    }

    /// The store of used proof ids: in-process by default; one that replicas
    /// share makes a proof good once on all of them.
    pub fn one_time_ids(mut self, store: impl OneTimeIds) -> Self {
        self.one_time_ids = Arc::new(store);
        self
    }

    /// The origin proofs must name.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The mode of routes that do not set their own.
    pub fn default_mode(&self) -> DpopMode {
        self.mode
    }

    /// The proof algorithms allowed, in the order of [`Algorithm::ALL`].
    pub fn allowed_algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.algorithms.iter()
    }

    /// Shares `old`'s store of used proof ids, and its nonce secret when
    /// both use nonces (a configuration reload).
    #[cfg(feature = "proxy")]
    pub(crate) fn keep_state_of(&mut self, old: &Dpop) {
        self.one_time_ids = Arc::clone(&old.one_time_ids);
        if self.nonces.is_some() && old.nonces.is_some() {
            self.nonces.clone_from(&old.nonces);
            self.nonce_secret_len = old.nonce_secret_len;
        }
    }

    /// Checks what the builder methods could not.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.algorithms.is_empty() {
            return Err(invalid_option("the DPoP algorithm list is empty"));
        }
        if self.nonces.is_some() && self.nonce_secret_len < 32 {
            return Err(invalid_option(
                "the DPoP nonce secret must be at least 32 bytes",
            ));
        }
        if !(1..=3600).contains(&self.max_age.as_secs()) || self.max_age.subsec_nanos() != 0 {
            return Err(invalid_option(
                "the DPoP proof max_age must be whole seconds from 1 s to 1 h",
            ));
        }
        Ok(())
    }

    /// The proof algorithms as the `algs` of a challenge: `"ES256 PS256"`.
    pub(crate) fn algs(&self) -> String {
        self.algorithms
            .iter()
            .map(Algorithm::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The nonce to hand out now, if nonces are on.
    pub(crate) fn current_nonce(&self, now: u64) -> Option<String> {
        self.nonces.as_ref().map(|n| n.current(now))
    }

    /// Checks the proof of a request whose token `claims` were verified:
    /// the proof itself, its binding to the token, and the nonce; then
    /// starts its replay check.
    pub(crate) fn check(
        &self,
        request: &ProofRequest<'_>,
        claims: &Claims,
        now: u64,
    ) -> Result<ReplayCheck, Refusal> {
        let uri = Url::parse(&format!("{}{}", self.origin, request.path))
            .map_err(|_| Refusal::Proof(DpopError::UriMismatch))?;
        let expected = Expected {
            method: request.method,
            uri: &uri,
            algorithms: self.algorithms,
            issued_after: now.saturating_sub(self.max_age.as_secs()),
            issued_before: now + MAX_FUTURE_SECS,
            access_token: Some(request.token),
        };
        let proof = proof::verify(request.proof, &expected).map_err(Refusal::Proof)?;
        match claims.dpop_jkt() {
            None => return Err(Refusal::Token(TokenError::NotBound)),
            Some(jkt) if jkt != proof.jkt => {
                return Err(Refusal::Token(TokenError::KeyBindingMismatch));
            }
            Some(_) => {}
        }
        if let Some(nonces) = &self.nonces
            && !proof
                .nonce
                .as_deref()
                .is_some_and(|n| nonces.is_valid(n, now))
        {
            return Err(Refusal::UseNonce);
        }
        Ok(self.replay_check(&proof))
    }

    /// Records the proof's `jti` (scoped to its key) as used.
    pub(crate) fn replay_check(&self, proof: &VerifiedProof) -> ReplayCheck {
        let ttl = replay_window(self.max_age.as_secs());
        ReplayCheck(self.one_time_ids.first_use(&one_time_id(proof), ttl))
    }
}

/// How long a proof's id is remembered: as long as its `iat` can be
/// accepted (`max_age` back, 5 s ahead, plus the second `iat` rounds away).
pub(crate) fn replay_window(max_age_secs: u64) -> Duration {
    Duration::from_secs(max_age_secs + MAX_FUTURE_SECS + 1)
}

/// The id a proof is remembered by: a hash of its key's thumbprint and its
/// `jti`, so that stores hold fixed-size keys and nothing a client chose.
pub(crate) fn one_time_id(proof: &VerifiedProof) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(proof.jkt.as_bytes());
    context.update(b".");
    context.update(proof.jti.as_bytes());
    URL_SAFE_NO_PAD.encode(&context.finish().as_ref()[..18])
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("origin", &self.origin)
            .field("mode", &self.mode)
            .field("algorithms", &self.algorithms)
            .field("max_age", &self.max_age)
            .field("nonces", &self.nonces.is_some())
            .field("one_time_ids", &self.one_time_ids)
            .finish()
    }
}

fn invalid_option(message: impl Into<String>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidOption, message)
}

/// `origin` as `scheme://host[:port]`, or why it is not one.
fn checked_origin(origin: &str) -> Result<String, ConfigError> {
    let invalid = || {
        invalid_option(format!(
            "the DPoP origin must be http(s)://host[:port] with nothing after it, got {:?}",
            crate::log_safe::log_safe(origin)
        ))
    };
    let url = Url::parse(origin).map_err(|_| invalid())?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !bare {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

/// The request's `DPoP` proof header, if it has one (RFC 9449 §4.3:
/// exactly one, visible ASCII).
pub(crate) fn proof_header(headers: &http::HeaderMap) -> Result<Option<&str>, DpopError> {
    let mut values = headers.get_all("dpop").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value.to_str().map(Some).map_err(|_| DpopError::Malformed),
        (Some(_), Some(_)) => Err(DpopError::MultipleProofs),
    }
}

/// What a request's proof is checked against.
pub(crate) struct ProofRequest<'a> {
    pub(crate) proof: &'a str,
    pub(crate) method: &'a str,
    /// The path the client addressed (origin form, no query).
    pub(crate) path: &'a str,
    pub(crate) token: &'a str,
}

/// Why a DPoP request was refused before its replay check.
#[derive(Debug)]
pub(crate) enum Refusal {
    Proof(DpopError),
    Token(TokenError),
    /// The proof has no current server nonce.
    UseNonce,
}

/// A proof's replay check, under way: `true` once the proof is known to be
/// used for the first time.
pub(crate) struct ReplayCheck(pub(crate) StoreFuture<bool>);
