//! Entry points for the fuzz targets in `fuzz/` and for the corpus replay in `cargo test`.
//!
//! Not part of the API (hidden from the docs, no stability promise). Each function takes the raw
//! fuzzer input, must never panic on it, and asserts the target's invariants beyond "no panic":
//! - every error has a kind listed in [`Error::KINDS`];
//! - a token that verifies verifies again to the same claims, and its claims re-serialize;
//! - an imported key exports and re-imports to the same kid, algorithm and public key.
//!
//! The key ring is deterministic (fixed seeds) and the clock fixed, so the committed seed corpus
//! of valid tokens stays valid forever and the fuzzer starts past the signature check.

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::clock::{ManualClock, Timestamp};
use crate::encoding::b64;
use crate::error::Error;
use crate::keys::{Algorithm, Format, Key, KeyRing};
use crate::{Issuer, Verifier};

/// The fuzzing clock: 2027-01-15T08:00:00Z.
pub const NOW: i64 = 1_800_000_000;

/// The fixed key ring, issuer and verifier the targets use.
pub struct Fixture {
    /// Keys: EdDSA (active JWT), ES256, HS256, v4.public, v4.local and the refresh-token key,
    /// from fixed seeds.
    pub keys: Arc<KeyRing>,
    /// Mints with `iss` `https://fuzz.test` and `aud` `api`.
    pub issuer: Issuer,
    /// Requires that `iss` and `aud`.
    pub verifier: Verifier,
}

fn fixed_jwk(alg: Algorithm, kid: &str, fill: u8) -> String {
    let k = b64::encode(&[fill; 32]);
    match alg {
        Algorithm::EdDSA | Algorithm::V4Public => {
            let m = crate::keys::material::Material::ed25519_from_seed(&[fill; 32]);
            let x = b64::encode(m.public_bytes().unwrap_or_default());
            let kid = if alg == Algorithm::V4Public {
                String::new()
            } else {
                format!(r#","kid":"{kid}""#)
            };
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","alg":"{}","x":"{x}","d":"{k}"{kid}}}"#,
                alg.name()
            )
        }
        Algorithm::HS256 => format!(r#"{{"kty":"oct","alg":"HS256","kid":"{kid}","k":"{k}"}}"#),
        Algorithm::V4Local => format!(r#"{{"kty":"oct","alg":"v4.local","k":"{k}"}}"#),
        // Verify-only algorithms have no secret to fix: the fixture takes their public keys
        // from the foreign test vectors (`FOREIGN_JWKS`).
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES384 => String::new(),
        Algorithm::ES256 => {
            // A fixed P-256 key pair (d, x, y), generated once with keycard and kept here.
            format!(
                r#"{{"kty":"EC","crv":"P-256","alg":"ES256","kid":"{kid}","d":"{}","x":"{}","y":"{}"}}"#,
                "QpPP9DRKSn671xieQGu-hkdTpn-jjTNp3iyFRfiYvQY",
                "eTwzwWNRC1rQS2XCs1lQ-OFtl5HTuA7HKJ2LWIaMRfY",
                "PV-VwgaxCA2a4USMHeTPm5T3PR6IRjbibb2KYBZ8c9I"
            )
        }
    }
}

/// The identity-provider test vectors: a JWK Set (RS256, PS256, ES384 public keys) and tokens
/// PyJWT signed with them.
pub const FOREIGN_VECTORS: &str = include_str!("../tests/vectors/foreign/idp.json");

/// The JWK Set of [`FOREIGN_VECTORS`].
pub fn foreign_jwks() -> String {
    serde_json::from_str::<Value>(FOREIGN_VECTORS)
        .map(|v| v["jwks"].to_string())
        .unwrap_or_default()
}

/// The shared fixture, built once.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let clock = Arc::new(ManualClock::new(
            Timestamp::from_unix(NOW).unwrap_or(Timestamp::EPOCH),
        ));
        let keys = Arc::new(KeyRing::new().with_clock(clock));
        let add = |alg, kid, fill| {
            if let Ok(key) = Key::from_jwk(&fixed_jwk(alg, kid, fill)) {
                let _ = keys.add_active(key);
            }
        };
        add(Algorithm::ES256, "fuzz-es256", 0);
        add(Algorithm::HS256, "fuzz-hs256", 2);
        add(Algorithm::EdDSA, "fuzz-eddsa", 1);
        add(Algorithm::V4Public, "", 3);
        add(Algorithm::V4Local, "", 4);
        let refresh_key = format!(
            r#"{{"kty":"oct","alg":"v4.local","keycard_purpose":"refresh","k":"{}"}}"#,
            b64::encode(&[5; 32])
        );
        if let Ok(key) = Key::from_jwk(&refresh_key) {
            let _ = keys.add_active(key);
        }
        // Another issuer's keys (RS256, PS256, ES384), so mutated tokens reach RSA and P-384.
        let _ = keys.add_foreign_jwk_set(&foreign_jwks());
        let issuer = Issuer::new(keys.clone())
            .with_issuer("https://fuzz.test")
            .with_audience("api");
        let verifier = Verifier::new(keys.clone())
            .with_issuer("https://fuzz.test")
            .with_audience("api");
        Fixture {
            keys,
            issuer,
            verifier,
        }
    })
}

