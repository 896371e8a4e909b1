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
use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::{oneshot, watch};

mod time;
mod wal_limit;
mod writer_metrics;
pub use time::{Day, Stamp, optional_timestamp, timestamp};

/// How many queued write jobs may share one transaction.
const MAX_JOBS_PER_COMMIT: usize = 256;
/// Batches of at most this many items share a commit (see [`Db::write_batch`]).
const SHARED_BATCH_ITEMS: usize = 16;
/// Reads running at once on one database, each on a blocking thread with a pooled
/// connection. More wait for a turn: 64 concurrent readers once meant ~190 threads and
/// connections opened and closed per request (their page caches and prepared statements
/// lost), at a few percent of the framework's throughput.
const MAX_READERS: usize = 8;
/// Page cache of the writer connection, in KiB. Large transactions (a reshuffle touches
/// hundreds of thousands of rows) otherwise spill dirty pages to the WAL mid-transaction,
/// which more than doubled a 100k-task reshuffle's time.
pub const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// Page cache of each pooled reader, in KiB. A read touches a few dozen pages; the rest
/// comes from the operating system's file cache. Thirty-two readers at SQLite's default
/// of 2 MiB were a fifth of the server's memory.
const READER_CACHE_KIB: i64 = 1024;
/// How long a writer waits with nothing to do before it hands its page cache back.
const IDLE_BEFORE_SHRINKING: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a connection waits for a lock another holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The least time between two checkpoints of one database.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// A checkpoint is due once the WAL holds this many pages (SQLite's own default). More
/// often would cost fsyncs that commits wait behind.
const CHECKPOINT_PAGES: i32 = 1000;

thread_local! {
    /// Pages in the WAL after the last commit on this thread (a writer thread's own).
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    /// Whether the transaction running on this (writer) thread appended to the outbox.
    static OUTBOX_APPENDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(pages);
    Ok(())
}

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

impl Tx<'_> {
    /// Marks this transaction as one that appended to the outbox: once it commits,
    /// [`Db::appends`] ticks. (A `Tx` lives only on its database's writer thread.)
    pub fn note_outbox_append(&self) {
        OUTBOX_APPENDED.set(true);
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
    }
}

/// How a job is kept apart from the others in its transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// It shares the transaction: its own savepoint, rolled back alone on failure.
    Savepoint,
    /// It has the transaction to itself: no savepoint; the writer commits or rolls back.
    Transaction,
}

/// What the writer asks of a job: run now, or give up because the transaction could not start.
enum Attempt<'c> {
    Run(&'c Connection, Isolation),
    Fail(&'c rusqlite::Error),
}

/// A queued write. Returns whether it succeeded and what to do once the commit outcome is known.
struct WriteJob {
    /// Runs alone in its own transaction, never grouped (large jobs: SQLite copies every
    /// page a savepoint touches into a sub-journal, which more than doubled a 100k-task
    /// reshuffle's time).
    exclusive: bool,
    /// Another database file to attach (as the given schema name) for this job only; such
    /// a job is always exclusive. SQLite attaches only outside a transaction.
    attach: Option<(PathBuf, String)>,
    run: RunJob,
}

/// Runs (or fails) the job; returns whether it succeeded and its completion.
type RunJob = Box<dyn FnOnce(Attempt<'_>) -> (bool, Completion) + Send>;

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
    /// One permit per reader: bounds the blocking threads and keeps every read on a
    /// pooled connection.
    read_turns: Arc<tokio::sync::Semaphore>,
    commits: watch::Sender<u64>,
    appends: watch::Sender<u64>,
    signals: Mutex<HashMap<String, Arc<watch::Sender<u64>>>>,
}

/// How a database's writer thread is scheduled beside the server's other threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterPriority {
    /// Writes that requests wait on, or that decide what others are waiting for.
    Normal,
    /// A read model's projection, which may yield (see [`crate::priority::READ_MODEL_WRITER`]).
    ReadModel,
}

