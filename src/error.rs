//! Configuration errors: everything that can be wrong before the first request.

use std::fmt;

/// A configuration mistake found while building a [`Verifier`](crate::Verifier),
/// a [`ResourceServer`](crate::ResourceServer) or a layer.
///
/// Every misconfiguration that could leave a route open or a token unchecked
/// is reported here, when the layer is built, rather than at request time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
}

/// What kind of mistake a [`ConfigError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A resource server identifier, name, scope name or description breaks
    /// Amazon Cognito's rules.
    InvalidResourceServer,
    /// A scope string is not `resourceServerIdentifier/scopeName`.
    InvalidScope,
    /// A route requires a scope that no registered resource server defines.
    UndefinedScope,
    /// The issuer or one of its URLs is malformed.
    InvalidIssuer,
    /// A key-set or discovery URL is plain `http` to a host other than loopback.
    InsecureUrl,
    /// No `client_id` or `aud` allow-list was configured, and the audience
    /// check was not explicitly switched off.
    MissingAudienceCheck,
    /// An option is out of its allowed range (a leeway of an hour, an empty
    /// algorithm list, a realm with a quote in it, ...).
    InvalidOption,
    /// A static key set could not be read or holds no usable key.
    InvalidKeySet,
    /// A route's group requirement is empty, or names a group that breaks
    /// Amazon Cognito's `GroupName` rule (1 to 128 characters, no white
    /// space or control characters).
    InvalidGroup,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        ConfigError {
            kind,
            message: message.into(),
        }
    }

    /// What kind of mistake this is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// Whether a route required a scope that no resource server defines.
    pub fn is_undefined_scope(&self) -> bool {
        self.kind == ConfigErrorKind::UndefinedScope
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