fn assert_kind(e: &Error) {
    assert!(
        Error::KINDS.contains(&e.kind()),
        "unlisted kind {}",
        e.kind()
    );
}

/// Verifies `token` as an access and as a refresh token; checks the invariants.
pub fn verify_str(token: &str) {
    let f = fixture();
    for refresh in [false, true] {
        let first = if refresh {
            f.verifier
                .verify_refresh::<Map<String, Value>>(token)
                .map(|v| (v.format(), v.into_claims()))
        } else {
            f.verifier
                .verify_access::<Map<String, Value>>(token)
                .map(|v| (v.format(), v.into_claims()))
        };
        match first {
            Err(e) => assert_kind(&e),
            Ok((format, claims)) => {
                let again = if refresh {
                    f.verifier
                        .verify_refresh::<Map<String, Value>>(token)
                        .map(|v| v.into_claims())
                } else {
                    f.verifier
                        .verify_access::<Map<String, Value>>(token)
                        .map(|v| v.into_claims())
                };
                assert_eq!(
                    again.as_ref().ok(),
                    Some(&claims),
                    "verification is deterministic"
                );
                let json = claims.to_json_value(format);
                assert!(json.is_ok(), "verified claims re-serialize");
            }
        }
    }
}

/// Target `verify`: any bytes as a token of any format.
pub fn verify(data: &[u8]) {
    if let Ok(token) = std::str::from_utf8(data) {
        verify_str(token);
    }
}

/// Target `detect`: the format decision alone, plus unverified inspection.
pub fn detect(data: &[u8]) {
    if let Ok(token) = std::str::from_utf8(data) {
        if let Err(e) = crate::format::detect(token) {
            assert_kind(&e);
        }
        match crate::dangerous::inspect_unverified(token) {
            Err(e) => assert_kind(&e),
            Ok(i) => assert_eq!(Ok(i.format), crate::format::detect(token)),
        }
    }
}

/// Target `v4_public`: bytes after a fixed `v4.public.` prefix.
pub fn v4_public(data: &[u8]) {
    if let Ok(rest) = std::str::from_utf8(data) {
        verify_str(&format!("v4.public.{rest}"));
    }
}

/// Target `v4_local`: bytes after a fixed `v4.local.` prefix.
pub fn v4_local(data: &[u8]) {
    if let Ok(rest) = std::str::from_utf8(data) {
        verify_str(&format!("v4.local.{rest}"));
    }
}

/// Splits fuzzer input into a selector byte and two byte strings (the second after the first
/// `0xff` byte, which never occurs in UTF-8).
fn split(data: &[u8]) -> (u8, &[u8], &[u8]) {
    let (sel, rest) = data.split_first().map_or((0, &[][..]), |(s, r)| (*s, r));
    match rest.iter().position(|b| *b == 0xff) {
        Some(i) => (sel, &rest[..i], &rest[i + 1..]),
        None => (sel, rest, &[]),
    }
}

