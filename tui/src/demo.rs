//! `ates demo`: a real server in-process on a free loopback port with a temporary data
//! directory, demo users, tasks and a few days of history, then the client, logged in.

use crate::api::client::TaskQuery;
use crate::api::{ApiError, Client};
use crate::app::{App, Session};
use crate::config::Store;
use anyhow::Context as _;
use ates_server::clock::Clock;
use ates_server::{Application, Config};
use ates_shared::Role;
use ates_shared::api::{CreateUser, NewTask, TaskStatus};
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "admin-password";
pub const DEMO_PASSWORD: &str = "demo-password";
/// Days of history before today: a month, so every chart and list has something to show.
pub const HISTORY_DAYS: i64 = 30;

/// The demo users besides `admin`: (username, role).
pub const USERS: &[(&str, Role)] = &[
    ("worker", Role::Worker),
    ("alice", Role::Worker),
    ("bob", Role::Worker),
    ("carol", Role::Worker),
    ("dave", Role::Worker),
    ("erin", Role::Worker),
    ("accountant", Role::Accountant),
    ("manager", Role::Manager),
];

const TITLES: &[(&str, Option<&str>)] = &[
    ("Fix the login page", Some("UBERPOP-42")),
    ("Feed the parrots", None),
    ("Write the payroll report", Some("PAY-7")),
    ("Polish the beaks", None),
    ("Migrate the nest database", Some("NEST-101")),
    ("Review the perch layout", None),
    ("Translate the squawk guide", Some("DOC-12")),
    ("Count the seeds", None),
];

/// The wall clock moved by an adjustable offset, so history can be written "in the past".
pub struct DemoClock {
    offset: Mutex<Duration>,
}

impl DemoClock {
    pub fn new(offset: Duration) -> Arc<DemoClock> {
        Arc::new(DemoClock {
            offset: Mutex::new(offset),
        })
    }

    pub fn set_offset(&self, offset: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) = offset;
    }
}

impl Clock for DemoClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A server running inside this process.
pub struct DemoServer {
    pub base: String,
    pub clock: Arc<DemoClock>,
    dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl DemoServer {
    /// Starts a server on a free loopback port over a fresh temporary data directory.
    pub async fn start(clock: Arc<DemoClock>) -> anyhow::Result<DemoServer> {
        let dir = tempfile::tempdir().context("creating a temporary data directory")?;
        let mut config = Config::for_tests(dir.path().join("data"));
        // Tokens outlive the jumps of the demo clock.
        config.token_ttl = Duration::days(HISTORY_DAYS + 2);
        let app = Application::build(config, clock.clone()).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(DemoServer {
            base,
            clock,
            dir,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("the server task")??;
        }
        Ok(())
    }

    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<Client> {
        let client = Client::new(&self.base, None);
        let login = client
            .login(username, password)
            .await
            .with_context(|| format!("logging in as {username}"))?;
        Ok(Client::new(&self.base, Some(login.token)))
    }

    /// Waits until every consumer has applied every event, so reads see the writes.
    pub async fn settle(&self, admin: &Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if admin.events_status().await?.caught_up {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "the consumers did not catch up");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// What the demo wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seeded {
    pub tasks: usize,
    pub completed: usize,
    pub days_closed: usize,
}

/// Creates the demo users, then for each of the last days creates tasks, completes some and
/// closes the day; ends at the present with a few open tasks.
pub async fn seed(server: &DemoServer) -> anyhow::Result<Seeded> {
    let admin = server.login("admin", ADMIN_PASSWORD).await?;
    for (username, role) in USERS {
        admin
            .create_user(&CreateUser {
                username: (*username).to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                full_name: format!("{} Popug", capitalise(username)),
                email: format!("{username}@popug.inc"),
                role: *role,
            })
            .await
            .with_context(|| format!("creating {username}"))?;
    }
    server.settle(&admin).await?;
    let mut seeded = Seeded::default();
    let mut next_title = 0usize;
    for days_back in (0..=HISTORY_DAYS).rev() {
        server.clock.set_offset(-Duration::days(days_back));
        let admin = server.login("admin", ADMIN_PASSWORD).await?;
        let manager = server.login("manager", DEMO_PASSWORD).await?;
        // Busier and quieter days (6 to 14 new tasks), so the charts have a shape.
        for _ in 0..(6 + (days_back * 5) % 9) {
            let (title, jira) = TITLES[next_title % TITLES.len()];
            next_title += 1;
            manager
                .create_task(&NewTask {
                    title: title.to_owned(),
                    jira_id: jira.map(str::to_owned),
                    description: Some("Created by the demo.".to_owned()),
                })
                .await?;
            seeded.tasks += 1;
        }
        server.settle(&admin).await?;
        for (username, _) in USERS.iter().filter(|(_, r)| r.is_assignable()) {
            let popug = server.login(username, DEMO_PASSWORD).await?;
            let open = popug
                .tasks(&TaskQuery {
                    status: Some(TaskStatus::Open),
                    mine: true,
                })
                .await?;
            // Past days: most work gets done, some days less (those cost the company);
            // today: leave plenty open to play with.
            let keep_open = if days_back == 0 {
                open.len().max(1) - 1
            } else if days_back % 4 == 0 {
                open.len() / 2 + 1
            } else {
                1
            };
            for task in open.iter().skip(keep_open.min(open.len())) {
                popug.complete_task(task.id).await?;
                seeded.completed += 1;
            }
        }
        // Once a week the manager reshuffles: every open task is billed again.
        if days_back % 7 == 3 {
            manager.reshuffle().await?;
        }
        server.settle(&admin).await?;
        if days_back > 0 {
            let accountant = server.login("accountant", DEMO_PASSWORD).await?;
            match accountant.close_day().await {
                Ok(_) => seeded.days_closed += 1,
                // A server without accounting yet: the history is tasks only.
                Err(err) if err.is_not_found() => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    server.clock.set_offset(Duration::zero());
    server.settle(&admin).await?;
    Ok(seeded)
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// `ates demo --as <username>`.
pub async fn run(login_as: &str) -> anyhow::Result<()> {
    let server = DemoServer::start(DemoClock::new(-Duration::days(HISTORY_DAYS))).await?;
    println!("Starting the aTES demo server at {} …", server.base);
    let seeded = seed(&server).await?;
    println!(
        "Seeded {} tasks over {} days ({} completed, {} days closed).",
        seeded.tasks,
        HISTORY_DAYS + 1,
        seeded.completed,
        seeded.days_closed
    );
    println!("Demo logins (server {}):", server.base);
    println!("  admin       / {ADMIN_PASSWORD}");
    for (username, role) in USERS {
        println!("  {username:<11} / {DEMO_PASSWORD}   ({role})");
    }
    let password = if login_as == "admin" {
        ADMIN_PASSWORD
    } else {
        DEMO_PASSWORD
    };
    let client = Client::new(&server.base, None);
    // The demo's own config directory: it never touches the user's saved session.
    let store = Store::at(server.dir().join("client"));
    let today = chrono::Local::now().date_naive();
    let mut app = App::new(today, &server.base, login_as);
    let initial = match client.login(login_as, password).await {
        Ok(login) => app.resume(Session {
            server: server.base.clone(),
            token: login.token,
            username: login.user.username,
        }),
        Err(ApiError::Server { message, .. }) => {
            println!("Cannot log in as {login_as}: {message}; opening the login screen.");
            Vec::new()
        }
        Err(err) => return Err(err.into()),
    };
    let result = crate::runtime::run(app, initial, store).await;
    server.stop().await?;
    result
}
