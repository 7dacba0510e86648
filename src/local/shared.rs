//! What the server and the handles share: the state, behind one lock, and
//! the fault and counters of the key-set endpoints.
//!
//! Every change to the state is made on a copy that replaces it only once
//! complete (see [`Shared::change`]), so a panic cannot leave it half-written
//! and a poisoned lock is used as it is.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::api;
use super::error::ApiError;
use super::fault::Fault;
use super::guard::Guard;
use super::ids::new_opaque_token;
use super::keys::SigningKey;
use super::persist;
use super::sessions::Sessions;
use super::state::{PoolState, State};
use crate::Algorithm;
use crate::shared::{InMemoryOneTimeIds, Revocation, RevocationList};
use crate::sync::lock;

/// What the server shares with the handles.
pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) region: String,
    pub(crate) state: Mutex<State>,
    pub(crate) state_file: Option<PathBuf>,
    pub(crate) fault: Mutex<Fault>,
    /// What is never saved: messages, codes, sign-in sessions.
    pub(crate) sessions: Mutex<Sessions>,
    pub(crate) cache_control: Mutex<Option<String>>,
    pub(crate) jwks_requests: AtomicU64,
    pub(crate) discovery_requests: AtomicU64,
    /// What keeps other web pages away from the controls.
    pub(crate) guard: Guard,
    /// The `jti`s of the DPoP proofs the token endpoint took.
    pub(crate) dpop_proof_ids: InMemoryOneTimeIds,
    /// Where sign-outs and revocations are published, if anywhere.
    pub(crate) revocations: Option<Arc<dyn RevocationList>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The shared part of an issuer serving at `base_url`.
    pub(crate) fn new(
        base_url: String,
        region: String,
        state: State,
        state_file: Option<PathBuf>,
    ) -> Self {
        Shared {
            guard: Guard::new(&base_url, &[], new_opaque_token()),
            base_url,
            region,
            state: Mutex::new(state),
            state_file,
            fault: Mutex::new(Fault::None),
            sessions: Mutex::new(Sessions::default()),
            cache_control: Mutex::new(None),
            jwks_requests: AtomicU64::new(0),
            discovery_requests: AtomicU64::new(0),
            dpop_proof_ids: InMemoryOneTimeIds::default(),
            revocations: None,
        }
    }

    /// Also publishes revocations and sign-outs to `list`.
    pub(crate) fn publishing_to(mut self, list: Option<Arc<dyn RevocationList>>) -> Self {
        self.revocations = list;
        self
    }

    /// Publishes `revocation` to the list, if there is one, in the
    /// background (a failure is logged: the issuer's own state has it).
    pub(crate) fn publish(&self, revocation: Revocation) {
        let (Some(list), Ok(runtime)) = (&self.revocations, tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let written = list.revoke(revocation);
        runtime.spawn(async move {
            if let Err(e) = written.await {
                tracing::warn!(error = %e, "a revocation could not be published");
            }
        });
    }

    /// Also answers requests whose `Host` names one of `hosts` (see
    /// `guard.rs`).
    pub(crate) fn allowing_hosts(mut self, hosts: &[String]) -> Self {
        self.guard = Guard::new(&self.base_url, hosts, new_opaque_token());
        self
    }

    /// Runs a management action: reads directly, writes on a copy that is
    /// saved (when there is a state file) before it replaces the state. The
    /// sign-in actions check passwords outside the lock and run apart
    /// (`api::sign_in`); a password in the input is hashed before the lock.
    pub(crate) fn call(
        &self,
        region: &str,
        action: &str,
        input: &Value,
    ) -> Result<Value, ApiError> {
        if api::is_sign_in(action) {
            return api::sign_in(self, action, input);
        }
        let prepared = api::prepare(self, action, input);
        let mut ctx = api::Context {
            region: region.to_string(),
            // Generated before the lock is taken: RSA key generation is slow.
            new_key: (action == "CreateUserPool")
                .then(|| SigningKey::generate(Algorithm::RS256))
                .transpose()
                .map_err(|e| ApiError::internal(e.to_string()))?,
            new_secret: prepared.secret,
            code_failures: prepared.code_failures,
            outbox: Vec::new(),
            wrong_code: None,
        };
        let output = self.run_action(&mut ctx, action, input);
        self.after_action(ctx, prepared.code_key.as_deref(), output.is_ok());
        if let (true, Some(id)) = (
            action == "DeleteUserPool" && output.is_ok(),
            input.get("UserPoolId").and_then(Value::as_str),
        ) {
            lock(&self.sessions).forget_pool(id);
        }
        output
    }

    fn run_action(
        &self,
        ctx: &mut api::Context,
        action: &str,
        input: &Value,
    ) -> Result<Value, ApiError> {
        let mut state = lock(&self.state);
        if !api::mutates(action) {
            return api::call(&mut state, ctx, action, input);
        }
        let mut next = state.clone();
        let output = api::call(&mut next, ctx, action, input)?;
        self.commit(&mut state, next)?;
        Ok(output)
    }

    /// Sends the messages of a saved change, and counts wrong codes.
    fn after_action(&self, ctx: api::Context, code_key: Option<&str>, ok: bool) {
        let mut sessions = lock(&self.sessions);
        if ok {
            for (pool_id, message) in ctx.outbox {
                sessions.send(&pool_id, message);
            }
            if let Some(key) = code_key {
                sessions.code_failures.take(key);
            }
        }
        // A wrong code stays counted (reserved before the action ran);
        // any other failure gives its attempt back.
        if let (false, None, Some(key)) = (ok, &ctx.wrong_code, code_key) {
            api::release_code_attempt(&mut sessions, key);
        }
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

    /// Like [`change`](Self::change), but an error of `f`'s own leaves the
    /// state as it was (and saves nothing); the outer error is the save's.
    pub(crate) fn try_change<R, E>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, E>,
    ) -> Result<Result<R, E>, ApiError> {
        let mut state = lock(&self.state);
        let mut next = state.clone();
        let out = match f(&mut next) {
            Ok(out) => out,
            Err(e) => return Ok(Err(e)),
        };
        self.commit(&mut state, next)?;
        Ok(Ok(out))
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

    /// A pool's issuer URL, `http://{addr}/{poolId}`.
    pub(crate) fn pool_url(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.base_url)
    }

    /// Reads a pool, if it exists.
    pub(crate) fn with_pool<R>(&self, pool_id: &str, f: impl FnOnce(&PoolState) -> R) -> Option<R> {
        lock(&self.state).pools.get(pool_id).map(f)
    }
}
