//! Session lifecycle: rotation, reuse detection, timeouts, limits, step-up, events.

use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use keycard::refresh::{
    ClientContext, Family, ReuseCause, RevokeReason, SessionEvent, StoreFuture, Timeout,
};
use keycard::{
    Algorithm, AnomalyPolicy, Format, KeyRing, Keycard, KeycardBuilder, LimitPolicy, ManualClock,
    NoCustomClaims, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::common::T0;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Roles {
    roles: Vec<String>,
}

struct World {
    clock: ManualClock,
    events: Arc<Mutex<Vec<SessionEvent>>>,
    kc: Keycard,
}

fn builder(clock: &ManualClock) -> KeycardBuilder {
    let keys = Arc::new(
        KeyRing::new()
            .with_grace(Duration::from_secs(24 * 3600))
            .with_clock(Arc::new(clock.clone())),
    );
    for alg in [Algorithm::EdDSA, Algorithm::V4Public, Algorithm::V4Local] {
        keys.rotate(alg).unwrap();
    }
    Keycard::builder(keys)
        .issuer("https://auth.test")
        .audience("api")
}

fn world_with(f: impl FnOnce(KeycardBuilder) -> KeycardBuilder) -> World {
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let kc = f(builder(&clock))
        .on_event(move |e| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    World { clock, events, kc }
}

fn world() -> World {
    world_with(|b| b)
}

fn names(w: &World) -> Vec<&'static str> {
    w.events.lock().unwrap().iter().map(|e| e.name()).collect()
}

fn kind<T: std::fmt::Debug>(r: keycard::Result<T>) -> &'static str {
    r.unwrap_err().kind()
}

#[test]
fn login_refresh_rotates_and_carries_claims() {
    let w = world();
    let roles = Roles {
        roles: vec!["admin".into()],
    };
    let p1 = w.kc.login("alice", &roles, None).unwrap();
    let v = w.kc.verify::<Roles>(p1.access.as_str()).unwrap();
    assert_eq!(v.claims().custom(), &roles);
    assert_eq!(v.session_id(), Some(&p1.session));
    assert_eq!(
        v.claims().auth_time(),
        Some(Timestamp::from_unix(T0).unwrap())
    );
    assert_eq!(p1.expires_in(Timestamp::from_unix(T0).unwrap()), 300);

    w.clock.advance(Duration::from_secs(60));
    let p2 = w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    assert_eq!(p2.session, p1.session, "rotation keeps the session");
    assert_ne!(p2.refresh.token_id(), p1.refresh.token_id());
    assert_eq!(
        w.kc.verify::<Roles>(p2.access.as_str())
            .unwrap()
            .claims()
            .custom(),
        &roles
    );
    // The new refresh token is redeemable; the old one is retired (within grace: a retry).
    let p3 = w.kc.refresh(p2.refresh.as_str(), None).unwrap();
    assert_eq!(names(&w), ["issued", "refreshed", "refreshed"]);
    assert_ne!(p3.refresh.token_id(), p2.refresh.token_id());
}

#[test]
fn access_tokens_are_not_refresh_tokens_and_back() {
    let w = world();
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert_eq!(
        kind(w.kc.refresh(p.access.as_str(), None)),
        "wrong_token_type"
    );
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(p.refresh.as_str())),
        "wrong_token_type"
    );
}

