//! Each node's local copy of the shared revocations, and the task that keeps it fresh.
//!
//! ```text
//!   revoke (any node) ──Lua──▶ P:{rv}:r:… keys + P:{rv}:log entry (one atomic step)
//!                                              │
//!   follower (every node): snapshot at start, then XREAD BLOCK on the log ───▶ local replica
//!                                                                               │
//!   verify (every request) ─────────────────────────────────────────────────────┘ no network
//! ```
//!
//! - **Full** replica: the whole list (bloom filter + exact set) on every node; no verify ever
//!   touches the network.
//! - **Compact** replica: only a bloom filter; a hit (about 1% of clean tokens, plus revoked
//!   ones) is confirmed by reading the MAC'd revocation records from Redis, one round trip.
//!
//! A node that was disconnected catches up from the log; if the log was trimmed past its
//! position it reloads the snapshot first (and a compact node rebuilds its filter from each new
//! snapshot, which also drops expired entries). Every entry is checked against its MAC before it
//! is applied: a party that can write to Redis but does not hold the refresh-token key cannot add
//! or alter revocations.
//!
//! **Staleness.** A replica that has not synchronized for longer than `max_staleness` cannot say
//! a token was not revoked: checks fail closed with `revocation_unavailable`, unless the store
//! was configured to fail open, which logs a warning on every such check.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use fastbloom::AtomicBloomFilter;
use redis::Value;
use siphasher::sip::SipHasher13;

use super::conn::Conn;
use super::layout::{self, Names};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::revocation::{RevocationKind, RevocationList, Revoke};
use crate::verify::{CheckFuture, RevocationCheck, TokenFacts};

/// How much of the shared revocations a node keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicaMode {
    /// The whole list on every node (about 28 to 34 bytes per live revocation): no verify
    /// touches the network. The default.
    Full,
    /// Only a bloom filter (about 1.5 bytes per live revocation at 1%): a filter hit is
    /// confirmed in Redis with one round trip.
    Compact,
}

/// A bloom filter over (kind, id), keyed by this node's own random SipHash key.
pub(crate) struct Compact {
    filter: ArcSwap<AtomicBloomFilter>,
    capacity: AtomicUsize,
    count: AtomicUsize,
    key: [u8; 16],
}

const MIN_COMPACT_CAPACITY: usize = 4096;

impl Compact {
    fn new(capacity: usize) -> Compact {
        let mut key = [0u8; 16];
        rand::fill(&mut key[..]);
        let capacity = capacity.max(MIN_COMPACT_CAPACITY);
        Compact {
            filter: ArcSwap::from_pointee(
                AtomicBloomFilter::with_false_pos(0.01).expected_items(capacity),
            ),
            capacity: AtomicUsize::new(capacity),
            count: AtomicUsize::new(0),
            key,
        }
    }

    fn hash(&self, kind: RevocationKind, id: &str) -> u64 {
        use std::hash::Hasher;
        let mut h = SipHasher13::new_with_key(&self.key);
        h.write(&[kind as u8]);
        h.write(id.as_bytes());
        h.finish()
    }

