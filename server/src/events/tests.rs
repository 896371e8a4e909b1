//! The consumer runtime against a counting handler: redelivery, retries, dead letters.

use super::consumer::RetryPolicy;
use super::tables::EVENT_TABLES;
use super::transport::OutboxLog;
use super::*;
use crate::clock::{SharedClock, SystemClock};
use crate::db::{Db, DbError, Tx};
use ates_shared::Role;
use ates_shared::api::DeadLetterStatus;
use ates_shared::events::auth::UserCreated;
use rusqlite_migration::{M, Migrations};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// Counts the users it hears of; fails on usernames starting with `poison` while `poisoned`.
struct Counting {
    poisoned: Arc<AtomicBool>,
}

impl Counting {
    fn digest(&self, event: &Envelope) -> anyhow::Result<()> {
        let user: UserCreated = event.payload()?;
        if user.username.starts_with("panic") && self.poisoned.load(Ordering::SeqCst) {
            panic!("choked on {}", user.username);
        }
        if user.username.starts_with("poison") && self.poisoned.load(Ordering::SeqCst) {
            anyhow::bail!("cannot digest {}", user.username);
        }
        Ok(())
    }
}

impl Handler for Counting {
    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        self.digest(event)?;
        tx.execute("UPDATE counter SET n = n + 1", [])?;
        Ok(())
    }

    fn batch<'t>(
        &'t self,
        tx: &'t Tx<'t>,
        _prepared: Option<Prepared>,
    ) -> Result<Box<dyn Batch + 't>, DbError> {
        Ok(Box::new(Tally {
            counting: self,
            tx,
            heard: 0,
        }))
    }
}

/// Counts a batch's users in memory and writes the count at its end, as accounting keeps
/// balances: the tests here then also show that every way a batch is applied (whole, up
/// to a failing event, a retry, a dead letter's replay) finishes it exactly once.
struct Tally<'t> {
    counting: &'t Counting,
    tx: &'t Tx<'t>,
    heard: i64,
}

impl Batch for Tally<'_> {
    fn handle(&mut self, event: &Envelope) -> anyhow::Result<()> {
        self.counting.digest(event)?;
        self.heard += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), DbError> {
        self.tx
            .execute("UPDATE counter SET n = n + ?1", [self.heard])?;
        Ok(())
    }
}

struct Fixture {
    producer: Db,
    consumer_db: Db,
    events: EventSystem,
    poisoned: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

/// Applies each event through `Counting::handle`: the default batch, nothing kept.
struct OneAtATime(Counting);

impl Handler for OneAtATime {
    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        self.0.handle(tx, event)
    }
}

fn fixture() -> Fixture {
    fixture_with(false)
}

/// `one_at_a_time`: the handler keeps nothing over a batch (the default), rather than
/// counting a batch in memory.
fn fixture_with(one_at_a_time: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let producer = Db::open(
        dir.path(),
        "producer",
        &Migrations::new(vec![M::up(EVENT_TABLES)]),
    )
    .unwrap();
    let consumer_db = counter_db(dir.path());
    let clock: SharedClock = Arc::new(SystemClock);
    let poisoned = Arc::new(AtomicBool::new(true));
    let consumer = Consumer::new(
        "test",
        consumer_db.clone(),
        Arc::new(OutboxLog::new(producer.clone())),
        if one_at_a_time {
            Arc::new(OneAtATime(Counting {
                poisoned: poisoned.clone(),
            }))
        } else {
            Arc::new(Counting {
                poisoned: poisoned.clone(),
            })
        },
        clock.clone(),
    )
    .with_retry(RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(1),
    });
    Fixture {
        producer,
        consumer_db,
        events: EventSystem::new(vec![consumer], Default::default(), clock),
        poisoned,
        _dir: dir,
    }
}

/// A consumer's database: the event tables and a counter for the handlers here to move.
fn counter_db(dir: &std::path::Path) -> Db {
    Db::open(
        dir,
        "consumer",
        &Migrations::new(vec![
            M::up(EVENT_TABLES),
            M::up(crate::events::tables::DEAD_LETTER_RESOLUTION),
            M::up(crate::events::tables::INBOX_BY_BATCH),
            M::up("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);"),
        ]),
    )
    .unwrap()
}

async fn publish(db: &Db, username: &str) {
    let user = UserCreated {
        user_id: Uuid::now_v7(),
        username: username.into(),
        full_name: "F".into(),
        email: "f@x.y".into(),
        role: Role::Worker,
        active: true,
        version: 1,
        access_version: 1,
    };
    db.write(move |tx| Outbox::publish(tx, user, chrono::Utc::now()).map(|_| ()))
        .await
        .unwrap();
}

