//! An identity provider for tests: the keys and PyJWT-made tokens of
//! `tests/vectors/foreign/idp.json` (see its `generate.py`), and signing with its private keys
//! (ring) for attack tokens and their positive controls.
#![allow(dead_code)]

use base64::Engine as _;
use ring::signature::{
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair,
};
use serde_json::Value;

pub const VECTORS: &str = include_str!("../vectors/foreign/idp.json");

pub fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

/// The provider's public JWK Set, as text.
pub fn jwks() -> String {
    vectors()["jwks"].to_string()
}

/// A token of the vectors by name.
pub fn token(name: &str) -> String {
    vectors()["tokens"][name].as_str().unwrap().to_owned()
}

/// The claims every vector token carries (valid at 1_800_000_000 + a few seconds).
pub fn claims() -> Value {
    vectors()["claims"].clone()
}

fn der(name: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(vectors()["private"][name].as_str().unwrap())
        .unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT with this exact header and claims, signed by the provider's key for `alg` (RS256,
/// PS256 or ES384; the header's `alg` is written as given, so it may lie).
pub fn sign(alg: &str, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let rng = ring::rand::SystemRandom::new();
    let sig = match alg {
        "RS256" | "PS256" => {
            let pair = RsaKeyPair::from_pkcs8(&der("rsa_pkcs8")).unwrap();
            let mut sig = vec![0u8; pair.public().modulus_len()];
            let padding: &dyn ring::signature::RsaEncoding = if alg == "RS256" {
                &RSA_PKCS1_SHA256
            } else {
                &RSA_PSS_SHA256
            };
            pair.sign(padding, &rng, input.as_bytes(), &mut sig)
                .unwrap();
            sig
        }
        "ES384" => {
            let pair = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                &der("p384_pkcs8"),
                &rng,
            )
            .unwrap();
            pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec()
        }
        other => panic!("the provider has no {other} key"),
    };
    format!("{input}.{}", b64url(&sig))
}

/// The provider's standard header for `alg`: its kid and `typ: JWT`.
pub fn header(alg: &str) -> Value {
    let kid = match alg {
        "RS256" => "idp-rs256",
        "PS256" => "idp-ps256",
        _ => "idp-es384",
    };
    serde_json::json!({ "alg": alg, "kid": kid, "typ": "JWT" })
}

/// The RSA modulus bytes (what an HS256-confusion attacker would use as a secret).
pub fn rsa_modulus() -> Vec<u8> {
    let n = vectors()["jwks"]["keys"][0]["n"]
        .as_str()
        .unwrap()
        .to_owned();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n)
        .unwrap()
}
