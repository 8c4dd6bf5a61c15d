//! Time claims on the wire: NumericDate integers in JWT (RFC 7519 §2), RFC 3339 strings in PASETO.
//!
//! Reading is strict on purpose: a JWT `exp` that is a string, a float, negative or absurdly large
//! is an error, never "no exp" (CVE-2026-25537 in jsonwebtoken < 10.3 treated a string `exp` as
//! absent).

use std::fmt;

use serde::de::{self, DeserializeSeed, Visitor};

use crate::clock::{MAX_TIMESTAMP, Timestamp};
use crate::encoding::json::{NOT_INTEGER, NOT_RFC3339, OUT_OF_RANGE};
use crate::keys::Format;

/// How a format writes instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeEncoding {
    /// Integer seconds since the epoch (JWT).
    NumericDate,
    /// RFC 3339 text (PASETO).
    Rfc3339,
}

impl TimeEncoding {
    /// The encoding `format` uses.
    pub(crate) fn of(format: Format) -> TimeEncoding {
        match format {
            Format::Jwt => TimeEncoding::NumericDate,
            Format::V4Public | Format::V4Local => TimeEncoding::Rfc3339,
        }
    }

    pub(crate) fn to_json(self, t: Timestamp) -> serde_json::Value {
        match self {
            TimeEncoding::NumericDate => serde_json::Value::from(t.as_unix()),
            TimeEncoding::Rfc3339 => serde_json::Value::String(t.to_rfc3339()),
        }
    }
}

/// Reads one time claim in the given encoding.
#[derive(Clone, Copy)]
pub(crate) struct TimeSeed(pub(crate) TimeEncoding);

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = Timestamp;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Timestamp, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TimeSeed {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            TimeEncoding::NumericDate => f.write_str("an integer NumericDate"),
            TimeEncoding::Rfc3339 => f.write_str("an RFC 3339 string"),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        match self.0 {
            TimeEncoding::NumericDate => i64::try_from(v)
                .ok()
                .filter(|s| *s <= MAX_TIMESTAMP)
                .and_then(Timestamp::from_unix)
                .ok_or_else(|| E::custom(OUT_OF_RANGE)),
            TimeEncoding::Rfc3339 => Err(E::custom(NOT_RFC3339)),
        }
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Timestamp, E> {
        // serde_json only calls this for negative integers.
        Err(E::custom(match self.0 {
            TimeEncoding::NumericDate => OUT_OF_RANGE,
            TimeEncoding::Rfc3339 => NOT_RFC3339,
        }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        match self.0 {
            TimeEncoding::NumericDate => Err(E::custom(NOT_INTEGER)),
            TimeEncoding::Rfc3339 => {
                if v.len() > 64 {
                    return Err(E::custom(NOT_RFC3339));
                }
                let t =
                    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| E::custom(NOT_RFC3339))?;
                Timestamp::from_unix(t.unix_timestamp()).ok_or_else(|| E::custom(OUT_OF_RANGE))
            }
        }
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Timestamp, E> {
        Err(self.wrong_type())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Timestamp, E> {
        Err(self.wrong_type())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Timestamp, E> {
        Err(self.wrong_type())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Timestamp, A::Error> {
        Err(self.wrong_type())
    }
    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Timestamp, A::Error> {
        Err(self.wrong_type())
    }
}

impl TimeSeed {
    fn wrong_type<E: de::Error>(self) -> E {
        E::custom(match self.0 {
            TimeEncoding::NumericDate => NOT_INTEGER,
            TimeEncoding::Rfc3339 => NOT_RFC3339,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(enc: TimeEncoding, json: &str) -> Result<i64, &'static str> {
        let mut de = serde_json::Deserializer::from_str(json);
        TimeSeed(enc)
            .deserialize(&mut de)
            .map(Timestamp::as_unix)
            .map_err(|e| crate::encoding::json::reason(&e))
    }

    #[test]
    fn numeric_date_is_strict() {
        use TimeEncoding::NumericDate as N;
        assert_eq!(read(N, "1700000000"), Ok(1_700_000_000));
        assert_eq!(read(N, "0"), Ok(0));
        assert_eq!(read(N, "253402300799"), Ok(MAX_TIMESTAMP));
        assert_eq!(read(N, "253402300800"), Err(OUT_OF_RANGE));
        assert_eq!(read(N, "18446744073709551615"), Err(OUT_OF_RANGE));
        assert_eq!(read(N, "-1"), Err(OUT_OF_RANGE));
        for bad in [
            "1.5",
            "1700000000.0",
            "1e9",
            "1e308",
            "\"1700000000\"",
            "null",
            "true",
            "[1]",
            "{}",
            "99999999999999999999999",
        ] {
            assert_eq!(read(N, bad), Err(NOT_INTEGER), "{bad}");
        }
    }

    #[test]
    fn rfc3339_is_strict() {
        use TimeEncoding::Rfc3339 as R;
        assert_eq!(read(R, "\"2023-11-14T22:13:20Z\""), Ok(1_700_000_000));
        assert_eq!(read(R, "\"2023-11-14T22:13:20+00:00\""), Ok(1_700_000_000));
        for bad in [
            "1700000000",
            "\"2023-11-14\"",
            "\"yesterday\"",
            "null",
            "-5",
        ] {
            assert_eq!(read(R, bad), Err(NOT_RFC3339), "{bad}");
        }
        assert_eq!(read(R, "\"1969-12-31T23:59:59Z\""), Err(OUT_OF_RANGE));
    }
}
