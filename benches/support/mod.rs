//! Setup shared by the benchmark binaries.
#![allow(dead_code)]

use keycard::revocation::RevocationList;
use keycard::{Timestamp, TokenId};

/// A list holding `n` revoked keycard-shaped ids (random, 128 bits) that never expire,
/// compacted so every entry sits in the sorted base; returns the ids too.
pub fn revoked_list(n: usize) -> (RevocationList, Vec<TokenId>) {
    let list = RevocationList::new();
    let far = Timestamp::from_unix(4_000_000_000).unwrap();
    let ids: Vec<TokenId> = (0..n).map(|_| TokenId::random()).collect();
    for id in &ids {
        list.revoke_token(id, far).unwrap();
    }
    list.compact().unwrap();
    (list, ids)
}

/// Where criterion writes its results, and where the memory and concurrency runs write theirs:
/// `$CARGO_TARGET_DIR/criterion`, or the workspace's `target/criterion`.
pub fn criterion_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// A DPoP client for the benchmarks: an Ed25519 key (ed25519-dalek) and proofs it signs.
pub struct DpopClient {
    key: ed25519_dalek::SigningKey,
    header: String,
}

impl DpopClient {
    /// From a fixed seed.
    pub fn new(seed: [u8; 32]) -> DpopClient {
        use base64::Engine as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let x =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let header = serde_json::json!({
            "typ": "dpop+jwt", "alg": "EdDSA",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x},
        });
        DpopClient {
            key,
            header: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string()),
        }
    }

    /// The RFC 7638 thumbprint keycard binds sessions to.
    pub fn jkt(&self) -> String {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let canonical = format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            b64(self.key.verifying_key().as_bytes())
        );
        b64(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// Proof number `i` for `method url` at `iat`, with `ath` of `token`.
    pub fn proof(&self, i: u64, method: &str, url: &str, iat: i64, token: Option<&str>) -> String {
        use base64::Engine as _;
        use ed25519_dalek::Signer;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let mut claims = serde_json::json!({
            "jti": format!("bench-{i}"), "htm": method, "htu": url, "iat": iat,
        });
        if let Some(t) = token {
            claims["ath"] =
                b64(ring::digest::digest(&ring::digest::SHA256, t.as_bytes()).as_ref()).into();
        }
        let input = format!("{}.{}", self.header, b64(claims.to_string().as_bytes()));
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", b64(&sig.to_bytes()))
    }
}
