//! What a database's writer thread reports to `GET /metrics`, labelled by database: how
//! long its transactions and their commits take, how long starting the WAL over held it,
//! and how large the WAL is.
//!
//! Why: the writer is where every write of a context waits, and on a slow disk its
//! commits are what a reshuffle's settling waits on (on one 2-core VM, each of
//! accounting's 8000-fee commits took 40-70 ms, mostly the fsync of ~12 MB of WAL, and
//! each start-over 60-150 ms). Until these, seeing them took a patched binary.
//! Recording costs a lookup in the recorder per commit; without a recorder (unit tests,
//! tools) nothing is recorded.

use std::time::Duration;

pub(super) struct WriterMetrics {
    db: String,
}

impl WriterMetrics {
    pub(super) fn new(db: &str) -> WriterMetrics {
        WriterMetrics { db: db.to_owned() }
    }

    /// A transaction from `BEGIN` until its `COMMIT` returned (or its rollback), with the
    /// jobs it ran.
    pub(super) fn transaction(&self, took: Duration) {
        metrics::histogram!("ates_db_transaction_seconds", "db" => self.db.clone())
            .record(took.as_secs_f64());
    }

    /// The `COMMIT` alone: writing the transaction's pages to the WAL and syncing it.
    pub(super) fn commit(&self, took: Duration) {
        metrics::histogram!("ates_db_commit_seconds", "db" => self.db.clone())
            .record(took.as_secs_f64());
    }

    /// Copying what was left of the WAL so that the next transaction starts it over (see
    /// `wal_limit`): the writer takes no job meanwhile.
    pub(super) fn wal_restart(&self, took: Duration) {
        metrics::histogram!("ates_db_wal_restart_seconds", "db" => self.db.clone())
            .record(took.as_secs_f64());
    }

    /// Pages in the WAL after the last commit.
    pub(super) fn wal_pages(&self, pages: i32) {
        metrics::gauge!("ates_db_wal_pages", "db" => self.db.clone()).set(f64::from(pages));
    }
}
