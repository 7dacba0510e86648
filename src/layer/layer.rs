//! [`ScopeGateLayer`]: the configuration half of the middleware.

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use super::gate::Gate;
use super::rejection::DefaultRejection;
use super::service::ScopeGate;
use crate::scope::{Requirement, Scope};
use crate::verifier::Verifier;

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
        ScopeGateLayer {
            gate: Arc::new(Gate::new(verifier, requirement)),
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
