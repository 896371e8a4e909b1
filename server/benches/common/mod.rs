//! What the benchmarks that run the real `ates-server` binary share: starting it (embedded
//! or split over RabbitMQ), logging in, reading its databases, and percentiles.
#![allow(dead_code)] // each bench uses its own part

pub mod raw;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const ADMIN_PASSWORD: &str = "bench-admin-password";
pub const SECRET: &str = "bench-secret-of-at-least-32-bytes-long";
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped.
pub struct Process(pub Child);

impl Process {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ates-server"));
    command
        .args(args)
        .env("RUST_LOG", "error")
        .env("ATES_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ATES_JWT_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (name, value) in envs {
        command.env(name, value);
    }
    Process(command.spawn().expect("ates-server starts"))
}

pub async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "{base} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs in and returns the bearer token.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let reply: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {username}: {reply}"))
        .to_owned()
}

/// A running deployment: its URL and where each context's database is.
pub struct Deployment {
    pub name: &'static str,
    pub base: String,
    pub accounting_db: PathBuf,
    pub tracker_db: PathBuf,
    pub processes: Vec<Process>,
}

pub fn embedded(dir: &Path) -> Deployment {
    let port = free_port();
    let process = spawn(
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    Deployment {
        name: "embedded",
        base: format!("http://127.0.0.1:{port}"),
        accounting_db: dir.join("accounting.db"),
        tracker_db: dir.join("tracker.db"),
        processes: vec![process],
    }
}

pub fn split(dir: &Path, namespace: &str) -> Deployment {
    let mut processes = Vec::new();
    let mut upstreams = Vec::new();
    for context in ["auth", "tracker", "accounting", "analytics"] {
        let port = free_port();
        let data = dir.join(context);
        processes.push(spawn(
            &[
                "serve",
                "--only",
                context,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            &[
                ("ATES_AMQP_URL", AMQP_URL),
                ("ATES_AMQP_NAMESPACE", namespace),
            ],
        ));
        upstreams.push(format!("{context}=http://127.0.0.1:{port}"));
    }
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["gateway", "--listen", &listen];
    for upstream in &upstreams {
        args.extend(["--upstream", upstream]);
    }
    processes.push(spawn(&args, &[]));
    Deployment {
        name: "split (RabbitMQ)",
        base: format!("http://127.0.0.1:{port}"),
        accounting_db: dir.join("accounting").join("accounting.db"),
        tracker_db: dir.join("tracker").join("tracker.db"),
        processes,
    }
}

/// Deletes the exchanges' queues a split deployment under `namespace` declared.
pub async fn delete_queues(namespace: String) {
    if let Ok(connection) = ates_server::events::broker::connect(AMQP_URL).await
        && let Ok(channel) = connection.create_channel().await
    {
        let broker = ates_server::events::broker::Broker {
            url: AMQP_URL.into(),
            namespace,
        };
        for queue in broker.queues() {
            let _ = channel
                .queue_delete(queue.as_str().into(), Default::default())
                .await;
        }
    }
}

/// One number from one database, read by a connection of its own.
pub fn one(db: &Path, sql: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
        .optional()
        .unwrap()
        .flatten()
        .unwrap_or(0)
}

/// Waits until accounting has applied the tracker's whole log.
pub async fn settled(d: &Deployment, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let head = one(&d.tracker_db, "SELECT max(seq) FROM outbox");
        let position = one(
            &d.accounting_db,
            "SELECT position FROM consumer_positions WHERE consumer = 'accounting.tracker'",
        );
        if position == head {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "accounting never caught up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `GET /system/events` says every consumer (accounting and analytics) has
/// caught up.
pub async fn caught_up(client: &reqwest::Client, base: &str, admin: &str, within: Duration) {
    let started = Instant::now();
    loop {
        let status: serde_json::Value = client
            .get(format!("{base}/api/v1/system/events"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["caught_up"] == json!(true) {
            return;
        }
        assert!(started.elapsed() < within, "the consumers never caught up");
        // Often enough for figures of seconds, rarely enough to cost the server nothing.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// When `consumer` (in `conn`'s database) applied each event it applied, by event id.
pub fn applied_times(conn: &Connection, consumer: &str) -> HashMap<Uuid, DateTime<Utc>> {
    ates_server::events::applied::applied_events(conn, consumer)
        .unwrap()
        .into_iter()
        .map(|(id, at)| (id, at.parse().expect("an inbox time")))
        .collect()
}

/// Commit-to-applied times (ms) of the tracker events from `after_seq` on.
pub fn lags(d: &Deployment, after_seq: i64) -> Vec<f64> {
    let conn = Connection::open(&d.accounting_db).unwrap();
    conn.execute(
        "ATTACH DATABASE ?1 AS tracker",
        [d.tracker_db.to_str().unwrap()],
    )
    .unwrap();
    let applied = applied_times(&conn, "accounting.tracker");
    let mut select = conn
        .prepare("SELECT event_id, event_time FROM tracker.outbox WHERE seq > ?1")
        .unwrap();
    let rows = select
        .query_map([after_seq], |r| {
            Ok((r.get::<_, Uuid>(0)?, r.get::<_, DateTime<Utc>>(1)?))
        })
        .unwrap();
    let mut lags: Vec<f64> = rows
        .filter_map(|r| {
            let (id, committed) = r.unwrap();
            let applied = applied.get(&id)?;
            Some((*applied - committed).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    lags
}

/// The `p` quantile (0..=1) of sorted figures.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `POST /api/v1/tasks` at a fixed rate for a while (each task is two tracker events);
/// returns the rate achieved and, once accounting caught up, the commit-to-applied lags.
pub async fn steady_load(
    client: &reqwest::Client,
    d: &Deployment,
    token: &str,
    rate: usize,
    seconds: usize,
) -> (f64, Vec<f64>) {
    let before = one(&d.tracker_db, "SELECT max(seq) FROM outbox");
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..rate * seconds {
        ticks.tick().await;
        let (client, base, token) = (client.clone(), d.base.clone(), token.to_owned());
        requests.spawn(async move {
            let reply = client
                .post(format!("{base}/api/v1/tasks"))
                .bearer_auth(&token)
                .json(&json!({"title": format!("steady {i}")}))
                .send()
                .await
                .unwrap();
            let status = reply.status();
            assert!(
                status.is_success(),
                "POST /tasks answered {status}: {}",
                reply.text().await.unwrap_or_default()
            );
        });
    }
    while requests.join_next().await.is_some() {}
    let sent_per_second = (rate * seconds) as f64 / started.elapsed().as_secs_f64();
    settled(d, Duration::from_secs(120)).await;
    (sent_per_second, lags(d, before))
}

/// Creates `count` workers through the API (real password hashing), `bench0`.., all with
/// the password `bench-password`.
pub async fn create_workers(client: &reqwest::Client, base: &str, admin: &str, count: usize) {
    for i in 0..count {
        let reply = client
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(admin)
            .json(
                &json!({"username": format!("bench{i}"), "password": "bench-password",
                          "full_name": format!("Bench {i}"), "email": format!("b{i}@popug.inc"),
                          "role": "worker"}),
            )
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{}", reply.status());
    }
}

/// Waits for a deployment to answer, logs the admin in, creates five workers and waits until
/// the tracker knows them (through the broker in split mode). Returns the admin's token.
pub async fn ready_with_workers(client: &reqwest::Client, d: &Deployment) -> String {
    wait_healthy(client, &d.base).await;
    let admin = login(client, &d.base, "admin", ADMIN_PASSWORD).await;
    create_workers(client, &d.base, &admin, 5).await;
    loop {
        let reply = client
            .post(format!("{}/api/v1/tasks", d.base))
            .bearer_auth(&admin)
            .json(&json!({"title": "warm-up"}))
            .send()
            .await
            .unwrap();
        if reply.status().is_success() {
            return admin;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Memory and threads of a process, from `/proc`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessSize {
    /// Resident now, MiB.
    pub rss_mib: f64,
    /// The highest resident size so far, MiB.
    pub peak_mib: f64,
    pub threads: u64,
}

pub fn process_size(pid: u32) -> ProcessSize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    ProcessSize {
        rss_mib: field("VmRSS:") as f64 / 1024.0,
        peak_mib: field("VmHWM:") as f64 / 1024.0,
        threads: field("Threads:"),
    }
}

/// CPU seconds (user + system) each kind of thread of process `pid` has used so far, by
/// thread name with digits dropped (`tokio-rt-worker`, `db-writer-accou`, ...). Read from
/// `/proc`, at the kernel's tick (10 ms); an empty map where there is no `/proc`.
pub fn thread_cpu(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    // USER_HZ, which Linux fixes at 100 for every architecture it runs this on.
    let ticks = 100.0;
    for task in tasks.flatten() {
        let path = task.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue;
        };
        // Fields after the parenthesised name: state is the 3rd, utime the 14th, stime the 15th.
        let Some(after_name) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = after_name.split(' ').collect();
        let ticks_used: f64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
            .unwrap_or(0.0);
        let name: String = comm
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_owned();
        *by_name.entry(name).or_insert(0.0) += ticks_used / ticks;
    }
    by_name
}

/// What each kind of thread used between two [`thread_cpu`] readings, most first.
pub fn thread_cpu_between(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> Vec<(String, f64)> {
    let mut used: Vec<(String, f64)> = after
        .iter()
        .map(|(name, cpu)| (name.clone(), cpu - before.get(name).copied().unwrap_or(0.0)))
        .filter(|(_, cpu)| *cpu > 0.0)
        .collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    used
}
