//! The accounting rules, applied straight to the handler without HTTP.

use super::close::close_day;
use super::ledger::Ledger;
use super::pricing::{FEE_CENTS, REWARD_CENTS};
use super::store;
use crate::db::{Db, DbError};
use crate::events::test_log::TestLog;
use crate::events::{Envelope, EventPayload, Handler};
use ates_shared::Role;
use ates_shared::events::accounting::TransactionApplied;
use ates_shared::events::auth::UserCreated;
use ates_shared::events::tracker::{TaskAssigned, TaskCompleted, TaskCreated};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

struct Books {
    db: Db,
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, day, hour, 0, 0).unwrap()
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, day).unwrap()
}

impl Books {
    fn new() -> Books {
        Books::with_seed(super::pricing::new_seed())
    }

    fn with_seed(seed: Vec<u8>) -> Books {
        Books::open(tempfile::tempdir().unwrap(), seed)
    }

    /// Books over the accounting database in `dir`, migrated now (made if absent).
    fn open(dir: tempfile::TempDir, seed: Vec<u8>) -> Books {
        let db = Db::open(dir.path(), "accounting", &store::migrations()).unwrap();
        Books {
            db,
            ledger: Ledger {
                timezone: chrono_tz::UTC,
                seed,
            },
            _dir: dir,
        }
    }

    /// A ledger handler with these books' time zone and price seed.
    fn ledger(&self) -> Ledger {
        Ledger {
            timezone: self.ledger.timezone,
            seed: self.ledger.seed.clone(),
        }
    }

