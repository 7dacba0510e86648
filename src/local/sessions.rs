//! Short-lived state that is never saved: the messages Cognito would have
//! sent (they may hold a temporary password, which must not reach the state
//! file), and bounded maps of things that expire on their own (authorization
//! codes, sign-in sessions, SRP challenges, failed-sign-in counters).

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde_json::{Value, json};

use super::authorization::{AuthCode, BrowserSession, PendingLogin};
use super::sign_in::{Failures, failures_map};
use super::state::now_epoch;

/// At most this many messages are kept per pool (the oldest go first).
const MESSAGES_PER_POOL: usize = 200;

/// A message Cognito would have e-mailed or texted.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) at: f64,
    pub(crate) username: String,
    /// Where Cognito would have sent it (`email` or `phone_number`), if the
    /// user has one.
    pub(crate) destination: Option<String>,
    /// What it is for, e.g. `SignUp`, `AdminCreateUser`,
    /// `ResendConfirmationCode`.
    pub(crate) reason: &'static str,
    pub(crate) code: Option<String>,
    pub(crate) temporary_password: Option<String>,
}

impl Message {
    /// The message as `GET /_local/{pool}/messages` lists it.
    pub(crate) fn to_json(&self) -> Value {
        let mut out = json!({
            "timestamp": self.at,
            "username": self.username,
            "reason": self.reason,
        });
        if let Some(d) = &self.destination {
            out["destination"] = json!(d);
        }
        if let Some(c) = &self.code {
            out["code"] = json!(c);
        }
        if let Some(p) = &self.temporary_password {
            out["temporaryPassword"] = json!(p);
        }
        out
    }
}

/// A map whose entries expire and whose size is bounded: when full, the
/// entry closest to expiry goes.
#[derive(Debug)]
pub(crate) struct Expiring<V> {
    entries: HashMap<String, (f64, V)>,
    capacity: usize,
}

impl<V> Expiring<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Expiring {
            entries: HashMap::new(),
            capacity,
        }
    }

    /// Stores `value` under `key` until `expires` (seconds since the epoch).
    pub(crate) fn insert(&mut self, key: String, value: V, expires: f64) {
        let now = now_epoch();
        self.entries.retain(|_, (until, _)| *until > now);
        if self.entries.len() >= self.capacity {
            let soonest = self
                .entries
                .iter()
                .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
                .map(|(k, _)| k.clone());
            if let Some(k) = soonest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert(key, (expires, value));
    }

    /// The live entry under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let now = now_epoch();
        self.entries
            .get(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, v)| v)
    }

    /// The live entry under `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let now = now_epoch();
        self.entries
            .get_mut(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, v)| v)
    }

    /// Takes the live entry under `key` out (one use).
    pub(crate) fn take(&mut self, key: &str) -> Option<V> {
        let now = now_epoch();
        self.entries
            .remove(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, v)| v)
    }
}

/// The unsaved state of an issuer.
#[derive(Debug)]
pub(crate) struct Sessions {
    /// Per pool, newest last.
    messages: BTreeMap<String, VecDeque<Message>>,
    /// Failed sign-ins by `pool/username` (see `sign_in.rs`).
    pub(crate) failures: Expiring<Failures>,
    /// Authorization codes by code (`hosted/`, `oauth/authorization_code.rs`).
    pub(crate) codes: Expiring<AuthCode>,
    /// Signed-in browsers by the `cognito` cookie's value.
    pub(crate) browser_sessions: Expiring<BrowserSession>,
    /// Sign-ins waiting for a new password, by the hidden `_session` id.
    pub(crate) pending_logins: Expiring<PendingLogin>,
    /// Wrong confirmation codes by `pool/username` (ConfirmSignUp), for
    /// 15 minutes after the last; past `CODE_ATTEMPTS` the user must wait.
    pub(crate) code_failures: Expiring<u32>,
    /// Sign-in challenges in progress (`NEW_PASSWORD_REQUIRED`,
    /// `PASSWORD_VERIFIER`) by their `Session` string: one use, 3 minutes.
    pub(crate) challenges: Expiring<Challenge>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            messages: BTreeMap::new(),
            failures: failures_map(),
            codes: Expiring::new(10_000),
            browser_sessions: Expiring::new(10_000),
            pending_logins: Expiring::new(10_000),
            code_failures: Expiring::new(10_000),
            challenges: Expiring::new(10_000),
        }
    }
}

impl Sessions {
    /// Records a message. It is logged without its temporary password.
    pub(crate) fn send(&mut self, pool_id: &str, message: Message) {
        tracing::info!(
            pool = pool_id,
            username = %crate::log_safe::log_safe(&message.username),
            reason = message.reason,
            code = message.code.as_deref().unwrap_or(""),
            "message (not sent; listed at /_local/{{pool}}/messages)"
        );
        let queue = self.messages.entry(pool_id.to_string()).or_default();
        if queue.len() >= MESSAGES_PER_POOL {
            queue.pop_front();
        }
        queue.push_back(message);
    }

    /// A pool's messages, newest first.
    pub(crate) fn messages(&self, pool_id: &str) -> Vec<Value> {
        self.messages
            .get(pool_id)
            .map(|q| q.iter().rev().map(Message::to_json).collect())
            .unwrap_or_default()
    }

    /// Counts a wrong confirmation code of `pool/username` (forgotten 15
    /// minutes after the first).
    pub(crate) fn note_wrong_code(&mut self, key: &str) {
        match self.code_failures.get_mut(key) {
            Some(count) => *count = count.saturating_add(1),
            None => self
                .code_failures
                .insert(key.to_string(), 1, now_epoch() + 900.0),
        }
    }

    /// Forgets a deleted pool's messages.
    pub(crate) fn forget_pool(&mut self, pool_id: &str) {
        self.messages.remove(pool_id);
    }
}

/// Wrong confirmation codes allowed before ConfirmSignUp refuses every code
/// (`LimitExceededException`) for 15 minutes.
pub(crate) const CODE_ATTEMPTS: u32 = 5;

/// A sign-in waiting for the answer to a challenge.
#[derive(Debug, Clone)]
pub(crate) struct Challenge {
    pub(crate) pool_id: String,
    pub(crate) client_id: String,
    /// The stored user name.
    pub(crate) username: String,
    pub(crate) kind: ChallengeKind,
}

/// What the challenge is.
#[derive(Debug, Clone)]
pub(crate) enum ChallengeKind {
    /// A temporary password was right; a new one must be chosen.
    NewPassword,
    /// `USER_SRP_AUTH` started: the server's half and the client's `SRP_A`
    /// wait for `PASSWORD_VERIFIER` (the challenge is stored under its
    /// `SECRET_BLOCK`, which the client sends back).
    Srp {
        session: super::srp::ServerSession,
        srp_a: String,
    },
}