    fn insert(&self, r: &Revoke) {
        self.filter.load().insert_hash(self.hash(r.kind(), r.id()));
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn may_contain(&self, kind: RevocationKind, id: &str) -> bool {
        self.filter.load().contains_hash(self.hash(kind, id))
    }

    fn overfull(&self) -> bool {
        self.count.load(Ordering::Relaxed) > self.capacity.load(Ordering::Relaxed)
    }

    /// Replaces the filter with one sized for `entries` (25% headroom) holding them.
    fn rebuild(&self, entries: &[Revoke]) {
        let capacity = (entries.len() + entries.len() / 4).max(MIN_COMPACT_CAPACITY);
        let fresh = AtomicBloomFilter::with_false_pos(0.01).expected_items(capacity);
        for r in entries {
            fresh.insert_hash(self.hash(r.kind(), r.id()));
        }
        self.filter.store(Arc::new(fresh));
        self.capacity.store(capacity, Ordering::Relaxed);
        self.count.store(entries.len(), Ordering::Relaxed);
    }

    pub(crate) fn filter_bits(&self) -> usize {
        self.filter.load().num_bits()
    }
}

/// A compact replica's filter holding `entries` synthetic revocations, built exactly as a node
/// builds it from a snapshot: for the memory bench (dhat counts what it holds).
#[doc(hidden)]
pub struct CompactFilterProbe(#[allow(dead_code)] Compact);

impl CompactFilterProbe {
    /// Builds it.
    pub fn new(entries: usize) -> CompactFilterProbe {
        let c = Compact::new(0);
        let capacity = (entries + entries / 4).max(MIN_COMPACT_CAPACITY);
        let fresh = AtomicBloomFilter::with_false_pos(0.01).expected_items(capacity);
        for i in 0..entries as u64 {
            fresh.insert_hash(c.hash(RevocationKind::Token, &i.to_string()));
        }
        c.filter.store(Arc::new(fresh));
        c.capacity.store(capacity, Ordering::Relaxed);
        c.count.store(entries, Ordering::Relaxed);
        CompactFilterProbe(c)
    }

    /// The filter's size in bits.
    pub fn bits(&self) -> usize {
        self.0.filter_bits()
    }
}

/// What a replica needs to reach Redis (compact confirmations).
pub(crate) struct Remote {
    pub(crate) conn: Conn,
    pub(crate) names: Names,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) runtime: tokio::runtime::Handle,
}

/// A node's replica of the shared revocations: what its verifier consults.
pub(crate) struct Replica {
    pub(crate) full: Option<Arc<RevocationList>>,
    pub(crate) compact: Option<Compact>,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last successful synchronization.
    synced_ms: AtomicU64,
    max_staleness: Duration,
    fail_open: bool,
    margin: Duration,
    remote: Arc<Remote>,
    /// Set when a compact filter must be rebuilt from the snapshot.
    pub(crate) rebuild: AtomicBool,
    /// The snapshot generation a compact filter was last built from (each new one drops the
    /// revocations that expired since).
    seen_generation: AtomicU64,
    /// Test hook: while set, the follower does not synchronize (a node cut off from Redis).
    pub(crate) suspended: AtomicBool,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisReplica")
            .field("mode", &self.mode())
            .field("stale_for", &self.stale_for())
            .field("max_staleness", &self.max_staleness)
            .finish_non_exhaustive()
    }
}

impl Replica {
    pub(crate) fn new(
        mode: ReplicaMode,
        list: Arc<RevocationList>,
        max_staleness: Duration,
        fail_open: bool,
        remote: Arc<Remote>,
    ) -> Replica {
        let margin = list.max_leeway();
        let (full, compact) = match mode {
            ReplicaMode::Full => (Some(list), None),
            ReplicaMode::Compact => (None, Some(Compact::new(0))),
        };
        Replica {
            full,
            compact,
            epoch: Instant::now(),
            synced_ms: AtomicU64::new(0),
            max_staleness,
            fail_open,
            margin,
            remote,
            rebuild: AtomicBool::new(false),
            seen_generation: AtomicU64::new(0),
            suspended: AtomicBool::new(false),
        }
    }

    pub(crate) fn mode(&self) -> ReplicaMode {
        if self.full.is_some() {
            ReplicaMode::Full
        } else {
            ReplicaMode::Compact
        }
    }

    /// Records a successful synchronization, now.
    pub(crate) fn mark_synced(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.synced_ms.store(ms.max(1), Ordering::Release);
    }

    /// How long since the last successful synchronization.
    pub(crate) fn stale_for(&self) -> Duration {
        let synced = Duration::from_millis(self.synced_ms.load(Ordering::Acquire));
        self.epoch.elapsed().saturating_sub(synced)
    }

