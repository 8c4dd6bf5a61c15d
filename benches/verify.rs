//! The verify path, each format next to its raw primitive and the reference library, in one run.
//!
//! Groups (the README's table divides each row by the group's baseline):
//! - `ed25519_raw`: the Ed25519 verify of a JWT signing input in ring, ed25519-dalek (keycard's
//!   choice) and ed25519-compact (pasetors'), key parsed once in each;
//! - `jwt_eddsa`: raw dalek verify (baseline), keycard's full verify, jsonwebtoken's decode;
//! - `jwt_hs256`: raw ring HMAC-SHA-256 (baseline), keycard, jsonwebtoken;
//! - `jwt_es256`: raw ring P-256 verify (baseline), keycard, jsonwebtoken;
//! - `v4_public`: raw dalek verify of the PAE (baseline), keycard, pasetors' verify + claims;
//! - `v4_local`: keycard, pasetors' decrypt + claims (baseline);
//! - `dpop`: `Keycard::verify` of a bearer session's token (baseline), and `Keycard::verify_dpop`
//!   of a DPoP-bound session's token with a fresh proof (made outside the timing).
//!
//! Run: `cargo bench -p keycard-bench --bench verify`; then `cargo run -p keycard-bench --bin
//! bench-table` prints the ratios.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

mod support;
use keycard::{Algorithm, Format, Issuer, KeyRing, NoCustomClaims, Verifier};

fn setup() -> (Arc<KeyRing>, Issuer, Verifier) {
    let keys = Arc::new(KeyRing::new());
    for alg in [Algorithm::V4Public, Algorithm::V4Local, Algorithm::EdDSA] {
        keys.rotate(alg).unwrap();
    }
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    let verifier = Verifier::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    (keys, issuer, verifier)
}

fn b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn secret(key: &keycard::Key) -> Vec<u8> {
    let jwk: serde_json::Value = serde_json::from_str(&key.to_secret_jwk().unwrap()).unwrap();
    b64(jwk[if key.algorithm().is_asymmetric() {
        "d"
    } else {
        "k"
    }]
    .as_str()
    .unwrap())
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct JwtClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    sid: String,
}

fn jwt_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_audience(&["api"]);
    v.set_issuer(&["https://auth.example"]);
    v
}

fn bench_ed25519_raw(c: &mut Criterion) {
    let (keys, issuer, _) = setup();
    let token = issuer.access("alice").mint().unwrap();
    let key = keys.active(Format::Jwt).unwrap();
    let (input, sig) = token.as_str().rsplit_once('.').unwrap();
    let sig = b64(sig);
    let public = key.public_key_bytes().unwrap().to_vec();

    let mut g = c.benchmark_group("ed25519_raw");
    let ring_key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public);
    g.bench_function("ring", |b| {
        b.iter(|| ring_key.verify(black_box(input.as_bytes()), &sig).unwrap())
    });
    let dalek =
        ed25519_dalek::VerifyingKey::from_bytes(&public.clone().try_into().unwrap()).unwrap();
    let dsig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    g.bench_function("dalek", |b| {
        b.iter(|| {
            use ed25519_dalek::Verifier as _;
            dalek.verify(black_box(input.as_bytes()), &dsig).unwrap()
        })
    });
    let compact = ed25519_compact::PublicKey::from_slice(&public).unwrap();
    let csig = ed25519_compact::Signature::from_slice(&sig).unwrap();
    g.bench_function("ed25519_compact", |b| {
        b.iter(|| compact.verify(black_box(input.as_bytes()), &csig).unwrap())
    });
    g.finish();
}

