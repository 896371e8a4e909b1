//! The consumer runtime: follows one producer's log and applies its events, in order, to
//! the consumer's own database, at least once and idempotently.
//!
//! A batch of events is applied in one transaction together with the consumer's new
//! position and the ids of its events in the inbox (one row for the batch, see
//! [`super::applied`]). An event already in the inbox is skipped, so a
//! redelivery (after a crash, a rewind or a broker's resend) changes nothing. An event the
//! handler fails on is retried with backoff; when every attempt fails it is parked as a
//! dead letter and the consumer moves on to the events behind it.

use super::applied;
use super::outbox::{Interest, LoggedEvent, SchemaCheck};
use super::schema;
use super::transport::EventLog;
use crate::clock::SharedClock;
use crate::db::{Db, DbError, Tx};
use ates_shared::events::Envelope;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

/// Applies events to a consumer's read model. Runs inside the consumer's transaction: all
/// its writes commit with the position and the inbox, or not at all. Events the
/// handler has no use for are simply `Ok(())`.
pub trait Handler: Send + Sync + 'static {
    /// Applies one event on its own. A handler that overrides [`Handler::batch`] must give
    /// here exactly what a batch of this one event gives (rebuilds call this).
    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()>;

    /// The events that can change anything here; the others are only stepped over (see
    /// [`Interest`]).
    fn interest(&self) -> Interest {
        Interest::All
    }

    /// Opens a batch: the events of one transaction (or, for a small batch, of one
    /// savepoint in a commit shared with other writes), handled in log order, then finished
    /// before it commits. By default each event is handled on its own; a
    /// handler may instead keep work over the batch and do it once at the end (accounting
    /// sums each worker's balance moves). A batch that fails is dropped unfinished with its
    /// transaction, so whatever it kept is lost with the rest. `prepared` is what
    /// [`Handler::prepare`] gave for these events, when it ran.
    fn batch<'t>(
        &'t self,
        tx: &'t Tx<'t>,
        _prepared: Option<Prepared>,
    ) -> Result<Box<dyn Batch + 't>, DbError> {
        Ok(Box::new(EachOnItsOwn { handler: self, tx }))
    }

    /// Work on a fetched batch that needs no writer, done ahead of the batch's turn: on a
    /// blocking thread, with a read connection of the consumer's own database, while the
    /// batch before it is applied. What it returns reaches [`Handler::batch`]. It may only
    /// save the writer work, never change an outcome: a batch applied without it (a small
    /// one, a retry, a replay, a rebuild) must come out the same. The writer is what every
    /// write of a context waits on, and what a reshuffle's settling waits on.
    fn prepare(&self, _conn: &Connection, _events: &[LoggedEvent]) -> Option<Prepared> {
        None
    }
}

/// What [`Handler::prepare`] worked out for one batch, for that handler's own
/// [`Handler::batch`] to take back.
pub type Prepared = Box<dyn std::any::Any + Send>;

/// A fetched batch: its events, checked against their schemas, and what the handler
/// prepared for them, if anything.
struct Fetched {
    events: Vec<LoggedEvent>,
    prepared: Option<Prepared>,
}

impl Fetched {
    /// Events applied as they are (a small batch, a retry): the writer does all the work.
    fn unprepared(events: Vec<LoggedEvent>) -> Fetched {
        Fetched {
            events,
            prepared: None,
        }
    }
}

/// A handler's work over the events of one transaction (see [`Handler::batch`]).
pub trait Batch {
    fn handle(&mut self, event: &Envelope) -> anyhow::Result<()>;

    /// Writes what the batch kept. A failure here is the database's, not an event's: the
    /// step fails and the whole batch is tried again later, never parked.
    fn finish(self: Box<Self>) -> Result<(), DbError>;
}

/// The default batch: each event applied immediately through [`Handler::handle`], nothing
/// kept.
struct EachOnItsOwn<'t, H: ?Sized> {
    handler: &'t H,
    tx: &'t Tx<'t>,
}

