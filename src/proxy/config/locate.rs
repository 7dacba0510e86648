//! Where a mistake is: [`ConfigFileError`] and the locator that turns a
//! byte span of the TOML text into `file:line: key: message`.

use std::fmt;
use std::ops::Range;

use crate::ConfigError;

/// A configuration mistake, located in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFileError {
    file: String,
    line: Option<usize>,
    key: Option<String>,
    message: String,
}

impl ConfigFileError {
    /// The file the mistake is in.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The key, e.g. `routes[2].require[0]`, when known.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// A mistake about the file as a whole (it cannot be read, or a key is
    /// missing), with no line.
    pub(crate) fn unlocated(file: &str, key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigFileError {
            file: file.to_string(),
            line: None,
            key: key.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigFileError {}

/// Locates errors in the source text.
pub(super) struct Source<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

impl Source<'_> {
    /// The 1-based line a span starts on.
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub(super) fn error(
        &self,
        span: Option<&Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigFileError {
        ConfigFileError {
            file: self.file.to_string(),
            line: span.map(|s| self.line(s)),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// A [`ConfigError`] of the library, located at `span`.
    pub(super) fn config_error(
        &self,
        span: &Range<usize>,
        key: &str,
        e: ConfigError,
    ) -> ConfigFileError {
        self.error(Some(span), key, e.to_string())
    }

    /// A TOML or type error, with the key read from the offending line
    /// when toml's message does not name it.
    pub(super) fn parse_error(&self, error: &toml::de::Error) -> ConfigFileError {
        let message = error.message().trim().replace('\n', " ");
        let span = error.span();
        let key = span
            .as_ref()
            .and_then(|span| self.key_at(span.start, &message));
        ConfigFileError {
            file: self.file.to_string(),
            line: span.as_ref().map(|s| self.line(s)),
            key,
            message,
        }
    }

    /// The full key (`routes[1].path`) of the `key = value` line holding
    /// byte `at`, unless `message` already names it.
    fn key_at(&self, at: usize, message: &str) -> Option<String> {
        let before = &self.text[..at.min(self.text.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[line_start..].lines().next().unwrap_or("");
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        if key.is_empty() || key.starts_with('[') || message.contains(&format!("`{key}`")) {
            return None;
        }
        Some(match table_of(before) {
            Some(table) => format!("{table}.{key}"),
            None => key.to_string(),
        })
    }
}

/// The name inside a `[[array]]` header line.
fn array_header(line: &str) -> Option<&str> {
    line.strip_prefix("[[")
        .and_then(|l| l.split("]]").next())
        .map(str::trim)
}

/// The table a position is in, as `routes[1]` or `issuer`, from the last
/// `[table]` or `[[array]]` header before it.
fn table_of(before: &str) -> Option<String> {
    let headers: Vec<&str> = before
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .collect();
    let last = headers.last()?;
    if let Some(name) = array_header(last) {
        let index = headers
            .iter()
            .filter(|h| array_header(h) == Some(name))
            .count()
            - 1;
        return Some(format!("{name}[{index}]"));
    }
    last.strip_prefix('[')
        .and_then(|l| l.split(']').next())
        .map(|n| n.trim().to_string())
}
