//! Durability for a single node: a snapshot file plus an append-only journal of deltas.
//!
//! Every addition is appended to `<snapshot>.journal` as one framed record and flushed to disk
//! before the call returns, so a crash loses no revocation that was acknowledged. A checkpoint
//! writes a fresh snapshot atomically and then empties the journal; a crash between the two only
//! makes the next start re-apply deltas it already holds, which is harmless (additions merge).
//!
//! ```text
//! frame:    "KCJ1" | length (u32 LE) | record (length bytes) | check (8)
//! check:    the first 8 bytes of SHA-256 over "KCJ1" | length | record
//! ```
//!
//! **Faults.** An append that fails part-way (ENOSPC, EIO, a short write) is cut off again before
//! the error is returned: the file is truncated back to its last good length. If even that fails,
//! the journal refuses every later append until a truncation succeeds, so nothing is ever written
//! behind a partial record. On start:
//! - a record cut short at the end of the file (a crash mid-append) is dropped: it was never
//!   acknowledged;
//! - a partial record followed by complete ones (a failed append whose truncation was lost) is
//!   skipped, and the records after it are kept: one bad record never hides later ones;
//! - a complete record that fails its check is corruption and stops the start with
//!   `corrupt_data`, rather than silently forgetting an acknowledged revocation.
//!
//! Journals written before framing (a bare `u32` length per record) are read too; the list
//! checkpoints them away at once.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The largest journal record accepted.
const MAX_RECORD: usize = 64 << 20;
/// Past this size the journal is folded into a new snapshot.
pub(crate) const CHECKPOINT_BYTES: u64 = 16 << 20;
/// The largest journal read at start (the same cap as a snapshot).
const MAX_JOURNAL_BYTES: u64 = super::RevocationList::MAX_FILE_BYTES;

const MAGIC: &[u8; 4] = b"KCJ1";
const CHECK: usize = 8;
/// Frame bytes around a record.
const OVERHEAD: usize = 4 + 4 + CHECK;

fn io(e: std::io::Error) -> Error {
    Error::Io(e.to_string())
}

/// The journal path beside a snapshot path.
pub(crate) fn journal_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

fn check(len: &[u8; 4], record: &[u8]) -> [u8; CHECK] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(MAGIC);
    ctx.update(len);
    ctx.update(record);
    let d = ctx.finish();
    let mut out = [0u8; CHECK];
    out.copy_from_slice(&d.as_ref()[..CHECK]);
    out
}

/// One record, framed.
fn frame(record: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(record.len())
        .ok()
        .filter(|n| (*n as usize) <= MAX_RECORD)
        .ok_or(Error::Io("journal record too large".into()))?
        .to_le_bytes();
    let mut out = Vec::with_capacity(OVERHEAD + record.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len);
    out.extend_from_slice(record);
    out.extend_from_slice(&check(&len, record));
    Ok(out)
}

/// A fault to inject into the next append, for tests of the failure paths.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fault {
    /// Write only this many bytes of the frame, then fail as a full disk would.
    ShortWrite(usize),
    /// As `ShortWrite`, and the truncation back fails too (once).
    ShortWriteThenTruncateFails(usize),
}

/// An open journal file.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    /// The length of the well-formed prefix: everything acknowledged.
    len: u64,
    /// A failed append may have left bytes past `len` that are not yet cut off.
    dirty: bool,
    pub(crate) snapshot: PathBuf,
    /// The snapshot's lock, held as long as the journal is open for writing.
    pub(crate) lock: Option<crate::file_lock::FileLock>,
    #[cfg(test)]
    pub(crate) fault: Option<Fault>,
    #[cfg(test)]
    truncate_fails: bool,
}

/// What [`Journal::open`] found.
pub(crate) struct Opened {
    pub(crate) journal: Journal,
    /// The records, in order.
    pub(crate) records: Vec<Vec<u8>>,
    /// The file was written before framing: checkpoint it away.
    pub(crate) legacy: bool,
}

