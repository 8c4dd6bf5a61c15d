//! Tokens of other issuers, verify only: RS256, PS256 and ES384 keys of an identity provider
//! (PyJWT-made vectors), JWK Sets that mix keys keycard cannot use, keys it must refuse, and the
//! key ring following a provider's rotation.

use std::sync::Arc;
use std::time::Duration;

use keycard::keys::KeyPurpose;
use keycard::{Algorithm, Clock, KeyRing, ManualClock, NoCustomClaims, Timestamp, Verifier};
use serde_json::json;

#[path = "../common/idp.rs"]
mod idp;

fn ring() -> (Arc<KeyRing>, ManualClock) {
    let clock = ManualClock::new(Timestamp::from_unix(1_800_000_010).unwrap());
    let ring = Arc::new(
        KeyRing::new()
            .with_grace(Duration::from_secs(600))
            .with_clock(Arc::new(clock.clone())),
    );
    (ring, clock)
}

fn verifier(ring: &Arc<KeyRing>) -> Verifier {
    Verifier::new(ring.clone())
        .with_issuer("https://idp.example")
        .with_audience("api")
}

fn check(v: &Verifier, token: &str) -> Result<String, &'static str> {
    v.verify_access::<NoCustomClaims>(token)
        .map(|ok| ok.subject().to_owned())
        .map_err(|e| e.kind())
}

