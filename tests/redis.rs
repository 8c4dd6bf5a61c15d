//! Many nodes, one session space, against real `redis-server`s the tests start themselves:
//! propagation between nodes, refresh races across nodes and across OS processes, a server killed
//! under load and restarted from its AOF, a partition past the staleness bound, a node whose
//! stream position was trimmed away, compact replicas, forged data in Redis, and a three-master
//! Redis Cluster.
//!
//! Harness-less (`common/harness.rs`): without redis-server the tests are reported ignored, with the
//! reason, outside CI, and fail under CI. The binary is also its own child process for the
//! cross-process race (`KEYCARD_REDIS_CHILD`).

#[path = "common/mod.rs"]
mod common;
#[path = "common/dpop.rs"]
mod dpop;
#[path = "common/harness.rs"]
mod harness;
#[path = "common/oracle.rs"]
mod oracle;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use keycard::refresh::SessionEvent;
use keycard::stores::{RedisOptions, RedisStore, ReplicaMode};
use keycard::{Algorithm, KeyRing, Keycard, NoCustomClaims};
use oracle::Oracle;
use redis_server::{RedisCluster, RedisServer};

/// A key set every node of a test shares (as a key-set file would be), on the real clock.
fn shared_keys() -> Arc<KeyRing> {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    keys.rotate_refresh_key().unwrap();
    keys
}

/// The same ring as another node would load it from the shared key-set file.
fn copy(keys: &KeyRing) -> Arc<KeyRing> {
    Arc::new(KeyRing::from_jwk_set(&keys.to_secret_jwk_set()).unwrap())
}

struct Node {
    kc: Keycard,
    store: RedisStore,
    events: Arc<Mutex<Vec<SessionEvent>>>,
}

fn node_with(
    url: &str,
    keys: &KeyRing,
    opts: RedisOptions,
    tune: impl FnOnce(keycard::KeycardBuilder) -> keycard::KeycardBuilder,
) -> Node {
    let keys = copy(keys);
    let store = RedisStore::connect(url, keys.clone(), opts).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let kc = tune(
        Keycard::builder(keys)
            .store(Arc::new(store.clone()))
            .issuer("https://auth.test")
            .audience("api"),
    )
    .on_event(move |e| sink.lock().unwrap().push(e.clone()))
    .build()
    .unwrap();
    Node { kc, store, events }
}

fn node(url: &str, keys: &KeyRing) -> Node {
    node_with(url, keys, opts(), |b| b)
}

fn opts() -> RedisOptions {
    RedisOptions::new().with_follow_block(Duration::from_millis(100))
}

fn kind<T: std::fmt::Debug>(r: keycard::Result<T>) -> &'static str {
    r.unwrap_err().kind()
}

/// Waits until `f` holds, up to `limit`; how long it took.
fn within(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn names(n: &Node) -> Vec<&'static str> {
    n.events.lock().unwrap().iter().map(|e| e.name()).collect()
}

// --- Nodes.

fn logout_on_one_node_holds_on_the_other() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let (a, b) = (node(&server.url(), &keys), node(&server.url(), &keys));
    let p = a.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert!(b.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok());
    // A session started on A refreshes on B.
    let q = b.kc.refresh(p.refresh.as_str(), None).unwrap();
    let v = a.kc.verify::<NoCustomClaims>(q.access.as_str()).unwrap();
    a.kc.logout(&v).unwrap();
    let took = within(Duration::from_secs(2), || {
        b.kc.verify::<NoCustomClaims>(q.access.as_str()).is_err()
    })
    .expect("the logout reaches node B");
    assert!(took < Duration::from_secs(1), "propagation took {took:?}");
    assert_eq!(
        kind(b.kc.verify::<NoCustomClaims>(q.access.as_str())),
        "revoked"
    );
    assert_eq!(kind(b.kc.refresh(q.refresh.as_str(), None)), "revoked");
}

