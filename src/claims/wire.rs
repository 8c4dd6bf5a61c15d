//! Claims to and from JSON, in one strict pass.
//!
//! Reading: one `serde` pass over the payload. Registered claims are matched by name without
//! allocating and read into their types (duplicates rejected); every other member is read with
//! [`StrictValue`] (duplicates at any depth and excess depth rejected) into a map from which the
//! custom claims type is then built.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::time_claim::{TimeEncoding, TimeSeed};
use super::{
    Audience, Claims, MAX_AUDIENCES, MAX_NAME_LEN, MAX_URI_LEN, REGISTERED, SessionId, StatusRef,
    TokenId, valid_id,
};
use crate::clock::Timestamp;
use crate::encoding::b64;
use crate::encoding::json::{
    self as strict, BAD_AUDIENCE, BAD_STRING, MAX_DEPTH, NOT_OBJECT, StrictValue, insert_unique,
    set_once,
};
use crate::error::{Error, Result};
use crate::keys::Format;

impl<C: Serialize> Claims<C> {
    /// The claims as JSON, with time claims in `enc`.
    pub(crate) fn to_json(&self, enc: TimeEncoding) -> Result<Vec<u8>> {
        let custom = custom_members(&self.custom)?;
        let mut out = Vec::with_capacity(256);
        let mut ser = serde_json::Serializer::new(&mut out);
        let write = |ser: &mut serde_json::Serializer<&mut Vec<u8>>| -> serde_json::Result<()> {
            let mut m = ser.serialize_map(None)?;
            if let Some(iss) = &self.iss {
                m.serialize_entry("iss", iss)?;
            }
            m.serialize_entry("sub", &self.sub)?;
            match &self.aud {
                Some(Audience::One(a)) => m.serialize_entry("aud", a)?,
                Some(Audience::Many(all)) => m.serialize_entry("aud", all)?,
                None => {}
            }
            m.serialize_entry("exp", &enc.to_json(self.exp))?;
            if let Some(nbf) = self.nbf {
                m.serialize_entry("nbf", &enc.to_json(nbf))?;
            }
            m.serialize_entry("iat", &enc.to_json(self.iat))?;
            m.serialize_entry("jti", self.jti.as_str())?;
            if let Some(sid) = &self.sid {
                m.serialize_entry("sid", sid.as_str())?;
            }
            if let Some(t) = self.auth_time {
                m.serialize_entry("auth_time", &enc.to_json(t))?;
            }
            if let Some(jkt) = &self.cnf_jkt {
                m.serialize_entry("cnf", &serde_json::json!({ "jkt": jkt }))?;
            }
            if let Some(st) = &self.status {
                let list = serde_json::json!({ "status_list": { "idx": st.idx, "uri": st.uri } });
                m.serialize_entry("status", &list)?;
            }
            for (k, v) in &custom {
                m.serialize_entry(k, v)?;
            }
            m.end()
        };
        write(&mut ser).map_err(|_| Error::Config("claims could not be serialized".into()))?;
        Ok(out)
    }

    /// The claims as a JSON object, with time claims written the way `format` writes them
    /// (NumericDate integers for JWT, RFC 3339 strings for PASETO): what such a token carries.
    pub fn to_json_value(&self, format: Format) -> Result<Value> {
        let enc = TimeEncoding::of(format);
        serde_json::from_slice(&self.to_json(enc)?)
            .map_err(|_| Error::Config("claims could not be serialized".into()))
    }
}

