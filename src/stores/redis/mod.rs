//! The Redis store (feature `redis`): session families and revocations shared by every node, on
//! Redis 7 or Valkey, a single server or a cluster.
//!
//! ```text
//!  node A ─┐  login / refresh / logout: one Lua script each (atomic across nodes)   ┌─ Redis
//!  node B ─┼─────────────────────────────────────────────────────────────────────────┤  families P:{u:H}:…
//!  node C ─┘  revocations: key + stream entry in one script ──────────────────────── │  revocations P:{rv}:…
//!     ▲                                                                              │
//!     └── each node's follower: snapshot, then XREAD BLOCK ◀── P:{rv}:log ───────────┘
//!         verify reads only the node's local replica (no network)
//! ```
//!
//! - **Families** rotate with one compare-and-swap script: two nodes, or two processes, racing
//!   one refresh token get exactly one winner, and the loser gets the current pair by the grace
//!   rules. A family's key expires at its deadline. The session limit is counted and enforced
//!   in the same script that inserts (a subject's families share a hash tag, so one slot).
//! - **Revocations** are written with a TTL of their `until` plus the margin, and appended to a
//!   Redis Stream in the same script. Every stream entry and stored record carries a MAC under a
//!   key derived from the key ring's refresh-token key: a party that can only write to Redis
//!   cannot add or alter revocations. (It can delete them: Redis is trusted with availability.)
//! - **Replicas**: see `replica` (full or compact, staleness bound, fail closed).
//! - **Snapshots**: [`SessionStore::maintain`] on any node takes a lease (`SET NX PX`, one writer
//!   per interval across all nodes), writes a MAC'd snapshot of every live revocation (read from
//!   Redis's own records, so any node can write it) and trims the stream up to it. A node whose
//!   position was trimmed away reloads the snapshot. Call `maintain` every few seconds on every
//!   node (the HTTP integration's background task does); with no maintenance the stream only
//!   grows.
//!
//! **Failure semantics.** Redis unreachable: login, refresh and logout fail with
//! `store_unavailable` (retryable; nothing was changed that the caller was told about), and
//! verifies keep answering from the replica until `max_staleness` (default 30 s), then fail
//! closed with `revocation_unavailable`. The connection reconnects by itself with backoff; the
//! follower resynchronizes (from the stream, or the snapshot) and verifies answer again. With
//! AOF enabled (`appendonly yes`, `appendfsync everysec` or `always`), a Redis restart loses no
//! acknowledged revocation beyond what its fsync policy allows.
//!
//! **Runtime.** [`RedisStore::connect_async`] runs the store on the calling tokio runtime (an
//! async server's own); use the `_async` methods of [`Keycard`](crate::Keycard) with it.
//! [`RedisStore::connect`] gives the store a small runtime of its own, so its futures can be
//! awaited from any executor and the blocking API can drive it from plain threads; inside an
//! async runtime the blocking methods refuse (`config`) rather than stall a runtime thread.

mod conn;
mod layout;
mod replica;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use redis::Value;

#[doc(hidden)]
pub use replica::CompactFilterProbe;
pub use replica::ReplicaMode;

use self::conn::{Conn, Target, unavailable};
use self::layout::Names;
use self::replica::Replica;
use crate::claims::SessionId;
use crate::clock::{SharedClock, SystemClock, Timestamp};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::refresh::{
    Admission, CasOutcome, Family, LimitPolicy, SessionLimit, SessionStore, StoreFuture,
};
use crate::revocation::{RevocationList, Revoke};
use crate::stores::status_table;
use crate::verify::RevocationCheck;

/// How a [`RedisStore`] is set up; every setting has a safe default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisOptions {
    prefix: String,
    mode: ReplicaMode,
    max_staleness: Duration,
    fail_open: bool,
    snapshot_every: Duration,
    margin: Duration,
    timeout: Duration,
    block: Duration,
    clock: Option<SharedClock>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: "keycard".into(),
            mode: ReplicaMode::Full,
            max_staleness: Duration::from_secs(30),
            fail_open: false,
            snapshot_every: Duration::from_secs(60),
            margin: RevocationList::DEFAULT_MARGIN,
            timeout: Duration::from_secs(2),
            block: Duration::from_millis(500),
            clock: None,
        }
    }
}

impl RedisOptions {
    /// The defaults: key prefix `keycard`, a full replica, 30 s staleness bound, fail closed,
    /// a snapshot every 60 s, a 5-minute revocation margin, 2 s timeouts.
    pub fn new() -> RedisOptions {
        RedisOptions::default()
    }