#[test]
fn racing_refreshes_one_rotation_no_second_live_token_then_theft_after_grace() {
    let w = world();
    let p1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let threads = 8;
    let barrier = Barrier::new(threads);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    w.kc.refresh(p1.refresh.as_str(), None).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let events = w.events.lock().unwrap().clone();
    let rotations = events
        .iter()
        .filter(|e| matches!(e, SessionEvent::Refreshed { .. }))
        .count();
    assert_eq!(rotations, 1, "exactly one rotation wins");
    let retries = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                SessionEvent::ReuseDetected {
                    cause: ReuseCause::Concurrent,
                    family_revoked: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(retries, threads - 1);
    // Every caller holds the family's current refresh token: one token, not eight.
    let current = results[0].refresh.token_id().clone();
    assert!(results.iter().all(|p| p.refresh.token_id() == &current));
    // Sealed with a fresh nonce each time, so the strings differ, but every one names the same
    // generation of the same family: whichever is redeemed first retires all of them.
    let current_exp = results[0].refresh.expires_at();
    assert!(
        results
            .iter()
            .all(|p| p.refresh.expires_at() == current_exp)
    );

    // After the grace interval, replaying the retired token is theft: the family dies.
    w.clock.advance(Duration::from_secs(11));
    assert_eq!(
        kind(w.kc.refresh(p1.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
    assert!(w.events.lock().unwrap().iter().any(|e| matches!(
        e,
        SessionEvent::ReuseDetected {
            cause: ReuseCause::Theft,
            family_revoked: true,
            ..
        }
    )));
    for p in &results {
        assert_eq!(
            kind(w.kc.verify::<NoCustomClaims>(p.access.as_str())),
            "revoked"
        );
    }
    assert_eq!(
        kind(w.kc.refresh(results[0].refresh.as_str(), None)),
        "revoked"
    );
}

#[test]
fn lost_response_retry_gets_the_current_token_once() {
    let w = world();
    let p1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let p2 = w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    w.clock.advance(Duration::from_secs(5));
    let retry = w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    assert_eq!(retry.refresh.token_id(), p2.refresh.token_id());
    assert!(w.events.lock().unwrap().iter().any(|e| matches!(
        e,
        SessionEvent::ReuseDetected {
            cause: ReuseCause::LostResponse,
            ..
        }
    )));
    // Redeeming the current token moves on; the retried copy is now the retired one.
    let p3 = w.kc.refresh(retry.refresh.as_str(), None).unwrap();
    w.clock.advance(Duration::from_secs(11));
    assert_eq!(
        kind(w.kc.refresh(p2.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(p3.access.as_str())),
        "revoked"
    );
}

#[test]
fn zero_grace_treats_any_replay_as_theft() {
    let w = world_with(|b| b.reuse_grace(Duration::ZERO));
    let p1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    assert_eq!(
        kind(w.kc.refresh(p1.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
}

#[test]
fn idle_timeout() {
    let w = world();
    let p1 = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.clock.advance(Duration::from_secs(29 * 60));
    let p2 = w.kc.refresh(p1.refresh.as_str(), None).unwrap();
    w.clock.advance(Duration::from_secs(30 * 60));
    assert_eq!(
        kind(w.kc.refresh(p2.refresh.as_str(), None)),
        "session_expired"
    );
    assert!(w.events.lock().unwrap().iter().any(|e| matches!(
        e,
        SessionEvent::Expired {
            timeout: Timeout::Idle,
            ..
        }
    )));
    assert!(w.kc.sessions("alice").unwrap().is_empty());
}

#[test]
fn absolute_timeout_is_never_extended() {
    let w = world_with(|b| {
        b.idle_timeout(Duration::from_secs(3600))
            .absolute_timeout(Duration::from_secs(4 * 3600))
    });
    let mut p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let end = T0 + 4 * 3600;
    for _ in 0..5 {
        w.clock.advance(Duration::from_secs(40 * 60));
        p = w.kc.refresh(p.refresh.as_str(), None).unwrap();
        assert!(p.refresh.expires_at().as_unix() <= end);
        assert!(p.access.expires_at().as_unix() <= end);
    }
    // 4h after login: at the absolute deadline, although the idle deadline is 20 minutes away.
    w.clock.advance(Duration::from_secs(40 * 60));
    assert!(w.clock.now_for_tests() >= end);
    assert_eq!(
        kind(w.kc.refresh(p.refresh.as_str(), None)),
        "session_expired"
    );
}

trait NowForTests {
    fn now_for_tests(&self) -> i64;
}
impl NowForTests for ManualClock {
    fn now_for_tests(&self) -> i64 {
        keycard::Clock::now(self).as_unix()
    }
}

#[test]
fn stolen_refresh_token_story() {
    let w = world();
    // Login; the attacker copies the refresh token R1 (say, from a compromised device backup).
    let user = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let stolen_r1 = user.refresh.as_str().to_owned();
    // The user refreshes normally.
    w.clock.advance(Duration::from_secs(120));
    let user2 = w.kc.refresh(user.refresh.as_str(), None).unwrap();
    // Later the attacker replays R1.
    w.clock.advance(Duration::from_secs(120));
    assert_eq!(
        kind(w.kc.refresh(&stolen_r1, None)),
        "refresh_reuse_detected"
    );
    // Both are logged out: the user's newest tokens no longer work either.
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(user2.access.as_str())),
        "revoked"
    );
    assert_eq!(kind(w.kc.refresh(user2.refresh.as_str(), None)), "revoked");
    assert_eq!(kind(w.kc.refresh(&stolen_r1, None)), "revoked");
    // A new login works and gets a new session id.
    let again = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert_ne!(again.session, user.session);
    assert!(w.kc.verify::<NoCustomClaims>(again.access.as_str()).is_ok());
    assert!(w.kc.refresh(again.refresh.as_str(), None).is_ok());
    let evs = names(&w);
    assert!(evs.contains(&"refresh_reuse_detected") && evs.contains(&"revoked"));
}

#[test]
fn logout_logout_all_and_device_list() {
    let w = world();
    let phone = ClientContext::new().with_device("phone");
    let laptop = ClientContext::new().with_device("laptop");
    let a =
        w.kc.login("alice", &NoCustomClaims {}, Some(&phone))
            .unwrap();
    w.clock.advance(Duration::from_secs(1));
    let b =
        w.kc.login("alice", &NoCustomClaims {}, Some(&laptop))
            .unwrap();
    let bob = w.kc.login("bob", &NoCustomClaims {}, None).unwrap();
    let list = w.kc.sessions("alice").unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].device.as_deref(), Some("phone"));
    assert_eq!(list[1].sid, b.session);

    // Bob cannot log out alice's session.
    assert_eq!(
        kind(w.kc.logout_session("bob", &a.session)),
        "unknown_session"
    );
    w.kc.logout_session("alice", &a.session).unwrap();
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(a.access.as_str())),
        "revoked"
    );
    assert_eq!(kind(w.kc.refresh(a.refresh.as_str(), None)), "revoked");
    assert!(w.kc.verify::<NoCustomClaims>(b.access.as_str()).is_ok());

    let v = w.kc.verify::<NoCustomClaims>(b.access.as_str()).unwrap();
    w.kc.logout(&v).unwrap();
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(b.access.as_str())),
        "revoked"
    );

    let c = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert_eq!(w.kc.logout_all("alice").unwrap(), 1);
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(c.access.as_str())),
        "revoked"
    );
    assert!(w.kc.verify::<NoCustomClaims>(bob.access.as_str()).is_ok());
    // Logging in again in the same second works.
    let d = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert!(w.kc.verify::<NoCustomClaims>(d.access.as_str()).is_ok());
    assert!(w.kc.refresh(d.refresh.as_str(), None).is_ok());
}