impl Db {
    /// Opens (creating if needed) `dir/<name>.db` and brings its schema up to date.
    pub fn open(dir: &Path, name: &str, migrations: &Migrations<'static>) -> Result<Db, DbError> {
        Self::open_with(dir, name, migrations, WriterPriority::Normal)
    }

    /// As [`Db::open`], its writer scheduled as `priority` says. Its checkpointer always
    /// runs at [`crate::priority::WAL_COPIES`].
    pub fn open_with(
        dir: &Path,
        name: &str,
        migrations: &Migrations<'static>,
        priority: WriterPriority,
    ) -> Result<Db, DbError> {
        let path = dir.join(format!("{name}.db"));
        let mut conn = open_connection(&path)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        // The checkpointer thread copies the WAL into the database, not the commits.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.wal_hook(Some(note_wal_pages));
        // Applied by the connection that commits (the writer) when the WAL starts over: a
        // log that grew large (a big transaction) is cut back then.
        conn.pragma_update(None, "journal_size_limit", wal_limit::KEPT_BYTES)?;
        migrations
            .to_latest(&mut conn)
            .map_err(|source| DbError::Migration {
                path: path.clone(),
                source,
            })?;
        let (tx, rx) = mpsc::channel::<WriteJob>();
        let (commits, _) = watch::channel(0u64);
        let (appends, _) = watch::channel(0u64);
        let db = Db {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                path,
                writer: Mutex::new(tx),
                readers: Mutex::new(Vec::new()),
                read_turns: Arc::new(tokio::sync::Semaphore::new(MAX_READERS)),
                commits,
                appends,
                signals: Mutex::new(HashMap::new()),
            }),
        };
        let notify = Committed {
            commits: db.inner.commits.clone(),
            appends: db.inner.appends.clone(),
        };
        let (checkpoints, checkpoint_due) = mpsc::sync_channel::<()>(1);
        let checkpointing = open_connection(&db.inner.path)?;
        let thread_failed =
            |e: std::io::Error| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into()));
        std::thread::Builder::new()
            .name(format!("db-checkpoint-{name}"))
            .spawn(move || {
                crate::priority::lower_this_thread(crate::priority::WAL_COPIES);
                checkpointer(checkpointing, checkpoint_due)
            })
            .map_err(thread_failed)?;
        std::thread::Builder::new()
            .name(format!("db-writer-{name}"))
            .spawn({
                let metrics = writer_metrics::WriterMetrics::new(name);
                move || {
                    if priority == WriterPriority::ReadModel {
                        crate::priority::lower_this_thread(crate::priority::READ_MODEL_WRITER);
                    }
                    writer_loop(conn, rx, notify, checkpoints, metrics)
                }
            })
            .map_err(thread_failed)?;
        Ok(db)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in a write transaction (shared with other queued jobs, isolated from them by
    /// a savepoint). `Err` from `f` rolls back only `f`'s work. Returns once committed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.submit(false, None, f).await
    }

    /// Writes a batch of `items` (events, deliveries): a few share the commit of whatever
    /// else waits for the writer ([`Db::write`]), one fsync for several instead of a queue
    /// of them at a steady load; more get a transaction of their own
    /// ([`Db::write_exclusive`]), where a savepoint's page copies would cost more than the
    /// shared commit saves.
    pub async fn write_batch<T, E, F>(&self, items: usize, f: F) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.submit(items > SHARED_BATCH_ITEMS, None, f).await
    }

    /// Like [`Db::write`], but `f` gets a transaction of its own. For large writes
    /// (reshuffles, consumer batches of more than a few events), where a savepoint's page
    /// copies would cost more than the shared commit saves.
    pub async fn write_exclusive<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.submit(true, None, f).await
    }

    /// Like [`Db::write_exclusive`], with the database file `path` attached as schema
    /// `alias` for the duration of the transaction (a rebuild swaps its fresh tables in
    /// this way: one transaction, readers see the old tables until it commits).
    pub async fn write_attached<T, E, F>(&self, path: &Path, alias: &str, f: F) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.submit(true, Some((path.to_path_buf(), alias.to_owned())), f)
            .await
    }

    async fn submit<T, E, F>(
        &self,
        exclusive: bool,
        attach: Option<(PathBuf, String)>,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (done, result) = oneshot::channel::<Result<T, E>>();
        let run = Box::new(move |attempt: Attempt<'_>| -> (bool, Completion) {
            let outcome = match attempt {
                Attempt::Run(conn, isolation) => run_isolated(conn, isolation, f),
                Attempt::Fail(e) => Err(E::from(DbError::Sqlite(copy_error(e)))),
            };
            let succeeded = outcome.is_ok();
            let complete: Completion = Box::new(move |commit_error: Option<&rusqlite::Error>| {
                let outcome = match (outcome, commit_error) {
                    (Ok(_), Some(e)) => Err(E::from(DbError::Sqlite(copy_error(e)))),
                    (outcome, _) => outcome,
                };
                let _ = done.send(outcome);
            });
            (succeeded, complete)
        });
        let sent = self
            .inner
            .writer
            .lock()
            .expect("writer sender lock")
            .send(WriteJob {
                exclusive,
                attach,
                run,
            });
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
        let turn = self
            .inner
            .read_turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| E::from(DbError::Panicked))?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            db.read_blocking(f)
        })
        .await
        .map_err(|_| E::from(DbError::Panicked))?
    }

    /// Runs `f` on a read-only connection here, on the calling task's own thread, for a
    /// read an index bounds to a page or to one worker's rows (a task by id, a page of a
    /// worker's tasks: tens of microseconds). Handing such a read to a blocking thread
    /// cost more than the read: two thread switches a request held
    /// `GET /api/v1/tasks?assignee=me` to 17 % of `/healthz`; it serves 28 % this way.
    /// Anything that may scan (a search, a count, a range of days, a batch of events)
    /// goes through [`Db::read`], so it never holds up the requests sharing this thread.
    pub async fn read_inline<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E>,
        E: From<DbError>,
    {
        let _turn = self
            .inner
            .read_turns
            .acquire()
            .await
            .map_err(|_| E::from(DbError::Panicked))?;
        // A panic is an error answer, as it is from a blocking thread, not a lost connection.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.read_blocking(f)))
            .unwrap_or_else(|_| Err(E::from(DbError::Panicked)))
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
                conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)
                    .map_err(|e| E::from(e.into()))?;
                conn
            }
        };
        let result = f(&conn);
        // A read left inside a transaction (one that began a read transaction and returned
        // early) would pin its old snapshot for every later read on this connection, and
        // keep the WAL from being checkpointed past it: such a connection is closed, not pooled.
        if !conn.is_autocommit() {
            return result;
        }
        let mut pool = self.inner.readers.lock().expect("reader pool lock");
        if pool.len() < MAX_READERS {
            pool.push(conn);
        }
        result
    }

    /// Ticks after every commit of this database (the change stream, the access checks).
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.inner.commits.subscribe()
    }

    /// Ticks after every commit that appended to this database's outbox (through
    /// [`Tx::note_outbox_append`]): its consumers and its relay wait on this rather than on
    /// every commit. Most commits of a context's database are its consumers' applies, their
    /// positions and the relay's own position, and each woke every reader of the log for a
    /// read that found nothing. Events appended by another process are found by polling.
    pub fn appends(&self) -> watch::Receiver<u64> {
        self.inner.appends.subscribe()
    }

    /// A named signal of this database, made on first use, for readers that care about one
    /// kind of change rather than every commit: the writer that made the change ticks it
    /// once its transaction has committed. Every commit wakes whoever waits on
    /// [`Db::commits`]; in split mode that woke each consumer for the others' events and
    /// for its own work, one wasted read each time.
    pub fn signal(&self, name: &str) -> Arc<watch::Sender<u64>> {
        let mut signals = self.inner.signals.lock().expect("signals lock");
        signals
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(watch::channel(0).0))
            .clone()
    }
}

