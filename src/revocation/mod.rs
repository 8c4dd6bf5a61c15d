//! The revocation list: what lets stateless tokens be logged out.
//!
//! Three kinds of entries, each with an expiry (`until`: the latest `exp` of any token it
//! revokes):
//! - a **token** (`jti`): that one token;
//! - a **session** (`sid`): every access and refresh token of the session;
//! - a **subject cutoff** (`sub` + instant): every token of the subject issued at or before the
//!   instant — "log out everywhere" (a token minted in the same second as the cutoff is revoked
//!   too; seconds are the resolution of `iat`).
//!
//! Lookups go through a bloom filter first: "certainly not revoked" — the common case — costs a few
//! bit probes and nothing else; a "maybe" is confirmed in an exact set, so a false positive of the
//! filter never reaches the caller. Ids are stored as 128-bit keys derived with a keyed hash
//! (SipHash-1-3-128 under the list's own random key), so the exact set is exact up to a 128-bit
//! collision of a keyed PRF.
//!
//! Entries are pruned once `until` plus the prune margin (default 5 minutes, at least the
//! verifier's leeway) has passed: the list holds only revocations that still matter.
//!
//! **False-positive rate under churn.** Bloom filters cannot delete. The filter is sized for twice
//! the live entries at the target rate (default 1%) whenever it is built; when additions push the
//! entry count past that capacity, or when [`RevocationList::prune`] finds expired entries, the list
//! builds a fresh filter from the live entries and swaps it in atomically. So the filter never
//! holds more entries than it was sized for, and expired entries never linger in it past a prune.
//!
//! **Concurrency.** Readers load an immutable snapshot (`arc-swap`) and never block on writers in
//! the common case; writers are serialized, and rebuilds happen on a writer's thread.

pub(crate) mod codec;
mod journal;
mod table;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::claims::{SessionId, TokenId};
use crate::clock::{SharedClock, SystemClock, Timestamp};
use crate::error::{Error, Result};
use crate::verify::{RevocationCheck, TokenFacts};
use table::State;

/// What a revocation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum RevocationKind {
    /// One token, by `jti`.
    Token = 1,
    /// A session, by `sid`.
    Session = 2,
    /// A subject's tokens issued at or before a cutoff, by `sub`.
    Subject = 3,
}

impl RevocationKind {
    fn from_u8(b: u8) -> Option<RevocationKind> {
        match b {
            1 => Some(RevocationKind::Token),
            2 => Some(RevocationKind::Session),
            3 => Some(RevocationKind::Subject),
            _ => None,
        }
    }
}

/// One revocation as stored and replicated: the id's key (which also encodes the kind), and its
/// times. 24 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// The id's 128-bit key; its two low bits are the kind (see [`Revocation::new`]).
    pub(crate) key: [u8; 16],
    /// Unix seconds after which (plus the margin) the entry may be pruned.
    pub(crate) until: u32,
    /// For subjects: tokens with `iat` at or before this (unix seconds) are revoked.
    pub(crate) cutoff: u32,
}

impl Revocation {
    /// An entry of `kind` under `key`: the kind replaces the key's two low bits, so entries of
    /// different kinds never share a key, and the remaining 126 bits identify the id.
    pub(crate) fn new(
        kind: RevocationKind,
        mut key: [u8; 16],
        until: u32,
        cutoff: u32,
    ) -> Revocation {
        key[15] = (key[15] & !3) | kind as u8;
        Revocation { key, until, cutoff }
    }

    /// What it covers.
    pub fn kind(&self) -> RevocationKind {
        RevocationKind::from_u8(self.key[15] & 3).unwrap_or(RevocationKind::Token)
    }

    /// When it stops mattering (the latest `exp` of a token it revokes).
    pub fn until(&self) -> Timestamp {
        Timestamp::from_unix(i64::from(self.until)).unwrap_or(Timestamp::EPOCH)
    }

    /// Two revocations of the same id combined: the later expiry and the later cutoff.
    fn merged(self, other: Revocation) -> Revocation {
        Revocation {
            until: self.until.max(other.until),
            cutoff: self.cutoff.max(other.cutoff),
            ..self
        }
    }
}

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocation")
            .field("kind", &self.kind())
            .field("until", &self.until())
            .finish_non_exhaustive()
    }
}