impl<H: Handler + ?Sized> Batch for EachOnItsOwn<'_, H> {
    fn handle(&mut self, event: &Envelope) -> anyhow::Result<()> {
        self.handler.handle(self.tx, event)
    }

    fn finish(self: Box<Self>) -> Result<(), DbError> {
        Ok(())
    }
}

/// How hard to try before parking an event.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_backoff: Duration::from_millis(50),
        }
    }
}

/// Events fetched and applied per transaction. Large, because a batch's cost is mostly
/// per page it dirties, not per row: a thousand fee rows over a thousand workers dirty
/// about as many index pages as four thousand do, and each commit waits for its fsync.
/// Not larger, because a batch and the one fetched behind it are in memory (~1 KB an
/// event) for each busy consumer. 100k fee rows settled in 3.1 s with 4000, 2.3-2.6 s
/// with 16000 (early measurements). Later, nine rounds each, alternating: 16,000 against
/// 8000 took accounting's writer 5 % less CPU and its checkpointer 25 % less (half as
/// many leaves of the per-worker index rewritten per fee, `ledger_by_owner` now), settled
/// 3 % sooner, and raised the peak by ~10 MiB; 32,000 gained nothing more and raised the
/// peak by ~40 MiB.
const BATCH: usize = 16_000;
/// Batches up to this size are checked against their schemas in place.
const SMALL_BATCH: usize = 16;
/// Consumers poll this often even without a wake-up (events written by another process).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Why one event could not be applied.
#[derive(Debug, Clone)]
enum Failure {
    /// It can never succeed as it is (breaks its schema): park at once.
    Permanent(String),
    /// The handler failed; it may succeed on a retry.
    Transient(String),
}

impl Failure {
    fn message(&self) -> &str {
        match self {
            Failure::Permanent(m) | Failure::Transient(m) => m,
        }
    }
}

/// What one step of the consumer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Applied (or skipped as duplicates, or parked) this many events.
    Applied(usize),
    /// Nothing new in the log.
    Idle,
}

/// Whether the log may hold events beyond those a step took, as far as that step read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backlog {
    MayHaveMore,
    /// The step's read reached the end of the log.
    WasEmpty,
}

pub struct Consumer {
    name: String,
    db: Db,
    log: Arc<dyn EventLog>,
    handler: Arc<dyn Handler>,
    clock: SharedClock,
    retry: RetryPolicy,
    wake: Notify,
    cursor: tokio::sync::Mutex<Cursor>,
}

/// Where the consumer stands, as far as it knows without asking its database.
#[derive(Default)]
struct Cursor {
    /// The position its last step left, if nothing may have moved it since (a rewind or
    /// a parked event forgets it). A wrong one costs a retry: a batch is applied only if
    /// the stored position is the one it follows.
    position: Option<i64>,
    /// The batch after the one being applied, fetched (and schema-checked) meanwhile on
    /// another thread: `(position it follows, its events)`.
    ahead: Option<Prefetch>,
    /// Rewinds so far. A step remembers its position only if none came while its batch
    /// was applied: a rewind that commits right after the batch would be overwritten, and
    /// go unnoticed until the log's next event.
    rewinds: u64,
}

type Prefetch = (i64, tokio::task::JoinHandle<Result<Fetched, DbError>>);

