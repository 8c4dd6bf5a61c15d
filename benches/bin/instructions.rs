//! Instruction counts per operation under valgrind's callgrind: repeatable on a noisy machine,
//! where wall-clock ratios drift by ±15% between runs.
//!
//! `cargo run --release -p keycard-bench --bin instructions` runs every operation under
//! `valgrind --tool=callgrind` twice (0 and N iterations), subtracts, and prints instructions per
//! operation and the ratio to the raw primitive. `… --bin instructions -- MODE N` runs one
//! operation N times (what the table runs under valgrind).

#[path = "../../tests/common/http_server.rs"]
mod http_server;
#[path = "../support/mod.rs"]
mod support;

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;

use keycard::revocation::RevocationList;
use keycard::{Algorithm, Format, Issuer, KeyRing, NoCustomClaims, Timestamp, TokenId, Verifier};

/// (mode, what it is, baseline mode).
const MODES: &[(&str, &str, &str)] = &[
    (
        "raw_eddsa",
        "Ed25519 verify of the JWT signing input (ed25519-dalek)",
        "raw_eddsa",
    ),
    (
        "verify_eddsa",
        "keycard full verify, JWT EdDSA",
        "raw_eddsa",
    ),
    (
        "verify_eddsa_1m",
        "… with a 1M-entry revocation list",
        "raw_eddsa",
    ),
    (
        "verify_eddsa_cached",
        "… a token verified before, with Verifier::with_cache (every check but the signature)",
        "raw_eddsa",
    ),
    (
        "verify_eddsa_remote",
        "… keys from a remote JWK Set (RemoteJwks, warm cache; verify_access_async)",
        "raw_eddsa",
    ),
    (
        "verify_eddsa_status",
        "… and a Token Status List check (StatusListClient, list cached)",
        "verify_eddsa_remote",
    ),
    (
        "jsonwebtoken_eddsa",
        "jsonwebtoken 11 decode + validate, EdDSA (rust_crypto)",
        "raw_eddsa",
    ),
    ("mint_eddsa", "keycard mint, JWT EdDSA", "verify_eddsa"),
    (
        "raw_hs256",
        "HMAC-SHA-256 of the JWT signing input (ring)",
        "raw_hs256",
    ),
    (
        "verify_hs256",
        "keycard full verify, JWT HS256",
        "raw_hs256",
    ),
    (
        "jsonwebtoken_hs256",
        "jsonwebtoken 11 decode + validate, HS256 (rust_crypto)",
        "raw_hs256",
    ),
    ("mint_hs256", "keycard mint, JWT HS256", "verify_hs256"),
    (
        "verify_v4public",
        "keycard full verify, v4.public",
        "raw_eddsa",
    ),
    (
        "raw_es256",
        "ECDSA P-256 verify of the JWT signing input (ring)",
        "raw_es256",
    ),
    (
        "verify_es256",
        "keycard full verify, JWT ES256",
        "raw_es256",
    ),
    (
        "pasetors_v4local",
        "pasetors v4.local decrypt + claims validation",
        "pasetors_v4local",
    ),
    (
        "verify_v4local",
        "keycard full verify, v4.local",
        "pasetors_v4local",
    ),
    (
        "mint_verify_eddsa",
        "keycard mint + verify of one JWT EdDSA access token",
        "mint_verify_eddsa",
    ),
    (
        "refresh_eddsa",
        "keycard refresh (open the sealed refresh token, rotate on the memory store, mint both)",
        "mint_verify_eddsa",
    ),
    (
        "verify_keycard",
        "Keycard::verify of a bearer session's access token (JWT EdDSA, memory store)",
        "raw_eddsa",
    ),
    (
        "verify_dpop",
        "Keycard::verify_dpop: the same token DPoP-bound, with its proof (Ed25519, ath, one-time use)",
        "verify_keycard",
    ),
    (
        "lookup_1m",
        "revocation lookup, id not revoked, 1M entries",
        "lookup_1m",
    ),
];

struct Fixture {
    verifier: Verifier,
    issuer: Issuer,
    token: String,
    key: Arc<keycard::Key>,
}

