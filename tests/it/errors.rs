//! Every error kind is reachable, and earlier stages win over later ones.

use std::collections::BTreeSet;
use std::time::Duration;

use keycard::{Algorithm, Error, Format, Key, NoCustomClaims, Verifier};
use serde_json::json;

use crate::common::*;

#[path = "../common/dpop.rs"]
mod dpop;

fn kind_of(v: &Verifier, token: &str) -> &'static str {
    v.verify_access::<NoCustomClaims>(token).unwrap_err().kind()
}

#[test]
fn every_error_kind_is_reached() {
    let f = fixture();
    let key = active(&f, Format::Jwt);
    let good = f.issuer.access("alice").mint().unwrap();
    let mut reached = BTreeSet::new();
    let mut check = |kind: &'static str, got: &'static str| {
        assert_eq!(got, kind);
        reached.insert(kind);
    };

    check("malformed", kind_of(&f.verifier, "not a token"));
    check("token_too_large", kind_of(&f.verifier, &"a".repeat(9000)));
    check("unsupported_format", kind_of(&f.verifier, "v2.local.AAAA"));
    let stranger = Key::generate(Algorithm::EdDSA).unwrap();
    check(
        "unknown_key",
        kind_of(
            &f.verifier,
            &jwt(&stranger, &access_header(&stranger), &good_claims()),
        ),
    );
    let mut header = access_header(&key);
    header["alg"] = json!("ES256");
    check(
        "algorithm_mismatch",
        kind_of(&f.verifier, &jwt(&key, &header, &good_claims())),
    );
    let mut forged = good.as_str().to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'Q' } else { 'A' });
    check("bad_signature", kind_of(&f.verifier, &forged));

    let signed = |claims: serde_json::Value| jwt(&key, &access_header(&key), &claims);
    let mut c = good_claims();
    c["exp"] = json!(T0 - 61);
    check("expired", kind_of(&f.verifier, &signed(c)));
    let mut c = good_claims();
    c["nbf"] = json!(T0 + 61);
    check("not_yet_valid", kind_of(&f.verifier, &signed(c)));
    let mut c = good_claims();
    c["iat"] = json!(T0 + 61);
    check("issued_in_future", kind_of(&f.verifier, &signed(c)));
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("jti");
    check("missing_claim", kind_of(&f.verifier, &signed(c)));
    let mut c = good_claims();
    c["iss"] = json!("https://auth.test.evil");
    check("wrong_issuer", kind_of(&f.verifier, &signed(c)));
    let mut c = good_claims();
    c["aud"] = json!(["apis", "ap"]);
    check("wrong_audience", kind_of(&f.verifier, &signed(c)));
    let rt = f.issuer.refresh("alice").mint().unwrap();
    check("wrong_token_type", kind_of(&f.verifier, rt.as_str()));

    check("invalid_key", Key::from_jwk("{}").unwrap_err().kind());
    check(
        "config",
        keycard::Issuer::new(std::sync::Arc::new(keycard::KeyRing::new()))
            .access("a")
            .mint()
            .unwrap_err()
            .kind(),
    );
    assert!(
        f.verifier
            .verify_access::<NoCustomClaims>(good.as_str())
            .is_ok()
    );

    let list = std::sync::Arc::new(keycard::revocation::RevocationList::new());
    let with_list = f.verifier.clone().with_revocations(list.clone());
    list.revoke_token(good.token_id(), good.expires_at())
        .unwrap();
    check("revoked", kind_of(&with_list, good.as_str()));
    check(
        "corrupt_data",
        keycard::revocation::RevocationList::from_snapshot(b"KCRV")
            .unwrap_err()
            .kind(),
    );
    check(
        "io",
        keycard::revocation::RevocationList::load("/nonexistent/keycard/revocations")
            .unwrap_err()
            .kind(),
    );

    // The session kinds, on a short session scenario.
    let kc = keycard::Keycard::builder(f.keys.clone())
        .session_limit(1, keycard::LimitPolicy::Reject)
        .build()
        .unwrap();
    let p = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    check(
        "session_limit",
        kc.login("alice", &NoCustomClaims {}, None)
            .unwrap_err()
            .kind(),
    );
    let stranger_sid = keycard::SessionId::random();
    check(
        "unknown_session",
        kc.logout_session("alice", &stranger_sid)
            .unwrap_err()
            .kind(),
    );
    let v = kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
    f.clock.advance(Duration::from_secs(301));
    check(
        "reauth_required",
        kc.require_recent_auth(&v, Duration::from_secs(300))
            .unwrap_err()
            .kind(),
    );
    kc.refresh(p.refresh.as_str(), None).unwrap();
    f.clock.advance(Duration::from_secs(11));
    check(
        "refresh_reuse_detected",
        kc.refresh(p.refresh.as_str(), None).unwrap_err().kind(),
    );
    let r = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    f.clock.advance(Duration::from_secs(1801));
    check(
        "session_expired",
        kc.refresh(r.refresh.as_str(), None).unwrap_err().kind(),
    );

    // Unavailability, as a distributed store and a replica report it (the Redis store's own
    // tests reach both against a real server killed mid-run; these doubles need none).
    #[derive(Debug)]
    struct Stale;
    impl keycard::RevocationCheck for Stale {
        fn check(&self, _: &keycard::TokenFacts<'_>) -> keycard::Result<bool> {
            Err(Error::RevocationUnavailable { stale_for_secs: 31 })
        }
        fn max_leeway(&self) -> Duration {
            Duration::from_secs(300)
        }
    }
    let stale = f
        .verifier
        .clone()
        .with_revocations(std::sync::Arc::new(Stale));
    let fresh = f.issuer.access("alice").mint().unwrap();
    check("revocation_unavailable", kind_of(&stale, fresh.as_str()));
    assert!(Error::RevocationUnavailable { stale_for_secs: 31 }.is_retryable());
    let down = Error::StoreUnavailable("connection refused".into());
    assert!(down.is_retryable() && !Error::Revoked.is_retryable());
    check("store_unavailable", down.kind());
    // A remote key set that cannot be fetched (tests/remote_jwks.rs reaches it against a local
    // server that stalls, answers 500 or sends too much).
    let jwks = Error::JwksUnavailable("JWK Set: timed out".into());
    assert!(jwks.is_retryable());
    check("jwks_unavailable", jwks.kind());

    // DPoP: a proof that is not one, and a good proof without the server's nonce.
    let kc = keycard::Keycard::builder(f.keys.clone())
        .dpop_nonces(Duration::from_secs(60))
        .build()
        .unwrap();
    let request = keycard::dpop::ProofRequest {
        method: "POST",
        url: "https://api.test/login",
        access_token: None,
    };
    check(
        "invalid_dpop_proof",
        kc.check_dpop("not.a.proof", &request).unwrap_err().kind(),
    );
    let client = dpop::DpopClient::new(Algorithm::ES256);
    let proof = client.proof("POST", "https://api.test/login", kc.now().as_unix(), None);
    check(
        "use_dpop_nonce",
        kc.check_dpop(&proof, &request).unwrap_err().kind(),
    );

    // `crypto` is only reachable when the OS random generator or a backend fails, which a test
    // cannot provoke; it maps to a stable code all the same.
    assert_eq!(Error::Crypto("x").kind(), "crypto");
    reached.insert("crypto");
    let all: BTreeSet<_> = Error::KINDS.iter().copied().collect();
    assert_eq!(reached, all);
}