    async fn apply(&self, event: Envelope) {
        let ledger = self.ledger();
        self.db
            .write(move |tx| {
                ledger
                    .handle(tx, &event)
                    .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))
            })
            .await
            .unwrap();
    }

    async fn worker(&self) -> Uuid {
        let id = Uuid::now_v7();
        self.hear_of_worker(id).await;
        id
    }

    /// Tells the books of worker `id`, as auth does.
    async fn hear_of_worker(&self, id: Uuid) {
        let user = UserCreated {
            user_id: id,
            username: format!("w{id}"),
            full_name: "W".into(),
            email: "w@p.inc".into(),
            role: Role::Worker,
            active: true,
            version: 1,
            access_version: 1,
        };
        self.apply(user.into_envelope(at(1, 0))).await;
    }

    async fn assign(&self, task: Uuid, user: Uuid, when: DateTime<Utc>) {
        self.apply(
            TaskAssigned {
                task_id: task,
                assignee_id: user,
                assigned_at: when,
            }
            .into_envelope(when),
        )
        .await;
    }

    async fn complete(&self, task: Uuid, user: Uuid, when: DateTime<Utc>) {
        self.apply(
            TaskCompleted {
                task_id: task,
                assignee_id: user,
                completed_at: when,
            }
            .into_envelope(when),
        )
        .await;
    }

    async fn create(&self, task: Uuid, title: &str, when: DateTime<Utc>) {
        let created = TaskCreated {
            task_id: task,
            title: title.into(),
            jira_id: Some("POP-1".into()),
            description: String::new(),
            created_at: when,
        };
        self.apply(created.into_envelope(when)).await;
    }

    /// (kind, amount, date) of a user's rows, oldest first.
    async fn rows(&self, user: Uuid) -> Vec<(String, i64, NaiveDate)> {
        let mut rows: Vec<_> = self
            .db
            .read(move |c| store::entries(c, user, None, None, 1000).map_err(DbError::from))
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind.as_str().to_owned(), e.amount_cents, e.date))
            .collect();
        rows.reverse();
        rows
    }

    async fn balance(&self, user: Uuid) -> i64 {
        self.db
            .read(move |c| store::balance(c, user).map_err(DbError::from))
            .await
            .unwrap()
    }

    async fn close(&self, day: NaiveDate, now: DateTime<Utc>) -> ates_shared::api::CloseDayResult {
        self.db
            .write(move |tx| close_day(tx, day, now))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn every_assignment_costs_the_fee_and_a_completion_pays_the_reward_once() {
    let books = Books::new();
    let (ann, bob) = (books.worker().await, books.worker().await);
    let task = Uuid::now_v7();
    books.create(task, "fix login", at(2, 9)).await;
    books.assign(task, ann, at(2, 9)).await;
    books.assign(task, bob, at(2, 10)).await; // a reshuffle
    books.assign(task, ann, at(2, 11)).await; // and back
    books.complete(task, ann, at(2, 12)).await;
    books.complete(task, ann, at(2, 13)).await; // a second completion is never paid

    let ann_rows = books.rows(ann).await;
    let kinds: Vec<&str> = ann_rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(kinds, ["fee", "fee", "reward"]);
    let fee = -ann_rows[0].1;
    assert!(FEE_CENTS.contains(&fee));
    assert_eq!(
        ann_rows[1].1, -fee,
        "the same fee every time: prices are fixed once"
    );
    assert!(REWARD_CENTS.contains(&ann_rows[2].1));
    assert_eq!(
        books.rows(bob).await,
        vec![("fee".to_owned(), -fee, date(2))],
        "a reshuffle bills the new assignee"
    );
    assert_eq!(
        books.balance(ann).await,
        ann_rows.iter().map(|r| r.1).sum::<i64>()
    );
}

#[tokio::test]
async fn an_assignment_heard_before_the_creation_keeps_its_price_and_gets_the_title() {
    let books = Books::new();
    let ann = books.worker().await;
    let task = Uuid::now_v7();
    books.assign(task, ann, at(2, 9)).await;
    books.create(task, "late news", at(2, 9)).await;
    books.assign(task, ann, at(2, 10)).await;
    let entries = books
        .db
        .read(move |c| store::entries(c, ann, None, None, 10).map_err(DbError::from))
        .await
        .unwrap();
    assert_eq!(entries[0].amount_cents, entries[1].amount_cents);
    assert!(
        entries
            .iter()
            .all(|e| e.task.as_ref().unwrap().title == "late news")
    );
}

#[tokio::test]
async fn closing_pays_positive_balances_only_and_negatives_carry_over() {
    let books = Books::new();
    let (rich, poor) = (books.worker().await, books.worker().await);
    let (t1, t2) = (Uuid::now_v7(), Uuid::now_v7());
    books.assign(t1, rich, at(2, 9)).await;
    books.complete(t1, rich, at(2, 10)).await; // reward > fee: positive
    books.assign(t2, poor, at(2, 9)).await; // only a fee: negative
    let rich_balance = books.balance(rich).await;
    let poor_balance = books.balance(poor).await;
    assert!(rich_balance > 0 && poor_balance < 0);

    let closed = books.close(date(2), at(3, 0)).await;
    assert_eq!((closed.payouts, closed.paid_cents), (1, rich_balance));
    assert_eq!(books.balance(rich).await, 0);
    assert_eq!(
        books.rows(rich).await.last().unwrap(),
        &("payout".to_owned(), -rich_balance, date(2))
    );
    assert_eq!(
        books.balance(poor).await,
        poor_balance,
        "a negative balance carries over"
    );

    // Closing again changes nothing.
    let again = books.close(date(2), at(3, 1)).await;
    assert_eq!((again.payouts, again.paid_cents), (0, 0));
    assert_eq!(books.rows(rich).await.len(), 3);
}

#[tokio::test]
async fn a_payout_covers_only_the_day_it_closes() {
    let books = Books::new();
    let ann = books.worker().await;
    let (t1, t2) = (Uuid::now_v7(), Uuid::now_v7());
    books.assign(t1, ann, at(2, 9)).await;
    books.complete(t1, ann, at(2, 10)).await;
    let day_two = books.balance(ann).await;
    // Day 3's reward is already in the ledger when day 2 is closed late.
    books.assign(t2, ann, at(3, 9)).await;
    books.complete(t2, ann, at(3, 10)).await;
    let closed = books.close(date(2), at(3, 11)).await;
    assert_eq!(closed.paid_cents, day_two);
    assert!(books.balance(ann).await > 0, "day 3 is still owed");
}

#[tokio::test]
async fn an_event_dated_on_a_closed_day_is_billed_to_the_next_open_day() {
    let books = Books::new();
    let ann = books.worker().await;
    books.close(date(2), at(3, 0)).await;
    books.assign(Uuid::now_v7(), ann, at(2, 23)).await;
    assert_eq!(books.rows(ann).await[0].2, date(3));
}

#[tokio::test]
async fn company_earnings_are_fees_minus_rewards_of_the_day() {
    let books = Books::new();
    let (ann, bob) = (books.worker().await, books.worker().await);
    let (t1, t2) = (Uuid::now_v7(), Uuid::now_v7());
    books.assign(t1, ann, at(2, 9)).await;
    books.assign(t2, bob, at(2, 9)).await;
    books.complete(t1, ann, at(2, 10)).await;
    books.close(date(2), at(3, 0)).await; // payouts are not earnings
    let rows: Vec<_> = [books.rows(ann).await, books.rows(bob).await].concat();
    let fees: i64 = rows.iter().filter(|r| r.0 == "fee").map(|r| -r.1).sum();
    let rewards: i64 = rows.iter().filter(|r| r.0 == "reward").map(|r| r.1).sum();
    let earnings = books
        .db
        .read(|c| store::company_earnings(c, date(1), date(5)).map_err(DbError::from))
        .await
        .unwrap();
    assert_eq!(earnings, vec![(date(2), fees - rewards)]);
}

#[tokio::test]
async fn the_billing_day_follows_the_company_time_zone() {
    let mut books = Books::new();
    books.ledger.timezone = chrono_tz::Asia::Tokyo;
    let ann = books.worker().await;
    // 20:00 UTC on May 2nd is already May 3rd in Tokyo.
    books.assign(Uuid::now_v7(), ann, at(2, 20)).await;
    assert_eq!(books.rows(ann).await[0].2, date(3));
}

#[tokio::test]
async fn closing_a_day_first_closes_every_open_day_before_it() {
    let books = Books::new();
    books
        .db
        .write(|tx| {
            store::set_meta_if_absent(tx, "started_on", b"2026-05-02").map_err(DbError::from)
        })
        .await
        .unwrap();
    let ann = books.worker().await;
    let task = Uuid::now_v7();
    books.assign(task, ann, at(2, 9)).await;
    books.complete(task, ann, at(2, 10)).await;
    let owed = books.balance(ann).await;

    // Day 4 is closed on demand while days 2 and 3 are still open.
    let closed = books
        .db
        .write(|tx| super::close::close_through(tx, date(4), at(4, 12)))
        .await
        .unwrap();
    let dates: Vec<NaiveDate> = closed.iter().map(|c| c.date).collect();
    assert_eq!(dates, [date(2), date(3), date(4)]);
    assert_eq!((closed[0].payouts, closed[0].paid_cents), (1, owed));
    assert_eq!(
        closed[1].payouts + closed[2].payouts,
        0,
        "nothing is paid twice"
    );
    assert_eq!(books.balance(ann).await, 0);
    // Closing an earlier day afterwards finds nothing to do.
    let again = books
        .db
        .write(|tx| super::close::close_through(tx, date(3), at(4, 13)))
        .await
        .unwrap();
    assert!(again.is_empty());
}

#[test]
fn books_written_before_the_tables_were_keyed_keep_every_row() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    let migrations = store::migrations();
    // The last migration keys the ledger, prices and balances by their ids.
    let before = store::KEYED_TABLES_VERSION - 1;
    migrations.to_version(&mut conn, before).unwrap();
    let (user, task, row) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    conn.execute_batch("BEGIN").unwrap();
    conn.execute(
        "INSERT INTO tasks (id, title, jira_id, fee_cents, reward_cents) VALUES (?1, 't', NULL, 1500, 3000)",
        [task],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO ledger (id, user_id, task_id, kind, amount_cents, billing_date, at, event_id)
         VALUES (?1, ?2, ?3, 'fee', -1500, '2026-05-01', '2026-05-01 10:00:00+00:00', NULL)",
        rusqlite::params![row, user, task],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO accounts (user_id, balance_cents) VALUES (?1, -1500)",
        [user],
    )
    .unwrap();
    conn.execute_batch("COMMIT").unwrap();

    migrations.to_latest(&mut conn).unwrap();
    for table in ["ledger", "tasks", "accounts"] {
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
    }
    let indexes: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'ledger' AND name LIKE 'ledger_by_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 3);
    assert_eq!(store::balance(&conn, user).unwrap(), -1500);
    let entries = store::entries(&conn, user, None, None, 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].id, entries[0].amount_cents), (row, -1500));
    assert_eq!(entries[0].task.as_ref().map(|t| t.id), Some(task));
    assert_eq!(store::task_ledger(&conn, task).unwrap().len(), 1);
}

