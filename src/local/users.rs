//! The user half of a pool's state: users, groups, issued refresh tokens and
//! revocations. Data and plain reads only; Cognito's checks on it live in the
//! management API (`api/users.rs`, `api/groups.rs`) and the sign-in code.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::password::{PasswordPolicy, StoredSecret};

/// `UserStatusType`, as Cognito names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserStatus {
    /// Signed up, not confirmed yet.
    Unconfirmed,
    /// Confirmed; signs in with a permanent password.
    Confirmed,
    /// Created by an administrator with a temporary password.
    ForceChangePassword,
    /// An administrator asked for a password reset.
    ResetRequired,
}

impl UserStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<UserStatus> {
        [
            UserStatus::Unconfirmed,
            UserStatus::Confirmed,
            UserStatus::ForceChangePassword,
            UserStatus::ResetRequired,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// A user of a pool.
#[derive(Debug, Clone)]
pub(crate) struct UserState {
    /// The user name, as created.
    pub(crate) username: String,
    /// The immutable `sub` (a UUID).
    pub(crate) sub: String,
    /// Attributes other than `sub`, by name (`email`, `custom:tenant`, ...).
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) status: UserStatus,
    pub(crate) enabled: bool,
    /// The password, hashed (and its SRP verifier); none before one is set.
    pub(crate) secret: Option<StoredSecret>,
    /// When a temporary password stops working (seconds since the epoch).
    pub(crate) temporary_password_expires: Option<f64>,
    /// The pending confirmation code and when it expires.
    pub(crate) confirmation_code: Option<(String, f64)>,
    /// Group names.
    pub(crate) groups: BTreeSet<String>,
    /// Tokens issued before this time (global sign-out) are revoked.
    pub(crate) signed_out_at: Option<f64>,
    pub(crate) created: f64,
    pub(crate) modified: f64,
}

/// Most refresh tokens one user keeps: past it, a new sign-in's refresh
/// token pushes out the one of this user closest to its expiry.
pub(crate) const REFRESH_TOKENS_PER_USER: usize = 100;

/// A group of a pool.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupState {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) precedence: Option<i64>,
    pub(crate) role_arn: Option<String>,
    pub(crate) created: f64,
    pub(crate) modified: f64,
}

/// An issued refresh token, stored by the SHA-256 of the token (never the
/// token itself).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RefreshTokenState {
    pub(crate) client_id: String,
    pub(crate) username: String,
    /// The scopes granted with it: a refresh grants these again (those still
    /// active).
    pub(crate) scopes: Vec<String>,
    /// The `origin_jti` of every token issued from the same sign-in.
    pub(crate) origin_jti: String,
    pub(crate) auth_time: u64,
    /// The RFC 8707 resource the sign-in was bound to (the access token's
    /// `aud`).
    pub(crate) resource: Option<String>,
    pub(crate) expires: f64,
    /// The DPoP key (RFC 7638 thumbprint) a public client's refresh token
    /// is bound to (RFC 9449 §5): refreshing needs a proof of that key.
    pub(crate) dpop_jkt: Option<String>,
}

/// The user half of a pool.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    /// By user name (exact).
    pub(crate) users: BTreeMap<String, UserState>,
    pub(crate) groups: BTreeMap<String, GroupState>,
    /// By the hex SHA-256 of the refresh token.
    pub(crate) refresh_tokens: BTreeMap<String, RefreshTokenState>,
    /// Revoked `origin_jti`s and when their last token expires (after which
    /// they are forgotten).
    pub(crate) revoked_origins: BTreeMap<String, f64>,
    pub(crate) password_policy: PasswordPolicy,
    /// The pool's `UsernameConfiguration`, `UsernameAttributes`,
    /// `AliasAttributes` and `AutoVerifiedAttributes`, as sent to
    /// CreateUserPool (returned by DescribeUserPool).
    pub(crate) pool_config: Map<String, Value>,
}

impl Directory {
    /// Whether user names are case-insensitive
    /// (`UsernameConfiguration.CaseSensitive` false): then they are stored
    /// and looked up in lower case.
    pub(crate) fn case_insensitive(&self) -> bool {
        self.pool_config
            .get("UsernameConfiguration")
            .and_then(|c| c.get("CaseSensitive"))
            .and_then(Value::as_bool)
            == Some(false)
    }

    /// The key a user name is stored under in this pool.
    pub(crate) fn key_of(&self, name: &str) -> String {
        if self.case_insensitive() {
            name.to_lowercase()
        } else {
            name.to_string()
        }
    }