/// A revocation as a request: what to revoke, by its id, and until when. This is what a session
/// store replicates between nodes (every node derives its own entry keys from the ids), and what
/// [`RevocationList::revoke`] applies.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revoke {
    /// One token, by `jti`, until its `exp`.
    Token {
        /// The token's id.
        jti: TokenId,
        /// Its expiry.
        until: Timestamp,
    },
    /// Every token of a session, until the session's absolute deadline.
    Session {
        /// The session.
        sid: SessionId,
        /// The latest `exp` any of its tokens can have.
        until: Timestamp,
    },
    /// Every token of a subject issued at or before `issued_before` ("log out everywhere").
    Subject {
        /// The subject.
        sub: String,
        /// The cutoff: tokens with `iat` at or before it are revoked.
        issued_before: Timestamp,
        /// The latest `exp` any such token can have.
        until: Timestamp,
    },
}

impl Revoke {
    /// Until when it matters.
    pub fn until(&self) -> Timestamp {
        match self {
            Revoke::Token { until, .. }
            | Revoke::Session { until, .. }
            | Revoke::Subject { until, .. } => *until,
        }
    }

    /// What it covers.
    pub fn kind(&self) -> RevocationKind {
        match self {
            Revoke::Token { .. } => RevocationKind::Token,
            Revoke::Session { .. } => RevocationKind::Session,
            Revoke::Subject { .. } => RevocationKind::Subject,
        }
    }

    /// The id it names, as text.
    pub fn id(&self) -> &str {
        match self {
            Revoke::Token { jti, .. } => jti.as_str(),
            Revoke::Session { sid, .. } => sid.as_str(),
            Revoke::Subject { sub, .. } => sub,
        }
    }

    /// The subject cutoff in unix seconds (0 for tokens and sessions).
    pub(crate) fn cutoff_secs(&self) -> u32 {
        match self {
            Revoke::Subject { issued_before, .. } => secs(*issued_before),
            _ => 0,
        }
    }

    /// Encodes a batch in the portable format (see `codec`): ids as text, so any node can
    /// apply it to its own list.
    pub fn encode_batch(batch: &[Revoke]) -> Vec<u8> {
        codec::encode_portable(batch)
    }

    /// Decodes a portable batch; hostile input gets a `corrupt_data` error, never a panic.
    pub fn decode_batch(bytes: &[u8]) -> Result<Vec<Revoke>> {
        codec::decode_portable(bytes)
    }
}

/// SipHash-1-3-128 of `tag || data` under `key`.
fn sip128(key: &[u8; 16], tag: &[u8], data: &[u8]) -> [u8; 16] {
    let mut h = SipHasher13::new_with_key(key);
    std::hash::Hasher::write(&mut h, tag);
    std::hash::Hasher::write(&mut h, data);
    h.finish128().as_bytes()
}

/// The per-kind masks applied to raw 128-bit ids, derived from the hash key.
fn masks(hash_key: &[u8; 16]) -> [[u8; 16]; 3] {
    [1u8, 2, 3].map(|kind| sip128(hash_key, b"keycard raw-id mask", &[kind]))
}

/// A margin in whole seconds, as a snapshot records it.
fn secs_of(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// Unix seconds as stored (u32, good until 2106; later instants are kept as the maximum, which
/// only ever keeps an entry longer).
fn secs(t: Timestamp) -> u32 {
    u32::try_from(t.as_unix()).unwrap_or(u32::MAX)
}

/// Counts and sizes, for monitoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStats {
    /// Entries held (live, or expired but not yet pruned).
    pub entries: usize,
    /// Entries the current filter was sized for at the target false-positive rate.
    pub capacity: usize,
    /// The filter's size in bits.
    pub filter_bits: usize,
}

/// The revocation list. Share it (`Arc`) between the verifier and whatever handles logouts.
///
/// ```
/// use std::sync::Arc;
/// use keycard::revocation::RevocationList;
/// use keycard::{Algorithm, Issuer, KeyRing, NoCustomClaims, Verifier};
///
/// let keys = Arc::new(KeyRing::new());
/// keys.rotate(Algorithm::EdDSA)?;
/// let list = Arc::new(RevocationList::new());
/// let verifier = Verifier::new(keys.clone()).with_revocations(list.clone());
/// let token = Issuer::new(keys).access("alice").mint()?;
/// assert!(verifier.verify_access::<NoCustomClaims>(token.as_str()).is_ok());
///
/// list.revoke_token(token.token_id(), token.expires_at())?; // logout
/// let err = verifier.verify_access::<NoCustomClaims>(token.as_str()).unwrap_err();
/// assert_eq!(err.kind(), "revoked");
/// # Ok::<(), keycard::Error>(())
/// ```
pub struct RevocationList {
    state: ArcSwap<State>,
    /// Serializes writers; holds the journal of a list opened from a file.
    writer: Mutex<Option<journal::Journal>>,
    hash_key: [u8; 16],
    /// Per-kind masks for raw 128-bit ids (see `key`).
    masks: [[u8; 16]; 3],
    clock: SharedClock,
    fp_rate: f64,
    margin: Duration,
    /// The margin a loaded snapshot's entries were kept with: entries of tokens that expired
    /// longer ago than this may already be gone, whatever this list's own margin.
    loaded_margin: Option<Duration>,
}

