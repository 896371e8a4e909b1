//! One process at a time on a data directory for work that must not race a server: the
//! server holds an exclusive lock on `<data-dir>/ates.lock` while it runs, and the offline
//! rebuild takes the same lock, so it refuses to run beside a server (and vice versa).
//! The operating system drops the lock when the process ends, even on SIGKILL.

use anyhow::Context as _;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(dir: &Path) -> anyhow::Result<DataDirLock> {
        let path = dir.join("ates.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => anyhow::bail!(
                "the data directory {} is in use by another aTES process (a running server?); stop it first",
                dir.display()
            ),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let refused = DataDirLock::acquire(dir.path()).unwrap_err();
        assert!(refused.to_string().contains("in use"), "{refused}");
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