#[tokio::test]
async fn books_written_before_owner_numbers_keep_every_row_and_take_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (old, other, task) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    {
        let mut conn = rusqlite::Connection::open(dir.path().join("accounting.db")).unwrap();
        store::migrations()
            .to_version(&mut conn, store::LEDGER_OWNERS_VERSION - 1)
            .unwrap();
        for (user, amount, day) in [(old, -1500, 1), (old, 3000, 2), (other, -1000, 2)] {
            conn.execute(
                "INSERT INTO ledger (id, user_id, task_id, kind, amount_cents, billing_date, at, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
                rusqlite::params![
                    Uuid::now_v7(),
                    user,
                    task,
                    if amount < 0 { "fee" } else { "reward" },
                    amount,
                    date(day),
                    at(day, 10)
                ],
            )
            .unwrap();
        }
    }
    let books = Books::open(dir, super::pricing::new_seed());
    let newcomer = books.worker().await;
    books.assign(Uuid::now_v7(), old, at(3, 9)).await;
    books.assign(Uuid::now_v7(), newcomer, at(3, 9)).await;

    let (old_rows, other_rows, newcomer_rows, earned, mixed, unnumbered, owners) = books
        .db
        .read(move |c| -> Result<_, DbError> {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok((
                store::entries(c, old, None, None, 10)?,
                store::entries(c, other, None, None, 10)?,
                store::entries(c, newcomer, None, None, 10)?,
                store::earned_on(c, old, date(2))?,
                count(
                    "SELECT count(*) FROM (SELECT user_id FROM ledger GROUP BY user_id
                     HAVING count(DISTINCT owner) > 1)",
                )?,
                count(
                    "SELECT count(*) FROM ledger l LEFT JOIN ledger_owners o ON o.owner = l.owner
                     WHERE o.user_id IS NOT l.user_id",
                )?,
                count("SELECT count(*) FROM ledger_owners")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        old_rows.iter().map(|e| e.amount_cents).collect::<Vec<_>>()[1..],
        [3000, -1500],
        "newest first, the new fee on top"
    );
    assert_eq!(old_rows.len(), 3);
    assert_eq!(other_rows.len(), 1);
    assert_eq!(newcomer_rows.len(), 1);
    assert_eq!(earned, 3000);
    assert_eq!(
        (mixed, unnumbered),
        (0, 0),
        "each row carries its user's one number"
    );
    assert_eq!(owners, 3);
}

/// A user's rows must be found through `ledger_by_owner`: without it every statement and
/// "my account" scans the whole ledger (a million rows at the benchmark's size).
#[test]
fn a_users_rows_are_found_through_their_owner_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("accounting.db")).unwrap();
    store::migrations().to_latest(&mut conn).unwrap();
    for sql in [store::user_entries_sql(), store::earned_on_sql()] {
        let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let unbound = std::iter::repeat_n(rusqlite::types::Null, plan.parameter_count());
        let steps: Vec<String> = plan
            .query_map(rusqlite::params_from_iter(unbound), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX ledger_by_owner (owner=?")),
            "{sql}\n{steps:#?}"
        );
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN l")),
            "{sql}\n{steps:#?}"
        );
    }
}