/// Reads at most `MAX_JOURNAL_BYTES` from `file`, refusing a larger journal.
fn read_capped(file: &mut File, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(MAX_JOURNAL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_JOURNAL_BYTES {
        return Err(Error::Io(format!(
            "{} is over the {MAX_JOURNAL_BYTES}-byte limit",
            path.display()
        )));
    }
    Ok(bytes)
}

impl Journal {
    /// Opens (creating) the journal of `snapshot` and returns its records; a torn tail is cut off.
    /// The caller holds the file lock of the snapshot.
    pub(crate) fn open(snapshot: &Path) -> Result<Opened> {
        let path = journal_path(snapshot);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io)?;
        let bytes = read_capped(&mut file, &path)?;
        let parsed = parse(&bytes)?;
        if parsed.good < bytes.len() {
            file.set_len(parsed.good as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let journal = Journal {
            file,
            len: parsed.good as u64,
            dirty: false,
            snapshot: snapshot.to_path_buf(),
            lock: None,
            #[cfg(test)]
            fault: None,
            #[cfg(test)]
            truncate_fails: false,
        };
        Ok(Opened {
            journal,
            records: parsed.records,
            legacy: parsed.legacy,
        })
    }

    /// Cuts off whatever a failed append left past the last good length.
    fn repair(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        #[cfg(test)]
        if std::mem::take(&mut self.truncate_fails) {
            return Err(Error::Io("injected: truncation failed".into()));
        }
        self.file.set_len(self.len).map_err(io)?;
        self.file.sync_all().map_err(io)?;
        self.dirty = false;
        Ok(())
    }

    fn write_frame(&mut self, frame: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(fault) = self.fault.take() {
            let (n, truncate_fails) = match fault {
                Fault::ShortWrite(n) => (n, false),
                Fault::ShortWriteThenTruncateFails(n) => (n, true),
            };
            self.truncate_fails = truncate_fails;
            self.file.write_all(&frame[..n.min(frame.len())])?;
            return Err(std::io::Error::other("injected: no space left on device"));
        }
        self.file.write_all(frame)?;
        self.file.sync_data()
    }

    /// Appends one record and flushes it to disk. On failure nothing of it remains (or, if the
    /// file cannot be cut back, no later append is accepted until it can).
    pub(crate) fn append(&mut self, record: &[u8]) -> Result<()> {
        self.repair().map_err(|e| {
            Error::Io(format!(
                "the revocation journal could not be repaired after a failed write; refusing to append: {e}"
            ))
        })?;
        let frame = frame(record)?;
        match self.write_frame(&frame) {
            Ok(()) => {
                self.len += frame.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.dirty = true;
                let _ = self.repair();
                Err(io(e))
            }
        }
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
        self.dirty = false;
        Ok(())
    }
}

/// The records of the journal beside `snapshot`, if there is one; read only, without a lock.
pub(crate) fn read_records(snapshot: &Path) -> Result<Vec<Vec<u8>>> {
    let path = journal_path(snapshot);
    match File::open(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::Io(format!("{}: {e}", path.display()))),
        Ok(mut file) => Ok(parse(&read_capped(&mut file, &path)?)?.records),
    }
}

#[derive(Debug)]
struct Parsed {
    records: Vec<Vec<u8>>,
    /// The length of the well-formed prefix (records plus skipped partial ones).
    good: usize,
    legacy: bool,
}

/// The complete frame at `at`, if there is one: (record, frame length).
fn frame_at(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = bytes.get(at..)?;
    if rest.len() < OVERHEAD || &rest[..4] != MAGIC {
        return None;
    }
    let len: [u8; 4] = rest[4..8].try_into().ok()?;
    let n = u32::from_le_bytes(len) as usize;
    if n > MAX_RECORD || rest.len() - OVERHEAD < n {
        return None;
    }
    let record = &rest[8..8 + n];
    (rest[8 + n..8 + n + CHECK] == check(&len, record)).then_some((record, OVERHEAD + n))
}

/// The next offset after `at` where a complete, valid frame starts.
fn next_frame(bytes: &[u8], at: usize) -> Option<usize> {
    memchr::memmem::find_iter(&bytes[at + 1..], MAGIC)
        .map(|i| at + 1 + i)
        .find(|&i| frame_at(bytes, i).is_some())
}

/// Splits a journal into records (see the module docs for what is kept, skipped or refused).
fn parse(bytes: &[u8]) -> Result<Parsed> {
    if !bytes.is_empty() && !bytes.starts_with(MAGIC) && bytes.len() >= 4 {
        return parse_legacy(bytes);
    }
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        if let Some((record, n)) = frame_at(bytes, at) {
            records.push(record.to_vec());
            at += n;
            continue;
        }
        let Some(next) = next_frame(bytes, at) else {
            break; // torn tail: a record cut short by a crash, never acknowledged
        };
        // Something that is not a valid frame, followed by valid ones. If its own header says it
        // ends before the next frame, it is a complete record that fails its check: corruption.
        // Otherwise it was cut short by a failed append, which was never acknowledged.
        let declared = bytes
            .get(at..at + 8)
            .filter(|h| &h[..4] == MAGIC)
            .map(|h| OVERHEAD + u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize);
        if declared.is_some_and(|n| at + n <= next) {
            return Err(Error::Corrupt(
                "a revocation journal record fails its check",
            ));
        }
        at = next;
    }
    Ok(Parsed {
        records,
        good: at.min(bytes.len()),
        legacy: false,
    })
}

