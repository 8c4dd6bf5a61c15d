//! Setup shared by the benchmark binaries.
#![allow(dead_code)]

use keycard::revocation::RevocationList;
use keycard::{Timestamp, TokenId};

/// A list holding `n` revoked keycard-shaped ids (random, 128 bits) that never expire,
/// compacted so every entry sits in the sorted base; returns the ids too.
pub fn revoked_list(n: usize) -> (RevocationList, Vec<TokenId>) {
    let list = RevocationList::new();
    let far = Timestamp::from_unix(4_000_000_000).unwrap();
    let ids: Vec<TokenId> = (0..n).map(|_| TokenId::random()).collect();
    for id in &ids {
        list.revoke_token(id, far).unwrap();
    }
    list.compact().unwrap();
    (list, ids)
}

/// Where criterion writes its results, and where the memory and concurrency runs write theirs:
/// `$CARGO_TARGET_DIR/criterion`, or the workspace's `target/criterion`.
pub fn criterion_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}
