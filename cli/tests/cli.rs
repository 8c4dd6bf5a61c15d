//! The `keycard` binary against its contract (docs/cli.md): every command, every exit code, the
//! error kinds, round trips, revocation, locking, and the operator commands.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use keycard::{Clock, Issuer, KeyRing, ManualClock, SystemClock};
use serde_json::Value;
use support::*;

#[test]
fn keygen_writes_a_private_jwk_set_with_mode_0600() {
    let dir = tempdir("keygen");
    let keys = dir.join("keys.json");
    let kid = ok(&[
        "keygen",
        "--keys",
        p(&keys),
        "--alg",
        "EdDSA",
        "--kid",
        "main-2026",
    ]);
    assert_eq!(kid, "main-2026");
    let pid = ok(&["keygen", "--keys", p(&keys), "--alg", "v4.public"]);
    assert!(pid.starts_with("k4.pid."));
    let hs = ok(&["keygen", "--keys", p(&keys), "--alg", "HS256"]);
    assert_eq!(hs.len(), 22);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&keys).unwrap()).unwrap();
    let members = set["keys"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert!(
        members
            .iter()
            .all(|k| k["kid"].is_string() && k["alg"].is_string())
    );
    // HS256 is now the active JWT key; EdDSA verifies for the grace period.
    let active: Vec<&str> = members
        .iter()
        .filter(|k| k["keycard_active"] == true)
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(active.len(), 2);
    assert!(active.contains(&hs.as_str()) && active.contains(&pid.as_str()));

    usage_error(&keycard(&["keygen", "--keys", p(&keys), "--alg", "RS256"]));
    usage_error(&keycard(&[
        "keygen",
        "--keys",
        p(&keys),
        "--alg",
        "v4.local",
        "--kid",
        "x",
    ]));
    usage_error(&keycard(&[
        "keygen",
        "--keys",
        p(&keys),
        "--alg",
        "EdDSA",
        "--kid",
        "main-2026",
    ]));
    usage_error(&keycard(&[
        "keygen",
        "--keys",
        p(&keys),
        "--alg",
        "EdDSA",
        "--kid",
        "has space",
    ]));
}

