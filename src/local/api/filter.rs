//! ListUsers' `Filter`: `AttributeName Operator "AttributeValue"`, with the
//! operators `=` (exact) and `^=` (starts with), on the attributes Cognito
//! allows: `username`, `email`, `phone_number`, `name`, `given_name`,
//! `family_name`, `preferred_username`, `cognito:user_status`, `status`
//! (`Enabled` / `Disabled`) and `sub`. Matching is case-sensitive.

use crate::local::error::ApiError;
use crate::local::users::UserState;

const SEARCHABLE: [&str; 10] = [
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

/// A parsed filter.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Filter {
    attribute: String,
    prefix: bool,
    value: String,
}

fn malformed() -> ApiError {
    ApiError::invalid_parameter("Error while parsing filter.")
}

impl Filter {
    /// Parses a filter; an empty one is no filter.
    pub(super) fn parse(text: &str) -> Result<Option<Filter>, ApiError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let op_at = text.find(['=', '^']).ok_or_else(malformed)?;
        let attribute = text[..op_at].trim();
        let rest = &text[op_at..];
        let (prefix, rest) = if let Some(r) = rest.strip_prefix("^=") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix('=') {
            (false, r)
        } else {
            return Err(malformed());
        };
        if !SEARCHABLE.contains(&attribute) {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid search attribute: {}",
                attribute.chars().take(64).collect::<String>()
            )));
        }
        let value = quoted(rest.trim()).ok_or_else(malformed)?;
        Ok(Some(Filter {
            attribute: attribute.to_string(),
            prefix,
            value,
        }))
    }

    /// Whether a user matches.
    pub(super) fn matches(&self, user: &UserState) -> bool {
        let actual = match self.attribute.as_str() {
            "username" => Some(user.username.as_str()),
            "sub" => Some(user.sub.as_str()),
            "cognito:user_status" => Some(user.status.as_str()),
            "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }),
            other => user.attributes.get(other).map(String::as_str),
        };
        actual.is_some_and(|a| {
            if self.prefix {
                a.starts_with(&self.value)
            } else {
                a == self.value
            }
        })
    }
}

/// The text of `"..."` (with `\"` and `\\` escapes), the whole of `s`.
fn quoted(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_are_refused() {
        let f = Filter::parse(r#"email ^= "ali""#).unwrap().unwrap();
        assert_eq!(
            (f.attribute.as_str(), f.prefix, f.value.as_str()),
            ("email", true, "ali")
        );
        let f = Filter::parse(r#"username="a \"b\"""#).unwrap().unwrap();
        assert_eq!((f.prefix, f.value.as_str()), (false, r#"a "b""#));
        assert_eq!(Filter::parse("  ").unwrap(), None);
        for bad in [
            "email",
            r#"email = ali"#,
            r#"email ~= "a""#,
            r#"email = "a" extra"#,
            r#"email = "a"b""#,
            r#"email = "a"#,
            r#"custom:x = "a""#,
        ] {
            assert_eq!(
                Filter::parse(bad).unwrap_err().kind(),
                "InvalidParameterException",
                "{bad}"
            );
        }
    }
}
