//! Key rotation: the previous key verifies through the grace period, then is retired.

use std::time::Duration;

use keycard::{Algorithm, Format, NoCustomClaims};

use crate::common::*;

#[test]
fn grace_accepts_then_retired_rejects_in_every_format() {
    for (format, alg) in [
        (Format::Jwt, Algorithm::EdDSA),
        (Format::V4Public, Algorithm::V4Public),
        (Format::V4Local, Algorithm::V4Local),
    ] {
        let f = fixture();
        let old = f
            .issuer
            .access("alice")
            .format(format)
            .ttl(Duration::from_secs(3600))
            .mint()
            .unwrap();
        let new_kid = f.keys.rotate(alg).unwrap();
        assert_ne!(&new_kid, old.kid());
        let new = f.issuer.access("alice").format(format).mint().unwrap();
        assert_eq!(new.kid(), &new_kid, "new tokens use the new key");

        // Within the grace period both verify.
        f.clock.advance(Duration::from_secs(3599 - 60));
        assert!(
            f.verifier
                .verify_access::<NoCustomClaims>(old.as_str())
                .is_ok()
        );
        // At the end of the grace period the old key is retired: unknown_key, even though the
        // token itself (exp + leeway) would still be acceptable.
        f.clock.advance(Duration::from_secs(61));
        let err = f
            .verifier
            .verify_access::<NoCustomClaims>(old.as_str())
            .unwrap_err();
        assert_eq!(err.kind(), "unknown_key", "{format}: {err}");
        assert!(err.to_string().contains(old.kid().as_str()));
    }
}

#[test]
fn explicit_retirement_is_immediate() {
    let f = fixture();
    let t = f.issuer.access("alice").mint().unwrap();
    f.keys.rotate(Algorithm::EdDSA).unwrap();
    assert!(
        f.verifier
            .verify_access::<NoCustomClaims>(t.as_str())
            .is_ok()
    );
    f.keys.retire(t.kid()).unwrap();
    assert_eq!(
        f.verifier
            .verify_access::<NoCustomClaims>(t.as_str())
            .unwrap_err()
            .kind(),
        "unknown_key"
    );
}

#[test]
fn token_lifetime_may_not_exceed_grace() {
    let f = fixture();
    let err = f
        .issuer
        .access("alice")
        .ttl(Duration::from_secs(3601))
        .mint()
        .unwrap_err();
    assert_eq!(err.kind(), "config");
}

#[test]
fn key_set_file_survives_a_restart() {
    let f = fixture();
    let old = f.issuer.access("alice").mint().unwrap();
    f.keys.rotate(Algorithm::EdDSA).unwrap();
    let new = f.issuer.access("alice").mint().unwrap();

    let file = f.keys.to_secret_jwk_set();
    let restarted = std::sync::Arc::new(
        keycard::KeyRing::from_jwk_set(&file)
            .unwrap()
            .with_clock(std::sync::Arc::new(f.clock.clone())),
    );
    let v = keycard::Verifier::new(restarted.clone()).with_audience("api");
    assert!(v.verify_access::<NoCustomClaims>(old.as_str()).is_ok());
    assert!(v.verify_access::<NoCustomClaims>(new.as_str()).is_ok());
    assert_eq!(restarted.active(Format::Jwt).unwrap().kid(), new.kid());
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        v.verify_access::<NoCustomClaims>(old.as_str())
            .unwrap_err()
            .kind(),
        "unknown_key",
        "the grace deadline is persisted"
    );
}
