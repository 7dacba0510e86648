//! Amazon Cognito's naming rules, written once: how long an identifier, a
//! name or a secret may be and which characters it may hold.
//!
//! These are pure predicates. `scope.rs` turns a broken rule into a
//! `ConfigError`; the local issuer's validation turns
//! it into Cognito's own `InvalidParameterException` message, which quotes
//! [`CharClass::pattern`].

/// A set of allowed characters: the pattern as Cognito states it, and the
/// test of one character.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CharClass {
    /// The regular expression Cognito documents (and quotes in its errors);
    /// only the local issuer's messages quote it.
    #[cfg_attr(not(feature = "issuer"), allow(dead_code))]
    pub(crate) pattern: &'static str,
    /// Whether one character belongs to the class.
    pub(crate) allows: fn(char) -> bool,
}

/// A rule for a string: its length in characters, and its characters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule {
    /// The fewest characters.
    pub(crate) min: usize,
    /// The most characters.
    pub(crate) max: usize,
    /// The allowed characters, if restricted.
    pub(crate) chars: Option<CharClass>,
}

/// How a string breaks a [`Rule`], in the order the checks are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// Fewer than `min` characters; the length found.
    TooShort(usize),
    /// More than `max` characters; the length found.
    TooLong(usize),
    /// The first character outside the class.
    Char(char),
}

impl Rule {
    /// The same rule with another maximum length.
    #[cfg(feature = "issuer")]
    pub(crate) const fn at_most(self, max: usize) -> Rule {
        Rule { max, ..self }
    }

    /// Checks the length first, then the characters.
    pub(crate) fn check(&self, value: &str) -> Result<(), Violation> {
        let len = value.chars().count();
        if len < self.min {
            return Err(Violation::TooShort(len));
        }
        if len > self.max {
            return Err(Violation::TooLong(len));
        }
        match self.chars {
            Some(class) => value
                .chars()
                .find(|c| !(class.allows)(*c))
                .map_or(Ok(()), |bad| Err(Violation::Char(bad))),
            None => Ok(()),
        }
    }
}

/// The longest identifier, name, scope name or description Cognito accepts.
pub(crate) const MAX_FIELD_CHARS: usize = 256;
/// The most scopes one resource server may define (Cognito's limit).
pub(crate) const MAX_SCOPES_PER_SERVER: usize = 100;

/// `\w` in its ASCII meaning (Java's default, which Cognito's patterns use).
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `\s` in its ASCII meaning.
fn is_space_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// Cognito's resource-server identifier characters, which are also exactly
/// RFC 6749's scope-token characters.
fn is_identifier_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Cognito's scope-name characters: the identifier characters without `/`.
fn is_scope_name_char(c: char) -> bool {
    is_identifier_char(c) && c != '/'
}

/// Cognito's name characters (resource servers, user pools, app clients).
fn is_name_char(c: char) -> bool {
    is_word_char(c) || is_space_char(c) || "+=,.@-".contains(c)
}

/// App client id and secret characters.
#[cfg(feature = "issuer")]
fn is_client_char(c: char) -> bool {
    is_word_char(c) || c == '+'
}

/// A resource-server identifier, e.g. `https://photos.example.com`; also the
/// rule of a full scope `identifier/name` (a list member of
/// `AllowedOAuthScopes`).
pub(crate) const IDENTIFIER: Rule = Rule {
    min: 1,
    max: MAX_FIELD_CHARS,
    chars: Some(CharClass {
        pattern: r"[\x21\x23-\x5B\x5D-\x7E]+",
        allows: is_identifier_char,
    }),
};

/// A scope name, e.g. `photos.read`.
pub(crate) const SCOPE_NAME: Rule = Rule {
    min: 1,
    max: MAX_FIELD_CHARS,
    chars: Some(CharClass {
        pattern: r"[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+",
        allows: is_scope_name_char,
    }),
};

/// A friendly name: a resource server's (256 characters); a user pool's and
/// an app client's are at most 128 ([`Rule::at_most`]).
pub(crate) const NAME: Rule = Rule {
    min: 1,
    max: MAX_FIELD_CHARS,
    chars: Some(CharClass {
        pattern: r"[\w\s+=,.@-]+",
        allows: is_name_char,
    }),
};

/// Cognito's user-name and group-name characters, `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`:
/// letters, marks, symbols, numbers and punctuation, approximated as
/// "neither white space nor a control or format character".
fn is_user_name_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || is_format(c))
}

