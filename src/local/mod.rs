//! A local, offline, Amazon-Cognito-compatible issuer, for tests, examples
//! and development (feature `issuer`).
//!
//! It speaks the two halves of Cognito that a resource server depends on:
//!
//! - the **management API** (`POST /`, `X-Amz-Target:
//!   AWSCognitoIdentityProviderService.*`, AWS JSON 1.1): user pools, resource
//!   servers with custom scopes, and app clients, with Cognito's validation
//!   and errors, so that `aws cognito-idp ... --endpoint-url` and the AWS SDKs
//!   work against it unchanged;
//! - the **OAuth 2.0 side**: per pool, the issuer `http://{addr}/{poolId}`, its
//!   JWK Set and OpenID Connect discovery document, and the token endpoint
//!   `POST /oauth2/token` (client credentials), applying the seed's scope
//!   rules.
//!
//! Keys are real (RSA, EC, Ed25519), tokens are signed by
//! `jsonwebtoken`, and faults can be injected into the key-set endpoint
//! (down, slow, 500, garbage, huge or trickled bodies, redirects) while
//! requests are counted.
//!
//! **It is a development tool.** It accepts any AWS signature, has no
//! authentication of its own, and must never face a network.
//!
//! ```
//! use scopegate::local::LocalIssuer;
//! use scopegate::{ResourceServer, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = LocalIssuer::start().await?;
//! let pool = issuer.pool();
//! let photos = ResourceServer::new("https://photos.example.com", "Photo API")
//!     .scope("photos.read", "Read your photos");
//! pool.create_resource_server(&photos)?;
//! let client = pool.create_client("viewer", &["https://photos.example.com/photos.read"])?;
//!
//! // Like a real client: client credentials at the token endpoint.
//! let token = issuer.client_credentials(&client.id, &client.secret, None).await?;
//!
//! let verifier = Verifier::builder(pool.issuer())
//!     .token_use("access")
//!     .client_ids([client.id.as_str()])
//!     .resource_server(photos)
//!     .build()?;
//! let claims = verifier.verify(&token).await?;
//! assert!(claims.has_scope("https://photos.example.com/photos.read"));
//! # Ok(())
//! # }
//! ```

mod api;
mod keys;
mod oauth;
mod persist;
mod server;
mod state;
mod token;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

pub use api::ApiError;
pub use keys::{KeyError, SigningKey};
pub use persist::StateFileError;
pub use token::TokenBuilder;

use crate::{Algorithm, Issuer, ResourceServer};
use state::{PoolState, State, now_epoch};

/// How the key-set and discovery endpoints misbehave, for fault tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// The whole issuer is down: every connection (key set, discovery,
    /// management API, token endpoint) is closed at once, without an answer.
    Down,
    /// Answer with this status and an empty body.
    Status(u16),
    /// Wait this long before answering (normally).
    Stall(Duration),
    /// Answer normally, but send the body one byte at a time, this far apart.
    Trickle(Duration),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with a body of this many bytes, streamed without a
    /// `Content-Length`.
    HugeBody(usize),
    /// Answer 200 with `{"keys":[]}`.
    EmptyKeys,
    /// Answer 302 with this `Location`.
    Redirect(String),
}

/// What the server shares with the handles.
pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) region: String,
    pub(crate) state: Mutex<State>,
    pub(crate) state_file: Option<PathBuf>,
    pub(crate) fault: Mutex<Fault>,
    pub(crate) cache_control: Mutex<Option<String>>,
    pub(crate) jwks_requests: AtomicU64,
    pub(crate) discovery_requests: AtomicU64,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

// Every change to the state is made on a copy that replaces it only once
// complete (see [`Shared::change`]), so a panic cannot leave it half-written
// and a poisoned lock is used as it is.
pub(crate) use crate::sync::lock;

