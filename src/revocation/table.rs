//! The in-memory layout: one immutable snapshot (filter + sorted base) plus a small map of
//! revocations added since the base was built.
//!
//! ```text
//!  State (published through arc-swap; readers never lock for the common case)
//!  ├── filter : fastbloom AtomicBloomFilter over every key   — ~2.4 bytes per entry at build,
//!  │            (shared by the states between two rebuilds)     sized for twice the entries
//!  ├── base   : Vec<Revocation> sorted by key                 — 24 bytes per entry
//!  ├── index  : first base position per key prefix            — 1 byte per entry; keys are uniform,
//!  │                                                            so a lookup reads ~4 entries, O(1)
//!  └── recent : RwLock<HashMap<key, (until, cutoff)>>         — additions since the base was built,
//!                                                               at most an eighth of the base
//! ```
//!
//! A lookup whose key is not in the filter ("certainly not revoked", the common case) touches
//! only the filter's bits: no lock, no shared write. A "maybe" is confirmed in `base` (immutable)
//! and `recent` (a read lock held for one hash lookup).
//!
//! **Memory.** An entry is 24 bytes: the kind lives in the key's two low bits, so no byte (and no
//! padding) is spent on it. Additions go to `recent`, whose hash table costs 25 bytes per slot at
//! a load of 7/16 to 7/8 (29 to 57 bytes per entry); when it reaches an eighth of the base it is
//! merged into a new sorted base (a *merge*: the filter is kept), so between rebuilds an entry
//! costs at most about 33 bytes on average. A merge or rebuild holds the old and the new base at
//! once, about 60 bytes per entry at its peak. `benches/revocation_memory.rs` counts both with
//! dhat.
//!
//! Writers are serialized by the list; a merge or a rebuild (pruning, or growth past the filter's
//! capacity) produces a fresh `State` and publishes it in one atomic swap, so a reader always sees
//! one complete state.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use fastbloom::AtomicBloomFilter;

use super::Revocation;

/// The smallest filter capacity, in entries.
pub(crate) const MIN_CAPACITY: usize = 4096;
/// `recent` is merged into the base when it holds more than this many entries and more than an
/// eighth of the base.
const MIN_RECENT: usize = 4096;

/// Keys are already uniformly distributed (a keyed hash, or a random id under a secret mask), so
/// the recent map hashes by taking their first eight bytes.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 16]` hashes as its length, then its bytes: keep the first eight key bytes.
        if bytes.len() == 16 {
            let mut first = [0u8; 8];
            first.copy_from_slice(&bytes[..8]);
            self.0 = u64::from_le_bytes(first);
        }
    }
    fn write_usize(&mut self, _: usize) {}
}

type Recent = HashMap<[u8; 16], (u32, u32), BuildHasherDefault<KeyHasher>>;

pub(crate) struct State {
    pub(crate) filter: Arc<AtomicBloomFilter>,
    /// How many entries the filter was sized for at the target false-positive rate.
    pub(crate) capacity: usize,
    pub(crate) base: Vec<Revocation>,
    /// `index[p]` is the first position in `base` whose key's top `index_bits` bits are >= p;
    /// one extra slot holds `base.len()`.
    index: Vec<u32>,
    index_bits: u32,
    recent: RwLock<Recent>,
}

/// The top `bits` bits of a key, as an index.
fn prefix(key: &[u8; 16], bits: u32) -> usize {
    if bits == 0 {
        return 0;
    }
    let mut first = [0u8; 4];
    first.copy_from_slice(&key[..4]);
    (u32::from_be_bytes(first) >> (32 - bits)) as usize
}

/// An index with about four base entries per slot (at most 2^24 slots).
fn build_index(base: &[Revocation]) -> (Vec<u32>, u32) {
    let bits = (usize::BITS - (base.len() / 4).leading_zeros()).min(24);
    let slots = 1usize << bits;
    let mut index = Vec::with_capacity(slots + 1);
    let mut pos = 0usize;
    for p in 0..slots {
        while pos < base.len() && prefix(&base[pos].key, bits) < p {
            pos += 1;
        }
        index.push(pos as u32);
    }
    index.push(base.len() as u32);
    (index, bits)
}