fn open_connection(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a committed outbox row survives a power loss. With NORMAL the producer's last
    // commits could vanish after a consumer stored a later position, and the sequence
    // numbers, reused by new events, would be skipped. Group commit keeps the extra sync
    // cheap: POST /tasks at 50 clients measured 5.6-6.5k/s with FULL, 6.3-7.6k/s with NORMAL.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    // One plan per statement, whatever values are bound. Without it, this build of SQLite
    // (STAT4) marked cached statements with parameters in their WHERE clause as expired at
    // every new binding and compiled them again on every run: a page of tasks spent more
    // time in SQLite's parser than in its B-trees.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

/// Runs `f`, catching panics. In a shared transaction its work is wrapped in a savepoint
/// and undone alone on failure; with a transaction of its own the writer rolls back.
fn run_isolated<T, E, F>(conn: &Connection, isolation: Isolation, f: F) -> Result<T, E>
where
    F: FnOnce(&Tx<'_>) -> Result<T, E>,
    E: From<DbError>,
{
    let sql = |s: &str| conn.execute_batch(s).map_err(|e| E::from(e.into()));
    let shared = isolation == Isolation::Savepoint;
    if shared {
        sql("SAVEPOINT job")?;
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&Tx(conn))))
        .unwrap_or_else(|_| Err(E::from(DbError::Panicked)));
    if shared {
        let end = match outcome {
            Ok(_) => "RELEASE job",
            Err(_) => "ROLLBACK TO job; RELEASE job",
        };
        if let Err(e) = conn.execute_batch(end) {
            // The job's work can no longer be kept apart from its neighbours' (a failed
            // rollback would leave it in the transaction, to commit with theirs while its
            // caller hears it failed): the whole transaction goes, and the writer fails
            // every job of it, as when SQLite rolls back by itself.
            let _ = conn.execute_batch("ROLLBACK");
            return Err(E::from(e.into()));
        }
    }
    outcome
}