#[test]
fn mint_then_verify_in_every_format() {
    let dir = tempdir("roundtrip");
    let keys = keyset(&dir);
    for format in ["jwt", "v4.public", "v4.local"] {
        let token = ok(&[
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "alice",
            "--iss",
            "https://auth.test",
            "--aud",
            "api",
            "--ttl",
            "2h",
            "--format",
            format,
            "--claim",
            "roles=[\"admin\"]",
            "--claim",
            "tenant=7",
        ]);
        let out = ok(&[
            "verify",
            "--keys",
            p(&keys),
            "--iss",
            "https://auth.test",
            "--aud",
            "api",
            "--format",
            format,
            &token,
        ]);
        let claims: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["roles"], serde_json::json!(["admin"]));
        assert_eq!(claims["tenant"], 7);
        for member in ["iss", "aud", "exp", "iat", "nbf", "jti", "sid"] {
            assert!(claims.get(member).is_some(), "{format}: {member}");
        }
        // Time claims as the format carries them.
        if format == "jwt" {
            assert!(claims["exp"].is_i64());
        } else {
            assert!(claims["exp"].as_str().unwrap().ends_with('Z'));
        }
        let exp_minus_iat = if format == "jwt" {
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
        } else {
            7200
        };
        assert_eq!(exp_minus_iat, 7200);
        // From stdin too.
        let o = keycard_stdin(
            &["verify", "--keys", p(&keys), "--aud", "api", "-"],
            Some(&format!("{token}\n")),
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
}

#[test]
fn verify_rejections_follow_the_contract() {
    let dir = tempdir("reject");
    let keys = keyset(&dir);
    let v = |token: &str| keycard(&["verify", "--keys", p(&keys), "--aud", "api", token]);
    let good = ok(&["mint", "--keys", p(&keys), "--sub", "alice", "--aud", "api"]);
    assert_eq!(v(&good).code, 0);

    rejected(&v("not a token"), "malformed");
    rejected(&v(&"a".repeat(9000)), "token_too_large");
    rejected(&v("v2.local.AAAA"), "unsupported_format");
    let other = dir.join("other.json");
    ok(&["keygen", "--keys", p(&other), "--alg", "EdDSA"]);
    let stranger = ok(&[
        "mint",
        "--keys",
        p(&other),
        "--sub",
        "alice",
        "--aud",
        "api",
    ]);
    rejected(&v(&stranger), "unknown_key");
    let mut forged = good.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'Q' } else { 'A' });
    rejected(&v(&forged), "bad_signature");
    rejected(
        &keycard(&["verify", "--keys", p(&keys), "--aud", "other", &good]),
        "wrong_audience",
    );
    rejected(
        &keycard(&[
            "verify",
            "--keys",
            p(&keys),
            "--aud",
            "api",
            "--iss",
            "x",
            &good,
        ]),
        "missing_claim",
    );
    rejected(
        &keycard(&[
            "verify",
            "--keys",
            p(&keys),
            "--aud",
            "api",
            "--format",
            "v4.local",
            &good,
        ]),
        "unsupported_format",
    );

    // Tokens minted with the library and a clock elsewhere in time, from the same key file.
    let ring = Arc::new(KeyRing::load(&keys).unwrap());
    let at = |offset: i64| {
        let now = SystemClock.now().as_unix();
        let clock = ManualClock::new(keycard::Timestamp::from_unix(now + offset).unwrap());
        Issuer::new(ring.clone())
            .with_audience("api")
            .with_clock(Arc::new(clock))
    };
    let expired = at(-3600).access("alice").mint().unwrap();
    rejected(&v(expired.as_str()), "expired");
    let future = at(3600).access("alice").mint().unwrap();
    rejected(&v(future.as_str()), "not_yet_valid");
    // A refresh token sealed with a refresh-token key of the same key file.
    ring.rotate_refresh_key().unwrap();
    ring.save(&keys).unwrap();
    let refresh = at(0).refresh("alice").mint().unwrap();
    rejected(&v(refresh.as_str()), "wrong_token_type");
    let o = keycard(&[
        "verify",
        "--keys",
        p(&keys),
        "--aud",
        "api",
        "--leeway",
        "2h",
        future.as_str(),
    ]);
    assert_eq!(o.code, 0, "a leeway covers the skew: {}", o.stderr);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempdir("usage");
    let keys = keyset(&dir);
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["verify", "--keys", p(&keys), "--bogus", "x"],
        vec!["verify", "--keys", "/nonexistent/keys.json", "x.y.z"],
        vec!["verify", "--keys", p(&garbage), "x.y.z"],
        vec!["mint", "--keys", p(&keys), "--sub", "a", "--ttl", "15x"],
        vec!["mint", "--keys", p(&keys), "--sub", "a", "--ttl", "-5m"],
        vec![
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "a",
            "--format",
            "v5.public",
        ],
        vec![
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "a",
            "--kid",
            "no-such-kid",
        ],
        vec!["mint", "--keys", p(&keys), "--sub", "a", "--claim", "x"],
        vec![
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "a",
            "--claim",
            "x=not json",
        ],
        vec!["mint", "--keys", p(&keys), "--sub", "a", "--claim", "exp=5"],
        vec!["paserk", "--keys", p(&keys), "--kid", "nope"],
        vec![
            "revoke",
            "--revocations",
            "/nonexistent/dir/r.bin",
            "--jti",
            "x",
        ],
        vec!["verify", "--keys", p(&keys), "--leeway", "1y", "x.y.z"],
    ];
    for args in cases {
        let o = keycard(&args);
        assert_eq!(o.code, 2, "{args:?}: {} {}", o.stdout, o.stderr);
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn inspect_decodes_without_verifying() {
    let dir = tempdir("inspect");
    let keys = keyset(&dir);
    for format in ["jwt", "v4.public", "v4.local"] {
        let token = ok(&[
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "alice",
            "--format",
            format,
        ]);
        let out: Value = serde_json::from_str(&ok(&["inspect", &token])).unwrap();
        assert_eq!(out["verified"], false);
        assert_eq!(out["format"], format);
        if format == "v4.local" {
            assert!(out["claims"].is_null(), "encrypted");
            assert!(
                out["footer"]["kid"]
                    .as_str()
                    .unwrap()
                    .starts_with("k4.lid.")
            );
        } else {
            assert_eq!(out["claims"]["sub"], "alice");
        }
    }
    // Even a token signed by nobody: inspect still says what it claims, and that it is unverified.
    let forged = format!(
        "{}.{}.",
        common::b64(br#"{"alg":"none"}"#),
        common::b64(br#"{"sub":"root"}"#)
    );
    let out: Value = serde_json::from_str(&ok(&["inspect", &forged])).unwrap();
    assert_eq!(out["claims"]["sub"], "root");
    assert_eq!(out["verified"], false);
    rejected(&keycard(&["inspect", "%%%"]), "malformed");
}

#[test]
fn jwks_and_paserk_exports() {
    let dir = tempdir("export");
    let keys = dir.join("keys.json");
    let ed = ok(&["keygen", "--keys", p(&keys), "--alg", "EdDSA"]);
    let es = ok(&["keygen", "--keys", p(&keys), "--alg", "ES256"]);
    let hs = ok(&["keygen", "--keys", p(&keys), "--alg", "HS256"]);
    let pid = ok(&["keygen", "--keys", p(&keys), "--alg", "v4.public"]);
    let lid = ok(&["keygen", "--keys", p(&keys), "--alg", "v4.local"]);
    let jwks: Value = serde_json::from_str(&ok(&["jwks", "--keys", p(&keys)])).unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [ed.as_str(), es.as_str()], "JWT public keys only");
    let text = jwks.to_string();
    for private in ["\"d\"", "\"k\"", "\"p\"", "\"q\"", "\"dp\""] {
        assert!(!text.contains(private));
    }
    assert!(ok(&["paserk", "--keys", p(&keys), "--kid", &pid]).starts_with("k4.public."));
    assert!(
        ok(&["paserk", "--keys", p(&keys), "--kid", &pid, "--secret"]).starts_with("k4.secret.")
    );
    assert!(
        ok(&["paserk", "--keys", p(&keys), "--kid", &lid, "--secret"]).starts_with("k4.local.")
    );
    usage_error(&keycard(&["paserk", "--keys", p(&keys), "--kid", &lid]));
    usage_error(&keycard(&["paserk", "--keys", p(&keys), "--kid", &hs]));
}

#[test]
fn paserk_and_jwk_import_round_trips() {
    let dir = tempdir("import");
    let a = keyset(&dir);
    let b = dir.join("b.json");
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    let pid = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "v4.public")
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let public = ok(&["paserk", "--keys", p(&a), "--kid", &pid]);
    // The kid of a PASETO key must be its PASERK id.
    usage_error(&keycard(&[
        "import",
        "--keys",
        p(&b),
        "--kid",
        "other",
        "--paserk",
        &public,
    ]));
    assert_eq!(
        ok(&[
            "import",
            "--keys",
            p(&b),
            "--kid",
            &pid,
            "--paserk",
            &public
        ]),
        pid
    );
    let token = ok(&[
        "mint",
        "--keys",
        p(&a),
        "--sub",
        "alice",
        "--format",
        "v4.public",
    ]);
    assert!(ok(&["verify", "--keys", p(&b), &token]).contains("alice"));
    // A public key cannot become the active signing key, and b cannot mint with it.
    usage_error(&keycard(&[
        "import",
        "--keys",
        p(&dir.join("c.json")),
        "--kid",
        &pid,
        "--paserk",
        &public,
        "--active",
    ]));
    usage_error(&keycard(&[
        "mint",
        "--keys",
        p(&b),
        "--sub",
        "x",
        "--format",
        "v4.public",
    ]));

    // A secret PASERK imported with --active mints tokens the original verifies.
    let secret = ok(&["paserk", "--keys", p(&a), "--kid", &pid, "--secret"]);
    let c = dir.join("c.json");
    ok(&[
        "import",
        "--keys",
        p(&c),
        "--kid",
        &pid,
        "--paserk",
        &secret,
        "--active",
    ]);
    let token = ok(&[
        "mint",
        "--keys",
        p(&c),
        "--sub",
        "carol",
        "--format",
        "v4.public",
    ]);
    assert!(ok(&["verify", "--keys", p(&a), &token]).contains("carol"));

    // A public JWK (with its alg given on the command line).
    let jwks: Value = serde_json::from_str(&ok(&["jwks", "--keys", p(&a)])).unwrap();
    let mut jwk = jwks["keys"][0].clone();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    jwk.as_object_mut().unwrap().remove("alg");
    let file = dir.join("ed.jwk");
    std::fs::write(&file, jwk.to_string()).unwrap();
    usage_error(&keycard(&[
        "import",
        "--keys",
        p(&b),
        "--kid",
        &kid,
        "--jwk",
        p(&file),
    ]));
    ok(&[
        "import",
        "--keys",
        p(&b),
        "--kid",
        &kid,
        "--jwk",
        p(&file),
        "--alg",
        "EdDSA",
    ]);
    let token = ok(&["mint", "--keys", p(&a), "--sub", "dave"]);
    assert!(ok(&["verify", "--keys", p(&b), &token]).contains("dave"));
}

#[test]
fn revoke_then_verify_with_revocations() {
    let dir = tempdir("revoke");
    let keys = keyset(&dir);
    let revs = dir.join("revoked.bin");
    let t1 = ok(&["mint", "--keys", p(&keys), "--sub", "alice"]);
    let t2 = ok(&[
        "mint",
        "--keys",
        p(&keys),
        "--sub",
        "bob",
        "--format",
        "v4.public",
    ]);
    let t3 = ok(&[
        "mint",
        "--keys",
        p(&keys),
        "--sub",
        "carol",
        "--format",
        "v4.local",
    ]);
    let claims = |t: &str| -> Value {
        serde_json::from_str(&ok(&["verify", "--keys", p(&keys), t])).unwrap()
    };
    let jti = claims(&t1)["jti"].as_str().unwrap().to_owned();
    let sid = claims(&t2)["sid"].as_str().unwrap().to_owned();
    let with_list =
        |t: &str| keycard(&["verify", "--keys", p(&keys), "--revocations", p(&revs), t]);

    // A missing revocation file is an I/O error, not "nothing revoked".
    usage_error(&with_list(&t1));
    assert_eq!(
        ok(&["revoke", "--revocations", p(&revs), "--jti", &jti]),
        ""
    );
    rejected(&with_list(&t1), "revoked");
    assert_eq!(with_list(&t2).code, 0);
    ok(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--sid",
        &sid,
        "--ttl",
        "2h",
    ]);
    rejected(&with_list(&t2), "revoked");
    assert_eq!(with_list(&t3).code, 0);
    ok(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--sub",
        "carol",
        "--until",
        "2099-01-01T00:00:00Z",
    ]);
    rejected(&with_list(&t3), "revoked");
    // A token of carol minted after the cutoff (a second later) is not revoked.
    std::thread::sleep(Duration::from_millis(1100));
    let t4 = ok(&["mint", "--keys", p(&keys), "--sub", "carol"]);
    assert_eq!(with_list(&t4).code, 0);
    usage_error(&keycard(&["revoke", "--revocations", p(&revs)]));
    usage_error(&keycard(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--jti",
        "a",
        "--until",
        "tomorrow",
    ]));
    usage_error(&keycard(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--jti",
        "a",
        "--sid",
        "b",
    ]));
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "keygen",
        "import",
        "jwks",
        "paserk",
        "mint",
        "verify",
        "inspect",
        "revoke",
        "keys list",
        "keys retire",
        "keys prune",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let o = keycard(&args);
        assert_eq!(o.code, 0);
        assert!(o.stdout.contains("Example: keycard"), "{cmd}");
    }
    assert_eq!(keycard(&["--help"]).code, 0);
    assert_eq!(keycard(&["--version"]).code, 0);
}

