//! Proof checks, each refusal beside its positive control.

use serde_json::{Value, json};

use super::*;
use crate::keys::Key;

const NOW: i64 = 1_800_000_000;
const URL: &str = "https://api.example/resource";

fn now() -> Timestamp {
    Timestamp::from_unix(NOW).unwrap()
}

/// A proof with this header and these claims, signed by `key` (any JSON, so tests can lie).
fn sign(key: &Key, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(claims.to_string().as_bytes())
    );
    let sig = key.material().sign(&[input.as_bytes()]).unwrap();
    format!("{input}.{}", b64::encode(sig.as_bytes()))
}

fn header(key: &Key) -> Value {
    let jwk: Value = serde_json::from_str(&key.to_public_jwk().unwrap()).unwrap();
    json!({ "typ": "dpop+jwt", "alg": key.algorithm().name(), "jwk": jwk })
}

fn claims() -> Value {
    json!({ "jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": URL, "iat": NOW })
}

fn check(proof: &str, token: Option<&str>) -> std::result::Result<Proof, &'static str> {
    let request = ProofRequest {
        method: "POST",
        url: URL,
        access_token: token,
    };
    ProofChecker::default()
        .check(proof, &request, now())
        .map_err(|e| e.kind())
}

fn with(mut v: Value, k: &str, x: Value) -> Value {
    v[k] = x;
    v
}

fn without(mut v: Value, k: &str) -> Value {
    v.as_object_mut().unwrap().remove(k);
    v
}

#[test]
fn both_algorithms_and_their_thumbprints() {
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let key = Key::generate(alg).unwrap();
        let p = check(&sign(&key, &header(&key), &claims()), None).unwrap();
        assert_eq!(Some(p.jkt.clone()), key.jwk_thumbprint());
        assert_eq!(p.jti, "e1j3V_bKic8-LAEB");
        assert_ne!(
            p.replay_id(),
            Proof {
                jti: "other".into(),
                ..p.clone()
            }
            .replay_id()
        );
    }
}

#[test]
fn every_refusal_has_a_positive_control() {
    let key = Key::generate(Algorithm::EdDSA).unwrap();
    let other = Key::generate(Algorithm::EdDSA).unwrap();
    let h = header(&key);
    let c = claims();
    let token = "an.access.token";
    let with_ath = with(c.clone(), "ath", json!(access_token_hash(token)));
    assert!(check(&sign(&key, &h, &c), None).is_ok());
    assert!(check(&sign(&key, &h, &with_ath), Some(token)).is_ok());
    let private: Value = {
        let mut j: Value = serde_json::from_str(&key.to_secret_jwk().unwrap()).unwrap();
        j.as_object_mut().unwrap().remove("kid");
        j
    };
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            "wrong htm",
            sign(&key, &h, &with(c.clone(), "htm", json!("GET"))),
            None,
        ),
        (
            "wrong htu",
            sign(
                &key,
                &h,
                &with(c.clone(), "htu", json!("https://api.example/other")),
            ),
            None,
        ),
        (
            "htu on another host",
            sign(
                &key,
                &h,
                &with(c.clone(), "htu", json!("https://evil.example/resource")),
            ),
            None,
        ),
        (
            "stale iat",
            sign(&key, &h, &with(c.clone(), "iat", json!(NOW - 61))),
            None,
        ),
        (
            "future iat",
            sign(&key, &h, &with(c.clone(), "iat", json!(NOW + 6))),
            None,
        ),
        ("no iat", sign(&key, &h, &without(c.clone(), "iat")), None),
        ("no jti", sign(&key, &h, &without(c.clone(), "jti")), None),
        ("missing ath", sign(&key, &h, &c), Some(token)),
        (
            "wrong ath",
            sign(
                &key,
                &h,
                &with(c.clone(), "ath", json!(access_token_hash("another"))),
            ),
            Some(token),
        ),
        ("signed by another key", sign(&other, &h, &c), None),
        (
            "a private key in jwk",
            sign(&key, &with(h.clone(), "jwk", private), &c),
            None,
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64::encode(with(h.clone(), "alg", json!("none")).to_string().as_bytes()),
                b64::encode(c.to_string().as_bytes())
            ),
            None,
        ),
        (
            "alg HS256",
            sign(&key, &with(h.clone(), "alg", json!("HS256")), &c),
            None,
        ),
        (
            "alg ES256 on an Ed25519 key",
            sign(&key, &with(h.clone(), "alg", json!("ES256")), &c),
            None,
        ),
        (
            "typ JWT",
            sign(&key, &with(h.clone(), "typ", json!("JWT")), &c),
            None,
        ),
        ("no jwk", sign(&key, &without(h.clone(), "jwk"), &c), None),
        (
            "jku",
            sign(
                &key,
                &with(h.clone(), "jku", json!("https://evil.example/jwks")),
                &c,
            ),
            None,
        ),
        (
            "two dots too many",
            format!("{}.x", sign(&key, &h, &c)),
            None,
        ),
        ("huge", "a".repeat(9000), None),
    ];
    for (what, proof, token) in cases {
        assert_eq!(check(&proof, token), Err("invalid_dpop_proof"), "{what}");
    }
}

#[test]
fn urls_compare_normalized() {
    for (a, b) in [
        ("HTTPS://API.example/resource", URL),
        ("https://api.example:443/resource", URL),
        ("https://api.example/resource?x=1#f", URL),
        ("http://h:80", "http://h/"),
    ] {
        assert_eq!(normalize_url(a), normalize_url(b), "{a}");
    }
    assert_ne!(
        normalize_url("https://api.example/Resource"),
        normalize_url(URL)
    );
    assert_ne!(
        normalize_url("http://api.example/resource"),
        normalize_url(URL)
    );
    assert_eq!(normalize_url("ftp://x/"), None);
    assert_eq!(normalize_url("https://user@x/"), None);
    for bad in [
        "http://a:80:80/",
        "https://h:/",
        "https://h:x/",
        "https:///p",
        "https://a b/",
    ] {
        assert_eq!(normalize_url(bad), None, "{bad}");
    }
    assert_eq!(
        normalize_url("https://[::1]:8443/x").as_deref(),
        Some("https://[::1]:8443/x")
    );
    assert_eq!(
        normalize_url("HTTP://[::1]:80").as_deref(),
        Some("http://[::1]/")
    );
}

#[test]
fn nonces_rotate_and_are_asked_for() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let nonces = Nonces::new(
        b"a secret the nodes share, 32 bytes!",
        Duration::from_secs(300),
    );
    let checker = ProofChecker::default().with_nonces(Some(nonces.clone()));
    let request = ProofRequest {
        method: "POST",
        url: URL,
        access_token: None,
    };
    let bare = sign(&key, &header(&key), &claims());
    match checker.check(&bare, &request, now()) {
        Err(Error::UseDpopNonce { nonce }) => assert_eq!(nonce, nonces.current(now())),
        other => panic!("{other:?}"),
    }
    let current = nonces.current(now());
    let good = sign(
        &key,
        &header(&key),
        &with(claims(), "nonce", json!(current)),
    );
    assert!(checker.check(&good, &request, now()).is_ok());
    // The previous period's nonce still works; two periods back does not.
    let at = |secs: u64| {
        let when = now().saturating_add(Duration::from_secs(secs));
        let c = with(claims(), "nonce", json!(current));
        let proof = sign(&key, &header(&key), &with(c, "iat", json!(when.as_unix())));
        checker.check(&proof, &request, when).map_err(|e| e.kind())
    };
    assert!(at(300).is_ok());
    assert_eq!(at(600).unwrap_err(), "use_dpop_nonce");
}