#[test]
fn reissue_on_privilege_change() {
    let w = world();
    let p =
        w.kc.login(
            "alice",
            &Roles {
                roles: vec!["user".into()],
            },
            None,
        )
        .unwrap();
    w.clock.advance(Duration::from_secs(100));
    let v = w.kc.verify::<Roles>(p.access.as_str()).unwrap();
    let admin = Roles {
        roles: vec!["admin".into()],
    };
    let q = w.kc.reissue(&v, &admin).unwrap();
    assert_ne!(q.session, p.session, "a new session id on privilege change");
    assert_eq!(
        w.kc.verify::<Roles>(q.access.as_str())
            .unwrap()
            .claims()
            .custom(),
        &admin
    );
    assert_eq!(kind(w.kc.verify::<Roles>(p.access.as_str())), "revoked");
    assert_eq!(kind(w.kc.refresh(p.refresh.as_str(), None)), "revoked");
    assert!(w.events.lock().unwrap().iter().any(|e| matches!(
        e,
        SessionEvent::Revoked {
            reason: RevokeReason::PrivilegeChange,
            ..
        }
    )));
    // The absolute deadline is inherited, not extended.
    w.clock.advance(Duration::from_secs(24 * 3600 - 100));
    assert_eq!(
        kind(w.kc.refresh(q.refresh.as_str(), None)),
        "session_expired"
    );
}

#[test]
fn session_limits() {
    let w = world_with(|b| b.session_limit(2, LimitPolicy::Reject));
    w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert_eq!(
        kind(w.kc.login("alice", &NoCustomClaims {}, None)),
        "session_limit"
    );
    assert!(w.kc.login("bob", &NoCustomClaims {}, None).is_ok());

    let w = world_with(|b| b.session_limit(2, LimitPolicy::EvictOldest));
    let first = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.clock.advance(Duration::from_secs(1));
    let second = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.clock.advance(Duration::from_secs(1));
    let third = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(first.access.as_str())),
        "revoked"
    );
    assert!(
        w.kc.verify::<NoCustomClaims>(second.access.as_str())
            .is_ok()
    );
    assert!(w.kc.verify::<NoCustomClaims>(third.access.as_str()).is_ok());
    assert_eq!(w.kc.sessions("alice").unwrap().len(), 2);
}