/// Target `signed`: a header (JWT) or footer (PASETO) and a payload taken from the input, signed
/// or encrypted with the fixture's real keys, so the fuzzer explores the claims checks.
pub fn signed(data: &[u8]) {
    let f = fixture();
    let (sel, head, payload) = split(data);
    let kind = if sel & 0x80 == 0 {
        crate::claims::TokenType::Access
    } else {
        crate::claims::TokenType::Refresh
    };
    let token = match sel % 4 {
        0 | 1 => {
            let Some(key) = f.keys.get(if sel % 4 == 0 {
                "fuzz-eddsa"
            } else {
                "fuzz-hs256"
            }) else {
                return;
            };
            let mut out = b64::encode(head);
            out.push('.');
            out.push_str(&b64::encode(payload));
            let Ok(sig) = key.material().sign(&[out.as_bytes()]) else {
                return;
            };
            out.push('.');
            out.push_str(&b64::encode(sig.as_bytes()));
            out
        }
        2 => {
            let Some(key) = f.keys.active(Format::V4Public) else {
                return;
            };
            let Ok(t) = crate::format::paseto::seal_public_raw(&key, kind, payload, head) else {
                return;
            };
            t
        }
        _ => {
            let Some(key) = f.keys.active(Format::V4Local) else {
                return;
            };
            let Ok(t) = crate::format::paseto::seal_local_raw(&key, kind, payload, head) else {
                return;
            };
            t
        }
    };
    verify_str(&token);
}

/// Target `jwk`: a JWK or a JWK Set.
pub fn jwk(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Key::from_jwk(text) {
        Err(e) => assert_kind(&e),
        Ok(key) => key_round_trips(&key),
    }
    match KeyRing::from_jwk_set(text) {
        Err(e) => assert_kind(&e),
        Ok(ring) => {
            let again = KeyRing::from_jwk_set(&ring.to_secret_jwk_set());
            assert_eq!(again.map(|r| r.statuses()).ok(), Some(ring.statuses()));
            let public = ring.public_jwks();
            assert!(!public.contains("\"d\"") && !public.contains("\"k\""));
        }
    }
}

/// Target `paserk`: a PASERK string.
pub fn paserk(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Key::from_paserk(text) {
        Err(e) => assert_kind(&e),
        Ok(key) => {
            key_round_trips(&key);
            let back = match key.to_paserk_secret() {
                Some(s) => Key::from_paserk(&s),
                None => Key::from_paserk(&key.to_paserk_public().unwrap_or_default()),
            };
            assert_eq!(back.ok().map(|k| k.kid().clone()), Some(key.kid().clone()));
        }
    }
}

fn key_round_trips(key: &Key) {
    let text = match key.to_secret_jwk() {
        Some(s) => s.to_string(),
        None => key.to_public_jwk().unwrap_or_default(),
    };
    let back = Key::from_jwk(&text);
    assert!(back.is_ok(), "an imported key re-imports");
    if let Ok(back) = back {
        assert_eq!(back.kid(), key.kid());
        assert_eq!(back.algorithm(), key.algorithm());
        assert_eq!(back.public_key_bytes(), key.public_key_bytes());
        assert_eq!(back.has_secret(), key.has_secret());
    }
}

/// Target `revocation`: a revocation snapshot or delta, taken as it is and with its checksum
/// repaired (a mutation almost always breaks the checksum; repairing it lets the fuzzer reach the
/// header, count and entry checks behind it). Decoding then re-encoding gives back the same bytes
/// (the format is canonical), and a decoded delta applies to a list of its lineage.
pub fn revocation(data: &[u8]) {
    use crate::revocation::codec;
    revocation_once(data);
    if let Some(body_len) = data.len().checked_sub(codec::CHECKSUM) {
        let mut repaired = data[..body_len].to_vec();
        repaired.extend_from_slice(&codec::checksum(&repaired));
        revocation_once(&repaired);
    }
}

