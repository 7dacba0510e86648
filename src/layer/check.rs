//! What a route checks beyond scopes: its groups, and its checks (custom
//! ones and the built-in maximum token age). [`ScopeGateLayer`] builds
//! them, [`Gate`] runs them; this file knows neither.
//!
//! [`ScopeGateLayer`]: super::ScopeGateLayer
//! [`Gate`]: super::gate::Gate

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use crate::claims::Claims;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::naming::{GROUP_NAME, Violation};

/// A refusal from a route's own [`check`](crate::ScopeGateLayer::check).
///
/// The request is answered 403 with a bare `Bearer realm="..."` challenge;
/// the reason never reaches the client. It is in the response's
/// [`Rejection`](crate::Rejection) extension
/// ([`Rejection::reason`](crate::Rejection::reason)) and in the layer's
/// `debug` log line (escaped and truncated), for the server's eyes only.
///
/// ```
/// use scopegate::Denied;
///
/// let denied = Denied::new("tenant is not allowed here");
/// assert_eq!(denied.reason(), "tenant is not allowed here");
/// let owned = Denied::new(format!("{} groups", 0));
/// assert_eq!(owned.reason(), "0 groups");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Denied {
    reason: Cow<'static, str>,
}

impl Denied {
    /// A refusal with a reason for logs and metrics (a fixed text is best;
    /// put no token or secret in it).
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Denied {
            reason: reason.into(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub(crate) fn into_reason(self) -> Cow<'static, str> {
        self.reason
    }
}

impl fmt::Debug for Denied {
    /// The reason escaped and truncated, as in logs: an application may put
    /// a claim in it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = crate::log_safe::log_safe(self.reason());
        f.debug_tuple("Denied").field(&shown).finish()
    }
}

/// How far in the future an `auth_time` (or `iat`) may be: the largest
/// leeway a verifier allows.
const MAX_FUTURE_SECS: u64 = 300;

/// A custom check, as [`ScopeGateLayer::check`](crate::ScopeGateLayer::check)
/// takes it.
pub(crate) type CheckFn = dyn Fn(&Claims) -> Result<(), Denied> + Send + Sync + 'static;

/// One check of a route, run in the order added, after the scopes and
/// groups.
#[derive(Clone)]
pub(crate) enum Check {
    /// `auth_time` (else `iat`) at most `max_secs` before now; the RFC 9470
    /// challenge that says so.
    MaxTokenAge {
        max_secs: u64,
        challenge: HeaderValue,
    },
    /// The application's own.
    Custom(Arc<CheckFn>),
}

/// Why a [`Check`] refused a token.
pub(crate) enum Failed<'a> {
    TooOld(&'a HeaderValue),
    Denied(Denied),
}

impl Check {
    /// The maximum-age check for `max`, in whole seconds rounded up.
    /// `metadata_url`: the protected-resource metadata the challenge names
    /// (RFC 9728), if any.
    pub(crate) fn max_token_age(realm: &str, max: Duration, metadata_url: Option<&str>) -> Check {
        let max_secs = max
            .as_secs()
            .saturating_add(u64::from(max.subsec_nanos() > 0));
        let metadata = metadata_url
            .map(|url| format!(", resource_metadata=\"{url}\""))
            .unwrap_or_default();
        // RFC 9470 §3, as its example writes it: `max_age` quoted.
        let challenge = format!(
            "Bearer realm=\"{realm}\", error=\"insufficient_user_authentication\", \
             error_description=\"A more recent authentication is required\", max_age=\"{max_secs}\"{metadata}"
        );
        Check::MaxTokenAge {
            max_secs,
            // The realm was checked by the builder (visible ASCII, no quote
            // or backslash); the rest is fixed text and digits.
            challenge: HeaderValue::try_from(challenge)
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer")),
        }
    }

    /// Runs the check on verified claims at `now` (seconds since the epoch).
    pub(crate) fn run(&self, claims: &Claims, now: u64) -> Result<(), Failed<'_>> {
        match self {
            Check::MaxTokenAge {
                max_secs,
                challenge,
            } => match claims.authenticated_at_secs() {
                // No leeway for the age: it is a policy, not a clock
                // comparison. A sign-in in the future beyond the largest
                // clock skew is not recent, it is wrong: refused.
                Some(at)
                    if at <= now.saturating_add(MAX_FUTURE_SECS)
                        && now.saturating_sub(at) <= *max_secs =>
                {
                    Ok(())
                }
                _ => Err(Failed::TooOld(challenge)),
            },
            Check::Custom(check) => check(claims).map_err(Failed::Denied),
        }
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::MaxTokenAge { max_secs, .. } => {
                f.debug_tuple("MaxTokenAge").field(max_secs).finish()
            }
            Check::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// An any-of group list, each name checked against Cognito's `GroupName`
/// rule. Names compare exactly, case-sensitive.
pub(crate) fn any_of_groups<I, S>(groups: I) -> Result<Box<[Box<str>]>, ConfigError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let invalid = |message: String| ConfigError::new(ConfigErrorKind::InvalidGroup, message);
    let groups = groups
        .into_iter()
        .map(|group| {
            let group = group.as_ref();
            match GROUP_NAME.check(group) {
                Ok(()) => Ok(Box::from(group)),
                Err(Violation::TooShort(_)) => Err(invalid(
                    "a group name must not be empty".to_string(),
                )),
                Err(Violation::TooLong(chars)) => Err(invalid(format!(
                    "a group name is at most {} characters, got {chars}",
                    GROUP_NAME.max
                ))),
                Err(Violation::Char(bad)) => Err(invalid(format!(
                    "group name {group:?} contains the character {bad:?}; Cognito group names have no white space or control characters"
                ))),
            }
        })
        .collect::<Result<Vec<Box<str>>, _>>()?;
    if groups.is_empty() {
        return Err(invalid(
            "a group requirement needs at least one group".to_string(),
        ));
    }
    Ok(groups.into())
}

/// Whether `claims` are in at least one of `groups`.
pub(crate) fn in_any(claims: &Claims, groups: &[Box<str>]) -> bool {
    let have = claims.groups();
    groups
        .iter()
        .any(|wanted| have.iter().any(|g| g.as_str() == &**wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_lists_are_checked() {
        assert_eq!(any_of_groups(["editors", "admins"]).unwrap().len(), 2);
        for bad in [
            vec![],
            vec![""],
            vec!["ok", " "],
            vec!["a b"],
            vec!["tab\t"],
        ] {
            let err = any_of_groups(bad.clone()).unwrap_err();
            assert_eq!(err.kind(), ConfigErrorKind::InvalidGroup, "{bad:?}");
        }
        let long = "g".repeat(129);
        assert_eq!(
            any_of_groups([long]).unwrap_err().kind(),
            ConfigErrorKind::InvalidGroup
        );
    }

    #[test]
    fn max_age_rounds_up_and_says_so_in_the_challenge() {
        let check = Check::max_token_age("api", Duration::from_millis(1500), None);
        let Check::MaxTokenAge {
            max_secs,
            challenge,
        } = check
        else {
            unreachable!("max_token_age makes a MaxTokenAge check")
        };
        assert_eq!(max_secs, 2);
        assert_eq!(
            challenge,
            r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="2""#
        );
    }
}
