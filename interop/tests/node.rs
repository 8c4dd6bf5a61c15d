//! Interop with node: tokens node's `jose` signs with RS256, PS256 and ES384 verify under keycard
//! (keys from a JWK Set, verify only); Status List Tokens keycard publishes are read by
//! `@sd-jwt/jwt-status-list` (signature checked by `jose`), and lists that library makes are read
//! by keycard.

use std::sync::Arc;
use std::time::Duration;

use keycard::status::verify_status_list;
use keycard::{Algorithm, KeyRing, Keycard, NoCustomClaims, Verifier};

use crate::harness::Trial;
use crate::node_oracle::node;
use crate::oracle::{Oracle, needs};

pub fn trials() -> Vec<Trial> {
    vec![
        needs(
            Oracle::Node,
            "node::jose_tokens_of_another_issuer_verify",
            jose_tokens_verify,
        ),
        needs(
            Oracle::Node,
            "node::keycard_status_lists_read_by_sd_jwt",
            keycard_lists_read_by_sd_jwt,
        ),
        needs(
            Oracle::Node,
            "node::sd_jwt_status_lists_read_by_keycard",
            sd_jwt_lists_read_by_keycard,
        ),
    ]
}

fn jose_tokens_verify() {
    let out = node(&["foreign-tokens", "https://jose.test", "api"]);
    let ring = Arc::new(KeyRing::new());
    let skipped = ring.add_foreign_jwk_set(&out["jwks"].to_string()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    let v = Verifier::new(ring)
        .with_issuer("https://jose.test")
        .with_audience("api");
    for alg in ["RS256", "PS256", "ES384"] {
        let token = out["tokens"][alg].as_str().unwrap();
        let ok = v.verify_access::<NoCustomClaims>(token);
        assert!(ok.is_ok(), "{alg}: {:?}", ok.err());
        assert_eq!(ok.unwrap().subject(), "alice");
    }
}

fn keycard_lists_read_by_sd_jwt() {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    let kc = Keycard::builder(keys.clone())
        .issuer("https://auth.test")
        .status_list("https://auth.test/statuslists")
        .status_list_ttl(Duration::from_secs(45))
        .build()
        .unwrap();
    let pairs: Vec<_> = (0..6)
        .map(|i| {
            kc.login(&format!("u{i}"), &NoCustomClaims {}, None)
                .unwrap()
        })
        .collect();
    let idx = |p: &keycard::TokenPair| {
        kc.verify::<NoCustomClaims>(p.access.as_str())
            .unwrap()
            .claims()
            .status()
            .unwrap()
            .idx
    };
    let all: Vec<u64> = pairs.iter().map(idx).collect();
    for p in [&pairs[1], &pairs[4]] {
        let v = kc.verify::<NoCustomClaims>(p.access.as_str()).unwrap();
        kc.logout(&v).unwrap();
    }
    let token = kc.status_list_token().unwrap();
    let uri = kc.status_list_uri().unwrap();
    let mut args = vec![
        "read-list".to_owned(),
        token,
        keys.public_jwks(),
        uri.to_owned(),
    ];
    args.extend(all.iter().map(u64::to_string));
    let out = node(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out["typ"], "statuslist+jwt");
    assert_eq!(out["ttl"], 45);
    assert_eq!(out["bits"], 1);
    let statuses: Vec<u64> = out["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [0, 1, 0, 0, 1, 0]);
}

fn sd_jwt_lists_read_by_keycard() {
    let uri = "https://lists.test/statuslists/7";
    for (bits, statuses) in [
        (
            "1",
            vec![
                "1", "0", "0", "1", "1", "1", "0", "1", "1", "1", "0", "0", "0", "1", "0", "1",
            ],
        ),
        ("2", vec!["0", "1", "2", "3", "0", "0", "2"]),
        ("8", vec!["0", "255", "7"]),
    ] {
        let mut args = vec!["make-list", "https://lists.test", uri, bits];
        args.extend(statuses.iter().copied());
        let out = node(&args);
        let ring = Arc::new(KeyRing::new());
        ring.add_foreign_jwk_set(&out["jwks"].to_string()).unwrap();
        let v = Verifier::new(ring);
        let list = verify_status_list(&v, out["token"].as_str().unwrap(), uri, 1 << 20).unwrap();
        assert_eq!(list.bits.bits().to_string(), bits);
        for (i, want) in statuses.iter().enumerate() {
            assert_eq!(
                list.bits.get(i as u64).map(|s| s.to_string()),
                Some((*want).to_owned()),
                "bits {bits}, index {i}"
            );
        }
        assert_eq!(list.ttl, Some(Duration::from_secs(60)));
        // Read for another URI, the same list is refused.
        assert!(
            verify_status_list(
                &v,
                out["token"].as_str().unwrap(),
                "https://lists.test/other",
                1 << 20
            )
            .is_err()
        );
    }
}
