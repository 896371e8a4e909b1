//! Property test of the books: for any sequence of creations, reshuffles, completions, day
//! closes and passing hours, every balance is the sum of its rows, each day's company
//! earnings are minus that day's fees and rewards, and delivering every event a second
//! time leaves the ledger exactly as it was.

use ates_server::Config;
use ates_server::accounting::Accounting;
use ates_server::app::Contexts;
use ates_server::auth::token::Tokens;
use ates_server::clock::ManualClock;
use ates_server::db::DbError;
use ates_server::events::EventSystem;
use ates_server::http::extract::Caller;
use ates_server::paging::PageRequest;
use ates_server::tracker::{AssigneeFilter, Tracker};
use ates_shared::Role;
use ates_shared::api::{CreateUser, NewTask, TaskStatus};
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Op {
    Create,
    Reshuffle,
    Complete(usize),
    CloseDay,
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Create),
        1 => Just(Op::Reshuffle),
        3 => (0usize..1000).prop_map(Op::Complete),
        1 => Just(Op::CloseDay),
        1 => (1u32..30).prop_map(Op::Advance),
    ]
}

/// (user, task, kind, amount, billing day) of every ledger row, sorted.
type Snapshot = Vec<(Vec<u8>, Option<Vec<u8>>, String, i64, String)>;

struct World {
    tracker: Tracker,
    accounting: Accounting,
    events: EventSystem,
    clock: Arc<ManualClock>,
    users: HashMap<uuid::Uuid, (String, Role)>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 4, 1, 8, 0, 0).unwrap());
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.timezone = chrono_tz::Europe::Berlin;
    let tokens = Arc::new(Tokens::new(b"k", chrono::Duration::hours(1)));
    let Contexts {
        auth,
        tracker,
        accounting,
        events,
        ..
    } = Contexts::open(&config, clock.clone(), tokens)
        .await
        .unwrap();
    let mut users = HashMap::new();
    for (name, role) in [
        ("ann", Role::Worker),
        ("bob", Role::Worker),
        ("cid", Role::Accountant),
        ("max", Role::Manager),
    ] {
        let user = auth
            .create_user(CreateUser {
                username: name.into(),
                password: "long-enough".into(),
                full_name: name.into(),
                email: format!("{name}@p.inc"),
                role,
            })
            .await
            .unwrap();
        users.insert(user.id, (user.username, role));
    }
    events.drain().await.unwrap();
    World {
        tracker,
        accounting,
        events,
        clock,
        users,
        _dir: dir,
    }
}

impl World {
    async fn run(&self, op: &Op) {
        match op {
            Op::Create => {
                self.tracker
                    .create_task(NewTask {
                        title: "job".into(),
                        jira_id: None,
                        description: None,
                    })
                    .await
                    .unwrap();
            }
            Op::Reshuffle => {
                self.tracker.reshuffle().await.unwrap();
            }
            Op::Complete(pick) => {
                let page = PageRequest::parse(Some(500), None).unwrap();
                let open = self
                    .tracker
                    .list_tasks(Some(TaskStatus::Open), AssigneeFilter::Anyone, None, page)
                    .await
                    .unwrap()
                    .items;
                if let Some(task) = open.get(pick % open.len().max(1)) {
                    let (username, role) = self.users[&task.assignee.id].clone();
                    let caller = Caller {
                        id: task.assignee.id,
                        username,
                        role,
                    };
                    self.tracker.complete_task(task.id, &caller).await.unwrap();
                }
            }
            Op::CloseDay => {
                self.events.drain().await.unwrap();
                self.accounting.close_today().await.unwrap();
            }
            Op::Advance(hours) => {
                self.clock
                    .advance(chrono::Duration::hours(i64::from(*hours)));
                // What the background closer does at every tick.
                self.events.drain().await.unwrap();
                self.accounting.close_missed_days().await.unwrap();
            }
        }
    }

    async fn snapshot(&self) -> (Snapshot, BTreeMap<Vec<u8>, i64>) {
        self.accounting
            .db()
            .read(|c| -> Result<_, DbError> {
                let mut rows = c.prepare(
                    "SELECT user_id, task_id, kind, amount_cents, billing_date FROM ledger",
                )?;
                let mut ledger: Snapshot = rows
                    .query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<Result<_, _>>()?;
                ledger.sort();
                let mut balances = c.prepare("SELECT user_id, balance_cents FROM accounts")?;
                let balances = balances
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                Ok((ledger, balances))
            })
            .await
            .unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_books_always_balance_and_replays_change_nothing(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let world = world().await;
            for op in &ops {
                world.run(op).await;
            }
            world.events.drain().await.unwrap();
            let (ledger, balances) = world.snapshot().await;

            // Every balance is the sum of its rows.
            let mut sums: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
            for (user, _, _, amount, _) in &ledger {
                *sums.entry(user.clone()).or_default() += amount;
            }
            prop_assert_eq!(&balances, &sums);

            // Each day's earnings are minus the day's fee and reward rows.
            let mut by_day: BTreeMap<String, i64> = BTreeMap::new();
            for (_, _, kind, amount, day) in &ledger {
                if kind != "payout" {
                    *by_day.entry(day.clone()).or_default() -= amount;
                }
            }
            let first = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
            let earnings = world.accounting.earnings(Some(first), Some(first + chrono::Duration::days(60))).await.unwrap();
            for day in earnings.days {
                let expected = by_day.get(&day.date.to_string()).copied().unwrap_or(0);
                prop_assert_eq!(day.earnings_cents, expected, "on {}", day.date);
            }

            // A task's fee is the same on every assignment.
            let mut fees: HashMap<Option<Vec<u8>>, i64> = HashMap::new();
            for (_, task, kind, amount, _) in &ledger {
                if kind == "fee" {
                    prop_assert_eq!(*fees.entry(task.clone()).or_insert(*amount), *amount);
                }
            }

            // Delivering every event again changes nothing.
            for consumer in world.events.consumers() {
                if consumer.name().starts_with("accounting.") {
                    world.events.rewind(consumer.name(), 0).await.unwrap();
                }
            }
            world.events.drain().await.unwrap();
            prop_assert_eq!(world.snapshot().await, (ledger, balances));
            Ok(())
        })?;
    }
}