    /// Applies revocations to the local data.
    pub(crate) fn apply(&self, batch: &[Revoke]) -> Result<()> {
        if let Some(list) = &self.full {
            for r in batch {
                list.revoke(r)?;
            }
        }
        if let Some(c) = &self.compact {
            for r in batch {
                c.insert(r);
            }
            if c.overfull() {
                self.rebuild.store(true, Ordering::Release);
            }
        }
        Ok(())
    }

    /// A compact replica's new filter, from a snapshot's entries.
    pub(crate) fn rebuild_compact(&self, entries: &[Revoke]) {
        if let Some(c) = &self.compact {
            c.rebuild(entries);
        }
    }

    /// Ok when fresh enough to answer; the fail-closed error otherwise.
    fn fresh(&self) -> Result<()> {
        let stale = self.stale_for();
        if stale <= self.max_staleness {
            return Ok(());
        }
        if self.fail_open {
            tracing::warn!(
                target: "keycard::redis",
                stale_secs = stale.as_secs(),
                "revocation replica is stale; answering from it anyway (fail-open)"
            );
            return Ok(());
        }
        Err(Error::RevocationUnavailable {
            stale_for_secs: stale.as_secs(),
        })
    }

    /// The candidates a compact filter cannot rule out for these facts.
    fn candidates(&self, c: &Compact, t: &TokenFacts<'_>) -> Vec<(RevocationKind, String)> {
        let mut out = Vec::new();
        if c.may_contain(RevocationKind::Token, t.token_id.as_str()) {
            out.push((RevocationKind::Token, t.token_id.as_str().to_owned()));
        }
        if let Some(sid) = t.session_id
            && c.may_contain(RevocationKind::Session, sid.as_str())
        {
            out.push((RevocationKind::Session, sid.as_str().to_owned()));
        }
        if c.may_contain(RevocationKind::Subject, t.subject) {
            out.push((RevocationKind::Subject, t.subject.to_owned()));
        }
        out
    }
}

/// Confirms filter hits in Redis: whether any candidate is a live, authentic revocation of a
/// token issued at `issued_at`.
async fn confirm(
    remote: Arc<Remote>,
    candidates: Vec<(RevocationKind, String)>,
    issued_at: crate::clock::Timestamp,
) -> Result<bool> {
    let mut conn = remote.conn.clone();
    let mut cmd = redis::cmd("MGET");
    for (kind, id) in &candidates {
        cmd.arg(
            remote
                .names
                .revocation(&Names::revocation_suffix(*kind, id)),
        );
    }
    let values: Vec<Option<Vec<u8>>> = conn
        .query(&cmd)
        .await
        .map_err(|_| Error::RevocationUnavailable { stale_for_secs: 0 })?;
    for ((kind, id), value) in candidates.iter().zip(values) {
        let Some(value) = value else { continue };
        match layout::decode_revocation(&remote.keys, *kind, &value) {
            Some(Revoke::Subject {
                sub, issued_before, ..
            }) if &sub == id => {
                if issued_at <= issued_before {
                    return Ok(true);
                }
            }
            Some(r) if r.id() == id => return Ok(true),
            Some(_) => {}
            None => tracing::warn!(
                target: "keycard::redis",
                "a revocation record in Redis fails its MAC; ignored"
            ),
        }
    }
    Ok(false)
}

impl RevocationCheck for Replica {
    fn check(&self, t: &TokenFacts<'_>) -> Result<bool> {
        self.fresh()?;
        if let Some(list) = &self.full {
            return Ok(list.is_revoked(t));
        }
        let Some(c) = &self.compact else {
            return Ok(false);
        };
        let candidates = self.candidates(c, t);
        if candidates.is_empty() {
            return Ok(false);
        }
        // A hit needs Redis: the work runs on the store's own runtime, and this thread waits
        // for one round trip (`check_async` does not wait).
        let job = self
            .remote
            .runtime
            .spawn(confirm(self.remote.clone(), candidates, t.issued_at));
        pollster::block_on(job).map_err(|_| Error::RevocationUnavailable { stale_for_secs: 0 })?
    }