async fn count(db: &Db) -> i64 {
    db.read(|c| {
        c.query_row("SELECT n FROM counter", [], |r| r.get(0))
            .map_err(DbError::from)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn redelivered_events_change_nothing() {
    let f = fixture();
    for name in ["ann", "bob", "cid"] {
        publish(&f.producer, name).await;
    }
    f.events.drain().await.unwrap();
    assert_eq!(count(&f.consumer_db).await, 3);
    f.events.rewind("test.producer", 0).await.unwrap();
    assert_eq!(
        f.events.drain().await.unwrap(),
        3,
        "the log was delivered again"
    );
    assert_eq!(count(&f.consumer_db).await, 3, "and changed nothing");
}

#[tokio::test]
async fn a_failing_event_is_retried_parked_and_the_rest_flows_on() {
    failing_event_is_retried_parked_and_the_rest_flows_on(fixture()).await;
}

#[tokio::test]
async fn a_failing_event_is_retried_parked_and_the_rest_flows_on_one_event_at_a_time() {
    failing_event_is_retried_parked_and_the_rest_flows_on(fixture_with(true)).await;
}

async fn failing_event_is_retried_parked_and_the_rest_flows_on(f: Fixture) {
    publish(&f.producer, "ann").await;
    publish(&f.producer, "poison-pill").await;
    publish(&f.producer, "bob").await;
    f.events.drain().await.unwrap();
    assert_eq!(
        count(&f.consumer_db).await,
        2,
        "the events behind the failure were applied"
    );
    let status = f.events.status().await.unwrap();
    assert!(status.caught_up);
    assert_eq!(status.consumers[0].dead_letters, 1);
    let parked = f.events.dead_letters(None, None, 100).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(
        (parked[0].attempts, parked[0].status),
        (3, DeadLetterStatus::Parked)
    );
    assert!(
        parked[0].error.contains("cannot digest poison-pill"),
        "{}",
        parked[0].error
    );

    // Still failing: the replay is refused and counted.
    assert!(f.events.retry_dead_letter(parked[0].id).await.is_err());
    // Fixed: the replay applies it once, and a second replay changes nothing.
    f.poisoned.store(false, Ordering::SeqCst);
    let replayed = f.events.retry_dead_letter(parked[0].id).await.unwrap();
    assert_eq!(
        (replayed.status, replayed.attempts),
        (DeadLetterStatus::Resolved, 5)
    );
    f.events.retry_dead_letter(parked[0].id).await.unwrap();
    assert_eq!(count(&f.consumer_db).await, 3);
    assert_eq!(
        f.events.status().await.unwrap().consumers[0].dead_letters,
        0
    );
}

#[tokio::test]
async fn an_event_that_breaks_its_schema_is_parked_without_retries() {
    let f = fixture();
    f.producer
        .write(|tx| -> Result<(), DbError> {
            tx.execute(
                "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
                 VALUES (?1, 'UserCreated', 1, '2026-01-01T00:00:00Z', 'auth', '{\"user_id\": 7}')",
                [Uuid::now_v7()],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    publish(&f.producer, "ann").await;
    f.events.drain().await.unwrap();
    let parked = f
        .events
        .dead_letters(Some(DeadLetterStatus::Parked), None, 100)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].attempts, 1);
    assert!(
        parked[0].error.contains("does not match its schema"),
        "{}",
        parked[0].error
    );
    assert_eq!(count(&f.consumer_db).await, 1);
}

#[tokio::test]
async fn a_running_consumer_wakes_on_new_events() {
    let f = fixture();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    f.events.spawn(&mut tasks, &stopped);
    publish(&f.producer, "ann").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while count(&f.consumer_db).await < 1 {
        assert!(std::time::Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(true).unwrap();
    while tasks.join_next().await.is_some() {}
}

#[tokio::test]
async fn a_panicking_handler_is_retried_and_parked_like_a_failing_one() {
    let f = fixture();
    publish(&f.producer, "ann").await;
    publish(&f.producer, "panic-attack").await;
    publish(&f.producer, "bob").await;
    f.events.drain().await.unwrap();
    assert_eq!(count(&f.consumer_db).await, 2);
    let parked = f.events.dead_letters(None, None, 100).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].attempts, 3);
    assert!(
        parked[0].error.contains("panicked: choked on panic-attack"),
        "{}",
        parked[0].error
    );
}

/// Fails the way a full disk or an I/O error does: SQLite has rolled the whole transaction
/// back by itself before the handler's error comes out.
struct LosesItsTransaction {
    failing: Arc<AtomicBool>,
}

impl Handler for LosesItsTransaction {
    fn handle(&self, tx: &Tx<'_>, _event: &Envelope) -> anyhow::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            tx.execute_batch("ROLLBACK")?;
            anyhow::bail!("database or disk is full");
        }
        tx.execute("UPDATE counter SET n = n + 1", [])?;
        Ok(())
    }
}

#[tokio::test]
async fn a_transaction_lost_under_a_handler_fails_the_step_and_parks_nothing() {
    let log = test_log::TestLog::new("producer");
    let dir = tempfile::tempdir().unwrap();
    let consumer_db = counter_db(dir.path());
    let failing = Arc::new(AtomicBool::new(true));
    let consumer = log.consumer(
        "test",
        consumer_db.clone(),
        LosesItsTransaction {
            failing: failing.clone(),
        },
    );
    publish(&log.db, "ann").await;

    assert!(
        consumer.step().await.is_err(),
        "the database failed, not the event"
    );
    assert_eq!(
        consumer_db.count("SELECT count(*) FROM dead_letters").await,
        0,
        "an event is parked only for its own failure"
    );
    assert_eq!(consumer.position().await.unwrap(), 0);

    failing.store(false, Ordering::SeqCst);
    consumer.drain().await.unwrap();
    assert_eq!(count(&consumer_db).await, 1);
}

/// A log read is sized from the log's head: it must still give exactly the events after the
/// position, in order, never more than the limit, and nothing (not a panic) past the head.
#[tokio::test]
async fn reading_the_log_gives_what_follows_the_position_up_to_the_limit() {
    let f = fixture();
    for name in ["ann", "bob", "cid", "dan", "eve"] {
        publish(&f.producer, name).await;
    }
    let read = |after: i64, limit: usize| {
        f.producer.read(move |c| {
            Outbox::read_after(c, after, limit, outbox::Interest::All)
                .map(|events| events.iter().map(|e| e.seq).collect::<Vec<_>>())
        })
    };
    assert_eq!(read(0, 100).await.unwrap(), [1, 2, 3, 4, 5]);
    assert_eq!(read(1, 2).await.unwrap(), [2, 3]);
    assert_eq!(read(4, 8000).await.unwrap(), [5]);
    assert!(read(5, 10).await.unwrap().is_empty());
    assert!(
        read(99, 10).await.unwrap().is_empty(),
        "a position past the head"
    );
    assert!(read(0, 0).await.unwrap().is_empty());
}

/// Hands each batch what its `prepare` read of the consumer's own database (the counter),
/// and records what each batch was handed.
struct Preparing {
    handed: Arc<std::sync::Mutex<Vec<Option<Ahead>>>>,
}

/// What `Preparing` works out ahead of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ahead {
    events: usize,
    counted: i64,
}

/// Counts a batch's events into the counter.
struct CountInto<'t> {
    tx: &'t Tx<'t>,
}

impl Batch for CountInto<'_> {
    fn handle(&mut self, _event: &Envelope) -> anyhow::Result<()> {
        self.tx.execute("UPDATE counter SET n = n + 1", [])?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), DbError> {
        Ok(())
    }
}