fn revocation_once(data: &[u8]) {
    use crate::revocation::codec;
    // Portable batches (what the Redis store replicates): what decodes re-encodes to itself,
    // and applies to a list.
    match crate::revocation::Revoke::decode_batch(data) {
        Err(e) => assert_kind(&e),
        Ok(batch) => {
            let again = crate::revocation::Revoke::encode_batch(&batch);
            assert_eq!(
                crate::revocation::Revoke::decode_batch(&again).ok(),
                Some(batch.clone())
            );
            let list = crate::revocation::RevocationList::new();
            for r in &batch {
                assert!(list.revoke(r).is_ok());
            }
        }
    }
    match codec::decode_snapshot(data) {
        Err(e) => assert_kind(&e),
        Ok(s) => {
            // What decodes re-encodes to the same snapshot (keys are normalized on decode, so
            // the comparison is of the decoded form).
            let again = codec::encode_snapshot(&s.hash_key, s.margin, &s.entries);
            let back = codec::decode_snapshot(&again).ok();
            assert_eq!(
                back.map(|b| (b.hash_key, b.margin, b.entries)),
                Some((s.hash_key, s.margin, s.entries))
            );
            let list = crate::revocation::RevocationList::from_snapshot(data);
            assert!(list.is_ok());
        }
    }
    let lineage = crate::revocation::RevocationList::from_snapshot(&codec::encode_snapshot(
        &[7; 16],
        300,
        &[],
    ));
    if let Ok(list) = lineage {
        match codec::decode_delta(&[7; 16], data) {
            Err(e) => assert_kind(&e),
            Ok(entries) => {
                let again = codec::encode_delta(&[7; 16], &entries);
                assert_eq!(
                    codec::decode_delta(&[7; 16], &again).ok(),
                    Some(entries.clone())
                );
                assert_eq!(list.apply_delta(data).ok(), Some(entries.len()));
            }
        }
    }
}

/// A fuzz target: raw input in, panics on a broken invariant.
pub type Target = fn(&[u8]);

/// The family the `refresh` target redeems tokens against: generation 1, rotated 5 s ago.
fn refresh_family() -> crate::refresh::Family {
    let at = |d: i64| Timestamp::from_unix(NOW + d).unwrap_or(Timestamp::EPOCH);
    crate::refresh::Family {
        sid: crate::SessionId::new("fuzz-session").unwrap_or_else(crate::SessionId::random),
        sub: "alice".into(),
        generation: 1,
        created: at(-100),
        rotated_at: at(-5),
        idle_deadline: at(1795),
        absolute_deadline: at(86_000),
        auth_time: at(-100),
        claims: Map::new(),
        context: Default::default(),
        status: None,
        dpop_jkt: None,
    }
}

/// A refresh token of the `refresh` target's family at `generation` (for the seed corpus).
pub fn refresh_seed(generation: u64) -> String {
    let f = fixture();
    let mut family = refresh_family();
    family.generation = generation;
    let token = f
        .issuer
        .refresh(&family.sub)
        .claims(&crate::refresh::RefreshClaims { g: generation })
        .session(family.sid.clone())
        .fixed(
            crate::refresh::refresh_token_id(&family.sid, generation),
            family.rotated_at,
            family.idle_deadline,
        )
        .mint();
    token.map(|t| t.into_string()).unwrap_or_default()
}

/// Target `refresh`: a refresh token redeemed against a fresh store holding one family. The
/// outcome must follow the rotation rules: the current generation rotates, the previous one is
/// a tolerated retry, anything else is an error with a kind; a success returns a pair of the
/// same session whose refresh token verifies as a refresh token.
pub fn refresh(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let f = fixture();
    let clock: crate::clock::SharedClock = Arc::new(ManualClock::new(
        Timestamp::from_unix(NOW).unwrap_or(Timestamp::EPOCH),
    ));
    let list = crate::revocation::RevocationList::new().with_clock(clock.clone());
    let store = Arc::new(crate::stores::MemoryStore::with_revocations(Arc::new(list)));
    let family = refresh_family();
    if pollster::block_on(crate::refresh::SessionStore::insert(&*store, &family, None)).is_err() {
        return;
    }
    let Ok(kc) = crate::Keycard::builder(f.keys.clone())
        .store(store.clone())
        .clock(clock)
        .issuer("https://fuzz.test")
        .audience("api")
        .build()
    else {
        return;
    };
    match kc.refresh(token, None) {
        Err(e) => assert_kind(&e),
        Ok(pair) => {
            assert_eq!(pair.session, family.sid);
            let stored = pollster::block_on(crate::refresh::SessionStore::get(
                &*store,
                &family.sub,
                &family.sid,
            ));
            let generation = stored.ok().flatten().map(|f| f.generation);
            assert!(
                matches!(generation, Some(1 | 2)),
                "rotation moves one step at most"
            );
            let again = kc
                .verifier()
                .verify_refresh::<crate::refresh::RefreshClaims>(pair.refresh.as_str());
            assert_eq!(again.map(|v| v.claims().custom().g).ok(), generation);
        }
    }
}

