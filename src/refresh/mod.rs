//! Refresh-token rotation: session families, reuse detection, idle and absolute timeouts.
//!
//! A login starts a **family**: one server-side record per session (`sid`), holding a generation
//! counter. The family's refresh token is derived from (`sid`, generation) alone — its `jti` is a
//! hash of both, its `iat` the last rotation, its `exp` the idle deadline — so the *current*
//! refresh token can always be re-derived instead of branching (Supabase's idea). Refreshing with
//! the current token rotates: the generation goes up by one in a single compare-and-swap, which
//! retires the presented token.
//!
//! Presenting a retired token:
//! - one generation behind and within the grace interval (default 10 s): a client retrying after
//!   a lost response (`lost_response`), or two requests racing (`concurrent`, under a second
//!   apart). It receives the family's current refresh token again — never a second live one —
//!   and a fresh access token.
//! - anything else (`theft`): the whole family is revoked, access tokens included, and a
//!   `refresh_reuse_detected` event is emitted.
//!
//! The family record lives in a [`SessionStore`], declared here and implemented in
//! [`crate::stores`]; its compare-and-swap is what makes rotation atomic across threads and
//! nodes.

mod events;
mod rotation;

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use events::{
    AnomalyDecision, AnomalyInfo, EventHook, ReuseCause, RevokeReason, SessionEvent, Timeout,
};
pub(crate) use rotation::{Decision, decide, refresh_token_id};

use crate::claims::SessionId;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::revocation::Revoke;
use crate::verify::RevocationCheck;

/// What the caller knows about the client making a request; all optional, all caller-supplied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientContext {
    /// The client's IP address.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header (kept to 256 bytes).
    pub user_agent: Option<String>,
    /// A label for the device, for a "your devices" screen (kept to 64 bytes).
    pub device: Option<String>,
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

impl ClientContext {
    /// An empty context.
    pub fn new() -> ClientContext {
        ClientContext::default()
    }

    /// With the client's IP address.
    pub fn with_ip(mut self, ip: IpAddr) -> ClientContext {
        self.ip = Some(ip);
        self
    }

    /// With the `User-Agent` (truncated to 256 bytes).
    pub fn with_user_agent(mut self, ua: &str) -> ClientContext {
        self.user_agent = Some(truncate(ua, 256));
        self
    }

    /// With a device label (truncated to 64 bytes).
    pub fn with_device(mut self, label: &str) -> ClientContext {
        self.device = Some(truncate(label, 64));
        self
    }

    /// The members that differ from `remembered`, where both are known.
    pub(crate) fn changes_from(&self, remembered: &ClientContext) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if let (Some(a), Some(b)) = (&self.ip, &remembered.ip)
            && a != b
        {
            changed.push("ip");
        }
        if let (Some(a), Some(b)) = (&self.user_agent, &remembered.user_agent)
            && a != b
        {
            changed.push("user_agent");
        }
        if let (Some(a), Some(b)) = (&self.device, &remembered.device)
            && a != b
        {
            changed.push("device");
        }
        changed
    }
}

/// One session family: the server-side record behind a login.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Family {
    /// The session id (new at every login; never taken from the client).
    pub sid: SessionId,
    /// The subject.
    pub sub: String,
    /// How many times the family has rotated; the current refresh token carries this.
    pub generation: u64,
    /// When the session started.
    pub created: Timestamp,
    /// When the family last rotated (login counts as the first).
    pub rotated_at: Timestamp,
    /// The current refresh token expires here: last rotation + idle timeout, capped.
    pub idle_deadline: Timestamp,
    /// The session never lives past this: login + absolute timeout.
    pub absolute_deadline: Timestamp,
    /// When the user last proved their credentials.
    pub auth_time: Timestamp,
    /// Custom claims copied into every access token of the session.
    pub claims: Map<String, Value>,
    /// The client context seen at login.
    pub context: ClientContext,
    /// The session's index in the Token Status List, when the keycard publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u32>,
    /// The DPoP key the session is bound to (its RFC 7638 thumbprint), when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl Family {
    /// Whether the family is still usable at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.idle_deadline && now < self.absolute_deadline
    }
}

