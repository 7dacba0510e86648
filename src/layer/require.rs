//! The constructors of [`ScopeGateLayer`], on [`Verifier`]: they live beside
//! the layer so that the verifier never depends on it.

use super::layer::ScopeGateLayer;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::scope::{Requirement, Scope};
use crate::verifier::Verifier;

impl Verifier {
    /// A layer that lets a request through only with a valid token that
    /// grants `scope`, a full `resourceServerIdentifier/scopeName`.
    ///
    /// Fails if no registered resource server defines the scope: a typo must
    /// not leave a route open, nor lock it forever.
    pub fn require(&self, scope: &str) -> Result<ScopeGateLayer, ConfigError> {
        self.require_all([scope])
    }

    /// A layer that wants every one of `scopes`.
    pub fn require_all<I, S>(&self, scopes: I) -> Result<ScopeGateLayer, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.require_scopes(scopes, Requirement::AllOf)
    }

    /// A layer that wants at least one of `scopes`.
    pub fn require_any<I, S>(&self, scopes: I) -> Result<ScopeGateLayer, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.require_scopes(scopes, Requirement::AnyOf)
    }

    /// A layer that wants a valid token and no particular scope.
    pub fn authenticated(&self) -> ScopeGateLayer {
        ScopeGateLayer::new(self.clone(), Requirement::Authenticated)
    }

    /// A layer for `scopes` (each registered with the verifier, at least
    /// one), combined by `requirement`.
    fn require_scopes<I, S>(
        &self,
        scopes: I,
        requirement: fn(Box<[Scope]>) -> Requirement,
    ) -> Result<ScopeGateLayer, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scopes = scopes
            .into_iter()
            .map(|s| self.resolve_scope(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidScope,
                "a scope requirement needs at least one scope; use `authenticated()` for routes that need only a valid token",
            ));
        }
        Ok(ScopeGateLayer::new(
            self.clone(),
            requirement(scopes.into()),
        ))
    }
}
