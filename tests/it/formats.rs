//! Round trips in every format, custom claims, and the access/refresh type separation.

use keycard::{Algorithm, Format, NoCustomClaims};
use serde::{Deserialize, Serialize};

use crate::common::*;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Profile {
    roles: Vec<String>,
    tenant: u64,
    #[serde(default)]
    flags: Option<serde_json::Value>,
}

#[test]
fn every_format_round_trips_with_custom_claims() {
    let f = fixture();
    let profile = Profile {
        roles: vec!["admin".into(), "ops".into()],
        tenant: 42,
        flags: Some(serde_json::json!({"beta": [1, 2, {"x": null}]})),
    };
    for format in Format::ALL {
        let t = f
            .issuer
            .access("alice")
            .claims(&profile)
            .format(format)
            .mint()
            .unwrap();
        assert_eq!(t.format(), format);
        let v = f.verifier.verify_access::<Profile>(t.as_str()).unwrap();
        assert_eq!(v.format(), format);
        assert_eq!(v.kid(), t.kid());
        assert_eq!(v.subject(), "alice");
        assert_eq!(v.token_id(), t.token_id());
        assert_eq!(v.session_id(), t.session_id());
        assert_eq!(v.claims().custom(), &profile);
        assert_eq!(v.claims().issuer(), Some("https://auth.test"));
        assert_eq!(v.claims().expires_at(), t.expires_at());
        assert_eq!(v.claims().expires_at().as_unix(), T0 + 300);
        assert_eq!(v.claims().issued_at().as_unix(), T0);
        assert!(v.claims().audience().unwrap().contains("api"));
    }
}

#[test]
fn every_jwt_algorithm_round_trips() {
    let f = fixture();
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::HS256] {
        let kid = f.keys.rotate(alg).unwrap();
        let t = f.issuer.access("bob").mint().unwrap();
        assert_eq!(t.kid(), &kid);
        let v = f
            .verifier
            .verify_access::<NoCustomClaims>(t.as_str())
            .unwrap();
        assert_eq!(v.subject(), "bob");
        // The header says what keycard promises: alg from the key, kid, typ at+jwt.
        let header: serde_json::Value =
            serde_json::from_slice(&unb64(t.as_str().split('.').next().unwrap())).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": alg.name(), "kid": kid.as_str(), "typ": "at+jwt"})
        );
    }
}

#[test]
fn time_claims_use_each_formats_standard_form() {
    let f = fixture();
    let jwt = f.issuer.access("a").mint().unwrap();
    let payload: serde_json::Value =
        serde_json::from_slice(&unb64(jwt.as_str().split('.').nth(1).unwrap())).unwrap();
    assert_eq!(payload["exp"], serde_json::json!(T0 + 300));
    assert_eq!(payload["iat"], serde_json::json!(T0));
    assert_eq!(payload["nbf"], serde_json::json!(T0));
    assert_eq!(payload["jti"].as_str().unwrap().len(), 22);
    assert_eq!(payload["sid"].as_str().unwrap().len(), 22);

    let p = f
        .issuer
        .access("a")
        .format(Format::V4Public)
        .mint()
        .unwrap();
    let body = unb64(p.as_str()["v4.public.".len()..].split('.').next().unwrap());
    let payload: serde_json::Value = serde_json::from_slice(&body[..body.len() - 64]).unwrap();
    assert_eq!(payload["exp"], "2027-01-15T08:05:00Z");
    assert_eq!(payload["iat"], "2027-01-15T08:00:00Z");
    let footer = unb64(p.as_str().rsplit('.').next().unwrap());
    let footer: serde_json::Value = serde_json::from_slice(&footer).unwrap();
    assert_eq!(footer, serde_json::json!({"kid": p.kid().as_str()}));
    assert!(p.kid().as_str().starts_with("k4.pid."));
}

#[test]
fn refresh_and_access_never_pass_as_each_other() {
    let f = fixture();
    let rt = f.issuer.refresh("alice").mint().unwrap();
    assert_eq!(
        rt.format(),
        Format::V4Local,
        "refresh tokens are always sealed"
    );
    assert_eq!(rt.kid(), f.keys.active_refresh().unwrap().kid());
    assert!(
        f.verifier
            .verify_refresh::<NoCustomClaims>(rt.as_str())
            .is_ok()
    );
    assert_eq!(
        f.verifier
            .verify_access::<NoCustomClaims>(rt.as_str())
            .unwrap_err()
            .kind(),
        "wrong_token_type"
    );
    for format in Format::ALL {
        let at = f.issuer.access("alice").format(format).mint().unwrap();
        assert_eq!(
            f.verifier
                .verify_refresh::<NoCustomClaims>(at.as_str())
                .unwrap_err()
                .kind(),
            "wrong_token_type",
            "{format}"
        );
    }
}

