//! Strict JSON (I-JSON, RFC 7493, plus a depth bound): duplicate member names are rejected at every
//! level and nesting deeper than [`MAX_DEPTH`] is rejected, before any value is trusted.
//!
//! serde's derived structs already reject a duplicate *known* field; [`StrictValue`] extends that
//! to every member (including unknown ones and those nested inside custom claims), so a token can
//! never mean one thing to keycard and another to a library that keeps the first duplicate.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Deepest nesting accepted in any JSON keycard reads (the top-level object is depth 1).
pub const MAX_DEPTH: usize = 16;

/// The fixed reasons strict parsing can fail with; [`reason`] maps a `serde_json` error back to
/// one of them, so errors never carry input text.
pub(crate) const DUPLICATE: &str = "duplicate JSON member";
/// Nesting beyond [`MAX_DEPTH`].
pub(crate) const TOO_DEEP: &str = "JSON nested too deeply";
/// A JWT time claim that is not a non-negative integer.
pub(crate) const NOT_INTEGER: &str = "time claim is not an integer NumericDate";
/// A time claim outside 1970..=9999.
pub(crate) const OUT_OF_RANGE: &str = "time claim out of range";
/// A PASETO time claim that is not an RFC 3339 string.
pub(crate) const NOT_RFC3339: &str = "time claim is not an RFC 3339 string";
/// `aud` that is neither a string nor a non-empty array of strings.
pub(crate) const BAD_AUDIENCE: &str = "aud is not a string or a non-empty array of strings";
/// A registered claim or header member of the wrong type or size.
pub(crate) const BAD_STRING: &str = "a registered member is not a string of the allowed size";
/// A JOSE header member keycard refuses (`jku`, `x5u`, `jwk`, `x5c`, `crit`, `b64`, ...).
pub(crate) const FORBIDDEN_HEADER: &str = "forbidden JOSE header parameter";
/// A JSON value where an object is required.
pub(crate) const NOT_OBJECT: &str = "JSON object expected";
const REASONS: &[&str] = &[
    DUPLICATE,
    TOO_DEEP,
    NOT_INTEGER,
    OUT_OF_RANGE,
    NOT_RFC3339,
    BAD_AUDIENCE,
    BAD_STRING,
    FORBIDDEN_HEADER,
    NOT_OBJECT,
];

/// Maps a serde_json error to a fixed reason.
pub(crate) fn reason(e: &serde_json::Error) -> &'static str {
    if e.is_syntax() || e.is_eof() {
        return "invalid JSON";
    }
    let text = e.to_string();
    REASONS
        .iter()
        .find(|r| text.starts_with(**r))
        .copied()
        .unwrap_or("unexpected JSON value")
}

/// Converts a serde_json error to [`Error::Malformed`].
pub(crate) fn malformed(e: serde_json::Error) -> Error {
    Error::Malformed(reason(&e))
}

/// Parses `bytes` as one strict JSON value (duplicates and excess depth rejected).
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = StrictValue { depth: 0 }
        .deserialize(&mut de)
        .map_err(malformed)?;
    de.end().map_err(malformed)?;
    Ok(v)
}

/// A seed that reads any JSON value strictly. `depth` is the depth of the container holding it.
#[derive(Clone, Copy)]
pub(crate) struct StrictValue {
    pub(crate) depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter::<A::Error>()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter::<A::Error>()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            insert_unique(&mut out, k, v)?;
        }
        Ok(Value::Object(out))
    }
}

impl StrictValue {
    /// The seed for the values inside a container at this level, or an error past the bound.
    pub(crate) fn enter<E: de::Error>(self) -> Result<StrictValue, E> {
        if self.depth >= MAX_DEPTH {
            Err(E::custom(TOO_DEEP))
        } else {
            Ok(StrictValue {
                depth: self.depth + 1,
            })
        }
    }
}

/// Inserts a member, rejecting a name already present.
pub(crate) fn insert_unique<E: de::Error>(
    map: &mut Map<String, Value>,
    key: String,
    value: Value,
) -> Result<(), E> {
    match map.entry(key) {
        serde_json::map::Entry::Vacant(slot) => {
            slot.insert(value);
            Ok(())
        }
        serde_json::map::Entry::Occupied(_) => Err(E::custom(DUPLICATE)),
    }
}

/// Records member names seen at one level and rejects a repeat; cheap for the handful of members
/// a header or footer has.
#[derive(Default)]
pub(crate) struct SeenNames(Vec<String>);

impl SeenNames {
    pub(crate) fn check<E: de::Error>(&mut self, name: &str) -> Result<(), E> {
        if self.0.iter().any(|n| n == name) {
            return Err(E::custom(DUPLICATE));
        }
        self.0.push(name.to_owned());
        Ok(())
    }
}

