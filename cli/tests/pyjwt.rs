//! Interop through the CLI: PyJWT verifies `keycard mint` tokens against `keycard jwks`, and a
//! PyJWT-minted token verifies with `keycard verify` after `keycard import`. Harness-less, so
//! that it is reported as ignored (with the reason) when PyJWT cannot run; see `oracle`.

#[path = "../../tests/common/harness.rs"]
mod harness;
#[path = "../../tests/common/oracle.rs"]
mod oracle;
mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

fn main() {
    let args = harness::Arguments::from_args();
    let trials = vec![oracle::needs(
        oracle::Oracle::PyJwt,
        "cli_interop_with_pyjwt",
        cli_interop_with_pyjwt,
    )];
    harness::run(&args, trials).exit();
}

const PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pyjwt_cli.py");

fn python(args: &[&str]) -> String {
    let o = Command::new("python3").arg(PY).args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

fn cli_interop_with_pyjwt() {
    let dir = tempdir("pyjwt");
    let keys = dir.join("keys.json");
    for alg in ["ES256", "EdDSA"] {
        ok(&["keygen", "--keys", p(&keys), "--alg", alg]);
        let token = ok(&[
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "alice",
            "--aud",
            "api",
            "--iss",
            "https://auth.test",
        ]);
        let jwks = dir.join("jwks.json");
        std::fs::write(&jwks, ok(&["jwks", "--keys", p(&keys)])).unwrap();
        let claims: Value =
            serde_json::from_str(&python(&["verify-jwks", p(&jwks), &token])).unwrap();
        assert_eq!(claims["sub"], "alice", "{alg}");
    }
    // PyJWT makes its own Ed25519 key, publishes the public JWK, and mints.
    let jwk_file = dir.join("py.jwk");
    let token = python(&["keygen-mint", p(&jwk_file), "py-key-1"]);
    ok(&[
        "import",
        "--keys",
        p(&keys),
        "--kid",
        "py-key-1",
        "--jwk",
        p(&jwk_file),
    ]);
    let out = ok(&[
        "verify",
        "--keys",
        p(&keys),
        "--aud",
        "api",
        "--iss",
        "https://auth.test",
        &token,
    ]);
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["sub"], "from-python");
}
