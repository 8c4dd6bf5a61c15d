//! Minting next to verifying, per format, in one run: mint should cost at most 0.6x the full
//! verify of the same format (keys are parsed once, when they enter the ring).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use keycard::{Algorithm, Format, Issuer, KeyRing, Kid, NoCustomClaims, Verifier};

fn bench_mint(c: &mut Criterion) {
    let keys = Arc::new(KeyRing::new());
    let mut kids: Vec<(&str, Format, Kid)> = Vec::new();
    for (alg, name) in [
        (Algorithm::HS256, "jwt_hs256"),
        (Algorithm::ES256, "jwt_es256"),
        (Algorithm::EdDSA, "jwt_eddsa"),
        (Algorithm::V4Public, "v4_public"),
        (Algorithm::V4Local, "v4_local"),
    ] {
        let kid = keys.rotate(alg).unwrap();
        kids.push((name, alg.format(), kid));
    }
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    let verifier = Verifier::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    for (name, format, kid) in &kids {
        let token = issuer
            .access("alice")
            .format(*format)
            .kid(kid)
            .mint()
            .unwrap();
        let mut g = c.benchmark_group(format!("mint_{name}"));
        g.bench_function("verify", |b| {
            b.iter(|| {
                verifier
                    .verify_access::<NoCustomClaims>(black_box(token.as_str()))
                    .unwrap()
            })
        });
        if *name == "jwt_eddsa" {
            // The primitive's own sign/verify ratio: the floor for the mint/verify ratio.
            use ed25519_dalek::{Signer as _, Verifier as _};
            let jwk: serde_json::Value =
                serde_json::from_str(&keys.get(kid.as_str()).unwrap().to_secret_jwk().unwrap())
                    .unwrap();
            use base64::Engine as _;
            let seed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwk["d"].as_str().unwrap())
                .unwrap();
            let sk = ed25519_dalek::SigningKey::from_bytes(&seed.try_into().unwrap());
            let vk = sk.verifying_key();
            let (input, _) = token.as_str().rsplit_once('.').unwrap();
            let sig = sk.sign(input.as_bytes());
            g.bench_function("raw_sign", |b| {
                b.iter(|| sk.sign(black_box(input.as_bytes())))
            });
            g.bench_function("raw_verify", |b| {
                b.iter(|| vk.verify(black_box(input.as_bytes()), &sig).unwrap())
            });
        }
        g.bench_function("mint", |b| {
            b.iter(|| {
                issuer
                    .access(black_box("alice"))
                    .format(*format)
                    .kid(kid)
                    .mint()
                    .unwrap()
            })
        });
        g.finish();
    }
}

criterion_group!(
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench_mint
);
criterion_main!(benches);
