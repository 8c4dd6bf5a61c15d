//! Interop with the `jsonwebtoken` crate (11, `rust_crypto` backend), an independent JWT
//! implementation with independent crypto (ed25519-dalek 2, RustCrypto p256 and hmac): keycard's
//! tokens decode there, and its tokens verify here. This also pins the backend choice: with
//! exactly one backend feature enabled, jsonwebtoken does not panic at first use.

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use keycard::{Algorithm, Format, NoCustomClaims};
use serde::{Deserialize, Serialize};

use crate::harness::Trial;

use crate::common::{live, secret_of};
use crate::oracle::test;

pub fn trials() -> Vec<Trial> {
    vec![
        test(
            "jsonwebtoken::keycard_tokens_verify_under_jsonwebtoken",
            keycard_tokens_verify_under_jsonwebtoken,
        ),
        test(
            "jsonwebtoken::jsonwebtoken_tokens_verify_under_keycard",
            jsonwebtoken_tokens_verify_under_keycard,
        ),
    ]
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    sid: String,
    tenant: u32,
}

#[derive(Serialize, Deserialize)]
struct Tenant {
    tenant: u32,
}

fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        _ => unreachable!(),
    }
}

fn decoding_key(key: &keycard::Key) -> DecodingKey {
    match key.algorithm() {
        Algorithm::HS256 => DecodingKey::from_secret(&secret_of(key)),
        _ => {
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_str(&key.to_public_jwk().unwrap()).unwrap();
            DecodingKey::from_jwk(&jwk).unwrap()
        }
    }
}

/// PKCS#8 v1 DER for the private key, as jsonwebtoken's rust_crypto backend reads it.
fn encoding_key(key: &keycard::Key) -> EncodingKey {
    let secret = secret_of(key);
    match key.algorithm() {
        Algorithm::HS256 => EncodingKey::from_secret(&secret),
        Algorithm::EdDSA => {
            let mut der = vec![
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
                0x04, 0x20,
            ];
            der.extend_from_slice(&secret);
            EncodingKey::from_ed_der(&der)
        }
        Algorithm::ES256 => {
            let mut der = vec![
                0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04,
                0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
            ];
            der.extend_from_slice(&secret);
            der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
            der.extend_from_slice(key.public_key_bytes().unwrap());
            EncodingKey::from_ec_der(&der)
        }
        _ => unreachable!(),
    }
}

fn keycard_tokens_verify_under_jsonwebtoken() {
    let (keys, issuer, _) = live();
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::HS256] {
        keys.rotate(alg).unwrap();
        let key = keys.active(Format::Jwt).unwrap();
        let token = issuer
            .access("alice")
            .claims(&Tenant { tenant: 7 })
            .mint()
            .unwrap();
        let mut validation = Validation::new(jwt_alg(alg));
        validation.set_audience(&["api"]);
        validation.set_issuer(&["https://auth.test"]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "sub", "aud", "iss"]);
        let data = jsonwebtoken::decode::<Claims>(token.as_str(), &decoding_key(&key), &validation)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.header.kid.as_deref(), Some(key.kid().as_str()));
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(data.claims.sub, "alice");
        assert_eq!(data.claims.tenant, 7);
        assert_eq!(data.claims.jti, token.token_id().as_str());
    }
}

fn jsonwebtoken_tokens_verify_under_keycard() {
    let (keys, _, verifier) = live();
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::HS256] {
        keys.rotate(alg).unwrap();
        let key = keys.active(Format::Jwt).unwrap();
        let now = keycard::Clock::now(&keycard::SystemClock).as_unix() as u64;
        let claims = Claims {
            iss: "https://auth.test".into(),
            sub: "bob".into(),
            aud: "api".into(),
            exp: now + 120,
            nbf: now,
            iat: now,
            jti: "jwt-crate-token-1".into(),
            sid: "jwt-crate-session".into(),
            tenant: 9,
        };
        let mut header = Header::new(jwt_alg(alg));
        header.kid = Some(key.kid().to_string());
        header.typ = Some("at+jwt".into());
        let token = jsonwebtoken::encode(&header, &claims, &encoding_key(&key)).unwrap();
        let v = verifier
            .verify_access::<Tenant>(&token)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(v.subject(), "bob");
        assert_eq!(v.claims().custom().tenant, 9);
        assert_eq!(v.token_id().as_str(), "jwt-crate-token-1");

        // jsonwebtoken's default typ ("JWT") is not an access token.
        header.typ = Some("JWT".into());
        let token = jsonwebtoken::encode(&header, &claims, &encoding_key(&key)).unwrap();
        assert_eq!(
            verifier
                .verify_access::<NoCustomClaims>(&token)
                .unwrap_err()
                .kind(),
            "wrong_token_type"
        );
    }
}
