//! Analytics agrees with accounting, and rebuilding either read model from the logs (online
//! over HTTP, or offline with `ates-server rebuild`) gives every answer exactly as before:
//! no price, billing day, payout, payment or e-mail changes.

use crate::helpers::{Popug, TestApp};
use ates_server::clock::ManualClock;
use ates_server::db::DbError;
use ates_server::events::{EventPayload, Outbox};
use ates_shared::Role;
use ates_shared::api::{
    Account, AnalyticsEarnings, AnalyticsSummary, Earnings, EventsStatus, Page, RebuildState, Task,
};
use ates_shared::events::tracker::{TaskAssigned, TaskCompleted, TaskCreatedV1};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// Logins outlast the days these tests walk through.
fn long_logins(config: &mut ates_server::Config) {
    config.token_ttl = Duration::days(30);
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, d).unwrap()
}

fn morning(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, d, 10, 0, 0).unwrap()
}

/// Three days of work: tasks, a reshuffle and completions, days 1 and 2 closed with payouts
/// (one by hand, one at midnight), day 3 still open; plus a task whose events were written
/// by an old tracker (`TaskCreated` v1 with the Jira id in its title).
async fn three_days_of_work(app: &TestApp, clock: &ManualClock) -> Vec<Popug> {
    let workers = vec![
        app.popug("ann", Role::Worker).await,
        app.popug("bob", Role::Worker).await,
        app.popug("cid", Role::Accountant).await,
    ];
    for d in 1..=3 {
        clock.set(morning(d));
        for i in 0..6 {
            app.create_task(&app.admin, &format!("day {d} job {i}"))
                .await;
        }
        // Assignment is random: one day in eleven Ann would get none of the six, and then
        // nobody might be in profit at day 1's close, with no payout to mail. She earns on
        // every day she holds a task, so day 1 always pays out.
        let mut extra = 0;
        while d == 1
            && app
                .all_tasks(&workers[0].token, "&assignee=me")
                .await
                .is_empty()
        {
            extra += 1;
            assert!(extra < 100, "Ann never got a task");
            app.create_task(&app.admin, &format!("day {d} extra job {extra}"))
                .await;
        }
        if d == 2 {
            let (status, body) = app
                .post("/api/v1/tasks/reshuffle", &app.admin, json!({}))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // Ann completes everything she holds (in profit: a reward beats a fee), Cid one
        // task a day, Bob nothing (in the red).
        for (w, how_many) in workers.iter().zip([usize::MAX, 0, 1]) {
            let mine = app.all_tasks(&w.token, "&assignee=me&status=open").await;
            for task in mine.iter().take(how_many) {
                let (status, body) = app.complete(&w.token, task.id).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        app.settle().await;
        match d {
            1 => {
                let (status, body) = app
                    .post("/api/v1/accounting/close-day", &app.admin, json!({}))
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            2 => {
                // Midnight: the background closer closes day 2.
                clock.set(morning(3) - Duration::hours(9));
                app.eventually("the midnight close of day 2", || async {
                    let closed: bool = app
                        .state
                        .accounting
                        .db()
                        .read(|conn| {
                            conn.query_row(
                                "SELECT count(*) FROM closed_days WHERE date = '2026-06-02'",
                                [],
                                |r| r.get::<_, i64>(0),
                            )
                            .map_err(DbError::from)
                        })
                        .await
                        .unwrap()
                        == 1;
                    closed.then_some(())
                })
                .await;
            }
            _ => {}
        }
    }
    old_tracker_events(app, workers[0].user.id, morning(3)).await;
    app.settle().await;
    // Every payout e-mail has gone out, so the mail state is settled too.
    app.eventually("every payout mailed", || async {
        let payments: Value = app
            .get_ok("/api/v1/accounting/payments?limit=500", &app.admin)
            .await;
        payments["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["mail_status"] == "sent")
            .then_some(())
    })
    .await;
    workers
}

/// Writes what an old tracker published into today's tracker log: a v1 `TaskCreated`, its
/// assignment and completion, for a task the current tracker never saw.
async fn old_tracker_events(app: &TestApp, assignee: Uuid, at: DateTime<Utc>) {
    let tracker = app
        .state
        .contexts
        .iter()
        .find(|(name, _)| name == "tracker")
        .expect("tracker db")
        .1
        .clone();
    let task_id = Uuid::now_v7();
    tracker
        .write(move |tx| -> Result<(), DbError> {
            let events = [
                TaskCreatedV1 {
                    task_id,
                    title: "[UBERPOP-1999] migrate the perches".into(),
                    created_at: at,
                }
                .into_envelope(at),
                TaskAssigned {
                    task_id,
                    assignee_id: assignee,
                    assigned_at: at,
                }
                .into_envelope(at),
                TaskCompleted {
                    task_id,
                    assignee_id: assignee,
                    completed_at: at,
                }
                .into_envelope(at),
            ];
            for event in &events {
                Outbox::append(tx, event).map_err(|e| {
                    DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
                        e.to_string().into(),
                    ))
                })?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// Every answer accounting and analytics give about those days.
async fn answers(app: &TestApp, workers: &[Popug]) -> Value {
    let mut logs = serde_json::Map::new();
    for w in workers {
        let log: Value = app
            .get_ok(
                &format!("/api/v1/accounting/accounts/{}/log?limit=500", w.user.id),
                &app.admin,
            )
            .await;
        let me: Value = app.get_ok("/api/v1/accounting/me", &w.token).await;
        logs.insert(w.user.username.clone(), json!({"log": log, "me": me}));
    }
    // Each task's own ledger (`ledger_by_task`), as accountants open it from a row.
    let task_ids: std::collections::BTreeSet<String> = logs
        .values()
        .flat_map(|l| l["log"]["items"].as_array().cloned().unwrap_or_default())
        .filter_map(|entry| entry["task"]["id"].as_str().map(str::to_owned))
        .collect();
    let mut task_ledgers = serde_json::Map::new();
    for id in task_ids {
        let rows: Value = app
            .get_ok(&format!("/api/v1/accounting/tasks/{id}/ledger"), &app.admin)
            .await;
        task_ledgers.insert(id, rows);
    }
    let mut analytics = serde_json::Map::new();
    for d in 1..=4 {
        let date = day(d);
        let mut periods = serde_json::Map::new();
        for period in ["day", "week", "month"] {
            let m: Value = app
                .get_ok(
                    &format!("/api/v1/analytics/most-expensive?period={period}&date={date}"),
                    &app.admin,
                )
                .await;
            periods.insert(period.into(), m);
        }
        let summary: Value = app
            .get_ok(
                &format!("/api/v1/analytics/summary?date={date}"),
                &app.admin,
            )
            .await;
        analytics.insert(
            date.to_string(),
            json!({"summary": summary, "most_expensive": periods}),
        );
    }
    json!({
        "accounts": app.get_ok::<Value>("/api/v1/accounting/accounts?limit=500", &app.admin).await,
        "logs": logs,
        "task_ledgers": task_ledgers,
        "earnings": app.get_ok::<Value>("/api/v1/accounting/earnings?from=2026-05-30&to=2026-06-04", &app.admin).await,
        "payments": app.get_ok::<Value>("/api/v1/accounting/payments?limit=500", &app.admin).await,
        "analytics": analytics,
        "analytics_earnings": app.get_ok::<Value>("/api/v1/analytics/earnings?from=2026-05-30&to=2026-06-04", &app.admin).await,
        "most_expensive_range": app.get_ok::<Value>("/api/v1/analytics/most-expensive?from=2026-06-01&to=2026-06-03", &app.admin).await,
        "today": app.get_ok::<Value>("/api/v1/analytics/summary", &app.admin).await,
    })
}

/// Breaks the live read models behind the server's back, as a bug or a bad hand-edit would,
/// so a rebuild has something to repair: a lost ledger row and wrong balances in accounting,
/// lost days and rewards in analytics.
async fn damage(app: &TestApp, context: &str) {
    let sql = match context {
        "accounting" => {
            "DELETE FROM ledger WHERE id = (SELECT max(id) FROM ledger WHERE kind = 'fee');
             UPDATE accounts SET balance_cents = balance_cents + 12345;"
        }
        _ => {
            "DELETE FROM company_days; DELETE FROM rewards; UPDATE balances SET balance_cents = -1;"
        }
    };
    let db = match context {
        "accounting" => app.state.accounting.db(),
        _ => app.state.analytics.db(),
    };
    db.write(move |tx| tx.execute_batch(sql).map_err(DbError::from))
        .await
        .unwrap();
}

/// Every ledger row with the event that caused it (not shown by the API, kept by a rebuild).
async fn ledger_causes(app: &TestApp) -> Vec<(Uuid, Option<Uuid>)> {
    app.state
        .accounting
        .db()
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT id, event_id FROM ledger ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(DbError::from)
        })
        .await
        .unwrap()
}

fn spooled_mails(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir().join("mail"))
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn rebuild_online(app: &TestApp, context: &str) {
    let (status, body) = app
        .post(
            "/api/v1/system/rebuild",
            &app.admin,
            json!({"context": context}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["state"], "running", "{body}");
    let done = app
        .eventually("the rebuild", || async {
            let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
            let last = status
                .rebuilds
                .iter()
                .rfind(|r| r.context.as_str() == context)
                .cloned()
                .expect("the rebuild is listed");
            assert_ne!(last.state, RebuildState::Failed, "{last:?}");
            (last.state == RebuildState::Done && status.caught_up).then_some(last)
        })
        .await;
    assert!(
        done.processed > 0 && done.processed == done.total,
        "{done:?}"
    );
}

#[tokio::test]
async fn analytics_agrees_with_accounting_and_online_rebuilds_change_no_answer() {
    let clock = ManualClock::new(morning(1));
    let app =
        TestApp::spawn_configured(tempfile::tempdir().unwrap(), clock.clone(), long_logins).await;
    let workers = three_days_of_work(&app, &clock).await;

    // Analytics and accounting agree on every day's earnings...
    let accounting: Earnings = app
        .get_ok(
            "/api/v1/accounting/earnings?from=2026-05-30&to=2026-06-04",
            &app.admin,
        )
        .await;
    let analytics: AnalyticsEarnings = app
        .get_ok(
            "/api/v1/analytics/earnings?from=2026-05-30&to=2026-06-04",
            &app.admin,
        )
        .await;
    let accounting_days: Vec<(NaiveDate, i64)> = accounting
        .days
        .iter()
        .map(|d| (d.date, d.earnings_cents))
        .collect();
    let analytics_days: Vec<(NaiveDate, i64)> = analytics
        .days
        .iter()
        .map(|d| (d.date, d.earnings_cents))
        .collect();
    assert_eq!(accounting_days, analytics_days);
    assert!(accounting.days.iter().any(|d| d.earnings_cents != 0));
    // ...and on who is in the red now.
    let accounts: Page<Account> = app
        .get_ok("/api/v1/accounting/accounts?limit=500", &app.admin)
        .await;
    let today: AnalyticsSummary = app.get_ok("/api/v1/analytics/summary", &app.admin).await;
    assert_eq!(today.date, day(3));
    assert!(today.negative_balance_workers > 0, "Bob is in the red");
    assert_eq!(
        today.negative_balance_workers as usize,
        accounts
            .items
            .iter()
            .filter(|a| a.balance_cents < 0)
            .count()
    );
    // The old tracker's task is read through the upcast: its Jira id left the title.
    let old: Value = app
        .get_ok(
            "/api/v1/analytics/most-expensive?period=day&date=2026-06-03",
            &app.admin,
        )
        .await;
    let day3_rewards: Vec<Value> = answers_rewards(&app, &workers, day(3)).await;
    assert!(!day3_rewards.is_empty());
    assert!(old["task"].is_object(), "{old}");

    let before = answers(&app, &workers).await;
    assert!(
        before["task_ledgers"]
            .as_object()
            .unwrap()
            .values()
            .any(|rows| rows.as_array().is_some_and(|r| r.len() > 1)),
        "a reshuffled task has rows from each assignment: {}",
        before["task_ledgers"]
    );
    let causes = ledger_causes(&app).await;
    assert!(causes.iter().any(|(_, cause)| cause.is_some()));
    // The mailer works in the background: count once every payout went out.
    app.eventually("every payout mailed", || async {
        let page: Page<Value> = app
            .get_ok("/api/v1/accounting/payments?limit=500", &app.admin)
            .await;
        page.items
            .iter()
            .all(|p| p["mail_status"] == "sent")
            .then_some(())
    })
    .await;
    let mails = spooled_mails(&app);
    assert!(mails > 0, "payouts were mailed");
    for context in ["accounting", "analytics"] {
        damage(&app, context).await;
        assert_ne!(answers(&app, &workers).await, before, "{context} damaged");
        rebuild_online(&app, context).await;
        assert_eq!(answers(&app, &workers).await, before, "{context} rebuilt");
    }
    assert_eq!(ledger_causes(&app).await, causes);
    assert_eq!(spooled_mails(&app), mails, "a rebuild sends no e-mail");

    // Life goes on after the swap: new events land in the rebuilt models.
    let task: Task = app.create_task(&app.admin, "after the rebuild").await;
    app.settle().await;
    let owner = workers
        .iter()
        .find(|w| w.user.id == task.assignee.id)
        .unwrap();
    let log: Value = app
        .get_ok(
            &format!("/api/v1/accounting/accounts/{}/log", owner.user.id),
            &app.admin,
        )
        .await;
    assert_eq!(log["items"][0]["task"]["id"], json!(task.id));
    let task_ledger: Value = app
        .get_ok(
            &format!("/api/v1/accounting/tasks/{}/ledger", task.id),
            &app.admin,
        )
        .await;
    assert_eq!(task_ledger[0]["id"], log["items"][0]["id"], "{task_ledger}");
}

/// The reward rows of one day, across the workers' logs.
async fn answers_rewards(app: &TestApp, workers: &[Popug], date: NaiveDate) -> Vec<Value> {
    let mut rewards = Vec::new();
    for w in workers {
        let log: Value = app
            .get_ok(
                &format!(
                    "/api/v1/accounting/accounts/{}/log?limit=500&date={date}",
                    w.user.id
                ),
                &app.admin,
            )
            .await;
        rewards.extend(
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "reward")
                .cloned(),
        );
    }
    rewards
}

#[tokio::test]
async fn the_most_expensive_task_of_a_day_is_its_largest_reward() {
    let clock = ManualClock::new(morning(1));
    let app =
        TestApp::spawn_configured(tempfile::tempdir().unwrap(), clock.clone(), long_logins).await;
    let workers = three_days_of_work(&app, &clock).await;
    for d in 1..=3 {
        let rewards = answers_rewards(&app, &workers, day(d)).await;
        let best = rewards
            .iter()
            .map(|e| e["amount_cents"].as_i64().unwrap())
            .max();
        let got: Value = app
            .get_ok(
                &format!(
                    "/api/v1/analytics/most-expensive?period=day&date={}",
                    day(d)
                ),
                &app.admin,
            )
            .await;
        assert_eq!(got["task"]["reward_cents"].as_i64(), best, "day {d}: {got}");
    }
    let old = app
        .get_ok::<Value>(
            "/api/v1/analytics/most-expensive?from=2026-06-01&to=2026-06-03",
            &app.admin,
        )
        .await;
    assert!(old["task"]["reward_cents"].as_i64().unwrap() >= 2_000);
    // The v1 task's title was upcast: the Jira id has its own field.
    let tasks: Vec<Value> = answers_rewards(&app, &workers, day(3))
        .await
        .into_iter()
        .filter(|e| e["task"]["jira_id"] == "UBERPOP-1999")
        .collect();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["task"]["title"], "migrate the perches");
}

#[tokio::test]
async fn analytics_is_for_admins_and_names_bad_parameters() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Accountant).await;
    for path in [
        "/api/v1/analytics/summary",
        "/api/v1/analytics/earnings",
        "/api/v1/analytics/most-expensive",
    ] {
        let (status, _) = app.get(path, &ann.token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = app.get(path, &app.admin).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, body) = app
        .get("/api/v1/analytics/most-expensive?period=year", &app.admin)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("period"),
        "{body}"
    );
    let (status, body) = app
        .get(
            "/api/v1/analytics/most-expensive?from=2026-06-01",
            &app.admin,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .get(
            "/api/v1/analytics/earnings?from=2026-06-02&to=2026-06-01",
            &app.admin,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // The last representable day is a Monday: its week would run past the calendar.
    let (status, body) = app
        .get(
            "/api/v1/analytics/most-expensive?period=week&date=%2B262142-12-31",
            &app.admin,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .get("/api/v1/analytics/summary?date=yesterday", &app.admin)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("date"),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/api/v1/system/rebuild",
            &app.admin,
            json!({"context": "tracker"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/system/rebuild",
            &ann.token,
            json!({"context": "analytics"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_offline_rebuild_refuses_a_running_server_and_changes_no_answer() {
    let clock = ManualClock::new(morning(1));
    let app =
        TestApp::spawn_configured(tempfile::tempdir().unwrap(), clock.clone(), long_logins).await;
    let workers = three_days_of_work(&app, &clock).await;
    let before = answers(&app, &workers).await;
    let mails = spooled_mails(&app);

    let rebuild = |dir: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ates-server"))
            .args(["rebuild", "all", "--data-dir"])
            .arg(dir)
            .env("RUST_LOG", "warn")
            .output()
            .expect("ates-server runs")
    };
    let refused = rebuild(app.data_dir());
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("in use"), "{stderr}");

    damage(&app, "accounting").await;
    damage(&app, "analytics").await;
    let tokens: HashMap<Uuid, String> = workers
        .iter()
        .map(|w| (w.user.id, w.token.clone()))
        .collect();
    let dir = app.stop().await;
    let done = rebuild(dir.path());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr),
    );
    assert!(done.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("rebuilt accounting and analytics"),
        "{stdout}"
    );
    assert!(
        stderr.contains("accounting: ") && stderr.contains("analytics: "),
        "plain progress lines: {stderr}"
    );

    // What a rebuild killed mid-way leaves behind is removed when the server starts.
    let leftover = dir.path().join("analytics.rebuild-0123.db-wal");
    std::fs::write(&leftover, b"half a rebuild").unwrap();
    let app = TestApp::spawn_configured(dir, clock.clone(), long_logins).await;
    assert!(!leftover.exists());
    app.settle().await;
    let workers: Vec<Popug> = workers
        .into_iter()
        .map(|w| Popug {
            token: tokens[&w.user.id].clone(),
            ..w
        })
        .collect();
    assert_eq!(answers(&app, &workers).await, before);
    assert_eq!(spooled_mails(&app), mails);
}