/// Copies committed pages from the WAL into the database file whenever the writer says
/// the WAL holds [`CHECKPOINT_PAGES`], at most every [`CHECKPOINT_INTERVAL`]. SQLite's automatic
/// checkpoint would run inside the commit that crosses 1000 pages, fsyncs included: a
/// quarter of a consumer's time, and a stall for whoever waits on that commit. A passive
/// checkpoint never blocks the writer or the readers. Ends with the writer.
fn checkpointer(conn: Connection, due: mpsc::Receiver<()>) {
    while due.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpointing the WAL");
        }
        std::thread::sleep(CHECKPOINT_INTERVAL);
    }
}

/// The next job; after [`IDLE_BEFORE_SHRINKING`] with none, the writer's page cache is
/// handed back first (a reshuffle of 1M tasks fills all of it, and the server should not
/// stay that size). `None` once every handle is gone.
fn next_job(conn: &Connection, jobs: &mpsc::Receiver<WriteJob>) -> Option<WriteJob> {
    match jobs.recv_timeout(IDLE_BEFORE_SHRINKING) {
        Ok(job) => return Some(job),
        Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        Err(mpsc::RecvTimeoutError::Timeout) => {}
    }
    if let Err(e) = conn.execute_batch("PRAGMA shrink_memory") {
        tracing::warn!(error = %e, "shrinking the writer's page cache");
    }
    crate::memory::give_back_freed();
    jobs.recv().ok()
}

/// What the writer announces after a commit.
struct Committed {
    commits: watch::Sender<u64>,
    appends: watch::Sender<u64>,
}

