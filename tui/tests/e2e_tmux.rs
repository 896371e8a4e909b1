//! End to end in a real terminal: a real server in-process, the real `ates` binary in tmux,
//! driven by keys and read back with `capture-pane`.

use ates_shared::Role;
use ates_shared::api::{CreateUser, NewTask};
use ates_tui::api::Client;
use ates_tui::demo::{ADMIN_PASSWORD, DemoClock, DemoServer};
use ates_tui::ui::widgets::money;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PASSWORD: &str = "e2e-password";

/// One tmux server of our own (`-L`), killed when the test ends, even on failure.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(config_dir: &Path) -> Tmux {
        Self::start_command(format!(
            "env ATES_CONFIG_DIR='{}' TERM=xterm-256color '{}'",
            config_dir.display(),
            env!("CARGO_BIN_EXE_ates")
        ))
    }

    /// The client under a shell that, when the client ends, says so and prints the
    /// terminal's modes: a sane terminal is back in canonical mode with echo.
    fn start_under_shell(config_dir: &Path) -> Tmux {
        Self::start_command(format!(
            "sh -c \"env ATES_CONFIG_DIR='{}' TERM=xterm-256color '{}'; echo CLIENT-ENDED; stty -a; sleep 60\"",
            config_dir.display(),
            env!("CARGO_BIN_EXE_ates")
        ))
    }

    /// The client's process id (the child of the pane's shell).
    fn client_pid(&self) -> String {
        let shell = self.run(&["display-message", "-p", "-t", "ates", "#{pane_pid}"]);
        let output = Command::new("pgrep")
            .args(["-P", shell.trim()])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .expect("the client runs under the shell")
            .to_owned()
    }

    /// Pastes `text` as a terminal would (bracketed, since the client asks for it).
    fn paste(&self, text: &str) {
        self.run(&["set-buffer", "-b", "e2e", text]);
        self.run(&["paste-buffer", "-p", "-b", "e2e", "-t", "ates"]);
    }

    fn start_command(command: String) -> Tmux {
        let socket = format!(
            "ates-e2e-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        let tmux = Tmux { socket };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "ates",
            "-x",
            "120",
            "-y",
            "40",
            &command,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "ates"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "ates", "-l", text]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "ates"])
    }

    /// Polls the screen until it shows every one of `needles` (within 15 s).
    async fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {needles:?}; it shows:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn log_in(tmux: &Tmux, base: &str, username: &str) {
    tmux.wait_for(&["log in", "Server"]).await;
    // A fresh config: the server field holds the default and the focus is on the username.
    // Go up to the server field and replace it.
    tmux.wait_for(&["> Username"]).await;
    tmux.keys(&["Up", "C-u"]);
    tmux.text(base);
    tmux.keys(&["Tab", "C-u"]);
    tmux.text(username);
    tmux.keys(&["Tab"]);
    tmux.text(PASSWORD);
    tmux.keys(&["Enter"]);
}

async fn create_user(admin: &Client, username: &str, role: Role) {
    admin
        .create_user(&CreateUser {
            username: username.into(),
            password: PASSWORD.into(),
            full_name: format!("{username} E2e"),
            email: format!("{username}@popug.inc"),
            role,
        })
        .await
        .expect("user created");
}

