//! Delivery across restarts and redelivery, seen through the running application.

use crate::helpers::{PASSWORD, TestApp};
use ates_server::clock::SystemClock;
use ates_server::db::DbError;
use ates_shared::Role;
use ates_shared::api::{EventsStatus, User};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

async fn inbox_rows(app: &TestApp) -> i64 {
    app.state
        .tracker
        .db()
        .read(|c| {
            c.query_row("SELECT count(*) FROM inbox", [], |r| r.get::<_, i64>(0))
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
    assert_eq!(inbox_rows(&app).await, 2, "each event applied exactly once");

    // Another restart delivers nothing new.
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, true, Arc::new(SystemClock)).await;
    app.settle().await;
    assert_eq!(inbox_rows(&app).await, 2);
}

#[tokio::test]
async fn a_rewound_consumer_gets_the_log_again_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let boss = app.popug("boss", Role::Worker).await;
    // Boss becomes a manager: replaying must not resurrect the old role.
    app.call(
        reqwest::Method::PATCH,
        &format!("/api/v1/users/{}", boss.user.id),
        Some(&app.admin),
        Some(json!({"role": "manager"})),
    )
    .await;
    app.settle().await;
    let before = inbox_rows(&app).await;

    let (status, body) = app
        .post(
            "/api/v1/system/consumers/tracker.auth/rewind",
            &app.admin,
            json!({"position": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.settle().await;
    assert_eq!(inbox_rows(&app).await, before);
    for i in 0..10 {
        assert_eq!(
            app.create_task(&app.admin, &format!("t{i}"))
                .await
                .assignee
                .id,
            ann.user.id
        );
    }
}
