//! A DPoP client for tests: a key pair, and proofs built here by hand (the header's `jwk` and the
//! RFC 7638 thumbprint written out from the raw public key, signed through `common::jwt`'s
//! independent crypto), so keycard's own JWK and thumbprint code is checked, not reused.
#![allow(dead_code)]

use keycard::{Algorithm, Key};
use serde_json::{Value, json};

use crate::common::{b64, jwt, jwt_raw};

pub struct DpopClient {
    pub key: Key,
}

impl DpopClient {
    pub fn new(alg: Algorithm) -> DpopClient {
        DpopClient {
            key: Key::generate(alg).unwrap(),
        }
    }

    /// The public JWK, members written out from the raw key.
    pub fn jwk(&self) -> Value {
        let public = self.key.public_key_bytes().unwrap();
        match self.key.algorithm() {
            Algorithm::EdDSA => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(public)}),
            Algorithm::ES256 => json!({
                "kty": "EC", "crv": "P-256",
                "x": b64(&public[1..33]), "y": b64(&public[33..65]),
            }),
            other => panic!("not a DPoP algorithm: {other}"),
        }
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
    pub fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let canonical = match self.key.algorithm() {
            Algorithm::EdDSA => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                jwk["x"].as_str().unwrap()
            ),
            _ => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                jwk["x"].as_str().unwrap(),
                jwk["y"].as_str().unwrap()
            ),
        };
        b64(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.key.algorithm().name(), "jwk": self.jwk()})
    }

    /// The claims of a proof for `method url` at `iat`, with `ath` when `token` is given.
    pub fn claims(&self, method: &str, url: &str, iat: i64, token: Option<&str>) -> Value {
        let mut jti = [0u8; 12];
        rand::fill(&mut jti[..]);
        let mut c = json!({"jti": b64(&jti), "htm": method, "htu": url, "iat": iat});
        if let Some(token) = token {
            c["ath"] = json!(ath(token));
        }
        c
    }

    /// A proof with this header and these claims.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        jwt(&self.key, header, claims)
    }

    /// A good proof for `method url` at `iat`.
    pub fn proof(&self, method: &str, url: &str, iat: i64, token: Option<&str>) -> String {
        self.sign(&self.header(), &self.claims(method, url, iat, token))
    }

    /// A good proof carrying a server nonce.
    pub fn proof_with_nonce(&self, method: &str, url: &str, iat: i64, nonce: &str) -> String {
        let mut c = self.claims(method, url, iat, None);
        c["nonce"] = json!(nonce);
        self.sign(&self.header(), &c)
    }

    /// Exact bytes, for the cases a `Value` cannot spell.
    pub fn sign_raw(&self, header: &[u8], claims: &[u8]) -> String {
        jwt_raw(&self.key, header, claims)
    }
}

/// A proof's `ath`: base64url SHA-256 of the access token.
pub fn ath(token: &str) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}
