//! One behavioural suite, every store: the same session rules must hold on the memory store and
//! on the Redis store (a real `redis-server`, started here; with the `redis` feature).
//!
//! Harness-less (`common/harness.rs`): without redis-server the Redis half is reported ignored, with
//! the reason, outside CI, and fails under CI.

#[path = "common/mod.rs"]
mod common;
#[path = "common/dpop.rs"]
mod dpop;
#[path = "common/harness.rs"]
mod harness;
#[path = "common/oracle.rs"]
mod oracle;
#[cfg(feature = "redis")]
#[path = "common/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use crate::harness::Trial;
use keycard::refresh::SessionEvent;
use keycard::{Algorithm, KeyRing, Keycard, LimitPolicy, ManualClock, NoCustomClaims, Timestamp};

const T0: i64 = 1_800_000_000;

/// A Keycard over one store, on a manual clock, recording its events.
struct World {
    clock: ManualClock,
    kc: Keycard,
    events: Arc<Mutex<Vec<SessionEvent>>>,
}

/// Makes a store for a ring and a clock.
type MakeStore = fn(Arc<KeyRing>, &ManualClock) -> Arc<dyn keycard::refresh::SessionStore>;

fn world(
    make: MakeStore,
    tune: impl FnOnce(keycard::KeycardBuilder) -> keycard::KeycardBuilder,
) -> World {
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let keys = Arc::new(
        KeyRing::new()
            .with_grace(Duration::from_secs(24 * 3600))
            .with_clock(Arc::new(clock.clone())),
    );
    keys.rotate(Algorithm::EdDSA).unwrap();
    keys.rotate_refresh_key().unwrap();
    let store = make(keys.clone(), &clock);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let kc = tune(
        Keycard::builder(keys)
            .store(store)
            .clock(Arc::new(clock.clone()))
            .issuer("https://auth.test")
            .audience("api"),
    )
    .on_event(move |e| sink.lock().unwrap().push(e.clone()))
    .build()
    .unwrap();
    World { clock, kc, events }
}

fn kind<T: std::fmt::Debug>(r: keycard::Result<T>) -> &'static str {
    r.unwrap_err().kind()
}

fn count(w: &World, name: &str) -> usize {
    w.events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name() == name)
        .count()
}

// --- The suite.

fn rotation_and_claims(make: MakeStore) {
    let w = world(make, |b| b);
    let p1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert!(w.kc.verify::<NoCustomClaims>(p1.access.as_str()).is_ok());
    w.clock.advance(Duration::from_secs(60));
    let p2 = w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    assert_eq!(p2.session, p1.session);
    let p3 = w.kc.refresh(p2.refresh.as_str(), None).unwrap();
    assert!(w.kc.verify::<NoCustomClaims>(p3.access.as_str()).is_ok());
    assert_eq!(count(&w, "refreshed"), 2);
    // An access token is not a refresh token.
    assert_eq!(
        kind(w.kc.refresh(p3.access.as_str(), None)),
        "wrong_token_type"
    );
}

fn racing_refreshes_have_one_winner(make: MakeStore) {
    let w = world(make, |b| b);
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let threads = 8;
    let barrier = Barrier::new(threads);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    w.kc.refresh(p.refresh.as_str(), None).unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(count(&w, "refreshed"), 1, "exactly one rotation");
    let generation = results[0].refresh.token_id().clone();
    assert!(results.iter().all(|r| r.refresh.token_id() == &generation));
}

