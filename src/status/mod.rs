//! The IETF Token Status List (draft-ietf-oauth-status-list, JWT form; feature `status-list`):
//! how logouts reach services outside the Redis trust domain.
//!
//! **Issuing side** ([`Keycard`](crate::Keycard) with `status_list(uri)`): every session gets an
//! index in one list when it starts; every access token of the session carries
//! `"status": {"status_list": {"idx": N, "uri": URI}}`. A logout, a logout-all, a session delete,
//! an eviction or a detected refresh-token reuse sets the session's bit (status `0x01`,
//! INVALID). The list is published as a Status List Token: a JWT with `typ: statuslist+jwt`,
//! signed with the active JWT key, `sub` = the URI, `iat`, `exp`, `ttl`, and
//! `status_list: {"bits": 1, "lst": base64url(zlib(bytes))}`, index 0 in the least significant
//! bit of byte 0.
//!
//! **Index allocation** (what the draft leaves to the issuer):
//! - one bit per *session*, not per token: a session refreshes many times, its status is one bit;
//! - indices are drawn at random among the free ones (a uniform random start, then the first free
//!   index from there), so an index says nothing about when a session started or how many there
//!   are ("herd privacy": a verifier fetching the list learns only that *some* session among all
//!   indices changed);
//! - the list holds at least twice as many indices as sessions (it doubles when half full), so
//!   random draws stay cheap and the herd stays large; it starts at 131,072 indices (16 KiB before
//!   compression);
//! - an index is **reused only after every token that could name it has expired**: when the session
//!   ends (or, at the latest, after its absolute deadline) plus the access-token lifetime, the
//!   leeway and the list's `ttl` (so no cached list still names the old session). A live token
//!   therefore never points at another session's bit. When reused, the bit is cleared.
//!
//! Trade-offs (the draft's section on privacy and size): a larger list costs bytes on every fetch
//! but hides each session in a larger herd; a revoked bit is visible to anyone who fetches the
//! list until its index is reclaimed (it says "some session ended", never whose). Compressed, the
//! list costs little: see the README's numbers at 1M live sessions.
//!
//! **Verifying side** (feature `jwks-remote`): [`StatusListClient`] fetches and caches the lists
//! named by verified tokens (only under configured URI prefixes), within their `ttl` and a
//! refetch cooldown, refuses a token whose bit is set (`revoked`), and fails closed
//! (`revocation_unavailable`) once the list could not be fetched for longer than the maximum
//! staleness.

mod bits;
#[cfg(feature = "jwks-remote")]
mod client;
mod token;

pub use bits::StatusBits;
#[cfg(feature = "jwks-remote")]
pub use client::{StatusListClient, StatusListOptions};
pub use token::{StatusList, mint_status_list, verify_status_list};

/// The `typ` of a Status List Token (JWT form).
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
/// The media type a Status List Token is served with.
pub const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";
/// The most bytes a decompressed status list may hold (64 Mi statuses at one bit each); a
/// compressed list that inflates past it is refused (a zip bomb).
pub const MAX_LIST_BYTES: usize = 8 << 20;