impl Shared {
    /// Runs a management action: reads directly, writes on a copy that is
    /// saved (when there is a state file) before it replaces the state.
    pub(crate) fn call(
        &self,
        region: &str,
        action: &str,
        input: &Value,
    ) -> Result<Value, ApiError> {
        let mut ctx = api::Context {
            region: region.to_string(),
            // Generated before the lock is taken: RSA key generation is slow.
            new_key: (action == "CreateUserPool")
                .then(|| SigningKey::generate(Algorithm::RS256))
                .transpose()
                .map_err(|e| ApiError::internal(e.to_string()))?,
        };
        let mut state = lock(&self.state);
        if !api::mutates(action) {
            return api::call(&mut state, &mut ctx, action, input);
        }
        let mut next = state.clone();
        let output = api::call(&mut next, &mut ctx, action, input)?;
        self.commit(&mut state, next)?;
        Ok(output)
    }

    /// Rotates a pool's signing key, generated outside the lock; returns the
    /// new and the previous `kid`.
    pub(crate) fn rotate(
        &self,
        pool_id: &str,
        grace_seconds: Option<f64>,
    ) -> Result<(String, String), ApiError> {
        let missing = || ApiError::not_found(format!("User pool {pool_id} does not exist."));
        let alg = lock(&self.state)
            .pools
            .get(pool_id)
            .map(PoolState::algorithm)
            .ok_or_else(missing)?;
        let key = SigningKey::generate(alg).map_err(|e| ApiError::internal(e.to_string()))?;
        self.change(|state| {
            let pool = state.pools.get_mut(pool_id).ok_or_else(missing)?;
            let previous = pool.signing_kid.clone();
            Ok((pool.rotate(key, grace_seconds), previous))
        })
    }

    /// Applies a change made outside the management API.
    pub(crate) fn change<R>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut state = lock(&self.state);
        let mut next = state.clone();
        let out = f(&mut next)?;
        self.commit(&mut state, next)?;
        Ok(out)
    }

    fn commit(&self, state: &mut State, next: State) -> Result<(), ApiError> {
        if let Some(path) = &self.state_file {
            persist::save(path, &next).map_err(|e| {
                tracing::error!(path = %path.display(), error = %e, "cannot save the issuer state");
                ApiError::internal(format!("the state could not be saved: {e}"))
            })?;
        }
        *state = next;
        Ok(())
    }
}

/// A running local issuer. Stops when dropped.
#[derive(Debug)]
pub struct LocalIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    default_pool: String,
    stop: watch::Sender<()>,
}

/// Configures a [`LocalIssuer`].
#[derive(Debug)]
#[must_use]
pub struct LocalIssuerBuilder {
    listen: SocketAddr,
    default_pool: Option<String>,
    algorithm: Algorithm,
    region: String,
    state_file: Option<PathBuf>,
}

/// Why a [`LocalIssuer`] could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    Bind(io::Error),
    /// The state file could not be read.
    StateFile(StateFileError),
    /// The default user pool could not be created or saved.
    Setup(ApiError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "cannot listen: {e}"),
            StartError::StateFile(e) => e.fmt(f),
            StartError::Setup(e) => write!(f, "cannot set up the user pool: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind(e) => Some(e),
            StartError::StateFile(e) => Some(e),
            StartError::Setup(e) => Some(e),
        }
    }
}

impl LocalIssuerBuilder {
    /// Where to listen. Default `127.0.0.1:0` (any free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Creates (or, with a state file, reuses) a user pool with this id at
    /// start: the pool that [`LocalIssuer::pool`] and the shortcuts on
    /// `LocalIssuer` use. Default `us-east-1_Local`.
    pub fn default_pool(mut self, pool_id: impl Into<String>) -> Self {
        self.default_pool = Some(pool_id.into());
        self
    }

    /// Starts with no user pool: pools are created through the management
    /// API, as with Cognito.
    pub fn without_default_pool(mut self) -> Self {
        self.default_pool = None;
        self
    }

