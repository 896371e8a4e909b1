//! Delivery across restarts and redelivery, seen through the running application.

use crate::helpers::{PASSWORD, TestApp};
use ates_server::clock::SystemClock;
use ates_server::db::DbError;
use ates_shared::Role;
use ates_shared::api::{EventsStatus, User};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

async fn inbox_events(app: &TestApp) -> i64 {
    app.state
        .tracker
        .db()
        .read(|c| {
            c.query_row(
                "SELECT coalesce(sum(length(event_ids)), 0) / 16 FROM inbox",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_event_written_before_a_stop_is_delivered_once_after_the_restart() {
    // Delivery is off: the user's event waits in auth's outbox when the server stops.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_in(dir, false, Arc::new(SystemClock)).await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": "ann", "password": PASSWORD, "full_name": "Ann", "email": "ann@popug.inc", "role": "worker"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let ann: User = serde_json::from_value(body).unwrap();
    let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
    assert_eq!(
        status.consumers[0].lag, 2,
        "admin and ann wait in the outbox: {status:?}"
    );
    let (code, _) = app
        .post("/api/v1/tasks", &app.admin, json!({"title": "too early"}))
        .await;
    assert_eq!(
        code,
        StatusCode::CONFLICT,
        "the tracker does not know ann yet"
    );
    let dir = app.stop().await;

    let app = TestApp::spawn_in(dir, true, Arc::new(SystemClock)).await;
    app.settle().await;
    assert_eq!(app.create_task(&app.admin, "now").await.assignee.id, ann.id);
    assert_eq!(
        inbox_events(&app).await,
        2,
        "each event applied exactly once"
    );

    // Another restart delivers nothing new.
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, true, Arc::new(SystemClock)).await;
    app.settle().await;
    assert_eq!(inbox_events(&app).await, 2);
}

#[tokio::test]
async fn a_rewound_consumer_gets_the_log_again_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let boss = app.popug("boss", Role::Worker).await;
    // Boss becomes a manager: replaying must not resurrect the old role.
    app.patch_user(boss.user.id, json!({"role": "manager"}))
        .await;
    app.settle().await;
    let before = inbox_events(&app).await;

    let (status, body) = app
        .post(
            "/api/v1/system/consumers/tracker.auth/rewind",
            &app.admin,
            json!({"position": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.settle().await;
    assert_eq!(inbox_events(&app).await, before);
    app.assert_new_tasks_go_to(ann.user.id).await;
}

#[tokio::test]
async fn a_rewind_only_goes_back() {
    // Delivery off: auth's log holds the admin's UserCreated, and tracker.auth stands at 0.
    let app = TestApp::spawn_in(tempfile::tempdir().unwrap(), false, Arc::new(SystemClock)).await;
    let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
    let consumer = status
        .consumers
        .iter()
        .find(|c| c.consumer == "tracker.auth")
        .expect("tracker.auth");
    assert!(consumer.position < consumer.head, "{status:?}");
    // Jumping ahead would skip events without applying them.
    let (code, body) = app
        .post(
            "/api/v1/system/consumers/tracker.auth/rewind",
            &app.admin,
            json!({"position": consumer.head}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "position_out_of_range");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`position`"),
        "{body}"
    );
    // Standing still is allowed.
    let (code, body) = app
        .post(
            "/api/v1/system/consumers/tracker.auth/rewind",
            &app.admin,
            json!({"position": consumer.position}),
        )
        .await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn a_task_written_before_a_stop_is_billed_exactly_once_after_the_restart() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let dir = app.stop().await;

    // Delivery off: the task and its TaskAssigned wait in the tracker's outbox.
    let app = TestApp::spawn_in(dir, false, Arc::new(SystemClock)).await;
    let task = app.create_task(&ann.token, "written, not delivered").await;
    let dir = app.stop().await;

    let app = TestApp::spawn_in(dir, true, Arc::new(SystemClock)).await;
    app.settle().await;
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, true, Arc::new(SystemClock)).await;
    app.settle().await;
    let me: ates_shared::api::MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    assert_eq!(
        me.log.len(),
        1,
        "one fee, however often the server restarted: {:?}",
        me.log
    );
    assert_eq!(me.log[0].task.as_ref().unwrap().id, task.id);
    assert_eq!(me.balance_cents, me.log[0].amount_cents);
}

#[tokio::test]
async fn a_version_1_task_created_event_is_still_understood() {
    use ates_server::events::Outbox;
    use ates_shared::events::EventPayload;
    use ates_shared::events::tracker::{TaskAssigned, TaskCreatedV1};

    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    // An event as the tracker wrote them before v2: the Jira id inside the title.
    let task_id = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    let (ann_id, ann_name) = (ann.user.id, ann.user.username.clone());
    app.state
        .tracker
        .db()
        .write(move |tx| -> ates_server::error::Result<()> {
            Outbox::append(
                tx,
                &TaskCreatedV1 {
                    task_id,
                    title: "[LEGACY-7] migrate the farm".into(),
                    created_at: now,
                }
                .into_envelope(now),
            )?;
            Outbox::append(
                tx,
                &TaskAssigned {
                    task_id,
                    assignee_id: ann_id,
                    assigned_at: now,
                }
                .into_envelope(now),
            )?;
            Ok(())
        })
        .await
        .unwrap();
    app.settle().await;
    let me: ates_shared::api::MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    let task = me.log[0].task.as_ref().expect("the fee names its task");
    assert_eq!(
        (task.id, task.title.as_str(), task.jira_id.as_deref()),
        (task_id, "migrate the farm", Some("LEGACY-7"))
    );
    let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
    assert!(
        status.consumers.iter().all(|c| c.dead_letters == 0),
        "{status:?} ({ann_name})"
    );
}

#[tokio::test]
async fn a_poisoned_event_is_parked_shown_to_the_admin_and_refused_on_replay() {
    let app = TestApp::spawn().await;
    // A broken event in auth's log, written around the producer's own validation.
    app.state
        .auth
        .db()
        .write(|tx| -> Result<(), DbError> {
            tx.execute(
                "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
                 VALUES (?1, 'UserCreated', 1, '2026-01-01T00:00:00Z', 'auth', '{\"user_id\": \"nope\"}')",
                [uuid::Uuid::now_v7()],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let ann = app.popug("ann", Role::Worker).await; // behind it in the log, and still delivered
    assert_eq!(
        app.create_task(&app.admin, "flows on").await.assignee.id,
        ann.user.id
    );

    let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
    let parked: Vec<_> = status
        .consumers
        .iter()
        .filter(|c| c.dead_letters == 1)
        .map(|c| c.consumer.as_str())
        .collect();
    assert_eq!(parked, ["tracker.auth", "accounting.auth"]);
    let (_, letters) = app.get("/api/v1/system/dead-letters", &app.admin).await;
    let letters = letters["items"].as_array().unwrap().clone();
    assert_eq!(letters.len(), 2);
    let (_, first) = app
        .get("/api/v1/system/dead-letters?limit=1", &app.admin)
        .await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (_, second) = app
        .get(
            &format!("/api/v1/system/dead-letters?limit=1&cursor={cursor}"),
            &app.admin,
        )
        .await;
    assert_eq!(
        [&first["items"][0]["id"], &second["items"][0]["id"]],
        [&letters[0]["id"], &letters[1]["id"]]
    );
    assert!(second["next_cursor"].is_null());
    let (_, resolved) = app
        .get("/api/v1/system/dead-letters?status=resolved", &app.admin)
        .await;
    assert_eq!(resolved["items"].as_array().unwrap().len(), 0);
    assert!(
        letters[0]["error"].as_str().unwrap().contains("user_id"),
        "{letters:?}"
    );

    let (status, body) = app
        .post(
            &format!(
                "/api/v1/system/dead-letters/{}/retry",
                letters[0]["id"].as_str().unwrap()
            ),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "replay_failed");

    // It can never apply: the admin discards it, and the reason is kept.
    let id = letters[0]["id"].as_str().unwrap();
    let discard = format!("/api/v1/system/dead-letters/{id}/discard");
    let (status, body) = app
        .post(&discard, &app.admin, json!({"reason": "  "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reason")
    );
    let (status, body) = app
        .post(
            &discard,
            &app.admin,
            json!({"reason": "written by hand; the user never existed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "discarded");
    assert_eq!(
        body["discard_reason"],
        "written by hand; the user never existed"
    );
    for action in ["retry", "discard"] {
        let (status, body) = app
            .post(
                &format!("/api/v1/system/dead-letters/{id}/{action}"),
                &app.admin,
                json!({"reason": "again"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {body}");
        assert_eq!(body["error"]["code"], "not_parked");
    }
    let (_, discarded) = app
        .get("/api/v1/system/dead-letters?status=discarded", &app.admin)
        .await;
    assert_eq!(discarded["items"].as_array().unwrap().len(), 1);
    assert_eq!(discarded["items"][0]["id"], letters[0]["id"]);
    let (_, parked) = app
        .get("/api/v1/system/dead-letters?status=parked", &app.admin)
        .await;
    assert_eq!(parked["items"].as_array().unwrap().len(), 1);
    let status: EventsStatus = app.get_ok("/api/v1/system/events", &app.admin).await;
    assert_eq!(
        status.consumers.iter().map(|c| c.dead_letters).sum::<i64>(),
        1,
        "a discarded letter is no longer waiting"
    );
}

#[tokio::test]
async fn the_change_stream_announces_a_new_task() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let mut stream = app
        .client
        .get(format!("{}/api/v1/stream", app.base))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    app.create_task(&ann.token, "news").await;
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(r#"{"context":"tracker"}"#) {
        assert!(
            std::time::Instant::now() < deadline,
            "no tracker change announced: {seen}"
        );
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(
            &chunk.expect("the stream stays open"),
        ));
    }
    assert!(seen.contains("event: change"));
}

#[tokio::test]
async fn metrics_show_requests_by_route_consumer_lag_dead_letters_and_commits() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let task = app.create_task(&ann.token, "measured").await;
    let (status, _) = app
        .get(&format!("/api/v1/tasks/{}", task.id), &ann.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.settle().await;
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for expected in [
        // The route's pattern, never the raw path with its id.
        r#"ates_http_requests_total{method="GET",route="/api/v1/tasks/{id}",status="200"}"#,
        r#"ates_http_request_duration_seconds_bucket{method="POST",route="/api/v1/tasks""#,
        r#"ates_consumer_lag_events{consumer="accounting.tracker"} 0"#,
        r#"ates_dead_letters_parked{consumer="tracker.auth"} 0"#,
        "ates_payout_emails_pending ",
        // Each database's writer: the task's commit in the tracker, the fee's in accounting.
        r#"ates_db_transaction_seconds_bucket{db="tracker""#,
        r#"ates_db_commit_seconds_count{db="accounting"}"#,
        r#"ates_db_wal_pages{db="tracker"}"#,
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }
    assert!(!text.contains(&task.id.to_string()), "no ids in labels");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = TestApp::spawn().await;
    let fresh = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let kept = app
        .client
        .get(format!("{}/api/v1/nowhere", app.base))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-me-42");
}
