//! [`LocalProofLog`]: the DPoP proofs one process has seen, for the memory store and for
//! verify-only services (which have no session store).

use std::sync::Mutex;
use std::time::Duration;

use crate::claims::TokenId;
use crate::clock::{SharedClock, Timestamp};
use crate::dpop::ProofLog;
use crate::error::{Error, Result};
use crate::refresh::StoreFuture;
use crate::revocation::RevocationList;

/// The DPoP proofs this process has accepted, each until its window ends: a revocation list of
/// proof ids (a bloom filter in front of an exact set, pruned by time), checked and added under
/// one lock so that of two racing uses of a proof exactly one wins.
///
/// Entries live for a proof's window (about a minute), so the log holds at most the proofs of
/// the last window: it prunes itself whenever it doubles (and on [`LocalProofLog::prune`]),
/// which keeps it bounded with no background task. It lives in the process: a restart forgets
/// it, and two processes do not share it (a proof could be used once at each). Nodes that must
/// agree use the Redis store, whose proof log is shared.
pub struct LocalProofLog {
    inner: Mutex<Seen>,
}

struct Seen {
    ids: RevocationList,
    prune_at: usize,
}

impl Seen {
    const FIRST_PRUNE: usize = 4096;

    fn prune(&mut self) -> Result<usize> {
        let pruned = self.ids.prune()?;
        self.prune_at = (self.ids.len() * 2).max(Self::FIRST_PRUNE);
        Ok(pruned)
    }
}

impl std::fmt::Debug for LocalProofLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.inner.lock().map(|s| s.ids.len()).unwrap_or(0);
        f.debug_struct("LocalProofLog")
            .field("proofs", &len)
            .finish()
    }
}

impl LocalProofLog {
    /// An empty log, pruning by `clock`.
    pub fn new(clock: SharedClock) -> LocalProofLog {
        LocalProofLog {
            inner: Mutex::new(Seen {
                ids: RevocationList::new()
                    .with_clock(clock)
                    .with_prune_margin(Duration::ZERO),
                prune_at: Seen::FIRST_PRUNE,
            }),
        }
    }

    /// Drops the proofs whose window has passed; how many.
    pub fn prune(&self) -> Result<usize> {
        self.lock().prune()
    }

    /// How many proofs it remembers.
    pub fn len(&self) -> usize {
        self.lock().ids.len()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn claim(&self, id: &str, until: Timestamp) -> Result<bool> {
        let id =
            TokenId::new(id).ok_or_else(|| Error::Config("a proof id that is not an id".into()))?;
        let mut seen = self.lock();
        if seen.ids.is_token_revoked(&id) {
            return Ok(false);
        }
        seen.ids.revoke_token(&id, until)?;
        if seen.ids.len() >= seen.prune_at {
            seen.prune()?;
        }
        Ok(true)
    }
}

impl ProofLog for LocalProofLog {
    fn claim_once<'a>(&'a self, id: &'a str, until: Timestamp) -> StoreFuture<'a, bool> {
        Box::pin(std::future::ready(self.claim(id, until)))
    }
}
