//! A local, offline issuer shaped like an Amazon Cognito user pool, for
//! tests, examples and development (feature `issuer`).
//!
//! It generates real keys (RSA, EC, Ed25519), serves a JWK Set and an OpenID
//! Connect discovery document over real HTTP on loopback, mints
//! Cognito-shaped access tokens, rotates keys, and can be told to misbehave
//! (down, slow, 500, garbage, huge or trickled bodies, redirects) while it
//! counts the key-set requests it served.
//!
//! **It is a development tool.** It has no authentication of its own and
//! must never face a network.
//!
//! ```
//! use scopegate::local::LocalIssuer;
//! use scopegate::{Issuer, ResourceServer, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = LocalIssuer::start().await?;
//! let verifier = Verifier::builder(issuer.issuer())
//!     .token_use("access")
//!     .client_ids(["my-client"])
//!     .resource_server(
//!         ResourceServer::new("https://photos.example.com", "Photo API")
//!             .scope("photos.read", "Read your photos"),
//!     )
//!     .build()?;
//!
//! let token = issuer
//!     .token()
//!     .client_id("my-client")
//!     .scope("https://photos.example.com/photos.read")
//!     .mint();
//! let claims = verifier.verify(&token).await?;
//! assert!(claims.has_scope("https://photos.example.com/photos.read"));
//! # Ok(())
//! # }
//! ```

mod keys;
mod server;
mod token;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::watch;

pub use keys::{KeyError, SigningKey};
pub use token::TokenBuilder;

use crate::{Algorithm, Issuer};

/// How the key-set and discovery endpoints misbehave, for fault tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Accept connections and close them at once, without an answer.
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

/// One user pool: its keys, and the raw JWKs published beside them.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) keys: Vec<SigningKey>,
    pub(crate) signing_kid: String,
    pub(crate) extra_jwks: Vec<Value>,
}

impl Pool {
    fn new(alg: Algorithm) -> Result<Pool, KeyError> {
        let key = SigningKey::generate(alg)?;
        Ok(Pool {
            signing_kid: key.kid().to_string(),
            keys: vec![key],
            extra_jwks: Vec::new(),
        })
    }

    pub(crate) fn signing_key(&self) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid() == self.signing_kid)
    }

    pub(crate) fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    pub(crate) fn jwks(&self) -> Value {
        let mut keys: Vec<Value> = self.keys.iter().map(|k| k.public_jwk().clone()).collect();
        keys.extend(self.extra_jwks.iter().cloned());
        let mut doc = Map::new();
        doc.insert("keys".into(), Value::Array(keys));
        Value::Object(doc)
    }
}

/// What the server shares with the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) pools: Mutex<BTreeMap<String, Pool>>,
    pub(crate) fault: Mutex<Fault>,
    pub(crate) cache_control: Mutex<Option<String>>,
    pub(crate) jwks_requests: AtomicU64,
    pub(crate) discovery_requests: AtomicU64,
}

/// Locks a mutex of the issuer's state. Every update is a single assignment
/// or push, so a panic elsewhere cannot leave it half-written; a poisoned lock
/// is used as it is.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A running local issuer. Stops when dropped.
#[derive(Debug)]
pub struct LocalIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    pool_id: String,
    _stop: watch::Sender<()>,
}

/// Configures a [`LocalIssuer`].
#[derive(Debug)]
#[must_use]
pub struct LocalIssuerBuilder {
    listen: SocketAddr,
    pool_id: String,
    algorithm: Algorithm,
}

impl LocalIssuerBuilder {
    /// Where to listen. Default `127.0.0.1:0` (any free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The user pool id, the last segment of the issuer URL. Default
    /// `us-east-1_Local`.
    pub fn pool_id(mut self, pool_id: impl Into<String>) -> Self {
        self.pool_id = pool_id.into();
        self
    }

    /// The algorithm of the signing key. Default `RS256`, as Cognito.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Binds and starts serving in the background.
    pub async fn start(self) -> io::Result<LocalIssuer> {
        let listener = tokio::net::TcpListener::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        let pool = Pool::new(self.algorithm).map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            pools: Mutex::new(BTreeMap::from([(self.pool_id.clone(), pool)])),
            fault: Mutex::new(Fault::None),
            cache_control: Mutex::new(None),
            jwks_requests: AtomicU64::new(0),
            discovery_requests: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(());
        tokio::spawn(server::serve(listener, Arc::clone(&shared), stopped));
        Ok(LocalIssuer {
            shared,
            addr,
            pool_id: self.pool_id,
            _stop: stop,
        })
    }
}

