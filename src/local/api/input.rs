//! Reading a request's members, and paging through lists.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::local::error::ApiError;
use crate::local::validate::{check_value, constraint, must_not_be_null};

/// The members of a request, read with their types checked.
pub(super) struct Input<'a>(pub(super) &'a Map<String, Value>);

impl<'a> Input<'a> {
    pub(super) fn new(value: &'a Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Input(map)),
            _ => Err(ApiError::new(
                "SerializationException",
                "The request body must be a JSON object.",
            )),
        }
    }

    pub(super) fn wrong_type(member: &str, expected: &str) -> ApiError {
        ApiError::new(
            "SerializationException",
            format!("{member} must be {expected}."),
        )
    }

    pub(super) fn string(&self, member: &str) -> Result<Option<&'a str>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Self::wrong_type(member, "a string")),
        }
    }

    pub(super) fn required(&self, member: &str, field: &str) -> Result<&'a str, ApiError> {
        self.string(member)?.ok_or_else(|| must_not_be_null(field))
    }

    pub(super) fn bool(&self, member: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Self::wrong_type(member, "a boolean")),
        }
    }

    pub(super) fn integer(&self, member: &str) -> Result<Option<i64>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong_type(member, "an integer")),
        }
    }

    pub(super) fn strings(&self, member: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Self::wrong_type(member, "a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(Self::wrong_type(member, "a list of strings")),
        }
    }

    pub(super) fn object(&self, member: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(Self::wrong_type(member, "an object")),
        }
    }

    pub(super) fn max_results(
        &self,
        field: &str,
        max: i64,
        required: bool,
    ) -> Result<usize, ApiError> {
        let value = match self.integer("MaxResults")? {
            Some(v) => v,
            None if required => return Err(must_not_be_null(field)),
            None => max,
        };
        check_value(field, value, 1, max)?;
        Ok(usize::try_from(value).unwrap_or(1))
    }

    /// The key a `NextToken` stands for.
    pub(super) fn next_token(&self) -> Result<Option<String>, ApiError> {
        let Some(token) = self.string("NextToken")? else {
            return Ok(None);
        };
        if token.is_empty() {
            return Err(constraint(
                "nextToken",
                token,
                "Member must have length greater than or equal to 1",
            ));
        }
        URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(|| ApiError::invalid_parameter("Invalid pagination token."))
    }
}

/// One page of a sorted map, from `start` on, and the token of the next one.
pub(super) fn page<T>(
    items: &BTreeMap<String, T>,
    start: Option<String>,
    max: usize,
) -> (Vec<&T>, Option<String>) {
    let mut iter = match &start {
        Some(start) => items.range(start.clone()..),
        None => items.range::<String, _>(..),
    };
    let page: Vec<&T> = iter.by_ref().take(max).map(|(_, v)| v).collect();
    let next = iter.next().map(|(k, _)| URL_SAFE_NO_PAD.encode(k));
    (page, next)
}

pub(super) fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let (Some(next), Value::Object(map)) = (next, &mut out) {
        map.insert("NextToken".into(), Value::String(next));
    }
    out
}
