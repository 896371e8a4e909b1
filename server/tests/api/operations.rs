//! Operations: `ates-server backup` while serving and `restore` with the server stopped,
//! through the real binary.

use crate::helpers::TestApp;
use ates_server::clock::SystemClock;
use ates_shared::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

fn backup(data: &Path, to: &Path) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ates-server"));
    command
        .arg("backup")
        .arg("--to")
        .arg(to)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn");
    command.output().expect("ates-server runs")
}

fn restore(from: &Path, data: &Path, replace: bool) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ates-server"));
    command
        .arg("restore")
        .arg("--from")
        .arg(from)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn");
    if replace {
        command.arg("--replace");
    }
    command.output().expect("ates-server runs")
}

fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What the company sees: every task, every account with its log, payments, analytics.
async fn answers(app: &TestApp) -> Value {
    let accounts: Value = app
        .get_ok("/api/v1/accounting/accounts?limit=500", &app.admin)
        .await;
    let mut logs = Vec::new();
    for account in accounts["items"].as_array().unwrap() {
        let id = account["user"]["id"].as_str().unwrap();
        logs.push(
            app.get_ok::<Value>(
                &format!("/api/v1/accounting/accounts/{id}/log?limit=500"),
                &app.admin,
            )
            .await,
        );
    }
    json!({
        "tasks": app.all_tasks(&app.admin, "").await.iter().map(|t| json!(t)).collect::<Vec<_>>(),
        "users": app.get_ok::<Value>("/api/v1/users?limit=500", &app.admin).await,
        "accounts": accounts,
        "logs": logs,
        "payments": app.get_ok::<Value>("/api/v1/accounting/payments?limit=500", &app.admin).await,
        "analytics": app.get_ok::<Value>("/api/v1/analytics/summary", &app.admin).await,
    })
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_the_same_answers() {
    let app = TestApp::spawn().await;
    let (ann, _) = app.worker_in_profit("ann").await;
    let bob = app.popug("bob", Role::Worker).await;
    for i in 0..20 {
        app.create_task(&bob.token, &format!("work {i}")).await;
    }
    let (status, body) = app
        .post("/api/v1/tasks/reshuffle", &app.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.post("/api/v1/accounting/close-day", &app.admin, json!({}))
        .await;
    app.settle().await;
    let before = answers(&app).await;

    let scratch = tempfile::tempdir().unwrap();
    let quiet = scratch.path().join("quiet");
    let output = backup(app.data_dir(), &quiet);
    succeeded(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("backed up tracker.db"));
    let refused = backup(app.data_dir(), &quiet);
    assert!(
        !refused.status.success(),
        "a second backup into the same place"
    );

    // A backup while tasks keep arriving: each copy is a snapshot, consumers first.
    let writer = {
        let (client, base, token) = (app.client.clone(), app.base.clone(), ann.token.clone());
        tokio::spawn(async move {
            for i in 0..200 {
                let reply = client
                    .post(format!("{base}/api/v1/tasks"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("during the backup {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), StatusCode::CREATED);
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let busy = scratch.path().join("busy");
    succeeded(&backup(app.data_dir(), &busy));
    writer.await.unwrap();

    // Restore refuses a directory a server holds.
    let refused = restore(&quiet, app.data_dir(), true);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("in use"));
    let dir = app.stop().await;

    // Restoring over existing data needs --replace.
    let refused = restore(&quiet, dir.path(), false);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--replace"));
    succeeded(&restore(&quiet, dir.path(), true));
    let app = TestApp::spawn_in(dir, true, Arc::new(SystemClock)).await;
    app.settle().await;
    assert_eq!(answers(&app).await, before, "the quiet backup is exact");
    drop(app.stop().await);

    // The busy backup restores into a fresh directory to a whole, consistent company.
    let fresh = tempfile::tempdir().unwrap();
    succeeded(&restore(&busy, fresh.path(), false));
    let app = TestApp::spawn_in(fresh, true, Arc::new(SystemClock)).await;
    app.settle().await;
    let tasks = app.all_tasks(&app.admin, "").await;
    assert!(tasks.len() > 21, "the backup holds tasks written during it");
    let accounts: Value = app
        .get_ok("/api/v1/accounting/accounts?limit=500", &app.admin)
        .await;
    let mut fees = 0;
    for account in accounts["items"].as_array().unwrap() {
        let id = account["user"]["id"].as_str().unwrap();
        let log: Value = app
            .get_ok(
                &format!("/api/v1/accounting/accounts/{id}/log?limit=500"),
                &app.admin,
            )
            .await;
        let rows = log["items"].as_array().unwrap();
        fees += rows.iter().filter(|r| r["kind"] == "fee").count();
        let sum: i64 = rows
            .iter()
            .map(|r| r["amount_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, account["balance_cents"].as_i64().unwrap(), "{account}");
    }
    // One fee per assignment: one per task created, plus the reshuffle of bob's 20 open ones.
    assert_eq!(fees, tasks.len() + 20, "every assignment billed once");
    // And it goes on working.
    let ann = app.login("ann", crate::helpers::PASSWORD).await;
    app.create_task(&ann, "after the restore").await;
    app.settle().await;
}
