//! [`ScopeGateLayer`]: the configuration half of the middleware.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use super::check::{self, Check, Denied};
use super::gate::Gate;
use super::rejection::DefaultRejection;
use super::service::ScopeGate;
use crate::claims::Claims;
use crate::dpop::DpopMode;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::scope::{Requirement, Scope};
use crate::verifier::Verifier;

/// A [`Layer`] that verifies each request's bearer token and the scopes the
/// route requires, and forwards only what passes.
///
/// Made by [`Verifier::require`], [`Verifier::require_all`],
/// [`Verifier::require_any`] and [`Verifier::authenticated`]; then, per
/// route, [`in_any_group`](Self::in_any_group) adds Cognito groups,
/// [`max_token_age`](Self::max_token_age) and [`check`](Self::check) add
/// checks. A request passes only if everything holds, checked in this
/// order (the first failure answers): the token
/// ([`Verifier`'s order](crate::Verifier#how-a-token-is-verified)), the
/// scopes (403 `insufficient_scope`), each group list (403
/// [`MissingGroup`](crate::RejectionKind::MissingGroup)), then the checks in
/// the order they were added (401
/// [`AuthenticationTooOld`](crate::RejectionKind::AuthenticationTooOld), 403
/// [`Denied`](crate::RejectionKind::Denied)). A route with none of these
/// extras does no extra work per request.
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

    /// Also requires the token to be in at least one of `groups` (its
    /// `cognito:groups` claim, matched exactly and case-sensitively), on top
    /// of the route's scopes (both must hold). A token in none of them is
    /// answered 403 [`MissingGroup`](crate::RejectionKind::MissingGroup)
    /// with a bare `WWW-Authenticate: Bearer realm="..."`: RFC 6750's
    /// `insufficient_scope` is for scopes only, and the challenge's `scope=`
    /// keeps listing only scopes. A token whose `cognito:groups` is not a
    /// list of strings is 401 `invalid_token`, as for every mistyped claim.
    ///
    /// Calling it again adds another list, and both must hold (`editors` or
    /// `admins`, *and* `eu`): each call is one any-of, the calls are all-of.
    ///
    /// Needs no registry, but fails with
    /// [`ConfigErrorKind::InvalidGroup`](crate::ConfigErrorKind::InvalidGroup)
    /// for an empty list, or a name that breaks Cognito's `GroupName` rule
    /// (1 to 128 characters, none of them white space or control
    /// characters): such a group can never be in a token, and the route
    /// would be closed for good.
    ///
    /// ```
    /// # fn layer(verifier: scopegate::Verifier) -> Result<(), scopegate::ConfigError> {
    /// let edit = verifier
    ///     .require("https://photos.example.com/photos.write")?
    ///     .in_any_group(["editors", "admins"])?;
    /// # let _ = edit; Ok(()) }
    /// ```
    pub fn in_any_group<I, S>(mut self, groups: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let groups = check::any_of_groups(groups)?;
        Arc::make_mut(&mut self.gate).groups.push(groups);
        Ok(self)
    }

    /// Adds a check of the application's own, run on the verified
    /// [`Claims`] after every standard check (signature, lifetime, claims,
    /// scopes, groups), synchronously, in the order checks were added. It
    /// is the place for rules only the application knows: a tenant claim,
    /// an `auth_time` age (or use [`max_token_age`](Self::max_token_age)),
    /// a client allowed on one route only.
    ///
    /// Returning [`Denied`] answers 403
    /// [`RejectionKind::Denied`](crate::RejectionKind::Denied) with a bare
    /// `WWW-Authenticate: Bearer realm="..."` (no RFC 6750 error code fits a
    /// refusal by policy). The denial's reason goes to
    /// [`Rejection::reason`](crate::Rejection::reason) in the response's
    /// extensions and to the layer's `debug` log line, never into the
    /// response's body or headers. Keep the check fast and free of I/O: it
    /// runs on every request, inside `call`.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use scopegate::{Claims, Denied, Rejection, Verifier};
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let issuer = scopegate::local::LocalIssuer::start().await?;
    /// let verifier = Verifier::builder(issuer.issuer())
    ///     .client_ids(["local-client"])
    ///     .build()?;
    /// // Only tokens of the `acme` tenant, whatever their scopes.
    /// let acme = verifier.authenticated().check(|claims: &Claims| {
    ///     match claims.get("custom:tenant").and_then(|t| t.as_str()) {
    ///         Some("acme") => Ok(()),
    ///         _ => Err(Denied::new("not the acme tenant")),
    ///     }
    /// });
    /// let app = Router::new()
    ///     .route("/reports", get(|| async { "acme reports" }))
    ///     .route_layer(acme);
    ///
    /// let other = issuer.token().claim("custom:tenant", "globex".into()).mint();
    /// let request = http::Request::get("/reports")
    ///     .header("authorization", format!("Bearer {other}"))
    ///     .body(axum::body::Body::empty())?;
    /// let response = app.oneshot(request).await?;
    /// assert_eq!(response.status(), 403);
    /// assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="api""#);
    /// let rejection = response.extensions().get::<Rejection>().expect("the rejection");
    /// assert_eq!(rejection.reason(), Some("not the acme tenant"));
    /// # Ok(()) }
    /// ```
    pub fn check<F>(mut self, check: F) -> Self
    where
        F: Fn(&Claims) -> Result<(), Denied> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.gate)
            .checks
            .push(Check::Custom(Arc::new(check)));
        self
    }

    /// Adds the built-in check that refuses a token whose authentication is
    /// older than `max`: its `auth_time`, or `iat` when it has none
    /// (client-credentials tokens), read against the same clock as `exp`;
    /// the verifier's leeway is not added (an age is a policy, not a clock
    /// comparison). A token with neither claim is refused. `max` counts in
    /// whole seconds, rounded up. Like a [`check`](Self::check), it runs
    /// after the scopes and groups, in the order checks were added.
    ///
    /// A token that is too old is answered 401
    /// [`AuthenticationTooOld`](crate::RejectionKind::AuthenticationTooOld)
    /// with RFC 9470's step-up challenge, which tells the client to have the
    /// user sign in again:
    /// `Bearer realm="api", error="insufficient_user_authentication",
    /// error_description="A more recent authentication is required",
    /// max_age="900"`.
    ///
    /// ```
    /// # fn layer(verifier: scopegate::Verifier) {
    /// use std::time::Duration;
    ///
    /// // Changing the password needs a sign-in of the last 15 minutes.
    /// let recent = verifier.authenticated().max_token_age(Duration::from_secs(15 * 60));
    /// # let _ = recent; }
    /// ```
    pub fn max_token_age(mut self, max: Duration) -> Self {
        let verifier = &self.gate.verifier;
        let metadata = verifier.resource_metadata().map(|m| m.url());
        let check = Check::max_token_age(verifier.realm(), max, metadata);
        Arc::make_mut(&mut self.gate).checks.push(check);
        self
    }

    /// Sets this route's DPoP mode, instead of the verifier's
    /// [default](crate::Dpop::mode): [`Required`](DpopMode::Required) takes
    /// DPoP-bound tokens only, [`Allowed`](DpopMode::Allowed) bearer tokens
    /// too. Fails if the verifier has no [DPoP policy](crate::VerifierBuilder::dpop).
    ///
    /// ```
    /// # fn layer(verifier: scopegate::Verifier) -> Result<(), scopegate::ConfigError> {
    /// use scopegate::DpopMode;
    ///
    /// let write = verifier
    ///     .require("https://photos.example.com/photos.write")?
    ///     .dpop(DpopMode::Required)?;
    /// # let _ = write; Ok(()) }
    /// ```
    pub fn dpop(mut self, mode: DpopMode) -> Result<Self, ConfigError> {
        if self.gate.verifier.dpop().is_none() {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidOption,
                "a route's DPoP mode needs a verifier with a DPoP policy (VerifierBuilder::dpop)",
            ));
        }
        Arc::make_mut(&mut self.gate).set_dpop_mode(mode);
        Ok(self)
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
            .field("groups", &self.gate.groups)
            .field("checks", &self.gate.checks)
            .finish_non_exhaustive()
    }
}
