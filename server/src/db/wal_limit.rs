//! Keeping the WAL from growing without end while commits keep coming.
//!
//! SQLite writes the WAL from its start again only when a transaction begins with every
//! frame already copied into the database file. The checkpointer copies in the
//! background, but under a steady stream of commits (a reshuffle, a consumer working
//! through one, the speed bench's seeding) the next commit always lands before it caught
//! up: the WAL only grew. The speed bench's million tasks left a 6 GB WAL beside the
//! tracker's database and 2.7 GB beside accounting's; the reshuffle of them wrote 2.2 GB
//! more. Past [`RESTART_PAGES`], the writer therefore copies what is left itself, in
//! `RESTART` mode, between two transactions: the next one starts the WAL over.

use rusqlite::Connection;
use std::time::Duration;

/// The WAL is started over once it holds this many pages after a commit: 64 MiB of 4 KiB
/// pages.
#[cfg(not(test))]
const RESTART_PAGES: i32 = 16 * 1024;
/// Small in unit tests, so that theirs (and every test's database) go through it.
#[cfg(test)]
const RESTART_PAGES: i32 = 2 * 1024;
/// The WAL's file is cut back to this size when the WAL starts over (the writer's
/// `journal_size_limit`; SQLite applies the committing connection's): what
/// [`RESTART_PAGES`] fill, kept for reuse rather than grown again block by block.
pub(super) const KEPT_BYTES: i64 = RESTART_PAGES as i64 * 4096;
/// How long the writer waits for readers still reading older pages from the WAL before
/// it gives up until the WAL has grown by another quarter of [`RESTART_PAGES`]. Reads
/// take milliseconds; a backup can take seconds, and commits must not wait that long.
/// (Commits do wait while the writer copies what the checkpointer had not copied yet,
/// usually the last commit or two.)
const READER_PATIENCE: Duration = Duration::from_millis(50);

/// The writer's side of the limit: when to try next.
pub(super) struct WalLimit {
    /// Pages in the WAL from which the writer next tries to start it over.
    next_try_at: i32,
}

impl WalLimit {
    pub(super) fn new() -> WalLimit {
        WalLimit {
            next_try_at: RESTART_PAGES,
        }
    }

    /// After a commit that left `wal_pages` in the WAL, outside any transaction; true
    /// when the next transaction starts the WAL over. `busy_timeout` is the connection's
    /// usual one, put back afterwards.
    pub(super) fn after_commit(
        &mut self,
        conn: &Connection,
        wal_pages: i32,
        busy_timeout: Duration,
        metrics: &super::writer_metrics::WriterMetrics,
    ) -> bool {
        if wal_pages < RESTART_PAGES {
            // Started over (or never this large): try again from the limit.
            self.next_try_at = RESTART_PAGES;
            return false;
        }
        if wal_pages < self.next_try_at {
            return false;
        }
        let started = std::time::Instant::now();
        let restart = copy_all_for_restart(conn, busy_timeout);
        metrics.wal_restart(started.elapsed());
        match restart {
            Restart::Ready => {
                // `wal_pages` is the last count SQLite reported: a commit that writes no
                // page leaves it as it is, and must not start all this again.
                self.next_try_at = wal_pages.saturating_add(RESTART_PAGES);
                true
            }
            // The checkpointer was copying: the next commit tries again.
            Restart::CheckpointRunning => false,
            Restart::ReaderHeldOn => {
                self.next_try_at = wal_pages.saturating_add(RESTART_PAGES / 4);
                false
            }
        }
    }
}

enum Restart {
    Ready,
    CheckpointRunning,
    ReaderHeldOn,
}