impl Consumer {
    /// `name` is `<consuming context>.<source>`, e.g. `tracker.auth`.
    pub fn new(
        context: &str,
        db: Db,
        log: Arc<dyn EventLog>,
        handler: Arc<dyn Handler>,
        clock: SharedClock,
    ) -> Consumer {
        Consumer {
            name: format!("{context}.{}", log.source()),
            db,
            log,
            handler,
            clock,
            retry: RetryPolicy::default(),
            wake: Notify::new(),
            cursor: tokio::sync::Mutex::new(Cursor::default()),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Consumer {
        self.retry = retry;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> &str {
        self.log.source()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn handler(&self) -> Arc<dyn Handler> {
        self.handler.clone()
    }

    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// Follows the log until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut changes = self.log.changes();
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.advance().await {
                Ok((Step::Applied(_), Backlog::MayHaveMore)) => continue,
                // A small batch was all the log held when it was read: what came since
                // has ticked `changes`, so waiting costs no event, and spares a read that
                // would find nothing (at a steady load, every other one).
                Ok((Step::Applied(_), Backlog::WasEmpty)) | Ok((Step::Idle, _)) => {}
                Err(e) => {
                    tracing::error!(consumer = %self.name, error = %e, "consumer step failed")
                }
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    /// Wakes the consumer now (after a rewind or a replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Takes the next batch from the log and applies it. Public so tests and tools can drain
    /// a consumer synchronously instead of sleeping.
    pub async fn step(&self) -> Result<Step, DbError> {
        Ok(self.advance().await?.0)
    }

    /// [`Consumer::step`], telling also whether the log may hold more right now.
    async fn advance(&self) -> Result<(Step, Backlog), DbError> {
        let mut cursor = self.cursor.lock().await;
        let rewinds = cursor.rewinds;
        let position = match cursor.position.take() {
            Some(position) => position,
            None => self.position().await?,
        };
        let batch = match cursor.ahead.take() {
            Some((after, fetching)) if after == position => {
                fetching.await.map_err(|_| DbError::Panicked)??
            }
            _ => self.fetch(position).await?,
        };
        let Some(last) = batch.events.last().map(|e| e.seq) else {
            cursor.position = Some(position);
            return Ok((Step::Idle, Backlog::WasEmpty));
        };
        let count = batch.events.len();
        // While a large batch is applied, the next one is read, checked and prepared on
        // another core. After a small one (a user's event or two), the log most likely
        // holds nothing more: reading it again would be a thread hand-off for nothing.
        // (A small batch fetched ahead was read after `run` last waited too, so what came
        // since has ticked as well.)
        let backlog = if count > SMALL_BATCH {
            cursor.ahead = Some((last, tokio::spawn(self.fetch(last))));
            Backlog::MayHaveMore
        } else {
            Backlog::WasEmpty
        };
        drop(cursor);
        match self.apply(position, batch).await {
            Ok(true) => {
                let mut cursor = self.cursor.lock().await;
                if cursor.rewinds == rewinds {
                    cursor.position = Some(last);
                }
                Ok((Step::Applied(count), backlog))
            }
            // Another runner or a rewind moved the position: start over from it.
            Ok(false) => Ok((Step::Applied(0), Backlog::MayHaveMore)),
            Err(BatchError::Db(e)) => Err(e),
            Err(BatchError::Failed {
                mut events,
                index,
                failure,
            }) => {
                // The whole batch was rolled back: apply the events before the failing one,
                // then give the failing one its retries.
                let failing = events.remove(index);
                events.truncate(index);
                let mut before_failing = position;
                if let Some(last) = events.last().map(|e| e.seq) {
                    match self.apply(position, Fetched::unprepared(events)).await {
                        Ok(true) => before_failing = last,
                        Err(BatchError::Db(e)) => return Err(e),
                        // Moved meanwhile, or a handler that fails only sometimes: start over.
                        Ok(false) | Err(BatchError::Failed { .. }) => {
                            return Ok((Step::Applied(0), Backlog::MayHaveMore));
                        }
                    }
                }
                self.retry_or_park(before_failing, failing, failure).await?;
                Ok((Step::Applied(index + 1), Backlog::MayHaveMore))
            }
        }
    }

    /// The batch after `position`, as a future that owns what it needs (to be spawned).
    fn fetch(
        &self,
        position: i64,
    ) -> impl Future<Output = Result<Fetched, DbError>> + Send + 'static {
        fetch(
            self.log.clone(),
            position,
            self.handler.clone(),
            self.db.clone(),
        )
    }

    /// Applies `batch`, which follows `position`, all or nothing.
    /// `Ok(false)`: the position is no longer `position`, nothing was applied.
    ///
    /// A small batch (a user's event or two) shares its commit with the inbox's next
    /// delivery or another consumer (see [`Db::write_batch`]).
    async fn apply(&self, position: i64, batch: Fetched) -> Result<bool, BatchError> {
        let (name, handler, clock) = (self.name.clone(), self.handler.clone(), self.clock.clone());
        let (moved, applied) = self
            .db
            .write_batch(batch.events.len(), move |tx| {
                apply_batch(tx, &name, handler.as_ref(), &clock, position, batch)
            })
            .await?;
        // The batch's events (a JSON tree each) are freed here, not on the writer's thread,
        // which every write to this database waits on: freeing 8000 of them was a tenth
        // of accounting's writer settling a reshuffle.
        drop(applied);
        Ok(moved)
    }

    /// Applies every pending event now; returns how many were taken from the log.
    pub async fn drain(&self) -> Result<usize, DbError> {
        let mut total = 0;
        while let Step::Applied(n) = self.step().await? {
            total += n;
        }
        Ok(total)
    }

    /// The position of the last event taken from the log.
    pub async fn position(&self) -> Result<i64, DbError> {
        let name = self.name.clone();
        self.db
            .read(move |conn| Ok(read_position(conn, &name)?))
            .await
    }

    /// Moves the position (back, to have events delivered again; the inbox keeps that
    /// harmless). Refuses positions outside the log.
    pub async fn rewind(&self, position: i64) -> Result<(), DbError> {
        let name = self.name.clone();
        self.db
            .write(move |tx| write_position(tx, &name, position).map_err(DbError::from))
            .await?;
        let mut cursor = self.cursor.lock().await;
        cursor.position = None;
        cursor.rewinds += 1;
        drop(cursor);
        self.wake();
        Ok(())
    }

    /// Retries `event` (which follows position `before`) with backoff, then parks it.
    /// Gives up quietly if the position moves meanwhile: the event will be fetched again.
    async fn retry_or_park(
        &self,
        before: i64,
        event: LoggedEvent,
        mut failure: Failure,
    ) -> Result<(), DbError> {
        let mut attempts = 1;
        let mut backoff = self.retry.first_backoff;
        while matches!(failure, Failure::Transient(_)) && attempts < self.retry.attempts {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempts += 1;
            match self
                .apply(before, Fetched::unprepared(vec![event.clone()]))
                .await
            {
                Ok(_) => return Ok(()),
                Err(BatchError::Db(e)) => return Err(e),
                Err(BatchError::Failed { failure: again, .. }) => failure = again,
            }
        }
        tracing::warn!(
            consumer = %self.name,
            event_id = %event.envelope.event_id,
            event_name = %event.envelope.event_name,
            attempts,
            error = failure.message(),
            "parking event as a dead letter"
        );
        let name = self.name.clone();
        let now = self.clock.now();
        let message = failure.message().to_owned();
        self.db
            .write(move |tx| -> Result<(), DbError> {
                // Park it only while the position still stands right before it: another
                // runner or a rewind may have moved on meanwhile.
                if read_position(tx, &name)? != before {
                    return Ok(());
                }
                tx.execute(
                    "INSERT INTO dead_letters
                       (id, consumer, event_id, event_name, event_version, envelope, error, attempts, parked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        Uuid::now_v7(),
                        name,
                        event.envelope.event_id,
                        event.envelope.event_name,
                        event.envelope.event_version,
                        serde_json::to_value(&event.envelope)
                            .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?,
                        message,
                        attempts,
                        now,
                    ],
                )?;
                write_position(tx, &name, event.seq)?;
                Ok(())
            })
            .await
    }
}

/// Up to a batch of events after `position`, read for the handler's interest, each checked
/// against its schema and the batch prepared by the handler (reading `own`, the consumer's
/// database), off the writer thread: the check is a fair share of what applying an event
/// costs, and what the handler prepares is work its writer no longer does.
async fn fetch(
    log: Arc<dyn EventLog>,
    position: i64,
    handler: Arc<dyn Handler>,
    own: Db,
) -> Result<Fetched, DbError> {
    let mut events = log.fetch(position, BATCH, handler.interest()).await?;
    if events.len() <= SMALL_BATCH {
        // Microseconds: not worth a trip to another thread while a user waits on the lag.
        events.iter_mut().for_each(LoggedEvent::check_schema);
        return Ok(Fetched::unprepared(events));
    }
    tokio::task::spawn_blocking(move || {
        let mut events = events;
        events.iter_mut().for_each(LoggedEvent::check_schema);
        // Preparing only saves the writer work: if the read fails, the writer does it all.
        // One read transaction for the batch: one snapshot of the books, rather than one
        // per statement, each checking the WAL and dropping the page cache whenever the
        // writer had committed (accounting's price reads were a tenth of the runtime
        // threads' time in a reshuffle that way).
        let prepared = own
            .read_blocking(|conn| {
                let snapshot = conn.unchecked_transaction()?;
                Ok::<_, DbError>(handler.prepare(&snapshot, &events))
            })
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "preparing a batch of events; the writer does it all");
                None
            });
        Fetched { events, prepared }
    })
    .await
    .map_err(|_| DbError::Panicked)
}

/// Why a batch was not applied.
enum BatchError {
    Db(DbError),
    /// `events[index]` failed; the whole batch's work is rolled back (its transaction, or
    /// its savepoint in a shared commit).
    Failed {
        events: Vec<LoggedEvent>,
        index: usize,
        failure: Failure,
    },
}

impl From<DbError> for BatchError {
    fn from(e: DbError) -> Self {
        BatchError::Db(e)
    }
}

/// Applies a fetched batch's `events` (which follow `expected_position`), handing the
/// handler what was prepared for them, and moves the position past them, all or nothing;
/// hands the events back (to be freed off the writer's thread). On the first failure the
/// caller's transaction (or savepoint) is rolled back. Batches are optimistic (no
/// savepoint per event, which would copy pages for every event); a failure is rare and
/// costs one re-run. If another writer moved the position (a rewind), nothing is applied:
/// the next step starts from the new position.
fn apply_batch(
    tx: &Tx<'_>,
    consumer: &str,
    handler: &dyn Handler,
    clock: &SharedClock,
    expected_position: i64,
    Fetched { events, prepared }: Fetched,
) -> Result<(bool, Vec<LoggedEvent>), BatchError> {
    if read_position(tx, consumer).map_err(DbError::from)? != expected_position {
        return Ok((false, events));
    }
    let now = clock.now();
    let ids = events
        .iter()
        .filter(|e| e.defect.is_none() && e.schema != SchemaCheck::NotNeeded)
        .map(|e| e.envelope.event_id);
    let mut inbox = Inbox::read(tx, consumer, ids)?;
    let mut batch = handler.batch(tx, prepared)?;
    for (index, event) in events.iter().enumerate() {
        if let Some(defect) = &event.defect {
            return Err(BatchError::Failed {
                failure: Failure::Permanent(format!(
                    "unreadable event at position {}: {defect}",
                    event.seq
                )),
                events,
                index,
            });
        }
        match apply_one(
            tx,
            &mut inbox,
            handler,
            batch.as_mut(),
            &event.envelope,
            &event.schema,
        ) {
            Ok(()) => {}
            Err(ApplyError::Db(e)) => return Err(BatchError::Db(e)),
            Err(ApplyError::Failed(failure)) => {
                drop(batch);
                return Err(BatchError::Failed {
                    events,
                    index,
                    failure,
                });
            }
        }
    }
    batch.finish()?;
    inbox.write(tx, consumer, now).map_err(DbError::from)?;
    if let Some(last) = events.last() {
        write_position(tx, consumer, last.seq).map_err(DbError::from)?;
    }
    Ok((true, events))
}

enum ApplyError {
    Db(DbError),
    Failed(Failure),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Db(e.into())
    }
}

