//! Checking a user's password: the one place every sign-in (the
//! `InitiateAuth` family and the hosted `/login` page) asks "may this user
//! sign in with this password?". It finds the user, applies the per-user
//! brute-force delay, verifies the hash outside the state lock, and checks
//! the user's status, with Cognito's exception types and messages.

use super::error::ApiError;
use super::password::StoredSecret;
use super::sessions::Expiring;
use super::shared::Shared;
use super::state::now_epoch;
use super::users::{UserState, UserStatus};
use crate::sync::lock;

/// Failures allowed before each further attempt must wait.
const FREE_FAILURES: u32 = 5;
/// The longest wait between attempts (Cognito's lockout tops out at 15 min).
const MAX_LOCKOUT_SECONDS: f64 = 900.0;

/// Failed sign-ins of one user, and until when the next attempt is refused.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Failures {
    count: u32,
    locked_until: f64,
}

/// Failed sign-ins by `pool/username`, forgotten 15 minutes after the last.
pub(crate) fn failures_map() -> Expiring<Failures> {
    Expiring::new(10_000)
}

/// A user whose password was right.
#[derive(Debug, Clone)]
pub(crate) struct PasswordOk {
    pub(crate) user: UserState,
    /// The password is temporary: the user must choose a new one
    /// (`NEW_PASSWORD_REQUIRED`) before any token is issued.
    pub(crate) must_change: bool,
}

/// Why a sign-in was refused. Wrong user name and wrong password are one
/// error, so the answer never says whether a user exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignInError {
    WrongCredentials,
    AttemptsExceeded,
    Disabled,
    NotConfirmed,
    TemporaryPasswordExpired,
    ResetRequired,
}

impl SignInError {
    /// As the management API reports it.
    pub(crate) fn api_error(self) -> ApiError {
        let (kind, message) = match self {
            SignInError::WrongCredentials => {
                ("NotAuthorizedException", "Incorrect username or password.")
            }
            SignInError::AttemptsExceeded => {
                ("NotAuthorizedException", "Password attempts exceeded")
            }
            SignInError::Disabled => ("NotAuthorizedException", "User is disabled."),
            SignInError::NotConfirmed => ("UserNotConfirmedException", "User is not confirmed."),
            SignInError::TemporaryPasswordExpired => (
                "NotAuthorizedException",
                "Temporary password has expired and must be reset by an administrator.",
            ),
            SignInError::ResetRequired => (
                "PasswordResetRequiredException",
                "Password reset required for the user",
            ),
        };
        ApiError::new(kind, message)
    }
}

/// Checks `password` for the user `username` (a user name or a `sub`) of
/// pool `pool_id`. Slow on purpose (the hash); takes the state lock only to
/// read.
pub(crate) fn check_password(
    shared: &Shared,
    pool_id: &str,
    username: &str,
    password: &str,
) -> Result<PasswordOk, SignInError> {
    check_proof(shared, pool_id, username, |secret| match secret {
        Some(secret) => secret.verify(password),
        None => {
            // The same work as a real check, so that timing does not tell
            // whether the user exists.
            let _ = dummy_secret().verify(password);
            false
        }
    })
}

/// The one sign-in check, for any proof of the password (`proves` gets
/// the user's stored secret, none for an unknown user): lookup,
/// brute-force delay, the proof outside the lock, status. `USER_SRP_AUTH`
/// passes its claim check here.
pub(crate) fn check_proof(
    shared: &Shared,
    pool_id: &str,
    username: &str,
    proves: impl FnOnce(Option<&StoredSecret>) -> bool,
) -> Result<PasswordOk, SignInError> {
    let (user, throttle_key) = {
        let state = lock(&shared.state);
        let directory = state.pools.get(pool_id).map(|p| &p.directory);
        let user = directory.and_then(|d| d.find_user(username).cloned());
        // An unknown user is counted under the key a real one would have,
        // so that "Bob" and "BOB" share a counter either way.
        let name = match (&user, directory) {
            (Some(u), _) => u.username.clone(),
            (None, Some(d)) => d.key_of(username),
            (None, None) => username.to_string(),
        };
        (user, format!("{pool_id}/{name}"))
    };
    if !reserve_attempt(shared, &throttle_key) {
        return Err(SignInError::AttemptsExceeded);
    }
    let matched = proves(user.as_ref().and_then(|u| u.secret.as_ref()));
    let Some(user) = user.filter(|_| matched) else {
        // The reserved attempt stays counted as the failure it was.
        return Err(SignInError::WrongCredentials);
    };
    lock(&shared.sessions).failures.take(&throttle_key);
    status_allows(user)
}

/// The checks of a user's status once the password was right.
fn status_allows(user: UserState) -> Result<PasswordOk, SignInError> {
    if !user.enabled {
        return Err(SignInError::Disabled);
    }
    match user.status {
        UserStatus::Unconfirmed => Err(SignInError::NotConfirmed),
        UserStatus::ResetRequired => Err(SignInError::ResetRequired),
        UserStatus::ForceChangePassword => {
            if user
                .temporary_password_expires
                .is_some_and(|t| t <= now_epoch())
            {
                return Err(SignInError::TemporaryPasswordExpired);
            }
            Ok(PasswordOk {
                user,
                must_change: true,
            })
        }
        UserStatus::Confirmed => Ok(PasswordOk {
            user,
            must_change: false,
        }),
    }
}

/// Counts an attempt as a failure before its proof is checked (a success
/// then forgets the count), under one lock: parallel guesses cannot all
/// pass a check made before any of them is counted. `false` when the user
/// must wait. From the sixth counted attempt on, the next waits 1 s, then
/// 2, 4, ... up to 15 minutes.
fn reserve_attempt(shared: &Shared, key: &str) -> bool {
    let now = now_epoch();
    let mut sessions = lock(&shared.sessions);
    let mut failures = sessions.failures.get(key).copied().unwrap_or_default();
    if failures.locked_until > now {
        return false;
    }
    failures.count = failures.count.saturating_add(1);
    if failures.count > FREE_FAILURES {
        let exponent = (failures.count - FREE_FAILURES - 1).min(10);
        failures.locked_until = now + f64::from(1u32 << exponent).min(MAX_LOCKOUT_SECONDS);
    }
    // With no room to count the attempt (10,000 users failing at once), it
    // is refused: a guess is never left uncounted.
    sessions
        .failures
        .try_insert(key.to_string(), failures, now + MAX_LOCKOUT_SECONDS)
        .is_ok()
}

fn dummy_secret() -> &'static StoredSecret {
    static DUMMY: std::sync::OnceLock<StoredSecret> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| StoredSecret::new("local_dummy", "dummy", "not a password"))
}
