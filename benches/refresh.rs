//! A refresh (verify the refresh token + compare-and-swap rotation + mint two tokens) against
//! one mint plus one verify, in one run.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use keycard::{Algorithm, Issuer, KeyRing, Keycard, NoCustomClaims, Verifier};

fn bench_refresh(c: &mut Criterion) {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    let issuer = Issuer::new(keys.clone());
    let verifier = Verifier::new(keys.clone());
    let kc = Keycard::builder(keys).build().unwrap();
    let mut g = c.benchmark_group("refresh");
    g.bench_function("mint_plus_verify", |b| {
        b.iter(|| {
            let t = issuer.access(black_box("alice")).mint().unwrap();
            verifier
                .verify_access::<NoCustomClaims>(t.as_str())
                .unwrap()
        })
    });
    let mut current = kc.login("alice", &NoCustomClaims {}, None).unwrap().refresh;
    g.bench_function("keycard_refresh", |b| {
        b.iter(|| {
            let pair = kc.refresh(black_box(current.as_str()), None).unwrap();
            current = pair.refresh;
        })
    });
    g.finish();
}

criterion_group!(
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench_refresh
);
criterion_main!(benches);