/// The custom claims as JSON members, checked: an object, no registered names, readable back
/// (depth within bounds).
pub(crate) fn custom_members<C: Serialize>(custom: &C) -> Result<Map<String, Value>> {
    let v = serde_json::to_value(custom)
        .map_err(|e| Error::Config(format!("custom claims do not serialize: {e}")))?;
    let map = match v {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => {
            return Err(Error::Config(
                "custom claims must serialize to a JSON object".into(),
            ));
        }
    };
    if let Some(k) = map.keys().find(|k| REGISTERED.contains(&k.as_str())) {
        return Err(Error::Config(format!(
            "custom claim `{k}` collides with a registered claim"
        )));
    }
    if map.values().any(|v| depth(v) > MAX_DEPTH - 1) {
        return Err(Error::Config(format!(
            "custom claims nest deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(map)
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Claims as read, before the required ones are checked; members that are not registered claims
/// are kept as strict JSON until the custom claims type is built from them.
pub(crate) struct RawClaims {
    registered: Registered,
    extra: Map<String, Value>,
}

impl RawClaims {
    /// Reads claims JSON strictly, with time claims in `enc`.
    pub(crate) fn read(bytes: &[u8], enc: TimeEncoding) -> Result<RawClaims> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let (registered, extra) = ClaimsSeed { enc }
            .deserialize(&mut de)
            .map_err(strict::malformed)?;
        de.end().map_err(strict::malformed)?;
        Ok(RawClaims { registered, extra })
    }

    /// The claims, once `sub`, `exp`, `iat` and `jti` are known to be present; custom claims
    /// still as JSON members.
    pub(crate) fn require(self) -> Result<Claims<Map<String, Value>>> {
        let r = self.registered;
        Ok(Claims {
            exp: r.exp.ok_or(Error::MissingClaim("exp"))?,
            sub: r.sub.ok_or(Error::MissingClaim("sub"))?,
            iat: r.iat.ok_or(Error::MissingClaim("iat"))?,
            jti: r.jti.ok_or(Error::MissingClaim("jti"))?,
            iss: r.iss,
            aud: r.aud,
            nbf: r.nbf,
            sid: r.sid,
            auth_time: r.auth_time,
            status: r.status,
            cnf_jkt: r.cnf_jkt,
            custom: self.extra,
        })
    }
}

impl Claims<Map<String, Value>> {
    /// Builds the custom claims type from the remaining members.
    pub(crate) fn into_typed<C: DeserializeOwned>(self) -> Result<Claims<C>> {
        let custom = C::deserialize(Value::Object(self.custom))
            .map_err(|_| Error::Malformed("custom claims do not match the expected type"))?;
        Ok(Claims {
            iss: self.iss,
            sub: self.sub,
            aud: self.aud,
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            jti: self.jti,
            sid: self.sid,
            auth_time: self.auth_time,
            status: self.status,
            cnf_jkt: self.cnf_jkt,
            custom,
        })
    }
}

/// The registered claims of one payload, each at most once.
#[derive(Default)]
struct Registered {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<Timestamp>,
    nbf: Option<Timestamp>,
    iat: Option<Timestamp>,
    jti: Option<TokenId>,
    sid: Option<SessionId>,
    auth_time: Option<Timestamp>,
    status: Option<StatusRef>,
    status_seen: bool,
    cnf_jkt: Option<String>,
    cnf_seen: bool,
}

/// `cnf`: an object; its `jkt`, when present, a base64url SHA-256 thumbprint (43 characters).
/// Other confirmation methods are ignored.
fn read_cnf(v: Value) -> std::result::Result<Option<String>, &'static str> {
    let Value::Object(cnf) = v else {
        return Err("cnf is not an object");
    };
    match cnf.get("jkt") {
        None => Ok(None),
        Some(Value::String(j)) if j.len() == 43 && b64::decode(j).is_ok_and(|b| b.len() == 32) => {
            Ok(Some(j.clone()))
        }
        Some(_) => Err("cnf.jkt is not a SHA-256 thumbprint"),
    }
}

/// `status`: an object; when it holds `status_list`, that must be `{"idx": integer >= 0,
/// "uri": string}` (other members of `status`, other mechanisms, are ignored).
fn read_status(v: Value) -> std::result::Result<Option<StatusRef>, &'static str> {
    const BAD: &str = "status.status_list is {idx: a non-negative integer, uri: a string}";
    let Value::Object(mut status) = v else {
        return Err("status is not an object");
    };
    let Some(list) = status.remove("status_list") else {
        return Ok(None);
    };
    let Value::Object(list) = list else {
        return Err(BAD);
    };
    let idx = list.get("idx").and_then(Value::as_u64).ok_or(BAD)?;
    let uri = list.get("uri").and_then(Value::as_str).ok_or(BAD)?;
    if uri.is_empty() || uri.len() > MAX_URI_LEN || idx > u64::from(u32::MAX) {
        return Err(BAD);
    }
    Ok(Some(StatusRef {
        idx,
        uri: uri.to_owned(),
    }))
}

struct ClaimsSeed {
    enc: TimeEncoding,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed {
    type Value = (Registered, Map<String, Value>);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed {
    type Value = (Registered, Map<String, Value>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = Registered::default();
        let mut extra = Map::new();
        let inner = StrictValue { depth: 1 };
        let time = TimeSeed(self.enc);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Iss => set_once(&mut r.iss, map.next_value_seed(Name)?)?,
                Field::Sub => set_once(&mut r.sub, map.next_value_seed(Name)?)?,
                Field::Aud => set_once(&mut r.aud, map.next_value_seed(AudSeed)?)?,
                Field::Exp => set_once(&mut r.exp, map.next_value_seed(time)?)?,
                Field::Nbf => set_once(&mut r.nbf, map.next_value_seed(time)?)?,
                Field::Iat => set_once(&mut r.iat, map.next_value_seed(time)?)?,
                Field::AuthTime => set_once(&mut r.auth_time, map.next_value_seed(time)?)?,
                Field::Jti => {
                    let id = map.next_value_seed(Ident)?;
                    set_once(&mut r.jti, TokenId(id.into()))?
                }
                Field::Sid => {
                    let id = map.next_value_seed(Ident)?;
                    set_once(&mut r.sid, SessionId(id.into()))?
                }
                Field::Cnf => {
                    let v = map.next_value_seed(inner)?;
                    let jkt = read_cnf(v).map_err(de::Error::custom)?;
                    if r.cnf_seen {
                        return Err(de::Error::custom(strict::DUPLICATE));
                    }
                    r.cnf_seen = true;
                    r.cnf_jkt = jkt;
                }
                Field::Status => {
                    let v = map.next_value_seed(inner)?;
                    let st = read_status(v).map_err(de::Error::custom)?;
                    if r.status_seen {
                        return Err(de::Error::custom(strict::DUPLICATE));
                    }
                    r.status_seen = true;
                    r.status = st;
                }
                Field::Other(name) => {
                    let v = map.next_value_seed(inner)?;
                    insert_unique(&mut extra, name, v)?;
                }
            }
        }
        Ok((r, extra))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(NOT_OBJECT))
    }
}

/// A member name of the claims object; registered names without allocating.
enum Field {
    Iss,
    Sub,
    Aud,
    Exp,
    Nbf,
    Iat,
    Jti,
    Sid,
    AuthTime,
    Status,
    Cnf,
    Other(String),
}

impl Field {
    fn known(name: &str) -> Option<Field> {
        // Most registered names are three bytes: compared as one integer each, not by memcmp
        // (this runs for every member of every token).
        if let Ok(three) = <[u8; 3]>::try_from(name.as_bytes()) {
            return Some(match &three {
                b"iss" => Field::Iss,
                b"sub" => Field::Sub,
                b"aud" => Field::Aud,
                b"exp" => Field::Exp,
                b"nbf" => Field::Nbf,
                b"iat" => Field::Iat,
                b"jti" => Field::Jti,
                b"sid" => Field::Sid,
                b"cnf" => Field::Cnf,
                _ => return None,
            });
        }
        match name {
            "auth_time" => Some(Field::AuthTime),
            "status" => Some(Field::Status),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(Field::known(v).unwrap_or_else(|| Field::Other(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Field, E> {
                Ok(Field::known(&v).unwrap_or(Field::Other(v)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// Reads a string value accepted by `accept`, else fails with [`BAD_STRING`].
struct StrSeed<F>(F, PhantomData<fn()>);

impl<'de, F: Fn(&str) -> bool> DeserializeSeed<'de> for StrSeed<F> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Fn(&str) -> bool> Visitor<'de> for StrSeed<F> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if (self.0)(v) {
            Ok(v.to_owned())
        } else {
            Err(E::custom(BAD_STRING))
        }
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<String, E> {
        Err(E::custom(BAD_STRING))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
        Err(E::custom(BAD_STRING))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(E::custom(BAD_STRING))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<String, E> {
        Err(E::custom(BAD_STRING))
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(E::custom(BAD_STRING))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom(BAD_STRING))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom(BAD_STRING))
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME_LEN
}

/// `sub`, `iss` and `aud` entries: non-empty strings of at most [`MAX_NAME_LEN`] bytes.
#[derive(Clone, Copy)]
struct Name;
impl<'de> DeserializeSeed<'de> for Name {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        StrSeed(valid_name, PhantomData).deserialize(d)
    }
}

/// `jti` and `sid`: 1 to 128 visible ASCII characters.
#[derive(Clone, Copy)]
struct Ident;
impl<'de> DeserializeSeed<'de> for Ident {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        StrSeed(valid_id, PhantomData).deserialize(d)
    }
}

/// `aud`: a string, or a non-empty array of at most [`MAX_AUDIENCES`] strings.
struct AudSeed;

impl<'de> DeserializeSeed<'de> for AudSeed {
    type Value = Audience;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Audience, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AudSeed {
    type Value = Audience;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
        if valid_name(v) {
            Ok(Audience::One(v.to_owned()))
        } else {
            Err(E::custom(BAD_AUDIENCE))
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
        let mut all = Vec::new();
        while let Some(a) = seq
            .next_element_seed(Name)
            .map_err(|_| de::Error::custom(BAD_AUDIENCE))?
        {
            if all.len() == MAX_AUDIENCES {
                return Err(de::Error::custom(BAD_AUDIENCE));
            }
            all.push(a);
        }
        if all.is_empty() {
            return Err(de::Error::custom(BAD_AUDIENCE));
        }
        Ok(Audience::Many(all))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Audience, E> {
        Err(E::custom(BAD_AUDIENCE))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Audience, E> {
        Err(E::custom(BAD_AUDIENCE))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Audience, E> {
        Err(E::custom(BAD_AUDIENCE))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Audience, E> {
        Err(E::custom(BAD_AUDIENCE))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Audience, E> {
        Err(E::custom(BAD_AUDIENCE))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Audience, A::Error> {
        Err(de::Error::custom(BAD_AUDIENCE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::NoCustomClaims;
    use crate::encoding::json::{DUPLICATE, NOT_INTEGER, TOO_DEEP};

    fn sample<C>(custom: C) -> Claims<C> {
        Claims {
            iss: Some("https://issuer".into()),
            sub: "alice".into(),
            aud: Some(Audience::Many(vec!["api".into(), "admin".into()])),
            exp: Timestamp::from_unix(1_700_000_300).unwrap(),
            nbf: Some(Timestamp::from_unix(1_700_000_000).unwrap()),
            iat: Timestamp::from_unix(1_700_000_000).unwrap(),
            jti: TokenId::random(),
            sid: Some(SessionId::random()),
            auth_time: Some(Timestamp::from_unix(1_699_999_000).unwrap()),
            status: Some(StatusRef {
                idx: 42,
                uri: "https://issuer/statuslists/1".into(),
            }),
            cnf_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
            custom,
        }
    }

    fn read<C: DeserializeOwned>(json: &str, enc: TimeEncoding) -> Result<Claims<C>> {
        RawClaims::read(json.as_bytes(), enc)?
            .require()?
            .into_typed()
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Roles {
        roles: Vec<String>,
        tenant: u32,
    }

    #[test]
    fn round_trip_both_encodings() {
        let c = sample(Roles {
            roles: vec!["admin".into()],
            tenant: 7,
        });
        for enc in [TimeEncoding::NumericDate, TimeEncoding::Rfc3339] {
            let json = c.to_json(enc).unwrap();
            let back: Claims<Roles> = read(std::str::from_utf8(&json).unwrap(), enc).unwrap();
            assert_eq!(back, c);
        }
        let jwt = String::from_utf8(c.to_json(TimeEncoding::NumericDate).unwrap()).unwrap();
        assert!(jwt.contains(r#""exp":1700000300"#), "{jwt}");
        let paseto = String::from_utf8(c.to_json(TimeEncoding::Rfc3339).unwrap()).unwrap();
        assert!(
            paseto.contains(r#""exp":"2023-11-14T22:18:20Z""#),
            "{paseto}"
        );
    }

    #[test]
    fn custom_claims_may_not_shadow_registered_ones() {
        #[derive(Serialize)]
        struct Bad {
            exp: u64,
        }
        assert_eq!(
            sample(Bad { exp: 1 })
                .to_json(TimeEncoding::NumericDate)
                .unwrap_err()
                .kind(),
            "config"
        );
        assert!(sample(5u8).to_json(TimeEncoding::NumericDate).is_err());
    }

    #[test]
    fn strict_reading() {
        use TimeEncoding::NumericDate as N;
        let base = r#""sub":"a","exp":10,"iat":1,"jti":"j""#;
        assert!(read::<NoCustomClaims>(&format!("{{{base}}}"), N).is_ok());
        let cases: &[(&str, Error)] = &[
            (
                r#"{"sub":"a","exp":10,"iat":1}"#,
                Error::MissingClaim("jti"),
            ),
            (
                r#"{"sub":"a","iat":1,"jti":"j"}"#,
                Error::MissingClaim("exp"),
            ),
            (
                r#"{"exp":10,"iat":1,"jti":"j"}"#,
                Error::MissingClaim("sub"),
            ),
            (
                &format!(r#"{{{base},"exp":11}}"#),
                Error::Malformed(DUPLICATE),
            ),
            (
                &format!(r#"{{{base},"x":1,"x":2}}"#),
                Error::Malformed(DUPLICATE),
            ),
            (
                &format!(r#"{{{base},"x":{{"y":1,"y":1}}}}"#),
                Error::Malformed(DUPLICATE),
            ),
            (
                r#"{"sub":"a","exp":"10","iat":1,"jti":"j"}"#,
                Error::Malformed(NOT_INTEGER),
            ),
            (
                r#"{"sub":"a","exp":10.5,"iat":1,"jti":"j"}"#,
                Error::Malformed(NOT_INTEGER),
            ),
            (
                r#"{"sub":1,"exp":10,"iat":1,"jti":"j"}"#,
                Error::Malformed(BAD_STRING),
            ),
            (
                r#"{"sub":"","exp":10,"iat":1,"jti":"j"}"#,
                Error::Malformed(BAD_STRING),
            ),
            (
                r#"{"sub":"a","exp":10,"iat":1,"jti":"j k"}"#,
                Error::Malformed(BAD_STRING),
            ),
            (
                &format!(r#"{{{base},"aud":[]}}"#),
                Error::Malformed(BAD_AUDIENCE),
            ),
            (
                &format!(r#"{{{base},"aud":[1]}}"#),
                Error::Malformed(BAD_AUDIENCE),
            ),
            (
                &format!(r#"{{{base},"aud":{{}}}}"#),
                Error::Malformed(BAD_AUDIENCE),
            ),
            ("[]", Error::Malformed(NOT_OBJECT)),
            ("\"x\"", Error::Malformed(NOT_OBJECT)),
        ];
        for (json, want) in cases {
            assert_eq!(
                read::<NoCustomClaims>(json, N).unwrap_err(),
                *want,
                "{json}"
            );
        }
        let deep = format!(r#"{{{base},"x":{}1{}}}"#, "[".repeat(20), "]".repeat(20));
        assert_eq!(
            read::<NoCustomClaims>(&deep, N).unwrap_err(),
            Error::Malformed(TOO_DEEP)
        );
        let many_aud: Vec<String> = (0..33).map(|i| format!("\"a{i}\"")).collect();
        let json = format!(r#"{{{base},"aud":[{}]}}"#, many_aud.join(","));
        assert_eq!(
            read::<NoCustomClaims>(&json, N).unwrap_err(),
            Error::Malformed(BAD_AUDIENCE)
        );
    }

    #[test]
    fn custom_type_mismatch_is_malformed() {
        let json = r#"{"sub":"a","exp":10,"iat":1,"jti":"j","roles":"admin","tenant":1}"#;
        assert_eq!(
            read::<Roles>(json, TimeEncoding::NumericDate)
                .unwrap_err()
                .kind(),
            "malformed"
        );
    }

    #[test]
    fn the_status_claim_reads_strictly() {
        let base = r#""sub":"a","exp":1700000300,"iat":1700000000,"jti":"AAAAAAAAAAAAAAAAAAAAAA""#;
        let ok = |status: &str| {
            read::<NoCustomClaims>(
                &format!("{{{base},\"status\":{status}}}"),
                TimeEncoding::NumericDate,
            )
        };
        let c = ok(r#"{"status_list":{"idx":7,"uri":"https://x/1"}}"#).unwrap();
        assert_eq!(
            c.status(),
            Some(&StatusRef {
                idx: 7,
                uri: "https://x/1".into()
            })
        );
        // Another mechanism only: no status list.
        assert_eq!(ok(r#"{"other":{"x":1}}"#).unwrap().status(), None);
        for bad in [
            r#"[]"#,
            r#"{"status_list":1}"#,
            r#"{"status_list":{"idx":-1,"uri":"https://x"}}"#,
            r#"{"status_list":{"idx":1.5,"uri":"https://x"}}"#,
            r#"{"status_list":{"idx":4294967296,"uri":"https://x"}}"#,
            r#"{"status_list":{"idx":1}}"#,
            r#"{"status_list":{"idx":1,"uri":""}}"#,
            r#"{"status_list":{"idx":1,"uri":7}}"#,
        ] {
            assert_eq!(ok(bad).unwrap_err().kind(), "malformed", "{bad}");
        }
        let twice = format!("{{{base},\"status\":{{}},\"status\":{{}}}}");
        assert!(read::<NoCustomClaims>(&twice, TimeEncoding::NumericDate).is_err());
        // Written and read back.
        let c = sample(NoCustomClaims {});
        let json = c.to_json(TimeEncoding::NumericDate).unwrap();
        let back: Claims<NoCustomClaims> = read(
            std::str::from_utf8(&json).unwrap(),
            TimeEncoding::NumericDate,
        )
        .unwrap();
        assert_eq!(back.status(), c.status());
    }
}
