//! keycard in one screen: generate keys, mint, verify, rotate, and watch a tampered token fail.
//!
//! Run with `cargo run --example quickstart`. No Redis, no files: everything lives in memory.

use std::sync::Arc;
use std::time::Duration;

use keycard::{Algorithm, Format, Issuer, KeyRing, Verifier};
use serde::{Deserialize, Serialize};

/// Custom claims travel beside the registered ones, typed.
#[derive(Serialize, Deserialize, Debug)]
struct Roles {
    roles: Vec<String>,
}

fn main() -> Result<(), keycard::Error> {
    // 1. Keys: one active signing key per format, from the OS CSPRNG. Old keys keep verifying
    //    for the grace period after a rotation.
    let keys = Arc::new(KeyRing::new().with_grace(Duration::from_secs(3600)));
    keys.rotate(Algorithm::EdDSA)?;
    keys.rotate(Algorithm::V4Public)?;
    keys.rotate(Algorithm::V4Local)?;
    for k in keys.statuses() {
        println!("key   {:<10} {:?}  {}", k.algorithm.name(), k.state, k.kid);
    }

    // 2. Mint short-lived access tokens in each format.
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    let roles = Roles {
        roles: vec!["admin".into()],
    };
    let verifier = Verifier::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    for format in Format::ALL {
        let token = issuer
            .access("alice")
            .claims(&roles)
            .format(format)
            .mint()?;
        // 3. Verify: one call for every format; the key (found by kid) decides the algorithm.
        let ok = verifier.verify_access::<Roles>(token.as_str())?;
        println!(
            "{:<9} {} bytes  sub={} roles={:?} exp={}",
            format.name(),
            token.as_str().len(),
            ok.subject(),
            ok.claims().custom().roles,
            ok.claims().expires_at()
        );
    }

    // 4. Rotate: new tokens use the new key; tokens of the old key still verify (grace).
    let before = issuer.access("alice").claims(&roles).mint()?;
    let new_kid = keys.rotate(Algorithm::EdDSA)?;
    let after = issuer.access("alice").claims(&roles).mint()?;
    println!("rotated JWT key {} -> {}", before.kid(), new_kid);
    assert_eq!(after.kid(), &new_kid);
    verifier.verify_access::<Roles>(before.as_str())?;
    println!("token of the previous key still verifies during the grace period");

    // 5. Tamper: change one claim without the key. Rejected, with a stable error code.
    let mut parts: Vec<&str> = after.as_str().split('.').collect();
    let forged_payload = b64url(br#"{"sub":"mallory","exp":99999999999,"iat":0,"jti":"x"}"#);
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    let err = verifier.verify_access::<Roles>(&forged).unwrap_err();
    println!("tampered token rejected: {} ({})", err.kind(), err);
    assert_eq!(err.kind(), "bad_signature");

    // 6. A refresh token is not an access token: it is sealed (v4.local) with a key of its own
    //    that is never published, so no verifier of access tokens, here or elsewhere, accepts it.
    keys.rotate_refresh_key()?;
    let refresh = issuer.refresh("alice").mint()?;
    let err = verifier
        .verify_access::<Roles>(refresh.as_str())
        .unwrap_err();
    println!("refresh token used as access token: {}", err.kind());

    // 7. What a gateway needs to verify keycard's JWTs: the public JWK Set.
    println!("JWKS: {}", keys.public_jwks());
    Ok(())
}

/// Unpadded base64url, for the tampering demonstration.
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