#[test]
fn step_up_for_sensitive_actions() {
    let w = world();
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let v = w.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
    assert!(
        w.kc.require_recent_auth(&v, Duration::from_secs(300))
            .is_ok()
    );
    w.clock.advance(Duration::from_secs(600));
    let p2 = w.kc.refresh(p.refresh.as_str(), None).unwrap();
    let v2 = w.kc.verify::<NoCustomClaims>(p2.access.as_str()).unwrap();
    assert_eq!(
        kind(w.kc.require_recent_auth(&v2, Duration::from_secs(300))),
        "reauth_required"
    );
    // The application checks the password again, then:
    let p3 = w.kc.step_up(&v2).unwrap();
    let v3 = w.kc.verify::<NoCustomClaims>(p3.access.as_str()).unwrap();
    assert!(
        w.kc.require_recent_auth(&v3, Duration::from_secs(300))
            .is_ok()
    );
    assert_eq!(v3.claims().auth_time().unwrap().as_unix(), T0 + 600);
    assert!(names(&w).contains(&"reauthenticated"));
    // Step-up rotated the family: the refresh token from before it is retired.
    w.clock.advance(Duration::from_secs(11));
    assert_eq!(
        kind(w.kc.refresh(p2.refresh.as_str(), None)),
        "refresh_reuse_detected"
    );
}

#[test]
fn client_context_anomalies() {
    let home = ClientContext::new()
        .with_ip("192.0.2.1".parse().unwrap())
        .with_user_agent("Firefox");
    let elsewhere = ClientContext::new()
        .with_ip("198.51.100.7".parse().unwrap())
        .with_user_agent("Firefox");
    let w = world();
    let p =
        w.kc.login("alice", &NoCustomClaims {}, Some(&home))
            .unwrap();
    let p = w.kc.refresh(p.refresh.as_str(), Some(&home)).unwrap();
    assert!(!names(&w).contains(&"anomaly"));
    w.kc.refresh(p.refresh.as_str(), Some(&elsewhere)).unwrap();
    let anomaly = w
        .events
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            SessionEvent::Anomaly { info, .. } => Some(info.changed.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(anomaly, ["ip"]);

    let w = world_with(|b| b.anomaly_policy(AnomalyPolicy::Revoke));
    let p =
        w.kc.login("alice", &NoCustomClaims {}, Some(&home))
            .unwrap();
    assert_eq!(
        kind(w.kc.refresh(p.refresh.as_str(), Some(&elsewhere))),
        "revoked"
    );
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(p.access.as_str())),
        "revoked"
    );
}

#[test]
fn refresh_tokens_are_sealed_in_every_access_format() {
    for access in Format::ALL {
        let w = world_with(|b| b.access_format(access));
        let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
        assert_eq!(p.access.format(), access);
        assert_eq!(p.refresh.format(), Format::V4Local);
        let q = w.kc.refresh(p.refresh.as_str(), None).unwrap();
        assert!(w.kc.verify::<NoCustomClaims>(q.access.as_str()).is_ok());
        w.clock.advance(Duration::from_secs(11));
        assert_eq!(
            kind(w.kc.refresh(p.refresh.as_str(), None)),
            "refresh_reuse_detected"
        );
    }
}

#[test]
fn events_never_carry_tokens() {
    let w = world();
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let q = w.kc.refresh(p.refresh.as_str(), None).unwrap();
    w.clock.advance(Duration::from_secs(11));
    let _ = w.kc.refresh(p.refresh.as_str(), None);
    let shown = format!("{:?}", w.events.lock().unwrap());
    for t in [
        &p.access.as_str(),
        &p.refresh.as_str(),
        &q.access.as_str(),
        &q.refresh.as_str(),
    ] {
        for part in t.split('.').filter(|s| s.len() > 10) {
            assert!(!shown.contains(part));
        }
    }
}