/// What a context published: (user, kind, amount, billing day) of each `TransactionApplied`.
async fn published(db: &Db) -> Vec<(Uuid, String, i64, NaiveDate)> {
    let events = db
        .read(|c| {
            crate::events::Outbox::read_after(c, 0, 10_000, crate::events::outbox::Interest::All)
        })
        .await
        .unwrap();
    events
        .iter()
        .filter_map(|e| TransactionApplied::from_envelope(&e.envelope).unwrap())
        .map(|t| {
            (
                t.user_id,
                t.kind.as_str().to_owned(),
                t.amount_cents,
                t.billing_date,
            )
        })
        .collect()
}

/// A consumer applies a whole batch in one transaction and writes the balances once at
/// its end; the books must be exactly those of applying each event on its own: the same
/// rows, balances, billing days (late events on a closed day) and published events, and
/// a second completion in the same batch still not paid.
#[tokio::test]
async fn a_batch_books_exactly_what_one_event_at_a_time_books() {
    let one_by_one = Books::new();
    let batched = Books::with_seed(one_by_one.ledger.seed.clone());
    let tracker = TestLog::new("tracker");
    for books in [&one_by_one, &batched] {
        books.close(date(1), at(2, 0)).await;
    }

    let workers: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let tasks: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    let mut events = Vec::new();
    for (i, id) in workers.iter().enumerate() {
        let user = UserCreated {
            user_id: *id,
            username: format!("w{i}"),
            full_name: "W".into(),
            email: "w@p.inc".into(),
            role: Role::Worker,
            active: true,
            version: 1,
            access_version: 1,
        };
        events.push(user.into_envelope(at(1, 0)));
    }
    // The last task is assigned before accounting hears of its creation.
    for task in &tasks[..5] {
        let created = TaskCreated {
            task_id: *task,
            title: "t".into(),
            jira_id: Some("POP-1".into()),
            description: String::new(),
            created_at: at(1, 1),
        };
        events.push(created.into_envelope(at(1, 1)));
    }
    // Assigned on the closed day 1 (billed to day 2), then reshuffled on days 2 and 3.
    let mut assignee = std::collections::HashMap::new();
    for (round, when) in [at(1, 2), at(2, 3), at(3, 4)].into_iter().enumerate() {
        for (i, task) in tasks.iter().enumerate() {
            let worker = workers[(i + round) % workers.len()];
            assignee.insert(*task, worker);
            let assigned = TaskAssigned {
                task_id: *task,
                assignee_id: worker,
                assigned_at: when,
            };
            events.push(assigned.into_envelope(when));
        }
    }
    // The first task completed twice: paid once.
    for (task, when) in [
        (tasks[0], at(3, 5)),
        (tasks[1], at(3, 6)),
        (tasks[0], at(3, 7)),
    ] {
        let completed = TaskCompleted {
            task_id: task,
            assignee_id: assignee[&task],
            completed_at: when,
        };
        events.push(completed.into_envelope(when));
    }

    tracker.publish(events.clone()).await;
    for event in &events {
        one_by_one.apply(event.clone()).await;
    }
    let consumer = tracker.consumer("accounting", batched.db.clone(), batched.ledger());
    assert_eq!(
        consumer.step().await.unwrap(),
        crate::events::consumer::Step::Applied(events.len()),
        "every event in one batch"
    );

    for worker in &workers {
        let rows = one_by_one.rows(*worker).await;
        assert_eq!(batched.rows(*worker).await, rows);
        assert_eq!(
            batched.balance(*worker).await,
            one_by_one.balance(*worker).await
        );
        assert!(rows.iter().all(|(_, _, day)| *day != date(1)), "{rows:?}");
    }
    let rewards = published(&batched.db)
        .await
        .into_iter()
        .filter(|(_, kind, _, _)| kind == "reward")
        .count();
    assert_eq!(rewards, 2, "the second completion is not paid");
    assert_eq!(
        published(&batched.db).await,
        published(&one_by_one.db).await
    );
    for task in &tasks {
        assert_eq!(
            task_rows(&batched.db, *task).await,
            task_rows(&one_by_one.db, *task).await
        );
    }
    let first = task_rows(&batched.db, tasks[0]).await;
    let kinds: Vec<&str> = first.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["fee", "fee", "fee", "reward"], "{first:?}");
    let users: Vec<Uuid> = first.iter().map(|(user, _, _)| *user).collect();
    assert_eq!(users, [workers[0], workers[1], workers[2], workers[2]]);
}