/// The inbox's part in one transaction of a consumer: which of its events were applied
/// before, and the ids applied now, written at the end in one row (see [`applied`]).
struct Inbox {
    /// Applied before this transaction, or earlier in it (an event twice in one batch is
    /// applied once).
    applied: HashSet<Uuid>,
    applied_now: Vec<Uuid>,
}

impl Inbox {
    /// The inbox as it stands for `ids`, the events about to be applied.
    fn read(
        conn: &Connection,
        consumer: &str,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<Inbox, DbError> {
        Ok(Inbox {
            applied: applied::applied_among(conn, consumer, ids)?,
            applied_now: Vec::new(),
        })
    }

    fn has(&self, event_id: Uuid) -> bool {
        self.applied.contains(&event_id)
    }

    fn note(&mut self, event_id: Uuid) {
        self.applied.insert(event_id);
        self.applied_now.push(event_id);
    }

    fn write(
        self,
        tx: &Tx<'_>,
        consumer: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> rusqlite::Result<()> {
        applied::record(tx, consumer, self.applied_now, now)
    }
}

/// Validates, applies (as part of `batch`) and records one event, unless the inbox says it
/// was applied before.
fn apply_one(
    tx: &Tx<'_>,
    inbox: &mut Inbox,
    handler: &dyn Handler,
    batch: &mut dyn Batch,
    envelope: &Envelope,
    schema: &SchemaCheck,
) -> Result<(), ApplyError> {
    if inbox.has(envelope.event_id) || !handler.interest().wants(&envelope.event_name) {
        return Ok(());
    }
    match schema {
        SchemaCheck::Passed => {}
        SchemaCheck::NotNeeded => return Ok(()),
        SchemaCheck::Failed(problems) => {
            return Err(ApplyError::Failed(Failure::Permanent(problems.clone())));
        }
        SchemaCheck::NotYet => schema::validate(envelope)
            .map_err(|e| ApplyError::Failed(Failure::Permanent(e.to_string())))?,
    }
    // A panicking handler is a failing handler: retried, then parked, never a stalled consumer.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch.handle(envelope)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(anyhow::anyhow!("the handler panicked: {what}"))
        })
        .map_err(|e| {
            // Some failures (disk full, I/O errors) make SQLite roll the whole transaction
            // back: the database failed, not the event. The step fails and is tried again,
            // rather than the event being retried against nothing and parked.
            if tx.is_autocommit() {
                ApplyError::Db(DbError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some(format!("SQLite rolled back the transaction: {e:#}")),
                )))
            } else {
                ApplyError::Failed(Failure::Transient(format!("{e:#}")))
            }
        })?;
    inbox.note(envelope.event_id);
    Ok(())
}

