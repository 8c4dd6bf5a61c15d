//! Replays every committed fuzz corpus file through the same functions the cargo-fuzz targets call,
//! on stable, so CI catches a regression without nightly or libFuzzer.
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` (re)writes the seed files.

use std::fs;
use std::path::{Path, PathBuf};

use keycard::fuzzing::{self, TARGETS};
use keycard::{Algorithm, Format, Key, SessionId};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The corpus files kept in git: seeds (`seed-*`) and minimized findings (`crash-*`). Inputs a
/// local fuzzing run adds (named by hash) are not part of the repository.
fn is_committed(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.starts_with("seed-") || name.starts_with("crash-")
}

#[test]
fn replay_every_corpus_file() {
    let mut total = 0;
    for (name, run) in TARGETS {
        let dir = corpus_dir(name);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_committed(p))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no seeds for target {name}");
        for path in files {
            let data = fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(
                outcome.is_ok(),
                "target {name} panicked on {}",
                path.display()
            );
            total += 1;
        }
    }
    assert!(total >= 40, "only {total} corpus files");
}

#[test]
fn seed_tokens_still_verify() {
    // The seeds start the fuzzer past the signature check; if the fixture's keys changed they
    // would silently stop doing so.
    let f = fuzzing::fixture();
    let mut verified = 0;
    for path in fs::read_dir(corpus_dir("verify")).unwrap().flatten() {
        let name = path.file_name().to_string_lossy().into_owned();
        if !name.starts_with("seed-valid-") {
            continue;
        }
        let token = fs::read_to_string(path.path()).unwrap();
        let ok = if name.contains("refresh") {
            f.verifier
                .verify_refresh::<keycard::NoCustomClaims>(&token)
                .is_ok()
        } else {
            f.verifier
                .verify_access::<keycard::NoCustomClaims>(&token)
                .is_ok()
        };
        assert!(ok, "{name} no longer verifies");
        verified += 1;
    }
    assert!(verified >= 7, "only {verified} valid seeds");
}

/// An empty snapshot of the list with this hash key (the format is documented, so it is built
/// here byte by byte, which also pins the layout).
fn snapshot_with_key(key: [u8; 16]) -> Vec<u8> {
    let mut out = b"KCRV\x01\x01".to_vec();
    out.extend_from_slice(&key);
    out.extend_from_slice(&0u64.to_le_bytes());
    let sum = ring::digest::digest(&ring::digest::SHA256, &out);
    out.extend_from_slice(&sum.as_ref()[..16]);
    out
}

/// Writes a seed unless it exists: seeds stay stable in git; delete one to regenerate it.
fn write(target: &str, name: &str, data: &[u8]) {
    let dir = corpus_dir(target);
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("seed-{name}"));
    if !path.exists() {
        fs::write(path, data).unwrap();
    }
}

/// Seeds of the `status_list` target: lists the fixture's key signed (one, two and eight bits),
/// and hostile ones.
#[cfg(feature = "status-list")]
#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_status_list_seeds() {
    use keycard::status::{StatusBits, mint_status_list};
    use std::time::Duration;
    let f = fuzzing::fixture();
    let key = f.keys.active(Format::Jwt).unwrap();
    let now = keycard::Timestamp::from_unix(fuzzing::NOW).unwrap();
    for (name, bits, bytes) in [
        ("one-bit", 1u8, vec![0b1011_1001, 0xa3]),
        ("two-bits", 2, vec![0xc9, 0, 0x55]),
        ("eight-bits", 8, vec![0, 1, 2, 255]),
        ("empty", 1, vec![]),
    ] {
        let list = StatusBits::new(bits, bytes).unwrap();
        let t = mint_status_list(
            &key,
            Some("https://fuzz.test"),
            fuzzing::STATUS_LIST_URI,
            &list,
            now,
            Duration::from_secs(30),
            Duration::from_secs(120),
        )
        .unwrap();
        write("status_list", name, t.as_bytes());
        let mut lst = vec![bits.trailing_zeros() as u8 + b'0'];
        lst.extend_from_slice(list.to_lst().unwrap().as_bytes());
        write("status_list", &format!("lst-{name}"), &lst);
    }
    let bomb = StatusBits::new(1, vec![0; 4 << 20]).unwrap();
    let t = mint_status_list(
        &key,
        None,
        fuzzing::STATUS_LIST_URI,
        &bomb,
        now,
        Duration::from_secs(30),
        Duration::from_secs(120),
    )
    .unwrap();
    write("status_list", "zip-bomb", t.as_bytes());
}

#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_seed_corpus() {
    let f = fuzzing::fixture();
    let sid = SessionId::new("fuzz-session").unwrap();
    let mut tokens = Vec::new();
    for (format, label) in [
        (Format::Jwt, "jwt-eddsa"),
        (Format::V4Public, "v4-public"),
        (Format::V4Local, "v4-local"),
    ] {
        let at = f
            .issuer
            .access("alice")
            .session(sid.clone())
            .format(format)
            .mint()
            .unwrap();
        tokens.push((format!("valid-{label}-access"), at.into_string()));
    }
    let rt = f.issuer.refresh("alice").mint().unwrap();
    tokens.push(("valid-sealed-refresh".into(), rt.into_string()));
    for kid in ["fuzz-hs256", "fuzz-es256"] {
        let kid = keycard::Kid::new(kid).unwrap();
        let t = f.issuer.access("bob").kid(&kid).mint().unwrap();
        tokens.push((format!("valid-jwt-{kid}-access"), t.into_string()));
    }
    let custom = serde_json::json!({"roles": ["admin"], "n": 1.5, "deep": {"a": [1, {"b": null}]}});
    let t = f.issuer.access("carol").claims(&custom).mint().unwrap();
    tokens.push(("valid-jwt-custom-access".into(), t.into_string()));

    for (name, token) in &tokens {
        write("verify", name, token.as_bytes());
        write("detect", name, token.as_bytes());
        if let Some(rest) = token.strip_prefix("v4.public.") {
            write("v4_public", name, rest.as_bytes());
        }
        if let Some(rest) = token.strip_prefix("v4.local.") {
            write("v4_local", name, rest.as_bytes());
        }
    }
    for (name, shape) in [
        ("jwe", "a.b.c.d.e"),
        ("v2-local", "v2.local.AAAA"),
        ("padded", "eyJhbGciOiJub25lIn0=.e30.x"),
        ("empty", ""),
    ] {
        write("detect", name, shape.as_bytes());
    }

    // `signed`: selector, header or footer, 0xff, payload.
    let claims = serde_json::json!({
        "iss": "https://fuzz.test", "sub": "alice", "aud": "api",
        "exp": fuzzing::NOW + 300, "nbf": fuzzing::NOW, "iat": fuzzing::NOW,
        "jti": "jti-1", "sid": "sid-1"
    });
    let mut paseto_claims = claims.clone();
    for t in ["exp", "nbf", "iat"] {
        let at = keycard::Timestamp::from_unix(claims[t].as_i64().unwrap()).unwrap();
        paseto_claims[t] = at.to_rfc3339().into();
    }
    let signed = |sel: u8, head: &str, payload: &serde_json::Value| {
        let mut v = vec![sel];
        v.extend_from_slice(head.as_bytes());
        v.push(0xff);
        v.extend_from_slice(payload.to_string().as_bytes());
        v
    };
    let pid = f.keys.active(Format::V4Public).unwrap().kid().to_string();
    let lid = f.keys.active(Format::V4Local).unwrap().kid().to_string();
    let seeds = [
        (
            "jwt-eddsa",
            signed(
                0,
                r#"{"alg":"EdDSA","kid":"fuzz-eddsa","typ":"at+jwt"}"#,
                &claims,
            ),
        ),
        (
            "jwt-hs256",
            signed(
                1,
                r#"{"alg":"HS256","kid":"fuzz-hs256","typ":"at+jwt"}"#,
                &claims,
            ),
        ),
        (
            "jwt-none",
            signed(
                0,
                r#"{"alg":"none","kid":"fuzz-eddsa","typ":"at+jwt"}"#,
                &claims,
            ),
        ),
        (
            "v4-public",
            signed(2, &format!(r#"{{"kid":"{pid}"}}"#), &paseto_claims),
        ),
        (
            "v4-local",
            signed(3, &format!(r#"{{"kid":"{lid}"}}"#), &paseto_claims),
        ),
        (
            "v4-public-refresh",
            signed(
                0x82,
                &format!(r#"{{"kid":"{pid}","typ":"rt"}}"#),
                &paseto_claims,
            ),
        ),
        (
            "jwt-refresh",
            signed(
                0x80,
                r#"{"alg":"EdDSA","kid":"fuzz-eddsa","typ":"rt+jwt"}"#,
                &claims,
            ),
        ),
    ];
    for (name, data) in seeds {
        write("signed", name, &data);
    }

    for alg in Algorithm::MINTED {
        let key = Key::generate(alg).unwrap();
        write(
            "jwk",
            &format!("secret-{}", alg.name()),
            key.to_secret_jwk().unwrap().as_bytes(),
        );
        if let Some(public) = key.to_public_jwk() {
            write("jwk", &format!("public-{}", alg.name()), public.as_bytes());
        }
        if let Some(p) = key.to_paserk_secret() {
            write("paserk", &format!("secret-{}", alg.name()), p.as_bytes());
        }
        if let Some(p) = key.to_paserk_public() {
            write("paserk", &format!("public-{}", alg.name()), p.as_bytes());
        }
    }
    write("jwk", "set", f.keys.to_secret_jwk_set().as_bytes());

    // Revocation snapshots and deltas (the delta of the lineage the target uses: hash key 7s).
    let list =
        keycard::revocation::RevocationList::from_snapshot(&snapshot_with_key([7; 16])).unwrap();
    let now = keycard::Timestamp::from_unix(fuzzing::NOW).unwrap();
    let r1 = list
        .revoke_token(&keycard::TokenId::new("jti-1").unwrap(), now)
        .unwrap();
    let r2 = list.revoke_session(&sid, now).unwrap();
    let r3 = list.revoke_subject("alice", now, now).unwrap();
    write("revocation", "snapshot-empty", &snapshot_with_key([7; 16]));
    write("revocation", "snapshot", &list.to_snapshot());
    write("revocation", "delta", &list.encode_delta(&[r1, r2, r3]));
    write("revocation", "delta-empty", &list.encode_delta(&[]));

    // Refresh tokens of the `refresh` target's family: current, previous (retry), older (theft),
    // newer (forged generation), sealed with the refresh-token key. (The older `jwt-gen*`,
    // `v4-public-gen*` and `v4-local-gen*` seeds are refresh-typed tokens sealed with access-token
    // keys, as keycard minted them before refresh tokens got their own key: kept, since they must
    // now be refused.)
    for generation in 0..=3 {
        let token = fuzzing::refresh_seed(generation);
        assert!(!token.is_empty());
        write(
            "refresh",
            &format!("sealed-gen{generation}"),
            token.as_bytes(),
        );
    }
    let access = f
        .issuer
        .access("alice")
        .session(SessionId::new("fuzz-session").unwrap())
        .mint()
        .unwrap();
    write("refresh", "access-token", access.as_str().as_bytes());
    write("jwk", "public-set", f.keys.public_jwks().as_bytes());
}

#[test]
fn dpop_seed_proofs_still_pass() {
    // The valid seeds start the fuzzer past the signature and claim checks.
    let (method, url, token) = fuzzing::DPOP_REQUEST;
    let request = keycard::dpop::ProofRequest {
        method,
        url,
        access_token: Some(token),
    };
    let now = keycard::Timestamp::from_unix(fuzzing::NOW).unwrap();
    let mut passed = 0;
    for path in fs::read_dir(corpus_dir("dpop")).unwrap().flatten() {
        if path
            .file_name()
            .to_string_lossy()
            .starts_with("seed-valid-")
        {
            let proof = fs::read_to_string(path.path()).unwrap();
            keycard::dpop::ProofChecker::default()
                .check(&proof, &request, now)
                .unwrap();
            passed += 1;
        }
    }
    assert_eq!(passed, 2);
}