/// (user, kind, amount) of a task's rows, oldest first, as accountants see them.
async fn task_rows(db: &Db, task: Uuid) -> Vec<(Uuid, String, i64)> {
    db.read(move |c| store::task_ledger(c, task).map_err(DbError::from))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.user.id, r.kind.as_str().to_owned(), r.amount_cents))
        .collect()
}

/// A batch that fails on an event is rolled back whole, applied again up to that event,
/// and the event is parked: the summed balance moves of the rolled-back attempt must be
/// gone with it, so the books end exactly as if the broken event had never been sent.
#[tokio::test]
async fn a_batch_that_fails_midway_books_each_good_event_once() {
    let one_by_one = Books::new();
    let batched = Books::with_seed(one_by_one.ledger.seed.clone());
    let tracker = TestLog::new("tracker");
    let worker = Uuid::now_v7();
    let assign = |task: Uuid, hour: u32| {
        TaskAssigned {
            task_id: task,
            assignee_id: worker,
            assigned_at: at(2, hour),
        }
        .into_envelope(at(2, hour))
    };
    let (before, after) = (
        vec![assign(Uuid::now_v7(), 1), assign(Uuid::now_v7(), 2)],
        vec![assign(Uuid::now_v7(), 4)],
    );
    tracker.publish(before.clone()).await;
    // An assignment without an assignee: it breaks its schema and can never apply.
    tracker
        .append_raw(
            "TaskAssigned",
            "2026-05-02T03:00:00Z",
            format!(
                r#"{{"task_id":"{}","assigned_at":"2026-05-02T03:00:00Z"}}"#,
                Uuid::now_v7()
            ),
        )
        .await;
    tracker.publish(after.clone()).await;
    for event in before.into_iter().chain(after) {
        one_by_one.apply(event).await;
    }

    let consumer = tracker.consumer("accounting", batched.db.clone(), batched.ledger());
    assert_eq!(consumer.drain().await.unwrap(), 4);
    assert_eq!(
        batched.db.count("SELECT count(*) FROM dead_letters").await,
        1,
        "the broken assignment is parked"
    );
    assert_eq!(batched.rows(worker).await, one_by_one.rows(worker).await);
    assert_eq!(batched.rows(worker).await.len(), 3);
    assert_eq!(
        batched.balance(worker).await,
        one_by_one.balance(worker).await
    );
}