/// 2027-01-15T08:00:00Z: the fixed "now" of every fixture.
const NOW: i64 = 1_800_000_000;

/// The public point of the fixed P-256 key (d = 32 bytes of 42), and a token it signed once (the
/// same header and claims as the other fixed JWTs).
const ES256_X: &str = "DJAdQjyDHKheJ8c8JjuhMnIbudeoTE8DgLKmdW_WATM";
const ES256_Y: &str = "HIhwI03sh4UEwXQUT6SxS2amUWkWBtgXPlW9N-OBVp4";
const ES256_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImZpeGVkIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsInN1YiI6ImFsaWNlIiwiYXVkIjoiYXBpIiwiZXhwIjoxODAwMDAwMzAwLCJuYmYiOjE4MDAwMDAwMDAsImlhdCI6MTgwMDAwMDAwMCwianRpIjoiQUFFQ0F3UUZCZ2NJQ1FvTERBME9EdyIsInNpZCI6IkVCRVNFeFFWRmhjWUdSb2JIQjBlSHcifQ.krJEqE4tGe7bhBtfRxN36YEn1kHidrp3G_ThVqqs7SlQjWJBPBORIOURR6vXwYJcm2DiDyVwt7vBKfAzs3WwgQ";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A fixed key, a fixed clock and a fixed token: the raw and keycard modes verify the very same
/// bytes with the very same key, so their instruction counts compare exactly (Ed25519
/// verification's cost depends on the signature).
fn fixture(alg: Algorithm, list: Option<Arc<RevocationList>>) -> Fixture {
    let clock = Arc::new(keycard::ManualClock::new(
        Timestamp::from_unix(NOW).unwrap(),
    ));
    let keys = Arc::new(KeyRing::new().with_clock(clock));
    let jwk = match alg {
        Algorithm::HS256 => format!(
            r#"{{"kty":"oct","alg":"HS256","kid":"fixed","k":"{}"}}"#,
            b64(&[42; 32])
        ),
        Algorithm::ES256 => format!(
            r#"{{"kty":"EC","crv":"P-256","alg":"ES256","kid":"fixed","d":"{}","x":"{ES256_X}","y":"{ES256_Y}"}}"#,
            b64(&[42; 32])
        ),
        Algorithm::V4Local => format!(
            r#"{{"kty":"oct","alg":"v4.local","k":"{}"}}"#,
            b64(&[42; 32])
        ),
        _ => {
            use ed25519_dalek::SigningKey;
            let sk = SigningKey::from_bytes(&[42; 32]);
            let kid = if alg == Algorithm::EdDSA {
                r#","kid":"fixed""#
            } else {
                ""
            };
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","alg":"{}","d":"{}","x":"{}"{kid}}}"#,
                alg.name(),
                b64(&[42; 32]),
                b64(sk.verifying_key().as_bytes())
            )
        }
    };
    keys.add_active(keycard::Key::from_jwk(&jwk).unwrap())
        .unwrap();
    let key = keys.active(alg.format()).unwrap();
    let issuer = Issuer::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api")
        .with_format(alg.format());
    let mut verifier = Verifier::new(keys.clone())
        .with_issuer("https://auth.example")
        .with_audience("api");
    if let Some(list) = list {
        verifier = verifier.with_revocations(list);
    }
    keys.add_active(
        keycard::Key::from_jwk(&format!(
            r#"{{"kty":"oct","alg":"v4.local","keycard_purpose":"refresh","k":"{}"}}"#,
            b64(&[43; 32])
        ))
        .unwrap(),
    )
    .unwrap();
    let token = if alg == Algorithm::ES256 {
        // ECDSA signing is randomized: a token signed once, kept here.
        ES256_TOKEN.to_owned()
    } else if alg.format() == Format::Jwt {
        // Built by hand so that the token, not only the key, is the same in every run.
        let header = format!(r#"{{"alg":"{}","kid":"fixed","typ":"at+jwt"}}"#, alg.name());
        let claims = format!(
            r#"{{"iss":"https://auth.example","sub":"alice","aud":"api","exp":{},"nbf":{NOW},"iat":{NOW},"jti":"AAECAwQFBgcICQoLDA0ODw","sid":"EBESExQVFhcYGRobHB0eHw"}}"#,
            NOW + 300
        );
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let sig = if alg == Algorithm::HS256 {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[42; 32]);
            ring::hmac::sign(&k, input.as_bytes()).as_ref().to_vec()
        } else {
            use ed25519_dalek::Signer as _;
            ed25519_dalek::SigningKey::from_bytes(&[42; 32])
                .sign(input.as_bytes())
                .to_bytes()
                .to_vec()
        };
        format!("{input}.{}", b64(&sig))
    } else {
        issuer.access("alice").mint().unwrap().into_string()
    };
    Fixture {
        verifier,
        issuer,
        token,
        key,
    }
}

