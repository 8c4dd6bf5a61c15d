//! The embedded default store: families in memory, revocations in a [`RevocationList`] that can
//! be durable (snapshot + journal) so a restart loses no logout.
//!
//! Families are not persisted: after a restart, refresh tokens of sessions started before it
//! are no longer redeemable (`session_expired`) and users log in again, while every revocation
//! still holds. Use a distributed store when sessions must survive restarts or span machines.

use std::collections::{BTreeSet, HashMap};
use std::future::ready;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::claims::SessionId;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::refresh::{
    Admission, CasOutcome, Family, LimitPolicy, SessionLimit, SessionStore, StoreFuture,
    eviction_order,
};
use crate::revocation::{RevocationList, Revoke};
use crate::stores::proof_log::LocalProofLog;
use crate::stores::status_table::StatusTable;
use crate::verify::RevocationCheck;

#[derive(Default)]
struct Inner {
    families: HashMap<SessionId, Family>,
    by_subject: HashMap<String, BTreeSet<SessionId>>,
}

impl Inner {
    fn unlink(&mut self, family: &Family) {
        if let Some(set) = self.by_subject.get_mut(&family.sub) {
            set.remove(&family.sid);
            if set.is_empty() {
                self.by_subject.remove(&family.sub);
            }
        }
    }
}

/// Families in a mutex-guarded map (every operation atomic), revocations in a list.
///
/// `Debug` shows counts only: subjects, session ids, addresses and claims are personal data and
/// never reach a log through it.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    revocations: Arc<RevocationList>,
    status: Mutex<StatusTable>,
    /// This process's status list name (random: the table does not survive a restart).
    status_id: String,
    /// DPoP proofs used.
    proofs: LocalProofLog,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sessions, subjects) = {
            let inner = self.lock();
            (inner.families.len(), inner.by_subject.len())
        };
        f.debug_struct("MemoryStore")
            .field("sessions", &sessions)
            .field("subjects", &subjects)
            .field("revocations", &self.revocations)
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// A store with an in-memory revocation list (lost on restart).
    pub fn new() -> MemoryStore {
        MemoryStore::with_revocations(Arc::new(RevocationList::new()))
    }

    /// A store over an existing revocation list (for example one opened with a custom clock).
    pub fn with_revocations(revocations: Arc<RevocationList>) -> MemoryStore {
        let proofs = LocalProofLog::new(revocations.clock().clone());
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            revocations,
            status: Mutex::new(StatusTable::default()),
            proofs,
            status_id: {
                let mut id = [0u8; 12];
                rand::fill(&mut id[..]);
                crate::encoding::b64::encode(&id)
            },
        }
    }

    /// The revocation list (to save it, or to inspect it).
    pub fn revocation_list(&self) -> &Arc<RevocationList> {
        &self.revocations
    }

    /// A store whose revocations are durable in `path` (snapshot) and `<path>.journal`.
    pub fn open(path: impl AsRef<Path>) -> Result<MemoryStore> {
        Ok(MemoryStore::with_revocations(Arc::new(
            RevocationList::open(path)?,
        )))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn status_table(&self) -> std::sync::MutexGuard<'_, StatusTable> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl MemoryStore {
    fn insert_now(&self, family: &Family, limit: Option<SessionLimit>) -> Result<Admission> {
        let mut inner = self.lock();
        if inner.families.contains_key(&family.sid) {
            return Err(Error::Config(format!(
                "session {} already exists",
                family.sid
            )));
        }
        let mut evicted = Vec::new();
        if let Some(limit) = limit {
            let mine: Vec<Family> = inner
                .by_subject
                .get(&family.sub)
                .into_iter()
                .flatten()
                .filter_map(|sid| inner.families.get(sid).cloned())
                .collect();
            let live = eviction_order(mine, family.created);
            let max = limit.max.max(1);
            if live.len() >= max {
                if limit.policy == LimitPolicy::Reject {
                    return Ok(Admission::Refused);
                }
                let excess = live.len() + 1 - max;
                for f in live.into_iter().take(excess) {
                    if let Some(gone) = inner.families.remove(&f.sid) {
                        inner.unlink(&gone);
                        evicted.push(gone);
                    }
                }
            }
        }
        inner
            .by_subject
            .entry(family.sub.clone())
            .or_default()
            .insert(family.sid.clone());
        inner.families.insert(family.sid.clone(), family.clone());
        Ok(Admission::Admitted { evicted })
    }

    fn compare_and_swap_now(&self, expected_generation: u64, next: &Family) -> CasOutcome {
        let mut inner = self.lock();
        match inner.families.get_mut(&next.sid) {
            Some(current) if current.sub != next.sub => CasOutcome::Missing,
            None => CasOutcome::Missing,
            Some(current) if current.generation != expected_generation => {
                CasOutcome::Conflict(Box::new(current.clone()))
            }
            Some(current) => {
                *current = next.clone();
                CasOutcome::Swapped
            }
        }
    }

    fn remove_now(&self, sub: &str, sid: &SessionId) -> Option<Family> {
        let mut inner = self.lock();
        if inner.families.get(sid).is_none_or(|f| f.sub != sub) {
            return None;
        }
        let removed = inner.families.remove(sid);
        if let Some(f) = &removed {
            inner.unlink(f);
        }
        removed
    }

    fn by_subject_now(&self, sub: &str) -> Vec<Family> {
        let inner = self.lock();
        inner
            .by_subject
            .get(sub)
            .into_iter()
            .flatten()
            .filter_map(|sid| inner.families.get(sid).cloned())
            .collect()
    }

    fn remove_expired_now(&self, now: Timestamp) -> Vec<Family> {
        let mut inner = self.lock();
        let dead: Vec<SessionId> = inner
            .families
            .values()
            .filter(|f| !f.is_live(now))
            .map(|f| f.sid.clone())
            .collect();
        let mut out = Vec::with_capacity(dead.len());
        for sid in dead {
            if let Some(f) = inner.families.remove(&sid) {
                inner.unlink(&f);
                out.push(f);
            }
        }
        out
    }
}

