//! The Token Status List at 1M live sessions: how many bytes a verifier fetches, per live
//! session, with none, 0.1%, 1% and 10% of them logged out; and how long the issuer takes to build
//! and sign it. The table is the memory store's (the Redis store's holds the same bits).
//!
//! `cargo bench -p keycard-bench --bench status_list`; it writes
//! `target/criterion/status_list.json` for `bench-table`.

mod support;

use std::time::{Duration, Instant};

use keycard::refresh::SessionStore;
use keycard::status::{StatusBits, mint_status_list};
use keycard::stores::MemoryStore;
use keycard::{Algorithm, KeyRing, Timestamp};
use serde_json::json;

const LIVE: u32 = 1_000_000;

fn main() {
    let keys = KeyRing::new();
    keys.rotate(Algorithm::EdDSA).unwrap();
    let key = keys.active(keycard::Format::Jwt).unwrap();
    let now = Timestamp::from_unix(1_800_000_000).unwrap();
    let later = Timestamp::from_unix(1_900_000_000).unwrap();
    let mut rows = Vec::new();
    for revoked_per_mille in [0u32, 1, 10, 100] {
        let store = MemoryStore::new();
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut taken = Vec::with_capacity(LIVE as usize);
        for _ in 0..LIVE {
            taken.push(pollster::block_on(store.status_allocate(next(), later)).unwrap());
        }
        let marks: Vec<(u32, Timestamp)> = taken
            .iter()
            .filter(|_| (next() % 1000) < u64::from(revoked_per_mille))
            .map(|i| (*i, later))
            .collect();
        pollster::block_on(store.status_mark(&marks)).unwrap();
        let started = Instant::now();
        let bytes = pollster::block_on(store.status_bits()).unwrap();
        let indices = bytes.len() * 8;
        let bits = StatusBits::new(1, bytes).unwrap();
        let token = mint_status_list(
            &key,
            Some("https://auth.example"),
            "https://auth.example/statuslists/1",
            &bits,
            now,
            Duration::from_secs(30),
            Duration::from_secs(120),
        )
        .unwrap();
        let build = started.elapsed();
        let per_session = token.len() as f64 / f64::from(LIVE);
        println!(
            "{LIVE} live sessions, {:.1}% revoked: list of {indices} indices, token {} bytes ({per_session:.4} B per live session), built and signed in {build:.2?}",
            f64::from(revoked_per_mille) / 10.0,
            token.len()
        );
        rows.push(json!({
            "live": LIVE,
            "revoked_percent": f64::from(revoked_per_mille) / 10.0,
            "indices": indices,
            "token_bytes": token.len(),
            "bytes_per_live_session": per_session,
            "build_ms": build.as_secs_f64() * 1000.0,
        }));
    }
    let out = support::criterion_dir();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("status_list.json"),
        serde_json::to_string_pretty(&rows).unwrap(),
    )
    .unwrap();
}
