//! [`Gate`]: what one route checks, shared by [`ScopeGateLayer`] (which
//! builds it) and [`ScopeGate`] (which runs it). Both import it; neither
//! imports the other.
//!
//! [`ScopeGateLayer`]: super::ScopeGateLayer
//! [`ScopeGate`]: super::ScopeGate

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderValue, Request};

use super::challenges::{Challenges, Scheme};
use super::check::{self, Check, Failed};
use super::rejection::{Rejection, RejectionKind};
use crate::bearer::{Credentials, MalformedReason, credentials, query_has_access_token};
use crate::claims::Claims;
use crate::dpop::{DpopError, DpopMode, ProofRequest, Refusal, ReplayCheck};
use crate::scope::Requirement;
use crate::token_error::TokenError;
use crate::verifier::{Immediate, Verifier, VerifyError};

/// What one layer checks: a verifier, the route's scope requirement, its
/// DPoP mode, its group lists (each any-of, all of them required) and its
/// checks, with its `WWW-Authenticate` challenges computed once. Cloned only
/// while a layer is being built (`Arc::make_mut`), never per request.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) verifier: Verifier,
    pub(crate) requirement: Requirement,
    /// `None` unless the verifier has a DPoP policy.
    dpop_mode: Option<DpopMode>,
    /// Empty (no allocation) unless the route names groups.
    pub(crate) groups: Vec<Box<[Box<str>]>>,
    /// Empty (no allocation) unless the route has checks.
    pub(crate) checks: Vec<Check>,
    challenges: Challenges,
}

/// What the gate decided without waiting.
pub(crate) enum Decision {
    Done(Result<Claims, Rejection>),
    /// Keys must be fetched, or a proof's replay check must answer.
    Wait(Pending),
}

/// What a [`Decision::Wait`] waits for.
pub(crate) enum Pending {
    /// The token's keys; then, for a DPoP request, its proof.
    Keys {
        token: String,
        proof: Option<OwnedProof>,
    },
    /// The replay check of a proof that passed every other check.
    Replay { claims: Claims, check: ReplayCheck },
}

/// A DPoP request's proof, method and path, kept while keys are fetched.
pub(crate) struct OwnedProof {
    proof: String,
    method: String,
    path: String,
}

/// How the request's token came.
enum Presented<'r> {
    Bearer(&'r str),
    Dpop(ProofRequest<'r>),
}

impl Presented<'_> {
    fn scheme(&self) -> Scheme {
        match self {
            Presented::Bearer(_) => Scheme::Bearer,
            Presented::Dpop(_) => Scheme::Dpop,
        }
    }
}

impl Gate {
    pub(crate) fn new(verifier: Verifier, requirement: Requirement) -> Gate {
        let dpop_mode = verifier.dpop().map(|d| d.default_mode());
        let challenges = Challenges::new(&verifier, requirement.scopes(), dpop_mode);
        Gate {
            verifier,
            requirement,
            dpop_mode,
            groups: Vec::new(),
            checks: Vec::new(),
            challenges,
        }
    }

    /// Sets the route's DPoP mode (the verifier must have a DPoP policy).
    pub(crate) fn set_dpop_mode(&mut self, mode: DpopMode) {
        self.dpop_mode = Some(mode);
        self.challenges = Challenges::new(&self.verifier, self.requirement.scopes(), Some(mode));
    }

    /// Decides with the keys at hand (the order of the checks is
    /// [`Verifier`]'s).
    pub(crate) fn decide<B>(&self, request: &Request<B>) -> Decision {
        // An outer layer with the same verifier already checked this token
        // (and its proof, if it is bound to a key).
        if let Some(claims) = request.extensions().get::<Claims>()
            && claims.verifier_id() == self.verifier.id()
        {
            let scheme = if claims.dpop_jkt().is_some() {
                Scheme::Dpop
            } else {
                Scheme::Bearer
            };
            if scheme == Scheme::Bearer && self.dpop_mode == Some(DpopMode::Required) {
                return Decision::Done(Err(self.reject(RejectionKind::BearerNotAllowed, scheme)));
            }
            return Decision::Done(self.authorize(claims.clone(), scheme));
        }
        let presented = match self.presented(request) {
            Ok(presented) => presented,
            Err((kind, scheme)) => return Decision::Done(Err(self.reject(kind, scheme))),
        };
        let token = match &presented {
            Presented::Bearer(token) => token,
            Presented::Dpop(proof) => proof.token,
        };
        match self.verifier.verify_now(token) {
            Immediate::Done(Ok(claims)) => self.bind(claims, &presented),
            Immediate::Done(Err(error)) => {
                Decision::Done(Err(self.verify_failed(error, presented.scheme())))
            }
            Immediate::NeedsKeys => Decision::Wait(Pending::Keys {
                token: token.to_string(),
                proof: match &presented {
                    Presented::Bearer(_) => None,
                    Presented::Dpop(p) => Some(OwnedProof {
                        proof: p.proof.to_owned(),
                        method: p.method.to_owned(),
                        path: p.path.to_owned(),
                    }),
                },
            }),
        }
    }

