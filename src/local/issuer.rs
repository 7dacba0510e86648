//! A running local issuer: its addresses, the management API in process,
//! the token endpoint as a client sees it, shortcuts for the default pool,
//! and fault injection. Configuring and starting one is in `builder.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::client::{self, UserSignIn};
use super::error::{ApiError, TokenRequestError};
use super::fault::Fault;
use super::keys::SigningKey;
use super::pool::UserPool;
use super::shared::Shared;
use super::token::TokenBuilder;
use crate::sync::lock;
use crate::{Algorithm, Issuer};

/// A running local issuer. Stops when dropped.
#[derive(Debug)]
pub struct LocalIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    default_pool: String,
    stop: watch::Sender<()>,
}

impl LocalIssuer {
    /// A handle on a started server; the server stops when `stop` is
    /// dropped.
    pub(super) fn new(
        shared: Arc<Shared>,
        addr: SocketAddr,
        default_pool: String,
        stop: watch::Sender<()>,
    ) -> Self {
        LocalIssuer {
            shared,
            addr,
            default_pool,
            stop,
        }
    }
}

impl LocalIssuer {
    /// Stops accepting connections. Requests in flight finish.
    pub fn shutdown(&self) {
        self.stop.send_replace(());
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`: the management API's endpoint.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// `http://{addr}/oauth2/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.shared.base_url)
    }

    /// The default user pool.
    pub fn pool(&self) -> UserPool {
        self.user_pool(&self.default_pool)
    }

    /// A user pool by id (it need not exist yet; its methods then do
    /// nothing).
    pub fn user_pool(&self, id: &str) -> UserPool {
        UserPool::new(Arc::clone(&self.shared), id.to_string())
    }

    /// Runs a management action in process, as `POST /` with
    /// `X-Amz-Target: AWSCognitoIdentityProviderService.{action}` would.
    pub fn call(&self, action: &str, input: Value) -> Result<Value, ApiError> {
        self.shared.call(&self.shared.region, action, &input)
    }

    /// Creates a user pool through the management API.
    pub fn create_user_pool(&self, name: &str) -> Result<UserPool, ApiError> {
        let out = self.call("CreateUserPool", json!({ "PoolName": name }))?;
        let id = out["UserPool"]["Id"].as_str().unwrap_or_default();
        Ok(self.user_pool(id))
    }

    /// Gets an access token from the token endpoint over HTTP, like a real
    /// client: client credentials, HTTP Basic authentication, and `scopes`
    /// (all of the client's when `None`).
    pub async fn client_credentials(
        &self,
        client_id: &str,
        client_secret: &str,
        scopes: Option<&[&str]>,
    ) -> Result<String, TokenRequestError> {
        client::client_credentials(&self.token_endpoint(), client_id, client_secret, scopes).await
    }

    /// Signs a user in as a browser would, over HTTP: `/oauth2/authorize`
    /// with PKCE (S256), the hosted `/login` form, then the code at
    /// `/oauth2/token`. For a public client (no secret) with the `code` flow
    /// and `redirect_uri` among its `CallbackURLs`; `scopes` as in the
    /// `scope` parameter (all of the client's when `None`).
    ///
    /// ```
    /// use scopegate::local::LocalIssuer;
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = LocalIssuer::start().await?;
    /// let client = issuer.call("CreateUserPoolClient", json!({
    ///     "UserPoolId": issuer.pool_id(), "ClientName": "web",
    ///     "AllowedOAuthFlows": ["code"], "AllowedOAuthFlowsUserPoolClient": true,
    ///     "AllowedOAuthScopes": ["openid", "email"],
    ///     "CallbackURLs": ["http://localhost:3000/callback"],
    /// }))?;
    /// let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap_or_default();
    /// issuer.pool().create_user("alice", "Correct-h0rse!", &[("email", "alice@example.com")])?;
    ///
    /// let tokens = issuer
    ///     .sign_in(client_id, "http://localhost:3000/callback", "alice", "Correct-h0rse!", None)
    ///     .await?;
    /// assert!(tokens.id_token.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sign_in(
        &self,
        client_id: &str,
        redirect_uri: &str,
        username: &str,
        password: &str,
        scopes: Option<&[&str]>,
    ) -> Result<UserSignIn, TokenRequestError> {
        client::CodeFlow {
            base_url: &self.shared.base_url,
            client_id,
            redirect_uri,
            username,
            password,
            scopes,
        }
        .run()
        .await
    }

    // Shortcuts for the default pool.

    /// The default pool's issuer URL, `http://{addr}/{poolId}`.
    pub fn url(&self) -> String {
        self.pool().url()
    }

    /// The default pool's key-set URL.
    pub fn jwks_url(&self) -> String {
        self.pool().jwks_url()
    }

    /// The default pool's id.
    pub fn pool_id(&self) -> &str {
        &self.default_pool
    }

    /// An [`Issuer`] for the default pool.
    pub fn issuer(&self) -> Issuer {
        self.pool().issuer()
    }

    /// Starts a token of the default pool.
    pub fn token(&self) -> TokenBuilder {
        self.pool().token()
    }

    /// Rotates the default pool's signing key; see [`UserPool::rotate`].
    pub fn rotate(&self) -> Result<String, ApiError> {
        self.pool().rotate(None)
    }

    /// Publishes a new key in the default pool; see [`UserPool::add_key`].
    pub fn add_key(&self, alg: Algorithm) -> Result<String, ApiError> {
        self.pool().add_key(alg)
    }

    /// Stops publishing a key of the default pool.
    pub fn retire(&self, kid: &str) -> bool {
        self.pool().retire(kid)
    }

    /// Publishes a raw JWK in the default pool's key set.
    pub fn publish_raw_jwk(&self, jwk: Value) {
        self.pool().publish_raw_jwk(jwk);
    }

    /// The default pool's signing `kid`.
    pub fn signing_kid(&self) -> String {
        self.pool().signing_kid()
    }

    /// The default pool's published `kid`s.
    pub fn kids(&self) -> Vec<String> {
        self.pool().kids()
    }

    /// A key of the default pool.
    pub fn key(&self, kid: &str) -> Option<SigningKey> {
        self.pool().key(kid)
    }

    /// The default pool's key set.
    pub fn jwks(&self) -> Value {
        self.pool().jwks()
    }

    // Faults and counters.

    /// Makes the key-set and discovery endpoints misbehave (or behave again
    /// with [`Fault::None`]).
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.shared.fault) = fault;
    }

    /// The `Cache-Control` header of key-set responses (none by default).
    pub fn set_cache_control(&self, value: Option<&str>) {
        *lock(&self.shared.cache_control) = value.map(str::to_owned);
    }

    /// How many key-set requests reached the server (connections closed by
    /// [`Fault::Down`] are not requests).
    pub fn jwks_requests(&self) -> u64 {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// How many discovery requests reached the server.
    pub fn discovery_requests(&self) -> u64 {
        self.shared.discovery_requests.load(Ordering::SeqCst)
    }
}