#[test]
fn an_identity_providers_tokens_verify() {
    let (ring, _) = ring();
    let skipped = ring.add_foreign_jwk_set(&idp::jwks()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    let v = verifier(&ring);
    for name in [
        "rs256_jwt_typ",
        "rs256_no_typ",
        "ps256_at_jwt",
        "es384_jwt_typ",
    ] {
        assert_eq!(check(&v, &idp::token(name)), Ok("alice".into()), "{name}");
    }
    // A token that says it is a refresh token is not an access token, whoever signed it.
    assert_eq!(
        check(&v, &idp::token("rs256_rt_jwt")),
        Err("wrong_token_type")
    );
    for typ in ["dpop+jwt", "statuslist+jwt", "Refresh"] {
        let mut h = idp::header("RS256");
        h["typ"] = json!(typ);
        assert_eq!(
            check(&v, &idp::sign("RS256", &h, &idp::claims())),
            Err("wrong_token_type"),
            "{typ}"
        );
    }
    // Foreign keys are not published as this service's own, and never sign.
    assert_eq!(ring.public_jwks(), r#"{"keys":[]}"#);
    assert!(ring.rotate(Algorithm::RS256).is_err());
    let k = ring.get("idp-rs256").unwrap();
    assert_eq!(k.purpose(), KeyPurpose::Foreign);
    assert!(!k.has_secret());
    assert!(ring.add_active(k.to_foreign().unwrap()).is_err());
}

#[test]
fn the_algorithm_stays_bound_to_the_key() {
    let (ring, _) = ring();
    ring.add_foreign_jwk_set(&idp::jwks()).unwrap();
    let v = verifier(&ring);
    let c = idp::claims();
    // Positive control, then the same key named with each other algorithm.
    assert!(check(&v, &idp::sign("RS256", &idp::header("RS256"), &c)).is_ok());
    for (signed_as, kid) in [
        ("PS256", "idp-rs256"),
        ("RS256", "idp-ps256"),
        ("ES384", "idp-rs256"),
    ] {
        let h = json!({"alg": signed_as, "kid": kid, "typ": "JWT"});
        assert_eq!(
            check(&v, &idp::sign(signed_as, &h, &c)),
            Err("algorithm_mismatch"),
            "{signed_as} under {kid}"
        );
    }
    // HS256 with the public modulus as the secret (the classic RS/HS confusion).
    let h = json!({"alg": "HS256", "kid": "idp-rs256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        crate::common::b64(h.to_string().as_bytes()),
        crate::common::b64(c.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &idp::rsa_modulus());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    let forged = format!("{input}.{}", crate::common::b64(tag.as_ref()));
    assert_eq!(check(&v, &forged), Err("algorithm_mismatch"));
    let none = format!(
        "{}.{}.",
        crate::common::b64(br#"{"alg":"none","kid":"idp-rs256"}"#),
        crate::common::b64(c.to_string().as_bytes())
    );
    assert_eq!(check(&v, &none), Err("algorithm_mismatch"));
    // A flipped bit in an RSA signature.
    let good = idp::token("rs256_jwt_typ");
    let mut bad = good.clone().into_bytes();
    let at = bad.len() - 10;
    bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        check(&v, &String::from_utf8(bad).unwrap()),
        Err("bad_signature")
    );
    // A signature one byte short, or far too long: bad_signature, not a panic.
    let input = &good[..good.rfind('.').unwrap()];
    for len in [255, 1, 0, 4096] {
        let t = format!("{input}.{}", crate::common::b64(&vec![7u8; len]));
        assert_eq!(check(&v, &t), Err("bad_signature"), "{len}");
    }
}

#[test]
fn keys_keycard_must_refuse() {
    let bad = idp::vectors()["bad_keys"].clone();
    for (name, want) in [
        ("rsa_1024", "shorter than 2048"),
        ("rsa_e1", "exponent"),
        ("rsa_even_e", "exponent"),
        ("rsa_private", "private"),
    ] {
        let set = json!({ "keys": [bad[name]] }).to_string();
        let (ring, _) = ring();
        let err = ring.add_foreign_jwk_set(&set).unwrap_err();
        assert_eq!(err.kind(), "invalid_key", "{name}");
        assert!(err.to_string().contains(want), "{name}: {err}");
        assert!(
            keycard::Key::from_jwk(&bad[name].to_string()).is_err(),
            "{name}"
        );
    }
    // A malformed key of a supported type refuses the whole set, even beside good keys.
    let mut keys = idp::vectors()["jwks"]["keys"].as_array().unwrap().clone();
    keys.push(
        json!({"kty": "RSA", "alg": "RS256", "kid": "broken", "n": "not+base64", "e": "AQAB"}),
    );
    let (ring, _) = ring();
    assert!(
        ring.add_foreign_jwk_set(&json!({ "keys": keys }).to_string())
            .is_err()
    );
    assert!(ring.statuses().is_empty(), "nothing was imported");
    // A point off the P-384 curve.
    let mut es = idp::vectors()["jwks"]["keys"][2].clone();
    let y = es["y"].as_str().unwrap().to_owned();
    es["y"] =
        json!(format!("{}{}", &y[..10], if &y[10..11] == "A" { "B" } else { "A" }) + &y[11..]);
    assert!(
        ring.add_foreign_jwk_set(&json!({ "keys": [es] }).to_string())
            .is_err()
    );
}

#[test]
fn a_mixed_jwk_set_skips_what_keycard_cannot_use() {
    let mut keys = idp::vectors()["jwks"]["keys"].as_array().unwrap().clone();
    let rs = keys[0].clone();
    keys.extend([
        json!({"kty": "oct", "alg": "HS256", "kid": "sym", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}),
        json!({"kty": "OKP", "crv": "X25519", "kid": "ecdh", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}),
        json!({"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p521", "x": "AA", "y": "AA"}),
        {let mut k = rs.clone(); k["kid"] = json!("enc"); k["use"] = json!("enc"); k},
        {let mut k = rs.clone(); k["kid"] = json!("noalg"); k.as_object_mut().unwrap().remove("alg"); k},
        {let mut k = rs.clone(); k["kid"] = json!("rs512"); k["alg"] = json!("RS512"); k},
        {let mut k = rs.clone(); k.as_object_mut().unwrap().remove("kid"); k},
        json!({"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": rs["n"], "e": "AQAB"}),
    ]);
    let (ring, _) = ring();
    let skipped = ring
        .add_foreign_jwk_set(&json!({ "keys": keys }).to_string())
        .unwrap();
    let kids: Vec<Option<&str>> = skipped.iter().map(|s| s.kid.as_deref()).collect();
    assert_eq!(
        kids,
        [
            Some("sym"),
            Some("ecdh"),
            Some("p521"),
            Some("enc"),
            Some("noalg"),
            Some("rs512"),
            None,
            Some("oaep")
        ]
    );
    assert!(skipped.iter().all(|s| !s.reason.is_empty()));
    assert_eq!(ring.statuses().len(), 3);
    assert!(check(&verifier(&ring), &idp::token("es384_jwt_typ")).is_ok());
}

#[test]
fn foreign_keys_survive_the_key_set_file() {
    let (ring, _) = ring();
    ring.rotate(Algorithm::EdDSA).unwrap();
    ring.add_foreign_jwk_set(&idp::jwks()).unwrap();
    let text = ring.to_secret_jwk_set();
    let again = Arc::new(KeyRing::from_jwk_set(&text).unwrap());
    let k = again.get("idp-ps256").unwrap();
    assert_eq!(
        (k.purpose(), k.algorithm()),
        (KeyPurpose::Foreign, Algorithm::PS256)
    );
    let v = Verifier::new(again.clone())
        .with_clock(Arc::new(ManualClock::new(
            Timestamp::from_unix(1_800_000_010).unwrap(),
        )))
        .with_issuer("https://idp.example")
        .with_audience("api");
    assert!(check(&v, &idp::token("ps256_at_jwt")).is_ok());
    // The ring's own key still signs, and its public set holds only it.
    assert!(again.active(keycard::Format::Jwt).is_some());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again.public_jwks()).unwrap()["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_providers_rotation_keeps_the_old_key_through_the_grace() {
    let (ring, clock) = ring();
    ring.sync_foreign_jwk_set(&idp::jwks()).unwrap();
    let v = verifier(&ring);
    let old = idp::token("rs256_jwt_typ");
    assert!(check(&v, &old).is_ok());
    // The provider drops its RSA keys: they verify through the grace, then are gone.
    let only_ec = json!({ "keys": [idp::vectors()["jwks"]["keys"][2]] }).to_string();
    ring.sync_foreign_jwk_set(&only_ec).unwrap();
    clock.advance(Duration::from_secs(599));
    let c = {
        let mut c = idp::claims();
        c["exp"] = json!(clock.now().as_unix() + 300);
        c
    };
    let fresh = idp::sign("RS256", &idp::header("RS256"), &c);
    assert!(check(&v, &fresh).is_ok(), "within the grace");
    clock.advance(Duration::from_secs(1));
    assert_eq!(check(&v, &fresh), Err("unknown_key"), "after the grace");
    ring.sync_foreign_jwk_set(&only_ec).unwrap();
    assert!(ring.get("idp-rs256").is_none(), "dropped from the ring");
    // The provider brings it back: it verifies again.
    ring.sync_foreign_jwk_set(&idp::jwks()).unwrap();
    assert!(check(&v, &fresh).is_ok());
}