/// Every target by name, for the corpus replay and the seed writer.
pub const TARGETS: &[(&str, Target)] = &[
    ("verify", verify),
    ("detect", detect),
    ("v4_public", v4_public),
    ("v4_local", v4_local),
    ("signed", signed),
    ("jwk", jwk),
    ("paserk", paserk),
    ("revocation", revocation),
    ("refresh", refresh),
    #[cfg(feature = "status-list")]
    ("status_list", status_list),
    ("dpop", dpop),
];

/// The request the `dpop` target's proofs are checked for: `GET` this URL, with this access
/// token (for `ath`), at the fuzzing clock.
pub const DPOP_REQUEST: (&str, &str, &str) = ("GET", "https://fuzz.test/resource", "fuzz-token");

/// Checks `data` as a DPoP proof for [`DPOP_REQUEST`], with and without server nonces, and as a
/// URL to normalize. Invariants: a typed error or a proof whose thumbprint is a base64url
/// SHA-256; the same answer twice; normalizing is idempotent and keeps no query or fragment.
pub fn dpop(data: &[u8]) {
    use crate::dpop::{Nonces, ProofChecker, ProofRequest, normalize_url};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (method, url, token) = DPOP_REQUEST;
    let request = ProofRequest {
        method,
        url,
        access_token: Some(token),
    };
    let now = Timestamp::from_unix(NOW).unwrap_or(Timestamp::EPOCH);
    let plain = ProofChecker::default();
    let nonced = ProofChecker::default().with_nonces(Some(Nonces::new(
        b"fuzz",
        std::time::Duration::from_secs(60),
    )));
    for checker in [&plain, &nonced] {
        match checker.check(text, &request, now) {
            Err(e) => {
                assert_kind(&e);
                assert!(matches!(
                    e,
                    Error::InvalidDpopProof(_) | Error::UseDpopNonce { .. }
                ));
            }
            Ok(proof) => {
                assert_eq!(proof.jkt.len(), 43);
                assert!(!proof.jti.is_empty());
                assert_eq!(checker.check(text, &request, now).ok(), Some(proof));
            }
        }
    }
    if let Some(n) = normalize_url(text) {
        assert!(!n.contains('?') && !n.contains('#'));
        assert_eq!(normalize_url(&n).as_deref(), Some(n.as_str()));
    }
}

/// The URI the `status_list` target's lists are read for.
#[cfg(feature = "status-list")]
pub const STATUS_LIST_URI: &str = "https://fuzz.test/statuslists/1";

/// Target `status_list`: a Status List Token (JWT), read for [`STATUS_LIST_URI`] with the fixed
/// keys; and the same bytes as a `lst` of 1, 2, 4 or 8 bits (the first byte picks). A list that
/// verifies has the statuses it says, within the size bound, and reads again the same.
#[cfg(feature = "status-list")]
pub fn status_list(data: &[u8]) {
    use crate::status::{StatusBits, verify_status_list};
    let limit = 1 << 16;
    if let Ok(text) = std::str::from_utf8(data) {
        match verify_status_list(&fixture().verifier, text, STATUS_LIST_URI, limit) {
            Err(e) => assert_kind(&e),
            Ok(list) => {
                assert!(list.bits.as_bytes().len() <= limit);
                let again = verify_status_list(&fixture().verifier, text, STATUS_LIST_URI, limit);
                assert_eq!(again.ok().map(|l| l.bits), Some(list.bits));
            }
        }
        let bits = [1, 2, 4, 8][usize::from(data.first().copied().unwrap_or(0) % 4)];
        match StatusBits::from_lst(bits, text.get(1..).unwrap_or(""), limit) {
            Err(e) => assert_kind(&e),
            Ok(list) => {
                assert!(list.as_bytes().len() <= limit);
                let n = list.len() as u64;
                assert!(n == 0 || list.get(n - 1).is_some());
                assert_eq!(list.get(n), None);
                let round = StatusBits::from_lst(bits, &list.to_lst().unwrap_or_default(), limit);
                assert_eq!(round.ok(), Some(list));
            }
        }
    }
}