/// Every operation completes before its future is first polled: the futures are ready at once.
impl SessionStore for MemoryStore {
    fn insert<'a>(
        &'a self,
        family: &'a Family,
        limit: Option<SessionLimit>,
    ) -> StoreFuture<'a, Admission> {
        Box::pin(ready(self.insert_now(family, limit)))
    }

    fn get<'a>(&'a self, sub: &'a str, sid: &'a SessionId) -> StoreFuture<'a, Option<Family>> {
        let found = self
            .lock()
            .families
            .get(sid)
            .filter(|f| f.sub == sub)
            .cloned();
        Box::pin(ready(Ok(found)))
    }

    fn compare_and_swap<'a>(
        &'a self,
        expected_generation: u64,
        next: &'a Family,
    ) -> StoreFuture<'a, CasOutcome> {
        Box::pin(ready(Ok(
            self.compare_and_swap_now(expected_generation, next)
        )))
    }

    fn remove<'a>(&'a self, sub: &'a str, sid: &'a SessionId) -> StoreFuture<'a, Option<Family>> {
        Box::pin(ready(Ok(self.remove_now(sub, sid))))
    }

    fn by_subject<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, Vec<Family>> {
        Box::pin(ready(Ok(self.by_subject_now(sub))))
    }

    fn remove_expired(&self, now: Timestamp) -> StoreFuture<'_, Vec<Family>> {
        Box::pin(ready(Ok(self.remove_expired_now(now))))
    }

    fn revocations(&self) -> Arc<dyn RevocationCheck> {
        self.revocations.clone()
    }

    fn revoke<'a>(&'a self, revocations: &'a [Revoke]) -> StoreFuture<'a, ()> {
        let applied = revocations
            .iter()
            .try_for_each(|r| self.revocations.revoke(r).map(|_| ()));
        Box::pin(ready(applied))
    }

    fn maintain(&self) -> StoreFuture<'_, usize> {
        let proofs = self.proofs.prune();
        Box::pin(ready(proofs.and_then(|_| self.revocations.prune())))
    }

    fn claim_once<'a>(&'a self, id: &'a str, until: Timestamp) -> StoreFuture<'a, bool> {
        crate::dpop::ProofLog::claim_once(&self.proofs, id, until)
    }

    fn status_list_id(&self) -> String {
        self.status_id.clone()
    }

    fn status_allocate(&self, random: u64, reclaim_at: Timestamp) -> StoreFuture<'_, u32> {
        let idx = self
            .status_table()
            .allocate(random, reclaim_at)
            .ok_or_else(|| Error::Config("the status list is full".into()));
        Box::pin(ready(idx))
    }

    fn status_mark<'a>(&'a self, marks: &'a [(u32, Timestamp)]) -> StoreFuture<'a, ()> {
        let mut table = self.status_table();
        for (idx, at) in marks {
            table.mark(*idx, *at);
        }
        Box::pin(ready(Ok(())))
    }

    fn status_bits(&self) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(ready(Ok(self.status_table().bits())))
    }

    fn status_reclaim(&self, now: Timestamp) -> StoreFuture<'_, usize> {
        Box::pin(ready(Ok(self.status_table().reclaim(now))))
    }
}