impl fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationList")
            .field("stats", &self.stats())
            .field("fp_rate", &self.fp_rate)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl Default for RevocationList {
    fn default() -> Self {
        RevocationList::new()
    }
}

impl RevocationList {
    /// Default target false-positive rate of the filter: 1%.
    pub const DEFAULT_FP_RATE: f64 = 0.01;
    /// Default prune margin: entries are kept 5 minutes past their expiry.
    pub const DEFAULT_MARGIN: Duration = Duration::from_secs(300);
    /// The largest snapshot file [`RevocationList::load`] reads: 4 GiB.
    pub const MAX_FILE_BYTES: u64 = 4 << 30;

    /// An empty list with a fresh random hash key, the system clock, a 1% filter target and a
    /// 5-minute prune margin.
    pub fn new() -> RevocationList {
        let mut hash_key = [0u8; 16];
        rand::fill(&mut hash_key[..]);
        RevocationList::with_parts(hash_key, Vec::new())
    }

    fn with_parts(hash_key: [u8; 16], entries: Vec<Revocation>) -> RevocationList {
        let entries = table::normalize(entries);
        let capacity = entries.len() * 2;
        RevocationList {
            state: ArcSwap::from_pointee(State::build(entries, Self::DEFAULT_FP_RATE, capacity)),
            writer: Mutex::new(None),
            hash_key,
            masks: masks(&hash_key),
            clock: Arc::new(SystemClock),
            fp_rate: Self::DEFAULT_FP_RATE,
            margin: Self::DEFAULT_MARGIN,
            loaded_margin: None,
        }
    }

    /// The clock the list prunes by.
    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Uses `clock` for pruning.
    pub fn with_clock(mut self, clock: SharedClock) -> RevocationList {
        self.clock = clock;
        self
    }

    /// Sets the filter's target false-positive rate (clamped to 0.0001..=0.5) and rebuilds it.
    pub fn with_false_positive_rate(mut self, fp: f64) -> RevocationList {
        self.fp_rate = if fp.is_finite() {
            fp.clamp(0.0001, 0.5)
        } else {
            Self::DEFAULT_FP_RATE
        };
        let entries = self.state.load().entries();
        let capacity = entries.len() * 2;
        self.state = ArcSwap::from_pointee(State::build(entries, self.fp_rate, capacity));
        self
    }

    /// Keeps entries `margin` past their expiry (default 5 minutes). A verifier using this list
    /// must have a leeway of at most [`RevocationList::max_leeway`]: this margin, or less when the
    /// list was loaded from a snapshot written with a smaller one (raising the margin of a loaded
    /// list cannot bring back what was already pruned).
    pub fn with_prune_margin(mut self, margin: Duration) -> RevocationList {
        self.margin = margin;
        self
    }

    /// The key of `id` for entries of `kind`.
    ///
    /// Ids keycard mints (`jti`, `sid`) are 22 characters of canonical base64url: 16 random bytes.
    /// Those bytes, masked with a per-kind secret derived from the hash key, already are a
    /// uniformly distributed, injective 128-bit key, so the lookup on every request skips the
    /// hash (the list is only consulted after the signature check, so ids are never chosen by an
    /// attacker). Any other id goes through SipHash-1-3-128 under the hash key. A collision
    /// between the two forms is as likely as a collision of two random 128-bit values.
    fn key(&self, kind: RevocationKind, id: &[u8]) -> [u8; 16] {
        let mut key = match crate::encoding::b64::decode16(id) {
            Some(mut raw) => {
                let mask = &self.masks[kind as usize - 1];
                for (r, m) in raw.iter_mut().zip(mask) {
                    *r ^= m;
                }
                raw
            }
            None => sip128(&self.hash_key, &[kind as u8], id),
        };
        key[15] = (key[15] & !3) | kind as u8;
        key
    }