/// Reads a known member's value once: a second occurrence is a duplicate.
pub(crate) fn set_once<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(DUPLICATE));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a small JSON object (a JOSE header, a PASETO footer) of which only string members named
/// in `known` matter. Known members must be strings of at most `max_len` bytes; a member named in
/// `forbidden` is an error ([`FORBIDDEN_HEADER`]); every other member is read strictly and dropped.
/// Values borrow from `bytes` when they contain no escapes.
pub(crate) fn read_string_members<'de, const N: usize>(
    bytes: &'de [u8],
    known: [&'static str; N],
    forbidden: &'static [&'static str],
    max_len: usize,
) -> Result<[Option<Cow<'de, str>>; N]> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let out = MembersSeed {
        known,
        forbidden,
        max_len,
    }
    .deserialize(&mut de)
    .map_err(malformed)?;
    de.end().map_err(malformed)?;
    Ok(out)
}

struct MembersSeed<const N: usize> {
    known: [&'static str; N],
    forbidden: &'static [&'static str],
    max_len: usize,
}

impl<'de, const N: usize> DeserializeSeed<'de> for MembersSeed<N> {
    type Value = [Option<Cow<'de, str>>; N];
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for MembersSeed<N> {
    type Value = [Option<Cow<'de, str>>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: [Option<Cow<'de, str>>; N] = std::array::from_fn(|_| None);
        let mut seen = SeenNames::default();
        while let Some(name) = map.next_key::<CowStr<'de>>()? {
            let name = name.0;
            if self.forbidden.contains(&&*name) {
                return Err(de::Error::custom(FORBIDDEN_HEADER));
            }
            match self.known.iter().position(|k| *k == name) {
                Some(i) => {
                    let v = map.next_value::<CowStr<'de>>()?.0;
                    if v.len() > self.max_len {
                        return Err(de::Error::custom(BAD_STRING));
                    }
                    set_once(&mut out[i], v)?;
                }
                None => {
                    seen.check(&name)?;
                    map.next_value_seed(StrictValue { depth: 1 })?;
                }
            }
        }
        Ok(out)
    }
}

/// A string that borrows from the input when it can; any other JSON type is [`BAD_STRING`].
struct CowStr<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<CowStr<'de>, E> {
                Err(E::custom(BAD_STRING))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<CowStr<'de>, E> {
                Err(E::custom(BAD_STRING))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<CowStr<'de>, E> {
                Err(E::custom(BAD_STRING))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<CowStr<'de>, E> {
                Err(E::custom(BAD_STRING))
            }
            fn visit_unit<E: de::Error>(self) -> Result<CowStr<'de>, E> {
                Err(E::custom(BAD_STRING))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<CowStr<'de>, A::Error> {
                Err(de::Error::custom(BAD_STRING))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<CowStr<'de>, A::Error> {
                Err(de::Error::custom(BAD_STRING))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json() {
        let v = parse_strict(br#"{"a":[1,2.5,{"b":null}],"c":"d","e":true}"#).unwrap();
        assert_eq!(v["a"][2]["b"], Value::Null);
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        for bad in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"x":[{"k":1,"k":2}]}"#,
            r#"{"a":1,"\u0061":2}"#,
        ] {
            assert_eq!(
                parse_strict(bad.as_bytes()).unwrap_err(),
                Error::Malformed(DUPLICATE),
                "{bad}"
            );
        }
    }

    #[test]
    fn bounds_depth() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_strict(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            parse_strict(deep.as_bytes()).unwrap_err(),
            Error::Malformed(TOO_DEEP)
        );
        let very_deep = "[".repeat(100_000);
        assert!(parse_strict(very_deep.as_bytes()).is_err());
    }

    #[test]
    fn string_members() {
        let [alg, kid] = read_string_members(
            br#"{"alg":"EdDSA","x":{"y":[1]},"kid":"k\u0031"}"#,
            ["alg", "kid"],
            &["jku"],
            64,
        )
        .unwrap();
        assert!(matches!(alg, Some(Cow::Borrowed("EdDSA"))));
        assert_eq!(kid.as_deref(), Some("k1"));
        fn read(j: &str) -> Result<[Option<Cow<'_, str>>; 1]> {
            read_string_members(j.as_bytes(), ["alg"], &["jku"], 8)
        }
        assert_eq!(
            read(r#"{"alg":"a","alg":"a"}"#).unwrap_err(),
            Error::Malformed(DUPLICATE)
        );
        assert_eq!(
            read(r#"{"x":1,"x":1}"#).unwrap_err(),
            Error::Malformed(DUPLICATE)
        );
        assert_eq!(
            read(r#"{"jku":"https://x"}"#).unwrap_err(),
            Error::Malformed(FORBIDDEN_HEADER)
        );
        assert_eq!(
            read(r#"{"alg":1}"#).unwrap_err(),
            Error::Malformed(BAD_STRING)
        );
        assert_eq!(
            read(r#"{"alg":"123456789"}"#).unwrap_err(),
            Error::Malformed(BAD_STRING)
        );
        assert_eq!(read("[]").unwrap_err().kind(), "malformed");
        assert_eq!(read("{}").unwrap(), [None]);
    }

    #[test]
    fn rejects_trailing_garbage_and_bad_text() {
        for bad in [&b"{} x"[..], b"{", b"", b"\xff", b"{\"a\":1,}"] {
            assert_eq!(parse_strict(bad).unwrap_err().kind(), "malformed");
        }
    }
}
