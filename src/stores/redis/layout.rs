//! What the store keeps in Redis, and how: key names, value encodings, and the MACs that let a
//! node refuse revocation data it did not get from another node.
//!
//! ```text
//! P:{u:H}:f:<sid>    a family: "<generation>:<created>:<deadline>:<JSON>"; expires at its
//!                    deadline (the idle or absolute one, whichever comes first)
//! P:{u:H}:s          the subject's session ids (a set); expires with its last family
//! P:{rv}:r:<k><h>    a revocation: "<until>:<cutoff>:<kid>:<mac>:<id>"; expires after until+margin
//! P:{rv}:idx         every revocation key's suffix, scored by its expiry (ms): for snapshots
//! P:{rv}:log         the revocation stream: each entry a MAC'd batch {k: kid, d: batch, t: mac}
//! P:{rv}:snap        the latest snapshot: {id, gen, n, k, t} and chunks P:{rv}:snap:<gen>:<i>
//! P:{rv}:lease       who writes the next snapshot (SET NX PX)
//! P:{st}:cap         the Token Status List's size, in indices
//! P:{st}:used        one bit per index: taken (Redis bit order, most significant bit first)
//! P:{st}:bits        one bit per index: the session's status (1 = INVALID)
//! P:{st}:reclaim     taken indices, scored by when they may be reused (unix seconds)
//! P:dp:<id>          a DPoP proof seen (SET NX); expires when the proof could no longer be used
//! ```
//!
//! `H` is a hash of the subject (never the subject itself, which is personal data and may hold
//! characters that break hash tags). The `{...}` hash tags put one subject's families in one
//! cluster slot, so the session limit is a single atomic script, and every revocation datum in
//! one slot, so a revocation and its stream entry are written in one atomic script.
//!
//! MACs are HMAC-SHA-256 under a key derived from the key ring's refresh-token key (a secret the
//! nodes share and never publish), named by its kid so a rotation does not strand old entries.

use ring::hmac;

use crate::claims::SessionId;
use crate::encoding::b64;
use crate::error::{Error, Result};
use crate::keys::{KeyPurpose, KeyRing, Kid};
use crate::refresh::Family;
use crate::revocation::{RevocationKind, Revoke};

/// Key names under one prefix.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    prefix: String,
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

impl Names {
    pub(crate) fn new(prefix: &str) -> Names {
        Names {
            prefix: prefix.to_owned(),
        }
    }

    /// `P:{u:H}`: the hash tag of a subject's keys.
    fn subject(&self, sub: &str) -> String {
        let h = digest(&[b"keycard redis subject\0", sub.as_bytes()]);
        format!("{}:{{u:{}}}", self.prefix, b64::encode(&h[..12]))
    }

    pub(crate) fn family(&self, sub: &str, sid: &SessionId) -> String {
        format!("{}:f:{}", self.subject(sub), sid)
    }

    /// What a family key starts with, for the scripts that walk a subject's set.
    pub(crate) fn family_prefix(&self, sub: &str) -> String {
        format!("{}:f:", self.subject(sub))
    }

    pub(crate) fn index(&self, sub: &str) -> String {
        format!("{}:s", self.subject(sub))
    }

    fn revocations(&self) -> String {
        format!("{}:{{rv}}", self.prefix)
    }

    /// The suffix naming a revocation: its kind, and a hash of its id (ids stay out of key names).
    pub(crate) fn revocation_suffix(kind: RevocationKind, id: &str) -> String {
        let h = digest(&[b"keycard redis revocation\0", &[kind as u8], id.as_bytes()]);
        format!("{}{}", kind as u8, b64::encode(&h[..16]))
    }

    pub(crate) fn revocation(&self, suffix: &str) -> String {
        format!("{}:r:{suffix}", self.revocations())
    }

    pub(crate) fn revocation_index(&self) -> String {
        format!("{}:idx", self.revocations())
    }

    pub(crate) fn log(&self) -> String {
        format!("{}:log", self.revocations())
    }

    /// A DPoP proof's one-time-use key (`id` is already a hash).
    pub(crate) fn proof(&self, id: &str) -> String {
        format!("{}:dp:{id}", self.prefix)
    }

