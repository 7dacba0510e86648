//! The issuers of a verifier: each one's checked policy and key store, the
//! choice of one for a token, and [`IssuerKeys`], the public view of one.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::algorithm::AlgorithmSet;
use crate::claims::ClaimPolicy;
use crate::jws;
use crate::keys::{FetchError, KeySetFetches, KeyStore};
use crate::token_error::TokenError;

/// The most issuers one verifier may trust.
pub(super) const MAX_ISSUERS: usize = 100;

/// One issuer, built: its claim policy, its algorithms and its keys.
#[derive(Debug)]
pub(crate) struct IssuerPolicy {
    pub(super) claims: ClaimPolicy,
    pub(super) allowed: AlgorithmSet,
    pub(super) keys: Arc<KeyStore>,
}

/// The issuer chosen for a token, and its index in the verifier's list.
#[derive(Clone, Copy)]
pub(super) struct Selected<'a> {
    pub(super) index: usize,
    pub(super) policy: &'a IssuerPolicy,
}

/// The issuers in the order configured; never empty.
#[derive(Debug)]
pub(super) struct Issuers(pub(super) Box<[IssuerPolicy]>);

impl Issuers {
    /// The issuer whose keys verify `token`, and its index.
    ///
    /// With one issuer, nothing is read: the claims check after the
    /// signature compares `iss`. With several, the payload's `iss` is read
    /// before the signature, only to choose whose keys to try: an exact match
    /// or `IssuerMismatch`, without any network request. The claims,
    /// `iss` among them, are checked against that issuer's policy only after
    /// its key verified the signature.
    pub(super) fn select(&self, token: &str) -> Result<Selected<'_>, TokenError> {
        let index = match &*self.0 {
            [_] => 0,
            several => {
                let payload = jws::b64_decode(jws::split(token)?.1)?;
                let iss = unverified_issuer(&payload)?;
                several
                    .iter()
                    .position(|issuer| issuer.claims.issuer == iss)
                    .ok_or(TokenError::IssuerMismatch)?
            }
        };
        let policy = self.0.get(index).ok_or(TokenError::IssuerMismatch)?;
        Ok(Selected { index, policy })
    }

    /// Takes over the key-set cache of every issuer of `old` whose keys come
    /// from the same place the same way (see [`KeyStore::same_source`]).
    #[cfg(feature = "proxy")]
    pub(super) fn keep_key_sets_of(&mut self, old: &Issuers) {
        for policy in self.0.iter_mut() {
            let same = old.0.iter().find(|o| o.keys.same_source(&policy.keys));
            if let Some(same) = same {
                policy.keys = Arc::clone(&same.keys);
            }
        }
    }

    pub(super) fn get(&self, index: usize) -> Option<&IssuerPolicy> {
        self.0.get(index)
    }

    pub(super) fn first(&self) -> &IssuerPolicy {
        &self.0[0]
    }

    pub(super) fn views(&self) -> impl ExactSizeIterator<Item = IssuerKeys<'_>> {
        self.0.iter().map(|policy| IssuerKeys { policy })
    }
}

/// The payload's `iss` and nothing else: the one claim read before the
/// signature, and only by [`Issuers::select`]. A payload that is not a JSON
/// object, or repeats `iss`, is malformed; no `iss`, or one that is not a
/// string, matches no issuer.
fn unverified_issuer(payload: &[u8]) -> Result<String, TokenError> {
    #[derive(Deserialize)]
    struct OnlyIss {
        #[serde(default)]
        iss: Option<Value>,
    }
    let only: OnlyIss = crate::json::object(payload).ok_or(TokenError::MalformedClaims)?;
    match only.iss {
        Some(Value::String(iss)) => Ok(iss),
        _ => Err(TokenError::IssuerMismatch),
    }
}

/// One issuer of a [`Verifier`](crate::Verifier) and the state of its key
/// set, from [`Verifier::issuers`](crate::Verifier::issuers). Each issuer's
/// key set is fetched and cached on its own: one that is down never affects
/// another.
#[derive(Clone, Copy)]
pub struct IssuerKeys<'a> {
    policy: &'a IssuerPolicy,
}

impl<'a> IssuerKeys<'a> {
    /// The exact `iss` value its tokens carry.
    pub fn issuer(&self) -> &'a str {
        &self.policy.claims.issuer
    }

    /// Whether a usable key set is loaded.
    pub fn has_keys(&self) -> bool {
        self.policy.keys.is_loaded()
    }

    /// How many key-set fetches have succeeded and failed so far.
    pub fn key_set_fetches(&self) -> KeySetFetches {
        self.policy.keys.fetches()
    }

    /// Why the last key-set fetch failed, if it did; see
    /// [`Verifier::last_fetch_error`](crate::Verifier::last_fetch_error).
    pub fn last_fetch_error(&self) -> Option<FetchError> {
        self.policy.keys.last_error()
    }

    /// The `kid`s of the keys in use, sorted; empty if none are loaded.
    pub fn key_ids(&self) -> Vec<String> {
        self.policy
            .keys
            .with_current(|s| s.keys.kids().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for IssuerKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKeys")
            .field("issuer", &self.issuer())
            .field("has_keys", &self.has_keys())
            .finish()
    }
}