#[test]
fn configuration_is_checked() {
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let bad = [
        builder(&clock).idle_timeout(Duration::from_secs(48 * 3600)),
        builder(&clock).reuse_grace(Duration::from_secs(3600)),
        builder(&clock).access_ttl(Duration::ZERO),
    ];
    for b in bad {
        assert_eq!(b.build().unwrap_err().kind(), "config");
    }
    // A key ring whose grace is shorter than the refresh lifetime would log users out.
    let keys = Arc::new(KeyRing::new().with_grace(Duration::from_secs(600)));
    assert_eq!(Keycard::builder(keys).build().unwrap_err().kind(), "config");
}

#[test]
fn memory_store_revocations_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("keycard-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("revocations.bin");
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let keys = Arc::new(
        KeyRing::new()
            .with_grace(Duration::from_secs(3600))
            .with_clock(Arc::new(clock.clone())),
    );
    keys.rotate(Algorithm::EdDSA).unwrap();
    let open = || {
        let list = keycard::revocation::RevocationList::open(&path)
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let store = keycard::stores::MemoryStore::with_revocations(Arc::new(list));
        Keycard::builder(keys.clone())
            .store(Arc::new(store))
            .build()
            .unwrap()
    };
    let (gone, kept, everywhere) = {
        let kc = open();
        let a = kc.login("alice", &NoCustomClaims {}, None).unwrap();
        let b = kc.login("bob", &NoCustomClaims {}, None).unwrap();
        let c = kc.login("carol", &NoCustomClaims {}, None).unwrap();
        kc.logout(&kc.verify::<NoCustomClaims>(a.access.as_str()).unwrap())
            .unwrap();
        kc.logout_all("carol").unwrap();
        (a, b, c)
    };
    // Restart: a new process opens the same file.
    let kc = open();
    assert_eq!(
        kind(kc.verify::<NoCustomClaims>(gone.access.as_str())),
        "revoked"
    );
    assert_eq!(
        kind(kc.verify::<NoCustomClaims>(everywhere.access.as_str())),
        "revoked"
    );
    assert!(kc.verify::<NoCustomClaims>(kept.access.as_str()).is_ok());
    // Families were in memory: refreshing across the restart needs a new login.
    assert_eq!(
        kind(kc.refresh(kept.refresh.as_str(), None)),
        "session_expired"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// --- Hardening regressions.

/// A memory store that runs a hook once, right after `by_subject` answers: a way to force an
/// interleaving between two calls on the facade.
struct Interleave {
    inner: keycard::stores::MemoryStore,
    #[allow(clippy::type_complexity)]
    after_by_subject: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl std::fmt::Debug for Interleave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interleave")
    }
}

impl keycard::refresh::SessionStore for Interleave {
    fn insert<'a>(
        &'a self,
        family: &'a Family,
        limit: Option<keycard::refresh::SessionLimit>,
    ) -> StoreFuture<'a, keycard::refresh::Admission> {
        self.inner.insert(family, limit)
    }
    fn get<'a>(
        &'a self,
        sub: &'a str,
        sid: &'a keycard::SessionId,
    ) -> StoreFuture<'a, Option<Family>> {
        self.inner.get(sub, sid)
    }
    fn compare_and_swap<'a>(
        &'a self,
        expected: u64,
        next: &'a Family,
    ) -> StoreFuture<'a, keycard::refresh::CasOutcome> {
        self.inner.compare_and_swap(expected, next)
    }
    fn remove<'a>(
        &'a self,
        sub: &'a str,
        sid: &'a keycard::SessionId,
    ) -> StoreFuture<'a, Option<Family>> {
        self.inner.remove(sub, sid)
    }
    fn by_subject<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, Vec<Family>> {
        Box::pin(async move {
            let out = self.inner.by_subject(sub).await;
            let hook = self.after_by_subject.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
            out
        })
    }
    fn remove_expired(&self, now: Timestamp) -> StoreFuture<'_, Vec<Family>> {
        self.inner.remove_expired(now)
    }
    fn revocations(&self) -> Arc<dyn keycard::RevocationCheck> {
        self.inner.revocations()
    }
    fn revoke<'a>(&'a self, r: &'a [keycard::revocation::Revoke]) -> StoreFuture<'a, ()> {
        self.inner.revoke(r)
    }
    fn maintain(&self) -> StoreFuture<'_, usize> {
        self.inner.maintain()
    }
}

