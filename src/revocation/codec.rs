//! The binary encoding of a whole list (snapshot) and of a batch of additions (delta): what is
//! saved to a file, and what replicas exchange.
//!
//! ```text
//! snapshot: "KCRV" | version 2 | type 1 | hash key (16) | margin (u32 LE) | count (u64 LE) | entries | checksum (16)
//! delta:    "KCRV" | version 1 | type 2 | key id (16)   | count (u64 LE) | entries | checksum (16)
//! entry:    kind (1: token, 2: session, 3: subject) | key (16) | until (u32 LE) | cutoff (u32 LE)
//! checksum: the first 16 bytes of SHA-256 over everything before it
//! ```
//!
//! The hash key is the secret the list derives entry keys from; a delta names the list it belongs
//! to by the key's id (a SHA-256 of it), so a delta can never be applied to an unrelated list.
//! A snapshot records the prune margin its entries were kept with (seconds): a reader must not
//! verify with a leeway above it, since revocations of tokens that expired earlier than that may
//! already be gone. Version-1 snapshots (no margin) read as the default 5 minutes.
//! Decoding is hostile-input code: the checksum and every length are checked before anything is
//! allocated, allocation never exceeds the input's size, and every failure is a typed
//! `corrupt_data` error.

use super::{Revocation, RevocationKind};
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"KCRV";
/// Deltas, and snapshots written before the margin was recorded.
const VERSION_1: u8 = 1;
/// Snapshots with the prune margin.
const VERSION_2: u8 = 2;
const TYPE_SNAPSHOT: u8 = 1;
const TYPE_DELTA: u8 = 2;
const HEADER: usize = 4 + 1 + 1 + 16 + 8;
const MARGIN: usize = 4;
/// The margin a version-1 snapshot is read with: the default, 5 minutes.
const V1_MARGIN: u32 = 300;
const ENTRY: usize = 1 + 16 + 4 + 4;
pub(crate) const CHECKSUM: usize = 16;

pub(crate) fn checksum(bytes: &[u8]) -> [u8; CHECKSUM] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; CHECKSUM];
    out.copy_from_slice(&d.as_ref()[..CHECKSUM]);
    out
}

/// The public id of a hash key: what deltas carry instead of the key.
pub(crate) fn key_id(hash_key: &[u8; 16]) -> [u8; 16] {
    let mut input = b"keycard revocation key id\0".to_vec();
    input.extend_from_slice(hash_key);
    checksum(&input)
}

fn encode(kind: u8, tag: &[u8; 16], margin: Option<u32>, entries: &[Revocation]) -> Vec<u8> {
    let extra = margin.map_or(0, |_| MARGIN);
    let mut out = Vec::with_capacity(HEADER + extra + entries.len() * ENTRY + CHECKSUM);
    out.extend_from_slice(MAGIC);
    out.push(if margin.is_some() {
        VERSION_2
    } else {
        VERSION_1
    });
    out.push(kind);
    out.extend_from_slice(tag);
    if let Some(m) = margin {
        out.extend_from_slice(&m.to_le_bytes());
    }
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for e in entries {
        out.push(e.kind() as u8);
        out.extend_from_slice(&e.key);
        out.extend_from_slice(&e.until.to_le_bytes());
        out.extend_from_slice(&e.cutoff.to_le_bytes());
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum);
    out
}

/// Encodes a snapshot whose entries were kept `margin` seconds past their expiry.
pub(crate) fn encode_snapshot(hash_key: &[u8; 16], margin: u32, entries: &[Revocation]) -> Vec<u8> {
    encode(TYPE_SNAPSHOT, hash_key, Some(margin), entries)
}

/// Encodes a delta for the list with this hash key.
pub(crate) fn encode_delta(hash_key: &[u8; 16], entries: &[Revocation]) -> Vec<u8> {
    encode(TYPE_DELTA, &key_id(hash_key), None, entries)
}

fn corrupt(reason: &'static str) -> Error {
    Error::Corrupt(reason)
}

/// A decoded snapshot or delta.
struct Decoded {
    kind: u8,
    tag: [u8; 16],
    /// Snapshots only: the prune margin in seconds.
    margin: u32,
    entries: Vec<Revocation>,
}