fn bench_jwt(c: &mut Criterion, alg: Algorithm, group: &str) {
    let (keys, issuer, verifier) = setup();
    keys.rotate(alg).unwrap();
    let token = issuer.access("alice").mint().unwrap();
    let token = token.as_str().to_owned();
    let key = keys.active(Format::Jwt).unwrap();
    let (input, sig_b64) = token.rsplit_once('.').unwrap();
    let sig = b64(sig_b64);

    let mut g = c.benchmark_group(group);
    match alg {
        Algorithm::EdDSA => {
            let public: [u8; 32] = key.public_key_bytes().unwrap().try_into().unwrap();
            let dalek = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
            let dsig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
            g.bench_function("raw_signature", |b| {
                b.iter(|| {
                    use ed25519_dalek::Verifier as _;
                    dalek.verify(black_box(input.as_bytes()), &dsig).unwrap()
                })
            });
        }
        Algorithm::HS256 => {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret(&key));
            g.bench_function("raw_signature", |b| {
                b.iter(|| ring::hmac::verify(&k, black_box(input.as_bytes()), &sig).unwrap())
            });
        }
        Algorithm::ES256 => {
            let public = key.public_key_bytes().unwrap().to_vec();
            let k = ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                public,
            );
            g.bench_function("raw_signature", |b| {
                b.iter(|| k.verify(black_box(input.as_bytes()), &sig).unwrap())
            });
        }
        _ => unreachable!(),
    }
    g.bench_function("keycard", |b| {
        b.iter(|| {
            verifier
                .verify_access::<NoCustomClaims>(black_box(&token))
                .unwrap()
        })
    });
    if alg == Algorithm::EdDSA {
        // The full path of target 1: a revocation lookup against 1M live entries included.
        let (list, _) = support::revoked_list(1_000_000);
        let with_list = verifier.clone().with_revocations(Arc::new(list));
        g.bench_function("keycard_with_1m_revocations", |b| {
            b.iter(|| {
                with_list
                    .verify_access::<NoCustomClaims>(black_box(&token))
                    .unwrap()
            })
        });
    }
    let (jalg, dkey) = match alg {
        Algorithm::EdDSA => (
            jsonwebtoken::Algorithm::EdDSA,
            jsonwebtoken::DecodingKey::from_jwk(
                &serde_json::from_str(&key.to_public_jwk().unwrap()).unwrap(),
            )
            .unwrap(),
        ),
        Algorithm::ES256 => (
            jsonwebtoken::Algorithm::ES256,
            jsonwebtoken::DecodingKey::from_jwk(
                &serde_json::from_str(&key.to_public_jwk().unwrap()).unwrap(),
            )
            .unwrap(),
        ),
        _ => (
            jsonwebtoken::Algorithm::HS256,
            jsonwebtoken::DecodingKey::from_secret(&secret(&key)),
        ),
    };
    let validation = jwt_validation(jalg);
    g.bench_function("jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken::decode::<JwtClaims>(black_box(&token), &dkey, &validation).unwrap())
    });
    g.finish();
}

fn bench_jwt_eddsa(c: &mut Criterion) {
    bench_jwt(c, Algorithm::EdDSA, "jwt_eddsa");
}
fn bench_jwt_hs256(c: &mut Criterion) {
    bench_jwt(c, Algorithm::HS256, "jwt_hs256");
}
fn bench_jwt_es256(c: &mut Criterion) {
    bench_jwt(c, Algorithm::ES256, "jwt_es256");
}