    /// Prefixes every key (several services may share one Redis under different prefixes).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Full replica (the default) or compact (a bloom filter, hits confirmed in Redis).
    pub fn with_replica(mut self, mode: ReplicaMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long the replica may go without synchronizing before verifies fail closed
    /// (`revocation_unavailable`); default 30 s.
    pub fn with_max_staleness(mut self, d: Duration) -> Self {
        self.max_staleness = d;
        self
    }

    /// Answer from a stale replica instead of failing closed, logging a warning on every such
    /// verify. A logout may then be missed for as long as Redis is unreachable.
    pub fn fail_open(mut self) -> Self {
        self.fail_open = true;
        self
    }

    /// How often (at most, across all nodes) a snapshot is written and the stream trimmed;
    /// default 60 s.
    pub fn with_snapshot_every(mut self, d: Duration) -> Self {
        self.snapshot_every = d;
        self
    }

    /// How long revocations are kept past their `until` (default 5 minutes): the most leeway a
    /// verifier may have.
    pub fn with_margin(mut self, d: Duration) -> Self {
        self.margin = d;
        self
    }

    /// Connection and command timeout (default 2 s).
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The clock for revocation expiries (default: the system clock; tests use a manual one).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How long the follower blocks waiting for new log entries (default 500 ms).
    #[doc(hidden)]
    pub fn with_follow_block(mut self, d: Duration) -> Self {
        self.block = d;
        self
    }
}

struct Inner {
    handle: tokio::runtime::Handle,
    runtime: Option<tokio::runtime::Runtime>,
    conn: Conn,
    names: Names,
    keys: Arc<KeyRing>,
    replica: Arc<Replica>,
    follower: tokio::task::JoinHandle<()>,
    opts: RedisOptions,
    clock: SharedClock,
    node: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.follower.abort();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Families and revocations in Redis, shared by every node; see the module docs.
///
/// ```no_run
/// use std::sync::Arc;
/// use keycard::{Algorithm, Keycard, KeyRing};
/// use keycard::stores::{RedisOptions, RedisStore};
///
/// // Every node loads the same key set (with its refresh-token key) and the same Redis.
/// let keys = Arc::new(KeyRing::load("keys.json")?);
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0", keys.clone(), RedisOptions::new())?;
/// let kc = Keycard::builder(keys).store(Arc::new(store)).build()?;
/// # Ok::<(), keycard::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.opts.prefix)
            .field("replica", &self.inner.replica)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to one Redis server (`redis://host:port/db`), loads the revocation snapshot and
    /// the stream after it, and starts following. Blocks the calling thread until done. The
    /// store runs its I/O on a small runtime of its own: for programs without one, and for the
    /// blocking [`Keycard`](crate::Keycard) API. Async servers use [`RedisStore::connect_async`].
    pub fn connect(url: &str, keys: Arc<KeyRing>, opts: RedisOptions) -> Result<RedisStore> {
        let runtime = RedisStore::own_runtime()?;
        let handle = runtime.handle().clone();
        let target = Target::Single(url.to_owned());
        pollster::block_on(RedisStore::open(target, keys, opts, handle, Some(runtime)))
    }

    /// [`RedisStore::connect`] to a Redis Cluster, given some of its nodes.
    pub fn connect_cluster(
        urls: &[&str],
        keys: Arc<KeyRing>,
        opts: RedisOptions,
    ) -> Result<RedisStore> {
        let runtime = RedisStore::own_runtime()?;
        let handle = runtime.handle().clone();
        let target = Target::Cluster(urls.iter().map(|u| (*u).to_owned()).collect());
        pollster::block_on(RedisStore::open(target, keys, opts, handle, Some(runtime)))
    }

    /// [`RedisStore::connect`] for async servers: the store's I/O and its follower run on the
    /// calling tokio runtime, which must outlive the store.
    pub async fn connect_async(
        url: &str,
        keys: Arc<KeyRing>,
        opts: RedisOptions,
    ) -> Result<RedisStore> {
        let handle = RedisStore::ambient()?;
        RedisStore::open(Target::Single(url.to_owned()), keys, opts, handle, None).await
    }

    /// [`RedisStore::connect_cluster`] for async servers.
    pub async fn connect_cluster_async(
        urls: &[&str],
        keys: Arc<KeyRing>,
        opts: RedisOptions,
    ) -> Result<RedisStore> {
        let handle = RedisStore::ambient()?;
        let target = Target::Cluster(urls.iter().map(|u| (*u).to_owned()).collect());
        RedisStore::open(target, keys, opts, handle, None).await
    }

