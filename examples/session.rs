//! Sessions end to end: login, refresh (rotation), a replayed refresh token caught as theft,
//! logout, log out everywhere, step-up. Run with `cargo run --example session`.
//!
//! A manual clock stands in for time passing, so the walk-through takes no time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keycard::refresh::ClientContext;
use keycard::{Algorithm, KeyRing, Keycard, ManualClock, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug)]
struct Roles {
    roles: Vec<String>,
}

fn main() -> Result<(), keycard::Error> {
    let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000).expect("in range"));
    let keys = Arc::new(KeyRing::new().with_clock(Arc::new(clock.clone())));
    keys.rotate(Algorithm::EdDSA)?;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let kc = Keycard::builder(keys)
        .issuer("https://auth.example")
        .audience("api")
        .access_ttl(Duration::from_secs(5 * 60))
        .idle_timeout(Duration::from_secs(30 * 60))
        .absolute_timeout(Duration::from_secs(24 * 3600))
        .reuse_grace(Duration::from_secs(10))
        .on_event(move |e| sink.lock().expect("not poisoned").push(e.name()))
        .build()?;
    let phone = ClientContext::new().with_device("alice's phone");
    let roles = Roles {
        roles: vec!["editor".into()],
    };

    // Login (after the application checked the password): a new session family.
    let p1 = kc.login("alice", &roles, Some(&phone))?;
    println!(
        "login    session {}  access {} bytes",
        p1.session,
        p1.access.as_str().len()
    );
    let v = kc.verify::<Roles>(p1.access.as_str())?;
    println!(
        "verify   sub={} roles={:?}",
        v.subject(),
        v.claims().custom().roles
    );

    // Refresh: a new pair; the old refresh token is retired.
    clock.advance(Duration::from_secs(4 * 60));
    let p2 = kc.refresh(p1.refresh.as_str(), Some(&phone))?;
    println!(
        "refresh  same session, new refresh token {}",
        p2.refresh.token_id()
    );

    // A client retrying within the grace interval gets the same current token back.
    clock.advance(Duration::from_secs(3));
    let retry = kc.refresh(p1.refresh.as_str(), Some(&phone))?;
    assert_eq!(retry.refresh.token_id(), p2.refresh.token_id());
    println!(
        "retry    lost response tolerated: same refresh token {}",
        retry.refresh.token_id()
    );

    // Much later, someone replays the old token: theft. The whole family is revoked.
    clock.advance(Duration::from_secs(60));
    let err = kc.refresh(p1.refresh.as_str(), None).unwrap_err();
    println!("replay   {err} ({})", err.kind());
    let err = kc.verify::<Roles>(p2.access.as_str()).unwrap_err();
    println!("         the user's newest access token: {}", err.kind());

    // The user logs in again; later changes role (privilege change = new session id).
    let p3 = kc.login("alice", &roles, Some(&phone))?;
    let v3 = kc.verify::<Roles>(p3.access.as_str())?;
    let admin = Roles {
        roles: vec!["admin".into()],
    };
    let p4 = kc.reissue(&v3, &admin)?;
    println!(
        "reissue  {} -> {} (old session revoked)",
        p3.session, p4.session
    );

    // Sensitive action: needs a recent password check.
    clock.advance(Duration::from_secs(10 * 60));
    let p5 = kc.refresh(p4.refresh.as_str(), None)?;
    let v5 = kc.verify::<Roles>(p5.access.as_str())?;
    match kc.require_recent_auth(&v5, Duration::from_secs(5 * 60)) {
        Err(e) => println!("step-up  {} -> asking for the password again", e.kind()),
        Ok(()) => unreachable!("auth_time is 10 minutes old"),
    }
    let p6 = kc.step_up(&v5)?;
    kc.require_recent_auth(
        &kc.verify::<Roles>(p6.access.as_str())?,
        Duration::from_secs(300),
    )?;
    println!("step-up  ok");

    // Devices, logout of one session, and "log out everywhere".
    let laptop = kc.login(
        "alice",
        &roles,
        Some(&ClientContext::new().with_device("laptop")),
    )?;
    for s in kc.sessions("alice")? {
        println!("device   {} {:?} since {}", s.sid, s.device, s.created);
    }
    let v6 = kc.verify::<Roles>(p6.access.as_str())?;
    kc.logout(&v6)?;
    println!(
        "logout   {}",
        kc.verify::<Roles>(p6.access.as_str()).unwrap_err().kind()
    );
    let ended = kc.logout_all("alice")?;
    println!(
        "logout-all ended {ended} session(s); laptop token: {}",
        kc.verify::<Roles>(laptop.access.as_str())
            .unwrap_err()
            .kind()
    );
    println!("events   {:?}", events.lock().expect("not poisoned"));
    Ok(())
}
