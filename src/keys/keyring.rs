//! The key ring: the keys in use and their rotation states.
//!
//! ```text
//!  rotate(alg)          rotate(alg) again           until passes (or retire)
//! ─────────────> Active ─────────────> Verifying{until} ──────────────────────> gone
//!                                      (verifies only)                          (unknown_key)
//! ```
//!
//! One access-token key per [`Format`] is `Active`, and one refresh-token key
//! ([`KeyPurpose::Refresh`], always `v4.local`): it mints and verifies. When a new key of the format becomes
//! active, the previous one keeps verifying for the ring's grace period (set it to at least the
//! longest token lifetime), then is retired: tokens it signed are rejected with `unknown_key`.
//! Imported keys can also be verification-only without a deadline (a peer service's public key).
//!
//! Readers never block: every verification loads an immutable snapshot (`arc-swap`), and
//! rotation publishes a new snapshot.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::jwk::{self, JwkOverrides, JwkState};
use super::{Algorithm, Format, Key, KeyPurpose, Kid};
use crate::clock::{SharedClock, SystemClock, Timestamp};
use crate::error::{Error, Result};

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyState {
    /// The signing key of its format; also verifies.
    Active,
    /// Verifies tokens until `until` (exclusive), then counts as retired; `None` verifies until
    /// removed (for imported public keys of a peer).
    Verifying {
        /// End of the grace period.
        until: Option<Timestamp>,
    },
}

/// A summary of one key in the ring, for listings (no key material).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStatus {
    /// The key id.
    pub kid: Kid,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// What it seals: access or refresh tokens.
    pub purpose: KeyPurpose,
    /// Its rotation state.
    pub state: KeyState,
    /// Whether it holds secret material.
    pub has_secret: bool,
}

#[derive(Clone)]
struct Entry {
    key: Arc<Key>,
    state: KeyState,
}

/// An immutable snapshot of the ring, as one verification sees it.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    entries: Vec<Entry>,
}

impl KeySet {
    /// The key named `kid` if it may verify at `now`: active, or within its grace period.
    ///
    /// `kid` is compared byte for byte against the few keys in the ring; it is never parsed,
    /// resolved or fetched.
    pub(crate) fn find(&self, kid: &str, now: Timestamp) -> Option<&Arc<Key>> {
        self.entries
            .iter()
            .find(|e| e.key.kid().as_str() == kid)
            .filter(|e| match e.state {
                KeyState::Active | KeyState::Verifying { until: None } => true,
                KeyState::Verifying { until: Some(t) } => now < t,
            })
            .map(|e| &e.key)
    }

    #[cfg(test)]
    pub(crate) fn push_for_tests(&mut self, key: Arc<Key>) {
        self.entries.push(Entry {
            key,
            state: KeyState::Active,
        });
    }

    /// The active key of a slot: an access-token format, or the refresh-token key.
    fn active(&self, slot: Slot) -> Option<&Arc<Key>> {
        self.entries
            .iter()
            .find(|e| e.state == KeyState::Active && Slot::of(&e.key) == slot)
            .map(|e| &e.key)
    }
}

/// Where a key can be the active one: one slot per access-token format, and one for the
/// refresh-token key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Access(Format),
    Refresh,
}

impl Slot {
    fn of(key: &Key) -> Slot {
        match key.purpose() {
            // A foreign key is never active (it cannot sign): it shares its format's slot only
            // for bookkeeping.
            KeyPurpose::Access | KeyPurpose::Foreign => Slot::Access(key.format()),
            KeyPurpose::Refresh => Slot::Refresh,
        }
    }

    /// A dense index, for per-slot tables.
    fn index(self) -> usize {
        match self {
            Slot::Access(f) => f.index(),
            Slot::Refresh => Format::ALL.len(),
        }
    }

    const COUNT: usize = Format::ALL.len() + 1;
}

/// The keys in use: one active signing key per format, older keys verifying through a grace
/// period, retired keys gone.
///
/// ```
/// use std::time::Duration;
/// use keycard::keys::{Algorithm, KeyRing};
/// let ring = KeyRing::new().with_grace(Duration::from_secs(3600));
/// let first = ring.rotate(Algorithm::EdDSA)?;
/// let second = ring.rotate(Algorithm::EdDSA)?; // `first` now verifies for one more hour
/// assert_eq!(ring.active(keycard::Format::Jwt).unwrap().kid(), &second);
/// # Ok::<(), keycard::Error>(())
/// ```
pub struct KeyRing {
    set: ArcSwap<KeySet>,
    write: Mutex<()>,
    grace: Duration,
    clock: SharedClock,
}

