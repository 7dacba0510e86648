//! Strict JSON reading for untrusted input.
//!
//! Two things serde does that a verifier must not allow:
//!
//! - a derived `Deserialize` for a struct also accepts a JSON *array* of its
//!   fields in order (`["RS256","k1"]` as a header); [`object`] accepts only
//!   a JSON object;
//! - `serde_json::Value` keeps the last of repeated member names; [`Strict`]
//!   refuses them at every depth, so no two parsers can disagree about what a
//!   token says.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// For `#[serde(deserialize_with)]`: deserializes any JSON value and records
/// only that the member was present, so that `"d": null` counts as present.
pub(crate) fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Parses `bytes` as `T`, but only if the document is a JSON object.
pub(crate) fn object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// A JSON object whose members, at every depth, have unique names.
pub(crate) fn unique_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match object::<Strict>(bytes)?.0 {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A `serde_json::Value` that refuses repeated member names.
pub(crate) struct Strict(pub(crate) Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON with unique member names")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Strict, E> {
        Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Strict, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let Strict(value) = access.next_value()?;
            if map.insert(key, value).is_some() {
                return Err(A::Error::custom("repeated member name"));
            }
        }
        Ok(Strict(Value::Object(map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Pair {
        #[allow(dead_code)]
        a: String,
    }

    #[test]
    fn only_objects_are_objects() {
        assert!(object::<Pair>(br#"{"a":"x"}"#).is_some());
        assert!(object::<Pair>(br#"  {"a":"x"}"#).is_some());
        assert!(
            serde_json::from_slice::<Pair>(br#"["x"]"#).is_ok(),
            "serde's array form"
        );
        assert!(object::<Pair>(br#"["x"]"#).is_none());
        assert!(object::<Pair>(b"").is_none());
    }

    #[test]
    fn repeated_names_are_refused_at_every_depth() {
        assert!(unique_object(br#"{"a":1,"b":{"c":[{"d":1}]}}"#).is_some());
        assert!(unique_object(br#"{"a":1,"a":2}"#).is_none());
        assert!(unique_object(br#"{"a":{"b":1,"b":2}}"#).is_none());
        assert!(unique_object(br#"{"a":[{"b":1,"b":2}]}"#).is_none());
        assert!(unique_object(b"[]").is_none());
        assert!(unique_object(br#"{"a":1} {}"#).is_none());
    }

    #[test]
    fn numbers_keep_their_kind() {
        let map = unique_object(br#"{"i":-1,"u":18446744073709551615,"f":1.5}"#).unwrap();
        assert_eq!(map["i"].as_i64(), Some(-1));
        assert_eq!(map["u"].as_u64(), Some(u64::MAX));
        assert_eq!(map["f"].as_f64(), Some(1.5));
    }
}
