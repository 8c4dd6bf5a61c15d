//! Escape hatches that skip verification, named so that `grep dangerous` finds every use.
//!
//! Nothing returned here may be trusted: it is what the token *says*, not what a key vouches for.
//! It exists for debugging (`keycard inspect`) and for logging which key a rejected token named.

use serde_json::Value;

use crate::encoding::{b64, json};
use crate::error::{Error, Result};
use crate::format;
use crate::keys::Format;

/// The largest token [`inspect_unverified`] reads.
pub const MAX_INSPECT_BYTES: usize = 64 * 1024;

/// What a token says about itself, unverified.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Inspection {
    /// The token's format.
    pub format: Format,
    /// The JOSE header (JWT) or the footer (PASETO; `Null` when absent or not JSON).
    pub header: Value,
    /// The claims; `None` for `v4.local`, whose payload is encrypted.
    pub claims: Option<Value>,
}

/// Decodes a token's header or footer and claims **without verifying anything**.
///
/// Parsing is as strict as verification (strict base64url, I-JSON, bounded depth), so a token
/// the verifier would call malformed is malformed here too.
pub fn inspect_unverified(token: &str) -> Result<Inspection> {
    if token.len() > MAX_INSPECT_BYTES {
        return Err(Error::TokenTooLarge {
            size: token.len(),
            limit: MAX_INSPECT_BYTES,
        });
    }
    let format = format::detect(token)?;
    match format {
        Format::Jwt => {
            let mut parts = token.split('.');
            let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
                return Err(Error::Malformed("a JWT has exactly three segments"));
            };
            Ok(Inspection {
                format,
                header: json::parse_strict(&b64::decode(h)?)?,
                claims: Some(json::parse_strict(&b64::decode(p)?)?),
            })
        }
        Format::V4Public | Format::V4Local => {
            let prefix = if format == Format::V4Public {
                "v4.public."
            } else {
                "v4.local."
            };
            let rest = &token[prefix.len()..];
            let (body, footer) = rest.split_once('.').unwrap_or((rest, ""));
            let footer = b64::decode(footer)?;
            let header = if footer.is_empty() {
                Value::Null
            } else {
                json::parse_strict(&footer).unwrap_or(Value::Null)
            };
            let body = b64::decode(body)?;
            // v4.public: payload then a 64-byte signature; v4.local: a 32-byte nonce, the
            // ciphertext, a 32-byte tag. Either way at least one payload byte past 64.
            if body.len() <= 64 {
                return Err(Error::Malformed("PASETO body too short"));
            }
            let claims = if format == Format::V4Public {
                Some(json::parse_strict(&body[..body.len() - 64])?)
            } else {
                None
            };
            Ok(Inspection {
                format,
                header,
                claims,
            })
        }
    }
}