impl Default for KeyRing {
    fn default() -> Self {
        KeyRing::new()
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.statuses())
            .field("grace", &self.grace)
            .finish()
    }
}

impl KeyRing {
    /// The default grace period: one hour, above the default access-token lifetime (5 min) and
    /// refresh idle timeout (30 min).
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

    /// An empty ring with the default grace period and the system clock.
    pub fn new() -> KeyRing {
        KeyRing {
            set: ArcSwap::from_pointee(KeySet::default()),
            write: Mutex::new(()),
            grace: KeyRing::DEFAULT_GRACE,
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets how long a key keeps verifying after a newer key of its format becomes active.
    pub fn with_grace(mut self, grace: Duration) -> KeyRing {
        self.grace = grace;
        self
    }

    /// Uses `clock` to date rotations and to judge grace periods.
    pub fn with_clock(mut self, clock: SharedClock) -> KeyRing {
        self.clock = clock;
        self
    }

    /// The grace period.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.set.load()
    }

    /// Applies `change` to a copy of the current set and publishes it; writers are serialized.
    fn update<T>(&self, change: impl FnOnce(&mut KeySet) -> Result<T>) -> Result<T> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = KeySet::clone(&self.set.load());
        let out = change(&mut next)?;
        self.set.store(Arc::new(next));
        Ok(out)
    }

    /// Generates a fresh key of `alg` (OS CSPRNG) and makes it the active key of its format; the
    /// previous active key of that format verifies for the grace period.
    pub fn rotate(&self, alg: Algorithm) -> Result<Kid> {
        let key = Key::generate(alg)?;
        let kid = key.kid().clone();
        self.add(key, true)?;
        Ok(kid)
    }

    /// Generates a fresh refresh-token key ([`Key::generate_refresh`]) and makes it the active
    /// one; the previous refresh-token key keeps opening refresh tokens for the grace period.
    ///
    /// A [`Keycard`](crate::Keycard) built over a ring without one generates it itself. When
    /// several nodes share one key set, generate it once and save it with the set, or each node
    /// will refuse the others' refresh tokens.
    pub fn rotate_refresh_key(&self) -> Result<Kid> {
        let key = Key::generate_refresh()?;
        let kid = key.kid().clone();
        self.add(key, true)?;
        Ok(kid)
    }

    /// Adds a key holding secret material as the active key of its format (the previous active
    /// key enters its grace period); a refresh-token key becomes the active refresh-token key.
    pub fn add_active(&self, key: Key) -> Result<()> {
        if !key.has_secret() {
            return Err(Error::Config(
                "a public-only key cannot be the active signing key".into(),
            ));
        }
        self.add(key, true)
    }

    /// Adds a key that only verifies, with no deadline (for example a peer's public key).
    pub fn add_verify_only(&self, key: Key) -> Result<()> {
        self.add(key, false)
    }

    fn add(&self, key: Key, active: bool) -> Result<()> {
        let now = self.clock.now();
        let until = now.saturating_add(self.grace);
        self.update(|set| {
            if set.entries.iter().any(|e| e.key.kid() == key.kid()) {
                return Err(Error::Config(format!(
                    "the key ring already holds kid `{}`",
                    key.kid()
                )));
            }
            if active {
                let slot = Slot::of(&key);
                for e in &mut set.entries {
                    if e.state == KeyState::Active && Slot::of(&e.key) == slot {
                        e.state = KeyState::Verifying { until: Some(until) };
                    }
                }
            }
            let state = if active {
                KeyState::Active
            } else {
                KeyState::Verifying { until: None }
            };
            set.entries.push(Entry {
                key: Arc::new(key),
                state,
            });
            Ok(())
        })
    }

    /// Makes an existing key holding secret material the active key of its format.
    ///
    /// A retired key (its grace period over) cannot come back: tokens it signed are already
    /// refused, and reviving it would revive them.
    pub fn activate(&self, kid: &Kid) -> Result<()> {
        let now = self.clock.now();
        let until = now.saturating_add(self.grace);
        self.update(|set| {
            let idx = set
                .entries
                .iter()
                .position(|e| e.key.kid() == kid)
                .ok_or_else(|| Error::Config(format!("no key `{kid}` in the ring")))?;
            let slot = Slot::of(&set.entries[idx].key);
            if let KeyState::Verifying { until: Some(t) } = set.entries[idx].state
                && now >= t
            {
                return Err(Error::Config(format!(
                    "key `{kid}` is retired (its grace period ended at {t}); generate a new key"
                )));
            }
            if !set.entries[idx].key.has_secret() {
                return Err(Error::Config(
                    "a public-only key cannot be the active signing key".into(),
                ));
            }
            for (i, e) in set.entries.iter_mut().enumerate() {
                if i == idx {
                    e.state = KeyState::Active;
                } else if e.state == KeyState::Active && Slot::of(&e.key) == slot {
                    e.state = KeyState::Verifying { until: Some(until) };
                }
            }
            Ok(())
        })
    }