fn a_dpop_proof_is_used_once_across_nodes() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let (a, b) = (node(&server.url(), &keys), node(&server.url(), &keys));
    let client = dpop::DpopClient::new(Algorithm::EdDSA);
    let now = || a.kc.now().as_unix();
    let login_url = "https://api.test/login";
    let login = keycard::dpop::ProofRequest {
        method: "POST",
        url: login_url,
        access_token: None,
    };
    // A login proof used on A is spent on B too.
    let proof = client.proof("POST", login_url, now(), None);
    let jkt = a.kc.check_dpop(&proof, &login).unwrap().jkt;
    assert_eq!(kind(b.kc.check_dpop(&proof, &login)), "invalid_dpop_proof");
    let pair =
        a.kc.login_dpop("alice", &NoCustomClaims {}, None, Some(jkt))
            .unwrap();
    let token = pair.access.as_str();
    let api = "https://api.test/orders";
    let call = client.proof("GET", api, now(), Some(token));
    assert!(
        b.kc.verify_dpop::<NoCustomClaims>(token, &call, "GET", api)
            .is_ok()
    );
    assert_eq!(
        kind(a.kc.verify_dpop::<NoCustomClaims>(token, &call, "GET", api)),
        "invalid_dpop_proof"
    );
    // The binding lives in Redis: B refuses a refresh without the key, and takes one with it.
    assert_eq!(
        kind(b.kc.refresh(pair.refresh.as_str(), None)),
        "invalid_dpop_proof"
    );
    let refresh_url = "https://api.test/refresh";
    let refresh = keycard::dpop::ProofRequest {
        method: "POST",
        url: refresh_url,
        access_token: None,
    };
    let proved =
        b.kc.check_dpop(&client.proof("POST", refresh_url, now(), None), &refresh)
            .unwrap();
    let next =
        b.kc.refresh_dpop(pair.refresh.as_str(), None, Some(&proved.jkt))
            .unwrap();
    assert_eq!(next.token_type(), "DPoP");
}