    /// The algorithm of the default pool's signing key. Default `RS256`, as
    /// Cognito.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The region of new user pool ids when a request's signature names
    /// none. Default `us-east-1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Keeps the state in this file: loaded at start, saved atomically
    /// after every change (keys included, mode 0600).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Loads the state, binds, and starts serving in the background.
    pub async fn start(self) -> Result<LocalIssuer, StartError> {
        let state = match &self.state_file {
            Some(path) => persist::load(path).map_err(StartError::StateFile)?,
            None => State::default(),
        };
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(StartError::Bind)?;
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            region: self.region,
            state: Mutex::new(state),
            state_file: self.state_file,
            fault: Mutex::new(Fault::None),
            cache_control: Mutex::new(None),
            jwks_requests: AtomicU64::new(0),
            discovery_requests: AtomicU64::new(0),
        });
        let default_pool = self.default_pool.unwrap_or_default();
        let needs_pool =
            !default_pool.is_empty() && !lock(&shared.state).pools.contains_key(&default_pool);
        if needs_pool {
            let key = SigningKey::generate(self.algorithm)
                .map_err(|e| StartError::Setup(ApiError::internal(e.to_string())))?;
            let (id, region) = (default_pool.clone(), shared.region.clone());
            shared
                .change(|state| {
                    state
                        .pools
                        .insert(id.clone(), PoolState::new(id, "Local".into(), &region, key));
                    Ok(())
                })
                .map_err(StartError::Setup)?;
        } else if shared.state_file.is_some() {
            // Write once at start: a state path that cannot be written is a
            // startup error, not a 500 on the first change.
            shared.change(|_| Ok(())).map_err(StartError::Setup)?;
        }
        let (stop, stopped) = watch::channel(());
        tokio::spawn(server::serve(listener, Arc::clone(&shared), stopped));
        Ok(LocalIssuer {
            shared,
            addr,
            default_pool,
            stop,
        })
    }
}

/// An app client, as created by [`UserPool::create_client`].
#[derive(Clone, Debug)]
pub struct AppClient {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
}

/// A token endpoint error (RFC 6749 §5.2), as
/// [`LocalIssuer::client_credentials`] received it.
#[derive(Clone, Debug)]
pub struct TokenError {
    /// The HTTP status.
    pub status: u16,
    /// The `error` code, e.g. `invalid_scope`.
    pub error: String,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token endpoint answered {}: {}", self.status, self.error)
    }
}

impl std::error::Error for TokenError {}

impl LocalIssuer {
    /// Configures an issuer.
    pub fn builder() -> LocalIssuerBuilder {
        LocalIssuerBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_pool: Some("us-east-1_Local".to_string()),
            algorithm: Algorithm::RS256,
            region: "us-east-1".to_string(),
            state_file: None,
        }
    }

    /// Starts an issuer on a free loopback port with one user pool,
    /// `us-east-1_Local`, signing with RS256.
    pub async fn start() -> Result<LocalIssuer, StartError> {
        LocalIssuer::builder().start().await
    }

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
        UserPool {
            shared: Arc::clone(&self.shared),
            id: id.to_string(),
        }
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
    ) -> Result<String, TokenError> {
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if let Some(scopes) = scopes {
            form.push(("scope", scopes.join(" ")));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|_| TokenError {
                status: 0,
                error: "no HTTP client".into(),
            })?;
        let response = client
            .post(self.token_endpoint())
            .basic_auth(
                url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>(),
                Some(
                    url::form_urlencoded::byte_serialize(client_secret.as_bytes())
                        .collect::<String>(),
                ),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|_| TokenError {
                status: 0,
                error: "the token endpoint did not answer".into(),
            })?;
        let status = response.status().as_u16();
        let body: Value = response
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        match body["access_token"].as_str() {
            Some(token) if status == 200 => Ok(token.to_string()),
            _ => Err(TokenError {
                status,
                error: body["error"].as_str().unwrap_or("unknown").to_string(),
            }),
        }
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

/// A user pool of a [`LocalIssuer`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct UserPool {
    shared: Arc<Shared>,
    id: String,
}

impl UserPool {
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&PoolState) -> R) -> Option<R> {
        lock(&self.shared.state).pools.get(&self.id).map(f)
    }

    fn change<R>(
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
        format!("{}/{}", self.shared.base_url, self.id)
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
        TokenBuilder::new(self.clone())
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
            pool.keys.push(state::PoolKey {
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