/// A journal written before framing: `u32` length, record; a torn tail is dropped.
fn parse_legacy(bytes: &[u8]) -> Result<Parsed> {
    let mut records = Vec::new();
    let mut at = 0usize;
    while bytes.len() - at >= 4 {
        let len =
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        if len > MAX_RECORD {
            return Err(Error::Corrupt("revocation journal record too large"));
        }
        if bytes.len() - at - 4 < len {
            break;
        }
        records.push(bytes[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    Ok(Parsed {
        records,
        good: at,
        legacy: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("keycard-journal-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn records(snap: &Path) -> Vec<Vec<u8>> {
        Journal::open(snap).unwrap().records
    }

    #[test]
    fn torn_tail_is_cut_and_records_survive() {
        let d = dir("torn");
        let snap = d.join("list.bin");
        {
            let mut j = Journal::open(&snap).unwrap().journal;
            j.append(b"first").unwrap();
            j.append(b"second").unwrap();
        }
        // A crash in the middle of a third append.
        let mut f = OpenOptions::new()
            .append(true)
            .open(journal_path(&snap))
            .unwrap();
        f.write_all(&frame(b"third").unwrap()[..9]).unwrap();
        drop(f);
        let opened = Journal::open(&snap).unwrap();
        assert_eq!(opened.records, vec![b"first".to_vec(), b"second".to_vec()]);
        let mut j = opened.journal;
        assert_eq!(j.len() as usize, 2 * OVERHEAD + 5 + 6);
        j.append(b"third").unwrap();
        j.clear().unwrap();
        assert!(records(&snap).is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_append_is_cut_back_and_later_appends_survive() {
        let d = dir("short");
        let snap = d.join("list.bin");
        let mut j = Journal::open(&snap).unwrap().journal;
        j.append(b"before").unwrap();
        j.fault = Some(Fault::ShortWrite(11));
        assert_eq!(j.append(b"lost").unwrap_err().kind(), "io");
        j.append(b"after").unwrap();
        drop(j);
        assert_eq!(records(&snap), vec![b"before".to_vec(), b"after".to_vec()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn appends_are_refused_until_the_journal_is_repaired() {
        let d = dir("repair");
        let snap = d.join("list.bin");
        let mut j = Journal::open(&snap).unwrap().journal;
        j.append(b"one").unwrap();
        j.fault = Some(Fault::ShortWriteThenTruncateFails(5));
        assert!(j.append(b"two").is_err());
        // The partial bytes are still on disk: the next append first repairs, and succeeds.
        j.append(b"three").unwrap();
        drop(j);
        assert_eq!(records(&snap), vec![b"one".to_vec(), b"three".to_vec()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_partial_record_never_hides_later_ones() {
        // What an append that failed part-way, without being cut back, leaves behind.
        let mut bytes = frame(b"one").unwrap();
        bytes.extend_from_slice(&frame(b"partial record").unwrap()[..13]);
        bytes.extend_from_slice(&frame(b"two").unwrap());
        bytes.extend_from_slice(&frame(b"three").unwrap());
        let p = parse(&bytes).unwrap();
        assert_eq!(
            p.records,
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
        assert_eq!(p.good, bytes.len());
        // Garbage that is not even a header, between records.
        let mut bytes = frame(b"one").unwrap();
        bytes.extend_from_slice(b"\0\0\x07");
        bytes.extend_from_slice(&frame(b"two").unwrap());
        assert_eq!(parse(&bytes).unwrap().records.len(), 2);
    }

    #[test]
    fn a_complete_record_failing_its_check_is_corruption() {
        let mut bytes = frame(b"one").unwrap();
        let mut rotten = frame(b"two").unwrap();
        rotten[9] ^= 1; // a flipped bit inside a complete record
        bytes.extend_from_slice(&rotten);
        bytes.extend_from_slice(&frame(b"three").unwrap());
        assert_eq!(parse(&bytes).unwrap_err().kind(), "corrupt_data");
        // The same at the very end cannot be told from a torn tail: dropped.
        let mut bytes = frame(b"one").unwrap();
        bytes.extend_from_slice(&rotten);
        assert_eq!(parse(&bytes).unwrap().records, vec![b"one".to_vec()]);
    }

    #[test]
    fn legacy_journals_are_read() {
        let mut bytes = Vec::new();
        for r in [&b"first"[..], b"second"] {
            bytes.extend_from_slice(&(r.len() as u32).to_le_bytes());
            bytes.extend_from_slice(r);
        }
        bytes.extend_from_slice(&[9, 0, 0, 0, b'x']);
        let p = parse(&bytes).unwrap();
        assert!(p.legacy);
        assert_eq!(p.records, vec![b"first".to_vec(), b"second".to_vec()]);
        let mut huge = u32::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 16]);
        assert_eq!(parse(&huge).unwrap_err().kind(), "corrupt_data");
    }
}