/// Applies a parked event again (an admin's replay): same checks, same inbox.
pub(crate) fn replay(
    tx: &Tx<'_>,
    consumer: &str,
    handler: &dyn Handler,
    envelope: &Envelope,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let mut inbox = Inbox::read(tx, consumer, [envelope.event_id]).map_err(|e| e.to_string())?;
    let mut batch = handler.batch(tx, None).map_err(|e| e.to_string())?;
    match apply_one(
        tx,
        &mut inbox,
        handler,
        batch.as_mut(),
        envelope,
        &SchemaCheck::NotYet,
    ) {
        Ok(()) => {
            batch.finish().map_err(|e| e.to_string())?;
            inbox.write(tx, consumer, now).map_err(|e| e.to_string())
        }
        Err(ApplyError::Db(e)) => Err(e.to_string()),
        Err(ApplyError::Failed(f)) => Err(f.message().to_owned()),
    }
}

pub(crate) fn read_position(conn: &rusqlite::Connection, consumer: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT position FROM consumer_positions WHERE consumer = ?1")?
        .query_row([consumer], |r| r.get(0))
        .optional()
        .map(|p| p.unwrap_or(0))
}

fn write_position(tx: &Tx<'_>, consumer: &str, position: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO consumer_positions (consumer, position) VALUES (?1, ?2)
         ON CONFLICT (consumer) DO UPDATE SET position = excluded.position",
    )?
    .execute(params![consumer, position])?;
    Ok(())
}
