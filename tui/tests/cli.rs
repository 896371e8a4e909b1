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

        seen.push(stdout(&ates(
            &dir,
            &[
                "login",
                "--server",
                &base,
                "--username",
                "admin",
                "--password",
                ADMIN_PASSWORD,
            ],
        )));
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