    fn check_async<'a>(&'a self, t: TokenFacts<'a>) -> CheckFuture<'a> {
        Box::pin(async move {
            self.fresh()?;
            if let Some(list) = &self.full {
                return Ok(list.is_revoked(&t));
            }
            let Some(c) = &self.compact else {
                return Ok(false);
            };
            let candidates = self.candidates(c, &t);
            if candidates.is_empty() {
                return Ok(false);
            }
            let job =
                self.remote
                    .runtime
                    .spawn(confirm(self.remote.clone(), candidates, t.issued_at));
            job.await
                .map_err(|_| Error::RevocationUnavailable { stale_for_secs: 0 })?
        })
    }

    fn max_leeway(&self) -> Duration {
        self.margin
    }
}

// --- Reading the log and the snapshot.

/// A stream id, ordered.
pub(crate) fn id_parts(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// One log entry: (id, its field map).
type Entry = (String, HashMap<String, Vec<u8>>);

/// Parses `[[id, [field, value, ...]], ...]`.
fn entries(v: &Value) -> Vec<Entry> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let id = text(pair.first()?)?;
            let Value::Array(fields) = pair.get(1)? else {
                return None;
            };
            let map = fields
                .chunks_exact(2)
                .filter_map(|kv| Some((text(&kv[0])?, bytes(&kv[1])?.to_vec())))
                .collect();
            Some((id, map))
        })
        .collect()
}

/// The revocations of one log entry, if its MAC checks out under a refresh-token key of `keys`.
fn open_entry(keys: &KeyRing, fields: &HashMap<String, Vec<u8>>) -> Option<Vec<Revoke>> {
    let kid = std::str::from_utf8(fields.get("k")?).ok()?;
    let data = fields.get("d")?;
    let mac = std::str::from_utf8(fields.get("t")?).ok()?;
    let key = layout::checking_key(keys, kid)?;
    if !layout::sealed(&key, "log", kid, data, mac) {
        return None;
    }
    Revoke::decode_batch(data).ok()
}

/// Applies the entries of a log reply; returns the last id seen.
fn apply_entries(replica: &Replica, keys: &KeyRing, list: Vec<Entry>) -> Result<Option<String>> {
    let mut last = None;
    for (id, fields) in list {
        match open_entry(keys, &fields) {
            Some(batch) => replica.apply(&batch)?,
            None => tracing::warn!(
                target: "keycard::redis",
                entry = %id,
                "a revocation log entry fails its MAC or does not decode; ignored"
            ),
        }
        last = Some(id);
    }
    Ok(last)
}

/// A verified snapshot: the log position it covers and its revocations.
pub(crate) struct Snapshot {
    pub(crate) id: String,
    pub(crate) generation: u64,
    pub(crate) entries: Vec<Revoke>,
}

/// What a snapshot's MAC covers: its position, generation, chunk count and each chunk's digest.
pub(crate) fn snapshot_message(id: &str, generation: u64, chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut msg = format!("{id}|{generation}|{}", chunks.len()).into_bytes();
    for c in chunks {
        msg.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, c).as_ref());
    }
    msg
}

/// The id of the log's oldest entry, or with `newest` its newest one; `None` when it is empty.
pub(crate) async fn log_edge(
    conn: &mut Conn,
    names: &Names,
    newest: bool,
) -> Result<Option<String>> {
    let (cmd, from, to) = if newest {
        ("XREVRANGE", "+", "-")
    } else {
        ("XRANGE", "-", "+")
    };
    let v: Value = conn
        .query(
            redis::cmd(cmd)
                .arg(names.log())
                .arg(from)
                .arg(to)
                .arg("COUNT")
                .arg(1),
        )
        .await?;
    Ok(entries(&v).into_iter().next().map(|(id, _)| id))
}