/// A reshuffle's assignments billed ahead of their batch (`Handler::prepare`, off the
/// writer) against the same assignments applied one at a time: the same rows, balances,
/// billing days and published events. Between the two steps the day the assignments fall
/// on may close; the rows billed ahead for it must then give way to rows billed to the
/// next open day. Which path was taken shows in the fee rows' ids, time-ordered: ids made
/// ahead are older than a mark taken after preparing.
async fn billed_ahead_against_one_at_a_time(day_closes_meanwhile: bool) {
    let one_by_one = Books::new();
    let batched = Books::with_seed(one_by_one.ledger.seed.clone());
    let tracker = TestLog::new("tracker");
    let mut workers = Vec::new();
    for _ in 0..3 {
        let worker = Uuid::now_v7();
        for books in [&one_by_one, &batched] {
            books.hear_of_worker(worker).await;
        }
        workers.push(worker);
    }
    let tasks: Vec<Uuid> = (0..24).map(|_| Uuid::now_v7()).collect();
    for task in &tasks {
        for books in [&one_by_one, &batched] {
            books.create(*task, "t", at(2, 1)).await;
        }
    }
    let assignments: Vec<Envelope> = tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let when = at(2, 2 + (i % 3) as u32);
            TaskAssigned {
                task_id: *task,
                assignee_id: workers[i % workers.len()],
                assigned_at: when,
            }
            .into_envelope(when)
        })
        .collect();
    tracker.publish(assignments.clone()).await;

    let ledger = batched.ledger();
    let events = tracker
        .db
        .read(|c| {
            crate::events::Outbox::read_after(c, 0, 1000, crate::events::outbox::Interest::All)
        })
        .await
        .unwrap()
        .into_iter()
        .map(|mut e| {
            e.check_schema();
            e
        })
        .collect::<Vec<_>>();
    let (prepared, events) = batched
        .db
        .read(move |c| Ok::<_, DbError>((ledger.prepare(c, &events), events)))
        .await
        .unwrap();
    assert!(prepared.is_some(), "accounting prepares its batches");
    let mark = Uuid::now_v7();
    if day_closes_meanwhile {
        for books in [&one_by_one, &batched] {
            books.close(date(2), at(3, 0)).await;
        }
    }

    for event in assignments {
        one_by_one.apply(event).await;
    }
    let ledger = batched.ledger();
    batched
        .db
        .write(move |tx| -> Result<(), DbError> {
            let mut batch = ledger.batch(tx, prepared)?;
            for event in &events {
                batch.handle(&event.envelope).map_err(|e| {
                    DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into()))
                })?;
            }
            batch.finish()
        })
        .await
        .unwrap();

    let billed_to = if day_closes_meanwhile { 3 } else { 2 };
    for worker in &workers {
        let rows = one_by_one.rows(*worker).await;
        assert_eq!(rows.len(), 8);
        assert!(rows.iter().all(|(kind, amount, day)| kind == "fee"
            && FEE_CENTS.contains(&-amount)
            && *day == date(billed_to)));
        assert_eq!(batched.rows(*worker).await, rows);
        assert_eq!(
            batched.balance(*worker).await,
            one_by_one.balance(*worker).await
        );
    }
    assert_eq!(
        published(&batched.db).await,
        published(&one_by_one.db).await
    );
    let ids: Vec<Uuid> = batched
        .db
        .read(|c| {
            let mut select = c.prepare("SELECT id FROM ledger WHERE kind = 'fee'")?;
            let ids: rusqlite::Result<Vec<Uuid>> = select.query_map([], |r| r.get(0))?.collect();
            ids.map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), tasks.len());
    if day_closes_meanwhile {
        assert!(
            ids.iter().all(|id| *id > mark),
            "billed again on the writer"
        );
    } else {
        assert!(ids.iter().all(|id| *id < mark), "billed ahead");
    }
}

#[tokio::test]
async fn assignments_billed_ahead_book_exactly_what_one_at_a_time_books() {
    billed_ahead_against_one_at_a_time(false).await;
}

#[tokio::test]
async fn assignments_billed_ahead_for_a_day_that_closed_meanwhile_go_to_the_next_open_day() {
    billed_ahead_against_one_at_a_time(true).await;
}
