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

/// The real binary serving `data` with its token secret and first admin password read
/// from files (none of their environment variables set); killed when dropped.
struct Served {
    child: std::process::Child,
    client: reqwest::Client,
    base: String,
}

impl Served {
    async fn start(data: &Path, secret: &Path, password: &Path) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ates-server"))
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data)
            .arg("--jwt-secret-file")
            .arg(secret)
            .arg("--admin-password-file")
            .arg(password)
            .env_remove("ATES_JWT_SECRET")
            .env_remove("ATES_JWT_SECRET_FILE")
            .env_remove("ATES_ADMIN_PASSWORD")
            .env_remove("ATES_ADMIN_PASSWORD_FILE")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("ates-server starts");
        let client = crate::helpers::http_client();
        let mut server = Served {
            child,
            client: client.clone(),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Ok(reply) = client.get(format!("{}/healthz", server.base)).send().await
                && reply.status() == StatusCode::OK
            {
                return server;
            }
            if let Some(exit) = server.child.try_wait().expect("the server's state") {
                panic!("the server stopped while starting: {exit}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not come up"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The admin logs in with `password`.
    async fn login(&self, password: &str) -> (StatusCode, Value) {
        let reply = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
            .expect("request sent");
        let status = reply.status();
        (status, reply.json().await.unwrap_or(Value::Null))
    }

    /// `GET /api/v1/auth/me` with `token`.
    async fn me(&self, token: &str) -> (StatusCode, Value) {
        let reply = self
            .client
            .get(format!("{}/api/v1/auth/me", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        let status = reply.status();
        (status, reply.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--jwt-secret-file` and `--admin-password-file`: the first admin gets the file's
/// password, and tokens are signed with the file's secret (none is generated in the data
/// directory), so they outlive a restart with the same file but not one with another.
#[tokio::test]
async fn the_binary_reads_its_token_secret_and_admin_password_from_files() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let secret = files.path().join("jwt-secret");
    let password = files.path().join("admin-password");
    std::fs::write(&secret, "a-token-secret-read-from-a-file-of-32-bytes\n").unwrap();
    std::fs::write(&password, "admin-password-from-a-file\nnot part of it\n").unwrap();

    let server = Served::start(data.path(), &secret, &password).await;
    let (status, body) = server.login("admin-password-from-a-file").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().expect("a token").to_owned();
    let (status, body) = server.me(&token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "admin");
    assert!(
        !data.path().join("jwt_secret").exists(),
        "the secret came from the file: none was generated"
    );
    drop(server);

    // Restarted with the same file, the token still holds.
    let server = Served::start(data.path(), &secret, &password).await;
    let (status, body) = server.me(&token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(server);

    // With another secret it does not; a new login works.
    let other = files.path().join("other-jwt-secret");
    std::fs::write(&other, "another-token-secret-from-a-file-32-bytes\n").unwrap();
    let server = Served::start(data.path(), &other, &password).await;
    let (status, body) = server.me(&token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = server.login("admin-password-from-a-file").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.me(body["token"].as_str().expect("a token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
