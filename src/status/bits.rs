//! The status bit string: `bits` bits per index (1, 2, 4 or 8), index 0 in the least significant
//! bits of byte 0, compressed with DEFLATE in the ZLIB format (RFC 1950) and base64url-encoded in
//! the token's `lst`.

use std::io::{Read, Write};

use crate::encoding::b64;
use crate::error::{Error, Result};

/// A decoded status list: its statuses, `bits` bits each.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusBits {
    bits: u8,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for StatusBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusBits")
            .field("bits", &self.bits)
            .field("len", &self.len())
            .finish()
    }
}

impl StatusBits {
    /// A list of `bits` bits per status over `bytes`; `bits` is 1, 2, 4 or 8.
    pub fn new(bits: u8, bytes: Vec<u8>) -> Result<StatusBits> {
        if !matches!(bits, 1 | 2 | 4 | 8) {
            return Err(Error::Malformed("status_list.bits is 1, 2, 4 or 8"));
        }
        Ok(StatusBits { bits, bytes })
    }

    /// Bits per status.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many statuses the list holds.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / usize::from(self.bits)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The status at `idx` (0 VALID, 1 INVALID, 2 SUSPENDED, …); `None` past the end.
    pub fn get(&self, idx: u64) -> Option<u8> {
        let bits = u64::from(self.bits);
        let bit = idx.checked_mul(bits)?;
        let byte = *self.bytes.get(usize::try_from(bit / 8).ok()?)?;
        let shift = bit % 8;
        let mask = ((1u16 << bits) - 1) as u8;
        Some((byte >> shift) & mask)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `lst`: the bytes compressed (ZLIB, best compression) and base64url-encoded.
    pub fn to_lst(&self) -> Result<String> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&self.bytes)
            .and_then(|_| z.finish())
            .map(|out| b64::encode(&out))
            .map_err(|_| Error::Crypto("compressing the status list failed"))
    }

    /// Decodes `lst`: strict base64url, then ZLIB inflated to at most `max_bytes` (a list that
    /// inflates past it is refused before more is read: a zip bomb costs nothing).
    pub fn from_lst(bits: u8, lst: &str, max_bytes: usize) -> Result<StatusBits> {
        let compressed = b64::decode(lst)?;
        let mut out = Vec::new();
        let limit = u64::try_from(max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        flate2::read::ZlibDecoder::new(&compressed[..])
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|_| Error::Malformed("status_list.lst is not ZLIB data"))?;
        if out.len() > max_bytes {
            return Err(Error::Malformed(
                "status_list.lst inflates past the size limit",
            ));
        }
        StatusBits::new(bits, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drafts_bit_order() {
        // draft-ietf-oauth-status-list §4.1: statuses 1,0,0,1,1,1,0,1 | 1,1,0,0,0,1,0,1 at one bit
        // are the bytes 0xB9 0xA3.
        let l = StatusBits::new(1, vec![0xb9, 0xa3]).unwrap();
        let want = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(l.get(i as u64), Some(*w), "{i}");
        }
        assert_eq!(l.get(16), None);
        // Two bits each: 0xC9 = 0b11_00_10_01 holds 1, 2, 0, 3.
        let l = StatusBits::new(2, vec![0xc9]).unwrap();
        assert_eq!(
            (0..4).map(|i| l.get(i).unwrap()).collect::<Vec<_>>(),
            [1, 2, 0, 3]
        );
        assert!(StatusBits::new(3, vec![]).is_err());
        assert_eq!(StatusBits::new(1, vec![0xff]).unwrap().get(u64::MAX), None);
    }

    #[test]
    fn the_drafts_example_list_decodes() {
        // §4.1's example `lst` (one bit per status).
        let l = StatusBits::from_lst(1, "eNrbuRgAAhcBXQ", 1 << 20).unwrap();
        assert_eq!(l.as_bytes(), [0xb9, 0xa3]);
    }

    #[test]
    fn round_trip_and_hostile_input() {
        let l = StatusBits::new(1, (0..4096u32).map(|i| (i % 7) as u8).collect()).unwrap();
        let back = StatusBits::from_lst(1, &l.to_lst().unwrap(), 1 << 20).unwrap();
        assert_eq!(back, l);
        // A zip bomb: 64 MiB of zeros compress to ~64 KiB; refused at the limit.
        let zeros = StatusBits::new(1, vec![0; 64 << 20])
            .unwrap()
            .to_lst()
            .unwrap();
        assert_eq!(
            StatusBits::from_lst(1, &zeros, 1 << 20).unwrap_err().kind(),
            "malformed"
        );
        // Truncated data, not base64url, not ZLIB.
        let lst = l.to_lst().unwrap();
        for bad in [&lst[..lst.len() / 2], "not base64!", "AAAA"] {
            assert_eq!(
                StatusBits::from_lst(1, bad, 1 << 20).unwrap_err().kind(),
                "malformed",
                "{bad}"
            );
        }
    }
}
