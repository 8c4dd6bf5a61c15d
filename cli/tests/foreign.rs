//! Tokens from other issuers through the CLI (docs/cli.md, "Tokens from other issuers"):
//! `import --jwks`, verify-only RSA and P-384 keys, `verify --jwks-url / --issuer-url`.

#[path = "../../tests/common/http_server.rs"]
mod http_server;
#[path = "../../tests/common/idp.rs"]
mod idp;
mod support;

use http_server::{Reply, Server};
use serde_json::{Value, json};
use support::*;

/// The provider's claims, valid now.
fn claims_now() -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut c = idp::claims();
    c["iat"] = json!(now);
    c["nbf"] = json!(now);
    c["exp"] = json!(now + 300);
    c
}

fn token(alg: &str) -> String {
    idp::sign(alg, &idp::header(alg), &claims_now())
}

/// The provider's set plus keys keycard cannot use.
fn mixed_set() -> String {
    let mut keys = idp::vectors()["jwks"]["keys"].as_array().unwrap().clone();
    keys.push(json!({"kty": "oct", "alg": "HS256", "kid": "sym", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}));
    keys.push(
        json!({"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p521", "x": "AA", "y": "AA"}),
    );
    let mut enc = keys[0].clone();
    enc["kid"] = json!("enc-key");
    enc["use"] = json!("enc");
    keys.push(enc);
    json!({ "keys": keys }).to_string()
}

#[test]
fn import_jwks_takes_the_usable_keys_and_warns_about_the_rest() {
    let dir = tempdir("foreign-import");
    let keys = dir.join("keys.json");
    ok(&["keygen", "--keys", p(&keys), "--alg", "EdDSA"]);
    let set = dir.join("idp.json");
    std::fs::write(&set, mixed_set()).unwrap();
    let o = keycard(&["import", "--keys", p(&keys), "--jwks", p(&set)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mut kids: Vec<&str> = o.stdout.lines().collect();
    kids.sort();
    assert_eq!(kids, ["idp-es384", "idp-ps256", "idp-rs256"]);
    let warnings: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "{}", o.stderr);
    for kid in ["sym", "p521", "enc-key"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with(&format!("warning: skipped {kid}: "))),
            "{}",
            o.stderr
        );
    }
    // They verify, each only with its own algorithm.
    for alg in ["RS256", "PS256", "ES384"] {
        let out = ok(&[
            "verify",
            "--keys",
            p(&keys),
            "--iss",
            "https://idp.example",
            "--aud",
            "api",
            &token(alg),
        ]);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["sub"], "alice");
    }
    let swapped = idp::sign(
        "PS256",
        &json!({"alg": "PS256", "kid": "idp-rs256", "typ": "JWT"}),
        &claims_now(),
    );
    rejected(
        &keycard(&["verify", "--keys", p(&keys), "--aud", "api", &swapped]),
        "algorithm_mismatch",
    );
    let rt = idp::sign(
        "RS256",
        &json!({"alg": "RS256", "kid": "idp-rs256", "typ": "rt+jwt"}),
        &claims_now(),
    );
    rejected(
        &keycard(&["verify", "--keys", p(&keys), "--aud", "api", &rt]),
        "wrong_token_type",
    );
    // They never sign.
    usage_error(&keycard(&[
        "mint",
        "--keys",
        p(&keys),
        "--sub",
        "x",
        "--kid",
        "idp-rs256",
    ]));
    // The key set's own JWKS does not publish them.
    let jwks: Value = serde_json::from_str(&ok(&["jwks", "--keys", p(&keys)])).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}