/// A keycard-shaped id from a counter (splitmix64), so runs are identical instruction for
/// instruction and the subtraction of the 0-iteration run is exact.
fn id(i: u64) -> TokenId {
    use base64::Engine as _;
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&mix(2 * i + 1).to_le_bytes());
    bytes[8..].copy_from_slice(&mix(2 * i + 2).to_le_bytes());
    TokenId::new(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)).unwrap()
}

/// 1M revoked ids under a fixed hash key (an empty snapshot of a known key, then additions).
fn list_1m() -> Arc<RevocationList> {
    let mut snapshot = b"KCRV\x01\x01".to_vec();
    snapshot.extend_from_slice(&[7u8; 16]);
    snapshot.extend_from_slice(&0u64.to_le_bytes());
    let sum = ring::digest::digest(&ring::digest::SHA256, &snapshot);
    snapshot.extend_from_slice(&sum.as_ref()[..16]);
    let list = RevocationList::from_snapshot(&snapshot).unwrap();
    let far = Timestamp::from_unix(4_000_000_000).unwrap();
    for i in 0..1_000_000 {
        list.revoke_token(&id(i), far).unwrap();
    }
    list.compact().unwrap();
    Arc::new(list)
}

fn secret(key: &keycard::Key) -> Vec<u8> {
    use base64::Engine as _;
    let jwk: serde_json::Value = serde_json::from_str(&key.to_secret_jwk().unwrap()).unwrap();
    let member = if key.algorithm().is_asymmetric() {
        "d"
    } else {
        "k"
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk[member].as_str().unwrap())
        .unwrap()
}