fn replay_after_grace_is_theft(make: MakeStore) {
    let w = world(make, |b| b);
    let p1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let p2 = w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    w.clock.advance(Duration::from_secs(11));
    assert_eq!(
        kind(w.kc.refresh(p1.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(p2.access.as_str())),
        "revoked"
    );
    assert_eq!(kind(w.kc.refresh(p2.refresh.as_str(), None)), "revoked");
}

fn session_limits_are_atomic(make: MakeStore) {
    for policy in [LimitPolicy::Reject, LimitPolicy::EvictOldest] {
        let w = world(make, |b| b.session_limit(3, policy));
        let threads = 8;
        let barrier = Barrier::new(threads);
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        w.kc.login("alice", &NoCustomClaims {}, None)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(w.kc.sessions("alice").unwrap().len(), 3, "{policy:?}");
        let working = results
            .iter()
            .flatten()
            .filter(|p| w.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok())
            .count();
        assert_eq!(working, 3, "{policy:?}");
    }
}

fn logout_and_logout_all(make: MakeStore) {
    let w = world(make, |b| b);
    let a = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let b = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let bob = w.kc.login("bob", &NoCustomClaims {}, None).unwrap();
    let va = w.kc.verify::<NoCustomClaims>(a.access.as_str()).unwrap();
    w.kc.logout(&va).unwrap();
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(a.access.as_str())),
        "revoked"
    );
    assert!(w.kc.verify::<NoCustomClaims>(b.access.as_str()).is_ok());
    w.clock.advance(Duration::from_secs(1));
    assert_eq!(w.kc.logout_all("alice").unwrap(), 1);
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(b.access.as_str())),
        "revoked"
    );
    assert_eq!(kind(w.kc.refresh(b.refresh.as_str(), None)), "revoked");
    assert!(w.kc.verify::<NoCustomClaims>(bob.access.as_str()).is_ok());
    // A login after logging out everywhere works at once.
    let again = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert!(w.kc.verify::<NoCustomClaims>(again.access.as_str()).is_ok());
}

fn devices_are_per_subject(make: MakeStore) {
    let w = world(make, |b| b);
    let a = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.clock.advance(Duration::from_secs(5));
    let b = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let bob = w.kc.login("bob", &NoCustomClaims {}, None).unwrap();
    let list = w.kc.sessions("alice").unwrap();
    assert_eq!(
        list.iter().map(|s| s.sid.clone()).collect::<Vec<_>>(),
        vec![a.session.clone(), b.session.clone()],
        "oldest first"
    );
    // Bob's session is not Alice's to end.
    assert_eq!(
        kind(w.kc.logout_session("alice", &bob.session)),
        "unknown_session"
    );
    w.kc.logout_session("alice", &a.session).unwrap();
    assert_eq!(w.kc.sessions("alice").unwrap().len(), 1);
    assert!(w.kc.verify::<NoCustomClaims>(bob.access.as_str()).is_ok());
}

fn step_up_and_reissue(make: MakeStore) {
    let w = world(make, |b| b);
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.clock.advance(Duration::from_secs(600));
    let v =
        w.kc.verify::<NoCustomClaims>(p.access.as_str())
            .unwrap_err();
    assert_eq!(v.kind(), "expired");
    let p = w.kc.refresh(p.refresh.as_str(), None).unwrap();
    let v = w.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
    assert_eq!(
        kind(w.kc.require_recent_auth(&v, Duration::from_secs(300))),
        "reauth_required"
    );
    let stepped = w.kc.step_up(&v).unwrap();
    let v2 =
        w.kc.verify::<NoCustomClaims>(stepped.access.as_str())
            .unwrap();
    assert!(
        w.kc.require_recent_auth(&v2, Duration::from_secs(300))
            .is_ok()
    );
    let new =
        w.kc.reissue(&v2, &serde_json::json!({"role": "admin"}))
            .unwrap();
    assert_ne!(new.session, stepped.session);
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(stepped.access.as_str())),
        "revoked"
    );
    assert!(w.kc.verify::<NoCustomClaims>(new.access.as_str()).is_ok());
}

fn timeouts(make: MakeStore) {
    let w = world(make, |b| b.idle_timeout(Duration::from_secs(600)));
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.clock.advance(Duration::from_secs(601));
    assert_eq!(
        kind(w.kc.refresh(p.refresh.as_str(), None)),
        "session_expired"
    );
}

