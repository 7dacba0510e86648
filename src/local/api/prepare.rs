//! What an action needs done before the state lock is taken: hashing the
//! password of its input (slow on purpose), after a short read of the pool
//! (its policy, how user names compare, which user the input names).

use std::fmt;

use serde_json::Value;

use crate::local::ids::{random_alnum, uuid_v4};
use crate::local::password::{MAX_PASSWORD_LEN, PasswordPolicy, StoredSecret};
use crate::local::sessions::Sessions;
use crate::local::shared::Shared;
use crate::local::state::State;
use crate::sync::lock;

/// A password hashed for the user it will belong to.
pub(crate) struct PreparedSecret {
    /// The stored user name the hash was made for (the SRP verifier depends
    /// on it).
    pub(crate) username: String,
    pub(crate) secret: StoredSecret,
    /// The temporary password, for the invitation message (AdminCreateUser
    /// only).
    pub(crate) temporary_password: Option<String>,
}

impl fmt::Debug for PreparedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedSecret")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// What [`prepare`] found and made.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    pub(crate) secret: Option<PreparedSecret>,
    /// Wrong confirmation codes so far (ConfirmSignUp).
    pub(crate) code_failures: u32,
    /// `pool/username`, for counting wrong codes (ConfirmSignUp).
    pub(crate) code_key: Option<String>,
}

/// The pool and user an input names, read under a short lock.
struct Target {
    pool_id: String,
    /// The stored user name (an existing user's, else the input's, in the
    /// pool's case).
    username: String,
    /// Whether that user exists.
    exists: bool,
    policy: PasswordPolicy,
}

/// Hashes the input's password (when the action takes one and it meets the
/// pool's policy: otherwise the action reports the error) outside the lock.
pub(crate) fn prepare(shared: &Shared, action: &str, input: &Value) -> Prepared {
    let text = |member: &str| input.get(member).and_then(Value::as_str);
    let by_client = matches!(
        action,
        "SignUp" | "ConfirmSignUp" | "ResendConfirmationCode"
    );
    let Some(target) = (|| {
        let state = lock(&shared.state);
        let pool_id = if by_client {
            state.pool_of_client(text("ClientId")?)?.id.clone()
        } else {
            text("UserPoolId")?.to_string()
        };
        target(&state, pool_id, text("Username")?)
    })() else {
        return Prepared::default();
    };
    match action {
        "ConfirmSignUp" => {
            let key = format!("{}/{}", target.pool_id, target.username);
            let code_failures = reserve_code_attempt(shared, &key);
            Prepared {
                code_failures,
                code_key: Some(key),
                ..Prepared::default()
            }
        }
        // A duplicate is refused by the action: no hash for it.
        "AdminCreateUser" if target.exists && text("MessageAction") != Some("RESEND") => {
            Prepared::default()
        }
        "AdminCreateUser" => {
            let password = text("TemporaryPassword")
                .map_or_else(|| generate_password(&target.policy), str::to_string);
            hashed(&target, &password, true)
        }
        "AdminSetUserPassword" | "SignUp" => match text("Password") {
            Some(password) => hashed(&target, password, false),
            None => Prepared::default(),
        },
        _ => Prepared::default(),
    }
}

/// The wrong codes of `key` so far; this attempt is counted as one more,
/// under the same lock, until it proves right (the count is then cleared)
/// or fails for another reason (then released, see
/// [`release_code_attempt`]): parallel guesses cannot all pass a count
/// read before any of them was made.
fn reserve_code_attempt(shared: &Shared, key: &str) -> u32 {
    let mut sessions = lock(&shared.sessions);
    let before = sessions.code_failures.get(key).copied().unwrap_or(0);
    if !sessions.note_wrong_code(key) {
        // No room to count it: refused as if over the limit.
        return u32::MAX;
    }
    before
}

/// Gives back an attempt reserved by [`reserve_code_attempt`] that turned
/// out not to be a wrong code.
pub(crate) fn release_code_attempt(sessions: &mut Sessions, key: &str) {
    if let Some(count) = sessions.code_failures.get_mut(key) {
        *count = count.saturating_sub(1);
    }
}

fn target(state: &State, pool_id: String, username: &str) -> Option<Target> {
    let pool = state.pools.get(&pool_id)?;
    let existing = pool.directory.resolve(username);
    let exists = existing.is_some();
    // A new user of a pool with UsernameAttributes is named by a new UUID.
    let username = existing.unwrap_or_else(|| {
        if pool.directory.username_attributes().is_empty() {
            pool.directory.key_of(username)
        } else {
            uuid_v4()
        }
    });
    Some(Target {
        exists,
        policy: pool.directory.password_policy.clone(),
        pool_id,
        username,
    })
}

fn hashed(target: &Target, password: &str, temporary: bool) -> Prepared {
    if password.len() > MAX_PASSWORD_LEN * 4 || target.policy.check(password).is_err() {
        return Prepared::default();
    }
    let secret = StoredSecret::new(&target.pool_id, &target.username, password);
    Prepared {
        secret: Some(PreparedSecret {
            username: target.username.clone(),
            secret,
            temporary_password: temporary.then(|| password.to_string()),
        }),
        ..Prepared::default()
    }
}

/// A random password that meets `policy`: letters and digits with one of
/// each required kind (a symbol from the middle of Cognito's set).
pub(crate) fn generate_password(policy: &PasswordPolicy) -> String {
    let length = usize::try_from(policy.minimum_length).unwrap_or(8).max(12);
    let mut chars: Vec<char> = random_alnum(length, true).chars().collect();
    let picks = random_alnum(8, false).into_bytes();
    let required = [
        char::from(b'A' + picks[0] % 26),
        char::from(b'a' + picks[1] % 26),
        char::from(b'0' + picks[2] % 10),
        ['!', '#', '%', '+', '-', '=', '.', '_'][usize::from(picks[3] % 8)],
    ];
    // The required characters replace distinct positions, never the first
    // or last (nothing special at the ends).
    for (i, c) in required.into_iter().enumerate() {
        let slot = 1 + (usize::from(picks[4 + i]) % 2) + i * 2;
        if let Some(place) = chars.get_mut(slot.min(length - 2)) {
            *place = c;
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_policy() {
        for minimum_length in [6, 8, 30, 99] {
            let policy = PasswordPolicy {
                minimum_length,
                ..PasswordPolicy::default()
            };
            for _ in 0..50 {
                let password = generate_password(&policy);
                assert!(policy.check(&password).is_ok(), "{password}");
            }
        }
    }
}
