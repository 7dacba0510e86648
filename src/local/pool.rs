//! A handle on one user pool: its URLs, resource servers, app clients and
//! keys.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::error::ApiError;
use super::keys::SigningKey;
use super::shared::Shared;
use super::state::{PoolKey, PoolState, now_epoch};
use super::token::TokenBuilder;
use crate::{Algorithm, Issuer, ResourceServer};

/// An app client, as created by [`UserPool::create_client`].
#[derive(Clone, Debug)]
pub struct AppClient {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
}

/// A user pool of a [`LocalIssuer`](super::LocalIssuer). Cheap to clone.
#[derive(Clone, Debug)]
pub struct UserPool {
    pub(super) shared: Arc<Shared>,
    pub(super) id: String,
}

impl UserPool {
    /// A handle on the pool `id` (which need not exist).
    pub(super) fn new(shared: Arc<Shared>, id: String) -> Self {
        UserPool { shared, id }
    }

    fn with_state<R>(&self, f: impl FnOnce(&PoolState) -> R) -> Option<R> {
        self.shared.with_pool(&self.id, f)
    }

    pub(super) fn change<R>(
        &self,
        f: impl FnOnce(&mut PoolState) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let id = self.id.clone();
        self.shared.change(|state| {
            let pool = state
                .pools
                .get_mut(&id)
                .ok_or_else(|| ApiError::not_found(format!("User pool {id} does not exist.")))?;
            f(pool)
        })
    }

    /// The pool id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The issuer URL, `http://{addr}/{poolId}`: the tokens' `iss`.
    pub fn url(&self) -> String {
        self.shared.pool_url(&self.id)
    }

    /// The key-set URL, `{url}/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.url())
    }

    /// An [`Issuer`] for a verifier of this pool's tokens, with the key-set
    /// URL given. Use [`Issuer::discover`] with [`url`](Self::url) to test
    /// discovery instead.
    pub fn issuer(&self) -> Issuer {
        Issuer::with_jwks_url(self.url(), self.jwks_url())
    }

    /// Starts a Cognito-shaped access token signed by the current key.
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(Arc::clone(&self.shared), self.id.clone())
    }

    /// Creates a resource server with its scopes (CreateResourceServer).
    pub fn create_resource_server(&self, server: &ResourceServer) -> Result<(), ApiError> {
        let scopes: Vec<Value> = server
            .scopes()
            .iter()
            .map(|s| json!({ "ScopeName": s.name(), "ScopeDescription": s.description() }))
            .collect();
        self.shared.call(
            &self.shared.region,
            "CreateResourceServer",
            &json!({
                "UserPoolId": self.id,
                "Identifier": server.identifier(),
                "Name": server.name(),
                "Scopes": scopes,
            }),
        )?;
        Ok(())
    }

    /// Creates an app client with a secret, allowed the client-credentials
    /// flow with these scopes (CreateUserPoolClient).
    pub fn create_client(&self, name: &str, scopes: &[&str]) -> Result<AppClient, ApiError> {
        let out = self.shared.call(
            &self.shared.region,
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": self.id,
                "ClientName": name,
                "GenerateSecret": true,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthScopes": scopes,
                "AllowedOAuthFlowsUserPoolClient": true,
            }),
        )?;
        let client = &out["UserPoolClient"];
        Ok(AppClient {
            id: client["ClientId"].as_str().unwrap_or_default().to_string(),
            secret: client["ClientSecret"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Makes a new key (same algorithm) the signing key and returns its
    /// `kid`. The old key stays published for `grace` (forever if `None`),
    /// so that tokens it signed keep verifying until they expire.
    pub fn rotate(&self, grace: Option<Duration>) -> Result<String, ApiError> {
        self.shared
            .rotate(&self.id, grace.map(|g| g.as_secs_f64()))
            .map(|(kid, _)| kid)
    }

    /// Publishes a new key for `alg` without making it the signing key, and
    /// returns its `kid`. Sign with it through [`TokenBuilder::signed_with`].
    pub fn add_key(&self, alg: Algorithm) -> Result<String, ApiError> {
        let key = SigningKey::generate(alg).map_err(|e| ApiError::internal(e.to_string()))?;
        let kid = key.kid().to_string();
        self.change(|pool| {
            pool.keys.push(PoolKey {
                key,
                retire_at: None,
            });
            Ok(())
        })?;
        Ok(kid)
    }

    /// Stops publishing a key. Returns whether it was published.
    pub fn retire(&self, kid: &str) -> bool {
        self.change(|pool| {
            let before = pool.keys.len();
            pool.keys.retain(|k| k.key.kid() != kid);
            Ok(before != pool.keys.len())
        })
        .unwrap_or(false)
    }

    /// Publishes a raw JWK beside the pool's own keys (for key-set tests:
    /// symmetric keys, duplicate `kid`s, weak keys, ...). Not persisted.
    pub fn publish_raw_jwk(&self, jwk: Value) {
        let _ = self.change(|pool| {
            pool.extra_jwks.push(jwk);
            Ok(())
        });
    }

    /// The `kid` of the signing key.
    pub fn signing_kid(&self) -> String {
        self.with_state(|pool| pool.signing_kid.clone())
            .unwrap_or_default()
    }

    /// The `kid`s of the published keys.
    pub fn kids(&self) -> Vec<String> {
        let now = now_epoch();
        self.with_state(|pool| pool.published(now).map(|k| k.kid().to_string()).collect())
            .unwrap_or_default()
    }

    /// A key of the pool, by `kid`.
    pub fn key(&self, kid: &str) -> Option<SigningKey> {
        self.with_state(|pool| pool.key(kid).cloned()).flatten()
    }

    /// The key-set document as served when nothing is wrong.
    pub fn jwks(&self) -> Value {
        let now = now_epoch();
        self.with_state(|pool| pool.jwks(now))
            .unwrap_or(Value::Null)
    }
}