/// A verify-only service's verify: the fixed EdDSA key fetched from a JWK Set a local server
/// serves, and (with `status`) the token's Token Status List fetched from it too. The first
/// verification (which fetches) runs in the 0-iteration run as well, so only warm verifications
/// are counted.
fn remote(status: bool, n: usize) {
    use keycard::keys::{RemoteJwks, RemoteJwksOptions};
    use keycard::status::{StatusBits, StatusListClient, StatusListOptions, mint_status_list};
    use std::time::Duration;

    let f = fixture(Algorithm::EdDSA, None);
    let key = f.key.clone();
    let server = http_server::Server::start();
    server.route(
        "/jwks",
        http_server::Reply::json(f.verifier.keys().public_jwks()),
    );
    let uri = server.url("/lists/1");
    let clock = Arc::new(keycard::ManualClock::new(
        Timestamp::from_unix(NOW).unwrap(),
    ));
    let list = StatusBits::new(1, vec![0b0010_0000; 16]).unwrap();
    let list_token = mint_status_list(
        &key,
        Some("https://auth.example"),
        &uri,
        &list,
        Timestamp::from_unix(NOW).unwrap(),
        Duration::from_secs(3600),
        Duration::from_secs(7200),
    )
    .unwrap();
    server.route("/lists/1", http_server::Reply::json(list_token));
    // The token, with (for `status`) a status claim naming index 2, which is valid.
    let status_member = if status {
        format!(r#","status":{{"status_list":{{"idx":2,"uri":"{uri}"}}}}"#)
    } else {
        String::new()
    };
    let header = r#"{"alg":"EdDSA","kid":"fixed","typ":"at+jwt"}"#;
    let claims = format!(
        r#"{{"iss":"https://auth.example","sub":"alice","aud":"api","exp":{},"nbf":{NOW},"iat":{NOW},"jti":"AAECAwQFBgcICQoLDA0ODw","sid":"EBESExQVFhcYGRobHB0eHw"{status_member}}}"#,
        NOW + 300
    );
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = {
        use ed25519_dalek::Signer as _;
        ed25519_dalek::SigningKey::from_bytes(&[42; 32]).sign(input.as_bytes())
    };
    let token = format!("{input}.{}", b64(&sig.to_bytes()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = RemoteJwksOptions::default().allow_http().clock(clock);
        let jwks = Arc::new(
            RemoteJwks::connect(&server.url("/jwks"), opts)
                .await
                .unwrap(),
        );
        let mut v = Verifier::with_remote_keys(jwks)
            .with_issuer("https://auth.example")
            .with_audience("api");
        if status {
            let client = StatusListClient::new(
                v.clone(),
                StatusListOptions::new(server.url("/"))
                    .allow_http()
                    .max_cache(Duration::from_secs(3600)),
            )
            .unwrap();
            v = v.with_revocations(Arc::new(client));
        }
        v.verify_access_async::<NoCustomClaims>(&token)
            .await
            .unwrap();
        for _ in 0..n {
            black_box(
                v.verify_access_async::<NoCustomClaims>(black_box(&token))
                    .await
                    .unwrap(),
            );
        }
    });
}

fn run(mode: &str, n: usize) {
    match mode {
        "raw_eddsa" => {
            use ed25519_dalek::Verifier as _;
            let f = fixture(Algorithm::EdDSA, None);
            let (input, sig) = f.token.rsplit_once('.').unwrap();
            use base64::Engine as _;
            let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sig)
                .unwrap();
            let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
            let pk: [u8; 32] = f.key.public_key_bytes().unwrap().try_into().unwrap();
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
            for _ in 0..n {
                vk.verify(black_box(input.as_bytes()), &sig).unwrap();
            }
        }
        "raw_hs256" => {
            let f = fixture(Algorithm::HS256, None);
            let (input, sig) = f.token.rsplit_once('.').unwrap();
            use base64::Engine as _;
            let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sig)
                .unwrap();
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret(&f.key));
            for _ in 0..n {
                ring::hmac::verify(&k, black_box(input.as_bytes()), &sig).unwrap();
            }
        }
        "verify_eddsa" | "verify_hs256" | "verify_v4public" | "verify_eddsa_1m" => {
            let alg = match mode {
                "verify_hs256" => Algorithm::HS256,
                "verify_v4public" => Algorithm::V4Public,
                _ => Algorithm::EdDSA,
            };
            let list = (mode == "verify_eddsa_1m").then(list_1m);
            let f = fixture(alg, list);
            for _ in 0..n {
                black_box(
                    f.verifier
                        .verify_access::<NoCustomClaims>(black_box(&f.token))
                        .unwrap(),
                );
            }
        }
        "verify_eddsa_cached" => {
            let f = fixture(Algorithm::EdDSA, None);
            let verifier = f.verifier.clone().with_cache(1024);
            // The first verification fills the cache; it runs in the 0-iteration run too, so
            // the subtraction leaves only hits.
            verifier.verify_access::<NoCustomClaims>(&f.token).unwrap();
            for _ in 0..n {
                black_box(
                    verifier
                        .verify_access::<NoCustomClaims>(black_box(&f.token))
                        .unwrap(),
                );
            }
        }
        "jsonwebtoken_eddsa" | "jsonwebtoken_hs256" => {
            #[derive(serde::Deserialize)]
            #[allow(dead_code)]
            struct Claims {
                sub: String,
                exp: u64,
                jti: String,
            }
            let hs = mode.ends_with("hs256");
            let f = fixture(
                if hs {
                    Algorithm::HS256
                } else {
                    Algorithm::EdDSA
                },
                None,
            );
            let (alg, key) = if hs {
                (
                    jsonwebtoken::Algorithm::HS256,
                    jsonwebtoken::DecodingKey::from_secret(&[42; 32]),
                )
            } else {
                let jwk: jsonwebtoken::jwk::Jwk =
                    serde_json::from_str(&f.key.to_public_jwk().unwrap()).unwrap();
                (
                    jsonwebtoken::Algorithm::EdDSA,
                    jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
                )
            };
            let mut validation = jsonwebtoken::Validation::new(alg);
            validation.set_audience(&["api"]);
            validation.set_issuer(&["https://auth.example"]);
            // The fixed token is dated 2027; jsonwebtoken reads the wall clock, so only the
            // checks that do not depend on it are left on.
            validation.validate_exp = false;
            validation.validate_nbf = false;
            for _ in 0..n {
                black_box(
                    jsonwebtoken::decode::<Claims>(black_box(&f.token), &key, &validation).unwrap(),
                );
            }
        }
        "mint_eddsa" | "mint_hs256" => {
            let alg = if mode == "mint_hs256" {
                Algorithm::HS256
            } else {
                Algorithm::EdDSA
            };
            let f = fixture(alg, None);
            for _ in 0..n {
                black_box(f.issuer.access(black_box("alice")).mint().unwrap());
            }
        }
        "raw_es256" => {
            let f = fixture(Algorithm::ES256, None);
            let (input, sig) = f.token.rsplit_once('.').unwrap();
            use base64::Engine as _;
            let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sig)
                .unwrap();
            let pk = ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                f.key.public_key_bytes().unwrap().to_vec(),
            );
            for _ in 0..n {
                pk.verify(black_box(input.as_bytes()), &sig).unwrap();
            }
        }
        "verify_es256" => {
            let f = fixture(Algorithm::ES256, None);
            for _ in 0..n {
                black_box(
                    f.verifier
                        .verify_access::<NoCustomClaims>(black_box(&f.token))
                        .unwrap(),
                );
            }
        }
        "pasetors_v4local" | "verify_v4local" => {
            // v4.local costs the same whatever the nonce, so the token is minted here, on the
            // real clock (pasetors' claim validation reads it).
            let keys = Arc::new(KeyRing::new());
            let jwk = format!(
                r#"{{"kty":"oct","alg":"v4.local","k":"{}"}}"#,
                b64(&[42; 32])
            );
            keys.add_active(keycard::Key::from_jwk(&jwk).unwrap())
                .unwrap();
            let token = Issuer::new(keys.clone())
                .with_issuer("https://auth.example")
                .with_audience("api")
                .with_format(Format::V4Local)
                .access("alice")
                .mint()
                .unwrap()
                .into_string();
            if mode == "verify_v4local" {
                let verifier = Verifier::new(keys)
                    .with_issuer("https://auth.example")
                    .with_audience("api");
                for _ in 0..n {
                    black_box(
                        verifier
                            .verify_access::<NoCustomClaims>(black_box(&token))
                            .unwrap(),
                    );
                }
            } else {
                use pasetors::claims::ClaimsValidationRules;
                use pasetors::keys::SymmetricKey;
                use pasetors::token::{Local, UntrustedToken};
                use pasetors::version4::V4;
                let sk = SymmetricKey::<V4>::from(&[42; 32]).unwrap();
                let mut rules = ClaimsValidationRules::new();
                rules.validate_issuer_with("https://auth.example");
                rules.validate_audience_with("api");
                let mut footer = pasetors::footer::Footer::new();
                footer
                    .parse_bytes(
                        UntrustedToken::<Local, V4>::try_from(token.as_str())
                            .unwrap()
                            .untrusted_footer(),
                    )
                    .unwrap();
                for _ in 0..n {
                    let untrusted =
                        UntrustedToken::<Local, V4>::try_from(black_box(token.as_str())).unwrap();
                    black_box(
                        pasetors::local::decrypt(&sk, &untrusted, &rules, Some(&footer), None)
                            .unwrap(),
                    );
                }
            }
        }
        "mint_verify_eddsa" => {
            let f = fixture(Algorithm::EdDSA, None);
            for _ in 0..n {
                let t = f.issuer.access(black_box("alice")).mint().unwrap();
                black_box(
                    f.verifier
                        .verify_access::<NoCustomClaims>(black_box(t.as_str()))
                        .unwrap(),
                );
            }
        }
        "refresh_eddsa" => {
            let f = fixture(Algorithm::EdDSA, None);
            let kc = keycard::Keycard::builder(f.issuer.keys().clone())
                .issuer("https://auth.example")
                .audience("api")
                .build()
                .unwrap();
            let mut current = kc.login("alice", &NoCustomClaims {}, None).unwrap().refresh;
            for _ in 0..n {
                current = kc
                    .refresh(black_box(current.as_str()), None)
                    .unwrap()
                    .refresh;
            }
        }
        "verify_eddsa_remote" | "verify_eddsa_status" => remote(mode == "verify_eddsa_status", n),
        "verify_keycard" | "verify_dpop" => dpop(mode == "verify_dpop", n),
        "lookup_1m" => {
            let list = list_1m();
            let fresh: Vec<TokenId> = (0..1024).map(|i| id(10_000_000 + i)).collect();
            for i in 0..n {
                black_box(list.is_token_revoked(black_box(&fresh[i & 1023])));
            }
        }
        other => panic!("unknown mode {other}"),
    }
}