#[test]
fn logout_all_catches_a_refresh_that_races_it() {
    // The cutoff used to be taken when logout_all started: a refresh landing before the family
    // was removed minted tokens one second later, which verified after logout_all returned.
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let list = keycard::revocation::RevocationList::new().with_clock(Arc::new(clock.clone()));
    let store = Arc::new(Interleave {
        inner: keycard::stores::MemoryStore::with_revocations(Arc::new(list)),
        after_by_subject: Mutex::new(None),
    });
    let kc = Arc::new(
        builder(&clock)
            .store(store.clone())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    );
    let p = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    clock.advance(Duration::from_secs(1));
    let raced = Arc::new(Mutex::new(None));
    {
        let (kc, clock, raced, token) = (kc.clone(), clock.clone(), raced.clone(), p.refresh);
        *store.after_by_subject.lock().unwrap() = Some(Box::new(move || {
            clock.advance(Duration::from_secs(1));
            *raced.lock().unwrap() = Some(kc.refresh(token.as_str(), None).unwrap());
        }));
    }
    assert_eq!(kc.logout_all("alice").unwrap(), 1);
    let raced = raced
        .lock()
        .unwrap()
        .take()
        .expect("the refresh ran inside logout_all");
    assert_eq!(
        kind(kc.verify::<NoCustomClaims>(raced.access.as_str())),
        "revoked"
    );
    assert_eq!(kind(kc.refresh(raced.refresh.as_str(), None)), "revoked");
}

#[test]
fn logout_all_outlives_every_token_the_issuer_can_mint() {
    // The cutoff used to be kept until now + absolute timeout, but `issuer()` mints tokens that
    // live up to the key ring's grace (24 h here, absolute 1 h): they verified again once the
    // cutoff was pruned.
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let list =
        Arc::new(keycard::revocation::RevocationList::new().with_clock(Arc::new(clock.clone())));
    let store = keycard::stores::MemoryStore::with_revocations(list.clone());
    let kc = builder(&clock)
        .clock(Arc::new(clock.clone()))
        .store(Arc::new(store))
        .absolute_timeout(Duration::from_secs(3600))
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let w = World {
        clock,
        events: Arc::new(Mutex::new(Vec::new())),
        kc,
    };
    let long =
        w.kc.issuer()
            .access("alice")
            .ttl(Duration::from_secs(20 * 3600))
            .mint()
            .unwrap();
    assert!(w.kc.verify::<NoCustomClaims>(long.as_str()).is_ok());
    w.clock.advance(Duration::from_secs(1));
    w.kc.logout_all("alice").unwrap();
    w.clock.advance(Duration::from_secs(2 * 3600));
    list.compact().unwrap();
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(long.as_str())),
        "revoked"
    );
}

#[test]
fn anomalies_are_checked_on_the_retry_path_too() {
    // A replay of a just-rotated refresh token from another IP, within the grace, used to get
    // the current pair with no anomaly event and no revocation under AnomalyPolicy::Revoke.
    let home = ClientContext::new().with_ip("192.0.2.1".parse().unwrap());
    let elsewhere = ClientContext::new().with_ip("198.51.100.7".parse().unwrap());
    let w = world_with(|b| b.anomaly_policy(AnomalyPolicy::Revoke));
    let p1 =
        w.kc.login("alice", &NoCustomClaims {}, Some(&home))
            .unwrap();
    let p2 = w.kc.refresh(p1.refresh.as_str(), Some(&home)).unwrap();
    w.clock.advance(Duration::from_secs(2));
    assert_eq!(
        kind(w.kc.refresh(p1.refresh.as_str(), Some(&elsewhere))),
        "revoked"
    );
    assert!(names(&w).contains(&"anomaly"));
    assert_eq!(
        kind(w.kc.verify::<NoCustomClaims>(p2.access.as_str())),
        "revoked"
    );
    // Positive control: the same retry from the same place gets the current pair.
    let w = world_with(|b| b.anomaly_policy(AnomalyPolicy::Revoke));
    let p1 =
        w.kc.login("alice", &NoCustomClaims {}, Some(&home))
            .unwrap();
    w.kc.refresh(p1.refresh.as_str(), Some(&home)).unwrap();
    w.clock.advance(Duration::from_secs(2));
    assert!(w.kc.refresh(p1.refresh.as_str(), Some(&home)).is_ok());
}