#[test]
fn import_jwks_refuses_a_malformed_key_whole() {
    let dir = tempdir("foreign-bad");
    let keys = dir.join("keys.json");
    ok(&["keygen", "--keys", p(&keys), "--alg", "EdDSA"]);
    let before = std::fs::read_to_string(&keys).unwrap();
    for bad in ["rsa_1024", "rsa_e1", "rsa_private"] {
        let mut set = idp::vectors()["jwks"].clone();
        set["keys"]
            .as_array_mut()
            .unwrap()
            .push(idp::vectors()["bad_keys"][bad].clone());
        let file = dir.join(format!("{bad}.json"));
        std::fs::write(&file, set.to_string()).unwrap();
        let o = keycard(&["import", "--keys", p(&keys), "--jwks", p(&file)]);
        usage_error(&o);
        assert!(
            o.stderr.starts_with("error: invalid_key: "),
            "{bad}: {}",
            o.stderr
        );
        assert_eq!(
            std::fs::read_to_string(&keys).unwrap(),
            before,
            "{bad}: nothing imported"
        );
    }
    // A single verify-only key imports with --jwk, but never as the active key.
    let rs = dir.join("rs.jwk");
    std::fs::write(&rs, idp::vectors()["jwks"]["keys"][0].to_string()).unwrap();
    usage_error(&keycard(&[
        "import",
        "--keys",
        p(&keys),
        "--kid",
        "idp-rs256",
        "--jwk",
        p(&rs),
        "--active",
    ]));
    assert_eq!(
        ok(&[
            "import",
            "--keys",
            p(&keys),
            "--kid",
            "idp-rs256",
            "--jwk",
            p(&rs)
        ]),
        "idp-rs256"
    );
}

#[test]
fn verify_against_a_remote_issuer() {
    let s = Server::start();
    s.route(
        "/.well-known/openid-configuration",
        Reply::json(json!({ "issuer": s.base, "jwks_uri": s.url("/jwks") }).to_string()),
    );
    s.route("/jwks", Reply::json(mixed_set()));
    // The tokens of this issuer say so in `iss`.
    let mut c = claims_now();
    c["iss"] = json!(s.base);
    let t = idp::sign("RS256", &idp::header("RS256"), &c);
    let out = ok(&[
        "verify",
        "--issuer-url",
        &s.base,
        "--allow-http",
        "--aud",
        "api",
        &t,
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["iss"],
        json!(s.base)
    );
    let out = ok(&[
        "verify",
        "--jwks-url",
        &s.url("/jwks"),
        "--allow-http",
        "--aud",
        "api",
        &t,
    ]);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["sub"], "alice");
    // With --issuer-url, `iss` must be that issuer.
    rejected(
        &keycard(&[
            "verify",
            "--issuer-url",
            &s.base,
            "--allow-http",
            "--aud",
            "api",
            &token("ES384"),
        ]),
        "wrong_issuer",
    );
    usage_error(&keycard(&[
        "verify",
        "--issuer-url",
        &s.base,
        "--allow-http",
        "--iss",
        "https://x",
        &t,
    ]));
    // Plain http without --allow-http; a fetch that fails; a discovery issuer that differs.
    for args in [
        vec!["verify", "--issuer-url", s.base.as_str(), &t],
        vec![
            "verify",
            "--jwks-url",
            "http://127.0.0.1:9/jwks",
            "--allow-http",
            &t,
        ],
    ] {
        let o = keycard(&args);
        usage_error(&o);
        assert!(
            o.stderr.starts_with("error: jwks_unavailable: "),
            "{}",
            o.stderr
        );
    }
    s.route("/missing", Reply::status(500));
    let o = keycard(&[
        "verify",
        "--jwks-url",
        &s.url("/missing"),
        "--allow-http",
        &t,
    ]);
    assert!(
        o.stderr.starts_with("error: jwks_unavailable: "),
        "{}",
        o.stderr
    );
    let o = keycard(&[
        "verify",
        "--issuer-url",
        &format!("{}/", s.base),
        "--allow-http",
        &t,
    ]);
    assert!(
        o.stderr.starts_with("error: jwks_unavailable: "),
        "{}",
        o.stderr
    );
    // Exactly one key source.
    usage_error(&keycard(&["verify", &t]));
    usage_error(&keycard(&[
        "verify",
        "--keys",
        "k.json",
        "--jwks-url",
        &s.url("/jwks"),
        &t,
    ]));
}