/// The snapshot's metadata: (log id, generation).
pub(crate) async fn snapshot_head(conn: &mut Conn, names: &Names) -> Result<Option<(String, u64)>> {
    let meta: HashMap<String, String> = conn
        .query(redis::cmd("HGETALL").arg(names.snapshot()))
        .await?;
    Ok(
        match (meta.get("id"), meta.get("gen").and_then(|g| g.parse().ok())) {
            (Some(id), Some(g)) => Some((id.clone(), g)),
            _ => None,
        },
    )
}

/// Loads and verifies the current snapshot, if there is one.
pub(crate) async fn load_snapshot(
    conn: &mut Conn,
    names: &Names,
    keys: &KeyRing,
) -> Result<Option<Snapshot>> {
    let meta: HashMap<String, String> = conn
        .query(redis::cmd("HGETALL").arg(names.snapshot()))
        .await?;
    if meta.is_empty() {
        return Ok(None);
    }
    let bad = || Error::Corrupt("the revocation snapshot in Redis is damaged or not authentic");
    let id = meta.get("id").ok_or_else(bad)?.clone();
    let generation: u64 = meta
        .get("gen")
        .and_then(|g| g.parse().ok())
        .ok_or_else(bad)?;
    let n: usize = meta.get("n").and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let kid = meta.get("k").ok_or_else(bad)?;
    let mac = meta.get("t").ok_or_else(bad)?;
    let key = layout::checking_key(keys, kid).ok_or_else(bad)?;
    let mut chunks = Vec::with_capacity(n.min(4096));
    for i in 0..n {
        let chunk: Option<Vec<u8>> = conn
            .query(redis::cmd("GET").arg(names.snapshot_chunk(generation, i)))
            .await?;
        chunks.push(chunk.ok_or_else(bad)?);
    }
    if !layout::sealed(
        &key,
        "snap",
        kid,
        &snapshot_message(&id, generation, &chunks),
        mac,
    ) {
        return Err(bad());
    }
    let mut entries = Vec::new();
    for c in &chunks {
        entries.extend(Revoke::decode_batch(c)?);
    }
    Ok(Some(Snapshot {
        id,
        generation,
        entries,
    }))
}

/// Reads the log from `pos` to its end (no blocking), applying every entry; returns the new
/// position.
async fn catch_up(
    replica: &Replica,
    conn: &mut Conn,
    names: &Names,
    keys: &KeyRing,
    mut pos: String,
) -> Result<String> {
    loop {
        let page: Value = conn
            .query(
                redis::cmd("XRANGE")
                    .arg(names.log())
                    .arg(format!("({pos}"))
                    .arg("+")
                    .arg("COUNT")
                    .arg(1000),
            )
            .await?;
        let list = entries(&page);
        let done = list.len() < 1000;
        if let Some(last) = apply_entries(replica, keys, list)? {
            pos = last;
        }
        if done {
            return Ok(pos);
        }
    }
}

/// Brings the replica up to date, reloading the snapshot when the log no longer reaches back to
/// `pos` (or a compact filter needs rebuilding); returns the new position.
pub(crate) async fn resync(
    replica: &Replica,
    conn: &mut Conn,
    names: &Names,
    keys: &KeyRing,
    pos: String,
) -> Result<String> {
    let first = log_edge(conn, names, false).await?;
    let head = snapshot_head(conn, names).await?;
    let behind = |snap: &str| id_parts(&pos) < id_parts(snap);
    let new_generation = head
        .as_ref()
        .is_some_and(|(_, g)| *g != replica.seen_generation.load(Ordering::Acquire));
    let reload = match (&first, &head) {
        (_, Some(_)) if pos == "0-0" => true,
        (Some(f), Some((s, _))) => id_parts(&pos) < id_parts(f) && behind(s),
        (None, Some((s, _))) => behind(s),
        _ => false,
    } || (replica.compact.is_some()
        && (replica.rebuild.load(Ordering::Acquire) || new_generation));
    let mut pos = pos;
    if reload && let Some(snap) = load_snapshot(conn, names, keys).await? {
        if replica.compact.is_some() {
            // A fresh filter from the snapshot (which holds only live revocations), then the log
            // from the snapshot's position replayed into it.
            replica.rebuild_compact(&snap.entries);
            replica.rebuild.store(false, Ordering::Release);
            pos = snap.id;
        } else {
            replica.apply(&snap.entries)?;
            if id_parts(&pos) < id_parts(&snap.id) {
                pos = snap.id;
            }
        }
        replica
            .seen_generation
            .store(snap.generation, Ordering::Release);
    }
    catch_up(replica, conn, names, keys, pos).await
}

