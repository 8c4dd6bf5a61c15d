//! Many nodes on one Redis (a loopback `redis-server` this bench starts), beside the memory store:
//! - **rotations per second**: refresh-token rotations, one client and 16 concurrent clients (each
//!   its own session) on a 2-worker tokio runtime;
//! - **propagation**: node A logs a session out; how long until node B rejects its access token,
//!   p50 and p99 over 1,000 trials;
//! - **verify**: an EdDSA verify on a node whose revocations are a full Redis replica, against the
//!   same verify on the memory store and the raw signature check (criterion, same run).
//!
//! `cargo bench -p keycard-bench --bench redis` (needs redis-server); it writes
//! `target/criterion/redis.json` for `bench-table`.

#[path = "../tests/common/redis_server.rs"]
mod redis_server;
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use keycard::refresh::SessionStore;
use keycard::stores::{MemoryStore, RedisOptions, RedisStore};
use keycard::{Algorithm, KeyRing, Keycard, NoCustomClaims};

fn keys() -> Arc<KeyRing> {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    keys.rotate_refresh_key().unwrap();
    keys
}

fn copy(keys: &KeyRing) -> Arc<KeyRing> {
    Arc::new(KeyRing::from_jwk_set(&keys.to_secret_jwk_set()).unwrap())
}

fn keycard(keys: Arc<KeyRing>, store: Arc<dyn SessionStore>) -> Keycard {
    Keycard::builder(keys).store(store).build().unwrap()
}

fn redis_store(url: &str, keys: Arc<KeyRing>) -> Arc<dyn SessionStore> {
    Arc::new(RedisStore::connect(url, keys, RedisOptions::new()).unwrap())
}

/// Refresh rotations per second with `clients` concurrent clients, each rotating its own session,
/// on a 2-worker tokio runtime (the server's own; a Redis store is connected on it).
fn rotations_per_second(
    store: &str,
    url: &str,
    ring: &KeyRing,
    clients: usize,
    run: Duration,
) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store: Arc<dyn SessionStore> = match store {
            "memory" => Arc::new(MemoryStore::new()),
            _ => Arc::new(
                RedisStore::connect_async(url, copy(ring), RedisOptions::new())
                    .await
                    .unwrap(),
            ),
        };
        let kc = Arc::new(keycard(copy(ring), store));
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for i in 0..clients {
            let (kc, stop, done) = (kc.clone(), stop.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let mut current = kc
                    .login_async(&format!("user{i}"), &NoCustomClaims {}, None)
                    .await
                    .unwrap()
                    .refresh;
                while !stop.load(Ordering::Relaxed) {
                    current = kc
                        .refresh_async(current.as_str(), None)
                        .await
                        .unwrap()
                        .refresh;
                    done.fetch_add(1, Ordering::Relaxed);
                    // One request per loop: a server yields between requests (the memory
                    // store's futures are ready at once and would never yield).
                    tokio::task::yield_now().await;
                }
            }));
        }
        // Warm up, then count over `run`.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let start = done.load(Ordering::Relaxed);
        let t0 = Instant::now();
        tokio::time::sleep(run).await;
        let n = done.load(Ordering::Relaxed) - start;
        let secs = t0.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        n as f64 / secs
    })
}

/// Logout on A to rejection on B, over `trials`: sorted latencies.
fn propagation(url: &str, keys: &KeyRing, trials: usize) -> Vec<Duration> {
    let a = keycard(copy(keys), redis_store(url, copy(keys)));
    let b = keycard(copy(keys), redis_store(url, copy(keys)));
    let mut out = Vec::with_capacity(trials);
    for i in 0..trials {
        let p = a.login(&format!("p{i}"), &NoCustomClaims {}, None).unwrap();
        let v = a.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
        assert!(b.verify::<NoCustomClaims>(p.access.as_str()).is_ok());
        a.logout(&v).unwrap();
        let t0 = Instant::now();
        while b.verify::<NoCustomClaims>(p.access.as_str()).is_ok() {
            assert!(t0.elapsed() < Duration::from_secs(5), "never propagated");
        }
        out.push(t0.elapsed());
    }
    out.sort();
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn verify_group(c: &mut Criterion, url: &str) {
    use ed25519_dalek::Verifier as _;
    let keys = keys();
    let memory = keycard(keys.clone(), Arc::new(MemoryStore::new()));
    let redis = keycard(copy(&keys), redis_store(url, copy(&keys)));
    let token = memory
        .issuer()
        .access("alice")
        .mint()
        .unwrap()
        .into_string();
    // The raw signature check of the same token: Ed25519 over the JWS signing input.
    let (input, sig) = token.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    let key = keys.active(keycard::Format::Jwt).unwrap();
    let pk: [u8; 32] = key.public_key_bytes().unwrap().try_into().unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    let mut g = c.benchmark_group("verify_replica");
    g.bench_function("raw_signature", |b| {
        b.iter(|| vk.verify(black_box(input.as_bytes()), &sig).unwrap())
    });
    g.bench_function("memory_store", |b| {
        b.iter(|| memory.verify::<NoCustomClaims>(black_box(&token)).unwrap())
    });
    g.bench_function("redis_full_replica", |b| {
        b.iter(|| redis.verify::<NoCustomClaims>(black_box(&token)).unwrap())
    });
    g.finish();
}

fn main() {
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("redis-server is needed for this bench (apt-get install -y redis-server)");
        return;
    }
    let server = redis_server::RedisServer::start_with(&["--appendfsync", "everysec"]);
    let url = server.url();
    let ring = keys();
    let run = Duration::from_secs(3);
    let mut rows = Vec::new();
    for (store, clients) in [("memory", 1), ("memory", 16), ("redis", 1), ("redis", 16)] {
        let rate = rotations_per_second(store, &url, &ring, clients, run);
        println!("redis/rotations/{store}/{clients}: {rate:.0} refresh rotations/s");
        rows.push(serde_json::json!({"store": store, "clients": clients, "per_second": rate}));
    }
    let lat = propagation(&url, &ring, 1000);
    let (p50, p99) = (percentile(&lat, 0.50), percentile(&lat, 0.99));
    println!(
        "redis/propagation: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} trials",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3,
        lat.len()
    );
    let report = serde_json::json!({
        "rotations": rows,
        "propagation_ms": {"p50": p50.as_secs_f64() * 1e3, "p99": p99.as_secs_f64() * 1e3,
            "max": lat[lat.len() - 1].as_secs_f64() * 1e3, "trials": lat.len()},
    });
    let dir = support::criterion_dir();
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("redis.json"), report.to_string());

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    verify_group(&mut c, &url);
    c.final_summary();
}
