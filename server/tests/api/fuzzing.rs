//! Event fuzzing: damaged events written straight into the producers' logs (around their
//! own validation, as a bug, a bad migration or a hand edit could) reach the dead-letter
//! table of every consumer that uses events of their name, with a readable error; nothing
//! crashes, and the events behind them are applied.

use crate::helpers::TestApp;
use ates_server::db::{Db, DbError};
use ates_shared::Role;
use ates_shared::api::{EventsStatus, MyAccount, Page};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};
use uuid::Uuid;

/// One raw `outbox` row: event_id, event_name, event_version, event_time, producer, data.
type Row = (Sql, String, i64, Sql, String, Sql);

fn text(s: impl Into<String>) -> Sql {
    Sql::Text(s.into())
}

fn id() -> Sql {
    Sql::Blob(Uuid::now_v7().as_bytes().to_vec())
}

fn now() -> Sql {
    text("2026-03-01T10:00:00Z")
}

/// Any JSON at all, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("user_id".to_owned()),
                    Just("task_id".to_owned()),
                    Just("role".to_owned()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Damaged rows for a log whose events are `names`, a valid `template` event's data to
/// mutate, plus `random` random-data rows for each name.
fn damaged(names: &[&str], template: &Value, random: usize) -> Vec<Row> {
    let (name, valid) = (names[0].to_owned(), template.to_string());
    let mut rows: Vec<Row> = vec![
        // Not JSON at all.
        (
            id(),
            name.clone(),
            2,
            now(),
            "x".into(),
            text("{\"user_id\": "),
        ),
        (
            id(),
            name.clone(),
            2,
            now(),
            "x".into(),
            Sql::Blob(vec![0xff, 0xfe, 0x00, 0x41]),
        ),
        // Oversized: 200 KB of data, never parsed.
        (
            id(),
            name.clone(),
            2,
            now(),
            "x".into(),
            text(format!("{{\"title\": \"{}\"}}", "x".repeat(200_000))),
        ),
        // An unknown version and an unknown event of valid data.
        (
            id(),
            name.clone(),
            99,
            now(),
            "x".into(),
            text(valid.clone()),
        ),
        (
            id(),
            "SomethingNew".into(),
            1,
            now(),
            "x".into(),
            text(valid.clone()),
        ),
        // A broken id and a broken time around valid data.
        (
            text("not-a-uuid"),
            name.clone(),
            2,
            now(),
            "x".into(),
            text(valid.clone()),
        ),
        (
            id(),
            name.clone(),
            2,
            text("yesterday"),
            "x".into(),
            text(valid.clone()),
        ),
        (
            id(),
            name.clone(),
            2,
            Sql::Integer(7),
            "x".into(),
            text(valid.clone()),
        ),
    ];
    // Schema-breaking variants of the valid event: each field missing, or of a wrong type.
    for field in template.as_object().unwrap().keys() {
        let mut missing = template.clone();
        missing.as_object_mut().unwrap().remove(field);
        rows.push((
            id(),
            name.clone(),
            2,
            now(),
            "x".into(),
            text(missing.to_string()),
        ));
        let mut wrong = template.clone();
        wrong[field] = json!({"nested": [1, 2, 3]});
        rows.push((
            id(),
            name.clone(),
            2,
            now(),
            "x".into(),
            text(wrong.to_string()),
        ));
    }
    // Random data under every event name and version the log carries.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = any_json();
    for name in names {
        for version in [1, 2] {
            for _ in 0..random {
                let data = strategy.new_tree(&mut runner).unwrap().current();
                rows.push((
                    id(),
                    (*name).to_owned(),
                    version,
                    now(),
                    "x".into(),
                    text(data.to_string()),
                ));
            }
        }
    }
    rows
}

async fn write_raw(db: &Db, producer: &str, rows: Vec<Row>) -> usize {
    let producer = producer.to_owned();
    let count = rows.len();
    db.write(move |tx| -> Result<(), DbError> {
        for (event_id, name, version, time, _, data) in rows {
            tx.execute(
                "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![event_id, name, version, time, producer, data],
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    count
}

#[tokio::test]
async fn damaged_events_are_parked_readably_and_the_events_behind_them_apply() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let task = app.create_task(&ann.token, "before the damage").await;

    let user = json!({"user_id": Uuid::now_v7(), "username": "ghost", "full_name": "G",
        "email": "g@p.inc", "role": "worker", "active": true, "version": 1, "access_version": 1});
    let created = json!({"task_id": Uuid::now_v7(), "title": "t", "jira_id": null,
        "description": "", "created_at": "2026-03-01T10:00:00Z"});
    let bad_auth = write_raw(
        app.state.auth.db(),
        "auth",
        damaged(&["UserCreated", "UserUpdated"], &user, 8),
    )
    .await;
    let tracker_rows = damaged(
        &["TaskCreated", "TaskAssigned", "TaskCompleted"],
        &created,
        8,
    );
    // Analytics uses only the tracker's `TaskCreated`: it steps over the others unread.
    let bad_for_analytics = tracker_rows
        .iter()
        .filter(|row| row.1 == "TaskCreated")
        .count();
    let bad_tracker = write_raw(app.state.tracker.db(), "tracker", tracker_rows).await;

    // Behind the damage: a new worker, a task for her, its completion.
    let bob = app.popug("bob", Role::Worker).await;
    let (status, body) = app.patch_user(ann.user.id, json!({"active": false})).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    app.settle().await;
    let later = app.create_task(&bob.token, "after the damage").await;
    assert_eq!(
        later.assignee.id, bob.user.id,
        "the tracker saw bob and ann's leaving"
    );
    let (status, body) = app.complete(&bob.token, later.id).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    app.settle().await;

    let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
    let parked = |consumer: &str| {
        status
            .consumers
            .iter()
            .find(|c| c.consumer == consumer)
            .unwrap()
            .dead_letters as usize
    };
    // Random data that happens to be a valid event would be applied, not parked; the
    // generator never produces one (no valid uuid in `user_id`), so every row is parked.
    assert_eq!(parked("tracker.auth"), bad_auth, "{status:?}");
    assert_eq!(parked("accounting.auth"), bad_auth, "{status:?}");
    assert_eq!(parked("accounting.tracker"), bad_tracker, "{status:?}");
    assert_eq!(parked("analytics.tracker"), bad_for_analytics, "{status:?}");
    assert!(bad_for_analytics > 0 && bad_for_analytics < bad_tracker);

    // Every dead letter says what is wrong, briefly.
    let mut cursor = String::new();
    let mut seen = 0;
    loop {
        let page: Page<Value> = app
            .get_ok(
                &format!("/api/v1/system/dead-letters?limit=500{cursor}"),
                &app.admin,
            )
            .await;
        for letter in &page.items {
            let error = letter["error"].as_str().unwrap();
            assert!(!error.is_empty() && error.len() < 4000, "{letter}");
            seen += 1;
        }
        match page.next_cursor {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, 2 * bad_auth + bad_tracker + bad_for_analytics);
    let page: Page<Value> = app
        .get_ok("/api/v1/system/dead-letters?limit=500", &app.admin)
        .await;
    let errors: Vec<&str> = page
        .items
        .iter()
        .map(|l| l["error"].as_str().unwrap())
        .collect();
    for expected in [
        "bytes; at most",
        "no schema is registered",
        "`event_id` is unreadable",
        "`event_time` is unreadable",
        "`data` is unreadable",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "no error says `{expected}`"
        );
    }

    // The money behind the damage is right: bob paid a fee and got a reward.
    let bob_account: MyAccount = app.get_ok("/api/v1/accounting/me", &bob.token).await;
    assert!(bob_account.balance_cents > 0, "{bob_account:?}");
    let (status, _) = app
        .get(&format!("/api/v1/tasks/{}", task.id), &bob.token)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "still serving");
    // Damaged letters can be discarded; replaying one says why it fails, never a 500.
    for letter in page.items.iter().take(20) {
        let id = letter["id"].as_str().unwrap();
        let (status, body) = app
            .post(
                &format!("/api/v1/system/dead-letters/{id}/retry"),
                &app.admin,
                json!({}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CONFLICT, "{body}");
    }
}