#[test]
fn signature_failure_wins_over_every_claim_failure() {
    // CVE-2024-51744: a forged token must never report a claims error (which would tell the
    // caller its claims were trusted enough to be checked).
    let f = fixture();
    let key = active(&f, Format::Jwt);
    let stranger = Key::generate_with_kid(Algorithm::EdDSA, key.kid().clone()).unwrap();
    let mut c = good_claims();
    c["exp"] = json!(T0 - 10_000);
    c["iat"] = json!(T0 + 10_000);
    c["iss"] = json!("evil");
    c.as_object_mut().unwrap().remove("jti");
    let forged = jwt(&stranger, &access_header(&key), &c);
    assert_eq!(kind_of(&f.verifier, &forged), "bad_signature");
    // Same claims, real key: now the claims are judged.
    assert_eq!(
        kind_of(&f.verifier, &jwt(&key, &access_header(&key), &c)),
        "missing_claim"
    );
}

#[test]
fn claim_checks_run_in_order() {
    let f = fixture();
    let key = active(&f, Format::Jwt);
    let signed = |claims: &serde_json::Value| jwt(&key, &access_header(&key), claims);
    let mut c = good_claims();
    c["exp"] = json!(T0 - 100);
    c["iss"] = json!("other");
    c["aud"] = json!("other");
    assert_eq!(kind_of(&f.verifier, &signed(&c)), "expired");
    c["exp"] = json!(T0 + 100);
    assert_eq!(kind_of(&f.verifier, &signed(&c)), "wrong_issuer");
    c["iss"] = json!("https://auth.test");
    assert_eq!(kind_of(&f.verifier, &signed(&c)), "wrong_audience");
}

