//! Interop with another language: Python's PyJWT verifies keycard's JWTs (EdDSA, ES256, HS256)
//! and mints JWTs keycard verifies.
//!
//! PyJWT (with `cryptography`) is installed with pip when missing. Without python3 the tests are
//! skipped with a reason printed to stderr; under CI (`CI` set) a missing or uninstallable PyJWT
//! fails them instead, so CI can never pass by skipping.

use std::io::Write as _;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use keycard::{Algorithm, Format, Issuer, KeyRing, NoCustomClaims, Verifier};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/interop/pyjwt_interop.py"
);

fn say(msg: &str) {
    // Written to the process's stderr directly, so the test harness does not capture it.
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Whether PyJWT is usable, installing it once if needed.
fn pyjwt() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let probe = |py: &str| {
            Command::new(py)
                .args(["-c", "import jwt, cryptography"])
                .output()
                .map(|o| o.status.success())
        };
        match probe("python3") {
            Err(_) => return Err("python3 not found".into()),
            Ok(true) => return Ok(()),
            Ok(false) => {}
        }
        say("installing PyJWT and cryptography with pip for the interop tests");
        let install = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "pyjwt>=2.8",
                "cryptography",
            ])
            .status();
        match (install, probe("python3")) {
            (_, Ok(true)) => Ok(()),
            _ => Err("PyJWT could not be installed with pip".into()),
        }
    });
    match ready {
        Ok(()) => true,
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("interop test cannot run under CI: {reason}")
        }
        Err(reason) => {
            say(&format!("SKIPPED keycard/PyJWT interop test: {reason}"));
            false
        }
    }
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

fn live() -> (Arc<KeyRing>, Issuer, Verifier) {
    let keys = Arc::new(KeyRing::new());
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.test")
        .with_audience("api");
    let verifier = Verifier::new(keys.clone())
        .with_issuer("https://auth.test")
        .with_audience("api");
    (keys, issuer, verifier)
}

#[test]
fn keycard_tokens_verify_under_pyjwt() {
    if !pyjwt() {
        return;
    }
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

#[test]
fn pyjwt_tokens_verify_under_keycard() {
    if !pyjwt() {
        return;
    }
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
