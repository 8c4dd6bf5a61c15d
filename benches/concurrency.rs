//! Read scaling: verify throughput with one and with two reader threads while a writer revokes
//! 1,000 tokens per second and prunes every second, against a list of 1M live entries.
//!
//! Two scenarios: `prune` (the list decides when a rebuild is worth it: realistic) and
//! `compact` (a full 1M-entry rebuild every second: worst case for readers). Prints ops/s and the
//! 2-thread/1-thread ratio, and writes `target/criterion/concurrency.json` for
//! `bench-table`. Wall-clock throughput on a 2-core machine: close any other load first.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use keycard::revocation::RevocationList;

mod support;
use keycard::{Algorithm, Issuer, KeyRing, NoCustomClaims, TokenId, Verifier};

const RUN: Duration = Duration::from_secs(4);

/// What the writer thread does alongside the readers.
#[derive(Clone, Copy, PartialEq)]
enum Writer {
    /// Nothing: pure read scaling, for reference.
    Idle,
    /// 1,000 revocations per second and `prune()` every second.
    Prune,
    /// 1,000 revocations per second and a full `compact()` every second.
    Compact,
}

fn run(
    verifier: &Verifier,
    token: &str,
    list: &Arc<RevocationList>,
    readers: usize,
    writer: Writer,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let elapsed = thread::scope(|s| {
        let writer_stop = stop.clone();
        let writer_list = list.clone();
        s.spawn(move || {
            if writer == Writer::Idle {
                return;
            }
            let mut n = 0u64;
            let start = Instant::now();
            while !writer_stop.load(Ordering::Relaxed) {
                // 1,000 revocations per second, in 10 ms batches of 10.
                for _ in 0..10 {
                    let id = TokenId::random();
                    let until = keycard::Clock::now(&keycard::SystemClock);
                    writer_list.revoke_token(&id, until).unwrap();
                    n += 1;
                }
                if n.is_multiple_of(1000) {
                    let pruned = if writer == Writer::Compact {
                        writer_list.compact()
                    } else {
                        writer_list.prune()
                    };
                    pruned.unwrap();
                }
                let due = start + Duration::from_millis(n);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    thread::sleep(wait);
                }
            }
        });
        let start = Instant::now();
        for _ in 0..readers {
            let (stop, done) = (stop.clone(), done.clone());
            s.spawn(move || {
                let mut local = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..16 {
                        black_box(verifier.verify_access::<NoCustomClaims>(token).unwrap());
                    }
                    local += 16;
                }
                done.fetch_add(local, Ordering::Relaxed);
            });
        }
        thread::sleep(RUN);
        stop.store(true, Ordering::Relaxed);
        start.elapsed()
    });
    done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

fn main() {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    keys.rotate(Algorithm::HS256).unwrap();
    let issuer = Issuer::new(keys.clone());
    let (list, _) = support::revoked_list(1_000_000);
    let list = Arc::new(list.with_prune_margin(Duration::from_secs(60)));
    let verifier = Verifier::new(keys.clone()).with_revocations(list.clone());
    let mut rows = Vec::new();
    for (alg, label) in [(Algorithm::EdDSA, "eddsa"), (Algorithm::HS256, "hs256")] {
        let kid = keys
            .statuses()
            .into_iter()
            .find(|s| s.algorithm == alg)
            .unwrap()
            .kid;
        let token = issuer.access("alice").kid(&kid).mint().unwrap();
        for (writer, scenario) in [
            (Writer::Idle, "idle"),
            (Writer::Prune, "prune"),
            (Writer::Compact, "compact"),
        ] {
            let one = run(&verifier, token.as_str(), &list, 1, writer);
            let two = run(&verifier, token.as_str(), &list, 2, writer);
            println!(
                "concurrency/{label}/{scenario}: 1 thread {one:.0} verifies/s, 2 threads {two:.0}/s, ratio {:.2}",
                two / one
            );
            rows.push(serde_json::json!({"alg": label, "scenario": scenario,
                "one": one, "two": two, "ratio": two / one}));
        }
    }
    let dir = support::criterion_dir();
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("concurrency.json"),
        serde_json::json!(rows).to_string(),
    );
}
