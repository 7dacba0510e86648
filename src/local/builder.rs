//! Configuring and starting a [`LocalIssuer`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use super::error::{ApiError, StartError};
use super::issuer::LocalIssuer;
use super::keys::SigningKey;
use super::persist;
use super::server;
use super::shared::Shared;
use super::state::{PoolState, State};
use crate::Algorithm;
use crate::shared::RevocationList;
use crate::sync::lock;

impl LocalIssuer {
    /// Configures an issuer.
    pub fn builder() -> LocalIssuerBuilder {
        LocalIssuerBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_pool: Some("us-east-1_Local".to_string()),
            algorithm: Algorithm::RS256,
            region: "us-east-1".to_string(),
            state_file: None,
            allowed_hosts: Vec::new(),
            revocations: None,
        }
    }

    /// Starts an issuer on a free loopback port with one user pool,
    /// `us-east-1_Local`, signing with RS256.
    pub async fn start() -> Result<LocalIssuer, StartError> {
        LocalIssuer::builder().start().await
    }
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
    allowed_hosts: Vec<String>,
    revocations: Option<Arc<dyn RevocationList>>,
}

impl LocalIssuerBuilder {
    /// Where to listen. Default `127.0.0.1:0` (any free port).
    ///
    /// The issuer has no authentication: on an address that is not
    /// loopback, anyone who can reach it can change its pools and mint
    /// tokens (`scopegate issuer` prints a warning).
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

    /// Host names, besides `localhost` and IP addresses, that requests to
    /// the management API, the `/_local/` endpoints and the console may
    /// address in their `Host` header: for example a Docker Compose service
    /// name. Any other name is refused (403), so that a web page whose name
    /// was rebound to the issuer's address cannot use them.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Publishes what this issuer revokes to `list`, so that verifiers
    /// sharing it refuse those tokens: `RevokeToken` and `/oauth2/revoke`
    /// (the refresh token's `origin_jti`), `GlobalSignOut` and
    /// `AdminUserGlobalSignOut` (the user's `sub`, issued until now). With
    /// a Redis store (feature `redis`), the whole Cognito sign-out path
    /// works end to end in development.
    pub fn publish_revocations(mut self, list: impl RevocationList) -> Self {
        self.revocations = Some(Arc::new(list));
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
        let base_url = format!("http://{addr}");
        let shared = Shared::new(base_url, self.region, state, self.state_file)
            .allowing_hosts(&self.allowed_hosts)
            .publishing_to(self.revocations);
        let shared = Arc::new(shared);
        let default_pool = self.default_pool.unwrap_or_default();
        prepare_default_pool(&shared, &default_pool, self.algorithm)?;
        let (stop, stopped) = watch::channel(());
        tokio::spawn(server::serve(listener, Arc::clone(&shared), stopped));
        Ok(LocalIssuer::new(shared, addr, default_pool, stop))
    }
}

/// Creates the default pool unless the state has it already; otherwise
/// writes the state file once, so that a state path that cannot be written
/// is a startup error, not a 500 on the first change.
fn prepare_default_pool(
    shared: &Shared,
    pool_id: &str,
    algorithm: Algorithm,
) -> Result<(), StartError> {
    let needs_pool = !pool_id.is_empty() && !lock(&shared.state).pools.contains_key(pool_id);
    if needs_pool {
        let key = SigningKey::generate(algorithm)
            .map_err(|e| StartError::Setup(ApiError::internal(e.to_string())))?;
        let (id, region) = (pool_id.to_string(), shared.region.clone());
        shared
            .change(|state| {
                state
                    .pools
                    .insert(id.clone(), PoolState::new(id, "Local".into(), &region, key));
                Ok(())
            })
            .map_err(StartError::Setup)?;
    } else if shared.state_file.is_some() {
        shared.change(|_| Ok(())).map_err(StartError::Setup)?;
    }
    Ok(())
}