#[test]
fn never_panics_on_odd_input() {
    let dir = tempdir("odd");
    let keys = keyset(&dir);
    let tokens = [
        "",
        ".",
        "..",
        "...",
        "-",
        "--",
        "v4.public.",
        "v4.local..",
        "eyJ.eyJ.",
        "\u{1}",
        "a.b.c.d.e.f",
        "\u{202e}",
        "v4.public.AAAA.AAAA.AAAA",
    ];
    for t in tokens {
        for cmd in ["verify", "inspect"] {
            let args: Vec<&str> = if cmd == "verify" {
                vec!["verify", "--keys", p(&keys), "--", t]
            } else {
                vec!["inspect", "--", t]
            };
            let o = keycard(&args);
            assert!(
                matches!(o.code, 1 | 2),
                "{cmd} {t:?}: {} {}",
                o.code,
                o.stderr
            );
        }
    }
    let o = keycard_stdin(&["verify", "--keys", p(&keys), "-"], Some("\u{ff}\u{fe}"));
    assert!(matches!(o.code, 1 | 2));
}

// --- Hardening regressions.

#[test]
fn parallel_revokes_lose_nothing() {
    // Each `revoke` used to read, change and write the file without a lock: 10 in parallel all
    // exited 0 and the file held 2 of them.
    let dir = tempdir("parallel-revoke");
    let revs = dir.join("revoked.bin");
    let n = 20;
    let children: Vec<_> = (0..n)
        .map(|i| {
            let mut cmd = Command::cargo_bin("keycard").unwrap();
            cmd.args([
                "revoke",
                "--revocations",
                p(&revs),
                "--jti",
                &format!("jti-{i}"),
            ]);
            cmd.stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let list = keycard::revocation::RevocationList::load(&revs).unwrap();
    for i in 0..n {
        let jti = keycard::TokenId::new(&format!("jti-{i}")).unwrap();
        assert!(list.is_token_revoked(&jti), "jti-{i} was lost");
    }
    assert_eq!(list.len(), n);
}

#[test]
fn parallel_keygens_lose_nothing() {
    let dir = tempdir("parallel-keygen");
    let keys = dir.join("keys.json");
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut cmd = Command::cargo_bin("keycard").unwrap();
            cmd.args(["keygen", "--keys", p(&keys), "--alg", "EdDSA"]);
            cmd.stdout(std::process::Stdio::piped());
            cmd.stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut kids = Vec::new();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        kids.push(String::from_utf8(o.stdout).unwrap().trim().to_owned());
    }
    let ring = KeyRing::load(&keys).unwrap();
    for kid in &kids {
        assert!(ring.get(kid).is_some(), "key {kid} was lost");
    }
}

#[test]
fn a_file_held_by_a_service_is_refused_not_overwritten() {
    let dir = tempdir("held");
    let revs = dir.join("revoked.bin");
    let service = keycard::revocation::RevocationList::open(&revs).unwrap();
    service
        .revoke_token(
            &keycard::TokenId::new("by-service").unwrap(),
            SystemClock.now().saturating_add(Duration::from_secs(600)),
        )
        .unwrap();
    let o = keycard(&[
        "revoke",
        "--lock-wait",
        "0s",
        "--revocations",
        p(&revs),
        "--jti",
        "by-cli",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("locked"), "{}", o.stderr);
    drop(service);
    ok(&["revoke", "--revocations", p(&revs), "--jti", "by-cli"]);
    let list = keycard::revocation::RevocationList::load(&revs).unwrap();
    for jti in ["by-service", "by-cli"] {
        assert!(list.is_token_revoked(&keycard::TokenId::new(jti).unwrap()));
    }
}

#[test]
fn leeway_beyond_the_files_margin_is_refused() {
    // `verify --leeway 10m` used to raise the list's margin, but `revoke` had already saved
    // with the 5-minute one, so a token revoked after it expired 6 minutes ago verified.
    let dir = tempdir("leeway-margin");
    let keys = keyset(&dir);
    let revs = dir.join("revoked.bin");
    let ring = Arc::new(KeyRing::load(&keys).unwrap());
    let now = SystemClock.now().as_unix();
    let clock = ManualClock::new(keycard::Timestamp::from_unix(now - 960).unwrap());
    let old = Issuer::new(ring)
        .with_clock(Arc::new(clock))
        .with_access_ttl(Duration::from_secs(600))
        .access("alice")
        .mint()
        .unwrap(); // expired 6 minutes ago
    let exp = old.expires_at().to_rfc3339();
    let o = keycard(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--jti",
        old.token_id().as_str(),
        "--until",
        &exp,
    ]);
    usage_error(&o);
    assert!(o.stderr.contains("in the past"), "{}", o.stderr);
    ok(&["revoke", "--revocations", p(&revs), "--jti", "other"]);
    let o = keycard(&[
        "verify",
        "--keys",
        p(&keys),
        "--leeway",
        "10m",
        "--revocations",
        p(&revs),
        old.as_str(),
    ]);
    usage_error(&o);
    assert!(o.stderr.contains("--leeway 10m"), "{}", o.stderr);
    // Within the margin, verify runs (and the token is simply expired).
    let o = keycard(&[
        "verify",
        "--keys",
        p(&keys),
        "--leeway",
        "5m",
        "--revocations",
        p(&revs),
        old.as_str(),
    ]);
    rejected(&o, "expired");
}

#[test]
fn a_non_ascii_duration_is_a_usage_error() {
    let dir = tempdir("non-ascii");
    let keys = keyset(&dir);
    for ttl in ["é", "1é", "15ḿ", "🕐", "1\u{301}"] {
        usage_error(&keycard(&[
            "mint",
            "--keys",
            p(&keys),
            "--sub",
            "a",
            "--ttl",
            ttl,
        ]));
        usage_error(&keycard(&[
            "verify",
            "--keys",
            p(&keys),
            "--leeway",
            ttl,
            "x.y.z",
        ]));
    }
}

#[test]
fn secret_paserks_import_from_a_file_or_stdin() {
    let dir = tempdir("paserk-file");
    let src = dir.join("src.json");
    let kid = ok(&["keygen", "--keys", p(&src), "--alg", "v4.local"]);
    let secret = ok(&["paserk", "--keys", p(&src), "--kid", &kid, "--secret"]);
    let file = dir.join("local.paserk");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let a = dir.join("a.json");
    let imported = ok(&[
        "import",
        "--keys",
        p(&a),
        "--kid",
        &kid,
        "--paserk-file",
        p(&file),
    ]);
    assert_eq!(imported, kid);
    let b = dir.join("b.json");
    let o = keycard_stdin(
        &["import", "--keys", p(&b), "--kid", &kid, "--paserk", "-"],
        Some(&secret),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), kid);
    let help = ok(&["import", "--help"]);
    assert!(help.contains("--paserk-file") && help.contains("stdin"));
}

