//! SQLite access for one context's database file.
//!
//! Writes go through one dedicated writer thread per database that practises *group
//! commit*: every write job waiting in the queue when a transaction starts runs inside it,
//! each in its own savepoint, and they share one `COMMIT`. Commits are this machine's
//! ceiling (~12k/s), so concurrent requests sharing a commit is what makes them fast.
//! A job's result is handed back only after its commit succeeded, so a caller never sees
//! a change that is not durable. Reads use a small pool of read-only connections on
//! tokio's blocking threads. Neither ever runs on the async runtime's worker threads.

use rusqlite::Connection;
use rusqlite_migration::Migrations;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::{oneshot, watch};

/// How many queued write jobs may share one transaction.
const MAX_JOBS_PER_COMMIT: usize = 256;
/// Read connections kept open when idle.
const MAX_IDLE_READERS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("migrating {path}: {source}")]
    Migration {
        path: PathBuf,
        source: rusqlite_migration::Error,
    },
    #[error("the database writer of {0} has stopped")]
    WriterGone(String),
    #[error("a database job panicked")]
    Panicked,
}

/// A connection inside an open write transaction. Work done through it commits with the
/// transaction or not at all.
pub struct Tx<'a>(&'a Connection);

impl Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
    }
}

/// Runs a job inside the writer's transaction; returns what to do once the commit outcome is known.
type WriteJob = Box<dyn FnOnce(&Connection) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;

/// A handle to one database file. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    path: PathBuf,
    writer: Mutex<mpsc::Sender<WriteJob>>,
    readers: Mutex<Vec<Connection>>,
    commits: watch::Sender<u64>,
}

impl Db {
    /// Opens (creating if needed) `dir/<name>.db` and brings its schema up to date.
    pub fn open(dir: &Path, name: &str, migrations: &Migrations<'static>) -> Result<Db, DbError> {
        let path = dir.join(format!("{name}.db"));
        let mut conn = open_connection(&path)?;
        migrations
            .to_latest(&mut conn)
            .map_err(|source| DbError::Migration {
                path: path.clone(),
                source,
            })?;
        let (tx, rx) = mpsc::channel::<WriteJob>();
        let (commits, _) = watch::channel(0u64);
        let db = Db {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                path,
                writer: Mutex::new(tx),
                readers: Mutex::new(Vec::new()),
                commits,
            }),
        };
        let notify = db.inner.commits.clone();
        std::thread::Builder::new()
            .name(format!("db-writer-{name}"))
            .spawn(move || writer_loop(conn, rx, notify))
            .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
        Ok(db)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Runs `f` in a write transaction (shared with other queued jobs, isolated from them by
    /// a savepoint). `Err` from `f` rolls back only `f`'s work. Returns once committed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (done, result) = oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(move |conn: &Connection| {
            let outcome = run_in_savepoint(conn, f);
            Box::new(move |commit_error: Option<&rusqlite::Error>| {
                let outcome = match (outcome, commit_error) {
                    (Ok(value), None) => Ok(value),
                    (Ok(_), Some(e)) => Err(E::from(DbError::Sqlite(copy_error(e)))),
                    (Err(e), _) => Err(e),
                };
                let _ = done.send(outcome);
            })
        });
        let sent = self
            .inner
            .writer
            .lock()
            .expect("writer sender lock")
            .send(job);
        if sent.is_err() {
            return Err(DbError::WriterGone(self.inner.name.clone()).into());
        }
        match result.await {
            Ok(outcome) => outcome,
            // The job was dropped without completing: it panicked inside the writer.
            Err(_) => Err(DbError::Panicked.into()),
        }
    }

    /// Runs `f` on a read-only connection on a blocking thread.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .map_err(|_| E::from(DbError::Panicked))?
    }

    /// [`Db::read`] for code already on a blocking thread (CLI, benchmarks).
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E>,
        E: From<DbError>,
    {
        let pooled = self.inner.readers.lock().expect("reader pool lock").pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = open_connection(&self.inner.path).map_err(E::from)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(|e| E::from(e.into()))?;
                conn
            }
        };
        let result = f(&conn);
        let mut pool = self.inner.readers.lock().expect("reader pool lock");
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        result
    }

    /// Ticks after every commit of this database: consumers of its outbox wait on it.
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.inner.commits.subscribe()
    }
}

fn open_connection(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn run_in_savepoint<T, E, F>(conn: &Connection, f: F) -> Result<T, E>
where
    F: FnOnce(&Tx<'_>) -> Result<T, E>,
    E: From<DbError>,
{
    let sql = |s: &str| conn.execute_batch(s).map_err(|e| E::from(e.into()));
    sql("SAVEPOINT job")?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&Tx(conn))));
    match outcome {
        Ok(Ok(value)) => {
            sql("RELEASE job")?;
            Ok(value)
        }
        Ok(Err(e)) => {
            sql("ROLLBACK TO job; RELEASE job")?;
            Err(e)
        }
        Err(_) => {
            sql("ROLLBACK TO job; RELEASE job")?;
            Err(E::from(DbError::Panicked))
        }
    }
}

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<WriteJob>, commits: watch::Sender<u64>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            for job in batch {
                // Never ran: report the failure to begin as its commit error.
                job(&conn)(Some(&e));
            }
            continue;
        }
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(&conn)).collect();
        let commit_error = conn.execute_batch("COMMIT").err();
        if commit_error.is_some() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for complete in completions {
            complete(commit_error.as_ref());
        }
        if commit_error.is_none() {
            commits.send_modify(|n| *n += 1);
        }
    }
}

/// `rusqlite::Error` is not `Clone`; every job of a failed commit gets its own copy.
fn copy_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            rusqlite::Error::SqliteFailure(*code, msg.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite_migration::M;

    fn test_db(dir: &Path) -> Db {
        let migrations =
            Migrations::new(vec![M::up("CREATE TABLE t (v INTEGER NOT NULL UNIQUE);")]);
        Db::open(dir, "test", &migrations).unwrap()
    }

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_while_its_neighbours_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let mut handles = Vec::new();
        for v in 0..200i64 {
            let db = db.clone();
            handles.push(tokio::spawn(async move {
                db.write(move |tx| -> Result<(), DbError> {
                    tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                    if v % 10 == 0 {
                        // A second row that violates UNIQUE: the whole job must vanish.
                        tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                    }
                    Ok(())
                })
                .await
            }));
        }
        let mut failed = 0;
        for h in handles {
            if h.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 20);
        let count: i64 = db
            .read(|c| {
                c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        assert_eq!(count, 180);
    }

    #[tokio::test]
    async fn a_panicking_job_is_reported_and_the_writer_lives_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let r: Result<(), DbError> = db.write(|_tx| panic!("boom")).await;
        assert!(matches!(r, Err(DbError::Panicked)));
        db.write(|tx| -> Result<usize, DbError> {
            Ok(tx.execute("INSERT INTO t (v) VALUES (1)", [])?)
        })
        .await
        .unwrap();
    }
}