/// Proofs made before counting, as many in the 0-iteration run as in the counted one, so the
/// subtraction leaves only verifications.
const DPOP_PROOFS: usize = 2_000;

/// A request as a DPoP-protected route sees it: the session's token verified, and (`bound`) its
/// proof checked and claimed. Without `bound`, the same keycard verifies a bearer session's token.
fn dpop(bound: bool, n: usize) {
    let f = fixture(Algorithm::EdDSA, None);
    let clock = keycard::ManualClock::new(Timestamp::from_unix(NOW).unwrap());
    let kc = keycard::Keycard::builder(f.issuer.keys().clone())
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let client = support::DpopClient::new([7; 32]);
    let url = "https://api.example/orders";
    let jkt = bound.then(|| client.jkt());
    let pair = kc
        .login_dpop("alice", &NoCustomClaims {}, None, jkt)
        .unwrap();
    let token = pair.access.as_str();
    let proofs: Vec<String> = (0..DPOP_PROOFS as u64)
        .map(|i| client.proof(i, "GET", url, NOW, Some(token)))
        .collect();
    assert!(n <= DPOP_PROOFS);
    for proof in proofs.iter().take(n) {
        if bound {
            black_box(
                kc.verify_dpop::<NoCustomClaims>(black_box(token), black_box(proof), "GET", url)
                    .unwrap(),
            );
        } else {
            black_box(kc.verify::<NoCustomClaims>(black_box(token)).unwrap());
        }
    }
}