#[test]
fn retired_secrets_leave_the_key_file() {
    // The CLI never pruned keys whose grace had ended: their secrets stayed in the file.
    let dir = tempdir("prune");
    let keys = dir.join("keys.json");
    let long_ago =
        keycard::Timestamp::from_unix(SystemClock.now().as_unix() - 90 * 86_400).unwrap();
    let ring = KeyRing::new()
        .with_grace(Duration::from_secs(86_400))
        .with_clock(Arc::new(ManualClock::new(long_ago)));
    let retired = ring.rotate(keycard::Algorithm::EdDSA).unwrap();
    let current = ring.rotate(keycard::Algorithm::EdDSA).unwrap();
    ring.save(&keys).unwrap();
    assert!(
        std::fs::read_to_string(&keys)
            .unwrap()
            .contains(retired.as_str())
    );
    ok(&["keygen", "--keys", p(&keys), "--alg", "HS256"]);
    let text = std::fs::read_to_string(&keys).unwrap();
    assert!(
        !text.contains(retired.as_str()),
        "the retired key is still in the file"
    );
    assert!(text.contains(current.as_str()));
}

// --- Operator commands.

#[test]
fn keys_list_retire_and_prune() {
    let dir = tempdir("keys-ops");
    let keys = dir.join("keys.json");
    let old = ok(&["keygen", "--keys", p(&keys), "--alg", "EdDSA"]);
    let new = ok(&["keygen", "--keys", p(&keys), "--alg", "EdDSA"]);
    let refresh = ok(&["keygen", "--keys", p(&keys), "--alg", "refresh"]);
    assert!(refresh.starts_with("k4.lid."));
    let list = ok(&["keys", "list", "--keys", p(&keys)]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("KID") && lines[0].contains("STATE") && lines[0].contains("UNTIL")
    );
    let row = |kid: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(kid))
            .unwrap()
            .to_string()
    };
    assert!(row(&new).contains("active"), "{list}");
    let demoted = row(&old);
    assert!(demoted.contains("verifying"), "{demoted}");
    // Durations as people write them: "(in 29d23h)", never seconds.
    assert!(
        demoted.contains("(in 29d23h)") || demoted.contains("(in 30d)"),
        "{demoted}"
    );
    assert!(row(&refresh).contains("refresh") && row(&refresh).contains("active"));

    // The active key is not retired by accident.
    let o = keycard(&["keys", "retire", "--keys", p(&keys), &new]);
    usage_error(&o);
    assert!(
        o.stderr.contains("active") && o.stderr.contains("--force"),
        "{}",
        o.stderr
    );
    let token = ok(&["mint", "--keys", p(&keys), "--sub", "a", "--kid", &old]);
    assert_eq!(ok(&["keys", "retire", "--keys", p(&keys), &old]), old);
    rejected(
        &keycard(&["verify", "--keys", p(&keys), &token]),
        "unknown_key",
    );
    assert!(!ok(&["keys", "list", "--keys", p(&keys)]).contains(&old));
    usage_error(&keycard(&["keys", "retire", "--keys", p(&keys), &old]));

    // prune drops keys whose grace has ended, and says which.
    let past = keycard::Timestamp::from_unix(SystemClock.now().as_unix() - 40 * 86_400).unwrap();
    let ring = KeyRing::load(&keys)
        .unwrap()
        .with_grace(Duration::from_secs(86_400))
        .with_clock(Arc::new(ManualClock::new(past)));
    // A key of another format demoted 40 days ago, with a one-day grace: long retired.
    let expired = ring.rotate(keycard::Algorithm::V4Public).unwrap();
    ring.rotate(keycard::Algorithm::V4Public).unwrap();
    ring.save(&keys).unwrap();
    let list = ok(&["keys", "list", "--keys", p(&keys)]);
    assert!(
        list.lines()
            .any(|l| l.starts_with(expired.as_str()) && l.contains("retired") && l.contains("ago")),
        "{list}"
    );
    assert_eq!(ok(&["keys", "prune", "--keys", p(&keys)]), expired.as_str());
    assert!(!ok(&["keys", "list", "--keys", p(&keys)]).contains(expired.as_str()));
    assert_eq!(ok(&["keys", "prune", "--keys", p(&keys)]), "");
}

