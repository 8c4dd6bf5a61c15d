//! A cache of verified access tokens: the signature of a token seen before is not checked again.
//!
//! An API client sends the same access token with every request for minutes; checking its
//! Ed25519 signature each time costs about 40 µs of CPU, more than a small JSON handler. The
//! cache remembers what a successful verification learned (the claims, the format, the key),
//! keyed by the **whole token string**, so a hit means these exact bytes were verified before: no
//! hash collision can make a forged token hit.
//!
//! A hit skips only the cryptography and the parsing. Every check that depends on *now* or on
//! state still runs: the size limit and the accepted formats, the key (it must still be in the
//! ring and still verifying, and be the very key object that verified the token, so a reloaded
//! key set with other material under the same kid misses), `exp`/`nbf`/`iat` with the leeway,
//! `iss`/`aud`, the token type, and the revocation list. Nothing revoked, expired or retired is
//! ever served from the cache.
//!
//! Only successful verifications of access tokens are stored (failures are not, so garbage never
//! fills it); refresh tokens are redeemed once and never cached. Memory is bounded by the
//! capacity: at capacity a shard first drops its expired entries, then half of the rest.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, Mutex, Weak};

use serde_json::{Map, Value};

use crate::claims::{Claims, TokenType};
use crate::clock::Timestamp;
use crate::keys::{Format, Key, Kid};

const SHARDS: usize = 16;

/// A cached token and what its verification learned.
struct Slot {
    /// The token itself: a hit compares it in full, so only these exact bytes ever hit.
    token: Box<str>,
    entry: Entry,
}

/// What a successful verification learned about a token.
#[derive(Clone)]
pub(super) struct Entry {
    pub(super) claims: Claims<Map<String, Value>>,
    pub(super) format: Format,
    pub(super) kind: TokenType,
    pub(super) kid: Kid,
    /// The key object that verified it (compared by address, never dereferenced; a weak
    /// reference does not keep a dropped key's material alive).
    pub(super) key: Weak<Key>,
}

impl Entry {
    /// Whether `key`, the key the ring now holds under the token's kid, is the one that
    /// verified it.
    pub(super) fn same_key(&self, key: &Arc<Key>) -> bool {
        std::ptr::eq(self.key.as_ptr(), Arc::as_ptr(key))
    }
}

/// The map's keys are already keyed hashes of the tokens: hashing them again would only cost.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the keys are `u64`); fold anything else in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One shard: a keyed hash of the token (one pass over it picks the shard and the bucket) to
/// the entry, which holds the token for the exact comparison.
type Shard = Mutex<HashMap<u64, Slot, BuildHasherDefault<Prehashed>>>;

/// A bounded, sharded map from token strings to what their verification learned. Shared by the
/// clones of a [`Verifier`](super::Verifier).
pub(super) struct VerifiedCache {
    shards: Box<[Shard]>,
    per_shard: usize,
    hasher: RandomState,
}

impl VerifiedCache {
    pub(super) fn new(capacity: usize) -> VerifiedCache {
        VerifiedCache {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// The token's keyed hash (SipHash under a per-process random key: neither the shard nor
    /// the bucket a token lands in is chosen by the client) and its shard.
    fn locate(&self, token: &str) -> (u64, &Shard) {
        let h = self.hasher.hash_one(token);
        (h, &self.shards[(h >> 60) as usize % SHARDS])
    }

    pub(super) fn get(&self, token: &str) -> Option<Entry> {
        let (h, shard) = self.locate(token);
        let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        // Two tokens with one hash: the other's entry is no hit.
        shard
            .get(&h)
            .filter(|s| &*s.token == token)
            .map(|s| s.entry.clone())
    }

    /// Stores an entry (replacing one whose token had the same hash); `now` decides which
    /// entries are dead when the shard is full.
    pub(super) fn insert(&self, token: &str, entry: Entry, now: Timestamp) {
        let (h, shard) = self.locate(token);
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        if shard.len() >= self.per_shard && !shard.contains_key(&h) {
            shard.retain(|_, s| s.entry.claims.exp > now);
            if shard.len() >= self.per_shard {
                let mut keep = false;
                shard.retain(|_, _| {
                    keep = !keep;
                    keep
                });
            }
        }
        let token = token.into();
        shard.insert(h, Slot { token, entry });
    }

    /// Forgets the entry of `token` (its key is gone).
    pub(super) fn remove(&self, token: &str) {
        let (h, shard) = self.locate(token);
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        if shard.get(&h).is_some_and(|e| &*e.token == token) {
            shard.remove(&h);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts only: the keys are bearer tokens.
        f.debug_struct("VerifiedCache")
            .field("entries", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}