    /// Retires a key now: tokens it signed are rejected from this moment.
    pub fn retire(&self, kid: &Kid) -> Result<()> {
        self.update(|set| {
            let before = set.entries.len();
            set.entries.retain(|e| e.key.kid() != kid);
            if set.entries.len() == before {
                return Err(Error::Config(format!("no key `{kid}` in the ring")));
            }
            Ok(())
        })
    }

    /// Drops keys whose grace period has ended (lookups already ignore them); returns how many.
    pub fn prune(&self) -> usize {
        let now = self.clock.now();
        self.update(|set| {
            let before = set.entries.len();
            set.entries.retain(|e| match e.state {
                KeyState::Verifying { until: Some(t) } => now < t,
                _ => true,
            });
            Ok(before - set.entries.len())
        })
        .unwrap_or(0)
    }

    /// The active access-token key of `format`.
    pub fn active(&self, format: Format) -> Option<Arc<Key>> {
        self.snapshot().active(Slot::Access(format)).cloned()
    }

    /// The active refresh-token key.
    pub fn active_refresh(&self) -> Option<Arc<Key>> {
        self.snapshot().active(Slot::Refresh).cloned()
    }

    /// The key named `kid`, if it may verify now.
    pub fn get(&self, kid: &str) -> Option<Arc<Key>> {
        self.snapshot().find(kid, self.clock.now()).cloned()
    }

    /// Every key in the ring with its state (retired-by-time keys included until pruned).
    pub fn statuses(&self) -> Vec<KeyStatus> {
        self.snapshot()
            .entries
            .iter()
            .map(|e| KeyStatus {
                kid: e.key.kid().clone(),
                algorithm: e.key.algorithm(),
                purpose: e.key.purpose(),
                state: e.state,
                has_secret: e.key.has_secret(),
            })
            .collect()
    }

    /// The public JWK Set (RFC 7517) of the JWT keys that currently verify (`EdDSA`, `ES256`):
    /// what an API gateway or another service needs to check keycard's JWTs. Never a private
    /// member; HS256 and PASETO keys are not listed (PASETO public keys export as PASERK).
    pub fn public_jwks(&self) -> String {
        let now = self.clock.now();
        let set = self.snapshot();
        let keys: Vec<Value> = set
            .entries
            .iter()
            .filter(|e| e.key.format() == Format::Jwt && e.key.purpose() == KeyPurpose::Access)
            .filter(|e| set.find(e.key.kid().as_str(), now).is_some())
            .filter_map(|e| jwk::key_to_jwk(&e.key, false, None).map(Value::Object))
            .collect();
        json!({ "keys": keys }).to_string()
    }

    /// The whole ring as a JWK Set with secret members and keycard's state members
    /// (`keycard_active`, `keycard_verify_until`): the key-set file the CLI reads and writes.
    /// Handle it as the secret it is (write it with mode 0600).
    pub fn to_secret_jwk_set(&self) -> Zeroizing<String> {
        let set = self.snapshot();
        let keys: Vec<Value> = set
            .entries
            .iter()
            .filter_map(|e| {
                let state = match e.state {
                    KeyState::Active => JwkState {
                        active: true,
                        verify_until: None,
                        verify_only: false,
                    },
                    KeyState::Verifying { until } => JwkState {
                        active: false,
                        verify_until: until,
                        verify_only: until.is_none(),
                    },
                };
                jwk::key_to_jwk(&e.key, e.key.has_secret(), Some(state)).map(Value::Object)
            })
            .collect();
        // Built by moving the members in: `json!` would serialize a copy of every secret and
        // drop the originals unwiped.
        let mut set = serde_json::Map::new();
        set.insert("keys".into(), Value::Array(keys));
        jwk::secret_json_text(Value::Object(set))
    }