fn the_async_api(make: MakeStore) {
    let w = world(make, |b| b);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let p =
            w.kc.login_async("alice", &NoCustomClaims {}, None)
                .await
                .unwrap();
        let v =
            w.kc.verify_async::<NoCustomClaims>(p.access.as_str())
                .await
                .unwrap();
        let q = w.kc.refresh_async(p.refresh.as_str(), None).await.unwrap();
        w.kc.logout_async(&v).await.unwrap();
        assert_eq!(
            w.kc.verify_async::<NoCustomClaims>(q.access.as_str())
                .await
                .unwrap_err()
                .kind(),
            "revoked"
        );
        w.kc.maintain_async().await.unwrap();
    });
}

/// One test of the suite: it gets the store to run against.
type SuiteTest = fn(MakeStore);

// --- Token Status List (feature status-list): the store's status table.

#[cfg(feature = "status-list")]
const LIST: &str = "https://auth.test/statuslists";

/// The published list, verified, as statuses by index.
#[cfg(feature = "status-list")]
fn published(w: &World) -> keycard::status::StatusBits {
    let token = w.kc.status_list_token().unwrap();
    let v =
        keycard::Verifier::new(w.kc.issuer().keys().clone()).with_clock(Arc::new(w.clock.clone()));
    let uri = w.kc.status_list_uri().unwrap();
    assert!(uri.starts_with(&format!("{LIST}/")), "{uri}");
    let list = keycard::status::verify_status_list(&v, &token, uri, 1 << 20).unwrap();
    assert_eq!(list.ttl, Some(Duration::from_secs(30)));
    list.bits
}

#[cfg(feature = "status-list")]
fn idx_of(w: &World, access: &keycard::AccessToken) -> u64 {
    let v = w.kc.verify::<NoCustomClaims>(access.as_str()).unwrap();
    let st = v.claims().status().expect("a status claim").clone();
    assert_eq!(Some(st.uri.as_str()), w.kc.status_list_uri());
    st.idx
}