/// The follower: blocks on the log, applies what arrives, resynchronizes after any failure,
/// until the store is dropped (the task is aborted).
pub(crate) async fn follow(
    replica: Arc<Replica>,
    mut conn: Conn,
    names: Names,
    keys: Arc<KeyRing>,
    mut pos: String,
    block: Duration,
) {
    let mut resync_due = false;
    let mut rounds: u64 = 0;
    let mut backoff = Duration::from_millis(50);
    loop {
        if replica.suspended.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            resync_due = true;
            continue;
        }
        rounds += 1;
        let step = async {
            if resync_due || rounds.is_multiple_of(64) || replica.rebuild.load(Ordering::Acquire) {
                pos = resync(&replica, &mut conn, &names, &keys, pos.clone()).await?;
                resync_due = false;
            }
            let reply: Value = conn
                .query(
                    redis::cmd("XREAD")
                        .arg("COUNT")
                        .arg(1000)
                        .arg("BLOCK")
                        .arg(block.as_millis() as u64)
                        .arg("STREAMS")
                        .arg(names.log())
                        .arg(&pos),
                )
                .await?;
            if let Value::Array(streams) = &reply {
                for s in streams {
                    if let Value::Array(pair) = s
                        && let Some(list) = pair.get(1)
                        && let Some(last) = apply_entries(&replica, &keys, entries(list))?
                    {
                        pos = last;
                    }
                }
            }
            Ok::<(), Error>(())
        };
        match step.await {
            Ok(()) => {
                replica.mark_synced();
                backoff = Duration::from_millis(50);
            }
            Err(e) => {
                tracing::warn!(target: "keycard::redis", error = %e, "revocation follower: cannot synchronize; retrying");
                resync_due = true;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Every live, authentic revocation record in Redis, for a snapshot.
pub(crate) async fn live_revocations(
    conn: &mut Conn,
    names: &Names,
    keys: &KeyRing,
) -> Result<Vec<Revoke>> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    let page = 1000usize;
    loop {
        let mut invocation = super::scripts::live_members().prepare_invoke();
        invocation
            .key(names.revocation_index())
            .arg(offset)
            .arg(page);
        let members: Vec<String> = conn
            .invoke(&invocation)
            .await
            .map_err(super::conn::unavailable)?;
        if members.is_empty() {
            return Ok(out);
        }
        let mut mget = redis::cmd("MGET");
        for m in &members {
            mget.arg(names.revocation(m));
        }
        let values: Vec<Option<Vec<u8>>> = conn.query(&mget).await?;
        for (m, v) in members.iter().zip(values) {
            let kind = m
                .as_bytes()
                .first()
                .and_then(|b| (*b as char).to_digit(10))
                .and_then(|d| match d {
                    1 => Some(RevocationKind::Token),
                    2 => Some(RevocationKind::Session),
                    3 => Some(RevocationKind::Subject),
                    _ => None,
                });
            if let (Some(kind), Some(v)) = (kind, v)
                && let Some(r) = layout::decode_revocation(keys, kind, &v)
            {
                out.push(r);
            }
        }
        if members.len() < page {
            return Ok(out);
        }
        offset += page;
    }
}