fn writer_loop(
    conn: Connection,
    jobs: mpsc::Receiver<WriteJob>,
    committed: Committed,
    checkpoints: mpsc::SyncSender<()>,
    metrics: writer_metrics::WriterMetrics,
) {
    // An exclusive job found while gathering a group waits here for the next round.
    let mut held_back: Option<WriteJob> = None;
    let mut wal_limit = wal_limit::WalLimit::new();
    loop {
        let first = match held_back.take() {
            Some(job) => job,
            None => match next_job(&conn, &jobs) {
                Some(job) => job,
                None => return,
            },
        };
        let mut group = vec![first];
        while !group[0].exclusive && group.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) if job.exclusive => {
                    held_back = Some(job);
                    break;
                }
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let attached = match group[0].attach.take() {
            Some((path, alias)) => match attach(&conn, &path, &alias) {
                Ok(()) => Some(alias),
                Err(e) => {
                    for job in group {
                        (job.run)(Attempt::Fail(&e)).1(None);
                    }
                    continue;
                }
            },
            None => None,
        };
        let started = std::time::Instant::now();
        let committed_any = run_transaction(&conn, group, &committed, &metrics);
        metrics.transaction(started.elapsed());
        if let Some(alias) = attached
            && let Err(e) = conn.execute("DETACH DATABASE ?1", [&alias])
        {
            tracing::error!(error = %e, alias, "detaching a database");
        }
        if committed_any {
            let wal_pages = WAL_PAGES.get();
            metrics.wal_pages(wal_pages);
            // First: a checkpointer woken now would hold the lock the writer needs.
            let started_over = wal_limit.after_commit(&conn, wal_pages, BUSY_TIMEOUT, &metrics);
            if !started_over && wal_pages >= CHECKPOINT_PAGES {
                // Full means a checkpoint is already due.
                let _ = checkpoints.try_send(());
            }
        }
    }
}

fn attach(conn: &Connection, path: &Path, alias: &str) -> rusqlite::Result<()> {
    let path = path
        .to_str()
        .ok_or_else(|| rusqlite::Error::InvalidPath(path.to_path_buf()))?;
    // A failed DETACH earlier (only if both COMMIT and ROLLBACK failed) left it attached.
    let leftover: bool = conn
        .prepare("SELECT 1 FROM pragma_database_list WHERE name = ?1")?
        .exists([alias])?;
    if leftover {
        conn.execute("DETACH DATABASE ?1", [alias])?;
    }
    conn.execute("ATTACH DATABASE ?1 AS ?2", [path, alias])?;
    Ok(())
}

