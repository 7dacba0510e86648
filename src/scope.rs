//! Resource servers, their custom scopes, and what a route requires.
//!
//! The model is Amazon Cognito's: a resource server has an identifier (often
//! an HTTPS URL, which may itself contain `/`) and scopes; a scope's full form,
//! the one that appears in an access token's `scope` claim, is
//! `identifier + "/" + name`.

use std::fmt;
use std::sync::Arc;

use crate::error::{ConfigError, ConfigErrorKind};
use crate::naming::{self, MAX_SCOPES_PER_SERVER, Rule, Violation};

fn check_field(
    what: &str,
    value: &str,
    rule: &Rule,
    kind: ConfigErrorKind,
) -> Result<(), ConfigError> {
    match rule.check(value) {
        Ok(()) => Ok(()),
        Err(Violation::TooShort(chars) | Violation::TooLong(chars)) => Err(ConfigError::new(
            kind,
            format!(
                "{what} must be {} to {} characters long, got {chars}",
                rule.min, rule.max
            ),
        )),
        Err(Violation::Char(bad)) => Err(ConfigError::new(
            kind,
            format!("{what} {value:?} contains the character {bad:?}, which is not allowed"),
        )),
    }
}

pub(crate) fn check_identifier(identifier: &str) -> Result<(), ConfigError> {
    check_field(
        "resource server identifier",
        identifier,
        &naming::IDENTIFIER,
        ConfigErrorKind::InvalidResourceServer,
    )
}

pub(crate) fn check_scope_name(name: &str) -> Result<(), ConfigError> {
    check_field(
        "scope name",
        name,
        &naming::SCOPE_NAME,
        ConfigErrorKind::InvalidResourceServer,
    )
}

pub(crate) fn check_server_name(name: &str) -> Result<(), ConfigError> {
    check_field(
        "resource server name",
        name,
        &naming::NAME,
        ConfigErrorKind::InvalidResourceServer,
    )
}

pub(crate) fn check_description(description: &str) -> Result<(), ConfigError> {
    check_field(
        "scope description",
        description,
        &naming::DESCRIPTION,
        ConfigErrorKind::InvalidResourceServer,
    )
}

/// One custom scope of a resource server: a name and what it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeDefinition {
    name: String,
    description: String,
}

impl ScopeDefinition {
    /// The scope's name, e.g. `photos.read`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the scope grants, e.g. `Read your photos`.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A resource server: an API with an identifier and the custom scopes it
/// defines.
///
/// Building one never fails; the identifier, name and scopes are checked
/// against Amazon Cognito's rules when the resource server is handed to
/// [`VerifierBuilder::resource_server`](crate::VerifierBuilder::resource_server),
/// and [`ResourceServer::validate`] runs the same checks on demand.
///
/// ```
/// use scopegate::ResourceServer;
///
/// let photos = ResourceServer::new("https://photos.example.com", "Photo API")
///     .scope("photos.read", "Read your photos")
///     .scope("photos.write", "Add and delete your photos");
/// assert!(photos.validate().is_ok());
/// assert_eq!(
///     photos.full_scope("photos.read").map(|scope| scope.to_string()),
///     Some("https://photos.example.com/photos.read".to_string()),
/// );
/// assert!(photos.full_scope("photos.delete").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceServer {
    identifier: String,
    name: String,
    scopes: Vec<ScopeDefinition>,
}

impl ResourceServer {
    /// A resource server with an identifier (e.g. `https://photos.example.com`)
    /// and a friendly name (e.g. `Photo API`).
    pub fn new(identifier: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceServer {
            identifier: identifier.into(),
            name: name.into(),
            scopes: Vec::new(),
        }
    }

    /// Adds a custom scope.
    #[must_use]
    pub fn scope(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.scopes.push(ScopeDefinition {
            name: name.into(),
            description: description.into(),
        });
        self
    }

    /// The identifier, the first half of every full scope.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The friendly name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The custom scopes, in the order they were added.
    pub fn scopes(&self) -> &[ScopeDefinition] {
        &self.scopes
    }