fn a_refresh_race_across_nodes_has_one_winner() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let nodes = [node(&server.url(), &keys), node(&server.url(), &keys)];
    let p = nodes[0]
        .kc
        .login("alice", &NoCustomClaims {}, None)
        .unwrap();
    let threads = 8;
    let barrier = Barrier::new(threads);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|i| {
                let (barrier, n, token) = (&barrier, &nodes[i % 2], p.refresh.as_str());
                s.spawn(move || {
                    barrier.wait();
                    n.kc.refresh(token, None).unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let rotations: usize = nodes
        .iter()
        .map(|n| names(n).iter().filter(|e| **e == "refreshed").count())
        .sum();
    assert_eq!(rotations, 1, "exactly one node rotated");
    let first = results[0].refresh.token_id().clone();
    assert!(results.iter().all(|r| r.refresh.token_id() == &first));
}

fn reuse_detected_on_one_node_revokes_the_family_on_the_other() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let tune = |b: keycard::KeycardBuilder| b.reuse_grace(Duration::ZERO);
    let a = node_with(&server.url(), &keys, opts(), tune);
    let b = node_with(&server.url(), &keys, opts(), tune);
    let p1 = a.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let p2 = b.kc.refresh(p1.refresh.as_str(), None).unwrap();
    // The thief replays the first refresh token on node A.
    assert_eq!(
        kind(a.kc.refresh(p1.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
    within(Duration::from_secs(2), || {
        b.kc.verify::<NoCustomClaims>(p2.access.as_str()).is_err()
    })
    .expect("the theft reaches node B");
    assert_eq!(kind(b.kc.refresh(p2.refresh.as_str(), None)), "revoked");
}

fn a_node_started_later_sees_every_revocation() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let fast = opts().with_snapshot_every(Duration::from_millis(1));
    let a = node_with(&server.url(), &keys, fast.clone(), |b| b);
    let mut revoked = Vec::new();
    let mut kept = Vec::new();
    for i in 0..20 {
        let p =
            a.kc.login(&format!("user{i}"), &NoCustomClaims {}, None)
                .unwrap();
        if i % 2 == 0 {
            let v = a.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
            a.kc.logout(&v).unwrap();
            revoked.push(p);
        } else {
            kept.push(p);
        }
        if i == 9 {
            // Half of them only in a snapshot (the stream trimmed behind it), half in the stream.
            a.kc.maintain().unwrap();
        }
    }
    a.kc.logout_all("user1").unwrap();
    let c = node(&server.url(), &keys);
    for p in &revoked {
        assert_eq!(
            kind(c.kc.verify::<NoCustomClaims>(p.access.as_str())),
            "revoked"
        );
    }
    assert_eq!(
        kind(c.kc.verify::<NoCustomClaims>(kept[0].access.as_str())),
        "revoked"
    );
    for p in &kept[1..] {
        assert!(c.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok());
    }
}

fn a_node_cut_off_past_the_trim_reloads_the_snapshot() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let fast = opts().with_snapshot_every(Duration::from_millis(1));
    let a = node_with(&server.url(), &keys, fast, |b| b);
    let c = node(&server.url(), &keys);
    let early = a.kc.login("early", &NoCustomClaims {}, None).unwrap();
    c.store.suspend_follower(true);
    // Let a read already blocked on the stream return first.
    std::thread::sleep(Duration::from_millis(400));
    let mut gone = Vec::new();
    for i in 0..30 {
        let p =
            a.kc.login(&format!("u{i}"), &NoCustomClaims {}, None)
                .unwrap();
        a.kc.logout(&a.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap())
            .unwrap();
        gone.push(p);
    }
    // A snapshot, and the stream trimmed up to it: C's position no longer exists.
    a.kc.maintain().unwrap();
    assert!(
        c.kc.verify::<NoCustomClaims>(gone[0].access.as_str())
            .is_ok(),
        "C is behind"
    );
    c.store.suspend_follower(false);
    within(Duration::from_secs(3), || {
        gone.iter()
            .all(|p| c.kc.verify::<NoCustomClaims>(p.access.as_str()).is_err())
    })
    .expect("C reloads the snapshot and sees every revocation");
    assert!(c.kc.verify::<NoCustomClaims>(early.access.as_str()).is_ok());
}

// --- Separate OS processes.

/// The child side of the cross-process race: one refresh at an agreed instant, then a report.
fn child_refresh() {
    let env = |k: &str| std::env::var(k).unwrap();
    let keys = Arc::new(KeyRing::load(env("KEYCARD_KEYS")).unwrap());
    let store = RedisStore::connect(&env("KEYCARD_REDIS_URL"), keys.clone(), opts()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let kc = Keycard::builder(keys)
        .store(Arc::new(store))
        .issuer("https://auth.test")
        .audience("api")
        .on_event(move |e| sink.lock().unwrap().push(e.name()))
        .build()
        .unwrap();
    let start: u128 = env("KEYCARD_START_MS").parse().unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    while now() < start {
        std::hint::spin_loop();
    }
    match kc.refresh(&env("KEYCARD_TOKEN"), None) {
        Ok(pair) => println!(
            "ok {} {}",
            pair.refresh.token_id(),
            events.lock().unwrap().join(",")
        ),
        Err(e) => println!("err {}", e.kind()),
    }
}

fn two_processes_racing_one_refresh_token_get_one_winner() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let dir = std::env::temp_dir().join(format!("keycard-redis-procs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.json");
    keys.save(&file).unwrap();
    let a = node(&server.url(), &keys);
    let p = a.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 1500;
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .env("KEYCARD_REDIS_CHILD", "refresh")
                .env("KEYCARD_KEYS", &file)
                .env("KEYCARD_REDIS_URL", server.url())
                .env("KEYCARD_TOKEN", p.refresh.as_str())
                .env("KEYCARD_START_MS", start.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<String> = children
        .into_iter()
        .map(|c| String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap())
        .collect();
    let oks: Vec<&String> = outs.iter().filter(|o| o.starts_with("ok ")).collect();
    assert_eq!(oks.len(), 2, "both get a pair: {outs:?}");
    let rotated = outs.iter().filter(|o| o.contains("refreshed")).count();
    assert_eq!(rotated, 1, "exactly one process rotated: {outs:?}");
    let generation = |o: &str| o.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(
        generation(oks[0]),
        generation(oks[1]),
        "one current token: {outs:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// --- Faults.

fn redis_killed_under_load_then_restarted() {
    let mut server = RedisServer::start();
    let keys = shared_keys();
    let stale = opts().with_max_staleness(Duration::from_secs(1));
    let a = node_with(&server.url(), &keys, stale.clone(), |b| b);
    let b = node_with(&server.url(), &keys, stale, |b| b);
    // Acknowledged revocations before the crash.
    let mut revoked = Vec::new();
    for i in 0..10 {
        let p =
            a.kc.login(&format!("gone{i}"), &NoCustomClaims {}, None)
                .unwrap();
        a.kc.logout(&a.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap())
            .unwrap();
        revoked.push(p);
    }
    let live = b.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    within(Duration::from_secs(2), || {
        revoked
            .iter()
            .all(|p| b.kc.verify::<NoCustomClaims>(p.access.as_str()).is_err())
    })
    .unwrap();

    // Load on both nodes while the server dies.
    let stop = AtomicBool::new(false);
    let kinds = Mutex::new(std::collections::BTreeSet::new());
    let verifies = AtomicUsize::new(0);
    let (stop, kinds, verifies) = (&stop, &kinds, &verifies);
    std::thread::scope(|s| {
        for n in [&a, &b] {
            let token = live.access.as_str();
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match n.kc.verify::<NoCustomClaims>(token) {
                        Ok(_) => {}
                        Err(e) => {
                            kinds.lock().unwrap().insert(e.kind());
                        }
                    }
                    verifies.fetch_add(1, Ordering::Relaxed);
                }
            });
            s.spawn(move || {
                // A client refreshing its own session over and over (logging in again when
                // its refresh fails).
                let mut current: Option<String> = None;
                while !stop.load(Ordering::Relaxed) {
                    let r = match &current {
                        Some(t) => n.kc.refresh(t, None),
                        None => n.kc.login("loader", &NoCustomClaims {}, None),
                    };
                    match r {
                        Ok(pair) => current = Some(pair.refresh.into_string()),
                        Err(e) => {
                            kinds.lock().unwrap().insert(e.kind());
                            if !e.is_retryable() {
                                current = None;
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(200));
        server.kill();
        std::thread::sleep(Duration::from_millis(2000));
        stop.store(true, Ordering::Relaxed);
    });
    let seen = kinds.lock().unwrap().clone();
    assert!(verifies.load(Ordering::Relaxed) > 100);
    // Verifies answered until the bound, then failed closed; store writes failed retryably.
    assert!(seen.contains("revocation_unavailable"), "{seen:?}");
    assert!(seen.contains("store_unavailable"), "{seen:?}");
    assert!(
        seen.iter()
            .all(|k| *k == "revocation_unavailable" || *k == "store_unavailable"),
        "{seen:?}"
    );
    // A refresh fails retryably (its token's revocation check, or the store, is unavailable).
    assert!(
        a.kc.refresh(live.refresh.as_str(), None)
            .unwrap_err()
            .is_retryable()
    );

    // Restarted from its AOF: nothing acknowledged is lost, and both nodes resynchronize.
    server.restart();
    for n in [&a, &b] {
        within(Duration::from_secs(5), || {
            n.kc.verify::<NoCustomClaims>(live.access.as_str()).is_ok()
        })
        .expect("the node resynchronizes");
        for p in &revoked {
            assert_eq!(
                kind(n.kc.verify::<NoCustomClaims>(p.access.as_str())),
                "revoked"
            );
        }
    }
    if let Err(e) = b.kc.refresh(live.refresh.as_str(), None) {
        panic!("refresh after the restart: {e:?}");
    }
    // A node started now, from Redis alone, sees every acknowledged revocation.
    let c = node(&server.url(), &keys);
    for p in &revoked {
        assert_eq!(
            kind(c.kc.verify::<NoCustomClaims>(p.access.as_str())),
            "revoked"
        );
    }
}

fn a_partition_past_the_staleness_bound_fails_closed_then_recovers() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let a = node_with(
        &server.url(),
        &keys,
        opts()
            .with_max_staleness(Duration::from_secs(1))
            .with_timeout(Duration::from_millis(300)),
        |b| b,
    );
    let p = a.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    server.pause();
    assert!(
        a.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok(),
        "within the bound"
    );
    within(Duration::from_secs(4), || {
        a.kc.verify::<NoCustomClaims>(p.access.as_str())
            .is_err_and(|e| e.kind() == "revocation_unavailable")
    })
    .expect("fails closed past max_staleness");
    assert!(a.store.stale_for() > Duration::from_secs(1));
    server.resume();
    within(Duration::from_secs(5), || {
        a.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok()
    })
    .expect("recovers once Redis answers again");
}

fn failing_open_is_an_explicit_choice() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let a = node_with(
        &server.url(),
        &keys,
        opts()
            .with_max_staleness(Duration::from_millis(500))
            .with_timeout(Duration::from_millis(300))
            .fail_open(),
        |b| b,
    );
    let p = a.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    server.pause();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(a.store.stale_for() > Duration::from_millis(500));
    assert!(
        a.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok(),
        "fail-open answers"
    );
    server.resume();
}

// --- Compact replicas and forged data.

fn compact_replicas_confirm_hits_in_redis() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let a = node(&server.url(), &keys);
    let c = node_with(
        &server.url(),
        &keys,
        opts().with_replica(ReplicaMode::Compact),
        |b| b,
    );
    assert_eq!(c.store.replica_mode(), ReplicaMode::Compact);
    assert!(c.store.compact_filter_bits().is_some());
    let mut clean = Vec::new();
    let mut gone = Vec::new();
    for i in 0..50 {
        let p =
            a.kc.login(&format!("u{i}"), &NoCustomClaims {}, None)
                .unwrap();
        if i % 5 == 0 {
            a.kc.logout(&a.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap())
                .unwrap();
            gone.push(p);
        } else {
            clean.push(p);
        }
    }
    within(Duration::from_secs(2), || {
        gone.iter()
            .all(|p| c.kc.verify::<NoCustomClaims>(p.access.as_str()).is_err())
    })
    .expect("a compact node sees revocations");
    for p in &gone {
        assert_eq!(
            kind(c.kc.verify::<NoCustomClaims>(p.access.as_str())),
            "revoked"
        );
    }
    for p in &clean {
        assert!(c.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok());
    }
    // The async path confirms without blocking a runtime thread.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for p in &gone {
            let e = c.kc.verify_async::<NoCustomClaims>(p.access.as_str()).await;
            assert_eq!(e.unwrap_err().kind(), "revoked");
        }
        assert!(
            c.kc.verify_async::<NoCustomClaims>(clean[0].access.as_str())
                .await
                .is_ok()
        );
    });
}

fn forged_revocation_data_in_redis_is_refused() {
    let server = RedisServer::start();
    let keys = shared_keys();
    let a = node(&server.url(), &keys);
    let c = node_with(
        &server.url(),
        &keys,
        opts().with_replica(ReplicaMode::Compact),
        |b| b,
    );
    let victim = a.kc.login("victim", &NoCustomClaims {}, None).unwrap();
    // Someone who can write to Redis, but holds no key of the ring, appends stream entries
    // revoking the victim's session: one with a made-up MAC, one MAC'd under another key.
    let revoke = keycard::revocation::Revoke::Session {
        sid: victim.session.clone(),
        until: keycard::Timestamp::from_unix(4_000_000_000).unwrap(),
    };
    let batch = keycard::revocation::Revoke::encode_batch(std::slice::from_ref(&revoke));
    let stranger = KeyRing::new();
    stranger.rotate_refresh_key().unwrap();
    let ours = keys.active_refresh().unwrap().kid().to_string();
    let theirs = stranger.active_refresh().unwrap().kid().to_string();
    let mut con = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    for kid in [ours.as_str(), theirs.as_str()] {
        let _: String = redis::cmd("XADD")
            .arg("keycard:{rv}:log")
            .arg("*")
            .arg("k")
            .arg(kid)
            .arg("d")
            .arg(batch.as_slice())
            .arg("t")
            .arg("AAAA")
            .query(&mut con)
            .unwrap();
    }
    // A genuine revocation after them still arrives: the followers skipped the forgeries and
    // carried on.
    let marker = a.kc.login("marker", &NoCustomClaims {}, None).unwrap();
    a.kc.logout(
        &a.kc
            .verify::<NoCustomClaims>(marker.access.as_str())
            .unwrap(),
    )
    .unwrap();
    for n in [&a, &c] {
        within(Duration::from_secs(2), || {
            n.kc.verify::<NoCustomClaims>(marker.access.as_str())
                .is_err()
        })
        .expect("the genuine revocation arrives");
        assert!(
            n.kc.verify::<NoCustomClaims>(victim.access.as_str())
                .is_ok(),
            "a forged entry revoked nothing"
        );
    }
    // A node started now, from the log, ignores them too.
    let late = node(&server.url(), &keys);
    assert!(
        late.kc
            .verify::<NoCustomClaims>(victim.access.as_str())
            .is_ok()
    );
}

// --- Redis Cluster.

fn a_three_master_cluster_serves_two_nodes() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let keys = shared_keys();
    let make = |limit: bool| {
        let ring = copy(&keys);
        let store = RedisStore::connect_cluster(&urls, ring.clone(), opts()).unwrap();
        let mut b = Keycard::builder(ring)
            .store(Arc::new(store))
            .issuer("https://auth.test")
            .audience("api");
        if limit {
            b = b.session_limit(2, keycard::LimitPolicy::Reject);
        }
        b.build().unwrap()
    };
    let (a, b) = (make(true), make(true));
    let p = a.login("alice", &NoCustomClaims {}, None).unwrap();
    let q = b.refresh(p.refresh.as_str(), None).unwrap();
    let v = b.verify::<NoCustomClaims>(q.access.as_str()).unwrap();
    a.login("alice", &NoCustomClaims {}, None).unwrap();
    assert_eq!(
        kind(b.login("alice", &NoCustomClaims {}, None)),
        "session_limit"
    );
    for i in 0..20 {
        // Subjects spread over every master.
        a.login(&format!("user{i}"), &NoCustomClaims {}, None)
            .unwrap();
    }
    b.logout(&v).unwrap();
    within(Duration::from_secs(2), || {
        a.verify::<NoCustomClaims>(q.access.as_str()).is_err()
    })
    .expect("a logout on one node holds on the other, over the cluster");
    assert_eq!(a.sessions("alice").unwrap().len(), 1);
}

fn main() {
    if let Ok(role) = std::env::var("KEYCARD_REDIS_CHILD") {
        match role.as_str() {
            "refresh" => child_refresh(),
            other => panic!("unknown child role {other}"),
        }
        return;
    }
    let args = harness::Arguments::from_args();
    let single: &[(&str, fn())] = &[
        (
            "logout_on_one_node_holds_on_the_other",
            logout_on_one_node_holds_on_the_other,
        ),
        (
            "a_refresh_race_across_nodes_has_one_winner",
            a_refresh_race_across_nodes_has_one_winner,
        ),
        (
            "a_dpop_proof_is_used_once_across_nodes",
            a_dpop_proof_is_used_once_across_nodes,
        ),
        (
            "reuse_detected_on_one_node_revokes_the_family_on_the_other",
            reuse_detected_on_one_node_revokes_the_family_on_the_other,
        ),
        (
            "a_node_started_later_sees_every_revocation",
            a_node_started_later_sees_every_revocation,
        ),
        (
            "a_node_cut_off_past_the_trim_reloads_the_snapshot",
            a_node_cut_off_past_the_trim_reloads_the_snapshot,
        ),
        (
            "two_processes_racing_one_refresh_token_get_one_winner",
            two_processes_racing_one_refresh_token_get_one_winner,
        ),
        (
            "redis_killed_under_load_then_restarted",
            redis_killed_under_load_then_restarted,
        ),
        (
            "a_partition_past_the_staleness_bound_fails_closed_then_recovers",
            a_partition_past_the_staleness_bound_fails_closed_then_recovers,
        ),
        (
            "failing_open_is_an_explicit_choice",
            failing_open_is_an_explicit_choice,
        ),
        (
            "compact_replicas_confirm_hits_in_redis",
            compact_replicas_confirm_hits_in_redis,
        ),
        (
            "forged_revocation_data_in_redis_is_refused",
            forged_revocation_data_in_redis_is_refused,
        ),
    ];
    let mut trials: Vec<_> = single
        .iter()
        .map(|(name, f)| oracle::needs(Oracle::RedisServer, name, *f))
        .collect();
    trials.push(oracle::needs(
        Oracle::RedisCluster,
        "a_three_master_cluster_serves_two_nodes",
        a_three_master_cluster_serves_two_nodes,
    ));
    harness::run(&args, trials).exit();
}
