//! Analytics' answers from events applied straight to the projection, without HTTP:
//! ties, empty periods, and the negative-balance count walked day by day.

use super::projection::Projection;
use super::{Analytics, Span, store};
use crate::clock::ManualClock;
use crate::db::{Db, DbError};
use crate::events::test_log::TestLog;
use crate::events::{Envelope, EventPayload, Handler};
use ates_shared::api::{EntryKind, Period};
use ates_shared::events::accounting::{TransactionApplied, TransactionAppliedV1};
use ates_shared::events::tracker::{TaskCreated, TaskCreatedV1};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

struct Fixture {
    analytics: Analytics,
    _dir: tempfile::TempDir,
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, day).unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0).unwrap()
}

impl Fixture {
    /// Today is 2026-06-20 (a Saturday), noon UTC.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), "analytics", &store::migrations()).unwrap();
        Fixture {
            analytics: Analytics::new(db, ManualClock::new(at(20, 12)), chrono_tz::UTC),
            _dir: dir,
        }
    }

    async fn apply(&self, event: Envelope) {
        self.analytics
            .db()
            .write(move |tx| {
                Projection
                    .handle(tx, &event)
                    .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))
            })
            .await
            .unwrap();
    }

    async fn task(&self, id: Uuid, title: &str) {
        let created = TaskCreated {
            task_id: id,
            title: title.into(),
            jira_id: None,
            description: String::new(),
            created_at: at(1, 0),
        };
        self.apply(created.into_envelope(at(1, 0))).await;
    }

    async fn row(
        &self,
        user: Uuid,
        task: Option<Uuid>,
        kind: EntryKind,
        cents: i64,
        when: DateTime<Utc>,
    ) {
        let row = TransactionApplied {
            transaction_id: Uuid::now_v7(),
            user_id: user,
            task_id: task,
            kind,
            amount_cents: cents,
            billing_date: when.date_naive(),
            at: when,
            cause_event_id: None,
        };
        self.apply(row.into_envelope(when)).await;
    }

    async fn most_expensive(&self, span: Span) -> Option<(Uuid, i64)> {
        self.analytics
            .most_expensive(span)
            .await
            .unwrap()
            .task
            .map(|t| (t.id, t.reward_cents))
    }
}

#[tokio::test]
async fn the_largest_reward_wins_and_ties_go_to_the_earliest_completion_then_the_smallest_id() {
    let f = Fixture::new();
    let user = Uuid::now_v7();
    let (cheap, early, late) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (task, title) in [(cheap, "cheap"), (early, "early"), (late, "late")] {
        f.task(task, title).await;
    }
    f.row(user, Some(cheap), EntryKind::Reward, 2_500, at(15, 9))
        .await;
    f.row(user, Some(late), EntryKind::Reward, 3_900, at(15, 17))
        .await;
    f.row(user, Some(early), EntryKind::Reward, 3_900, at(15, 8))
        .await;
    assert_eq!(
        f.most_expensive(Span::Period(Period::Day, date(15))).await,
        Some((early, 3_900))
    );

    // Same reward, same instant: the smaller task id.
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    f.row(user, Some(b), EntryKind::Reward, 4_000, at(16, 10))
        .await;
    f.row(user, Some(a), EntryKind::Reward, 4_000, at(16, 10))
        .await;
    assert_eq!(
        f.most_expensive(Span::Period(Period::Day, date(16))).await,
        Some((a, 4_000))
    );
    // The week of Monday 15 to Sunday 21 holds both days; the range too.
    assert_eq!(
        f.most_expensive(Span::Period(Period::Week, date(21))).await,
        Some((a, 4_000))
    );
    assert_eq!(
        f.most_expensive(Span::Range(date(15), date(15))).await,
        Some((early, 3_900))
    );
    let titled = f
        .analytics
        .most_expensive(Span::Period(Period::Day, date(15)))
        .await
        .unwrap();
    assert_eq!(titled.task.unwrap().title, "early");
}

#[tokio::test]
async fn a_period_with_nothing_completed_has_no_task_and_says_which_days_it_covered() {
    let f = Fixture::new();
    let user = Uuid::now_v7();
    let task = Uuid::now_v7();
    f.row(user, Some(task), EntryKind::Fee, -1_500, at(2, 9))
        .await;
    let none = f
        .analytics
        .most_expensive(Span::Period(Period::Month, date(20)))
        .await
        .unwrap();
    assert_eq!((none.from, none.to, none.task), (date(1), date(30), None));
    // The reward on the last day of the previous week does not count for this week.
    f.row(user, Some(task), EntryKind::Reward, 3_000, at(14, 23))
        .await;
    assert_eq!(
        f.most_expensive(Span::Period(Period::Week, date(15))).await,
        None
    );
    assert_eq!(
        f.most_expensive(Span::Period(Period::Week, date(14))).await,
        Some((task, 3_000))
    );
}

