//! What the token and revocation endpoints answer: an RFC 6749 §5.2 error
//! ([`OAuthError`]) or a token response (§5.1, [`Issued`]).

use serde_json::{Value, json};

/// An RFC 6749 §5.2 error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) error: &'static str,
    pub(crate) description: &'static str,
    /// The client authenticated with HTTP Basic: answer 401 with a challenge.
    pub(crate) basic: bool,
}

impl OAuthError {
    /// An error without the Basic challenge.
    pub(crate) fn new(error: &'static str, description: &'static str) -> Self {
        OAuthError {
            error,
            description,
            basic: false,
        }
    }

    /// `invalid_grant`: the code or refresh token is unknown, used, expired
    /// or not the client's.
    pub(crate) fn invalid_grant(description: &'static str) -> Self {
        OAuthError::new("invalid_grant", description)
    }

    /// 401 for a failed Basic authentication, 400 for everything else.
    pub(crate) fn status(&self) -> u16 {
        if self.error == "invalid_client" && self.basic {
            401
        } else {
            400
        }
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    /// Present when `openid` was granted.
    pub(crate) id_token: Option<String>,
    /// Present for the authorization-code grant only.
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: u64,
    /// The access token is bound to a DPoP key: `token_type` `DPoP` (RFC
    /// 9449 §5).
    pub(crate) dpop: bool,
}

impl Issued {
    /// An access token alone (client credentials).
    pub(crate) fn access_only(access_token: String, expires_in: u64) -> Self {
        Issued {
            access_token,
            id_token: None,
            refresh_token: None,
            expires_in,
            dpop: false,
        }
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "token_type": if self.dpop { "DPoP" } else { "Bearer" },
        });
        if let Some(id_token) = &self.id_token {
            body["id_token"] = json!(id_token);
        }
        if let Some(refresh_token) = &self.refresh_token {
            body["refresh_token"] = json!(refresh_token);
        }
        body
    }
}
