//! Shared test helpers: a fixture at a fixed instant, and a forger that signs arbitrary headers
//! and claims with real keys (through independent crypto code paths: raw ring / dalek / pasetors),
//! so tests can reach the claim checks with hostile-but-authentic tokens.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keycard::{Algorithm, Format, Issuer, Key, KeyRing, ManualClock, Timestamp, Verifier};
use serde_json::Value;

/// The fixture's "now": 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

pub struct Fixture {
    pub clock: ManualClock,
    pub keys: Arc<KeyRing>,
    pub issuer: Issuer,
    pub verifier: Verifier,
}

/// A ring at T0 with an active key for every format (EdDSA for JWT) and a refresh-token key,
/// grace 1 h, an issuer
/// writing `iss`/`aud`, and a verifier requiring them.
pub fn fixture() -> Fixture {
    let clock = ManualClock::new(Timestamp::from_unix(T0).unwrap());
    let keys = Arc::new(
        KeyRing::new()
            .with_grace(Duration::from_secs(3600))
            .with_clock(Arc::new(clock.clone())),
    );
    keys.rotate(Algorithm::V4Public).unwrap();
    keys.rotate(Algorithm::V4Local).unwrap();
    keys.rotate(Algorithm::EdDSA).unwrap();
    keys.rotate_refresh_key().unwrap();
    let (issuer, verifier) = issuer_and_verifier(&keys);
    Fixture {
        clock,
        keys,
        issuer,
        verifier,
    }
}

/// Claims every verifier in the fixture accepts at T0.
pub fn good_claims() -> Value {
    serde_json::json!({
        "iss": "https://auth.test",
        "sub": "alice",
        "aud": "api",
        "exp": T0 + 300,
        "nbf": T0,
        "iat": T0,
        "jti": "6Ju3n1Ey9VYrRcy4m5Lf2g",
        "sid": "Q0Z0a2lQZJQ3bm0uMmYx1w",
    })
}

/// The same claims with RFC 3339 time claims, as PASETO carries them.
pub fn good_paseto_claims() -> Value {
    let mut c = good_claims();
    for name in ["exp", "nbf", "iat"] {
        let t = Timestamp::from_unix(c[name].as_i64().unwrap()).unwrap();
        c[name] = Value::String(t.to_rfc3339());
    }
    c
}

/// The raw secret bytes of a key (d or k of its secret JWK).
pub fn secret_of(key: &Key) -> Vec<u8> {
    let jwk: Value = serde_json::from_str(&key.to_secret_jwk().unwrap()).unwrap();
    let member = if key.algorithm().is_asymmetric() {
        "d"
    } else {
        "k"
    };
    unb64(jwk[member].as_str().unwrap())
}

/// Signs `header_b64.payload_b64` with `key`'s algorithm (HS256, EdDSA or ES256) and returns the
/// base64url signature.
pub fn jws_signature(key: &Key, signing_input: &str) -> String {
    let secret = secret_of(key);
    let sig: Vec<u8> = match key.algorithm() {
        Algorithm::HS256 => {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
            ring::hmac::sign(&k, signing_input.as_bytes())
                .as_ref()
                .to_vec()
        }
        Algorithm::EdDSA => {
            use ed25519_dalek::Signer;
            let sk = ed25519_dalek::SigningKey::from_bytes(&secret.try_into().unwrap());
            sk.sign(signing_input.as_bytes()).to_bytes().to_vec()
        }
        Algorithm::ES256 => {
            let rng = ring::rand::SystemRandom::new();
            let public = key.public_key_bytes().unwrap();
            let pair = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &secret,
                public,
                &rng,
            )
            .unwrap();
            pair.sign(&rng, signing_input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec()
        }
        other => panic!("not a JWS algorithm: {other}"),
    };
    b64(&sig)
}

/// A JWT with exactly these header and payload bytes, signed by `key`.
pub fn jwt_raw(key: &Key, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = jws_signature(key, &input);
    format!("{input}.{sig}")
}

/// A JWT with this header and these claims, signed by `key`.
pub fn jwt(key: &Key, header: &Value, claims: &Value) -> String {
    jwt_raw(
        key,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}

/// keycard's own access-token header for `key`.
pub fn access_header(key: &Key) -> Value {
    serde_json::json!({"alg": key.algorithm().name(), "kid": key.kid().as_str(), "typ": "at+jwt"})
}

/// A v4.public token with exactly this payload, footer and implicit assertion (pasetors signs).
pub fn paseto_public(key: &Key, payload: &[u8], footer: &[u8], implicit: &[u8]) -> String {
    use pasetors::keys::AsymmetricSecretKey;
    use pasetors::version4::{PublicToken, V4};
    let mut both = secret_of(key);
    both.extend_from_slice(key.public_key_bytes().unwrap());
    let sk = AsymmetricSecretKey::<V4>::from(&both).unwrap();
    let footer = (!footer.is_empty()).then_some(footer);
    PublicToken::sign(&sk, payload, footer, Some(implicit)).unwrap()
}

/// A v4.local token with exactly this payload, footer and implicit assertion (pasetors encrypts).
pub fn paseto_local(key: &Key, payload: &[u8], footer: &[u8], implicit: &[u8]) -> String {
    use pasetors::keys::SymmetricKey;
    use pasetors::version4::{LocalToken, V4};
    let sk = SymmetricKey::<V4>::from(&secret_of(key)).unwrap();
    let footer = (!footer.is_empty()).then_some(footer);
    LocalToken::encrypt(&sk, payload, footer, Some(implicit)).unwrap()
}

/// keycard's footer for an access token of `key`.
pub fn access_footer(key: &Key) -> Vec<u8> {
    serde_json::json!({"kid": key.kid().as_str()})
        .to_string()
        .into_bytes()
}

/// The active key of a format in the fixture.
pub fn active(f: &Fixture, format: Format) -> Arc<Key> {
    f.keys.active(format).unwrap()
}

/// A key ring on the real clock (for interop with libraries that read the wall clock), an issuer
/// writing `iss`/`aud` and a verifier requiring them.
pub fn live() -> (Arc<KeyRing>, Issuer, Verifier) {
    let keys = Arc::new(KeyRing::new());
    let (issuer, verifier) = issuer_and_verifier(&keys);
    (keys, issuer, verifier)
}

/// An issuer writing `iss` "https://auth.test" and `aud` "api" over `keys`, and a verifier
/// requiring both.
fn issuer_and_verifier(keys: &Arc<KeyRing>) -> (Issuer, Verifier) {
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.test")
        .with_audience("api");
    let verifier = Verifier::new(keys.clone())
        .with_issuer("https://auth.test")
        .with_audience("api");
    (issuer, verifier)
}