#[tokio::test]
async fn negative_balances_are_counted_at_the_end_of_each_day_and_now_for_today() {
    let f = Fixture::new();
    let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let task = Uuid::now_v7();
    // Day 17: both pay fees. Day 18: Ann earns more than her fee and is paid out at the close.
    f.row(ann, Some(task), EntryKind::Fee, -1_000, at(17, 9))
        .await;
    f.row(bob, Some(task), EntryKind::Fee, -1_200, at(17, 10))
        .await;
    f.row(ann, Some(task), EntryKind::Reward, 3_000, at(18, 9))
        .await;
    f.row(ann, None, EntryKind::Payout, -2_000, at(18, 23))
        .await;
    // Day 20 (today): Bob completes and is in the black now.
    f.row(bob, Some(task), EntryKind::Reward, 2_000, at(20, 11))
        .await;

    let days = f
        .analytics
        .earnings(Some(date(16)), Some(date(20)))
        .await
        .unwrap()
        .days;
    let got: Vec<(i64, u32)> = days
        .iter()
        .map(|d| (d.earnings_cents, d.negative_balance_workers))
        .collect();
    assert_eq!(
        got,
        vec![(0, 0), (2_200, 2), (-3_000, 1), (0, 1), (-2_000, 0)]
    );
    let today = f.analytics.summary(None).await.unwrap();
    assert_eq!(
        (
            today.date,
            today.earnings_cents,
            today.negative_balance_workers
        ),
        (date(20), -2_000, 0)
    );
    let past = f.analytics.summary(Some(date(17))).await.unwrap();
    assert_eq!(past.negative_balance_workers, 2);
}

#[tokio::test]
async fn old_event_versions_are_upcast() {
    let f = Fixture::new();
    let task = Uuid::now_v7();
    let v1 = TaskCreatedV1 {
        task_id: task,
        title: "[UBERPOP-7] feed the parrots".into(),
        created_at: at(3, 8),
    };
    f.apply(v1.into_envelope(at(3, 8))).await;
    let reward = TransactionAppliedV1 {
        transaction_id: Uuid::now_v7(),
        user_id: Uuid::now_v7(),
        task_id: Some(task),
        kind: EntryKind::Reward,
        amount_cents: 3_333,
        billing_date: date(3),
        at: at(3, 9),
    };
    f.apply(reward.into_envelope(at(3, 9))).await;
    let got = f
        .analytics
        .most_expensive(Span::Period(Period::Day, date(3)))
        .await
        .unwrap()
        .task
        .unwrap();
    assert_eq!(
        (got.title.as_str(), got.jira_id.as_deref(), got.reward_cents),
        ("feed the parrots", Some("UBERPOP-7"), 3_333)
    );
}

/// Every row of the projection's money tables, in key order.
async fn money_tables(db: &Db) -> Vec<String> {
    db.read(|c| -> Result<Vec<String>, DbError> {
        let mut rows = Vec::new();
        for sql in [
            "SELECT 'day ' || date || ' ' || hex(user_id) || ' ' || net_cents FROM user_days ORDER BY date, user_id",
            "SELECT 'balance ' || hex(user_id) || ' ' || balance_cents FROM balances ORDER BY user_id",
            "SELECT 'company ' || date || ' ' || earnings_cents FROM company_days ORDER BY date",
            "SELECT 'reward ' || hex(task_id) || ' ' || reward_cents || ' ' || date FROM rewards ORDER BY task_id",
        ] {
            let mut stmt = c.prepare(sql)?;
            let found = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.extend(found.collect::<Result<Vec<_>, _>>()?);
        }
        Ok(rows)
    })
    .await
    .unwrap()
}

/// A consumer's batch sums the movements and writes them once at its end; the tables must
/// hold exactly what applying each event on its own gives.
#[tokio::test]
async fn a_batch_projects_exactly_what_one_event_at_a_time_projects() {
    let (one_by_one, batched) = (Fixture::new(), Fixture::new());
    let accounting = TestLog::new("accounting");
    let users: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let tasks: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let mut events = Vec::new();
    for day in [1, 2] {
        for (i, task) in tasks.iter().enumerate() {
            for (kind, cents) in [
                (EntryKind::Fee, -1_000 - i as i64),
                (EntryKind::Reward, 2_500),
            ] {
                let row = TransactionApplied {
                    transaction_id: Uuid::now_v7(),
                    user_id: users[(i + day as usize) % users.len()],
                    task_id: Some(*task),
                    kind,
                    amount_cents: cents,
                    billing_date: date(day),
                    at: at(day, 10),
                    cause_event_id: Some(Uuid::now_v7()),
                };
                events.push(row.into_envelope(at(day, 10)));
            }
        }
        let payout = TransactionApplied {
            transaction_id: Uuid::now_v7(),
            user_id: users[0],
            task_id: None,
            kind: EntryKind::Payout,
            amount_cents: -1_234,
            billing_date: date(day),
            at: at(day + 1, 0),
            cause_event_id: None,
        };
        events.push(payout.into_envelope(at(day + 1, 0)));
    }
    accounting.publish(events.clone()).await;
    for event in &events {
        one_by_one.apply(event.clone()).await;
    }
    let consumer = accounting.consumer("analytics", batched.analytics.db().clone(), Projection);
    assert_eq!(
        consumer.step().await.unwrap(),
        crate::events::consumer::Step::Applied(events.len()),
        "every event in one batch"
    );
    let expected = money_tables(one_by_one.analytics.db()).await;
    assert_eq!(expected.len(), 2 * 3 + 3 + 2 + 4, "{expected:#?}");
    assert_eq!(money_tables(batched.analytics.db()).await, expected);
}