#[test]
fn a_zero_leeway_is_refused_and_same_second_logins_work() {
    // With leeway(0), a login in the same second as logout_all was minted one second ahead
    // and failed `not_yet_valid` for that second.
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let err = builder(&clock).leeway(Duration::ZERO).build().unwrap_err();
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("at least 1 s"), "{err}");
    let w = world_with(|b| b.leeway(Duration::from_secs(1)));
    w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    w.kc.logout_all("alice").unwrap();
    let again = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert!(w.kc.verify::<NoCustomClaims>(again.access.as_str()).is_ok());
    assert!(w.kc.refresh(again.refresh.as_str(), None).is_ok());
}

#[test]
fn a_leeway_beyond_the_revocation_margin_is_refused_at_build() {
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let err = builder(&clock)
        .leeway(Duration::from_secs(600))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("margin"), "{err}");
    assert!(
        builder(&clock)
            .leeway(Duration::from_secs(300))
            .build()
            .is_ok()
    );
}

#[test]
fn concurrent_logins_never_exceed_the_session_limit() {
    // The limit used to be check-then-insert: concurrent logins all saw room and all got in.
    for policy in [LimitPolicy::Reject, LimitPolicy::EvictOldest] {
        let w = world_with(|b| b.session_limit(3, policy));
        let threads = 8;
        let barrier = Barrier::new(threads);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        w.kc.login("alice", &NoCustomClaims {}, None)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let admitted = results.iter().filter(|r| r.is_ok()).count();
        let live = w.kc.sessions("alice").unwrap().len();
        assert_eq!(live, 3, "{policy:?}");
        match policy {
            LimitPolicy::Reject => {
                assert_eq!(admitted, 3);
                assert!(
                    results
                        .iter()
                        .filter_map(|r| r.as_ref().err())
                        .all(|e| e.kind() == "session_limit")
                );
            }
            _ => {
                assert_eq!(admitted, threads);
                // Exactly the evicted sessions' tokens are revoked.
                let working = results
                    .iter()
                    .flatten()
                    .filter(|p| w.kc.verify::<NoCustomClaims>(p.access.as_str()).is_ok())
                    .count();
                assert_eq!(working, 3);
            }
        }
    }
}

#[test]
fn debug_output_shows_counts_not_sessions() {
    // Debug of Keycard / MemoryStore used to print every session: subjects, sids, IPs, user
    // agents and custom claims.
    let w = world();
    let ctx = ClientContext::new()
        .with_ip("203.0.113.9".parse().unwrap())
        .with_user_agent("SecretBrowser/1.0")
        .with_device("Alice's phone");
    let roles = Roles {
        roles: vec!["payroll-admin".into()],
    };
    let p = w.kc.login("alice@example.com", &roles, Some(&ctx)).unwrap();
    let shown = format!("{:?} {:?}", w.kc, w.kc.store());
    for secret in [
        "alice@example.com",
        p.session.as_str(),
        "203.0.113.9",
        "SecretBrowser",
        "Alice's phone",
        "payroll-admin",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("sessions: 1"), "{shown}");
}

#[test]
fn the_async_api_is_send_for_multi_threaded_runtimes() {
    fn send<T: Send>(_: &T) {}
    let w = world();
    let p = w.kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let v = w.kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
    // Built, checked for Send, and then driven: every async method of the facade.
    let login = w.kc.login_async("bob", &NoCustomClaims {}, None);
    send(&login);
    let refresh = w.kc.refresh_async(p.refresh.as_str(), None);
    send(&refresh);
    let verify = w.kc.verify_async::<NoCustomClaims>(p.access.as_str());
    send(&verify);
    let step_up = w.kc.step_up_async(&v);
    send(&step_up);
    let sessions = w.kc.sessions_async("alice");
    send(&sessions);
    assert!(pollster::block_on(login).is_ok());
    let next = pollster::block_on(refresh).unwrap();
    assert!(pollster::block_on(verify).is_ok());
    assert!(pollster::block_on(step_up).is_ok());
    assert_eq!(pollster::block_on(sessions).unwrap().len(), 1);
    let v = w.kc.verify::<NoCustomClaims>(next.access.as_str());
    // step_up rotated the family after `next` was minted: `next` is still a valid access token.
    assert!(v.is_ok());
    let logout_all = w.kc.logout_all_async("alice");
    send(&logout_all);
    assert_eq!(pollster::block_on(logout_all).unwrap(), 1);
}