#[cfg(feature = "status-list")]
fn status_bits_follow_sessions(make: MakeStore) {
    let w = world(make, |b| b.status_list(LIST));
    let a1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let a2 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let b1 = w.kc.login("bob", &NoCustomClaims {}, None).unwrap();
    let (i1, i2, ib) = (
        idx_of(&w, &a1.access),
        idx_of(&w, &a2.access),
        idx_of(&w, &b1.access),
    );
    assert!(i1 != i2 && i2 != ib && i1 != ib, "{i1} {i2} {ib}");
    // A refresh keeps the session's index.
    let a1b = w.kc.refresh(a1.refresh.as_str(), None).unwrap();
    assert_eq!(idx_of(&w, &a1b.access), i1);
    let l = published(&w);
    assert!([i1, i2, ib].iter().all(|i| l.get(*i) == Some(0)));
    assert_eq!(l.len(), 1 << 17, "the initial list size");
    // Logout sets one bit.
    let v = w.kc.verify::<NoCustomClaims>(a1b.access.as_str()).unwrap();
    w.kc.logout(&v).unwrap();
    let l = published(&w);
    assert_eq!(
        (l.get(i1), l.get(i2), l.get(ib)),
        (Some(1), Some(0), Some(0))
    );
    // Log out everywhere sets the subject's.
    w.kc.logout_all("alice").unwrap();
    let l = published(&w);
    assert_eq!(
        (l.get(i1), l.get(i2), l.get(ib)),
        (Some(1), Some(1), Some(0))
    );
    // A detected reuse sets the session's.
    let b2 = w.kc.refresh(b1.refresh.as_str(), None).unwrap();
    w.clock.advance(Duration::from_secs(11));
    assert_eq!(
        kind(w.kc.refresh(b1.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
    assert_eq!(published(&w).get(ib), Some(1));
    drop(b2);
}

#[cfg(feature = "status-list")]
fn status_indices_are_reused_only_after_their_tokens_expired(make: MakeStore) {
    let w = world(make, |b| {
        b.status_list(LIST).session_limit(1000, LimitPolicy::Reject)
    });
    let first: Vec<_> = (0..40)
        .map(|i| {
            w.kc.login(&format!("user{i}"), &NoCustomClaims {}, None)
                .unwrap()
        })
        .collect();
    let ended: std::collections::HashSet<u64> =
        first.iter().map(|p| idx_of(&w, &p.access)).collect();
    assert_eq!(ended.len(), 40);
    for i in 0..40 {
        w.kc.logout_all(&format!("user{i}")).unwrap();
    }
    // Access ttl 5 min + leeway 60 s + list ttl 30 s + 60 s: not yet.
    w.clock.advance(Duration::from_secs(300 + 60 + 30 + 59));
    w.kc.maintain().unwrap();
    let l = published(&w);
    assert!(
        ended.iter().all(|i| l.get(*i) == Some(1)),
        "not reclaimed early"
    );
    let second: Vec<_> = (0..40)
        .map(|i| {
            w.kc.login(&format!("late{i}"), &NoCustomClaims {}, None)
                .unwrap()
        })
        .collect();
    for p in &second {
        assert!(
            !ended.contains(&idx_of(&w, &p.access)),
            "an index reused while its tokens could live"
        );
    }
    // Past the delay: reclaimed and cleared; the live sessions keep theirs.
    w.clock.advance(Duration::from_secs(2));
    w.kc.maintain().unwrap();
    let l = published(&w);
    assert!(
        ended.iter().all(|i| l.get(*i) == Some(0)),
        "reclaimed and cleared"
    );
    for p in &second {
        assert!(w.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok());
        assert_eq!(l.get(idx_of(&w, &p.access)), Some(0));
    }
    // A login refused by the session limit gives its index back at once.
    let w = world(make, |b| {
        b.status_list(LIST).session_limit(1, LimitPolicy::Reject)
    });
    w.kc.login("solo", &NoCustomClaims {}, None).unwrap();
    assert_eq!(
        kind(w.kc.login("solo", &NoCustomClaims {}, None)),
        "session_limit"
    );
    w.kc.maintain().unwrap();
    let l = published(&w);
    assert_eq!(
        (0..l.len() as u64).filter(|i| l.get(*i) == Some(1)).count(),
        0
    );
}

fn dpop_proofs_are_used_once_and_bind_sessions(make: MakeStore) {
    let w = world(make, |b| b);
    let client = dpop::DpopClient::new(Algorithm::ES256);
    let at = |path: &str| format!("https://api.test/{path}");
    let request = |url: &'static str| keycard::dpop::ProofRequest {
        method: "POST",
        url,
        access_token: None,
    };
    let login_url = at("login");
    let login_url: &'static str = Box::leak(login_url.into_boxed_str());
    let refresh_url: &'static str = Box::leak(at("refresh").into_boxed_str());
    // Racing replays of one proof: exactly one is accepted.
    let proof = client.proof("POST", login_url, T0, None);
    let barrier = Barrier::new(8);
    let accepted: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    w.kc.check_dpop(&proof, &request(login_url))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let jkts: Vec<_> = accepted.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(jkts.len(), 1, "{accepted:?}");
    for r in &accepted {
        if let Err(e) = r {
            assert_eq!(e.kind(), "invalid_dpop_proof");
        }
    }
    // The binding is stored with the family: a refresh needs a proof by the same key, and the
    // new access token is bound too.
    let pair =
        w.kc.login_dpop("alice", &NoCustomClaims {}, None, Some(jkts[0].jkt.clone()))
            .unwrap();
    assert_eq!(
        kind(w.kc.refresh(pair.refresh.as_str(), None)),
        "invalid_dpop_proof"
    );
    let proved =
        w.kc.check_dpop(
            &client.proof("POST", refresh_url, T0, None),
            &request(refresh_url),
        )
        .unwrap();
    let next =
        w.kc.refresh_dpop(pair.refresh.as_str(), None, Some(&proved.jkt))
            .unwrap();
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(next.access.as_str())),
        "invalid_dpop_proof"
    );
    let token = next.access.as_str();
    let api = "https://api.test/orders";
    let (verified, _) =
        w.kc.verify_dpop::<NoCustomClaims>(
            token,
            &client.proof("GET", api, T0, Some(token)),
            "GET",
            api,
        )
        .unwrap();
    assert_eq!(
        verified.claims().dpop_jkt(),
        Some(client.thumbprint().as_str())
    );
}