#[test]
fn refresh_typed_tokens_sealed_with_access_keys_are_neither_kind() {
    // What keycard minted before refresh tokens had their own key: a JWT `rt+jwt` and PASETO
    // tokens with the refresh assertion, sealed with access-token keys. Authentic, but refused
    // both as access and as refresh tokens.
    let f = fixture();
    let ed = active(&f, Format::Jwt);
    let mut header = access_header(&ed);
    header["typ"] = "rt+jwt".into();
    let public = active(&f, Format::V4Public);
    let local = active(&f, Format::V4Local);
    let footer =
        |k: &keycard::Key| serde_json::json!({"kid": k.kid().as_str(), "typ": "rt"}).to_string();
    let claims = good_paseto_claims().to_string();
    let marker = b"keycard:refresh-token:v1";
    for token in [
        jwt(&ed, &header, &good_claims()),
        paseto_public(
            &public,
            claims.as_bytes(),
            footer(&public).as_bytes(),
            marker,
        ),
        paseto_local(&local, claims.as_bytes(), footer(&local).as_bytes(), marker),
    ] {
        for r in [
            f.verifier
                .verify_access::<NoCustomClaims>(&token)
                .map(|_| ()),
            f.verifier
                .verify_refresh::<NoCustomClaims>(&token)
                .map(|_| ()),
        ] {
            assert_eq!(r.unwrap_err().kind(), "wrong_token_type", "{token:.12}");
        }
    }
}

#[test]
fn editing_a_refresh_token_footer_breaks_the_token() {
    let f = fixture();
    let rt = f.issuer.refresh("alice").mint().unwrap();
    let (body, footer) = rt.as_str().rsplit_once('.').unwrap();
    let mut footer: serde_json::Value = serde_json::from_slice(&unb64(footer)).unwrap();
    assert_eq!(footer["typ"], "rt");
    footer.as_object_mut().unwrap().remove("typ");
    let stripped = format!("{body}.{}", b64(footer.to_string().as_bytes()));
    for result in [
        f.verifier
            .verify_access::<NoCustomClaims>(&stripped)
            .map(|_| ()),
        f.verifier
            .verify_refresh::<NoCustomClaims>(&stripped)
            .map(|_| ()),
    ] {
        assert_eq!(result.unwrap_err().kind(), "bad_signature");
    }
}

#[test]
fn a_refresh_token_signed_as_access_by_another_library_stays_an_access_token() {
    // The footer hint only chooses which assertion to try; a lying hint cannot upgrade a token.
    let f = fixture();
    let key = active(&f, Format::V4Public);
    let footer = serde_json::json!({"kid": key.kid().as_str(), "typ": "rt"}).to_string();
    let claims = good_paseto_claims().to_string();
    let t = paseto_public(&key, claims.as_bytes(), footer.as_bytes(), b"");
    assert_eq!(
        f.verifier
            .verify_refresh::<NoCustomClaims>(&t)
            .unwrap_err()
            .kind(),
        "bad_signature"
    );
}

#[test]
fn tokens_from_other_paseto_libraries_verify() {
    // pasetors, with an empty implicit assertion and keycard's footer, is what any PASETO v4
    // library holding the key produces.
    let f = fixture();
    let claims = good_paseto_claims().to_string();
    let public = active(&f, Format::V4Public);
    let t = paseto_public(&public, claims.as_bytes(), &access_footer(&public), b"");
    assert!(f.verifier.verify_access::<NoCustomClaims>(&t).is_ok());
    let local = active(&f, Format::V4Local);
    let t = paseto_local(&local, claims.as_bytes(), &access_footer(&local), b"");
    assert!(f.verifier.verify_access::<NoCustomClaims>(&t).is_ok());
}

#[test]
fn verifier_format_restrictions() {
    let f = fixture();
    let only_public = f.verifier.clone().with_formats(&[Format::V4Public]);
    let local = f.issuer.access("a").format(Format::V4Local).mint().unwrap();
    let public = f
        .issuer
        .access("a")
        .format(Format::V4Public)
        .mint()
        .unwrap();
    let jwt = f.issuer.access("a").mint().unwrap();
    assert!(
        only_public
            .verify_access::<NoCustomClaims>(public.as_str())
            .is_ok()
    );
    for t in [&local, &jwt] {
        assert_eq!(
            only_public
                .verify_access::<NoCustomClaims>(t.as_str())
                .unwrap_err()
                .kind(),
            "unsupported_format"
        );
    }
    let only_local = f.verifier.clone().with_formats(&[Format::V4Local]);
    assert_eq!(
        only_local
            .verify_access::<NoCustomClaims>(public.as_str())
            .unwrap_err()
            .kind(),
        "unsupported_format"
    );
}

#[test]
fn a_public_copy_of_the_ring_verifies_but_cannot_mint() {
    let f = fixture();
    let t = f.issuer.access("alice").mint().unwrap();
    let key = f.keys.get(t.kid().as_str()).unwrap();
    let public_only = std::sync::Arc::new(keycard::KeyRing::new());
    public_only
        .add_verify_only(key.to_public().unwrap())
        .unwrap();
    let v = keycard::Verifier::new(public_only.clone())
        .with_audience("api")
        .with_clock(std::sync::Arc::new(f.clock.clone()));
    assert!(v.verify_access::<NoCustomClaims>(t.as_str()).is_ok());
    let issuer = keycard::Issuer::new(public_only);
    assert_eq!(issuer.access("x").mint().unwrap_err().kind(), "config");
}

#[test]
fn token_debug_output_hides_the_credential() {
    let f = fixture();
    let t = f.issuer.access("alice").mint().unwrap();
    let shown = format!("{t:?}");
    assert!(!shown.contains(t.as_str()));
    assert!(!shown.contains(t.as_str().split('.').nth(2).unwrap()));
}
