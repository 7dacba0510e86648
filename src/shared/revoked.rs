//! [`RevokedSet`]: revocations held in memory, each until it expires, and
//! the check of a token against them. Used by the in-process list and as
//! the local copy of a shared one.

use std::collections::HashMap;

use super::{Revocation, SharedStateError};
use crate::claims::Claims;

/// The revocations in force, by kind; each value is its expiry (Unix
/// seconds) and, for the "issued before" kinds, the latest `iat` refused.
#[derive(Clone, Debug, Default)]
pub(crate) struct RevokedSet {
    token_ids: HashMap<Box<str>, u64>,
    origins: HashMap<Box<str>, u64>,
    clients: HashMap<Box<str>, Before>,
    subjects: HashMap<Box<str>, Before>,
}

#[derive(Clone, Copy, Debug)]
struct Before {
    iat: u64,
    expires: u64,
}

impl RevokedSet {
    /// How many entries it holds, expired ones included.
    pub(crate) fn len(&self) -> usize {
        self.token_ids.len() + self.origins.len() + self.clients.len() + self.subjects.len()
    }

    /// Whether `claims` are revoked by an entry still in force at `now`.
    pub(crate) fn revokes(&self, claims: &Claims, now: u64) -> bool {
        let live = |expires: &u64| *expires > now;
        let id_in = |map: &HashMap<Box<str>, u64>, id: Option<&str>| {
            !map.is_empty() && id.and_then(|id| map.get(id)).is_some_and(live)
        };
        let issued_before = |map: &HashMap<Box<str>, Before>, id: Option<&str>| {
            if map.is_empty() {
                return false;
            }
            let Some(entry) = id.and_then(|id| map.get(id)) else {
                return false;
            };
            // Without `iat` the token cannot show it is newer: refused.
            entry.expires > now && claims.issued_at_secs().is_none_or(|iat| iat <= entry.iat)
        };
        id_in(&self.token_ids, claims.jwt_id())
            || id_in(&self.origins, claims.origin_jti())
            // Cognito's ID tokens name their client in `aud` only.
            || issued_before(
                &self.clients,
                claims.client_id().or(claims.audience().first().map(String::as_str)),
            )
            || issued_before(&self.subjects, claims.subject())
    }

    /// Adds `revocation` until `expires`, unless `max_entries` are in force
    /// already (expired ones are dropped first). A newer "issued before"
    /// entry for the same id extends the older one.
    pub(crate) fn insert(
        &mut self,
        revocation: &Revocation,
        expires: u64,
        now: u64,
        max_entries: usize,
    ) -> Result<(), SharedStateError> {
        if self.len() >= max_entries && !self.holds(revocation) {
            self.remove_expired(now);
            if self.len() >= max_entries {
                return Err(SharedStateError::Full);
            }
        }
        let key: Box<str> = revocation.value().into();
        let before = |map: &mut HashMap<Box<str>, Before>, iat: u64| {
            let entry = map.entry(key.clone()).or_insert(Before { iat, expires });
            entry.iat = entry.iat.max(iat);
            entry.expires = entry.expires.max(expires);
        };
        match revocation {
            Revocation::TokenId(_) => extend(&mut self.token_ids, key.clone(), expires),
            Revocation::Origin(_) => extend(&mut self.origins, key.clone(), expires),
            Revocation::ClientBefore { .. } => {
                before(&mut self.clients, revocation.before_secs().unwrap_or(0));
            }
            Revocation::SubjectBefore { .. } => {
                before(&mut self.subjects, revocation.before_secs().unwrap_or(0));
            }
        }
        Ok(())
    }

    /// Whether an entry for `revocation`'s kind and value exists (a new
    /// one would only extend it).
    fn holds(&self, revocation: &Revocation) -> bool {
        let value = revocation.value();
        match revocation {
            Revocation::TokenId(_) => self.token_ids.contains_key(value),
            Revocation::Origin(_) => self.origins.contains_key(value),
            Revocation::ClientBefore { .. } => self.clients.contains_key(value),
            Revocation::SubjectBefore { .. } => self.subjects.contains_key(value),
        }
    }

    /// Drops the entries that expired at or before `now`.
    pub(crate) fn remove_expired(&mut self, now: u64) {
        self.token_ids.retain(|_, expires| *expires > now);
        self.origins.retain(|_, expires| *expires > now);
        self.clients.retain(|_, b| b.expires > now);
        self.subjects.retain(|_, b| b.expires > now);
    }
}

fn extend(map: &mut HashMap<Box<str>, u64>, key: Box<str>, expires: u64) {
    let entry = map.entry(key).or_insert(expires);
    *entry = (*entry).max(expires);
}