#[test]
fn leeway_boundaries() {
    let f = fixture();
    let key = active(&f, Format::Jwt);
    let signed = |claims: &serde_json::Value| jwt(&key, &access_header(&key), claims);
    let mut c = good_claims();
    c["exp"] = json!(T0 - 59);
    assert!(
        f.verifier
            .verify_access::<NoCustomClaims>(&signed(&c))
            .is_ok()
    );
    c["exp"] = json!(T0 - 60);
    assert_eq!(kind_of(&f.verifier, &signed(&c)), "expired");
    let strict = f.verifier.clone().with_leeway(Duration::ZERO);
    c["exp"] = json!(T0 + 1);
    assert!(strict.verify_access::<NoCustomClaims>(&signed(&c)).is_ok());
    c["exp"] = json!(T0);
    assert_eq!(kind_of(&strict, &signed(&c)), "expired");
    let mut c = good_claims();
    c["nbf"] = json!(T0 + 60);
    c["iat"] = json!(T0 + 60);
    assert!(
        f.verifier
            .verify_access::<NoCustomClaims>(&signed(&c))
            .is_ok()
    );
}

#[test]
fn audience_and_issuer_rules() {
    let f = fixture();
    let key = active(&f, Format::Jwt);
    let signed = |claims: &serde_json::Value| jwt(&key, &access_header(&key), claims);
    let mut c = good_claims();
    c["aud"] = json!(["other", "api"]);
    assert!(
        f.verifier
            .verify_access::<NoCustomClaims>(&signed(&c))
            .is_ok()
    );
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(kind_of(&f.verifier, &signed(&c)), "missing_claim");
    c.as_object_mut().unwrap().remove("iss");
    let open = Verifier::new(f.keys.clone());
    assert!(open.verify_access::<NoCustomClaims>(&signed(&c)).is_ok());
    // A token addressed to someone must not be accepted by a verifier that names nobody.
    assert_eq!(kind_of(&open, &signed(&good_claims())), "wrong_audience");
    c["iss"] = json!("https://auth.test");
    let mut needs_iss = good_claims();
    needs_iss.as_object_mut().unwrap().remove("iss");
    assert_eq!(kind_of(&f.verifier, &signed(&needs_iss)), "missing_claim");
}

#[test]
fn error_messages_never_echo_the_token() {
    let f = fixture();
    let key = active(&f, Format::Jwt);
    let mut c = good_claims();
    c["exp"] = json!(T0 - 1000);
    let expired = jwt(&key, &access_header(&key), &c);
    let mut header = access_header(&key);
    header["kid"] = json!("../../etc/passwd\u{1b}[31m");
    let path_kid = jwt(&key, &header, &good_claims());
    for token in [
        expired.as_str(),
        path_kid.as_str(),
        "x.y.z",
        &"a".repeat(9000),
    ] {
        let msg = f
            .verifier
            .verify_access::<NoCustomClaims>(token)
            .unwrap_err()
            .to_string();
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!msg.contains(part), "{msg}");
        }
        assert!(!msg.contains('\u{1b}') && !msg.contains('/'), "{msg}");
    }
}

#[test]
fn size_limit_is_configurable_and_checked_first() {
    let f = fixture();
    let t = f.issuer.access("alice").mint().unwrap();
    let tight = f
        .verifier
        .clone()
        .with_max_token_bytes(t.as_str().len() - 1);
    assert!(matches!(
        tight.verify_access::<NoCustomClaims>(t.as_str()),
        Err(Error::TokenTooLarge { .. })
    ));
    // Checked before anything else, even the format.
    assert_eq!(kind_of(&f.verifier, &"%".repeat(8193)), "token_too_large");
    assert_eq!(kind_of(&f.verifier, &"%".repeat(8192)), "malformed");
}