/// Instructions callgrind counts for `mode` run `n` times.
fn count(mode: &str, n: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args([mode, &n.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find(|l| l.contains("Collected"))?;
    line.rsplit(':')
        .next()?
        .trim()
        .replace(',', "")
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `MODE N` runs one operation (under valgrind); `--only MODE...` limits the table.
    let only: Option<&[String]> = match args.first().map(String::as_str) {
        Some("--only") => Some(&args[1..]),
        Some(mode) => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1);
            run(mode, n);
            return;
        }
        None => None,
    };
    let mut per_op = std::collections::HashMap::new();
    println!("| operation | instructions | ratio | to |");
    println!("|---|---|---|---|");
    for (mode, what, base) in MODES {
        if only.is_some_and(|o| !o.iter().any(|m| m == mode || m == base)) {
            continue;
        }
        let n = if mode.starts_with("lookup") {
            200_000
        } else {
            2_000
        };
        let (Some(zero), Some(many)) = (count(mode, 0), count(mode, n)) else {
            eprintln!("valgrind is needed (apt-get install valgrind)");
            return;
        };
        let ops = (many.saturating_sub(zero)) as f64 / n as f64;
        per_op.insert(*mode, ops);
        let ratio = per_op.get(base).map_or(f64::NAN, |b| ops / b);
        println!("| {what} | {ops:.0} | {ratio:.3} | {base} |");
    }
}