    /// Reads a key-set file (a JWK Set, as written by [`KeyRing::to_secret_jwk_set`] or by hand).
    ///
    /// Keys marked `"keycard_active": true` are active (at most one per format, and one
    /// refresh-token key, marked `"keycard_purpose": "refresh"`); when a format has secret keys
    /// but none is marked, the last one listed that is not marked `"keycard_verify_only": true`
    /// is active. Keys with
    /// `keycard_verify_until` verify until then; other keys verify without a deadline.
    pub fn from_jwk_set(text: &str) -> Result<KeyRing> {
        let ring = KeyRing::new();
        let mut set = KeySet::default();
        let mut marked = [false; Slot::COUNT];
        // Keys that must never be promoted to active by default.
        let mut pinned = Vec::new();
        for member in jwk::jwk_set_members(text)? {
            let (key, state) = jwk::key_from_jwk_value(member, &JwkOverrides::default())?;
            if set.entries.iter().any(|e| e.key.kid() == key.kid()) {
                return Err(Error::InvalidKey("duplicate kid in the JWK Set"));
            }
            let f = Slot::of(&key).index();
            let key_state = if state.active {
                if marked[f] {
                    return Err(Error::InvalidKey("two active keys for one format"));
                }
                if !key.has_secret() {
                    return Err(Error::InvalidKey("a public-only key is marked active"));
                }
                marked[f] = true;
                KeyState::Active
            } else {
                KeyState::Verifying {
                    until: state.verify_until,
                }
            };
            if state.verify_only {
                pinned.push(key.kid().clone());
            }
            set.entries.push(Entry {
                key: Arc::new(key),
                state: key_state,
            });
        }
        let slots = Format::ALL
            .map(Slot::Access)
            .into_iter()
            .chain([Slot::Refresh]);
        for slot in slots {
            if marked[slot.index()] {
                continue;
            }
            if let Some(e) = set.entries.iter_mut().rev().find(|e| {
                Slot::of(&e.key) == slot
                    && e.key.has_secret()
                    && !pinned.contains(e.key.kid())
                    && e.state == KeyState::Verifying { until: None }
            }) {
                e.state = KeyState::Active;
            }
        }
        ring.set.store(Arc::new(set));
        Ok(ring)
    }