/// Decodes either form.
fn decode(bytes: &[u8]) -> Result<Decoded> {
    if bytes.len() < HEADER + CHECKSUM {
        return Err(corrupt("revocation data too short"));
    }
    if &bytes[..4] != MAGIC {
        return Err(corrupt("not keycard revocation data"));
    }
    let version = bytes[4];
    if version != VERSION_1 && version != VERSION_2 {
        return Err(corrupt("unsupported revocation data version"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM);
    if checksum(body) != sum {
        return Err(corrupt("revocation data checksum mismatch"));
    }
    let kind = body[5];
    match (kind, version) {
        (TYPE_SNAPSHOT, _) | (TYPE_DELTA, VERSION_1) => {}
        (TYPE_DELTA, _) => return Err(corrupt("unsupported revocation delta version")),
        _ => return Err(corrupt("unknown revocation data type")),
    }
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&body[6..22]);
    let (margin, rest) = if version == VERSION_2 {
        let m = body
            .get(22..22 + MARGIN)
            .ok_or(corrupt("revocation data too short"))?;
        (
            u32::from_le_bytes([m[0], m[1], m[2], m[3]]),
            &body[22 + MARGIN..],
        )
    } else {
        (V1_MARGIN, &body[22..])
    };
    if rest.len() < 8 {
        return Err(corrupt("revocation data too short"));
    }
    let mut count = [0u8; 8];
    count.copy_from_slice(&rest[..8]);
    let count = u64::from_le_bytes(count);
    let payload = &rest[8..];
    if payload.len() % ENTRY != 0 || count != (payload.len() / ENTRY) as u64 {
        return Err(corrupt(
            "revocation entry count does not match the data length",
        ));
    }
    let mut entries = Vec::with_capacity(payload.len() / ENTRY);
    for chunk in payload.chunks_exact(ENTRY) {
        let kind = RevocationKind::from_u8(chunk[0]).ok_or(corrupt("unknown revocation kind"))?;
        let mut key = [0u8; 16];
        key.copy_from_slice(&chunk[1..17]);
        let until = u32::from_le_bytes([chunk[17], chunk[18], chunk[19], chunk[20]]);
        let cutoff = u32::from_le_bytes([chunk[21], chunk[22], chunk[23], chunk[24]]);
        if kind != RevocationKind::Subject && cutoff != 0 {
            return Err(corrupt("a cutoff on a token or session revocation"));
        }
        // Entries written before the kind moved into the key's low bits are normalized here.
        entries.push(Revocation::new(kind, key, until, cutoff));
    }
    Ok(Decoded {
        kind,
        tag,
        margin,
        entries,
    })
}

/// A decoded snapshot.
pub(crate) struct Snapshot {
    pub(crate) hash_key: [u8; 16],
    /// Seconds its entries were kept past their expiry.
    pub(crate) margin: u32,
    pub(crate) entries: Vec<Revocation>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash key is a secret: never printed.
        f.debug_struct("Snapshot")
            .field("margin", &self.margin)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// Decodes a snapshot.
pub(crate) fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot> {
    let d = decode(bytes)?;
    if d.kind != TYPE_SNAPSHOT {
        return Err(corrupt("revocation delta where a snapshot was expected"));
    }
    Ok(Snapshot {
        hash_key: d.tag,
        margin: d.margin,
        entries: d.entries,
    })
}

/// Decodes a delta for the list with `hash_key`.
pub(crate) fn decode_delta(hash_key: &[u8; 16], bytes: &[u8]) -> Result<Vec<Revocation>> {
    let d = decode(bytes)?;
    match d.kind {
        TYPE_DELTA if d.tag == key_id(hash_key) => Ok(d.entries),
        TYPE_DELTA => Err(corrupt("revocation delta of another list")),
        _ => Err(corrupt("revocation snapshot where a delta was expected")),
    }
}

// --- Portable batches: what distributed stores replicate.
//
// portable: "KCRP" | version 1 | count (u32 LE) | entries
// entry:    kind (1) | until (u32 LE) | cutoff (u32 LE) | id length (u16 LE) | id (UTF-8)
//
// Ids travel as text (a jti, a sid, a subject) because every node keys its own list with its own
// secret. The transport authenticates a batch (the Redis store MACs it); decoding still treats it
// as hostile: every length is checked before anything is allocated, and every id is validated.

const PORTABLE_MAGIC: &[u8; 4] = b"KCRP";
const PORTABLE_VERSION: u8 = 1;
/// The smallest portable entry: kind, until, cutoff, length, one id byte.
const PORTABLE_MIN_ENTRY: usize = 1 + 4 + 4 + 2 + 1;
/// The longest id in a portable entry (a subject may be 1024 bytes).
const PORTABLE_MAX_ID: usize = 1024;

/// Encodes revocation requests as a portable batch.
pub(crate) fn encode_portable(batch: &[super::Revoke]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + batch.iter().map(|r| 11 + r.id().len()).sum::<usize>());
    out.extend_from_slice(PORTABLE_MAGIC);
    out.push(PORTABLE_VERSION);
    out.extend_from_slice(&(batch.len() as u32).to_le_bytes());
    for r in batch {
        let id = r.id().as_bytes();
        out.push(r.kind() as u8);
        out.extend_from_slice(&super::secs(r.until()).to_le_bytes());
        out.extend_from_slice(&r.cutoff_secs().to_le_bytes());
        out.extend_from_slice(&(id.len().min(PORTABLE_MAX_ID) as u16).to_le_bytes());
        out.extend_from_slice(&id[..id.len().min(PORTABLE_MAX_ID)]);
    }
    out
}

/// Decodes a portable batch.
pub(crate) fn decode_portable(bytes: &[u8]) -> Result<Vec<super::Revoke>> {
    use super::Revoke;
    use crate::claims::{SessionId, TokenId};
    use crate::clock::Timestamp;
    let body = bytes
        .strip_prefix(PORTABLE_MAGIC.as_slice())
        .ok_or(corrupt("not a portable revocation batch"))?;
    let (&version, body) = body
        .split_first()
        .ok_or(corrupt("portable revocation batch too short"))?;
    if version != PORTABLE_VERSION {
        return Err(corrupt("unsupported portable revocation batch version"));
    }
    let count: [u8; 4] = body
        .get(..4)
        .and_then(|c| c.try_into().ok())
        .ok_or(corrupt("portable revocation batch too short"))?;
    let count = u32::from_le_bytes(count) as usize;
    let mut rest = &body[4..];
    if count > rest.len() / PORTABLE_MIN_ENTRY {
        return Err(corrupt("portable revocation count exceeds the data"));
    }
    let mut out = Vec::with_capacity(count);
    let at = |t: u32| Timestamp::from_unix(i64::from(t)).ok_or(corrupt("instant out of range"));
    for _ in 0..count {
        if rest.len() < PORTABLE_MIN_ENTRY {
            return Err(corrupt("portable revocation entry cut short"));
        }
        let kind = RevocationKind::from_u8(rest[0]).ok_or(corrupt("unknown revocation kind"))?;
        let until = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let cutoff = u32::from_le_bytes([rest[5], rest[6], rest[7], rest[8]]);
        let len = u16::from_le_bytes([rest[9], rest[10]]) as usize;
        let id = rest
            .get(11..11 + len)
            .ok_or(corrupt("portable revocation id cut short"))?;
        rest = &rest[11 + len..];
        let id = std::str::from_utf8(id).map_err(|_| corrupt("a revocation id is not UTF-8"))?;
        if kind != RevocationKind::Subject && cutoff != 0 {
            return Err(corrupt("a cutoff on a token or session revocation"));
        }
        let until = at(until)?;
        out.push(match kind {
            RevocationKind::Token => Revoke::Token {
                jti: TokenId::new(id).ok_or(corrupt("not a token id"))?,
                until,
            },
            RevocationKind::Session => Revoke::Session {
                sid: SessionId::new(id).ok_or(corrupt("not a session id"))?,
                until,
            },
            RevocationKind::Subject => {
                if id.is_empty() || id.len() > PORTABLE_MAX_ID {
                    return Err(corrupt("a subject is 1 to 1024 bytes"));
                }
                Revoke::Subject {
                    sub: id.to_owned(),
                    issued_before: at(cutoff)?,
                    until,
                }
            }
        });
    }
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes after a portable revocation batch"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Revocation> {
        vec![
            Revocation::new(RevocationKind::Token, [1; 16], 100, 0),
            Revocation::new(RevocationKind::Subject, [2; 16], 200, 150),
        ]
    }

    #[test]
    fn round_trips() {
        let key = [9u8; 16];
        let snap = encode_snapshot(&key, 600, &sample());
        assert_eq!(snap.len(), HEADER + MARGIN + 2 * ENTRY + CHECKSUM);
        let back = decode_snapshot(&snap).unwrap();
        assert_eq!(
            (back.hash_key, back.margin, back.entries),
            (key, 600, sample())
        );
        let delta = encode_delta(&key, &sample());
        assert_eq!(decode_delta(&key, &delta).unwrap(), sample());
        assert_eq!(
            decode_delta(&[8u8; 16], &delta).unwrap_err().kind(),
            "corrupt_data"
        );
        assert!(decode_snapshot(&delta).is_err());
        assert!(decode_delta(&key, &snap).is_err());
        assert_eq!(
            decode_snapshot(&encode_snapshot(&key, 300, &[]))
                .unwrap()
                .entries,
            vec![]
        );
        // A version-1 snapshot (no margin) reads with the default margin.
        let v1 = encode(TYPE_SNAPSHOT, &key, None, &sample());
        let back = decode_snapshot(&v1).unwrap();
        assert_eq!((back.margin, back.entries), (V1_MARGIN, sample()));
    }

    #[test]
    fn portable_batches_round_trip_and_refuse_corruption() {
        use crate::claims::{SessionId, TokenId};
        use crate::clock::Timestamp;
        let t = |s| Timestamp::from_unix(s).unwrap();
        let batch = vec![
            super::super::Revoke::Token {
                jti: TokenId::new("jti-1").unwrap(),
                until: t(100),
            },
            super::super::Revoke::Session {
                sid: SessionId::new("sid-1").unwrap(),
                until: t(200),
            },
            super::super::Revoke::Subject {
                sub: "alice@example.com".into(),
                issued_before: t(150),
                until: t(300),
            },
        ];
        let bytes = encode_portable(&batch);
        assert_eq!(decode_portable(&bytes).unwrap(), batch);
        assert_eq!(decode_portable(&encode_portable(&[])).unwrap(), vec![]);
        for cut in 0..bytes.len() {
            assert_eq!(
                decode_portable(&bytes[..cut]).unwrap_err().kind(),
                "corrupt_data"
            );
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x80;
            // Every flip is either refused or decodes to something well formed; never a panic.
            if let Ok(d) = decode_portable(&bad) {
                assert_eq!(d.len(), 3);
            }
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode_portable(&long).is_err());
        let mut huge = b"KCRP\x01".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_portable(&huge).is_err());
    }

    #[test]
    fn every_corruption_is_a_typed_error() {
        let snap = encode_snapshot(&[9u8; 16], 300, &sample());
        for cut in 0..snap.len() {
            assert_eq!(
                decode_snapshot(&snap[..cut]).unwrap_err().kind(),
                "corrupt_data"
            );
        }
        for i in 0..snap.len() {
            let mut bad = snap.clone();
            bad[i] ^= 0x40;
            assert_eq!(
                decode_snapshot(&bad).unwrap_err().kind(),
                "corrupt_data",
                "byte {i}"
            );
        }
        // A well-formed checksum over a lying count.
        let mut lying = snap[..snap.len() - CHECKSUM].to_vec();
        lying[22 + MARGIN] = 3;
        let sum = checksum(&lying);
        lying.extend_from_slice(&sum);
        assert!(decode_snapshot(&lying).is_err());
        // A huge count with no entries allocates nothing and fails.
        let mut huge = snap[..HEADER + MARGIN].to_vec();
        huge[22 + MARGIN..30 + MARGIN].copy_from_slice(&u64::MAX.to_le_bytes());
        let sum = checksum(&huge);
        huge.extend_from_slice(&sum);
        assert!(decode_snapshot(&huge).is_err());
    }
}