fn bench_paseto(c: &mut Criterion) {
    use pasetors::claims::ClaimsValidationRules;
    use pasetors::keys::{AsymmetricPublicKey, SymmetricKey};
    use pasetors::token::UntrustedToken;
    use pasetors::version4::V4;
    use pasetors::{Local, Public};

    let (keys, issuer, verifier) = setup();
    let public = issuer
        .access("alice")
        .format(Format::V4Public)
        .mint()
        .unwrap();
    let public = public.as_str().to_owned();
    let pkey = keys.active(Format::V4Public).unwrap();
    let footer = format!(r#"{{"kid":"{}"}}"#, pkey.kid());
    let mut pfooter = pasetors::footer::Footer::new();
    pfooter.parse_bytes(footer.as_bytes()).unwrap();
    let mut rules = ClaimsValidationRules::new();
    rules.validate_issuer_with("https://auth.example");
    rules.validate_audience_with("api");

    let mut g = c.benchmark_group("v4_public");
    let body = b64(public["v4.public.".len()..].split('.').next().unwrap());
    let (m, sig) = body.split_at(body.len() - 64);
    let mut pae = Vec::new();
    for part in [&b"v4.public."[..], m, footer.as_bytes(), b""] {
        pae.extend_from_slice(&(part.len() as u64).to_le_bytes());
        pae.extend_from_slice(part);
    }
    let pae = [&4u64.to_le_bytes()[..], &pae].concat();
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(
        &pkey.public_key_bytes().unwrap().try_into().unwrap(),
    )
    .unwrap();
    let dsig = ed25519_dalek::Signature::from_slice(sig).unwrap();
    g.bench_function("raw_signature", |b| {
        b.iter(|| {
            use ed25519_dalek::Verifier as _;
            dalek.verify(black_box(&pae), &dsig).unwrap()
        })
    });
    g.bench_function("keycard", |b| {
        b.iter(|| {
            verifier
                .verify_access::<NoCustomClaims>(black_box(&public))
                .unwrap()
        })
    });
    let pk = AsymmetricPublicKey::<V4>::from(pkey.public_key_bytes().unwrap()).unwrap();
    g.bench_function("pasetors", |b| {
        b.iter(|| {
            let untrusted =
                UntrustedToken::<Public, V4>::try_from(black_box(public.as_str())).unwrap();
            pasetors::public::verify(&pk, &untrusted, &rules, Some(&pfooter), None).unwrap()
        })
    });
    g.finish();

    let local = issuer
        .access("alice")
        .format(Format::V4Local)
        .mint()
        .unwrap();
    let local = local.as_str().to_owned();
    let lkey = keys.active(Format::V4Local).unwrap();
    let mut lfooter = pasetors::footer::Footer::new();
    lfooter
        .parse_bytes(format!(r#"{{"kid":"{}"}}"#, lkey.kid()).as_bytes())
        .unwrap();
    let sk = SymmetricKey::<V4>::from(&secret(&lkey)).unwrap();
    let mut g = c.benchmark_group("v4_local");
    g.bench_function("pasetors", |b| {
        b.iter(|| {
            let untrusted =
                UntrustedToken::<Local, V4>::try_from(black_box(local.as_str())).unwrap();
            pasetors::local::decrypt(&sk, &untrusted, &rules, Some(&lfooter), None).unwrap()
        })
    });
    g.bench_function("keycard", |b| {
        b.iter(|| {
            verifier
                .verify_access::<NoCustomClaims>(black_box(&local))
                .unwrap()
        })
    });
    g.finish();
}

fn bench_dpop(c: &mut Criterion) {
    let (keys, _, _) = setup();
    let kc = keycard::Keycard::builder(keys).build().unwrap();
    let client = support::DpopClient::new([7; 32]);
    let url = "https://api.example/orders";
    let bearer = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let bound = kc
        .login_dpop("alice", &NoCustomClaims {}, None, Some(client.jkt()))
        .unwrap();
    let token = bound.access.as_str();
    let mut g = c.benchmark_group("dpop");
    g.bench_function("verify", |b| {
        b.iter(|| black_box(kc.verify::<NoCustomClaims>(black_box(bearer.access.as_str()))))
    });
    let mut i = 0u64;
    g.bench_function("verify_dpop", |b| {
        b.iter_batched(
            || {
                i += 1;
                let now = kc.now().as_unix();
                client.proof(i, "GET", url, now, Some(token))
            },
            |proof| {
                black_box(
                    kc.verify_dpop::<NoCustomClaims>(token, &proof, "GET", url)
                        .unwrap(),
                )
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench_ed25519_raw, bench_jwt_eddsa, bench_jwt_hs256, bench_jwt_es256, bench_paseto,
        bench_dpop
);
criterion_main!(benches);