    /// The Token Status List's keys, in one slot: `cap`, `used`, `bits`, `reclaim`.
    pub(crate) fn status(&self, part: &str) -> String {
        format!("{}:{{st}}:{part}", self.prefix)
    }

    pub(crate) fn snapshot(&self) -> String {
        format!("{}:snap", self.revocations())
    }

    pub(crate) fn snapshot_chunk(&self, generation: u64, i: usize) -> String {
        format!("{}:snap:{generation}:{i}", self.revocations())
    }

    pub(crate) fn lease(&self) -> String {
        format!("{}:lease", self.revocations())
    }
}

/// A family as stored: its generation, creation and deadline first (the scripts read them
/// without decoding JSON), then the family itself.
pub(crate) fn encode_family(f: &Family) -> Result<String> {
    let json = serde_json::to_string(f)
        .map_err(|_| Error::Config("a family does not serialize".into()))?;
    let deadline = f.idle_deadline.min(f.absolute_deadline);
    Ok(format!(
        "{}:{}:{}:{json}",
        f.generation,
        f.created.as_unix(),
        deadline.as_unix()
    ))
}

/// Decodes a stored family. Data in Redis is not trusted blindly: a value that does not parse
/// is `corrupt_data`.
pub(crate) fn decode_family(value: &[u8]) -> Result<Family> {
    let bad = || Error::Corrupt("a family record in Redis does not decode");
    let text = std::str::from_utf8(value).map_err(|_| bad())?;
    let mut parts = text.splitn(4, ':');
    let generation: u64 = parts.next().and_then(|g| g.parse().ok()).ok_or_else(bad)?;
    let (_, _, json) = (parts.next(), parts.next(), parts.next().ok_or_else(bad)?);
    let f: Family = crate::encoding::json::parse_strict(json.as_bytes())
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(bad)?;
    if f.generation != generation {
        return Err(bad());
    }
    Ok(f)
}

/// The MAC key derived from a refresh-token key.
fn derive(secret: &[u8]) -> hmac::Key {
    let base = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let derived = hmac::sign(&base, b"keycard:redis:revocations:v1");
    hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
}

/// The key that signs what this node writes: from the ring's active refresh-token key.
pub(crate) fn signing_key(keys: &KeyRing) -> Result<(Kid, hmac::Key)> {
    let key = keys.active_refresh().ok_or_else(|| {
        Error::Config(
            "the key ring has no refresh-token key: nodes sharing a Redis store must share one \
             (KeyRing::rotate_refresh_key, saved in the key set every node loads)"
                .into(),
        )
    })?;
    let secret = key
        .secret_bytes()
        .ok_or_else(|| Error::Config("the refresh-token key holds no secret".into()))?;
    Ok((key.kid().clone(), derive(&secret)))
}

/// The key that checks what another node wrote with `kid`: any refresh-token key of the ring
/// that still verifies.
pub(crate) fn checking_key(keys: &KeyRing, kid: &str) -> Option<hmac::Key> {
    let key = keys.get(kid)?;
    if key.purpose() != KeyPurpose::Refresh {
        return None;
    }
    key.secret_bytes().map(|s| derive(&s))
}

fn tag(key: &hmac::Key, parts: &[&[u8]]) -> String {
    let mut ctx = hmac::Context::with_key(key);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    b64::encode(ctx.sign().as_ref())
}

fn tag_ok(key: &hmac::Key, parts: &[&[u8]], given: &str) -> bool {
    let Ok(given) = b64::decode(given) else {
        return false;
    };
    let mut msg = Vec::new();
    for p in parts {
        msg.extend_from_slice(&(p.len() as u64).to_le_bytes());
        msg.extend_from_slice(p);
    }
    hmac::verify(key, &msg, &given).is_ok()
}

/// The MAC of a stream entry or snapshot: `label` says which, so one cannot pass for the other.
pub(crate) fn seal(key: &hmac::Key, label: &str, kid: &Kid, data: &[u8]) -> String {
    tag(key, &[label.as_bytes(), kid.as_str().as_bytes(), data])
}

pub(crate) fn sealed(key: &hmac::Key, label: &str, kid: &str, data: &[u8], mac: &str) -> bool {
    tag_ok(key, &[label.as_bytes(), kid.as_bytes(), data], mac)
}