async fn task(client: &Client, title: &str) {
    client
        .create_task(&NewTask {
            title: title.into(),
            jira_id: None,
            description: None,
        })
        .await
        .expect("task created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_completes_a_task_and_a_manager_reshuffles_in_a_real_terminal() {
    if !tmux_available() {
        if std::env::var_os("CI").is_some() {
            panic!("tmux is required for the end-to-end test in CI");
        }
        eprintln!("skipping the end-to-end test: tmux is not installed");
        return;
    }
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server starts");
    let admin = server.login("admin", ADMIN_PASSWORD).await.expect("admin");
    create_user(&admin, "ann", Role::Worker).await;
    create_user(&admin, "max", Role::Manager).await;
    server.settle(&admin).await.expect("settled");
    let ann = server.login("ann", PASSWORD).await.expect("ann");
    let max = server.login("max", PASSWORD).await.expect("max");
    // Ann is the only one who can take tasks.
    task(&max, "Polish the e2e beak").await;
    server.settle(&admin).await.expect("settled");

    // Part 1: the worker completes the task by keys.
    let config = tempfile::tempdir().expect("config dir");
    let tmux = Tmux::start(config.path());
    log_in(&tmux, &server.base, "ann").await;
    tmux.wait_for(&["My tasks: 1 open", "Polish the e2e beak", "[ ]"])
        .await;
    // Three tasks arrive from elsewhere, above the cursor (newest first), by a live
    // refresh: the cursor stays on the task it was on, and `c` names that task.
    for title in [
        "Arrived from elsewhere 1",
        "Arrived from elsewhere 2",
        "Arrived from elsewhere 3",
    ] {
        task(&max, title).await;
    }
    let screen = tmux
        .wait_for(&["My tasks: 4 open", "Arrived from elsewhere 3"])
        .await;
    let selected = screen
        .lines()
        .find(|l| l.contains("│>"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        selected.contains("Polish the e2e beak"),
        "the cursor stayed on its task:\n{screen}"
    );
    // The new tasks' fees are in before the completion is measured.
    server.settle(&admin).await.expect("settled");
    let balance_before = ann.my_account().await.expect("account").balance_cents;
    tmux.keys(&["c"]);
    tmux.wait_for(&["Complete “Polish the e2e beak”?", "[y] yes"])
        .await;
    tmux.keys(&["y"]);
    tmux.wait_for(&["My tasks: 3 open", "[x]", "Done: “Polish the e2e beak”"])
        .await;
    // The reward is credited, and the Account screen shows the new balance.
    server.settle(&admin).await.expect("settled");
    let after = ann.my_account().await.expect("account").balance_cents;
    assert!(
        after > balance_before,
        "the reward is credited: {balance_before} -> {after}"
    );
    tmux.keys(&["4"]);
    tmux.wait_for(&[&format!("Balance:      {}", money(after)), "reward"])
        .await;
    // The client remembered the session in the config dir.
    let saved = std::fs::read_to_string(config.path().join("session.toml")).expect("session saved");
    assert!(saved.contains("username = \"ann\""), "{saved}");
    tmux.keys(&["q"]);
    drop(tmux);

    // Part 2: a manager reshuffles after confirming; the count comes first.
    task(&max, "Re-paint the perch").await;
    task(&max, "Sort the seeds").await;
    server.settle(&admin).await.expect("settled");
    let config = tempfile::tempdir().expect("config dir");
    let tmux = Tmux::start(config.path());
    log_in(&tmux, &server.base, "max").await;
    tmux.wait_for(&["Board: 6 tasks", "Re-paint the perch"])
        .await;
    tmux.keys(&["3"]);
    tmux.wait_for(&["Open tasks: 5"]).await;
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["Reshuffle 5 open task(s)?", "[y] yes"])
        .await;
    tmux.keys(&["y"]);
    tmux.wait_for(&["Reshuffled: 5 open task(s) reassigned"])
        .await;
    tmux.keys(&["q"]);
    drop(tmux);

    // Part 3: a multi-line paste into New task fills the description and creates nothing;
    // then SIGTERM ends the client and leaves a sane terminal behind.
    let config = tempfile::tempdir().expect("config dir");
    let tmux = Tmux::start_under_shell(config.path());
    log_in(&tmux, &server.base, "max").await;
    tmux.wait_for(&["Board: 6 tasks"]).await;
    tmux.keys(&["2", "Enter"]);
    tmux.text("Pasted by a user");
    tmux.keys(&["Tab", "Tab"]);
    tmux.paste("line one\nline two\nline three\n");
    tmux.wait_for(&["line one⏎line two⏎line three"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!tmux.screen().contains("Created"), "{}", tmux.screen());
    let tasks = max.tasks(&Default::default()).await.expect("GET /tasks");
    assert_eq!(tasks.len(), 6, "the paste created no task");
    let pid = tmux.client_pid();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let after = tmux.wait_for(&["CLIENT-ENDED", "speed", "icanon"]).await;
    assert!(
        after.contains(" icanon") && after.contains(" echo "),
        "the terminal is back in canonical mode with echo:\n{after}"
    );
    drop(tmux);
    server.stop().await.expect("server stops");
}
