//! Secrets do not stay behind in freed heap memory: importing a JWK, exporting and re-reading a
//! key set must free no block that still holds the base64url text of a secret key.
//!
//! The test installs a global allocator that, while armed, scans every block before releasing it
//! for a needle (the secret's base64url text) and counts the blocks that hold it. Blocks keycard
//! wipes before freeing (`Zeroizing`) do not count; a `String` copy dropped as is does.
//!
//! This is the one place in the repository with `unsafe` code: an allocator must implement
//! `GlobalAlloc` and read the blocks it is handed. It only forwards to the system allocator.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use keycard::{Algorithm, Key, KeyRing};
use zeroize::Zeroizing;

const MAX_NEEDLE: usize = 64;

static ARMED: AtomicBool = AtomicBool::new(false);
static NEEDLE: [AtomicU8; MAX_NEEDLE] = [const { AtomicU8::new(0) }; MAX_NEEDLE];
static NEEDLE_LEN: AtomicUsize = AtomicUsize::new(0);
static HITS: AtomicUsize = AtomicUsize::new(0);

struct Scanning;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; `dealloc` also
// reads the block it is about to release, which the caller guarantees is a live allocation of
// `layout.size()` bytes obtained from this allocator.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Acquire) {
            // SAFETY: `ptr` is live for `layout.size()` bytes until the call below.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if holds_needle(block) {
                HITS.fetch_add(1, Ordering::Relaxed);
            }
        }
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

/// A plain scan: nothing here may allocate.
fn holds_needle(block: &[u8]) -> bool {
    let len = NEEDLE_LEN.load(Ordering::Acquire);
    if len == 0 || block.len() < len {
        return false;
    }
    let mut needle = [0u8; MAX_NEEDLE];
    for (slot, b) in needle.iter_mut().zip(&NEEDLE[..len]) {
        *slot = b.load(Ordering::Relaxed);
    }
    block.windows(len).any(|w| w == &needle[..len])
}

/// Runs `f` with the allocator scanning for `needle`; returns how many freed blocks held it.
fn freed_copies(needle: &str, f: impl FnOnce()) -> usize {
    assert!(needle.len() <= MAX_NEEDLE);
    for (slot, b) in NEEDLE.iter().zip(needle.as_bytes()) {
        slot.store(*b, Ordering::Relaxed);
    }
    NEEDLE_LEN.store(needle.len(), Ordering::Release);
    HITS.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::Release);
    f();
    ARMED.store(false, Ordering::Release);
    NEEDLE_LEN.store(0, Ordering::Release);
    HITS.load(Ordering::Relaxed)
}

/// The base64url secret member (`d` or `k`) of a key's secret JWK, without a plain copy.
fn secret_member(jwk: &str) -> Zeroizing<String> {
    let name = if jwk.contains(r#""d":""#) {
        r#""d":""#
    } else {
        r#""k":""#
    };
    let start = jwk.find(name).unwrap() + name.len();
    let end = start + jwk[start..].find('"').unwrap();
    let mut out = Zeroizing::new(String::with_capacity(end - start));
    out.push_str(&jwk[start..end]);
    out
}

#[test]
fn jwk_import_and_key_set_export_leave_no_secret_in_freed_memory() {
    let dir = std::env::temp_dir().join(format!("keycard-hygiene-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for alg in [Algorithm::HS256, Algorithm::EdDSA, Algorithm::V4Local] {
        let key = Key::generate(alg).unwrap();
        let jwk = key.to_secret_jwk().unwrap();
        let needle = secret_member(&jwk);
        let path = dir.join(format!("{alg}.json"));
        let hits = freed_copies(&needle, || {
            // Import, and drop the imported key.
            drop(Key::from_jwk(&jwk).unwrap());
            // A key set holding it, written out and read back.
            let ring = KeyRing::new();
            ring.add_active(Key::from_jwk(&jwk).unwrap()).unwrap();
            drop(ring.to_secret_jwk_set());
            ring.save(&path).unwrap();
            drop(KeyRing::load(&path).unwrap());
        });
        assert_eq!(
            hits, 0,
            "{alg}: {hits} freed block(s) still held the secret"
        );
        // Positive control: a plain copy dropped as is is found.
        let caught = freed_copies(&needle, || {
            let copy: String = needle.as_str().to_owned();
            drop(std::hint::black_box(copy));
        });
        assert_eq!(caught, 1, "{alg}: the scanner must see an unwiped copy");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
