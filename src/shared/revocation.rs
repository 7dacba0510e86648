//! [`Revocation`]: one entry of a revocation list.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{MAX_ID_BYTES, SharedStateError};

/// One entry of a [`RevocationList`](super::RevocationList).
///
/// ```
/// use std::time::SystemTime;
/// use scopegate::Revocation;
///
/// let one = Revocation::jti("6d1ca2c4-5a56-4d33-9ac7-0e4c9bce1d2f");
/// let user = Revocation::subject_before("a1b2c3", SystemTime::now());
/// assert_ne!(one, user);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// The token with this `jti`.
    TokenId(String),
    /// Every token with this `origin_jti`: the tokens of one Cognito sign-in,
    /// as Cognito's `RevokeToken` revokes them with the refresh token.
    Origin(String),
    /// Every token of this `client_id` issued at or before `before`.
    ClientBefore {
        /// The client.
        client_id: String,
        /// The latest `iat` refused, to the second.
        before: SystemTime,
    },
    /// Every token of this `sub` issued at or before `before` (a user's
    /// global sign-out). A token of that user without `iat` is refused too.
    SubjectBefore {
        /// The user.
        subject: String,
        /// The latest `iat` refused, to the second.
        before: SystemTime,
    },
}

impl Revocation {
    /// The token with this `jti`.
    pub fn jti(jti: impl Into<String>) -> Revocation {
        Revocation::TokenId(jti.into())
    }

    /// Every token with this `origin_jti`.
    pub fn origin_jti(origin_jti: impl Into<String>) -> Revocation {
        Revocation::Origin(origin_jti.into())
    }

    /// Every token issued to `client_id` until now.
    pub fn client(client_id: impl Into<String>) -> Revocation {
        Revocation::ClientBefore {
            client_id: client_id.into(),
            before: SystemTime::now(),
        }
    }

    /// Every token of `subject` issued at or before `before`.
    pub fn subject_before(subject: impl Into<String>, before: SystemTime) -> Revocation {
        Revocation::SubjectBefore {
            subject: subject.into(),
            before,
        }
    }

    /// The value the entry matches (`jti`, `origin_jti`, `client_id` or `sub`).
    pub fn value(&self) -> &str {
        match self {
            Revocation::TokenId(v) | Revocation::Origin(v) => v,
            Revocation::ClientBefore { client_id, .. } => client_id,
            Revocation::SubjectBefore { subject, .. } => subject,
        }
    }

    /// The `iat` bound, in Unix seconds, for the kinds that have one.
    pub(crate) fn before_secs(&self) -> Option<u64> {
        match self {
            Revocation::TokenId(_) | Revocation::Origin(_) => None,
            Revocation::ClientBefore { before, .. } | Revocation::SubjectBefore { before, .. } => {
                Some(before.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
            }
        }
    }

    /// Refuses an empty or over-long value before it is stored.
    pub(crate) fn checked(self) -> Result<Revocation, SharedStateError> {
        let value = self.value();
        if value.is_empty() || value.len() > MAX_ID_BYTES {
            return Err(SharedStateError::InvalidEntry);
        }
        Ok(self)
    }
}
