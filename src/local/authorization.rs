//! What a browser sign-in leaves behind, between the hosted pages and the
//! token endpoint: the checked authorization request, the authorization
//! codes, the browser sessions and the pending password changes. Data only;
//! kept in [`Sessions`](super::sessions::Sessions), never saved.

/// An authorization code lives 5 minutes (Cognito's).
pub(crate) const CODE_SECONDS: f64 = 300.0;
/// A browser session (the `cognito` cookie) lives 1 hour (Cognito's).
pub(crate) const BROWSER_SESSION_SECONDS: f64 = 3600.0;
/// A sign-in waiting for a new password lives 3 minutes (Cognito's
/// `AuthSessionValidity` default).
pub(crate) const PENDING_LOGIN_SECONDS: f64 = 180.0;
/// How long a revocation must be remembered: the longest an access or ID
/// token can live (one day, Cognito's maximum).
pub(crate) const LONGEST_TOKEN_SECONDS: f64 = 86_400.0;

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
    pub(crate) username: String,
    pub(crate) auth_time: u64,
    /// Set at the first redemption: the `origin_jti` of what it issued, to
    /// revoke if the code is presented again.
    pub(crate) redeemed: Option<String>,
}

/// A signed-in browser (the `cognito` cookie).
#[derive(Debug, Clone)]
pub(crate) struct BrowserSession {
    pub(crate) pool_id: String,
    pub(crate) username: String,
    pub(crate) auth_time: u64,
}

/// A sign-in whose password was right but temporary: the new password is
/// asked for next, with this id in a hidden input instead of the old
/// password.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub(crate) pool_id: String,
    pub(crate) client_id: String,
    pub(crate) username: String,
}
