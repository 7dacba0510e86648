//! The local issuer's public errors: the management API's ([`ApiError`]),
//! starting ([`StartError`]) and asking the token endpoint
//! ([`TokenRequestError`]).

use std::fmt;
use std::io;

use serde_json::{Value, json};

use super::persist::StateFileError;

/// An error of the management API, as Cognito reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    kind: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        ApiError::new("InvalidParameterException", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new("ResourceNotFoundException", message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::new("InternalErrorException", message)
    }

    /// The exception type, e.g. `ResourceNotFoundException`.
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status: 500 for internal errors, 400 for all others.
    pub fn status(&self) -> u16 {
        if self.kind == "InternalErrorException" {
            500
        } else {
            400
        }
    }

    /// The AWS JSON error body.
    pub fn body(&self) -> Value {
        json!({ "__type": self.kind, "message": self.message })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Why a [`LocalIssuer`](super::LocalIssuer) could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    Bind(io::Error),
    /// The state file could not be read.
    StateFile(StateFileError),
    /// The default user pool could not be created or saved.
    Setup(ApiError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "cannot listen: {e}"),
            StartError::StateFile(e) => e.fmt(f),
            StartError::Setup(e) => write!(f, "cannot set up the user pool: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind(e) => Some(e),
            StartError::StateFile(e) => Some(e),
            StartError::Setup(e) => Some(e),
        }
    }
}

/// Why [`LocalIssuer::client_credentials`] got no token: the token
/// endpoint's error (RFC 6749 §5.2), or status 0 when it could not be asked.
///
/// [`LocalIssuer::client_credentials`]: super::LocalIssuer::client_credentials
#[derive(Clone, Debug)]
pub struct TokenRequestError {
    /// The HTTP status.
    pub status: u16,
    /// The `error` code, e.g. `invalid_scope`.
    pub error: String,
}

impl fmt::Display for TokenRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token endpoint answered {}: {}", self.status, self.error)
    }
}

impl std::error::Error for TokenRequestError {}
