//! # keycard
//!
//! Stateless, signed-token sessions for web APIs: short-lived access tokens as **JWT** or
//! **PASETO v4** (`v4.public`, `v4.local`), a key ring with rotation, and one strict verifier for
//! all three formats that can never confuse one for another.
//!
//! ```
//! use std::sync::Arc;
//! use keycard::{Algorithm, Format, Issuer, KeyRing, Verifier};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug)]
//! struct Roles { roles: Vec<String> }
//!
//! // Keys: one active signing key per format; rotate any time.
//! let keys = Arc::new(KeyRing::new());
//! keys.rotate(Algorithm::EdDSA)?;
//! keys.rotate(Algorithm::V4Local)?;
//!
//! // Mint.
//! let issuer = Issuer::new(keys.clone()).with_issuer("https://auth.example").with_audience("api");
//! let roles = Roles { roles: vec!["admin".into()] };
//! let jwt = issuer.access("alice").claims(&roles).mint()?;
//! let local = issuer.access("alice").claims(&roles).format(Format::V4Local).mint()?;
//!
//! // Verify: one call, whatever the format; the algorithm comes from the key, never the token.
//! let verifier = Verifier::new(keys).with_issuer("https://auth.example").with_audience("api");
//! let ok = verifier.verify_access::<Roles>(jwt.as_str())?;
//! assert_eq!(ok.subject(), "alice");
//! assert_eq!(ok.claims().custom().roles, ["admin"]);
//! assert!(verifier.verify_access::<Roles>(local.as_str()).is_ok());
//!
//! // Tampering is caught, with a stable error code.
//! let mut forged = jwt.as_str().to_owned();
//! forged.pop();
//! forged.push(if jwt.as_str().ends_with('A') { 'B' } else { 'A' });
//! let err = verifier.verify_access::<Roles>(&forged).unwrap_err();
//! assert!(["bad_signature", "malformed"].contains(&err.kind()));
//! # Ok::<(), keycard::Error>(())
//! ```
//!
//! ## Where things are
//! Data flows one way, and the modules follow it: [`keys`] → [`claims`] → wire formats (JWT,
//! PASETO) → [`Issuer`] / [`Verifier`]. [`error`] and [`clock`] are leaves every module uses.
//! [`dangerous`] holds the audited escape hatches (decoding without verifying).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::mem_forget)]

mod atomic_file;
pub mod claims;
pub mod clock;
pub mod dangerous;
pub mod dpop;
mod encoding;
pub mod error;
#[cfg(feature = "jwks-remote")]
mod fetch;
pub mod file_lock;
mod format;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "axum")]
pub mod http;
mod issue;
mod keycard;
pub mod keys;
pub mod refresh;
pub mod revocation;
#[cfg(feature = "status-list")]
pub mod status;
pub mod stores;
mod verify;

pub use claims::{
    Access, AccessToken, Audience, Claims, NoCustomClaims, Refresh, RefreshToken, SessionId,
    StatusRef, Token, TokenId, TokenKind,
};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{Error, Result};
pub use issue::{Issuer, MintRequest};
pub use keycard::{AnomalyPolicy, Keycard, KeycardBuilder, TokenPair};
pub use keys::{Algorithm, Format, Key, KeyPurpose, KeyRing, Kid};
pub use refresh::LimitPolicy;
pub use verify::{RevocationCheck, TokenFacts, Verified, Verifier};

/// The deepest JSON nesting accepted anywhere in a token.
pub const MAX_JSON_DEPTH: usize = encoding::json::MAX_DEPTH;

/// The README's example, compiled and run as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
