//! [`ScopeGateLayer`]: the configuration half of the middleware.

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;
use tower_layer::Layer;

use super::rejection::DefaultRejection;
use super::service::ScopeGate;
use crate::scope::{Requirement, Scope};
use crate::verifier::{Challenges, Verifier};

/// What one layer checks: a verifier and the route's scope requirement, with
/// its `insufficient_scope` challenge computed once.
pub(crate) struct Gate {
    pub(crate) verifier: Verifier,
    pub(crate) requirement: Requirement,
    pub(crate) insufficient_scope: HeaderValue,
}

/// A [`Layer`] that verifies each request's bearer token and the scopes the
/// route requires, and forwards only what passes.
///
/// Made by [`Verifier::require`], [`Verifier::require_all`],
/// [`Verifier::require_any`] and [`Verifier::authenticated`].
#[derive(Clone)]
#[must_use]
pub struct ScopeGateLayer<R = DefaultRejection> {
    gate: Arc<Gate>,
    on_rejection: R,
}

impl ScopeGateLayer {
    pub(crate) fn new(verifier: Verifier, requirement: Requirement) -> Self {
        let insufficient_scope =
            Challenges::insufficient_scope(verifier.realm(), requirement.scopes());
        ScopeGateLayer {
            gate: Arc::new(Gate {
                verifier,
                requirement,
                insufficient_scope,
            }),
            on_rejection: DefaultRejection,
        }
    }
}

impl<R> ScopeGateLayer<R> {
    /// Replaces how rejections become responses (see
    /// [`OnRejection`](crate::OnRejection)).
    pub fn on_rejection<R2>(self, on_rejection: R2) -> ScopeGateLayer<R2> {
        ScopeGateLayer {
            gate: self.gate,
            on_rejection,
        }
    }

    /// The scopes this layer requires (empty for `authenticated()`).
    pub fn scopes(&self) -> &[Scope] {
        self.gate.requirement.scopes()
    }

    /// The verifier this layer uses.
    pub fn verifier(&self) -> &Verifier {
        &self.gate.verifier
    }
}

impl<S, R: Clone> Layer<S> for ScopeGateLayer<R> {
    type Service = ScopeGate<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        ScopeGate::new(inner, Arc::clone(&self.gate), self.on_rejection.clone())
    }
}

impl<R> fmt::Debug for ScopeGateLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGateLayer")
            .field("issuer", &self.gate.verifier.issuer())
            .field("requirement", &self.gate.requirement)
            .finish_non_exhaustive()
    }
}
