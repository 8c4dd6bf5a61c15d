//! Logout with stateless tokens: mint, verify, log out, verify again (rejected), restart from the
//! saved revocation file, still rejected.
//!
//! Run with `cargo run --example logout`. Uses a temporary directory; no Redis.

use std::sync::Arc;
use std::time::Duration;

use keycard::revocation::RevocationList;
use keycard::{Algorithm, Issuer, KeyRing, NoCustomClaims, Verifier};

fn main() -> Result<(), keycard::Error> {
    let dir = std::env::temp_dir().join(format!("keycard-logout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| keycard::Error::Io(e.to_string()))?;
    let revocations_file = dir.join("revocations.bin");

    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA)?;
    let issuer = Issuer::new(keys.clone()).with_access_ttl(Duration::from_secs(300));

    // The service starts: its durable revocation list is a snapshot file plus a journal that
    // every logout is flushed to before it returns (both created the first time).
    let list = Arc::new(RevocationList::open(&revocations_file)?);
    let verifier = Verifier::new(keys.clone()).with_revocations(list.clone());

    let token = issuer.access("alice").mint()?;
    let other_device = issuer.access("alice").mint()?;
    let bob = issuer.access("bob").mint()?;
    println!(
        "minted   {} ({} bytes)",
        token.token_id(),
        token.as_str().len()
    );
    verifier.verify_access::<NoCustomClaims>(token.as_str())?;
    println!("verified before logout: ok");

    // Logout of this session: every token of the session is revoked until it would expire anyway.
    list.revoke_session(
        token.session_id().expect("keycard tokens carry a sid"),
        token.expires_at(),
    )?;
    let err = verifier
        .verify_access::<NoCustomClaims>(token.as_str())
        .unwrap_err();
    println!("verified after logout:  {} ({err})", err.kind());
    assert_eq!(err.kind(), "revoked");
    verifier.verify_access::<NoCustomClaims>(other_device.as_str())?;
    println!("alice's other session:  still ok");

    // Log out everywhere: every token of alice issued up to now.
    let now = keycard::Clock::now(&keycard::SystemClock);
    list.revoke_subject("alice", now, now.saturating_add(issuer.access_ttl()))?;
    let err = verifier
        .verify_access::<NoCustomClaims>(other_device.as_str())
        .unwrap_err();
    println!("after logout-all:       {}", err.kind());
    verifier.verify_access::<NoCustomClaims>(bob.as_str())?;
    println!("bob is unaffected:      ok");

    // "Crash" and restart: no explicit save; the journal already holds both logouts.
    drop(verifier);
    drop(list);
    let restarted = Arc::new(RevocationList::open(&revocations_file)?);
    println!(
        "restarted with {} live revocations from {}",
        restarted.len(),
        revocations_file.display()
    );
    let verifier = Verifier::new(keys).with_revocations(restarted);
    for t in [&token, &other_device] {
        let err = verifier
            .verify_access::<NoCustomClaims>(t.as_str())
            .unwrap_err();
        assert_eq!(err.kind(), "revoked");
    }
    println!("after restart:          both of alice's tokens still revoked");

    std::fs::remove_dir_all(&dir).map_err(|e| keycard::Error::Io(e.to_string()))?;
    Ok(())
}
