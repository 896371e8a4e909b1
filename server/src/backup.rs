//! `ates-server backup` and `restore`: a consistent copy of every database, taken while
//! the server runs, and putting one back.
//!
//! Each database is copied with SQLite's online backup API in one step, so each copy is
//! one consistent snapshot, and writers are never blocked (WAL). The four snapshots are
//! taken one after another, consumers before the producers they read: every position a
//! consumer stored then points at events its producer's (later) copy holds. Taken the
//! other way round, a restored consumer could stand past its producer's head and skip
//! the events the producer writes next under the same sequence numbers.
//!
//! A backup directory is itself a data directory: `restore` copies it into place, and a
//! server could also start on it directly.

use crate::lock::DataDirLock;
use anyhow::{Context as _, bail, ensure};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Consumers before their producers: analytics reads tracker and accounting, accounting
/// reads auth and tracker, the tracker reads auth.
pub const DATABASES: [&str; 4] = ["analytics", "accounting", "tracker", "auth"];

const MANIFEST: &str = "backup.json";
const SECRET: &str = "jwt_secret";

/// Written last: a directory without it is not a complete backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub server_version: String,
    pub databases: Vec<DatabaseCopy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseCopy {
    pub name: String,
    pub bytes: u64,
    /// The last sequence number of the context's own event log in the copy.
    pub outbox_head: i64,
}

/// Copies every database of `data_dir` (and the kept token secret) into the new or empty
/// directory `to`. Safe while a server runs on `data_dir`.
pub fn backup(data_dir: &Path, to: &Path) -> anyhow::Result<Manifest> {
    for name in DATABASES {
        let path = db_path(data_dir, name);
        ensure!(
            path.exists(),
            "{} is missing: is {} an aTES data directory?",
            path.display(),
            data_dir.display()
        );
    }
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    ensure!(
        std::fs::read_dir(to)?.next().is_none(),
        "{} is not empty: back up into a new directory",
        to.display()
    );
    let mut databases = Vec::new();
    for name in DATABASES {
        let target = db_path(to, name);
        copy_database(&db_path(data_dir, name), &target)
            .with_context(|| format!("backing up {name}.db"))?;
        databases.push(describe(&target, name)?);
    }
    copy_secret(data_dir, to)?;
    let manifest = Manifest {
        format: 1,
        created_at: chrono::Utc::now(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        databases,
    };
    write_private(&to.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Puts the backup in `from` into `data_dir`. Refuses while a server holds `data_dir`,
/// and refuses to replace existing databases unless `replace` is set. Every copy is
/// checked and staged first, then all are moved into place.
pub fn restore(from: &Path, data_dir: &Path, replace: bool) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST))
            .with_context(|| format!("{} holds no complete aTES backup", from.display()))?,
    )
    .context("reading the backup's manifest")?;
    ensure!(
        manifest.format == 1,
        "unknown backup format {}",
        manifest.format
    );
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let _lock = DataDirLock::acquire(data_dir)?;
    if !replace
        && let Some(existing) = DATABASES
            .iter()
            .map(|name| db_path(data_dir, name))
            .find(|p| p.exists())
    {
        bail!(
            "{} already exists: pass --replace to overwrite the data directory with the backup",
            existing.display()
        );
    }
    let mut staged = Vec::new();
    for name in DATABASES {
        let source = db_path(from, name);
        let stage = data_dir.join(format!("{name}.db.restoring"));
        let _ = std::fs::remove_file(&stage);
        copy_database(&source, &stage).with_context(|| format!("restoring {name}.db"))?;
        staged.push((stage, db_path(data_dir, name)));
    }
    for (stage, live) in staged {
        // A stale WAL beside the new file would be replayed into it.
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", live.display()));
        }
        std::fs::rename(&stage, &live)
            .with_context(|| format!("moving {} into place", live.display()))?;
    }
    copy_secret(from, data_dir)?;
    Ok(manifest)
}

fn db_path(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(format!("{name}.db"))
}

/// One consistent snapshot of `source` into the new file `target`, checked after.
fn copy_database(source: &Path, target: &Path) -> anyhow::Result<()> {
    let from = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", source.display()))?;
    from.busy_timeout(Duration::from_secs(10))?;
    let mut to =
        Connection::open(target).with_context(|| format!("creating {}", target.display()))?;
    {
        let backup = Backup::new(&from, &mut to)?;
        // All pages in one step: one read transaction, hence one snapshot.
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    let check: String = to.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    ensure!(
        check == "ok",
        "{} fails its check: {check}",
        target.display()
    );
    // The copy keeps the source's WAL mode; fold everything into the file itself.
    to.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    drop(to);
    std::fs::File::open(target)?.sync_all()?;
    Ok(())
}

fn describe(path: &Path, name: &str) -> anyhow::Result<DatabaseCopy> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let outbox_head: i64 =
        conn.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?;
    Ok(DatabaseCopy {
        name: name.to_owned(),
        bytes: std::fs::metadata(path)?.len(),
        outbox_head,
    })
}

/// The generated token secret travels with the data, so tokens stay valid after a restore.
fn copy_secret(from: &Path, to: &Path) -> anyhow::Result<()> {
    match std::fs::read(from.join(SECRET)) {
        Ok(secret) => write_private(&to.join(SECRET), &secret),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).context("reading the token secret"),
    }
}

/// Writes a new file readable by the owner only (so from its creation, never widened first
/// and narrowed after), and syncs it: secrets and backups both go through here.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.sync_all()?;
    Ok(())
}
