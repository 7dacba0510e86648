//! [`Gate`]: what one route checks, shared by [`ScopeGateLayer`] (which
//! builds it) and [`ScopeGate`] (which runs it). Both import it; neither
//! imports the other.
//!
//! [`ScopeGateLayer`]: super::ScopeGateLayer
//! [`ScopeGate`]: super::ScopeGate

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderValue, Request};

use super::check::{self, Check, Failed};
use super::rejection::{Rejection, RejectionKind};
use crate::bearer::{Credentials, MalformedReason, credentials, query_has_access_token};
use crate::claims::Claims;
use crate::scope::{Requirement, Scope};
use crate::verifier::{Immediate, Verifier, VerifyError};

/// What one layer checks: a verifier, the route's scope requirement, its
/// group lists (each any-of, all of them required) and its checks, with its
/// `WWW-Authenticate` challenges computed once. Cloned only while a layer is
/// being built (`Arc::make_mut`), never per request.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) verifier: Verifier,
    pub(crate) requirement: Requirement,
    /// Empty (no allocation) unless the route names groups.
    pub(crate) groups: Vec<Box<[Box<str>]>>,
    /// Empty (no allocation) unless the route has checks.
    pub(crate) checks: Vec<Check>,
    challenges: Challenges,
}

/// `WWW-Authenticate` values computed once per route (RFC 6750 §3).
#[derive(Clone)]
struct Challenges {
    missing: HeaderValue,
    /// A missing group or a custom check's denial (403, no error code).
    forbidden: HeaderValue,
    invalid_request: HeaderValue,
    invalid_token: HeaderValue,
    insufficient_scope: HeaderValue,
}

/// What the gate decided without waiting.
pub(crate) enum Decision {
    Done(Result<Claims, Rejection>),
    /// The token needs keys that must be fetched first.
    Wait(String),
}

impl Gate {
    pub(crate) fn new(verifier: Verifier, requirement: Requirement) -> Gate {
        let metadata = verifier.resource_metadata().map(|m| m.url());
        let challenges = Challenges::new(verifier.realm(), requirement.scopes(), metadata);
        Gate {
            verifier,
            requirement,
            groups: Vec::new(),
            checks: Vec::new(),
            challenges,
        }
    }

    /// Decides with the keys at hand (the order of the checks is
    /// [`Verifier`]'s).
    pub(crate) fn decide<B>(&self, request: &Request<B>) -> Decision {
        // An outer layer with the same verifier already checked this token:
        // only the scopes are left to check.
        if let Some(claims) = request.extensions().get::<Claims>()
            && claims.verifier_id() == self.verifier.id()
        {
            return Decision::Done(self.authorize(claims.clone()));
        }
        let token = match self.token_of(request) {
            Ok(token) => token,
            Err(kind) => return Decision::Done(Err(self.reject(kind, None))),
        };
        match self.verifier.verify_now(token) {
            Immediate::Done(Ok(claims)) => Decision::Done(self.authorize(claims)),
            Immediate::Done(Err(error)) => {
                Decision::Done(Err(self.reject(RejectionKind::InvalidToken(error), None)))
            }
            Immediate::NeedsKeys => Decision::Wait(token.to_owned()),
        }
    }

