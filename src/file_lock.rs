//! Advisory locks between processes: one writer at a time for a revocation file or a key-set
//! file, whatever process it is.
//!
//! The lock is taken on a sidecar file, `<target>.lock`, never on the target itself: targets are
//! replaced by renaming a new file over them (see `atomic_file`), which would leave a lock held on
//! the old inode. The sidecar is never deleted (deleting it would let two processes lock two
//! different files of the same name). The operating system releases the lock when the holder
//! exits, however it exits, so a crash never leaves a file locked.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// An exclusive lock on `<target>.lock`, held until dropped: wrap a load-change-save of a shared
/// file (a key set) in one, and concurrent writers, in any process, queue instead of overwriting
/// each other's changes.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("keycard-doc-lock-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("keys.json");
/// use std::time::Duration;
/// use keycard::file_lock::FileLock;
/// use keycard::{Algorithm, KeyRing};
///
/// let _lock = FileLock::exclusive(&path, Duration::from_secs(10))?;
/// let ring = if path.exists() { KeyRing::load(&path)? } else { KeyRing::new() };
/// ring.rotate(Algorithm::EdDSA)?;
/// ring.save(&path)?; // still under the lock
/// # Ok::<(), keycard::Error>(())
/// ```
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// The lock path beside a target path.
fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl FileLock {
    /// Takes the lock on `<target>.lock`, waiting up to `wait` (zero: not at all) for another
    /// holder to release it; an `io` error when it is still held. Short-lived writers such as CLI
    /// commands wait, so they queue behind each other; a long-lived holder (a service) makes them
    /// fail.
    pub fn exclusive(target: &Path, wait: Duration) -> Result<FileLock> {
        let path = lock_path(target);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Io(format!(
                        "{} is locked by another process (a running service holding it open, or another command)",
                        target.display()
                    )));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::Io(format!("{}: {e}", path.display())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_released_on_drop() {
        let dir = std::env::temp_dir().join(format!("keycard-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("file.bin");
        let held = FileLock::exclusive(&target, Duration::ZERO).unwrap();
        // A second open file description conflicts, as a second process would.
        let err = FileLock::exclusive(&target, Duration::ZERO).unwrap_err();
        assert_eq!(err.kind(), "io");
        assert!(
            err.to_string().contains("locked by another process"),
            "{err}"
        );
        let started = Instant::now();
        assert!(FileLock::exclusive(&target, Duration::from_millis(50)).is_err());
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(held);
        let _again = FileLock::exclusive(&target, Duration::ZERO).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
