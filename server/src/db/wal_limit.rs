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
/// pages, the size the checkpointer cuts a started-over WAL back to.
#[cfg(not(test))]
const RESTART_PAGES: i32 = 16 * 1024;
/// Small in unit tests, so that theirs (and every test's database) go through it.
#[cfg(test)]
const RESTART_PAGES: i32 = 2 * 1024;
/// How long the writer waits for readers still reading older pages from the WAL before
/// it gives up until the WAL has grown by another quarter of [`RESTART_PAGES`]. Reads
/// take milliseconds; a backup can take seconds, and commits must not wait for it.
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

    /// After a commit that left `wal_pages` in the WAL, outside any transaction.
    /// `busy_timeout` is the connection's usual one, put back afterwards.
    pub(super) fn after_commit(
        &mut self,
        conn: &Connection,
        wal_pages: i32,
        busy_timeout: Duration,
    ) {
        if wal_pages < RESTART_PAGES {
            // Started over (or never this large): try again from the limit.
            self.next_try_at = RESTART_PAGES;
            return;
        }
        if wal_pages < self.next_try_at {
            return;
        }
        if !copy_all_for_restart(conn, busy_timeout) {
            self.next_try_at = wal_pages + RESTART_PAGES / 4;
        }
    }
}

/// Copies every frame of the WAL into the database and waits (briefly) for readers to
/// leave it, so that the next transaction writes the WAL from its start. False when a
/// reader held on.
fn copy_all_for_restart(conn: &Connection, busy_timeout: Duration) -> bool {
    if let Err(e) = conn.busy_timeout(READER_PATIENCE) {
        tracing::warn!(error = %e, "shortening the wait for readers");
        return false;
    }
    let outcome = conn.query_row("PRAGMA main.wal_checkpoint(RESTART)", [], |row| {
        row.get::<_, i64>(0)
    });
    if let Err(e) = conn.busy_timeout(busy_timeout) {
        tracing::error!(error = %e, "putting the writer's busy timeout back");
    }
    match outcome {
        Ok(busy) => busy == 0,
        Err(e) => {
            tracing::warn!(error = %e, "copying the WAL to start it over");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::{Db, DbError};
    use rusqlite_migration::{M, Migrations};

    /// Commits queued back to back, ~40 MiB in all, while the checkpointer copies in the
    /// background: the WAL stays near the limit instead of holding all of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_stream_of_commits_keeps_the_wal_near_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = Migrations::new(vec![M::up("CREATE TABLE blobs (b BLOB NOT NULL);")]);
        let db = Db::open(dir.path(), "test", &migrations).unwrap();
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
        let wal = dir.path().join("test.db-wal");
        while let Some(done) = commits.join_next().await {
            done.unwrap().unwrap();
            largest_wal = largest_wal.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        let limit = u64::from(super::RESTART_PAGES.unsigned_abs()) * 4096;
        assert_eq!(db.count("SELECT count(*) FROM blobs").await, 80 * 128);
        // The WAL's file keeps the size it reached (up to the checkpointer's cut): the
        // limit plus the commit that crossed it, and its pages' headers.
        assert!(
            largest_wal < 2 * limit,
            "the WAL reached {largest_wal} bytes; the limit is {limit}"
        );
    }
}
