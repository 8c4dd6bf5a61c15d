//! The binary encoding of a whole list (snapshot) and of a batch of additions (delta): what is
//! saved to a file, and what replicas exchange.
//!
//! ```text
//! snapshot: "KCRV" | version 1 | type 1 | hash key (16) | count (u64 LE) | entries | checksum (16)
//! delta:    "KCRV" | version 1 | type 2 | key id (16)   | count (u64 LE) | entries | checksum (16)
//! entry:    kind (1: token, 2: session, 3: subject) | key (16) | until (u32 LE) | cutoff (u32 LE)
//! checksum: the first 16 bytes of SHA-256 over everything before it
//! ```
//!
//! The hash key is the secret the list derives entry keys from; a delta names the list it belongs
//! to by the key's id (a SHA-256 of it), so a delta can never be applied to an unrelated list.
//! Decoding is hostile-input code: the checksum and every length are checked before anything is
//! allocated, allocation never exceeds the input's size, and every failure is a typed
//! `corrupt_data` error.

use super::{Revocation, RevocationKind};
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"KCRV";
const VERSION: u8 = 1;
const TYPE_SNAPSHOT: u8 = 1;
const TYPE_DELTA: u8 = 2;
const HEADER: usize = 4 + 1 + 1 + 16 + 8;
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

fn encode(kind: u8, tag: &[u8; 16], entries: &[Revocation]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + entries.len() * ENTRY + CHECKSUM);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(tag);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for e in entries {
        out.push(e.kind as u8);
        out.extend_from_slice(&e.key);
        out.extend_from_slice(&e.until.to_le_bytes());
        out.extend_from_slice(&e.cutoff.to_le_bytes());
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum);
    out
}

/// Encodes a snapshot.
pub(crate) fn encode_snapshot(hash_key: &[u8; 16], entries: &[Revocation]) -> Vec<u8> {
    encode(TYPE_SNAPSHOT, hash_key, entries)
}

/// Encodes a delta for the list with this hash key.
pub(crate) fn encode_delta(hash_key: &[u8; 16], entries: &[Revocation]) -> Vec<u8> {
    encode(TYPE_DELTA, &key_id(hash_key), entries)
}

fn corrupt(reason: &'static str) -> Error {
    Error::Corrupt(reason)
}

/// Decodes either form: (type, 16-byte tag, entries).
fn decode(bytes: &[u8]) -> Result<(u8, [u8; 16], Vec<Revocation>)> {
    if bytes.len() < HEADER + CHECKSUM {
        return Err(corrupt("revocation data too short"));
    }
    if &bytes[..4] != MAGIC {
        return Err(corrupt("not keycard revocation data"));
    }
    if bytes[4] != VERSION {
        return Err(corrupt("unsupported revocation data version"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM);
    if checksum(body) != sum {
        return Err(corrupt("revocation data checksum mismatch"));
    }
    let kind = body[5];
    if kind != TYPE_SNAPSHOT && kind != TYPE_DELTA {
        return Err(corrupt("unknown revocation data type"));
    }
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&body[6..22]);
    let mut count = [0u8; 8];
    count.copy_from_slice(&body[22..30]);
    let count = u64::from_le_bytes(count);
    let payload = &body[HEADER..];
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
        entries.push(Revocation {
            kind,
            key,
            until,
            cutoff,
        });
    }
    Ok((kind, tag, entries))
}

/// Decodes a snapshot: its hash key and entries.
pub(crate) fn decode_snapshot(bytes: &[u8]) -> Result<([u8; 16], Vec<Revocation>)> {
    match decode(bytes)? {
        (TYPE_SNAPSHOT, key, entries) => Ok((key, entries)),
        _ => Err(corrupt("revocation delta where a snapshot was expected")),
    }
}

/// Decodes a delta for the list with `hash_key`.
pub(crate) fn decode_delta(hash_key: &[u8; 16], bytes: &[u8]) -> Result<Vec<Revocation>> {
    match decode(bytes)? {
        (TYPE_DELTA, id, entries) if id == key_id(hash_key) => Ok(entries),
        (TYPE_DELTA, _, _) => Err(corrupt("revocation delta of another list")),
        _ => Err(corrupt("revocation snapshot where a delta was expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Revocation> {
        vec![
            Revocation {
                kind: RevocationKind::Token,
                key: [1; 16],
                until: 100,
                cutoff: 0,
            },
            Revocation {
                kind: RevocationKind::Subject,
                key: [2; 16],
                until: 200,
                cutoff: 150,
            },
        ]
    }

    #[test]
    fn round_trips() {
        let key = [9u8; 16];
        let snap = encode_snapshot(&key, &sample());
        assert_eq!(snap.len(), HEADER + 2 * ENTRY + CHECKSUM);
        assert_eq!(decode_snapshot(&snap).unwrap(), (key, sample()));
        let delta = encode_delta(&key, &sample());
        assert_eq!(decode_delta(&key, &delta).unwrap(), sample());
        assert_eq!(
            decode_delta(&[8u8; 16], &delta).unwrap_err().kind(),
            "corrupt_data"
        );
        assert!(decode_snapshot(&delta).is_err());
        assert!(decode_delta(&key, &snap).is_err());
        assert_eq!(
            decode_snapshot(&encode_snapshot(&key, &[])).unwrap().1,
            vec![]
        );
    }

    #[test]
    fn every_corruption_is_a_typed_error() {
        let snap = encode_snapshot(&[9u8; 16], &sample());
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
        lying[22] = 3;
        let sum = checksum(&lying);
        lying.extend_from_slice(&sum);
        assert!(decode_snapshot(&lying).is_err());
        // A huge count with no entries allocates nothing and fails.
        let mut huge = snap[..HEADER].to_vec();
        huge[22..30].copy_from_slice(&u64::MAX.to_le_bytes());
        let sum = checksum(&huge);
        huge.extend_from_slice(&sum);
        assert!(decode_snapshot(&huge).is_err());
    }
}