impl LocalIssuer {
    /// Configures an issuer.
    pub fn builder() -> LocalIssuerBuilder {
        LocalIssuerBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            pool_id: "us-east-1_Local".to_string(),
            algorithm: Algorithm::RS256,
        }
    }

    /// Starts an issuer on a free loopback port with one RS256 key.
    pub async fn start() -> io::Result<LocalIssuer> {
        LocalIssuer::builder().start().await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The issuer URL, `http://{addr}/{pool_id}`: the tokens' `iss`.
    pub fn url(&self) -> String {
        format!("{}/{}", self.shared.base_url, self.pool_id)
    }

    /// The key-set URL, `{url}/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.url())
    }

    /// The pool id.
    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// An [`Issuer`] for a verifier of this issuer's tokens, with the key-set
    /// URL given. Use [`Issuer::discover`] with [`url`](Self::url) to test
    /// discovery instead.
    pub fn issuer(&self) -> Issuer {
        Issuer::with_jwks_url(self.url(), self.jwks_url())
    }

    /// Starts a Cognito-shaped access token, signed by the current key.
    pub fn token(&self) -> TokenBuilder<'_> {
        TokenBuilder::new(self)
    }

    fn with_pool<R>(&self, f: impl FnOnce(&mut Pool) -> R) -> Option<R> {
        lock(&self.shared.pools).get_mut(&self.pool_id).map(f)
    }

    /// Generates a key with the algorithm of the current one, makes it the
    /// signing key, and returns its `kid`. The old key stays published until
    /// [`retire`](Self::retire) removes it.
    pub fn rotate(&self) -> Result<String, KeyError> {
        let alg = self
            .with_pool(|pool| pool.signing_key().map(SigningKey::algorithm))
            .flatten()
            .unwrap_or(Algorithm::RS256);
        let key = SigningKey::generate(alg)?;
        let kid = key.kid().to_string();
        self.with_pool(|pool| {
            pool.keys.push(key);
            pool.signing_kid = kid.clone();
        });
        Ok(kid)
    }

    /// Publishes a new key for `alg` without making it the signing key, and
    /// returns its `kid`. Sign with it through [`TokenBuilder::signed_with`].
    pub fn add_key(&self, alg: Algorithm) -> Result<String, KeyError> {
        let key = SigningKey::generate(alg)?;
        let kid = key.kid().to_string();
        self.with_pool(|pool| pool.keys.push(key));
        Ok(kid)
    }

    /// Stops publishing a key. Returns whether it was published.
    pub fn retire(&self, kid: &str) -> bool {
        self.with_pool(|pool| {
            let before = pool.keys.len();
            pool.keys.retain(|k| k.kid() != kid);
            before != pool.keys.len()
        })
        .unwrap_or(false)
    }

    /// Publishes a raw JWK beside the issuer's own keys (for key-set tests:
    /// symmetric keys, duplicate `kid`s, weak keys, ...).
    pub fn publish_raw_jwk(&self, jwk: Value) {
        self.with_pool(|pool| pool.extra_jwks.push(jwk));
    }

    /// The `kid` of the signing key.
    pub fn signing_kid(&self) -> String {
        self.with_pool(|pool| pool.signing_kid.clone())
            .unwrap_or_default()
    }

    /// The `kid`s of the published keys.
    pub fn kids(&self) -> Vec<String> {
        self.with_pool(|pool| pool.keys.iter().map(|k| k.kid().to_string()).collect())
            .unwrap_or_default()
    }

    /// A published key, by `kid`.
    pub fn key(&self, kid: &str) -> Option<SigningKey> {
        self.with_pool(|pool| pool.key(kid).cloned()).flatten()
    }

    /// The key-set document as served when nothing is wrong.
    pub fn jwks(&self) -> Value {
        self.with_pool(|pool| pool.jwks()).unwrap_or(Value::Null)
    }

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
