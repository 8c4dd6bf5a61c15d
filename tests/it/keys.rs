//! Key import and export through the public API: JWK, JWK Set, PASERK.

use keycard::keys::KeyState;
use keycard::{Algorithm, Format, Key, KeyRing, NoCustomClaims};

use crate::common::*;

#[test]
fn public_jwks_verifies_tokens_after_import() {
    let f = fixture();
    f.keys.rotate(Algorithm::ES256).unwrap();
    let token = f.issuer.access("alice").mint().unwrap();
    let jwks: serde_json::Value = serde_json::from_str(&f.keys.public_jwks()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(
        keys.iter()
            .all(|k| k.get("d").is_none() && k.get("k").is_none())
    );

    let peer = std::sync::Arc::new(KeyRing::new().with_clock(std::sync::Arc::new(f.clock.clone())));
    for k in keys {
        peer.add_verify_only(Key::from_jwk(&k.to_string()).unwrap())
            .unwrap();
    }
    let v = keycard::Verifier::new(peer).with_audience("api");
    assert_eq!(
        v.verify_access::<NoCustomClaims>(token.as_str())
            .unwrap()
            .subject(),
        "alice"
    );
}

#[test]
fn paserk_export_lets_a_peer_verify_v4_public() {
    let f = fixture();
    let token = f
        .issuer
        .access("alice")
        .format(Format::V4Public)
        .mint()
        .unwrap();
    let key = active(&f, Format::V4Public);
    let paserk = key.to_paserk_public().unwrap();
    assert!(paserk.starts_with("k4.public."));
    let peer = std::sync::Arc::new(KeyRing::new().with_clock(std::sync::Arc::new(f.clock.clone())));
    peer.add_verify_only(Key::from_paserk(&paserk).unwrap())
        .unwrap();
    assert_eq!(
        peer.statuses()[0].state,
        KeyState::Verifying { until: None }
    );
    let v = keycard::Verifier::new(peer).with_audience("api");
    assert!(v.verify_access::<NoCustomClaims>(token.as_str()).is_ok());
}

#[test]
fn secret_exports_round_trip_and_mint_identically_verifiable_tokens() {
    for alg in Algorithm::MINTED {
        let key = Key::generate(alg).unwrap();
        let via_jwk = Key::from_jwk(&key.to_secret_jwk().unwrap()).unwrap();
        assert_eq!(via_jwk.kid(), key.kid());
        if let Some(p) = key.to_paserk_secret() {
            let via_paserk = Key::from_paserk(&p).unwrap();
            assert_eq!(via_paserk.kid(), key.kid());
            assert_eq!(via_paserk.algorithm(), alg);
        } else {
            assert_eq!(alg.format(), Format::Jwt);
        }
    }
}

#[test]
fn jwk_thumbprints() {
    let ed = Key::generate(Algorithm::EdDSA).unwrap();
    let t = ed.jwk_thumbprint().unwrap();
    assert_eq!(t.len(), 43);
    assert_eq!(ed.to_public().unwrap().jwk_thumbprint().unwrap(), t);
    assert!(
        Key::generate(Algorithm::HS256)
            .unwrap()
            .jwk_thumbprint()
            .is_none()
    );
}
