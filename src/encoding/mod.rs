//! Strict codecs shared by every stage: base64url and I-JSON with bounded depth.

pub(crate) mod b64;
pub(crate) mod json;
