//! Interop with another language: Python's PyJWT verifies keycard's JWTs (EdDSA, ES256, HS256)
//! and mints JWTs keycard verifies.
//!
//! PyJWT (with `cryptography`) is installed with pip when missing; see `oracle` for what happens
//! when it cannot be.

use std::process::Command;

use keycard::{Algorithm, Format, NoCustomClaims};
use serde_json::{Value, json};

use crate::harness::Trial;

use crate::common::live;
use crate::oracle::{Oracle, needs};

pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/pyjwt_interop.py");

pub fn trials() -> Vec<Trial> {
    vec![
        needs(
            Oracle::PyJwt,
            "pyjwt::keycard_tokens_verify_under_pyjwt",
            keycard_tokens_verify_under_pyjwt,
        ),
        needs(
            Oracle::PyJwt,
            "pyjwt::pyjwt_tokens_verify_under_keycard",
            pyjwt_tokens_verify_under_keycard,
        ),
    ]
}

fn python(cmd: &str, jwk: &str, arg: &str) -> String {
    let out = Command::new("python3")
        .args([SCRIPT, cmd, jwk, arg])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "PyJWT {cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn keycard_tokens_verify_under_pyjwt() {
    let (keys, issuer, _) = live();
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::HS256] {
        keys.rotate(alg).unwrap();
        let key = keys.active(Format::Jwt).unwrap();
        let token = issuer.access("alice").mint().unwrap();
        // Verifiers get public keys only; an HMAC key has no public half.
        let jwk = match alg {
            Algorithm::HS256 => key.to_secret_jwk().unwrap().to_string(),
            _ => key.to_public_jwk().unwrap(),
        };
        let out: Value = serde_json::from_str(&python("verify", &jwk, token.as_str())).unwrap();
        assert_eq!(out["header"]["alg"], alg.name());
        assert_eq!(out["header"]["typ"], "at+jwt");
        assert_eq!(out["header"]["kid"], key.kid().as_str());
        assert_eq!(out["claims"]["sub"], "alice");
        assert_eq!(out["claims"]["jti"], token.token_id().as_str());
        assert_eq!(out["claims"]["sid"], token.session_id().unwrap().as_str());
    }
}

fn pyjwt_tokens_verify_under_keycard() {
    let (keys, _, verifier) = live();
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::HS256] {
        keys.rotate(alg).unwrap();
        let key = keys.active(Format::Jwt).unwrap();
        let now = keycard::Clock::now(&keycard::SystemClock).as_unix();
        let claims = json!({
            "iss": "https://auth.test", "sub": "carol", "aud": ["api", "other"],
            "exp": now + 120, "nbf": now, "iat": now,
            "jti": format!("py-{}", alg.name()), "sid": "python-session",
        });
        let token = python("mint", &key.to_secret_jwk().unwrap(), &claims.to_string());
        let v = verifier
            .verify_access::<NoCustomClaims>(&token)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(v.subject(), "carol");
        assert_eq!(v.token_id().as_str(), format!("py-{}", alg.name()));
        assert_eq!(v.kid(), key.kid());
    }
}
