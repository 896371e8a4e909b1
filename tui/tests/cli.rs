//! The scriptable subcommands against a real server in-process.

use ates_tui::demo::{ADMIN_PASSWORD, DemoClock, DemoServer};
use std::path::Path;
use std::process::{Command, Output};

fn ates(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ates"))
        .args(args)
        .env("ATES_CONFIG_DIR", config)
        .env_remove("ATES_PASSWORD")
        .output()
        .expect("ates runs")
}

/// `ates login` as the demo's admin; the session lands in `config`.
fn log_in_as_admin(config: &Path, base: &str) -> String {
    stdout(&ates(
        config,
        &[
            "login",
            "--server",
            base,
            "--username",
            "admin",
            "--password",
            ADMIN_PASSWORD,
        ],
    ))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "ates failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subcommands_log_in_list_create_and_fail_with_the_servers_message() {
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server starts");
    let config = tempfile::tempdir().expect("config dir");
    let dir = config.path().to_path_buf();
    let base = server.base.clone();

    let out = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        // Not logged in yet: a clear message and a failing exit code.
        let denied = ates(&dir, &["tasks"]);
        assert!(!denied.status.success());
        seen.push(String::from_utf8_lossy(&denied.stderr).into_owned());

        seen.push(log_in_as_admin(&dir, &base));
        seen.push(stdout(&ates(&dir, &["users", "--json"])));
        // Nobody can take a task yet: the server's own message, exit code 1.
        let refused = ates(&dir, &["task", "add", "[UBERPOP-1] fix it"]);
        assert_eq!(refused.status.code(), Some(1));
        seen.push(String::from_utf8_lossy(&refused.stderr).into_owned());
        seen.push(stdout(&ates(
            &dir,
            &["tasks", "--status", "open", "--json"],
        )));
        seen.push(stdout(&ates(&dir, &["logout"])));
        let after_logout = ates(&dir, &["tasks"]);
        assert!(!after_logout.status.success());
        seen
    })
    .await
    .expect("cli run");

    assert!(out[0].contains("not logged in"), "{}", out[0]);
    assert!(out[1].contains("as admin (admin)"), "{}", out[1]);
    let users: Vec<ates_shared::api::User> = serde_json::from_str(&out[2]).expect("users json");
    assert!(users.iter().any(|u| u.username == "admin"));
    assert!(out[3].starts_with("error: "), "{}", out[3]);
    assert!(
        out[3].contains("`title`"),
        "the server names the field: {}",
        out[3]
    );
    let tasks: Vec<ates_shared::api::Task> = serde_json::from_str(&out[4]).expect("tasks json");
    assert!(tasks.is_empty());
    assert!(out[5].contains("Logged out"));
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refetch_that_finds_nothing_new_is_a_304_without_a_body() {
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server starts");
    let admin = server.login("admin", ADMIN_PASSWORD).await.expect("admin");
    let first = admin.users().await.expect("users");
    let again = admin.users().await.expect("users again");
    assert_eq!(first, again, "the kept answer is used");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"route="/api/v1/users",status="304""#),
        "{metrics}"
    );
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_has_a_subcommand_with_json_and_a_clear_failure() {
    use ates_shared::api::{
        Account, AnalyticsSummary, CloseDayResult, DeadLetter, Earnings, Entry, EventsStatus,
        MostExpensive, RebuildStatus, ReshuffleResult, User,
    };
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server starts");
    let config = tempfile::tempdir().expect("config dir");
    let dir = config.path().to_path_buf();
    let base = server.base.clone();
    tokio::task::spawn_blocking(move || {
        let json = |args: &[&str]| -> serde_json::Value {
            let mut all = args.to_vec();
            all.push("--json");
            serde_json::from_str(&stdout(&ates(&dir, &all))).expect("json")
        };
        log_in_as_admin(&dir, &base);
        let ann: User = serde_json::from_value(json(&[
            "users",
            "add",
            "ann",
            "--full-name",
            "Ann Popug",
            "--email",
            "ann@popug.inc",
            "--password",
            "ann-password",
        ]))
        .unwrap();
        assert_eq!(ann.username, "ann");
        let bob: User = serde_json::from_value(json(&[
            "users",
            "add",
            "bob",
            "--full-name",
            "Bob",
            "--email",
            "bob@popug.inc",
            "--role",
            "accountant",
            "--password",
            "bob-password",
        ]))
        .unwrap();
        let promoted: User =
            serde_json::from_value(json(&["users", "role", "bob", "manager"])).unwrap();
        assert_eq!(promoted.role, ates_shared::Role::Manager);
        let off: User =
            serde_json::from_value(json(&["users", "deactivate", &bob.id.to_string()])).unwrap();
        assert!(!off.active);
        let on: User = serde_json::from_value(json(&["users", "activate", "bob"])).unwrap();
        assert!(on.active);
        stdout(&ates(&dir, &["task", "add", "CLI work"]));
        std::thread::sleep(std::time::Duration::from_millis(300));
        // Destructive commands need --yes when there is no terminal.
        let refused = ates(&dir, &["reshuffle"]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
        let _: ReshuffleResult = serde_json::from_value(json(&["reshuffle", "--yes"])).unwrap();
        let closed: CloseDayResult = serde_json::from_value(json(&["close-day", "--yes"])).unwrap();
        assert!(closed.payouts <= 1);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let accounts: Vec<Account> = serde_json::from_value(json(&["accounts"])).unwrap();
        assert!(accounts.iter().any(|a| a.user.id == ann.id));
        let log: Vec<Entry> = serde_json::from_value(json(&["log", "ann"])).unwrap();
        assert!(!log.is_empty(), "ann paid fees");
        let _: Earnings = serde_json::from_value(json(&["earnings"])).unwrap();
        let status: EventsStatus = serde_json::from_value(json(&["events"])).unwrap();
        assert!(!status.consumers.is_empty());
        let letters: Vec<DeadLetter> = serde_json::from_value(json(&["dead-letters"])).unwrap();
        assert!(letters.is_empty());
        let missing = ates(
            &dir,
            &["dead-letters", "replay", &uuid::Uuid::now_v7().to_string()],
        );
        assert_eq!(missing.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error: "));
        let _: AnalyticsSummary = serde_json::from_value(json(&["analytics", "summary"])).unwrap();
        let _: MostExpensive =
            serde_json::from_value(json(&["analytics", "most-expensive", "--period", "week"]))
                .unwrap();
        let _: RebuildStatus = serde_json::from_value(json(&["rebuild", "analytics"])).unwrap();
        let path = stdout(&ates(&dir, &["config", "path"]));
        assert!(path.trim().ends_with("config.toml"), "{path}");
    })
    .await
    .expect("cli run");
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_export_sums_to_the_balance_and_opens_in_pythons_csv() {
    use ates_shared::api::{CreateUser, NewTask};
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server starts");
    let admin = server.login("admin", ADMIN_PASSWORD).await.expect("admin");
    admin
        .create_user(&CreateUser {
            username: "ann".into(),
            password: "ann-password".into(),
            full_name: "Popug, Ann \"Quill\"".into(),
            email: "ann@popug.inc".into(),
            role: ates_shared::Role::Worker,
        })
        .await
        .expect("ann");
    server.settle(&admin).await.expect("settled");
    let ann = server
        .login("ann", "ann-password")
        .await
        .expect("ann logs in");
    for i in 0..7 {
        let task = ann
            .create_task(&NewTask {
                title: format!("Task, \"quoted\" {i}"),
                jira_id: Some(format!("UBERPOP-{i}")),
                description: None,
            })
            .await
            .expect("task");
        if i % 2 == 0 {
            ann.complete_task(task.id).await.expect("completed");
        }
    }
    admin.reshuffle().await.expect("reshuffle");
    server.settle(&admin).await.expect("settled");
    let balance = ann.my_account().await.expect("account").balance_cents;

    let config = tempfile::tempdir().expect("config dir");
    let dir = config.path().to_path_buf();
    let base = server.base.clone();
    let file = dir.join("ledger.csv");
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        (today - chrono::Duration::days(1)).to_string(),
        today.to_string(),
    );
    let csv_path = file.to_str().unwrap().to_owned();
    let summed = tokio::task::spawn_blocking(move || {
        log_in_as_admin(&dir, &base);
        stdout(&ates(
            &dir,
            &[
                "export", "ledger", "--from", &from, "--to", &to, "--user", "ann", "--format",
                "csv", "--output", &csv_path,
            ],
        ));
        let json = stdout(&ates(
            &dir,
            &[
                "export", "ledger", "--from", &from, "--to", &to, "--format", "json",
            ],
        ));
        let rows: Vec<ates_shared::api::LedgerRow> = serde_json::from_str(&json).expect("json");
        assert!(
            rows.len() >= 12,
            "7 fees, 4 rewards, 3 reshuffle fees: {}",
            rows.len()
        );
        // Python's csv module reads it and sums the amounts in cents.
        let python = Command::new("python3")
            .arg("-c")
            .arg(
                "import csv, sys\n\
                 rows = list(csv.DictReader(open(sys.argv[1], newline='')))\n\
                 assert rows[0].keys() >= {'date', 'amount', 'kind', 'task_title'}, rows[0]\n\
                 assert any(r['task_title'].startswith('Task, \"quoted\"') for r in rows)\n\
                 print(sum(round(float(r['amount']) * 100) for r in rows))",
            )
            .arg(&csv_path)
            .output()
            .expect("python3 runs");
        assert!(
            python.status.success(),
            "{}",
            String::from_utf8_lossy(&python.stderr)
        );
        String::from_utf8_lossy(&python.stdout)
            .trim()
            .parse::<i64>()
            .expect("a sum")
    })
    .await
    .expect("export run");
    assert_eq!(summed, balance, "the rows sum to the balance");
    server.stop().await.expect("server stops");
}