    /// Revokes one token until `until` (its `exp`). Fails only when the list was opened from a
    /// file and the journal cannot be written (the revocation is then not applied).
    pub fn revoke_token(&self, jti: &TokenId, until: Timestamp) -> Result<Revocation> {
        self.add(RevocationKind::Token, jti.as_str().as_bytes(), until, 0)
    }

    /// Revokes every token of a session until `until` (the latest `exp` any of its tokens can
    /// have: the session's absolute expiry).
    pub fn revoke_session(&self, sid: &SessionId, until: Timestamp) -> Result<Revocation> {
        self.add(RevocationKind::Session, sid.as_str().as_bytes(), until, 0)
    }

    /// Revokes every token of `sub` issued at or before `issued_before` ("log out everywhere"),
    /// until `until` (`issued_before` plus the longest lifetime of any token of the subject).
    pub fn revoke_subject(
        &self,
        sub: &str,
        issued_before: Timestamp,
        until: Timestamp,
    ) -> Result<Revocation> {
        self.add(
            RevocationKind::Subject,
            sub.as_bytes(),
            until,
            secs(issued_before),
        )
    }

    /// Applies one revocation request.
    pub fn revoke(&self, r: &Revoke) -> Result<Revocation> {
        match r {
            Revoke::Token { jti, until } => self.revoke_token(jti, *until),
            Revoke::Session { sid, until } => self.revoke_session(sid, *until),
            Revoke::Subject {
                sub,
                issued_before,
                until,
            } => self.revoke_subject(sub, *issued_before, *until),
        }
    }

    fn add(
        &self,
        kind: RevocationKind,
        id: &[u8],
        until: Timestamp,
        cutoff: u32,
    ) -> Result<Revocation> {
        let r = Revocation::new(kind, self.key(kind, id), secs(until), cutoff);
        self.apply(&[r])?;
        Ok(r)
    }