/// The filter's source hash: the key is already uniformly distributed, so its first 8 bytes are.
fn filter_hash(key: &[u8; 16]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&key[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
pub(crate) fn filter_hash_for_tests(key: &[u8; 16]) -> u64 {
    filter_hash(key)
}

impl State {
    /// A state holding `entries` (sorted by key, no duplicates), with a fresh filter sized for
    /// `capacity` entries at false-positive rate `fp`.
    pub(crate) fn build(entries: Vec<Revocation>, fp: f64, capacity: usize) -> State {
        let capacity = capacity.max(MIN_CAPACITY).max(entries.len());
        let filter = AtomicBloomFilter::with_false_pos(fp).expected_items(capacity);
        for e in &entries {
            filter.insert_hash(filter_hash(&e.key));
        }
        State::with_filter(Arc::new(filter), capacity, entries)
    }

    fn with_filter(
        filter: Arc<AtomicBloomFilter>,
        capacity: usize,
        base: Vec<Revocation>,
    ) -> State {
        let (index, index_bits) = build_index(&base);
        State {
            filter,
            capacity,
            base,
            index,
            index_bits,
            recent: RwLock::new(Recent::default()),
        }
    }

    /// This state with `recent` merged into the base, keeping the filter (which already holds
    /// every key). The caller holds the writer lock and publishes the result.
    pub(crate) fn merged(&self) -> State {
        State::with_filter(Arc::clone(&self.filter), self.capacity, self.entries())
    }

    /// Whether `recent` has grown enough to be merged into the base.
    pub(crate) fn wants_merge(&self) -> bool {
        let recent = self.recent.read().unwrap_or_else(|p| p.into_inner()).len();
        recent > MIN_RECENT && recent > self.base.len() / 8
    }

    /// The revocation under `key` (the kind is in its low bits), merging the base entry and a
    /// newer one in `recent`.
    pub(crate) fn lookup(&self, key: &[u8; 16]) -> Option<Revocation> {
        if !self.filter.contains_hash(filter_hash(key)) {
            return None;
        }
        let p = prefix(key, self.index_bits);
        let (lo, hi) = (self.index[p] as usize, self.index[p + 1] as usize);
        let from_base = self.base[lo..hi]
            .binary_search_by(|e| e.key.cmp(key))
            .ok()
            .map(|i| self.base[lo + i]);
        let recent = self.recent.read().unwrap_or_else(|p| p.into_inner());
        let from_recent = recent.get(key).map(|&(until, cutoff)| Revocation {
            key: *key,
            until,
            cutoff,
        });
        match (from_base, from_recent) {
            (Some(a), Some(b)) => Some(a.merged(b)),
            (a, b) => a.or(b),
        }
    }

    /// Adds `r` (merging with an existing entry for the same key); returns whether the state
    /// now holds more entries than its filter was sized for.
    pub(crate) fn insert(&self, r: Revocation) -> bool {
        let mut recent = self.recent.write().unwrap_or_else(|p| p.into_inner());
        recent
            .entry(r.key)
            .and_modify(|(until, cutoff)| {
                *until = (*until).max(r.until);
                *cutoff = (*cutoff).max(r.cutoff);
            })
            .or_insert((r.until, r.cutoff));
        // The filter bit goes in while the entry is already readable in `recent`.
        self.filter.insert_hash(filter_hash(&r.key));
        self.base.len() + recent.len() > self.capacity
    }

    /// Every entry, base and recent merged, sorted by key, without duplicates.
    pub(crate) fn entries(&self) -> Vec<Revocation> {
        let mut recent: Vec<Revocation> = self
            .recent
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(key, &(until, cutoff))| Revocation {
                key: *key,
                until,
                cutoff,
            })
            .collect();
        recent.sort_unstable_by_key(|e| e.key);
        merge_sorted(&self.base, &recent)
    }

    /// How many entries are held.
    pub(crate) fn len(&self) -> usize {
        self.base.len() + self.recent.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The filter's size in bits.
    pub(crate) fn filter_bits(&self) -> usize {
        self.filter.num_bits()
    }

    /// How many entries of `base` and `recent` expire before `horizon` (unix seconds).
    pub(crate) fn count_expired(&self, horizon: u32) -> usize {
        let recent = self.recent.read().unwrap_or_else(|p| p.into_inner());
        self.base.iter().filter(|e| e.until < horizon).count()
            + recent
                .values()
                .filter(|(until, _)| *until < horizon)
                .count()
    }
}

/// Merges two sorted, duplicate-free lists into one, combining entries with the same key.
pub(crate) fn merge_sorted(a: &[Revocation], b: &[Revocation]) -> Vec<Revocation> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].key.cmp(&b[j].key) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i].merged(b[j]));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Sorts entries by key and merges duplicates, in place.
pub(crate) fn normalize(mut entries: Vec<Revocation>) -> Vec<Revocation> {
    entries.sort_unstable_by_key(|e| e.key);
    entries.dedup_by(|later, kept| {
        if later.key == kept.key {
            *kept = kept.merged(*later);
            true
        } else {
            false
        }
    });
    entries
}

