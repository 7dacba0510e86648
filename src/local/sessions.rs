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

/// A map whose entries expire and whose size is bounded. When full it
/// refuses new keys rather than evict live ones: its entries protect
/// something (a redeemed code's replay marker, a failure counter, a
/// challenge in progress), so a flood must not push them out; the caller
/// answers an error instead (fail closed).
#[derive(Debug)]
pub(crate) struct Expiring<V> {
    entries: HashMap<String, (f64, V)>,
    capacity: usize,
}

/// [`Expiring::try_insert`] refused a new key: the map is full of live
/// entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

impl<V> Expiring<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Expiring {
            entries: HashMap::new(),
            capacity,
        }
    }

    /// Stores `value` under `key` until `expires` (seconds since the epoch).
    /// Replacing an existing key always succeeds; a new key is refused
    /// ([`Full`]) while the map holds `capacity` live entries. No live
    /// entry is ever evicted.
    #[must_use = "a full map stored nothing: answer an error"]
    pub(crate) fn try_insert(&mut self, key: String, value: V, expires: f64) -> Result<(), Full> {
        let now = now_epoch();
        self.entries.retain(|_, (until, _)| *until > now);
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            return Err(Full);
        }
        self.entries.insert(key, (expires, value));
        Ok(())
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
    /// minutes after the first). False when the counter could not be
    /// stored (the map is full): the caller should then refuse the code.
    pub(crate) fn note_wrong_code(&mut self, key: &str) -> bool {
        match self.code_failures.get_mut(key) {
            Some(count) => {
                *count = count.saturating_add(1);
                true
            }
            None => self
                .code_failures
                .try_insert(key.to_string(), 1, now_epoch() + 900.0)
                .is_ok(),
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
    /// The `sub` of the user a `NEW_PASSWORD_REQUIRED` challenge was made
    /// for: a user deleted and created again under the same name is another
    /// user. `None` for SRP, whose claim is checked against the verifier
    /// stored when it is answered (a re-created user's password is needed).
    pub(crate) sub: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_refuses_new_keys_and_evicts_nothing() {
        let mut map = Expiring::new(2);
        let later = now_epoch() + 60.0;
        assert_eq!(map.try_insert("a".into(), 1, later), Ok(()));
        assert_eq!(map.try_insert("b".into(), 2, later + 1.0), Ok(()));
        assert_eq!(map.try_insert("c".into(), 3, later + 2.0), Err(Full));
        assert_eq!((map.get("a"), map.get("b")), (Some(&1), Some(&2)));
        assert_eq!(map.get("c"), None);
        // An existing key may still be replaced (a counter goes on counting).
        assert_eq!(map.try_insert("a".into(), 10, later), Ok(()));
        assert_eq!(map.get("a"), Some(&10));
    }

    #[test]
    fn expired_entries_make_room() {
        let mut map = Expiring::new(1);
        assert_eq!(map.try_insert("old".into(), 1, now_epoch() - 1.0), Ok(()));
        assert_eq!(map.try_insert("new".into(), 2, now_epoch() + 60.0), Ok(()));
        assert_eq!(map.get("new"), Some(&2));
        // Taking an entry out frees its place.
        assert_eq!(map.take("new"), Some(2));
        assert_eq!(map.try_insert("next".into(), 3, now_epoch() + 60.0), Ok(()));
    }
}