    /// Writes the key-set file (see [`KeyRing::to_secret_jwk_set`]) atomically, mode 0600.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::atomic_file::write(path.as_ref(), self.to_secret_jwk_set().as_bytes(), 0o600)
    }

    /// Reads a key-set file written by [`KeyRing::save`] (or any JWK Set).
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<KeyRing> {
        let bytes = zeroize::Zeroizing::new(crate::atomic_file::read(
            path.as_ref(),
            super::jwk::MAX_JWK_BYTES as u64,
        )?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::InvalidKey("a key-set file is UTF-8 JSON"))?;
        KeyRing::from_jwk_set(text)
    }

    /// Imports, for verification only, every usable public key of another issuer's JWK Set (an
    /// identity provider's, or a keycard auth service's `/.well-known/jwks.json`), each as a
    /// [`KeyPurpose::Foreign`] key that verifies until removed. Keys keycard cannot use (another
    /// key type or curve, `use: "enc"`, a missing or unknown `alg`, symmetric keys) are skipped,
    /// logged (`tracing` warning) and returned with their reasons; a malformed key of a supported
    /// type, a private key or a kid the ring already holds refuses the whole set.
    pub fn add_foreign_jwk_set(&self, text: &str) -> Result<Vec<jwk::SkippedKey>> {
        let (keys, skipped) = jwk::foreign_keys_from_jwk_set(text)?;
        for s in &skipped {
            tracing::warn!(target: "keycard::keys", kid = s.kid.as_deref().unwrap_or("-"), reason = s.reason, "JWK Set key skipped");
        }
        self.update(|set| {
            for key in keys {
                if set.entries.iter().any(|e| e.key.kid() == key.kid()) {
                    return Err(Error::Config(format!(
                        "the key ring already holds kid `{}`",
                        key.kid()
                    )));
                }
                set.entries.push(Entry {
                    key: Arc::new(key),
                    state: KeyState::Verifying { until: None },
                });
            }
            Ok(())
        })?;
        Ok(skipped)
    }

    /// Makes this ring's foreign keys those of `text` (another issuer's JWK Set, fetched again):
    /// new kids are added; a kid whose key changed is replaced; a kid the set no longer holds
    /// keeps verifying for the ring's grace period, then retires (tokens it signed shortly before
    /// the issuer rotated stay valid). Keycard's own keys are untouched. Returns the keys skipped.
    pub fn sync_foreign_jwk_set(&self, text: &str) -> Result<Vec<jwk::SkippedKey>> {
        let (keys, skipped) = jwk::foreign_keys_from_jwk_set(text)?;
        let now = self.clock.now();
        let until = now.saturating_add(self.grace);
        self.update(|set| {
            for e in set.entries.iter_mut() {
                if e.key.purpose() != KeyPurpose::Foreign {
                    continue;
                }
                let listed = keys.iter().any(|k| k.kid() == e.key.kid());
                match (listed, e.state) {
                    (false, KeyState::Verifying { until: None }) => {
                        e.state = KeyState::Verifying { until: Some(until) };
                    }
                    (true, KeyState::Verifying { until: Some(_) }) => {
                        e.state = KeyState::Verifying { until: None };
                    }
                    _ => {}
                }
            }
            for key in keys {
                match set.entries.iter_mut().find(|e| e.key.kid() == key.kid()) {
                    Some(e) if e.key.purpose() != KeyPurpose::Foreign => {
                        return Err(Error::Config(format!(
                            "the fetched JWK Set names kid `{}`, one of this ring's own keys",
                            key.kid()
                        )));
                    }
                    Some(e) => {
                        if e.key.jwk_thumbprint() != key.jwk_thumbprint()
                            || e.key.algorithm() != key.algorithm()
                        {
                            e.key = Arc::new(key);
                        }
                    }
                    None => set.entries.push(Entry {
                        key: Arc::new(key),
                        state: KeyState::Verifying { until: None },
                    }),
                }
            }
            // Foreign keys past their grace verify nothing: drop them.
            set.entries.retain(|e| {
                e.key.purpose() != KeyPurpose::Foreign
                    || !matches!(e.state, KeyState::Verifying { until: Some(t) } if t <= now)
            });
            Ok(())
        })?;
        Ok(skipped)
    }

    /// Replaces the contents of this ring with `other`'s keys (keeping this ring's grace and
    /// clock); verifiers and issuers holding this ring see the new keys on their next call.
    pub fn replace_keys(&self, other: &KeyRing) {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        self.set.store(other.set.load_full());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn ring_at(t: i64) -> (KeyRing, ManualClock) {
        let clock = ManualClock::new(Timestamp::from_unix(t).unwrap());
        let ring = KeyRing::new()
            .with_grace(Duration::from_secs(600))
            .with_clock(Arc::new(clock.clone()));
        (ring, clock)
    }

    #[test]
    fn rotation_grace_then_retired() {
        let (ring, clock) = ring_at(1_000_000);
        let old = ring.rotate(Algorithm::EdDSA).unwrap();
        let new = ring.rotate(Algorithm::EdDSA).unwrap();
        assert_eq!(ring.active(Format::Jwt).unwrap().kid(), &new);
        assert!(ring.get(old.as_str()).is_some());
        clock.advance(Duration::from_secs(599));
        assert!(ring.get(old.as_str()).is_some());
        clock.advance(Duration::from_secs(1));
        assert!(ring.get(old.as_str()).is_none(), "retired after grace");
        assert!(ring.get(new.as_str()).is_some());
        assert_eq!(ring.prune(), 1);
        assert_eq!(ring.statuses().len(), 1);
    }

    #[test]
    fn one_active_key_per_format() {
        let (ring, _) = ring_at(1_000_000);
        let jwt = ring.rotate(Algorithm::EdDSA).unwrap();
        let public = ring.rotate(Algorithm::V4Public).unwrap();
        let hs = ring.rotate(Algorithm::HS256).unwrap();
        assert_eq!(ring.active(Format::Jwt).unwrap().kid(), &hs);
        assert_eq!(ring.active(Format::V4Public).unwrap().kid(), &public);
        assert!(ring.active(Format::V4Local).is_none());
        let states: Vec<_> = ring
            .statuses()
            .into_iter()
            .map(|s| (s.kid, s.state))
            .collect();
        assert!(matches!(states[0], (ref k, KeyState::Verifying { until: Some(_) }) if *k == jwt));
        ring.activate(&jwt).unwrap();
        assert_eq!(ring.active(Format::Jwt).unwrap().kid(), &jwt);
    }

    #[test]
    fn explicit_retire_and_duplicates() {
        let (ring, _) = ring_at(1_000_000);
        let k = Key::generate(Algorithm::HS256).unwrap();
        let kid = k.kid().clone();
        let dup = Key::from_jwk(&k.to_secret_jwk().unwrap()).unwrap();
        ring.add_active(k).unwrap();
        assert_eq!(ring.add_active(dup).unwrap_err().kind(), "config");
        ring.retire(&kid).unwrap();
        assert!(ring.get(kid.as_str()).is_none());
        assert!(ring.retire(&kid).is_err());
        let public = Key::generate(Algorithm::EdDSA)
            .unwrap()
            .to_public()
            .unwrap();
        assert!(ring.add_active(public).is_err());
    }

    #[test]
    fn key_set_file_round_trip_keeps_states() {
        let (ring, clock) = ring_at(1_000_000);
        for alg in Algorithm::MINTED {
            ring.rotate(alg).unwrap();
        }
        ring.rotate(Algorithm::EdDSA).unwrap();
        let peer = Key::generate(Algorithm::ES256)
            .unwrap()
            .to_public()
            .unwrap();
        ring.add_verify_only(peer).unwrap();
        let text = ring.to_secret_jwk_set();
        let back = KeyRing::from_jwk_set(&text)
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        assert_eq!(back.statuses(), ring.statuses());

        let jwks = ring.public_jwks();
        let v: Value = serde_json::from_str(&jwks).unwrap();
        let keys = v["keys"].as_array().unwrap();
        // EdDSA x2 and the peer's ES256 key; the ES256 key generated first lost "active" to the
        // HS256 key but still verifies. No HS256, no PASETO keys, no secret members.
        assert_eq!(keys.len(), 4);
        for k in keys {
            assert!(k.get("d").is_none() && k.get("k").is_none());
            assert!(matches!(k["alg"].as_str(), Some("EdDSA" | "ES256")));
        }
    }

    #[test]
    fn a_verify_only_secret_key_stays_verify_only_after_a_round_trip() {
        // Hardening: a secret key added with add_verify_only came back Active from a key file.
        let (ring, clock) = ring_at(1_000_000);
        let partner = Key::generate(Algorithm::HS256).unwrap();
        let partner_kid = partner.kid().clone();
        ring.add_verify_only(partner).unwrap();
        let ours = ring.rotate(Algorithm::EdDSA).unwrap();
        let back = KeyRing::from_jwk_set(&ring.to_secret_jwk_set())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        assert_eq!(back.statuses(), ring.statuses());
        assert_eq!(back.active(Format::Jwt).unwrap().kid(), &ours);
        // Also when it is the only JWT key.
        let (ring, _) = ring_at(1_000_000);
        ring.add_verify_only(Key::generate(Algorithm::HS256).unwrap())
            .unwrap();
        let back = KeyRing::from_jwk_set(&ring.to_secret_jwk_set()).unwrap();
        assert!(back.active(Format::Jwt).is_none());
        assert_eq!(back.statuses(), ring.statuses());
        assert!(
            ring.get(partner_kid.as_str()).is_none(),
            "another ring's key"
        );
    }

    #[test]
    fn a_retired_key_cannot_be_activated_again() {
        // Hardening: activate() used to resurrect a key whose grace had ended.
        let (ring, clock) = ring_at(1_000_000);
        let old = ring.rotate(Algorithm::EdDSA).unwrap();
        let new = ring.rotate(Algorithm::EdDSA).unwrap();
        clock.advance(Duration::from_secs(599));
        ring.activate(&old).unwrap(); // still within its grace: allowed
        ring.activate(&new).unwrap();
        clock.advance(Duration::from_secs(601));
        let err = ring.activate(&old).unwrap_err();
        assert_eq!(err.kind(), "config");
        assert!(err.to_string().contains("retired"), "{err}");
        assert!(ring.get(old.as_str()).is_none());
    }

    #[test]
    fn key_set_defaults_last_secret_key_active() {
        let a = Key::generate(Algorithm::EdDSA).unwrap();
        let b = Key::generate(Algorithm::EdDSA).unwrap();
        let text = format!(
            r#"{{"keys":[{},{}]}}"#,
            &*a.to_secret_jwk().unwrap(),
            &*b.to_secret_jwk().unwrap()
        );
        let ring = KeyRing::from_jwk_set(&text).unwrap();
        assert_eq!(ring.active(Format::Jwt).unwrap().kid(), b.kid());
        let two_active = text.replace(r#""use":"sig""#, r#""use":"sig","keycard_active":true"#);
        assert!(KeyRing::from_jwk_set(&two_active).is_err());
    }
}