fn no_status_table() -> Error {
    Error::Config("this session store keeps no Token Status List".into())
}

/// A session as shown on a "your devices" screen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session id.
    pub sid: SessionId,
    /// When it started.
    pub created: Timestamp,
    /// When it last refreshed (its start, if never).
    pub last_refresh: Timestamp,
    /// The device label given at login, if any.
    pub device: Option<String>,
    /// The login's client context.
    pub context: ClientContext,
}

impl From<&Family> for SessionInfo {
    fn from(f: &Family) -> SessionInfo {
        SessionInfo {
            sid: f.sid.clone(),
            created: f.created,
            last_refresh: f.rotated_at,
            device: f.context.device.clone(),
            context: f.context.clone(),
        }
    }
}

/// What to do when a login would exceed the concurrent-session limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitPolicy {
    /// Refuse the new login with `session_limit`.
    Reject,
    /// Revoke the oldest session(s) to make room.
    EvictOldest,
}

/// At most `max` live sessions per subject, enforced by [`SessionStore::insert`] atomically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimit {
    /// The most live families one subject may have (at least 1).
    pub max: usize,
    /// What happens to a login beyond it.
    pub policy: LimitPolicy,
}

/// What [`SessionStore::insert`] did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Admission {
    /// The family was added; these families of the same subject were removed to make room (the
    /// caller revokes them).
    Admitted {
        /// The evicted families, oldest first.
        evicted: Vec<Family>,
    },
    /// The subject already has `max` live families and the policy is to reject: nothing changed.
    Refused,
}

/// The live families among `families` at `now`, oldest first (by creation, then sid): the order
/// in which [`LimitPolicy::EvictOldest`] evicts. Shared by every store, so they evict alike.
pub fn eviction_order(mut families: Vec<Family>, now: Timestamp) -> Vec<Family> {
    families.retain(|f| f.is_live(now));
    families.sort_by(|a, b| (a.created, &a.sid).cmp(&(b.created, &b.sid)));
    families
}

/// What [`SessionStore::compare_and_swap`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum CasOutcome {
    /// The stored generation was the expected one; the family was replaced.
    Swapped,
    /// Someone rotated first; this is the family as it is now.
    Conflict(Box<Family>),
    /// There is no such family (any more).
    Missing,
}