/// Copies every frame of the WAL into the database and waits (briefly) for readers to
/// leave it, so that the next transaction writes the WAL from its start.
fn copy_all_for_restart(conn: &Connection, busy_timeout: Duration) -> Restart {
    if let Err(e) = conn.busy_timeout(READER_PATIENCE) {
        tracing::warn!(error = %e, "shortening the wait for readers");
        return Restart::ReaderHeldOn;
    }
    // One row: whether it was kept from finishing, the WAL's frames and those copied
    // (both -1 when another checkpoint was running and it could not start).
    let outcome = conn.query_row("PRAGMA main.wal_checkpoint(RESTART)", [], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
    });
    if let Err(e) = conn.busy_timeout(busy_timeout) {
        tracing::error!(error = %e, "putting the writer's busy timeout back");
    }
    match outcome {
        Ok((0, _)) => Restart::Ready,
        Ok((_, -1)) => Restart::CheckpointRunning,
        Ok(_) => Restart::ReaderHeldOn,
        Err(e) => {
            tracing::warn!(error = %e, "copying the WAL to start it over");
            Restart::ReaderHeldOn
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KEPT_BYTES;
    use crate::db::{Db, DbError};
    use rusqlite_migration::{M, Migrations};
    use std::path::Path;

    fn blobs_db(dir: &Path) -> Db {
        let migrations = Migrations::new(vec![M::up("CREATE TABLE blobs (b BLOB NOT NULL);")]);
        Db::open(dir, "test", &migrations).unwrap()
    }

    fn wal_bytes(dir: &Path) -> u64 {
        std::fs::metadata(dir.join("test.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// Commits queued back to back, ~40 MiB in all, while the checkpointer copies in the
    /// background: the WAL stays near the limit instead of holding all of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_stream_of_commits_keeps_the_wal_near_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let db = blobs_db(dir.path());
        let mut commits = tokio::task::JoinSet::new();
        for _ in 0..80 {
            let db = db.clone();
            commits.spawn(async move {
                // A transaction each (a batch of more than a few rows is never shared).
                db.write_batch(128, |tx| -> Result<(), DbError> {
                    let mut insert = tx.prepare_cached("INSERT INTO blobs (b) VALUES (?1)")?;
                    for i in 0..128u8 {
                        insert.execute([vec![i; 4000]])?;
                    }
                    Ok(())
                })
                .await
            });
        }
        let mut largest_wal = 0;
        while let Some(done) = commits.join_next().await {
            done.unwrap().unwrap();
            largest_wal = largest_wal.max(wal_bytes(dir.path()));
        }
        let limit = KEPT_BYTES.unsigned_abs();
        assert_eq!(db.count("SELECT count(*) FROM blobs").await, 80 * 128);
        // The limit plus the commit that crossed it, and its frames' headers; and a few
        // commits more when the low-priority checkpointer, starved by the other tests,
        // holds its lock for a while (the writer then tries again at the next commit: it
        // once reached 2.02 times the limit). Without the limit it would hold all 40 MiB.
        assert!(
            largest_wal < 3 * limit,
            "the WAL reached {largest_wal} bytes; the limit is {limit}"
        );
    }

    /// One transaction far past the limit: the WAL is started over after it, and its file
    /// cut back to the size kept by the next commit.
    #[tokio::test]
    async fn a_wal_grown_by_one_large_transaction_is_cut_back_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = blobs_db(dir.path());
        let limit = KEPT_BYTES.unsigned_abs();
        let rows = 3 * limit / 4000;
        db.write(move |tx| -> Result<(), DbError> {
            let mut insert = tx.prepare_cached("INSERT INTO blobs (b) VALUES (?1)")?;
            for i in 0..rows {
                insert.execute([vec![(i % 251) as u8; 4000]])?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let grown = wal_bytes(dir.path());
        assert!(
            grown > 2 * limit,
            "the transaction wrote only {grown} bytes"
        );
        db.write(|tx| -> Result<usize, DbError> {
            Ok(tx.execute("INSERT INTO blobs (b) VALUES (x'00')", [])?)
        })
        .await
        .unwrap();
        let kept = wal_bytes(dir.path());
        assert!(
            kept <= limit,
            "the WAL kept {kept} bytes; the limit is {limit}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM blobs").await,
            i64::try_from(rows).unwrap() + 1
        );
    }
}