    fn own_runtime() -> Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("keycard-redis")
            .enable_all()
            .build()
            .map_err(|e| Error::Io(format!("cannot start the Redis store's runtime: {e}")))
    }

    fn ambient() -> Result<tokio::runtime::Handle> {
        tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Config(
                "RedisStore::connect_async needs a tokio runtime; use RedisStore::connect outside one"
                    .into(),
            )
        })
    }

    async fn open(
        target: Target,
        keys: Arc<KeyRing>,
        opts: RedisOptions,
        handle: tokio::runtime::Handle,
        runtime: Option<tokio::runtime::Runtime>,
    ) -> Result<RedisStore> {
        // Fails early, with the reason, when nodes could not authenticate each other's data.
        layout::signing_key(&keys)?;
        let clock = opts.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
        let names = Names::new(&opts.prefix);
        let timeout = opts.timeout;
        let block = opts.block;
        let connect = {
            let target = target.clone();
            handle.spawn(async move {
                let conn = Conn::open(&target, timeout).await?;
                // The follower blocks on XREAD: its own connection, with room for the block.
                let follower = Conn::open(&target, timeout + block).await?;
                Ok::<_, Error>((conn, follower))
            })
        };
        let (conn, follower_conn) = connect
            .await
            .map_err(|e| Error::Io(format!("the Redis store's runtime failed: {e}")))??;
        let list = Arc::new(
            RevocationList::new()
                .with_clock(clock.clone())
                .with_prune_margin(opts.margin),
        );
        let remote = Arc::new(replica::Remote {
            conn: conn.clone(),
            names: names.clone(),
            keys: keys.clone(),
            runtime: handle.clone(),
        });
        let replica = Arc::new(Replica::new(
            opts.mode,
            list,
            opts.max_staleness,
            opts.fail_open,
            remote,
        ));
        // A node starting after revocations were made sees all of them before it serves.
        let initial = {
            let (replica, mut conn, names, keys) =
                (replica.clone(), conn.clone(), names.clone(), keys.clone());
            handle.spawn(async move {
                replica::resync(&replica, &mut conn, &names, &keys, "0-0".into()).await
            })
        };
        let pos = initial
            .await
            .map_err(|e| Error::Io(format!("the Redis store's runtime failed: {e}")))??;
        replica.mark_synced();
        let follower = handle.spawn(replica::follow(
            replica.clone(),
            follower_conn,
            names.clone(),
            keys.clone(),
            pos,
            block,
        ));
        let mut node = [0u8; 8];
        rand::fill(&mut node[..]);
        Ok(RedisStore {
            inner: Arc::new(Inner {
                handle,
                runtime,
                conn,
                names,
                keys,
                replica,
                follower,
                opts,
                clock,
                node: crate::encoding::b64::encode(&node),
            }),
        })
    }

    /// Which replica this node keeps.
    pub fn replica_mode(&self) -> ReplicaMode {
        self.inner.replica.mode()
    }

    /// How long since this node's replica last synchronized.
    pub fn stale_for(&self) -> Duration {
        self.inner.replica.stale_for()
    }

    /// The bits of a compact replica's filter (for memory reports); `None` for a full replica.
    pub fn compact_filter_bits(&self) -> Option<usize> {
        self.inner.replica.compact.as_ref().map(|c| c.filter_bits())
    }

    /// Test hook: stops (or resumes) this node's follower, as if it were cut off from Redis.
    #[doc(hidden)]
    pub fn suspend_follower(&self, suspend: bool) {
        self.inner
            .replica
            .suspended
            .store(suspend, std::sync::atomic::Ordering::Release);
    }

    /// Runs `work`: inline when awaited on a tokio runtime (the connection's I/O runs on the
    /// store's own runtime either way; requests and replies cross over channels), otherwise on
    /// the store's runtime, so that any executor (the blocking API's included) can await it.
    fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Box::pin(work);
        }
        let job = self.inner.handle.spawn(work);
        Box::pin(async move {
            job.await.map_err(|e| {
                Error::StoreUnavailable(format!("the Redis store's task failed: {e}"))
            })?
        })
    }

    /// Milliseconds from `now` to `until`, at least one (Redis refuses a zero expiry).
    fn px(now: Timestamp, until: Timestamp) -> u64 {
        until.duration_since(now).as_millis().max(1) as u64
    }

    /// Writes a snapshot and trims the stream, if this node wins the lease; whether it did.
    async fn snapshot(inner: Arc<Inner>) -> Result<bool> {
        let mut conn = inner.conn.clone();
        let names = &inner.names;
        let lease: Option<String> = conn
            .query(
                redis::cmd("SET")
                    .arg(names.lease())
                    .arg(&inner.node)
                    .arg("NX")
                    .arg("PX")
                    .arg(inner.opts.snapshot_every.as_millis().max(1) as u64),
            )
            .await?;
        if lease.is_none() {
            return Ok(false);
        }
        // The position first, then the records: every entry up to it is in Redis's records
        // (written in the same script), and everything after it stays in the stream.
        let id = replica::log_edge(&mut conn, names, true).await?;
        let Some(id) = id else {
            return Ok(false); // nothing logged yet
        };
        let previous = replica::snapshot_head(&mut conn, names).await?;
        if previous.as_ref().is_some_and(|(s, _)| *s == id) {
            return Ok(false); // nothing new since the last snapshot
        }
        let entries = replica::live_revocations(&mut conn, names, &inner.keys).await?;
        let (kid, key) = layout::signing_key(&inner.keys)?;
        let mut generation = [0u8; 8];
        rand::fill(&mut generation[..]);
        let generation = u64::from_le_bytes(generation) >> 1;
        let chunks: Vec<Vec<u8>> = entries.chunks(100_000).map(Revoke::encode_batch).collect();
        for (i, c) in chunks.iter().enumerate() {
            conn.query::<()>(
                redis::cmd("SET")
                    .arg(names.snapshot_chunk(generation, i))
                    .arg(c.as_slice()),
            )
            .await?;
        }
        let mac = layout::seal(
            &key,
            "snap",
            &kid,
            &replica::snapshot_message(&id, generation, &chunks),
        );
        conn.query::<()>(
            redis::cmd("HSET")
                .arg(names.snapshot())
                .arg("id")
                .arg(&id)
                .arg("gen")
                .arg(generation)
                .arg("n")
                .arg(chunks.len())
                .arg("k")
                .arg(kid.as_str())
                .arg("t")
                .arg(&mac),
        )
        .await?;
        // Readers of the previous snapshot get two minutes to finish.
        if let Some((_, old)) = previous {
            for i in 0.. {
                let kept: i64 = conn
                    .query(
                        redis::cmd("PEXPIRE")
                            .arg(names.snapshot_chunk(old, i))
                            .arg(120_000),
                    )
                    .await?;
                if kept == 0 {
                    break;
                }
            }
        }
        conn.query::<i64>(redis::cmd("XTRIM").arg(names.log()).arg("MINID").arg(&id))
            .await?;
        Ok(true)
    }
}