    /// Adds revocations (for example from a replicated delta). With a journal, they are on disk
    /// before they take effect and before this returns.
    pub fn apply(&self, revocations: &[Revocation]) -> Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(j) = w.as_mut() {
            j.append(&codec::encode_delta(&self.hash_key, revocations))?;
        }
        let mut over = false;
        {
            let state = self.state.load();
            for r in revocations {
                over |= state.insert(*r);
            }
        }
        if over {
            self.rebuild_locked(self.horizon());
        } else {
            let state = self.state.load();
            if state.wants_merge() {
                let merged = state.merged();
                drop(state);
                self.state.store(Arc::new(merged));
            }
        }
        let journal_full = w
            .as_ref()
            .is_some_and(|j| j.len() > journal::CHECKPOINT_BYTES);
        if over || journal_full {
            self.checkpoint_locked(&mut w)?;
        }
        Ok(())
    }

    /// Writes a snapshot and empties the journal (lists opened from a file only).
    fn checkpoint_locked(&self, w: &mut Option<journal::Journal>) -> Result<()> {
        if let Some(j) = w.as_mut() {
            crate::atomic_file::write(&j.snapshot, &self.to_snapshot(), 0o600)?;
            j.clear()?;
        }
        Ok(())
    }

    /// Makes the next journal append fail as `fault` says.
    #[cfg(test)]
    pub(crate) fn inject_journal_fault(&self, fault: journal::Fault) {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(j) = w.as_mut() {
            j.fault = Some(fault);
        }
    }

    /// Folds the journal into a fresh snapshot now (a no-op for lists not opened from a file).
    pub fn checkpoint(&self) -> Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.checkpoint_locked(&mut w)
    }

    /// Opens the durable list at `path`: its snapshot (created, with a fresh hash key, when
    /// absent) plus the journal `<path>.journal` of every revocation added since. From then on
    /// every addition is journaled and flushed before it takes effect, and pruning writes a new
    /// snapshot: a single-node service that restarts loses no revocation.
    ///
    /// The list holds an exclusive lock on `<path>.lock` for as long as it lives: a second opener,
    /// in this process or another, gets an `io` error at once instead of two writers
    /// checkpointing over each other's acknowledged revocations. [`RevocationList::load`] reads
    /// without the lock.
    pub fn open(path: impl AsRef<Path>) -> Result<RevocationList> {
        RevocationList::open_waiting(path, Duration::ZERO)
    }

    /// [`RevocationList::open`], waiting up to `wait` for another holder of the lock to release it:
    /// for short-lived writers (the CLI's `revoke`) that queue behind each other. A service that
    /// keeps the list open still makes them fail, after `wait`, with an `io` error.
    pub fn open_waiting(path: impl AsRef<Path>, wait: Duration) -> Result<RevocationList> {
        let path = path.as_ref();
        let lock = crate::file_lock::FileLock::exclusive(path, wait)?;
        let list = match path.try_exists() {
            Ok(true) => {
                let bytes = crate::atomic_file::read(path, Self::MAX_FILE_BYTES)?;
                RevocationList::from_snapshot(&bytes)?
            }
            Ok(false) => {
                let fresh = RevocationList::new();
                crate::atomic_file::write(path, &fresh.to_snapshot(), 0o600)?;
                fresh
            }
            Err(e) => return Err(Error::Io(e.to_string())),
        };
        let journal::Opened {
            mut journal,
            records,
            legacy,
        } = journal::Journal::open(path)?;
        for record in records {
            let entries = codec::decode_delta(&list.hash_key, &record)?;
            list.apply(&entries)?;
        }
        journal.lock = Some(lock);
        let mut w = list.writer.lock().unwrap_or_else(|p| p.into_inner());
        *w = Some(journal);
        if legacy {
            // Fold a journal written before framing into the snapshot, so every later record is
            // framed.
            list.checkpoint_locked(&mut w)?;
        }
        drop(w);
        Ok(list)
    }

    /// Entries expiring before this instant (unix seconds) may be dropped.
    fn horizon(&self) -> u32 {
        secs(self.clock.now().saturating_sub(self.margin))
    }

    /// Builds a fresh state from the live entries; the caller holds the writer lock.
    fn rebuild_locked(&self, horizon: u32) -> usize {
        let state = self.state.load_full();
        let all = state.entries();
        let before = all.len();
        let live: Vec<Revocation> = all.into_iter().filter(|e| e.until >= horizon).collect();
        let removed = before - live.len();
        let capacity = live.len() * 2;
        self.state
            .store(Arc::new(State::build(live, self.fp_rate, capacity)));
        removed
    }

    /// Drops the entries whose tokens have all expired (beyond the margin), rebuilding the filter
    /// from the live entries, once they are worth a rebuild: at least 1,024 of them and at least a
    /// tenth of the list. Expired entries left in place only revoke expired tokens, so waiting is
    /// safe, and it bounds the rebuild work to O(1) per pruned entry. Returns how many were dropped. Call it
    /// periodically (every few seconds); it costs one scan when there is nothing to do.
    pub fn prune(&self) -> Result<usize> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let horizon = self.horizon();
        let state = self.state.load();
        let expired = state.count_expired(horizon);
        if expired == 0 || expired < (state.len() / 10).max(1024) {
            return Ok(0);
        }
        drop(state);
        let removed = self.rebuild_locked(horizon);
        self.checkpoint_locked(&mut w)?;
        Ok(removed)
    }

    /// Rebuilds now: drops every expired entry and sizes a fresh filter for twice the live
    /// entries. Useful after a bulk load; returns how many entries were dropped.
    pub fn compact(&self) -> Result<usize> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let removed = self.rebuild_locked(self.horizon());
        self.checkpoint_locked(&mut w)?;
        Ok(removed)
    }

    fn lookup(&self, kind: RevocationKind, id: &[u8]) -> Option<Revocation> {
        self.state.load().lookup(&self.key(kind, id))
    }

    /// Whether the token `jti` is revoked.
    pub fn is_token_revoked(&self, jti: &TokenId) -> bool {
        self.lookup(RevocationKind::Token, jti.as_str().as_bytes())
            .is_some()
    }

    /// Whether the session `sid` is revoked.
    pub fn is_session_revoked(&self, sid: &SessionId) -> bool {
        self.lookup(RevocationKind::Session, sid.as_str().as_bytes())
            .is_some()
    }

    /// Whether tokens of `sub` issued at `issued_at` are revoked.
    pub fn is_subject_revoked(&self, sub: &str, issued_at: Timestamp) -> bool {
        self.lookup(RevocationKind::Subject, sub.as_bytes())
            .is_some_and(|r| secs(issued_at) <= r.cutoff)
    }

    /// The longest verifier leeway this list supports: its prune margin, or the margin of the
    /// snapshot it was loaded from if that is smaller (what a snapshot records). A verifier with a
    /// larger leeway could accept a token whose revocation was already pruned, so it refuses to
    /// run.
    pub fn max_leeway(&self) -> Duration {
        match self.loaded_margin {
            Some(loaded) => self.margin.min(loaded),
            None => self.margin,
        }
    }

    /// Counts and sizes.
    pub fn stats(&self) -> RevocationStats {
        let state = self.state.load();
        RevocationStats {
            entries: state.len(),
            capacity: state.capacity,
            filter_bits: state.filter_bits(),
        }
    }

    /// The number of entries held.
    pub fn len(&self) -> usize {
        self.state.load().len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole list, encoded (see the module docs of the format): live entries only.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let horizon = self.horizon();
        let live: Vec<Revocation> = self
            .state
            .load()
            .entries()
            .into_iter()
            .filter(|e| e.until >= horizon)
            .collect();
        codec::encode_snapshot(&self.hash_key, secs_of(self.max_leeway()), &live)
    }

    /// A list restored from a snapshot, hash key and prune margin included: it holds exactly
    /// what the snapshot held (the entries live when it was taken). Entries that expired since are dropped by the
    /// next [`prune`](RevocationList::prune), judged by the clock set with `with_clock`.
    pub fn from_snapshot(bytes: &[u8]) -> Result<RevocationList> {
        let snapshot = codec::decode_snapshot(bytes)?;
        let margin = Duration::from_secs(u64::from(snapshot.margin));
        let mut list = RevocationList::with_parts(snapshot.hash_key, snapshot.entries);
        list.margin = margin;
        list.loaded_margin = Some(margin);
        Ok(list)
    }

    /// Encodes `revocations` as a delta for this list.
    pub fn encode_delta(&self, revocations: &[Revocation]) -> Vec<u8> {
        codec::encode_delta(&self.hash_key, revocations)
    }

    /// Decodes a delta of this list and applies it; returns how many revocations it held.
    pub fn apply_delta(&self, bytes: &[u8]) -> Result<usize> {
        let entries = codec::decode_delta(&self.hash_key, bytes)?;
        self.apply(&entries)?;
        Ok(entries.len())
    }

    /// Saves a snapshot to `path` atomically (temporary file, fsync, rename), mode 0600.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::atomic_file::write(path.as_ref(), &self.to_snapshot(), 0o600)
    }

    /// Loads a snapshot saved by [`RevocationList::save`], plus the journal beside it when a
    /// durable list ([`RevocationList::open`]) left one; nothing is written. The result is not
    /// durable: use `open` for that.
    pub fn load(path: impl AsRef<Path>) -> Result<RevocationList> {
        let path = path.as_ref();
        // The journal first, then the snapshot: a checkpoint writes the new snapshot before it
        // empties the journal, so whatever a concurrent checkpoint does between the two reads,
        // every record read is either in the journal read or in the snapshot read after it.
        let records = journal::read_records(path)?;
        let bytes = crate::atomic_file::read(path, Self::MAX_FILE_BYTES)?;
        let list = RevocationList::from_snapshot(&bytes)?;
        for record in records {
            list.apply(&codec::decode_delta(&list.hash_key, &record)?)?;
        }
        Ok(list)
    }

    /// Loads `path` if it exists, or starts an empty list.
    pub fn load_or_new(path: impl AsRef<Path>) -> Result<RevocationList> {
        match path.as_ref().try_exists() {
            Ok(true) => RevocationList::load(path),
            Ok(false) => Ok(RevocationList::new()),
            Err(e) => Err(Error::Io(e.to_string())),
        }
    }
}

impl RevocationList {
    /// Whether a token with these facts is revoked (by its id, its session or its subject).
    pub fn is_revoked(&self, t: &TokenFacts<'_>) -> bool {
        // One snapshot for the three lookups.
        let state = self.state.load();
        let found = |kind, id: &[u8]| state.lookup(&self.key(kind, id));
        found(RevocationKind::Token, t.token_id.as_str().as_bytes()).is_some()
            || t.session_id.is_some_and(|sid| {
                found(RevocationKind::Session, sid.as_str().as_bytes()).is_some()
            })
            || found(RevocationKind::Subject, t.subject.as_bytes())
                .is_some_and(|r| secs(t.issued_at) <= r.cutoff)
    }
}

impl RevocationCheck for RevocationList {
    /// A local list always answers.
    fn check(&self, t: &TokenFacts<'_>) -> Result<bool> {
        Ok(self.is_revoked(t))
    }

    fn max_leeway(&self) -> Duration {
        RevocationList::max_leeway(self)
    }
}

#[cfg(test)]
mod tests;
