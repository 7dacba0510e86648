//! What a browser sign-in leaves behind, between the hosted pages and the
//! token endpoint: the checked authorization request, the authorization
//! codes, the browser sessions and the pending password changes. Data only;
//! kept in [`Sessions`](super::sessions::Sessions), never saved.

use super::user_tokens::signed_out_since;
use super::users::{Directory, UserState, UserStatus};

/// An authorization code lives 5 minutes (Cognito's).
pub(crate) const CODE_SECONDS: f64 = 300.0;
/// A browser session (the `cognito` cookie) lives 1 hour (Cognito's).
pub(crate) const BROWSER_SESSION_SECONDS: f64 = 3600.0;
/// A sign-in waiting for a new password lives 3 minutes (Cognito's
/// `AuthSessionValidity` default).
pub(crate) const PENDING_LOGIN_SECONDS: f64 = 180.0;
/// How long a revocation must be remembered: the longest an access or ID
/// token can live (one day, Cognito's maximum). Refresh tokens need no
/// longer: revoking an origin deletes its refresh tokens, and none can be
/// stored for a revoked origin afterwards (`oauth/authorization_code.rs`
/// checks inside the same state change that stores it).
pub(crate) const LONGEST_TOKEN_SECONDS: f64 = 86_400.0;

/// The user a session, code or pending sign-in belongs to: the user name
/// to find them by and the `sub` that proves it is still the same user (a
/// user deleted and created again under the same name has a new `sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subject {
    pub(crate) username: String,
    pub(crate) sub: String,
}

impl Subject {
    pub(crate) fn of(user: &UserState) -> Self {
        Subject {
            username: user.username.clone(),
            sub: user.sub.clone(),
        }
    }

    /// The user, if they still exist with the same `sub`.
    pub(crate) fn find<'d>(&self, directory: &'d Directory) -> Option<&'d UserState> {
        directory
            .users
            .get(&self.username)
            .filter(|u| u.sub == self.sub)
    }

    /// The user, if a sign-in of theirs at `auth_time` still stands: same
    /// `sub`, enabled, `CONFIRMED` (an administrator's password reset or a
    /// new temporary password ends it) and not signed out since.
    pub(crate) fn signed_in<'d>(
        &self,
        directory: &'d Directory,
        auth_time: u64,
    ) -> Option<&'d UserState> {
        self.find(directory).filter(|u| {
            u.enabled && u.status == UserStatus::Confirmed && !signed_out_since(u, auth_time)
        })
    }
}

/// `response_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseType {
    /// `code`: the authorization-code grant.
    Code,
    /// `token`: the implicit grant.
    Token,
}

/// An authorization request that passed every check (`hosted/request.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub(crate) pool_id: String,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) response_type: ResponseType,
    pub(crate) state: Option<String>,
    /// The granted scopes, by the seed's rules.
    pub(crate) scopes: Vec<String>,
    /// The PKCE `S256` challenge.
    pub(crate) code_challenge: Option<String>,
    pub(crate) nonce: Option<String>,
    /// The RFC 8707 resource (the access token's `aud`).
    pub(crate) resource: Option<String>,
}

impl Authorization {
    /// Whether an ID token goes with the access token.
    pub(crate) fn wants_id_token(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

/// An authorization code: one use, bound to the request and the user.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) authorization: Authorization,
    pub(crate) user: Subject,
    pub(crate) auth_time: u64,
    /// Set at the first redemption: the `origin_jti` of what it issued, to
    /// revoke if the code is presented again.
    pub(crate) redeemed: Option<String>,
}

/// A signed-in browser (the `cognito` cookie).
#[derive(Debug, Clone)]
pub(crate) struct BrowserSession {
    pub(crate) pool_id: String,
    pub(crate) user: Subject,
    pub(crate) auth_time: u64,
}

/// A sign-in whose password was right but temporary: the new password is
/// asked for next, with this id in a hidden input instead of the old
/// password.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub(crate) pool_id: String,
    pub(crate) client_id: String,
    pub(crate) user: Subject,
}