    /// A pool list setting (`UsernameAttributes`, `AliasAttributes`).
    fn setting(&self, member: &str) -> Vec<&str> {
        self.pool_config
            .get(member)
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `UsernameAttributes` (`email`, `phone_number`): users sign up with
    /// one of these instead of a user name, and their user name is their
    /// `sub`.
    pub(crate) fn username_attributes(&self) -> Vec<&str> {
        self.setting("UsernameAttributes")
    }

    /// `AliasAttributes` (`email`, `phone_number`, `preferred_username`):
    /// users may also sign in by these.
    pub(crate) fn alias_attributes(&self) -> Vec<&str> {
        self.setting("AliasAttributes")
    }

    /// Whether `user`'s attribute `alias` names them at sign-in. An
    /// `AliasAttributes` e-mail address or phone number does only once
    /// verified (as in Cognito); a `UsernameAttributes` one always (it is
    /// what the user signed up with, unique in the pool), and so does
    /// `preferred_username` (nothing verifies it).
    fn names_by(&self, user: &UserState, alias: &str, value: &str) -> bool {
        let matches = user
            .attributes
            .get(alias)
            .is_some_and(|v| v.eq_ignore_ascii_case(value));
        let verified = || {
            !matches!(alias, "email" | "phone_number")
                || self.username_attributes().contains(&alias)
                || user
                    .attributes
                    .get(&format!("{alias}_verified"))
                    .map(String::as_str)
                    == Some("true")
        };
        matches && verified()
    }

    /// The users (at most two) that `value` names as an alias.
    fn alias_holders(&self, value: &str) -> Vec<&UserState> {
        let mut aliases = self.username_attributes();
        aliases.extend(self.alias_attributes());
        if aliases.is_empty() {
            return Vec::new();
        }
        self.users
            .values()
            .filter(|u| aliases.iter().any(|a| self.names_by(u, a, value)))
            .take(2)
            .collect()
    }

    /// The user whose alias attribute is `value` (e-mail addresses compared
    /// without case). None when two users hold it: an ambiguous alias signs
    /// nobody in (fail closed; the writes refuse duplicates, see
    /// [`Directory::alias_taken`]).
    pub(crate) fn find_by_alias(&self, value: &str) -> Option<&UserState> {
        match self.alias_holders(value).as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// Another user than `username` who signs in by the alias `attribute`
    /// of value `value`, if the pool has that alias.
    pub(crate) fn alias_taken(&self, username: &str, attribute: &str, value: &str) -> Option<&str> {
        if !self.alias_attributes().contains(&attribute) {
            return None;
        }
        self.users
            .values()
            .find(|u| u.username != username && self.names_by(u, attribute, value))
            .map(|u| u.username.as_str())
    }

    /// A user by name or by `sub` (Cognito accepts either as `Username`),
    /// or by an alias attribute when the pool has them.
    pub(crate) fn find_user(&self, name: &str) -> Option<&UserState> {
        self.users
            .get(&self.key_of(name))
            .or_else(|| self.users.values().find(|u| u.sub == name))
            .or_else(|| self.find_by_alias(name))
    }

    /// The user name a `Username` input refers to.
    pub(crate) fn resolve(&self, name: &str) -> Option<String> {
        self.find_user(name).map(|u| u.username.clone())
    }

    /// Whether tokens of this sign-in are revoked.
    pub(crate) fn is_revoked(&self, origin_jti: &str) -> bool {
        self.revoked_origins.contains_key(origin_jti)
    }

    /// Revokes every token of a sign-in: its refresh tokens go, and its
    /// access and ID tokens fail at `GetUser` and `userInfo` until `until`.
    pub(crate) fn revoke_origin(&mut self, origin_jti: &str, until: f64) {
        self.refresh_tokens
            .retain(|_, r| r.origin_jti != origin_jti);
        let entry = self
            .revoked_origins
            .entry(origin_jti.to_string())
            .or_insert(until);
        *entry = entry.max(until);
    }

    /// Makes room for one more refresh token of `username`: while the user
    /// has [`REFRESH_TOKENS_PER_USER`] or more, the one closest to its
    /// expiry (the oldest of a client) is removed and stops working.
    pub(crate) fn cap_refresh_tokens(&mut self, username: &str) {
        loop {
            let theirs = self
                .refresh_tokens
                .iter()
                .filter(|(_, r)| r.username == username);
            if theirs.clone().count() < REFRESH_TOKENS_PER_USER {
                return;
            }
            let oldest = theirs
                .min_by(|a, b| a.1.expires.total_cmp(&b.1.expires))
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => self.refresh_tokens.remove(&key),
                None => return,
            };
        }
    }

    /// Forgets expired refresh tokens and revocations.
    pub(crate) fn prune(&mut self, now: f64) {
        self.refresh_tokens.retain(|_, r| r.expires > now);
        self.revoked_origins.retain(|_, until| *until > now);
    }
}