#[test]
fn revoke_by_token() {
    let dir = tempdir("revoke-token");
    let keys = keyset(&dir);
    let revs = dir.join("revoked.bin");
    let t1 = ok(&["mint", "--keys", p(&keys), "--sub", "alice", "--aud", "api"]);
    let t2 = ok(&["mint", "--keys", p(&keys), "--sub", "alice", "--aud", "api"]);
    let verify = |t: &str| {
        keycard(&[
            "verify",
            "--keys",
            p(&keys),
            "--aud",
            "api",
            "--revocations",
            p(&revs),
            t,
        ])
    };
    // The token carries an audience: without --aud it is refused, with a hint.
    let o = keycard(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--keys",
        p(&keys),
        "--token",
        &t1,
    ]);
    rejected(&o, "wrong_audience");
    assert!(
        o.stderr.contains("`api`") && o.stderr.contains("--aud"),
        "{}",
        o.stderr
    );
    ok(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--keys",
        p(&keys),
        "--aud",
        "api",
        "--token",
        &t1,
    ]);
    rejected(&verify(&t1), "revoked");
    assert_eq!(verify(&t2).code, 0, "another token of the subject");
    // A forged token is refused, not revoked.
    let mut forged = t2.clone();
    forged.pop();
    forged.push(if t2.ends_with('A') { 'B' } else { 'A' });
    let o = keycard(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--keys",
        p(&keys),
        "--aud",
        "api",
        "--token",
        &forged,
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    // --session revokes every token of the token's session.
    let claims: Value =
        serde_json::from_str(&ok(&["verify", "--keys", p(&keys), "--aud", "api", &t2])).unwrap();
    let o = keycard_stdin(
        &[
            "revoke",
            "--revocations",
            p(&revs),
            "--keys",
            p(&keys),
            "--aud",
            "api",
            "--session",
            "--token",
            "-",
        ],
        Some(&t2),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    rejected(&verify(&t2), "revoked");
    let list = keycard::revocation::RevocationList::load(&revs).unwrap();
    assert!(
        list.is_session_revoked(&keycard::SessionId::new(claims["sid"].as_str().unwrap()).unwrap())
    );
    usage_error(&keycard(&[
        "revoke",
        "--revocations",
        p(&revs),
        "--token",
        &t2,
    ]));
}

#[test]
fn error_lines_say_what_to_do_without_stutter() {
    let dir = tempdir("error-lines");
    let keys = keyset(&dir);
    let t = ok(&["mint", "--keys", p(&keys), "--sub", "a", "--aud", "other"]);
    let o = keycard(&["verify", "--keys", p(&keys), "--aud", "api", &t]);
    rejected(&o, "wrong_audience");
    assert!(
        o.stderr.contains("expected `api`") && o.stderr.contains("`other`"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("--aud"), "{}", o.stderr);
    let o = keycard(&["verify", "--keys", p(&keys), &t]);
    assert!(o.stderr.contains("pass --aud"), "{}", o.stderr);
    // Configuration and I/O failures: one line, the kind once.
    let o = keycard(&[
        "mint",
        "--keys",
        p(&keys),
        "--sub",
        "a",
        "--format",
        "jwt",
        "--ttl",
        "90d",
    ]);
    usage_error(&o);
    assert!(o.stderr.starts_with("error: config: "), "{}", o.stderr);
    assert!(
        !o.stderr.contains("configuration error"),
        "stutter: {}",
        o.stderr
    );
    let o = keycard(&["jwks", "--keys", p(&dir.join("missing.json"))]);
    usage_error(&o);
    assert!(o.stderr.starts_with("error: io: "), "{}", o.stderr);
    assert!(!o.stderr.contains("I/O error"), "stutter: {}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1);
}
