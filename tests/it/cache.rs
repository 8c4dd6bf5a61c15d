//! The verified-token cache skips only the signature: time, keys, claims and revocation are
//! checked on every hit, and a cached verifier answers exactly as an uncached one.

use std::sync::Arc;
use std::time::Duration;

use keycard::revocation::RevocationList;
use keycard::{Algorithm, Clock, Format, Issuer, KeyRing, NoCustomClaims, Verifier};

use crate::common::*;

/// The fixture's verifier with a cache, and an uncached twin, both over one revocation list.
fn pair(f: &Fixture) -> (Verifier, Verifier, Arc<RevocationList>) {
    let list = Arc::new(RevocationList::new().with_clock(Arc::new(f.clock.clone())));
    let plain = f.verifier.clone().with_revocations(list.clone());
    let cached = plain.clone().with_cache(64);
    (cached, plain, list)
}

/// Both verifiers' answers as `Ok(subject)` or `Err(kind)`; they must agree.
fn both(cached: &Verifier, plain: &Verifier, token: &str) -> Result<String, &'static str> {
    let a = cached
        .verify_access::<NoCustomClaims>(token)
        .map(|v| v.subject().to_owned())
        .map_err(|e| e.kind());
    let b = plain
        .verify_access::<NoCustomClaims>(token)
        .map(|v| v.subject().to_owned())
        .map_err(|e| e.kind());
    assert_eq!(a, b, "cached and uncached verifiers disagree on {token}");
    a
}

#[test]
fn a_hit_still_expires() {
    let f = fixture();
    let (cached, plain, _) = pair(&f);
    let t = f
        .issuer
        .access("alice")
        .ttl(Duration::from_secs(300))
        .mint()
        .unwrap();
    assert_eq!(both(&cached, &plain, t.as_str()).unwrap(), "alice");
    assert_eq!(both(&cached, &plain, t.as_str()).unwrap(), "alice");
    f.clock.advance(Duration::from_secs(300 + 61));
    assert_eq!(both(&cached, &plain, t.as_str()), Err("expired"));
}

#[test]
fn a_hit_is_still_revocable_by_token_session_and_subject() {
    let f = fixture();
    let (cached, plain, list) = pair(&f);
    let until = f.clock.now().saturating_add(Duration::from_secs(3600));
    let mint = || {
        f.issuer
            .access("alice")
            .session(keycard::SessionId::random())
            .mint()
            .unwrap()
    };
    let (a, b, c) = (mint(), mint(), mint());
    for t in [&a, &b, &c] {
        both(&cached, &plain, t.as_str()).unwrap();
    }
    list.revoke_token(a.token_id(), until).unwrap();
    assert_eq!(both(&cached, &plain, a.as_str()), Err("revoked"));
    let sid = cached
        .verify_access::<NoCustomClaims>(b.as_str())
        .unwrap()
        .session_id()
        .cloned()
        .unwrap();
    list.revoke_session(&sid, until).unwrap();
    assert_eq!(both(&cached, &plain, b.as_str()), Err("revoked"));
    f.clock.advance(Duration::from_secs(1));
    list.revoke_subject("alice", f.clock.now(), until).unwrap();
    assert_eq!(both(&cached, &plain, c.as_str()), Err("revoked"));
}

#[test]
fn a_hit_follows_the_key_ring() {
    for (format, alg) in [
        (Format::Jwt, Algorithm::EdDSA),
        (Format::V4Public, Algorithm::V4Public),
        (Format::V4Local, Algorithm::V4Local),
    ] {
        let f = fixture();
        let (cached, plain, _) = pair(&f);
        let t = f.issuer.access("alice").format(format).mint().unwrap();
        both(&cached, &plain, t.as_str()).unwrap();
        f.keys.rotate(alg).unwrap();
        // Demoted, still verifying: a hit.
        both(&cached, &plain, t.as_str()).unwrap();
        f.keys.retire(t.kid()).unwrap();
        let err = both(&cached, &plain, t.as_str()).unwrap_err();
        assert_eq!(err, "unknown_key", "{format:?}");
    }
}

#[test]
fn a_reloaded_key_set_is_a_miss() {
    let f = fixture();
    let (cached, plain, _) = pair(&f);
    let t = f.issuer.access("alice").mint().unwrap();
    both(&cached, &plain, t.as_str()).unwrap();
    // The same keys reloaded from their serialized form are new key objects: the cached entry
    // no longer matches and the token is verified again (and still passes).
    let reloaded = KeyRing::from_jwk_set(&f.keys.to_secret_jwk_set()).unwrap();
    f.keys.replace_keys(&reloaded);
    both(&cached, &plain, t.as_str()).unwrap();
    // A ring without the key: refused.
    let other = KeyRing::new();
    other.rotate(Algorithm::EdDSA).unwrap();
    f.keys.replace_keys(&other);
    assert_eq!(both(&cached, &plain, t.as_str()), Err("unknown_key"));
}

#[test]
fn a_hit_is_checked_against_each_verifiers_own_rules() {
    let f = fixture();
    let (cached, _, _) = pair(&f);
    let t = f.issuer.access("alice").mint().unwrap();
    cached.verify_access::<NoCustomClaims>(t.as_str()).unwrap();
    // Clones share the cache but not their settings.
    let other_aud = cached.clone().with_audience("admin");
    let err = other_aud
        .verify_access::<NoCustomClaims>(t.as_str())
        .unwrap_err();
    assert_eq!(err.kind(), "wrong_audience");
    let no_jwt = cached.clone().with_formats(&[Format::V4Public]);
    let err = no_jwt
        .verify_access::<NoCustomClaims>(t.as_str())
        .unwrap_err();
    assert_eq!(err.kind(), "unsupported_format");
}

#[test]
fn refresh_tokens_and_failures_are_never_cached() {
    let f = fixture();
    let (cached, plain, _) = pair(&f);
    let t = f.issuer.access("alice").mint().unwrap();
    let mut forged = t.as_str().to_owned();
    forged.pop();
    forged.push(if t.as_str().ends_with('A') { 'B' } else { 'A' });
    for _ in 0..3 {
        assert!(both(&cached, &plain, &forged).is_err());
    }
    assert!(format!("{cached:?}").contains("entries: 0"), "{cached:?}");
    // An access token cached, then presented as a refresh token: still the wrong type.
    both(&cached, &plain, t.as_str()).unwrap();
    let err = cached
        .verify_refresh::<NoCustomClaims>(t.as_str())
        .unwrap_err();
    assert_eq!(err.kind(), "wrong_token_type");
}

#[test]
fn the_cache_stays_within_its_capacity() {
    let f = fixture();
    let issuer = Issuer::new(f.keys.clone())
        .with_issuer("https://auth.test")
        .with_audience("api");
    let cached = f.verifier.clone().with_cache(32);
    for i in 0..500 {
        let t = issuer.access(&format!("user{i}")).mint().unwrap();
        cached.verify_access::<NoCustomClaims>(t.as_str()).unwrap();
    }
    let debug = format!("{cached:?}");
    let entries: usize = debug
        .split("entries: ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(entries <= 32 && entries > 0, "{debug}");
}
