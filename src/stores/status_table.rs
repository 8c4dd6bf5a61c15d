//! The issuer's Token Status List table in one process (the memory store's; the Redis store keeps
//! the same table in Redis, with the same rules; see `keycard::status` for why these rules): which indices are taken, each session's status bit, and
//! when each index may be reused.

use std::collections::{BTreeSet, HashMap};

use crate::clock::Timestamp;

/// The first size of a list, in indices (16 KiB of bits).
pub(crate) const INITIAL_CAPACITY: u32 = 1 << 17;
/// The largest list, in indices (64 MiB of bits before compression).
pub(crate) const MAX_CAPACITY: u32 = 1 << 29;

/// Indices taken, status bits, and reclaim times.
#[derive(Debug)]
pub(crate) struct StatusTable {
    capacity: u32,
    /// One bit per index: taken.
    used: Vec<u8>,
    /// One bit per index: the session's status (1 = INVALID), least significant bit first.
    status: Vec<u8>,
    /// When each taken index may be reused.
    reclaim_at: HashMap<u32, Timestamp>,
    /// The same, ordered by time.
    by_time: BTreeSet<(Timestamp, u32)>,
}

impl Default for StatusTable {
    fn default() -> Self {
        StatusTable::with_capacity(INITIAL_CAPACITY)
    }
}

fn get(bits: &[u8], idx: u32) -> bool {
    bits.get(idx as usize / 8)
        .is_some_and(|b| b >> (idx % 8) & 1 == 1)
}

fn put(bits: &mut [u8], idx: u32, on: bool) {
    if let Some(b) = bits.get_mut(idx as usize / 8) {
        if on {
            *b |= 1 << (idx % 8);
        } else {
            *b &= !(1 << (idx % 8));
        }
    }
}

impl StatusTable {
    pub(crate) fn with_capacity(capacity: u32) -> StatusTable {
        let capacity = capacity.clamp(8, MAX_CAPACITY);
        StatusTable {
            capacity,
            used: vec![0; capacity as usize / 8],
            status: vec![0; capacity as usize / 8],
            reclaim_at: HashMap::new(),
            by_time: BTreeSet::new(),
        }
    }

    /// Indices taken.
    pub(crate) fn taken(&self) -> usize {
        self.reclaim_at.len()
    }

    /// The list size, in indices.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Takes a free index, drawn from `random` (a uniform random start; the first free index from
    /// there, wrapping), reusable from `reclaim_at` on. Doubles the list when half of it is taken;
    /// `None` only when the largest list is full.
    pub(crate) fn allocate(&mut self, random: u64, reclaim_at: Timestamp) -> Option<u32> {
        if (self.taken() as u64 + 1) * 2 > u64::from(self.capacity) && self.capacity < MAX_CAPACITY
        {
            self.capacity = (self.capacity * 2).min(MAX_CAPACITY);
            self.used.resize(self.capacity as usize / 8, 0);
            self.status.resize(self.capacity as usize / 8, 0);
        }
        let start = (random % u64::from(self.capacity)) as u32;
        let idx = (0..self.capacity)
            .map(|i| (start + i) % self.capacity)
            .find(|i| !get(&self.used, *i))?;
        put(&mut self.used, idx, true);
        put(&mut self.status, idx, false);
        self.reclaim_at.insert(idx, reclaim_at);
        self.by_time.insert((reclaim_at, idx));
        Some(idx)
    }

    /// Sets the status bit of `idx` (INVALID) and brings its reclaim time forward to
    /// `reclaim_at` (never later than it was). An index not taken is ignored.
    pub(crate) fn mark(&mut self, idx: u32, reclaim_at: Timestamp) {
        let Some(at) = self.reclaim_at.get_mut(&idx) else {
            return;
        };
        put(&mut self.status, idx, true);
        if reclaim_at < *at {
            self.by_time.remove(&(*at, idx));
            *at = reclaim_at;
            self.by_time.insert((reclaim_at, idx));
        }
    }

    /// Frees every index whose reclaim time has come (clearing its bit); how many.
    pub(crate) fn reclaim(&mut self, now: Timestamp) -> usize {
        let due: Vec<(Timestamp, u32)> = self
            .by_time
            .iter()
            .take_while(|(t, _)| *t <= now)
            .copied()
            .collect();
        for (t, idx) in &due {
            self.by_time.remove(&(*t, *idx));
            self.reclaim_at.remove(idx);
            put(&mut self.used, *idx, false);
            put(&mut self.status, *idx, false);
        }
        due.len()
    }

    /// The status bits, one per index, least significant bit first.
    pub(crate) fn bits(&self) -> Vec<u8> {
        self.status.clone()
    }

    /// Whether `idx` is set (tests).
    #[cfg(test)]
    fn is_set(&self, idx: u32) -> bool {
        get(&self.status, idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix(s).unwrap()
    }

    #[test]
    fn indices_are_never_shared_while_taken_and_grow_at_half() {
        let mut table = StatusTable::with_capacity(64);
        let mut seen = std::collections::HashSet::new();
        for i in 0..200u64 {
            let idx = table
                .allocate(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), t(1000))
                .unwrap();
            assert!(seen.insert(idx), "index {idx} handed out twice");
            assert!(table.taken() * 2 <= table.capacity() as usize);
        }
        assert_eq!(table.capacity(), 512);
    }

    #[test]
    fn marking_and_reclaiming() {
        let mut table = StatusTable::with_capacity(64);
        let a = table.allocate(3, t(1000)).unwrap();
        let b = table.allocate(3, t(1000)).unwrap();
        assert_ne!(a, b);
        table.mark(a, t(500));
        assert!(table.is_set(a) && !table.is_set(b));
        // Marking never pushes the reclaim time later.
        table.mark(a, t(900));
        assert_eq!(table.reclaim(t(499)), 0);
        assert_eq!(table.reclaim(t(500)), 1);
        assert!(!table.is_set(a), "a reclaimed index is cleared");
        // Only then may it be handed out again, clear.
        let again = table.allocate(u64::from(a), t(2000)).unwrap();
        assert_eq!(again, a);
        assert!(!table.is_set(a));
        table.mark(9999, t(1));
        assert_eq!(table.reclaim(t(1000)), 1, "b at its own time");
    }
}
