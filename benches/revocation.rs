//! Revocation lookups at 1M and 10M live entries, next to the raw structures they are built from,
//! and the verify path with and without a 1M-entry list.
//!
//! Groups:
//! - `revocation_1m`, `revocation_10m`: keycard's lookup of a non-revoked and of a revoked id;
//!   baselines: an exact `HashSet<[u8; 16]>` with std's SipHash (`hashset_sip`), the `bloomfilter`
//!   crate (the design's first choice) and `fastbloom` (keycard's filter) alone, all holding the
//!   same keys;
//! - `verify_with_revocation`: full JWT EdDSA verify without a list (baseline) and with a 1M list.
//! - `revocation_build`: building the filter for 10M entries (one iteration).
//!
//! Memory per entry and multi-thread scaling are measured by `benches/revocation_memory.rs` and
//! `benches/concurrency.rs` (no criterion: a counting allocator and a wall-clock throughput run).

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use support::revoked_list;

mod support;
use keycard::{Algorithm, Issuer, KeyRing, NoCustomClaims, TokenId, Verifier};

fn key(id: &TokenId) -> [u8; 16] {
    // The raw structures hold the id's 16 decoded bytes, as keycard's list does.
    use base64::Engine as _;
    let mut k = [0u8; 16];
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_slice(id.as_str(), &mut k)
        .unwrap();
    k
}

fn bench_size(c: &mut Criterion, n: usize, group: &str) {
    let (list, revoked) = revoked_list(n);
    let fresh: Vec<TokenId> = (0..4096).map(|_| TokenId::random()).collect();
    let probe_revoked: Vec<TokenId> = revoked.iter().step_by(n / 4096).cloned().collect();

    let set: HashSet<[u8; 16]> = revoked.iter().map(key).collect();
    let mut bloom = bloomfilter::Bloom::new_for_fp_rate(n, 0.01).unwrap();
    let fast = fastbloom::BloomFilter::with_false_pos(0.01).expected_items(n);
    let mut fast = fast;
    for id in &revoked {
        bloom.set(&key(id));
        fast.insert(&key(id));
    }
    let fresh_keys: Vec<[u8; 16]> = fresh.iter().map(key).collect();

    let mut g = c.benchmark_group(group);
    g.sample_size(50);
    let mut i = 0usize;
    g.bench_function("hashset_sip", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(set.contains(&fresh_keys[i]))
        })
    });
    g.bench_function("bloomfilter_crate", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(bloom.check(&fresh_keys[i]))
        })
    });
    g.bench_function("fastbloom_crate", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(fast.contains(&fresh_keys[i]))
        })
    });
    g.bench_function("keycard_not_revoked", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            assert!(!list.is_token_revoked(black_box(&fresh[i])))
        })
    });
    g.bench_function("keycard_revoked", |b| {
        b.iter(|| {
            i = (i + 1) % probe_revoked.len();
            assert!(list.is_token_revoked(black_box(&probe_revoked[i])))
        })
    });
    g.finish();
}

fn bench_1m(c: &mut Criterion) {
    bench_size(c, 1_000_000, "revocation_1m");
}

fn bench_10m(c: &mut Criterion) {
    bench_size(c, 10_000_000, "revocation_10m");
}

fn bench_verify(c: &mut Criterion) {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    let token = Issuer::new(keys.clone()).access("alice").mint().unwrap();
    let plain = Verifier::new(keys.clone());
    let (list, _) = revoked_list(1_000_000);
    let with_list = Verifier::new(keys).with_revocations(Arc::new(list));
    let mut g = c.benchmark_group("verify_with_revocation");
    g.bench_function("verify_no_list", |b| {
        b.iter(|| {
            plain
                .verify_access::<NoCustomClaims>(black_box(token.as_str()))
                .unwrap()
        })
    });
    g.bench_function("verify_list_1m", |b| {
        b.iter(|| {
            with_list
                .verify_access::<NoCustomClaims>(black_box(token.as_str()))
                .unwrap()
        })
    });
    g.finish();
}

fn bench_build(c: &mut Criterion) {
    let (list, _) = revoked_list(10_000_000);
    let mut g = c.benchmark_group("revocation_build");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("rebuild_10m", |b| b.iter(|| list.compact().unwrap()));
    g.finish();
}

criterion_group!(
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench_1m, bench_10m, bench_verify, bench_build
);
criterion_main!(benches);