/// Every test of the suite, by name.
const SUITE: &[(&str, SuiteTest)] = &[
    #[cfg(feature = "status-list")]
    ("status_bits_follow_sessions", status_bits_follow_sessions),
    #[cfg(feature = "status-list")]
    (
        "status_indices_are_reused_only_after_their_tokens_expired",
        status_indices_are_reused_only_after_their_tokens_expired,
    ),
    ("rotation_and_claims", rotation_and_claims),
    (
        "racing_refreshes_have_one_winner",
        racing_refreshes_have_one_winner,
    ),
    ("replay_after_grace_is_theft", replay_after_grace_is_theft),
    ("session_limits_are_atomic", session_limits_are_atomic),
    ("logout_and_logout_all", logout_and_logout_all),
    ("devices_are_per_subject", devices_are_per_subject),
    ("step_up_and_reissue", step_up_and_reissue),
    ("timeouts", timeouts),
    ("the_async_api", the_async_api),
    (
        "dpop_proofs_are_used_once_and_bind_sessions",
        dpop_proofs_are_used_once_and_bind_sessions,
    ),
];

// --- The stores.

fn memory(_: Arc<KeyRing>, clock: &ManualClock) -> Arc<dyn keycard::refresh::SessionStore> {
    let list = keycard::revocation::RevocationList::new().with_clock(Arc::new(clock.clone()));
    Arc::new(keycard::stores::MemoryStore::with_revocations(Arc::new(
        list,
    )))
}

/// The suite's one server, started on first use and stopped after the run (a static is never
/// dropped, so `main` stops it).
#[cfg(feature = "redis")]
static SERVER: Mutex<Option<redis_server::RedisServer>> = Mutex::new(None);

#[cfg(feature = "redis")]
fn redis(keys: Arc<KeyRing>, clock: &ManualClock) -> Arc<dyn keycard::refresh::SessionStore> {
    let url = SERVER
        .lock()
        .unwrap()
        .get_or_insert_with(redis_server::RedisServer::start)
        .url();
    // A fresh key prefix per world: the tests share one server and never see each other's data.
    let mut p = [0u8; 6];
    rand::fill(&mut p[..]);
    let prefix = format!(
        "t{}",
        p.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let opts = keycard::stores::RedisOptions::new()
        .with_prefix(prefix)
        .with_clock(Arc::new(clock.clone()));
    Arc::new(keycard::stores::RedisStore::connect(&url, keys, opts).unwrap())
}

fn main() {
    let args = harness::Arguments::from_args();
    let mut trials: Vec<Trial> = Vec::new();
    for (name, f) in SUITE {
        let f = *f;
        trials.push(Trial::test(format!("memory::{name}"), move || {
            f(memory);
            Ok(())
        }));
    }
    #[cfg(feature = "redis")]
    for (name, f) in SUITE {
        let f = *f;
        trials.push(oracle::needs_dyn(
            oracle::Oracle::RedisServer,
            &format!("redis::{name}"),
            Box::new(move || f(redis)),
        ));
    }
    #[cfg(not(feature = "redis"))]
    eprintln!(
        "the Redis half of this suite needs `--features redis` (cargo test --workspace --all-features)"
    );
    let conclusion = harness::run(&args, trials);
    #[cfg(feature = "redis")]
    drop(SERVER.lock().map(|mut s| s.take()));
    conclusion.exit();
}
