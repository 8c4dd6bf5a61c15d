//! Durability for a single node: a snapshot file plus an append-only journal of deltas.
//!
//! Every addition is appended to `<snapshot>.journal` as one length-prefixed delta (which carries
//! its own checksum) and flushed to disk before the call returns, so a crash loses no revocation
//! that was acknowledged. A checkpoint writes a fresh snapshot atomically and then empties the
//! journal; a crash between the two only makes the next start re-apply deltas it already holds,
//! which is harmless (additions merge).
//!
//! On start, a record cut short by a crash (a torn tail) is dropped; a complete record that fails
//! its checksum is corruption and stops the start with `corrupt_data` rather than silently
//! forgetting revocations.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The largest journal record accepted.
const MAX_RECORD: usize = 64 << 20;
/// Past this size the journal is folded into a new snapshot.
pub(crate) const CHECKPOINT_BYTES: u64 = 16 << 20;

fn io(e: std::io::Error) -> Error {
    Error::Io(e.to_string())
}

/// The journal path beside a snapshot path.
pub(crate) fn journal_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// An open journal file.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    len: u64,
    pub(crate) snapshot: PathBuf,
}

impl Journal {
    /// Opens (creating) the journal of `snapshot` and returns its complete records; a torn tail
    /// is cut off.
    pub(crate) fn open(snapshot: &Path) -> Result<(Journal, Vec<Vec<u8>>)> {
        let path = journal_path(snapshot);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let (records, good) = split_records(&bytes)?;
        if good < bytes.len() {
            file.set_len(good as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let journal = Journal {
            file,
            len: good as u64,
            snapshot: snapshot.to_path_buf(),
        };
        Ok((journal, records))
    }

    /// Appends one record and flushes it to disk.
    pub(crate) fn append(&mut self, record: &[u8]) -> Result<()> {
        let len = u32::try_from(record.len())
            .ok()
            .filter(|n| (*n as usize) <= MAX_RECORD)
            .ok_or(Error::Io("journal record too large".into()))?;
        let mut framed = Vec::with_capacity(4 + record.len());
        framed.extend_from_slice(&len.to_le_bytes());
        framed.extend_from_slice(record);
        self.file.write_all(&framed).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.len += framed.len() as u64;
        Ok(())
    }

    /// The journal's size in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Empties the journal (after a snapshot holding its contents was written).
    pub(crate) fn clear(&mut self) -> Result<()> {
        self.file.set_len(0).map_err(io)?;
        self.file.sync_all().map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.len = 0;
        Ok(())
    }
}

/// The complete records of the journal beside `snapshot`, if there is one; read only.
pub(crate) fn read_records(snapshot: &Path) -> Result<Vec<Vec<u8>>> {
    let path = journal_path(snapshot);
    match path.try_exists() {
        Ok(false) => Ok(Vec::new()),
        Ok(true) => {
            let bytes = crate::atomic_file::read(&path, super::RevocationList::MAX_FILE_BYTES)?;
            Ok(split_records(&bytes)?.0)
        }
        Err(e) => Err(io(e)),
    }
}

/// The complete records of a journal, and the length of the well-formed prefix.
fn split_records(bytes: &[u8]) -> Result<(Vec<Vec<u8>>, usize)> {
    let mut records = Vec::new();
    let mut at = 0usize;
    while bytes.len() - at >= 4 {
        let len =
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        if len > MAX_RECORD {
            return Err(Error::Corrupt("revocation journal record too large"));
        }
        if bytes.len() - at - 4 < len {
            break; // torn tail
        }
        records.push(bytes[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    Ok((records, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tail_is_cut_and_records_survive() {
        let dir = std::env::temp_dir().join(format!("keycard-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let snap = dir.join("list.bin");
        {
            let (mut j, records) = Journal::open(&snap).unwrap();
            assert!(records.is_empty());
            j.append(b"first").unwrap();
            j.append(b"second").unwrap();
        }
        // A crash in the middle of a third append.
        let mut f = OpenOptions::new()
            .append(true)
            .open(journal_path(&snap))
            .unwrap();
        f.write_all(&[9, 0, 0, 0, b'x']).unwrap();
        drop(f);
        let (mut j, records) = Journal::open(&snap).unwrap();
        assert_eq!(records, vec![b"first".to_vec(), b"second".to_vec()]);
        assert_eq!(j.len(), 4 + 5 + 4 + 6);
        j.append(b"third").unwrap();
        j.clear().unwrap();
        let (_, records) = Journal::open(&snap).unwrap();
        assert!(records.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn oversized_length_is_corruption() {
        let mut bytes = (u32::MAX).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(split_records(&bytes).unwrap_err().kind(), "corrupt_data");
    }
}