/// The future a [`SessionStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Where families and revocations live: the memory store (the embedded default) or a
/// distributed one (Redis), behind one trait.
///
/// Methods are async, because a distributed store is a network away; the memory store's
/// futures are ready at once, so [`Keycard`](crate::Keycard)'s blocking methods drive them
/// without a runtime. Every method is atomic on its own, across every node sharing the store.
/// Families are addressed by subject and session id: a store may keep a subject's families
/// together (the Redis store puts them in one cluster slot, so that the session limit is one
/// atomic step), and a session id presented for the wrong subject finds nothing.
pub trait SessionStore: Send + Sync + fmt::Debug {
    /// Adds a new family. With a `limit`, the subject's families live at `family.created` are
    /// counted in the same atomic step: below `limit.max` the family is added; at the limit it
    /// is refused ([`LimitPolicy::Reject`]) or the oldest live families ([`eviction_order`]) are
    /// removed to make room and returned ([`LimitPolicy::EvictOldest`]). Concurrent logins
    /// therefore never exceed the limit.
    fn insert<'a>(
        &'a self,
        family: &'a Family,
        limit: Option<SessionLimit>,
    ) -> StoreFuture<'a, Admission>;

    /// The family `sid` of `sub`, if it exists and is live.
    fn get<'a>(&'a self, sub: &'a str, sid: &'a SessionId) -> StoreFuture<'a, Option<Family>>;

    /// Replaces the family `next.sid` with `next` if and only if its stored generation is
    /// `expected_generation`, atomically with respect to every other call on any node.
    fn compare_and_swap<'a>(
        &'a self,
        expected_generation: u64,
        next: &'a Family,
    ) -> StoreFuture<'a, CasOutcome>;

    /// Removes the family `sid` of `sub` and returns it.
    fn remove<'a>(&'a self, sub: &'a str, sid: &'a SessionId) -> StoreFuture<'a, Option<Family>>;

    /// Every family of `sub`.
    fn by_subject<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, Vec<Family>>;

    /// Removes and returns the families that are no longer live at `now` (a store whose
    /// families expire by themselves, as Redis keys do, may return none).
    fn remove_expired(&self, now: Timestamp) -> StoreFuture<'_, Vec<Family>>;

    /// What verifiers consult: the local revocation list, or this node's replica of a shared one.
    fn revocations(&self) -> Arc<dyn RevocationCheck>;

    /// Revokes: in the local list, and for a distributed store on every node. Durable when it
    /// returns (for a durable list, or in the distributed store).
    fn revoke<'a>(&'a self, revocations: &'a [Revoke]) -> StoreFuture<'a, ()>;

    /// Periodic work: pruning, and for distributed stores the replica's housekeeping. Returns
    /// how many revocations were pruned.
    fn maintain(&self) -> StoreFuture<'_, usize>;

    /// DPoP (RFC 9449): records that the proof `id` was used, unless it already was, until
    /// `until`; `true` for its first use. Atomic across every node sharing the store, so a proof
    /// is accepted once. Stores that cannot remember proofs refuse (`config`).
    fn claim_once<'a>(&'a self, id: &'a str, until: Timestamp) -> StoreFuture<'a, bool> {
        let _ = (id, until);
        Box::pin(std::future::ready(Err(Error::Config(
            "this session store cannot remember DPoP proofs".into(),
        ))))
    }

    /// Token Status List: the name of this store's list, the last segment of its URI. A store
    /// whose status table survives restarts and is shared by every node (Redis) keeps one name;
    /// one whose table lives in a process (memory) takes a new random name each time it is
    /// created, so tokens minted before a restart name a list no longer served (a verifier then
    /// fails closed) instead of indices the new table may give to other sessions.
    fn status_list_id(&self) -> String {
        "1".to_owned()
    }

    /// Token Status List: takes a free index for a new session, drawn from `random` (a uniform
    /// random start, then the first free index), reusable from `reclaim_at` on; its bit is clear.
    /// No two sessions hold one index at once. Stores without a status table refuse (`config`).
    fn status_allocate(&self, random: u64, reclaim_at: Timestamp) -> StoreFuture<'_, u32> {
        let _ = (random, reclaim_at);
        Box::pin(std::future::ready(Err(no_status_table())))
    }

    /// Token Status List: sets the bits of ended sessions (INVALID), each index then reusable
    /// from its time (never later than before).
    fn status_mark<'a>(&'a self, marks: &'a [(u32, Timestamp)]) -> StoreFuture<'a, ()> {
        let _ = marks;
        Box::pin(std::future::ready(Err(no_status_table())))
    }

    /// Token Status List: every index's bit, least significant bit first.
    fn status_bits(&self) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(std::future::ready(Err(no_status_table())))
    }

    /// Token Status List: frees the indices whose reclaim time has come (clearing their bits).
    fn status_reclaim(&self, now: Timestamp) -> StoreFuture<'_, usize> {
        let _ = now;
        Box::pin(std::future::ready(Err(no_status_table())))
    }

    /// Whether the blocking API may drive this store from the current thread. A store whose
    /// futures need an async runtime refuses (`config`) where blocking would stall one.
    fn check_blocking(&self) -> Result<()> {
        Ok(())
    }
}

/// The claims keycard puts into its refresh tokens besides the registered ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefreshClaims {
    /// The family generation this token redeems.
    pub(crate) g: u64,
}
