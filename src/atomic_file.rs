//! Atomic file replacement: write a temporary file beside the target, flush it to disk, rename it
//! over the target, then flush the directory. A reader (or a restart after a crash) sees the old
//! file or the new one, never a torn mix. Used for revocation snapshots and key-set files.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

fn io(e: std::io::Error) -> Error {
    Error::Io(e.to_string())
}

/// Replaces `path` with `bytes` atomically. On Unix the file is created with `mode` (for example
/// `0o600` for secrets) before any byte is written.
pub(crate) fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::Io(format!("{} is not a file path", path.display())))?;
    let mut nonce = [0u8; 8];
    rand::fill(&mut nonce[..]);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:016x}",
        name.to_string_lossy(),
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, path).map_err(io)?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Reads a whole file, refusing files larger than `limit` bytes before reading them.
pub(crate) fn read(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    let len = f.metadata().map_err(io)?.len();
    if len > limit {
        return Err(Error::Io(format!(
            "{} is {len} bytes, over the {limit}-byte limit",
            path.display()
        )));
    }
    let mut out = Vec::with_capacity(len as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(f, limit + 1), &mut out).map_err(io)?;
    if out.len() as u64 > limit {
        return Err(Error::Io(format!(
            "{} grew while being read",
            path.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_with_mode() {
        let dir = std::env::temp_dir().join(format!("keycard-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file.bin");
        write(&path, b"one", 0o600).unwrap();
        write(&path, b"two", 0o600).unwrap();
        assert_eq!(read(&path, 10).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read(&path, 2).unwrap_err().kind(), "io");
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        assert_eq!(
            write(&dir.join("missing/x"), b"", 0o600)
                .unwrap_err()
                .kind(),
            "io"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