#[cfg(test)]
mod tests {
    use super::super::RevocationKind;
    use super::*;

    fn rev(kind: RevocationKind, k: u8, until: u32, cutoff: u32) -> Revocation {
        Revocation::new(kind, [k; 16], until, cutoff)
    }

    #[test]
    fn entries_are_24_bytes() {
        assert_eq!(std::mem::size_of::<Revocation>(), 24);
    }

    #[test]
    fn merge_keeps_the_widest_revocation() {
        let a = normalize(vec![
            rev(RevocationKind::Token, 1, 10, 0),
            rev(RevocationKind::Subject, 3, 10, 5),
        ]);
        let b = normalize(vec![
            rev(RevocationKind::Token, 2, 10, 0),
            rev(RevocationKind::Subject, 3, 20, 9),
        ]);
        let m = merge_sorted(&a, &b);
        assert_eq!(m.len(), 3);
        assert_eq!(m[2], rev(RevocationKind::Subject, 3, 20, 9));
        let n = normalize(vec![b[1], a[1], a[0], a[0]]);
        assert_eq!(n, vec![a[0], rev(RevocationKind::Subject, 3, 20, 9)]);
    }

    #[test]
    fn the_kind_is_part_of_the_key() {
        let t = rev(RevocationKind::Token, 7, 1, 0);
        let s = rev(RevocationKind::Session, 7, 1, 0);
        assert_ne!(t.key, s.key);
        assert_eq!(t.kind(), RevocationKind::Token);
        assert_eq!(s.kind(), RevocationKind::Session);
    }

    #[test]
    fn index_finds_every_entry() {
        for n in [0usize, 1, 3, 4, 5, 100, 1000, 4097] {
            let entries: Vec<Revocation> = (0..n)
                .map(|i| {
                    let mut key = [0u8; 16];
                    key[..8].copy_from_slice(
                        &(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes(),
                    );
                    Revocation::new(RevocationKind::Token, key, 1, 0)
                })
                .collect();
            let s = State::build(normalize(entries.clone()), 0.01, 0);
            assert_eq!(s.index.len(), (1 << s.index_bits) + 1);
            for e in &entries {
                assert!(s.lookup(&e.key).is_some(), "n={n}");
            }
            if n == 0 {
                assert!(s.lookup(&[0xab; 16]).is_none());
            }
        }
    }

    #[test]
    fn lookup_sees_base_recent_and_merges() {
        let s = State::build(vec![rev(RevocationKind::Token, 1, 10, 0)], 0.01, 0);
        let token = rev(RevocationKind::Token, 1, 0, 0).key;
        let session = rev(RevocationKind::Session, 1, 0, 0).key;
        assert!(s.lookup(&token).is_some());
        assert!(s.lookup(&session).is_none());
        s.insert(rev(RevocationKind::Session, 1, 10, 0));
        s.insert(rev(RevocationKind::Token, 1, 20, 0));
        assert!(s.lookup(&session).is_some());
        assert_eq!(s.lookup(&token).unwrap().until, 20);
        assert_eq!(s.len(), 3, "base 1 + recent 2");
        assert_eq!(s.entries().len(), 2);
        let m = s.merged();
        assert!(Arc::ptr_eq(&m.filter, &s.filter));
        assert_eq!(m.base.len(), 2);
        assert_eq!(m.lookup(&token).unwrap().until, 20);
        assert!(m.lookup(&session).is_some());
    }
}