/// Runs a group of jobs in one transaction; true when something was committed.
fn run_transaction(
    conn: &Connection,
    group: Vec<WriteJob>,
    committed: &Committed,
    metrics: &writer_metrics::WriterMetrics,
) -> bool {
    // Whatever the outcome: a rolled-back append appended nothing.
    OUTBOX_APPENDED.set(false);
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        for job in group {
            (job.run)(Attempt::Fail(&e)).1(None);
        }
        return false;
    }
    // A lone job needs no savepoint: the transaction itself can be rolled back.
    let isolation = if group.len() == 1 {
        Isolation::Transaction
    } else {
        Isolation::Savepoint
    };
    let mut any_succeeded = false;
    // Some failures (disk full, I/O errors) make SQLite roll the whole transaction back by
    // itself. The jobs after that must not run in autocommit mode, and the jobs before it
    // lost their work: all of them fail.
    let mut aborted: Option<rusqlite::Error> = None;
    let completions: Vec<Completion> = group
        .into_iter()
        .map(|job| {
            if let Some(e) = &aborted {
                return (job.run)(Attempt::Fail(e)).1;
            }
            let (succeeded, complete) = (job.run)(Attempt::Run(conn, isolation));
            any_succeeded |= succeeded;
            if conn.is_autocommit() {
                aborted = Some(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some("SQLite rolled back the transaction".into()),
                ));
            }
            complete
        })
        .collect();
    if let Some(e) = aborted {
        for complete in completions {
            complete(Some(&e));
        }
        return false;
    }
    if !any_succeeded {
        let _ = conn.execute_batch("ROLLBACK");
        for complete in completions {
            complete(None);
        }
        return false;
    }
    let started = std::time::Instant::now();
    let commit_error = conn.execute_batch("COMMIT").err();
    metrics.commit(started.elapsed());
    if commit_error.is_some() {
        let _ = conn.execute_batch("ROLLBACK");
    } else {
        // Announced before the jobs hear back, so that whoever waits on a job's result
        // and then on these finds them ticked already.
        committed.commits.send_modify(|n| *n += 1);
        if OUTBOX_APPENDED.get() {
            committed.appends.send_modify(|n| *n += 1);
        }
    }
    for complete in completions {
        complete(commit_error.as_ref());
    }
    commit_error.is_none()
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
impl Db {
    /// The single number a `SELECT count(*) ...` answers, for tests' checks.
    pub(crate) async fn count(&self, sql: &'static str) -> i64 {
        self.read(move |c| c.query_row(sql, [], |r| r.get(0)).map_err(DbError::from))
            .await
            .expect("count query")
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

    /// The nice values of this process's threads named `name` (as `/proc` shortens it).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn nice_of_threads(name: &str) -> Vec<i32> {
        let shortened: String = name.chars().take(15).collect();
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| {
                let task = task.ok()?.path();
                let comm = std::fs::read_to_string(task.join("comm")).ok()?;
                (comm.trim_end() == shortened).then(|| {
                    crate::priority::nice_of(&std::fs::read_to_string(task.join("stat")).unwrap())
                })
            })
            .collect()
    }

    /// A read model's writer and every checkpointer make way for the writers that decide
    /// money and answer requests; those keep the normal priority.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn background_threads_run_at_lower_priority() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = Migrations::new(vec![M::up("CREATE TABLE t (v INTEGER);")]);
        let _read_model =
            Db::open_with(dir.path(), "xread", &migrations, WriterPriority::ReadModel).unwrap();
        let _normal = Db::open(dir.path(), "ywrite", &migrations).unwrap();
        // The threads lower themselves as they start. (`/proc` keeps 15 characters of a
        // name: the first letters of these two names tell their checkpointers apart.)
        let started = std::time::Instant::now();
        let niceness = || {
            [
                "db-writer-xread",
                "db-checkpoint-xread",
                "db-writer-ywrite",
                "db-checkpoint-ywrite",
            ]
            .map(nice_of_threads)
        };
        // A normal writer keeps the priority it was started with: this test's own.
        let own =
            crate::priority::nice_of(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
        let expected = [
            vec![crate::priority::READ_MODEL_WRITER],
            vec![crate::priority::WAL_COPIES],
            vec![own],
            vec![crate::priority::WAL_COPIES],
        ];
        while niceness() != expected && started.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(niceness(), expected);
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
        assert_eq!(db.count("SELECT count(*) FROM t").await, 180);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hundred_concurrent_readers_share_the_pool_and_give_back_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        db.write(|tx| -> Result<usize, DbError> {
            Ok(tx.execute("INSERT INTO t (v) VALUES (7)", [])?)
        })
        .await
        .unwrap();
        let read = |c: &Connection| -> Result<i64, DbError> {
            // Long enough that the readers overlap.
            std::thread::sleep(std::time::Duration::from_millis(2));
            Ok(c.query_row("SELECT v FROM t", [], |r| r.get(0))?)
        };
        let mut readers = tokio::task::JoinSet::new();
        for i in 0..200 {
            let db = db.clone();
            readers.spawn(async move {
                if i % 2 == 0 {
                    db.read(read).await
                } else {
                    db.read_inline(read).await
                }
            });
        }
        while let Some(value) = readers.join_next().await {
            assert_eq!(value.unwrap().unwrap(), 7);
        }
        assert_eq!(db.inner.read_turns.available_permits(), MAX_READERS);
        let pooled = db.inner.readers.lock().unwrap().len();
        assert!((1..=MAX_READERS).contains(&pooled), "{pooled} pooled");
    }

    #[tokio::test]
    async fn a_panicking_inline_read_is_an_error_and_gives_its_turn_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let r: Result<(), DbError> = db.read_inline(|_conn| panic!("boom")).await;
        assert!(matches!(r, Err(DbError::Panicked)));
        assert_eq!(db.inner.read_turns.available_permits(), MAX_READERS);
        let count: i64 = db
            .read_inline(|c| {
                Ok::<_, DbError>(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(count, 0);
    }

    #[tokio::test]
    async fn a_read_left_inside_a_transaction_does_not_pin_a_pooled_connection() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let count = |c: &Connection| -> Result<i64, DbError> {
            Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)
        };
        // Begins a read transaction and returns without ending it.
        let opened: i64 = db
            .read_inline(|c| {
                c.execute_batch("BEGIN")?;
                count(c)
            })
            .await
            .unwrap();
        assert_eq!(opened, 0);
        db.write(|tx| -> Result<usize, DbError> {
            Ok(tx.execute("INSERT INTO t (v) VALUES (1)", [])?)
        })
        .await
        .unwrap();
        // The pool hands out its most recent connection first: it must see the write.
        assert_eq!(db.read_inline(count).await.unwrap(), 1);
        assert!(
            db.inner
                .readers
                .lock()
                .unwrap()
                .iter()
                .all(Connection::is_autocommit)
        );
    }

    #[tokio::test]
    async fn a_job_whose_savepoint_cannot_be_rolled_back_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        // Holds the writer, so that the next two jobs queue and share a transaction.
        let holding = db.write_exclusive(|_tx| -> Result<(), DbError> {
            std::thread::sleep(std::time::Duration::from_millis(100));
            Ok(())
        });
        let neighbour = db.write(|tx| -> Result<usize, DbError> {
            Ok(tx.execute("INSERT INTO t (v) VALUES (1)", [])?)
        });
        // Ends its own savepoint, writes, then fails: its rollback has nothing to go back to.
        let rogue = db.write(|tx| -> Result<(), DbError> {
            let _ = tx.execute_batch("RELEASE job");
            tx.execute("INSERT INTO t (v) VALUES (2)", [])?;
            Err(DbError::Panicked)
        });
        let (held, _neighbour, rogue) = tokio::join!(holding, neighbour, rogue);
        held.unwrap();
        assert!(rogue.is_err());
        assert_eq!(
            db.count("SELECT count(*) FROM t WHERE v = 2").await,
            0,
            "a failed job's write was committed"
        );
    }

    #[tokio::test]
    async fn appends_tick_only_for_committed_transactions_that_appended() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let appends = db.appends();
        let insert = |v: i64, appended: bool, fail: bool| {
            let db = db.clone();
            async move {
                db.write(move |tx| -> Result<(), DbError> {
                    tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                    if appended {
                        tx.note_outbox_append();
                    }
                    if fail {
                        return Err(DbError::Panicked);
                    }
                    Ok(())
                })
                .await
            }
        };
        insert(1, false, false).await.unwrap();
        assert!(
            !appends.has_changed().unwrap(),
            "a commit without an append"
        );
        insert(2, true, true).await.unwrap_err();
        assert!(!appends.has_changed().unwrap(), "an append rolled back");
        insert(3, false, false).await.unwrap();
        assert!(
            !appends.has_changed().unwrap(),
            "the rolled-back append is forgotten"
        );
        insert(4, true, false).await.unwrap();
        assert!(appends.has_changed().unwrap(), "a committed append");
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
