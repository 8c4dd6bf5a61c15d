//! Runs one verify path in a loop, for instruction-level profiling:
//! `valgrind --tool=callgrind target/release/examples/profile_verify hs256 20000`.
use std::sync::Arc;

use keycard::{Algorithm, Format, Issuer, KeyRing, NoCustomClaims, Verifier};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "hs256".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    if which == "lookup" {
        let list = keycard::revocation::RevocationList::new();
        let far = keycard::Timestamp::from_unix(4_000_000_000).unwrap();
        for _ in 0..100_000 {
            list.revoke_token(&keycard::TokenId::random(), far).unwrap();
        }
        list.compact().unwrap();
        let fresh: Vec<keycard::TokenId> = (0..1024).map(|_| keycard::TokenId::random()).collect();
        for i in 0..n {
            std::hint::black_box(list.is_token_revoked(&fresh[i & 1023]));
        }
        return;
    }
    let keys = Arc::new(KeyRing::new());
    let (alg, format) = match which.as_str() {
        "eddsa" => (Algorithm::EdDSA, Format::Jwt),
        "v4public" => (Algorithm::V4Public, Format::V4Public),
        "v4local" => (Algorithm::V4Local, Format::V4Local),
        _ => (Algorithm::HS256, Format::Jwt),
    };
    keys.rotate(alg).unwrap();
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    let verifier = Verifier::new(keys)
        .with_issuer("https://auth.example")
        .with_audience("api");
    let token = issuer.access("alice").format(format).mint().unwrap();
    let mint = args.next().as_deref() == Some("mint");
    for _ in 0..n {
        if mint {
            std::hint::black_box(issuer.access("alice").format(format).mint().unwrap());
        } else {
            std::hint::black_box(
                verifier
                    .verify_access::<NoCustomClaims>(token.as_str())
                    .unwrap(),
            );
        }
    }
}