    /// The request's token and how it came: from the `Authorization`
    /// header (`Bearer`, or `DPoP` with its proof when this route takes
    /// DPoP), or else from the token cookie if one is configured (never from
    /// both, and never with an `access_token` query parameter too).
    fn presented<'r, B>(
        &self,
        request: &'r Request<B>,
    ) -> Result<Presented<'r>, (RejectionKind, Scheme)> {
        let mut header = credentials(request.headers());
        if matches!(header, Credentials::Dpop(_)) && self.dpop_mode.is_none() {
            // RFC 9449 §7.1: a scheme this resource does not take.
            header = Credentials::Missing;
        }
        let cookie = match self.verifier.token_cookie() {
            Some(cookie) => cookie.credentials(request.method(), request.headers()),
            None => Credentials::Missing,
        };
        let token = match (header, cookie) {
            (Credentials::Missing, Credentials::Missing) => {
                return Err((RejectionKind::MissingCredentials, Scheme::Bearer));
            }
            (Credentials::Missing, other) | (other, Credentials::Missing) => other,
            _ => Credentials::Malformed(MalformedReason::HeaderAndCookie),
        };
        let with_query = request.uri().query().is_some_and(query_has_access_token);
        let multiple = (
            RejectionKind::InvalidRequest(MalformedReason::MultipleMethods),
            Scheme::Bearer,
        );
        match token {
            Credentials::Bearer(_) | Credentials::Dpop(_) if with_query => Err(multiple),
            Credentials::Bearer(_) if self.dpop_mode == Some(DpopMode::Required) => {
                Err((RejectionKind::BearerNotAllowed, Scheme::Bearer))
            }
            Credentials::Bearer(token) => Ok(Presented::Bearer(token)),
            Credentials::Dpop(token) => Ok(Presented::Dpop(ProofRequest {
                proof: crate::dpop::proof_header(request.headers())
                    .and_then(|proof| proof.ok_or(DpopError::MissingProof))
                    .map_err(|e| (RejectionKind::InvalidDpopProof(e), Scheme::Dpop))?,
                method: request.method().as_str(),
                path: client_path(request),
                token,
            })),
            Credentials::Missing => Err((RejectionKind::MissingCredentials, Scheme::Bearer)),
            Credentials::Malformed(reason) => {
                Err((RejectionKind::InvalidRequest(reason), Scheme::Bearer))
            }
        }
    }

    /// Checks how a verified token came: a token bound to a key only with a
    /// proof of that key, whose replay check then starts; then the route's
    /// scopes, groups and checks.
    fn bind(&self, claims: Claims, presented: &Presented<'_>) -> Decision {
        let scheme = presented.scheme();
        let proof = match presented {
            Presented::Bearer(_) if claims.dpop_jkt().is_some() => {
                let kind = RejectionKind::InvalidToken(TokenError::BoundToKey);
                return Decision::Done(Err(self.reject(kind, scheme)));
            }
            Presented::Bearer(_) => return Decision::Done(self.authorize(claims, scheme)),
            Presented::Dpop(proof) => proof,
        };
        // `dpop_mode` is set for every request that got here with a proof.
        let Some(dpop) = self.verifier.dpop() else {
            return Decision::Done(Err(self.reject(RejectionKind::MissingCredentials, scheme)));
        };
        let now = crate::clock::now_secs();
        let check = match dpop.check(proof, &claims, now) {
            Ok(check) => check,
            Err(refusal) => return Decision::Done(Err(self.refused(refusal, now))),
        };
        match self.authorize(claims, scheme) {
            Ok(claims) => Decision::Wait(Pending::Replay { claims, check }),
            Err(rejection) => Decision::Done(Err(rejection)),
        }
    }

    /// Decides once what a [`Decision::Wait`] waited for has come.
    pub(crate) async fn finish(&self, pending: Pending) -> Result<Claims, Rejection> {
        let (claims, check) = match pending {
            Pending::Replay { claims, check } => (claims, check),
            Pending::Keys { token, proof } => {
                let presented = match &proof {
                    None => Presented::Bearer(&token),
                    Some(p) => Presented::Dpop(ProofRequest {
                        proof: &p.proof,
                        method: &p.method,
                        path: &p.path,
                        token: &token,
                    }),
                };
                let scheme = presented.scheme();
                let claims = match self.verifier.verify_after_fetch(&token).await {
                    Ok(claims) => claims,
                    Err(error) => return Err(self.verify_failed(error, scheme)),
                };
                match self.bind(claims, &presented) {
                    Decision::Done(result) => return result,
                    Decision::Wait(Pending::Replay { claims, check }) => (claims, check),
                    Decision::Wait(Pending::Keys { .. }) => {
                        return Err(self.reject(RejectionKind::KeySetUnavailable, scheme));
                    }
                }
            }
        };
        match check.0.await {
            Ok(true) => Ok(claims),
            Ok(false) => Err(self.reject(
                RejectionKind::InvalidDpopProof(DpopError::Replayed),
                Scheme::Dpop,
            )),
            Err(_) => Err(self
                .reject(RejectionKind::ReplayCheckUnavailable, Scheme::Dpop)
                .with_retry_after(Duration::from_secs(1))),
        }
    }

    fn verify_failed(&self, error: VerifyError, scheme: Scheme) -> Rejection {
        match error {
            VerifyError::InvalidToken(error) => {
                self.reject(RejectionKind::InvalidToken(error), scheme)
            }
            VerifyError::KeySetUnavailable { retry_after } => self
                .reject(RejectionKind::KeySetUnavailable, scheme)
                .with_retry_after(retry_after),
            VerifyError::RevocationListUnavailable => self
                .reject(RejectionKind::RevocationListUnavailable, scheme)
                .with_retry_after(Duration::from_secs(1)),
        }
    }

    /// The answer to a DPoP request refused before its replay check.
    fn refused(&self, refusal: Refusal, now: u64) -> Rejection {
        match refusal {
            Refusal::Proof(error) => {
                self.reject(RejectionKind::InvalidDpopProof(error), Scheme::Dpop)
            }
            Refusal::Token(error) => self.reject(RejectionKind::InvalidToken(error), Scheme::Dpop),
            Refusal::UseNonce => {
                let rejection = self.reject(RejectionKind::UseDpopNonce, Scheme::Dpop);
                let nonce = self.verifier.dpop().and_then(|d| d.current_nonce(now));
                match nonce.and_then(|n| HeaderValue::try_from(n).ok()) {
                    Some(nonce) => rejection.with_dpop_nonce(nonce),
                    None => rejection,
                }
            }
        }
    }

    /// The route's scopes, then each of its group lists, then its checks in
    /// the order they were added: the first that fails decides.
    fn authorize(&self, claims: Claims, scheme: Scheme) -> Result<Claims, Rejection> {
        if !claims.meets(&self.requirement) {
            return Err(self.reject(RejectionKind::InsufficientScope, scheme));
        }
        if !self
            .groups
            .iter()
            .all(|any_of| check::in_any(&claims, any_of))
        {
            return Err(self.reject(RejectionKind::MissingGroup, scheme));
        }
        if self.checks.is_empty() {
            return Ok(claims);
        }
        let now = crate::clock::now_secs();
        for check in &self.checks {
            match check.run(&claims, now) {
                Ok(()) => {}
                Err(Failed::TooOld(challenge)) => {
                    let kind = RejectionKind::AuthenticationTooOld;
                    log_rejection(kind, None);
                    return Err(Rejection::new(kind, Some(challenge.clone()), None));
                }
                Err(Failed::Denied(denied)) => {
                    let reason = denied.into_reason();
                    let kind = RejectionKind::Denied;
                    log_rejection(kind, Some(&reason));
                    let challenge = self.challenges.of(kind, scheme);
                    return Err(Rejection::new(kind, challenge.0, None).with_reason(reason));
                }
            }
        }
        Ok(claims)
    }

    fn reject(&self, kind: RejectionKind, scheme: Scheme) -> Rejection {
        log_rejection(kind, None);
        let (challenge, second) = self.challenges.of(kind, scheme);
        let rejection = Rejection::new(kind, challenge, None);
        match second {
            Some(second) => rejection.with_second_challenge(second),
            None => rejection,
        }
    }
}

/// The path the client addressed, for a proof's `htu`: inside an axum
/// `Router::nest`, the request's URI has lost its prefix, and axum keeps
/// the original in the extensions.
fn client_path<B>(request: &Request<B>) -> &str {
    #[cfg(feature = "axum")]
    if let Some(original) = request.extensions().get::<axum::extract::OriginalUri>() {
        return original.0.path();
    }
    request.uri().path()
}

/// The layer's one log line for a refusal: the status and fixed reason, and
/// for a custom check's denial its reason, escaped and truncated (the
/// application wrote it, but may have put a claim in it).
fn log_rejection(kind: RejectionKind, denied: Option<&Cow<'static, str>>) {
    match denied {
        None => tracing::debug!(
            status = kind.status().as_u16(),
            reason = kind.as_str(),
            "request rejected"
        ),
        Some(denied) => tracing::debug!(
            status = kind.status().as_u16(),
            reason = kind.as_str(),
            denied = %crate::log_safe::log_safe(denied),
            "request rejected"
        ),
    }
}