    /// The full scope `identifier/name`, if this server defines `name`.
    pub fn full_scope(&self, name: &str) -> Option<Scope> {
        self.scopes
            .iter()
            .any(|s| s.name == name)
            .then(|| Scope::from_parts(&self.identifier, name))
    }

    /// Checks the identifier, name and scopes against Amazon Cognito's rules:
    /// identifier 1-256 characters of `[\x21\x23-\x5B\x5D-\x7E]`, name 1-256 of
    /// `[\w\s+=,.@-]`, at most 100 scopes with distinct names of 1-256
    /// characters of `[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]` and descriptions of
    /// 1-256 characters.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_identifier(&self.identifier)?;
        check_server_name(&self.name)?;
        if self.scopes.len() > MAX_SCOPES_PER_SERVER {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidResourceServer,
                format!(
                    "resource server {:?} defines {} scopes; at most {MAX_SCOPES_PER_SERVER} are allowed",
                    self.identifier,
                    self.scopes.len()
                ),
            ));
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            check_scope_name(&scope.name)?;
            check_description(&scope.description)?;
            if self.scopes[..i].iter().any(|s| s.name == scope.name) {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidResourceServer,
                    format!(
                        "resource server {:?} defines the scope {:?} twice",
                        self.identifier, scope.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A full scope, `resourceServerIdentifier/scopeName`, checked for syntax.
///
/// Scopes compare exactly: whole string, case-sensitive, no normalisation
/// (RFC 6749 §3.3).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Arc<str>);

impl Scope {
    /// Parses a full scope. The identifier is everything before the last `/`,
    /// the name everything after it; both must follow Cognito's rules.
    ///
    /// ```
    /// use scopegate::Scope;
    ///
    /// let scope = Scope::parse("https://photos.example.com/photos.read")?;
    /// assert_eq!(scope.identifier(), "https://photos.example.com");
    /// assert_eq!(scope.name(), "photos.read");
    /// assert!(Scope::parse("photos.read").is_err());
    /// assert!(Scope::parse("https://photos.example.com/").is_err());
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    pub fn parse(full: &str) -> Result<Scope, ConfigError> {
        let invalid = |why: &str| {
            ConfigError::new(
                ConfigErrorKind::InvalidScope,
                format!("{full:?} is not a full scope `resourceServerIdentifier/scopeName`: {why}"),
            )
        };
        let (identifier, name) = full
            .rsplit_once('/')
            .ok_or_else(|| invalid("it has no `/`"))?;
        check_identifier(identifier).map_err(|e| invalid(&e.to_string()))?;
        check_scope_name(name).map_err(|e| invalid(&e.to_string()))?;
        Ok(Scope(full.into()))
    }

    fn from_parts(identifier: &str, name: &str) -> Scope {
        let mut full = String::with_capacity(identifier.len() + 1 + name.len());
        full.push_str(identifier);
        full.push('/');
        full.push_str(name);
        Scope(full.into())
    }

    /// The full scope string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The resource server identifier part.
    pub fn identifier(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(id, _)| id)
    }

    /// The scope name part.
    pub fn name(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(_, name)| name)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The resource servers a verifier knows, used to check that every scope a
/// route requires is one that some resource server defines.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScopeRegistry {
    servers: Vec<ResourceServer>,
}

impl ScopeRegistry {
    pub(crate) fn add(&mut self, server: ResourceServer) -> Result<(), ConfigError> {
        server.validate()?;
        if self
            .servers
            .iter()
            .any(|s| s.identifier == server.identifier)
        {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidResourceServer,
                format!(
                    "resource server {:?} is registered twice",
                    server.identifier
                ),
            ));
        }
        self.servers.push(server);
        Ok(())
    }

    /// Resolves a full scope string a route requires.
    pub(crate) fn resolve(&self, full: &str) -> Result<Scope, ConfigError> {
        let scope = Scope::parse(full)?;
        let defined = self.servers.iter().any(|server| {
            server.identifier == scope.identifier()
                && server.scopes.iter().any(|s| s.name == scope.name())
        });
        if defined {
            return Ok(scope);
        }
        let known = self
            .servers
            .iter()
            .map(|s| format!("{:?}", s.identifier))
            .collect::<Vec<_>>();
        Err(ConfigError::new(
            ConfigErrorKind::UndefinedScope,
            if known.is_empty() {
                format!(
                    "the scope {full:?} is required but no resource server is registered; add one with VerifierBuilder::resource_server"
                )
            } else {
                format!(
                    "the scope {full:?} is required but no registered resource server defines it (registered: {})",
                    known.join(", ")
                )
            },
        ))
    }
}