    /// The request's token: from the `Authorization` header, or else from
    /// the token cookie if one is configured (never from both, and never
    /// with an `access_token` query parameter too).
    fn token_of<'r, B>(&self, request: &'r Request<B>) -> Result<&'r str, RejectionKind> {
        let header = credentials(request.headers());
        let cookie = match self.verifier.token_cookie() {
            Some(cookie) => cookie.credentials(request.method(), request.headers()),
            None => Credentials::Missing,
        };
        let token = match (header, cookie) {
            (Credentials::Missing, Credentials::Missing) => {
                return Err(RejectionKind::MissingCredentials);
            }
            (Credentials::Missing, other) | (other, Credentials::Missing) => other,
            _ => Credentials::Malformed(MalformedReason::HeaderAndCookie),
        };
        match token {
            Credentials::Bearer(_) if request.uri().query().is_some_and(query_has_access_token) => {
                Err(RejectionKind::InvalidRequest(
                    MalformedReason::MultipleMethods,
                ))
            }
            Credentials::Bearer(token) => Ok(token),
            Credentials::Missing => Err(RejectionKind::MissingCredentials),
            Credentials::Malformed(reason) => Err(RejectionKind::InvalidRequest(reason)),
        }
    }

    /// Decides once the keys a [`Decision::Wait`] needed are fetched.
    pub(crate) async fn decide_after_fetch(&self, token: &str) -> Result<Claims, Rejection> {
        match self.verifier.verify_after_fetch(token).await {
            Ok(claims) => self.authorize(claims),
            Err(VerifyError::InvalidToken(error)) => {
                Err(self.reject(RejectionKind::InvalidToken(error), None))
            }
            Err(VerifyError::KeySetUnavailable { retry_after }) => {
                Err(self.reject(RejectionKind::KeySetUnavailable, Some(retry_after)))
            }
        }
    }

    /// The route's scopes, then each of its group lists, then its checks in
    /// the order they were added: the first that fails decides.
    fn authorize(&self, claims: Claims) -> Result<Claims, Rejection> {
        if !claims.meets(&self.requirement) {
            return Err(self.reject(RejectionKind::InsufficientScope, None));
        }
        if !self
            .groups
            .iter()
            .all(|any_of| check::in_any(&claims, any_of))
        {
            return Err(self.reject(RejectionKind::MissingGroup, None));
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
                    let challenge = Some(self.challenges.forbidden.clone());
                    return Err(Rejection::new(kind, challenge, None).with_reason(reason));
                }
            }
        }
        Ok(claims)
    }

    fn reject(&self, kind: RejectionKind, retry_after: Option<Duration>) -> Rejection {
        let challenges = &self.challenges;
        let challenge = match kind {
            // A bare challenge: RFC 6750 has no code for a missing group or a
            // policy's refusal, and `insufficient_scope` would send the
            // client off for scopes that cannot help.
            RejectionKind::MissingCredentials => Some(challenges.missing.clone()),
            RejectionKind::MissingGroup | RejectionKind::Denied => {
                Some(challenges.forbidden.clone())
            }
            RejectionKind::InvalidRequest(_) => Some(challenges.invalid_request.clone()),
            RejectionKind::InvalidToken(_) => Some(challenges.invalid_token.clone()),
            RejectionKind::InsufficientScope => Some(challenges.insufficient_scope.clone()),
            RejectionKind::KeySetUnavailable => None,
            // Made by `authorize` with the check's own challenge (its
            // `max_age`), never here.
            RejectionKind::AuthenticationTooOld => None,
        };
        log_rejection(kind, None);
        Rejection::new(kind, challenge, retry_after)
    }
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

impl Challenges {
    /// The challenges of a route; with protected-resource metadata (RFC
    /// 9728 §5.1), 401 and 403 challenges name its URL, and 401 challenges
    /// also the route's scopes (as MCP's authorization spec asks).
    fn new(realm: &str, scopes: &[Scope], metadata_url: Option<&str>) -> Challenges {
        let scopes = scopes
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        // What 403 and what 401 challenges add.
        let (forbidden_extra, unauthorized_extra) = match metadata_url {
            Some(url) if scopes.is_empty() => (
                format!(", resource_metadata=\"{url}\""),
                format!(", resource_metadata=\"{url}\""),
            ),
            Some(url) => (
                format!(", resource_metadata=\"{url}\""),
                format!(", resource_metadata=\"{url}\", scope=\"{scopes}\""),
            ),
            None => (String::new(), String::new()),
        };
        Challenges {
            missing: challenge(format!("Bearer realm=\"{realm}\"{unauthorized_extra}")),
            forbidden: challenge(format!("Bearer realm=\"{realm}\"{forbidden_extra}")),
            invalid_request: challenge(format!(
                "Bearer realm=\"{realm}\", error=\"invalid_request\""
            )),
            invalid_token: challenge(format!(
                "Bearer realm=\"{realm}\", error=\"invalid_token\"{unauthorized_extra}"
            )),
            insufficient_scope: challenge(format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scopes}\"{forbidden_extra}"
            )),
        }
    }
}

/// A challenge header value. The builder checked the realm, and the scope
/// parser the scopes, to be visible ASCII without quotes or backslashes, so
/// the fallback (a bare `Bearer`, still a valid challenge) is never used.
fn challenge(value: String) -> HeaderValue {
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}