/// A revocation record as stored under its own key (for compact replicas' confirmations and for
/// snapshots): `until:cutoff:kid:mac:id`.
pub(crate) fn encode_revocation(key: &hmac::Key, kid: &Kid, r: &Revoke) -> String {
    let until = r.until().as_unix().to_string();
    let cutoff = r.cutoff_secs().to_string();
    let kind = [r.kind() as u8];
    let mac = tag(
        key,
        &[
            b"rv1",
            kid.as_str().as_bytes(),
            &kind,
            until.as_bytes(),
            cutoff.as_bytes(),
            r.id().as_bytes(),
        ],
    );
    format!("{until}:{cutoff}:{kid}:{mac}:{}", r.id())
}

/// Decodes a stored revocation record of `kind`, checking its MAC; `None` for anything that
/// does not check out (a party that can write to Redis cannot make one up).
pub(crate) fn decode_revocation(
    keys: &KeyRing,
    kind: RevocationKind,
    value: &[u8],
) -> Option<Revoke> {
    let text = std::str::from_utf8(value).ok()?;
    let mut parts = text.splitn(5, ':');
    let (until_s, cutoff_s, kid, mac, id) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let key = checking_key(keys, kid)?;
    let kind_b = [kind as u8];
    if !tag_ok(
        &key,
        &[
            b"rv1",
            kid.as_bytes(),
            &kind_b,
            until_s.as_bytes(),
            cutoff_s.as_bytes(),
            id.as_bytes(),
        ],
        mac,
    ) {
        return None;
    }
    let at = |s: &str| {
        s.parse::<i64>()
            .ok()
            .and_then(crate::clock::Timestamp::from_unix)
    };
    let until = at(until_s)?;
    Some(match kind {
        RevocationKind::Token => Revoke::Token {
            jti: crate::claims::TokenId::new(id)?,
            until,
        },
        RevocationKind::Session => Revoke::Session {
            sid: SessionId::new(id)?,
            until,
        },
        RevocationKind::Subject => Revoke::Subject {
            sub: id.to_owned(),
            issued_before: at(cutoff_s)?,
            until,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;

    #[test]
    fn names_keep_a_subject_in_one_slot_and_ids_out_of_key_names() {
        let n = Names::new("kc");
        let sid = SessionId::new("abc").unwrap();
        let fam = n.family("alice@example.com", &sid);
        let idx = n.index("alice@example.com");
        let tag = |k: &str| k[k.find('{').unwrap()..=k.find('}').unwrap()].to_owned();
        assert_eq!(tag(&fam), tag(&idx));
        assert_ne!(tag(&fam), tag(&n.index("bob")));
        assert!(!fam.contains("alice"));
        let r = n.revocation(&Names::revocation_suffix(RevocationKind::Subject, "alice"));
        assert!(!r.contains("alice"));
        assert_eq!(tag(&r), tag(&n.log()));
        assert_eq!(tag(&r), tag(&n.snapshot()));
    }

    #[test]
    fn revocation_records_are_authenticated() {
        let keys = KeyRing::new();
        keys.rotate_refresh_key().unwrap();
        let (kid, key) = signing_key(&keys).unwrap();
        let r = Revoke::Subject {
            sub: "a:b:c".into(),
            issued_before: Timestamp::from_unix(100).unwrap(),
            until: Timestamp::from_unix(200).unwrap(),
        };
        let v = encode_revocation(&key, &kid, &r);
        assert_eq!(
            decode_revocation(&keys, RevocationKind::Subject, v.as_bytes()),
            Some(r)
        );
        // Another kind, an edited field, a stranger's key: refused.
        assert_eq!(
            decode_revocation(&keys, RevocationKind::Token, v.as_bytes()),
            None
        );
        let edited = v.replacen("200", "999", 1);
        assert_eq!(
            decode_revocation(&keys, RevocationKind::Subject, edited.as_bytes()),
            None
        );
        let other = KeyRing::new();
        other.rotate_refresh_key().unwrap();
        assert_eq!(
            decode_revocation(&other, RevocationKind::Subject, v.as_bytes()),
            None
        );
        for junk in [&b""[..], b":::", b"1:2:3:4", b"\xff\xfe"] {
            assert_eq!(decode_revocation(&keys, RevocationKind::Token, junk), None);
        }
    }
}