/// Zero-width and direction characters (Unicode category Cf, the common ones).
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// A user name, and also a group name (`GroupName` has the same rule): 1 to
/// 128 characters of [`is_user_name_char`].
pub(crate) const USER_NAME: Rule = Rule {
    min: 1,
    max: 128,
    chars: Some(CharClass {
        pattern: r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+",
        allows: is_user_name_char,
    }),
};

/// A Cognito group name (`cognito:groups` holds these).
pub(crate) const GROUP_NAME: Rule = USER_NAME;

/// A scope description: any characters.
pub(crate) const DESCRIPTION: Rule = Rule {
    min: 1,
    max: MAX_FIELD_CHARS,
    chars: None,
};

/// The characters of app client ids and secrets.
#[cfg(feature = "issuer")]
pub(crate) const CLIENT_CHARS: CharClass = CharClass {
    pattern: r"[\w+]+",
    allows: is_client_char,
};

/// An app client id.
#[cfg(feature = "issuer")]
pub(crate) const CLIENT_ID: Rule = Rule {
    min: 1,
    max: 128,
    chars: Some(CLIENT_CHARS),
};

/// A client secret chosen by the caller.
#[cfg(feature = "issuer")]
pub(crate) const CLIENT_SECRET: Rule = Rule {
    min: 24,
    max: 64,
    chars: Some(CLIENT_CHARS),
};

/// A user pool id's length; its shape is [`is_pool_id`].
#[cfg(feature = "issuer")]
pub(crate) const POOL_ID: Rule = Rule {
    min: 1,
    max: 55,
    chars: None,
};

/// The shape of a user pool id, as Cognito states it.
#[cfg(feature = "issuer")]
pub(crate) const POOL_ID_PATTERN: &str = r"[\w-]+_[0-9a-zA-Z]+";

/// Whether `value` has the shape [`POOL_ID_PATTERN`]: `{region}_{id}`.
#[cfg(feature = "issuer")]
pub(crate) fn is_pool_id(value: &str) -> bool {
    value.rsplit_once('_').is_some_and(|(prefix, suffix)| {
        !prefix.is_empty()
            && prefix.chars().all(|c| is_word_char(c) || c == '-')
            && !suffix.is_empty()
            && suffix.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_check_length_then_characters() {
        assert_eq!(IDENTIFIER.check(""), Err(Violation::TooShort(0)));
        assert_eq!(
            IDENTIFIER.check(&"x".repeat(257)),
            Err(Violation::TooLong(257))
        );
        assert_eq!(IDENTIFIER.check("a b"), Err(Violation::Char(' ')));
        assert_eq!(SCOPE_NAME.check("a/b"), Err(Violation::Char('/')));
        assert!(IDENTIFIER.check("https://photos.example.com").is_ok());
        assert!(NAME.check("Name with spaces_+=,.@-").is_ok());
        assert!(DESCRIPTION.check("anything \"goes\" / \\").is_ok());
        assert!(GROUP_NAME.check("editors").is_ok());
        assert!(GROUP_NAME.check("Éditeurs/écriture:+1").is_ok());
        assert_eq!(GROUP_NAME.check(""), Err(Violation::TooShort(0)));
        assert_eq!(GROUP_NAME.check("a b"), Err(Violation::Char(' ')));
        assert_eq!(
            GROUP_NAME.check("a\u{200b}"),
            Err(Violation::Char('\u{200b}'))
        );
        assert_eq!(
            GROUP_NAME.check(&"g".repeat(129)),
            Err(Violation::TooLong(129))
        );
    }

    #[cfg(feature = "issuer")]
    #[test]
    fn app_client_rules() {
        assert_eq!(
            NAME.at_most(128).check(&"n".repeat(129)),
            Err(Violation::TooLong(129))
        );
        assert_eq!(CLIENT_SECRET.check("short"), Err(Violation::TooShort(5)));
        assert_eq!(CLIENT_ID.check("a-b"), Err(Violation::Char('-')));
    }

    #[cfg(feature = "issuer")]
    #[test]
    fn pool_ids_are_region_underscore_id() {
        for good in ["us-east-1_Local", "eu-west-1_abc123", "a_b", "x_y_z9"] {
            assert!(is_pool_id(good), "{good}");
        }
        for bad in [
            "",
            "nounderscore",
            "_abc",
            "us-east-1_",
            "us east_1",
            "a_b-c",
        ] {
            assert!(!is_pool_id(bad), "{bad}");
        }
    }
}
