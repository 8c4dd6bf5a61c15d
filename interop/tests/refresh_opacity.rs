//! A refresh token never passes as an access token, in keycard or anywhere else (RFC 8725 §3.12,
//! RFC 9068): other libraries handed exactly what a gateway is given (the published JWK Set, and
//! the HS256 secret where HS256 is in use) and the access-token validation settings (algorithm from
//! the key, `iss`, `aud`) refuse every refresh token keycard issues, in every format pairing.
//!
//! This holds by construction: refresh tokens are `v4.local` tokens sealed with a refresh-token key
//! that is never published. Each case has a positive control: the access token of the same login
//! passes the same library with the same keys (for JWT access tokens).

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{DecodingKey, Validation};
use keycard::{Algorithm, Format, KeyRing, Keycard, NoCustomClaims};
use serde_json::{Value, json};

use crate::harness::Trial;

use crate::common::secret_of;
use crate::oracle::{Oracle, needs, test};
use crate::pyjwt::SCRIPT;

pub fn trials() -> Vec<Trial> {
    vec![
        test(
            "refresh_opacity::jsonwebtoken_refuses_every_refresh_token",
            jsonwebtoken_refuses_every_refresh_token,
        ),
        needs(
            Oracle::PyJwt,
            "refresh_opacity::pyjwt_refuses_every_refresh_token",
            pyjwt_refuses_every_refresh_token,
        ),
        test(
            "refresh_opacity::paseto_libraries_refuse_every_refresh_token",
            paseto_libraries_refuse_every_refresh_token,
        ),
    ]
}

/// Every access-token algorithm keycard mints with, and its format.
const PAIRINGS: [Algorithm; 5] = [
    Algorithm::EdDSA,
    Algorithm::ES256,
    Algorithm::HS256,
    Algorithm::V4Public,
    Algorithm::V4Local,
];

struct Login {
    keys: Arc<KeyRing>,
    access: String,
    refresh: String,
    /// What a gateway holds: the published JWK Set, plus the HS256 secret when in use.
    gateway: Vec<Value>,
}

fn login(access_alg: Algorithm) -> Login {
    let keys = Arc::new(KeyRing::new().with_grace(Duration::from_secs(3600)));
    // Published keys of both asymmetric JWT algorithms, whatever the access format.
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        keys.rotate(alg).unwrap();
    }
    // The access-token key (for EdDSA and ES256, a newer key of that algorithm becomes active).
    keys.rotate(access_alg).unwrap();
    let kc = Keycard::builder(keys.clone())
        .issuer("https://auth.test")
        .audience("api")
        .access_format(access_alg.format())
        .build()
        .unwrap();
    let pair = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let published: Value = serde_json::from_str(&keys.public_jwks()).unwrap();
    let mut gateway = published["keys"].as_array().unwrap().clone();
    assert!(gateway.len() >= 2);
    if access_alg == Algorithm::HS256 {
        let key = keys.active(Format::Jwt).unwrap();
        gateway.push(serde_json::from_str(&key.to_secret_jwk().unwrap()).unwrap());
    }
    Login {
        keys,
        access: pair.access.into_string(),
        refresh: pair.refresh.into_string(),
        gateway,
    }
}

/// The kids of the gateway keys with which jsonwebtoken accepts `token` as an access token.
fn jsonwebtoken_accepts(gateway: &[Value], token: &str) -> Vec<String> {
    let mut accepted = Vec::new();
    for jwk in gateway {
        let alg: jsonwebtoken::Algorithm = jwk["alg"].as_str().unwrap().parse().unwrap();
        let key = if jwk["kty"] == "oct" {
            let k = keycard::Key::from_jwk(&jwk.to_string()).unwrap();
            DecodingKey::from_secret(&secret_of(&k))
        } else {
            let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
            DecodingKey::from_jwk(&parsed).unwrap()
        };
        let mut v = Validation::new(alg);
        v.set_audience(&["api"]);
        v.set_issuer(&["https://auth.test"]);
        if jsonwebtoken::decode::<Value>(token, &key, &v).is_ok() {
            accepted.push(jwk["kid"].as_str().unwrap().to_owned());
        }
    }
    accepted
}

fn jsonwebtoken_refuses_every_refresh_token() {
    for alg in PAIRINGS {
        let l = login(alg);
        assert_eq!(
            jsonwebtoken_accepts(&l.gateway, &l.refresh),
            Vec::<String>::new(),
            "{alg}: a refresh token passed jsonwebtoken as an access token"
        );
        if alg.format() == Format::Jwt {
            let active = l.keys.active(Format::Jwt).unwrap();
            assert_eq!(
                jsonwebtoken_accepts(&l.gateway, &l.access),
                vec![active.kid().to_string()],
                "{alg}: control"
            );
        }
    }
}

fn pyjwt_refuses_every_refresh_token() {
    let accepts = |gateway: &[Value], token: &str| -> Vec<String> {
        let set = json!({ "keys": gateway }).to_string();
        let out = Command::new("python3")
            .args([SCRIPT, "accepts", &set, token])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        serde_json::from_value(v["accepted"].clone()).unwrap()
    };
    for alg in PAIRINGS {
        let l = login(alg);
        assert_eq!(
            accepts(&l.gateway, &l.refresh),
            Vec::<String>::new(),
            "{alg}: a refresh token passed PyJWT as an access token"
        );
        if alg.format() == Format::Jwt {
            let active = l.keys.active(Format::Jwt).unwrap();
            assert_eq!(
                accepts(&l.gateway, &l.access),
                vec![active.kid().to_string()],
                "{alg}: control"
            );
        }
    }
}

fn paseto_libraries_refuse_every_refresh_token() {
    use pasetors::keys::{AsymmetricPublicKey, SymmetricKey};
    use pasetors::token::{Local, Public, UntrustedToken};
    use pasetors::version4::{LocalToken, PublicToken, V4};
    for alg in [Algorithm::V4Public, Algorithm::V4Local] {
        let l = login(alg);
        let access_key = l.keys.active(alg.format()).unwrap();
        // The refresh token is sealed with a key no access-token verifier holds.
        assert_ne!(
            l.keys.active_refresh().unwrap().kid(),
            access_key.kid(),
            "{alg}"
        );
        match alg {
            Algorithm::V4Public => {
                let pk = AsymmetricPublicKey::<V4>::from(access_key.public_key_bytes().unwrap())
                    .unwrap();
                assert!(UntrustedToken::<Public, V4>::try_from(l.refresh.as_str()).is_err());
                let access = UntrustedToken::<Public, V4>::try_from(l.access.as_str()).unwrap();
                let footer = access.untrusted_footer().to_vec();
                assert!(PublicToken::verify(&pk, &access, Some(&footer), None).is_ok());
            }
            _ => {
                let sk = SymmetricKey::<V4>::from(&secret_of(&access_key)).unwrap();
                let refresh = UntrustedToken::<Local, V4>::try_from(l.refresh.as_str()).unwrap();
                for implicit in [&b""[..], b"keycard:refresh-token:v1"] {
                    assert!(LocalToken::decrypt(&sk, &refresh, None, Some(implicit)).is_err());
                }
                let access = UntrustedToken::<Local, V4>::try_from(l.access.as_str()).unwrap();
                assert!(LocalToken::decrypt(&sk, &access, None, None).is_ok());
            }
        }
    }
}