/// What a route requires of a verified token's scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// Any valid token.
    Authenticated,
    /// Every one of these scopes.
    AllOf(Box<[Scope]>),
    /// At least one of these scopes.
    AnyOf(Box<[Scope]>),
}

impl Requirement {
    /// Whether a token whose `scope` claim is `granted` satisfies this.
    pub(crate) fn is_met_by(&self, granted: &str) -> bool {
        match self {
            Requirement::Authenticated => true,
            Requirement::AllOf(scopes) => scopes.iter().all(|s| has_scope(granted, s.as_str())),
            Requirement::AnyOf(scopes) => scopes.iter().any(|s| has_scope(granted, s.as_str())),
        }
    }

    pub(crate) fn scopes(&self) -> &[Scope] {
        match self {
            Requirement::Authenticated => &[],
            Requirement::AllOf(scopes) | Requirement::AnyOf(scopes) => scopes,
        }
    }
}

/// Exact, whole-token, case-sensitive membership in a space-delimited scope
/// string. `a  b` (two spaces) yields an empty token, which equals no scope.
pub(crate) fn has_scope(granted: &str, wanted: &str) -> bool {
    !wanted.is_empty() && granted.split(' ').any(|token| token == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photos() -> ResourceServer {
        ResourceServer::new("https://photos.example.com", "Photo API")
            .scope("photos.read", "Read photos")
            .scope("photos.write", "Write photos")
    }

    #[test]
    fn scope_matching_is_exact_whole_token_and_case_sensitive() {
        let read = "https://photos.example.com/photos.read";
        assert!(has_scope(read, read));
        assert!(has_scope(&format!("openid {read} x"), read));
        for granted in [
            "https://photos.example.com/photos.readwrite",
            "https://photos.example.com/photos.rea",
            "https://photos.example.com/Photos.read",
            "https://PHOTOS.example.com/photos.read",
            "https://photos.example.com/photos.read/",
            "https://photos.example.com//photos.read",
            "https://other.example.com/photos.read",
            "photos.read",
            "https://photos.example.com/photos.read\tx",
            " https://photos.example.com/photos.readx",
            "",
        ] {
            assert!(
                !has_scope(granted, read),
                "{granted:?} must not grant {read:?}"
            );
        }
        assert!(!has_scope("a  b", ""), "empty tokens match nothing real");
    }

    #[test]
    fn registry_rejects_undefined_and_accepts_defined_scopes() {
        let mut registry = ScopeRegistry::default();
        registry.add(photos()).unwrap();
        assert!(
            registry
                .resolve("https://photos.example.com/photos.read")
                .is_ok()
        );
        let err = registry
            .resolve("https://photos.example.com/photos.delete")
            .unwrap_err();
        assert!(err.is_undefined_scope());
        let err = registry
            .resolve("https://other.example.com/photos.read")
            .unwrap_err();
        assert!(err.is_undefined_scope());
        assert_eq!(
            registry.resolve("photos.read").unwrap_err().kind(),
            ConfigErrorKind::InvalidScope
        );
    }

    #[test]
    fn identifier_may_contain_slashes() {
        let server = ResourceServer::new("https://api.example.com/v1/photos", "Photos v1")
            .scope("read", "Read");
        let mut registry = ScopeRegistry::default();
        registry.add(server).unwrap();
        let scope = registry
            .resolve("https://api.example.com/v1/photos/read")
            .unwrap();
        assert_eq!(scope.identifier(), "https://api.example.com/v1/photos");
        assert_eq!(scope.name(), "read");
    }

    #[test]
    fn cognito_rules_are_enforced() {
        let bad = [
            ResourceServer::new("", "x"),
            ResourceServer::new("has space", "x"),
            ResourceServer::new("quote\"", "x"),
            ResourceServer::new("back\\slash", "x"),
            ResourceServer::new("x".repeat(257), "x"),
            ResourceServer::new("ok", "bad/name"),
            ResourceServer::new("ok", ""),
            ResourceServer::new("ok", "x").scope("a/b", "d"),
            ResourceServer::new("ok", "x").scope("", "d"),
            ResourceServer::new("ok", "x").scope("a", ""),
            ResourceServer::new("ok", "x")
                .scope("a", "d")
                .scope("a", "e"),
        ];
        for server in bad {
            assert_eq!(
                server.validate().unwrap_err().kind(),
                ConfigErrorKind::InvalidResourceServer,
                "{server:?}"
            );
        }
        let many = (0..101).fold(ResourceServer::new("ok", "x"), |s, i| {
            s.scope(format!("s{i}"), "d")
        });
        assert!(many.validate().is_err());
        assert!(photos().validate().is_ok());
        assert!(
            ResourceServer::new("x".repeat(256), "Name with spaces_+=,.@-")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn requirements() {
        let read = Scope::parse("https://photos.example.com/photos.read").unwrap();
        let write = Scope::parse("https://photos.example.com/photos.write").unwrap();
        let both = format!("{read} {write}");
        let all = Requirement::AllOf(vec![read.clone(), write.clone()].into());
        let any = Requirement::AnyOf(vec![read.clone(), write.clone()].into());
        assert!(all.is_met_by(&both));
        assert!(!all.is_met_by(read.as_str()));
        assert!(any.is_met_by(write.as_str()));
        assert!(!any.is_met_by("openid"));
        assert!(Requirement::Authenticated.is_met_by(""));
    }

    mod properties {
        use proptest::prelude::*;

        use crate::scope::{Scope, has_scope};

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn scope_parser_never_panics_and_round_trips(full in ".{0,80}") {
                if let Ok(scope) = Scope::parse(&full) {
                    prop_assert_eq!(scope.as_str(), full.as_str());
                    prop_assert_eq!(format!("{}/{}", scope.identifier(), scope.name()), full.clone());
                    prop_assert!(!scope.name().contains('/'));
                }
            }

            #[test]
            fn well_formed_scopes_parse(
                identifier in "[a-z]{1,10}(\\.[a-z]{1,10}){0,2}",
                scheme in prop_oneof![Just(""), Just("https://")],
                name in "[a-z][a-z0-9._-]{0,20}",
            ) {
                let full = format!("{scheme}{identifier}/{name}");
                let scope = Scope::parse(&full).expect("the strategy only makes well-formed scopes");
                prop_assert_eq!(scope.name(), name.as_str());
                prop_assert_eq!(scope.identifier(), format!("{scheme}{identifier}"));
            }

            #[test]
            fn scope_matching_is_exact_membership(
                tokens in proptest::collection::vec("[a-zA-Z0-9:/._-]{1,20}", 0..8),
                separators in proptest::collection::vec(1..4usize, 8),
                wanted in "[a-zA-Z0-9:/._-]{0,20}",
                pick in any::<prop::sample::Index>(),
                twist in 0..4u8,
            ) {
                let mut granted = String::new();
                for (i, token) in tokens.iter().enumerate() {
                    granted.push_str(&" ".repeat(separators[i]));
                    granted.push_str(token);
                }
                // Ask for a granted scope, or one a character off it.
                let wanted = match (tokens.is_empty(), twist) {
                    (true, _) | (false, 0) => wanted,
                    (false, 1) => tokens[pick.index(tokens.len())].clone(),
                    (false, 2) => format!("{}x", tokens[pick.index(tokens.len())]),
                    (false, _) => tokens[pick.index(tokens.len())].to_uppercase(),
                };
                let expected = !wanted.is_empty() && tokens.contains(&wanted);
                prop_assert_eq!(has_scope(&granted, &wanted), expected);
            }
        }
    }
}