impl Handler for Preparing {
    fn handle(&self, tx: &Tx<'_>, _event: &Envelope) -> anyhow::Result<()> {
        tx.execute("UPDATE counter SET n = n + 1", [])?;
        Ok(())
    }

    fn prepare(
        &self,
        conn: &rusqlite::Connection,
        events: &[outbox::LoggedEvent],
    ) -> Option<Prepared> {
        let counted: i64 = conn
            .query_row("SELECT n FROM counter", [], |r| r.get(0))
            .ok()?;
        Some(Box::new(Ahead {
            events: events.len(),
            counted,
        }))
    }

    fn batch<'t>(
        &'t self,
        tx: &'t Tx<'t>,
        prepared: Option<Prepared>,
    ) -> Result<Box<dyn Batch + 't>, DbError> {
        let prepared = prepared.and_then(|p| p.downcast::<Ahead>().ok());
        self.handed.lock().unwrap().push(prepared.map(|p| *p));
        Ok(Box::new(CountInto { tx }))
    }
}

/// A batch of more than a few events is prepared off the writer, reading the consumer's
/// own database as it stood, and what was prepared reaches that batch; a batch of a few
/// (a user's event or two, whose lag matters more) is not prepared.
#[tokio::test]
async fn a_large_batch_reaches_its_handler_with_what_was_prepared_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = crate::events::test_log::TestLog::new("producer");
    let consumer_db = counter_db(dir.path());
    let handed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let consumer = log.consumer(
        "test",
        consumer_db.clone(),
        Preparing {
            handed: handed.clone(),
        },
    );
    for i in 0..3 {
        publish(&log.db, &format!("few{i}")).await;
    }
    assert_eq!(consumer.drain().await.unwrap(), 3);
    for i in 0..40 {
        publish(&log.db, &format!("many{i}")).await;
    }
    assert_eq!(consumer.drain().await.unwrap(), 40);
    assert_eq!(count(&consumer_db).await, 43);
    let ahead = Ahead {
        events: 40,
        counted: 3,
    };
    assert_eq!(*handed.lock().unwrap(), vec![None, Some(ahead)]);
}
