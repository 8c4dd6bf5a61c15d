//! Status List Tokens (feature `status-list`): what keycard mints, and the hostile lists a
//! verifier must refuse, each beside its positive control.

use std::time::Duration;

use keycard::status::{StatusBits, mint_status_list, verify_status_list};
use keycard::{Clock, Format};
use serde_json::{Value, json};

use crate::common::*;

const URI: &str = "https://auth.test/statuslists/1";

fn header(f: &Fixture) -> (std::sync::Arc<keycard::Key>, Value) {
    let key = active(f, Format::Jwt);
    let h =
        json!({"alg": key.algorithm().name(), "kid": key.kid().as_str(), "typ": "statuslist+jwt"});
    (key, h)
}

fn claims(f: &Fixture, lst: &str) -> Value {
    let now = f.clock.now().as_unix();
    json!({"sub": URI, "iat": now, "exp": now + 120, "ttl": 30, "status_list": {"bits": 1, "lst": lst}})
}

fn check(f: &Fixture, token: &str) -> Result<Vec<u8>, &'static str> {
    verify_status_list(&f.verifier, token, URI, 1 << 20)
        .map(|l| l.bits.as_bytes().to_vec())
        .map_err(|e| e.kind())
}

#[test]
fn minted_lists_verify_and_say_what_they_hold() {
    let f = fixture();
    let bits = StatusBits::new(1, vec![0b0000_0100, 0, 0x80]).unwrap();
    let key = active(&f, Format::Jwt);
    let t = mint_status_list(
        &key,
        Some("https://auth.test"),
        URI,
        &bits,
        f.clock.now(),
        Duration::from_secs(30),
        Duration::from_secs(120),
    )
    .unwrap();
    let seen = keycard::dangerous::inspect_unverified(&t).unwrap();
    assert_eq!(seen.header["typ"], "statuslist+jwt");
    let c = seen.claims.unwrap();
    assert_eq!(
        (c["sub"].as_str(), c["ttl"].as_u64()),
        (Some(URI), Some(30))
    );
    assert_eq!(c["status_list"]["bits"], 1);
    let list = verify_status_list(&f.verifier, &t, URI, 1 << 20).unwrap();
    assert_eq!(
        (list.bits.get(2), list.bits.get(3), list.bits.get(23)),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(list.ttl, Some(Duration::from_secs(30)));
    // Never with a key that cannot sign, nor a PASETO key.
    let public = key.to_public().unwrap();
    assert!(
        mint_status_list(
            &public,
            None,
            URI,
            &bits,
            f.clock.now(),
            Duration::from_secs(30),
            Duration::from_secs(60)
        )
        .is_err()
    );
    let v4 = active(&f, Format::V4Public);
    assert!(
        mint_status_list(
            &v4,
            None,
            URI,
            &bits,
            f.clock.now(),
            Duration::from_secs(30),
            Duration::from_secs(60)
        )
        .is_err()
    );
}

#[test]
fn hostile_lists_are_refused() {
    let f = fixture();
    let (key, h) = header(&f);
    let good_lst = StatusBits::new(1, vec![1, 2, 3]).unwrap().to_lst().unwrap();
    let control = jwt(&key, &h, &claims(&f, &good_lst));
    assert_eq!(check(&f, &control), Ok(vec![1, 2, 3]));

    let mut cases: Vec<(&str, &str, String)> = Vec::new();
    let mut flipped = control.clone().into_bytes();
    let at = flipped.len() - 5;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    cases.push((
        "a bad signature",
        "bad_signature",
        String::from_utf8(flipped).unwrap(),
    ));
    let mut c = claims(&f, &good_lst);
    c["sub"] = json!("https://auth.test/statuslists/2");
    cases.push(("another list's sub", "malformed", jwt(&key, &h, &c)));
    let mut c = claims(&f, &good_lst);
    c.as_object_mut().unwrap().remove("sub");
    cases.push(("no sub", "missing_claim", jwt(&key, &h, &c)));
    cases.push((
        "an access token's typ",
        "wrong_token_type",
        jwt(&key, &access_header(&key), &claims(&f, &good_lst)),
    ));
    let mut c = claims(&f, &good_lst);
    c["exp"] = json!(f.clock.now().as_unix() - 3600);
    cases.push(("expired", "expired", jwt(&key, &h, &c)));
    let mut c = claims(&f, &good_lst);
    c["iat"] = json!(f.clock.now().as_unix() + 3600);
    cases.push((
        "issued in the future",
        "issued_in_future",
        jwt(&key, &h, &c),
    ));
    let truncated = &good_lst[..good_lst.len() - 3];
    cases.push((
        "truncated compressed data",
        "malformed",
        jwt(&key, &h, &claims(&f, truncated)),
    ));
    let bomb = StatusBits::new(1, vec![0; 32 << 20])
        .unwrap()
        .to_lst()
        .unwrap();
    cases.push(("a zip bomb", "malformed", jwt(&key, &h, &claims(&f, &bomb))));
    let mut c = claims(&f, &good_lst);
    c["status_list"]["bits"] = json!(3);
    cases.push(("3 bits per status", "malformed", jwt(&key, &h, &c)));
    let mut c = claims(&f, &good_lst);
    c["status_list"]["lst"] = json!(12);
    cases.push(("lst not a string", "malformed", jwt(&key, &h, &c)));
    let mut hk = h.clone();
    hk["kid"] = json!("nobody");
    cases.push((
        "an unknown key",
        "unknown_key",
        jwt(&key, &hk, &claims(&f, &good_lst)),
    ));
    let mut ha = h.clone();
    ha["alg"] = json!("none");
    cases.push((
        "alg none",
        "algorithm_mismatch",
        format!(
            "{}.{}.",
            b64(ha.to_string().as_bytes()),
            b64(claims(&f, &good_lst).to_string().as_bytes())
        ),
    ));
    cases.push((
        "a PASETO token",
        "unsupported_format",
        "v4.public.AAAA".into(),
    ));
    cases.push(("far too large", "token_too_large", "a".repeat(3 << 20)));
    for (what, want, token) in &cases {
        assert_eq!(check(&f, token), Err(*want), "{what}");
    }
}