fn decode_all(values: Vec<Vec<u8>>, sub: &str) -> Result<Vec<Family>> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let f = layout::decode_family(&v)?;
        // The key carries a hash of the subject; the record must agree.
        if f.sub == sub {
            out.push(f);
        }
    }
    Ok(out)
}

impl SessionStore for RedisStore {
    fn insert<'a>(
        &'a self,
        family: &'a Family,
        limit: Option<SessionLimit>,
    ) -> StoreFuture<'a, Admission> {
        let inner = self.inner.clone();
        let family = family.clone();
        self.run(async move {
            let names = &inner.names;
            let value = layout::encode_family(&family)?;
            let deadline = family.idle_deadline.min(family.absolute_deadline);
            let (max, evict) = match limit {
                Some(l) => (l.max.max(1), l.policy == LimitPolicy::EvictOldest),
                None => (0, false),
            };
            let mut invocation = scripts::insert().prepare_invoke();
            invocation
                .key(names.index(&family.sub))
                .key(names.family(&family.sub, &family.sid))
                .arg(family.sid.as_str())
                .arg(value)
                .arg(RedisStore::px(family.created, deadline))
                .arg(RedisStore::px(family.created, family.absolute_deadline))
                .arg(max)
                .arg(u8::from(evict))
                .arg(family.created.as_unix())
                .arg(names.family_prefix(&family.sub));
            let reply: Vec<Value> = inner.conn.clone().invoke(&invocation).await.map_err(|e| {
                if e.to_string().contains("KEYCARD session exists") {
                    Error::Config(format!("session {} already exists", family.sid))
                } else {
                    unavailable(e)
                }
            })?;
            match reply.first() {
                Some(Value::Int(1)) => {
                    let evicted = reply[1..]
                        .iter()
                        .filter_map(|v| match v {
                            Value::BulkString(b) => Some(layout::decode_family(b)),
                            _ => None,
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Ok(Admission::Admitted { evicted })
                }
                Some(Value::Int(0)) => Ok(Admission::Refused),
                _ => Err(Error::Corrupt("an unexpected reply from the insert script")),
            }
        })
    }

    fn get<'a>(&'a self, sub: &'a str, sid: &'a SessionId) -> StoreFuture<'a, Option<Family>> {
        let inner = self.inner.clone();
        let (sub, sid) = (sub.to_owned(), sid.clone());
        self.run(async move {
            let v: Option<Vec<u8>> = inner
                .conn
                .clone()
                .query(redis::cmd("GET").arg(inner.names.family(&sub, &sid)))
                .await?;
            match v {
                None => Ok(None),
                Some(v) => {
                    let f = layout::decode_family(&v)?;
                    Ok((f.sub == sub && f.sid == sid).then_some(f))
                }
            }
        })
    }

    fn compare_and_swap<'a>(
        &'a self,
        expected_generation: u64,
        next: &'a Family,
    ) -> StoreFuture<'a, CasOutcome> {
        let inner = self.inner.clone();
        let next = next.clone();
        self.run(async move {
            let deadline = next.idle_deadline.min(next.absolute_deadline);
            let mut invocation = scripts::compare_and_swap().prepare_invoke();
            invocation
                .key(inner.names.family(&next.sub, &next.sid))
                .arg(expected_generation)
                .arg(layout::encode_family(&next)?)
                .arg(RedisStore::px(next.rotated_at, deadline));
            let reply: Vec<Value> = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            match (reply.first(), reply.get(1)) {
                (Some(Value::Int(1)), _) => Ok(CasOutcome::Swapped),
                (Some(Value::Int(0)), Some(Value::BulkString(cur))) => {
                    Ok(CasOutcome::Conflict(Box::new(layout::decode_family(cur)?)))
                }
                (Some(Value::Int(-1)), _) => Ok(CasOutcome::Missing),
                _ => Err(Error::Corrupt("an unexpected reply from the swap script")),
            }
        })
    }

    fn remove<'a>(&'a self, sub: &'a str, sid: &'a SessionId) -> StoreFuture<'a, Option<Family>> {
        let inner = self.inner.clone();
        let (sub, sid) = (sub.to_owned(), sid.clone());
        self.run(async move {
            let mut invocation = scripts::remove().prepare_invoke();
            invocation
                .key(inner.names.family(&sub, &sid))
                .key(inner.names.index(&sub))
                .arg(sid.as_str());
            let v: Option<Vec<u8>> = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            Ok(v.map(|v| layout::decode_family(&v))
                .transpose()?
                .filter(|f| f.sub == sub))
        })
    }

    fn by_subject<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, Vec<Family>> {
        let inner = self.inner.clone();
        let sub = sub.to_owned();
        self.run(async move {
            let mut invocation = scripts::by_subject().prepare_invoke();
            invocation
                .key(inner.names.index(&sub))
                .arg(inner.names.family_prefix(&sub));
            let values: Vec<Vec<u8>> = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            decode_all(values, &sub)
        })
    }

    /// Redis expires families by itself; nothing to collect here.
    fn remove_expired(&self, _now: Timestamp) -> StoreFuture<'_, Vec<Family>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    fn revocations(&self) -> Arc<dyn RevocationCheck> {
        self.inner.replica.clone()
    }

    fn revoke<'a>(&'a self, revocations: &'a [Revoke]) -> StoreFuture<'a, ()> {
        let inner = self.inner.clone();
        let batch = revocations.to_vec();
        self.run(async move {
            if batch.is_empty() {
                return Ok(());
            }
            let (kid, key) = layout::signing_key(&inner.keys)?;
            let data = Revoke::encode_batch(&batch);
            let mac = layout::seal(&key, "log", &kid, &data);
            let now = inner.clock.now();
            let names = &inner.names;
            let mut invocation = scripts::revoke().prepare_invoke();
            invocation.key(names.log()).key(names.revocation_index());
            for r in &batch {
                invocation.key(names.revocation(&Names::revocation_suffix(r.kind(), r.id())));
            }
            invocation.arg(kid.as_str()).arg(data.as_slice()).arg(&mac);
            for r in &batch {
                let expiry = r.until().saturating_add(inner.opts.margin);
                invocation
                    .arg(layout::encode_revocation(&key, &kid, r))
                    .arg(RedisStore::px(now, expiry))
                    .arg(Names::revocation_suffix(r.kind(), r.id()));
            }
            let _id: String = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            // This node sees its own revocations at once, before the follower reads them back.
            inner.replica.apply(&batch)
        })
    }

    fn maintain(&self) -> StoreFuture<'_, usize> {
        let inner = self.inner.clone();
        self.run(async move {
            let pruned = match &inner.replica.full {
                Some(list) => list.prune()?,
                None => 0,
            };
            let mut invocation = scripts::prune_index().prepare_invoke();
            invocation.key(inner.names.revocation_index());
            let _: i64 = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            RedisStore::snapshot(inner).await?;
            Ok(pruned)
        })
    }

    fn claim_once<'a>(&'a self, id: &'a str, until: Timestamp) -> StoreFuture<'a, bool> {
        let inner = self.inner.clone();
        let id = id.to_owned();
        self.run(async move {
            let now = inner.clock.now();
            let mut invocation = scripts::claim_once().prepare_invoke();
            invocation
                .key(inner.names.proof(&id))
                .arg(RedisStore::px(now, until));
            let first: i64 = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            Ok(first == 1)
        })
    }

    fn status_allocate(&self, random: u64, reclaim_at: Timestamp) -> StoreFuture<'_, u32> {
        let inner = self.inner.clone();
        self.run(async move {
            let n = &inner.names;
            let mut invocation = scripts::status_allocate().prepare_invoke();
            invocation
                .key(n.status("cap"))
                .key(n.status("used"))
                .key(n.status("bits"))
                .key(n.status("reclaim"))
                .arg(random % (1 << 32))
                .arg(reclaim_at.as_unix())
                .arg(status_table::INITIAL_CAPACITY)
                .arg(status_table::MAX_CAPACITY);
            let idx: i64 = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            u32::try_from(idx).map_err(|_| Error::Corrupt("a status index out of range"))
        })
    }

    fn status_mark<'a>(&'a self, marks: &'a [(u32, Timestamp)]) -> StoreFuture<'a, ()> {
        let inner = self.inner.clone();
        let marks = marks.to_vec();
        self.run(async move {
            if marks.is_empty() {
                return Ok(());
            }
            let mut invocation = scripts::status_mark().prepare_invoke();
            invocation
                .key(inner.names.status("bits"))
                .key(inner.names.status("reclaim"));
            for (idx, at) in &marks {
                invocation.arg(*idx).arg(at.as_unix());
            }
            let _: i64 = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn status_bits(&self) -> StoreFuture<'_, Vec<u8>> {
        let inner = self.inner.clone();
        self.run(async move {
            let mut invocation = scripts::status_bits().prepare_invoke();
            invocation
                .key(inner.names.status("cap"))
                .key(inner.names.status("bits"));
            let (cap, bits): (Option<u32>, Option<Vec<u8>>) = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            let cap = cap.unwrap_or(status_table::INITIAL_CAPACITY);
            let mut bytes = bits.unwrap_or_default();
            if bytes.len() > cap as usize / 8 {
                return Err(Error::Corrupt("the status bits outgrow the status list"));
            }
            bytes.resize(cap as usize / 8, 0);
            // Redis numbers bits from the most significant; the list, from the least.
            for b in &mut bytes {
                *b = b.reverse_bits();
            }
            Ok(bytes)
        })
    }

    fn status_reclaim(&self, now: Timestamp) -> StoreFuture<'_, usize> {
        let inner = self.inner.clone();
        self.run(async move {
            let mut invocation = scripts::status_reclaim().prepare_invoke();
            invocation
                .key(inner.names.status("used"))
                .key(inner.names.status("bits"))
                .key(inner.names.status("reclaim"))
                .arg(now.as_unix())
                .arg(10_000);
            let n: i64 = inner
                .conn
                .clone()
                .invoke(&invocation)
                .await
                .map_err(unavailable)?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }

    fn check_blocking(&self) -> Result<()> {
        if self.inner.runtime.is_none() {
            return Err(Error::Config(
                "this Redis store runs on an async runtime (connect_async): use the Keycard's _async methods".into(),
            ));
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Config(
                "a blocking Keycard method was called inside an async runtime with the Redis store: \
                 use the _async methods there (blocking would stall a runtime thread)"
                    .into(),
            ));
        }
        Ok(())
    }
}
