//! The Status List Token (JWT form): minted by the issuer, verified by whoever checks a token's
//! status.

use std::time::Duration;

use serde_json::{Value, json};

use super::{STATUS_LIST_TYP, StatusBits};
use crate::clock::Timestamp;
use crate::encoding::json as strict_json;
use crate::error::{Error, Result};
use crate::format::jwt::{self, Typ};
use crate::format::{self};
use crate::keys::{Format, Key, KeyPurpose};
use crate::verify::Verifier;

/// A verified Status List Token.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StatusList {
    /// The statuses.
    pub bits: StatusBits,
    /// `sub`: the list's URI.
    pub uri: String,
    /// `iat`.
    pub issued_at: Timestamp,
    /// `exp`, when present.
    pub expires_at: Option<Timestamp>,
    /// `ttl`: how long the list may be cached, when present.
    pub ttl: Option<Duration>,
}

/// Mints a Status List Token for `uri` over `bits`, signed by `key` (a JWT key that can sign):
/// `iss` when given, `iat` now, `ttl` as given, `exp` at `iat + exp_after`.
pub fn mint_status_list(
    key: &Key,
    iss: Option<&str>,
    uri: &str,
    bits: &StatusBits,
    now: Timestamp,
    ttl: Duration,
    exp_after: Duration,
) -> Result<String> {
    if key.format() != Format::Jwt || key.purpose() != KeyPurpose::Access || !key.has_secret() {
        return Err(Error::Config(
            "a Status List Token is signed with one of the issuer's own JWT signing keys".into(),
        ));
    }
    let mut claims = json!({
        "sub": uri,
        "iat": now.as_unix(),
        "exp": now.saturating_add(exp_after).as_unix(),
        "ttl": ttl.as_secs(),
        "status_list": { "bits": bits.bits(), "lst": bits.to_lst()? },
    });
    if let Some(iss) = iss {
        claims["iss"] = json!(iss);
    }
    jwt::seal_typed(key, STATUS_LIST_TYP, claims.to_string().as_bytes())
}

/// Verifies a Status List Token with `verifier`'s keys, clock and leeway, for the list at `uri`:
/// a JWT signed by a key of the ring (an issuer's own or another issuer's; never a refresh-token
/// key) whose algorithm matches, `typ: statuslist+jwt`, `sub` equal to `uri`, `iat` present and
/// not in the future, `exp` (when present) not passed, and a `status_list` of 1, 2, 4 or 8 bits
/// whose `lst` inflates to at most `max_bytes`.
pub fn verify_status_list(
    verifier: &Verifier,
    token: &str,
    uri: &str,
    max_bytes: usize,
) -> Result<StatusList> {
    if token.len() > max_bytes.saturating_mul(2).max(64 * 1024) {
        return Err(Error::TokenTooLarge {
            size: token.len(),
            limit: max_bytes.saturating_mul(2).max(64 * 1024),
        });
    }
    if format::detect(token)? != Format::Jwt {
        return Err(Error::UnsupportedFormat(
            "a Status List Token is a JWT here",
        ));
    }
    let now = verifier.clock().now();
    let keys = verifier.keys().snapshot();
    let (key, typ, payload) = jwt::open_raw(token, &keys, now)?;
    if key.purpose() == KeyPurpose::Refresh {
        return Err(Error::WrongTokenType {
            expected: "status list",
            found: "a token sealed with a refresh-token key",
        });
    }
    if typ != Typ::StatusList {
        return Err(Error::WrongTokenType {
            expected: "status list",
            found: "a JWT without typ statuslist+jwt",
        });
    }
    let claims = strict_json::parse_strict(&payload)?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(Error::MissingClaim("sub"))?;
    if sub != uri {
        return Err(Error::Malformed(
            "the status list's sub is not the URI the token names",
        ));
    }
    let time = |name: &'static str| -> Result<Option<Timestamp>> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .and_then(Timestamp::from_unix)
                .map(Some)
                .ok_or(Error::Malformed(
                    "a status list time claim is not a NumericDate",
                )),
        }
    };
    let leeway = verifier.leeway();
    let iat = time("iat")?.ok_or(Error::MissingClaim("iat"))?;
    if iat > now.saturating_add(leeway) {
        return Err(Error::IssuedInFuture { iat, now });
    }
    let exp = time("exp")?;
    if let Some(exp) = exp
        && exp.saturating_add(leeway) <= now
    {
        return Err(Error::Expired { exp, now });
    }
    let ttl = match claims.get("ttl") {
        None => None,
        Some(v) => Some(Duration::from_secs(v.as_u64().ok_or(Error::Malformed(
            "status list ttl is not a positive integer",
        ))?)),
    };
    let list = claims
        .get("status_list")
        .ok_or(Error::MissingClaim("status_list"))?;
    let bits = list
        .get("bits")
        .and_then(Value::as_u64)
        .and_then(|b| u8::try_from(b).ok())
        .ok_or(Error::Malformed("status_list.bits is 1, 2, 4 or 8"))?;
    let lst = list
        .get("lst")
        .and_then(Value::as_str)
        .ok_or(Error::Malformed("status_list.lst is a string"))?;
    Ok(StatusList {
        bits: StatusBits::from_lst(bits, lst, max_bytes)?,
        uri: uri.to_owned(),
        issued_at: iat,
        expires_at: exp,
        ttl,
    })
}
