//! Events through RabbitMQ beside the same work embedded, printed (not asserted):
//! `cargo bench -p ates-server --bench split` (needs RabbitMQ on 127.0.0.1:5672).
//!
//! Both deployments run the real binary: one embedded server, then four services and a
//! gateway. For each:
//! 1. **Steady load**: `POST /api/v1/tasks` at a fixed rate (500/s by default; each task is
//!    two tracker events, so 1k events/s) for a while; then, per event, the time from its
//!    commit (`event_time` in the tracker's outbox) to its application by accounting
//!    (`applied_at` in accounting's inbox), p50/p99/max.
//! 2. **Throughput**: a reshuffle of every open task (`ATES_BENCH_OPEN` tasks, 20k by
//!    default); the time from the reshuffle's answer until accounting has applied every
//!    reassignment, in events per second.
//!
//! `ATES_BENCH_RATE`, `ATES_BENCH_SECONDS` and `ATES_BENCH_OPEN` change the sizes.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "bench-admin-password";
const SECRET: &str = "bench-secret-of-at-least-32-bytes-long";
const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Process {
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

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
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

/// A running deployment: its URL and where each context's database is.
struct Deployment {
    name: &'static str,
    base: String,
    accounting_db: PathBuf,
    tracker_db: PathBuf,
    _processes: Vec<Process>,
}

fn embedded(dir: &Path) -> Deployment {
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
        _processes: vec![process],
    }
}

fn split(dir: &Path, namespace: &str) -> Deployment {
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
        _processes: processes,
    }
}

fn one(db: &Path, sql: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
        .optional()
        .unwrap()
        .flatten()
        .unwrap_or(0)
}

/// Waits until accounting has applied the tracker's whole log.
async fn settled(d: &Deployment, within: Duration) -> Duration {
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

/// Commit-to-applied times (ms) of the tracker events from `after_seq` on.
fn lags(d: &Deployment, after_seq: i64) -> Vec<f64> {
    let conn = Connection::open(&d.accounting_db).unwrap();
    conn.execute(
        "ATTACH DATABASE ?1 AS tracker",
        [d.tracker_db.to_str().unwrap()],
    )
    .unwrap();
    let mut select = conn
        .prepare(
            "SELECT o.event_time, i.applied_at FROM tracker.outbox o
             JOIN main.inbox i ON i.event_id = o.event_id AND i.consumer = 'accounting.tracker'
             WHERE o.seq > ?1",
        )
        .unwrap();
    let rows = select
        .query_map([after_seq], |r| {
            Ok((r.get::<_, DateTime<Utc>>(0)?, r.get::<_, DateTime<Utc>>(1)?))
        })
        .unwrap();
    let mut lags: Vec<f64> = rows
        .map(|r| {
            let (committed, applied) = r.unwrap();
            (applied - committed).num_microseconds().unwrap_or(0) as f64 / 1000.0
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    lags
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Figures {
    name: &'static str,
    sent_per_second: f64,
    events: usize,
    p50: f64,
    p99: f64,
    max: f64,
    reshuffled: usize,
    throughput: f64,
}

async fn measure(d: Deployment, rate: usize, seconds: usize, open: usize) -> Figures {
    let client = reqwest::Client::new();
    wait_healthy(&client, &d.base).await;
    let token = |username: &str, password: &str| {
        let (client, base) = (client.clone(), d.base.clone());
        let body = json!({"username": username, "password": password});
        async move {
            let reply: serde_json::Value = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply["token"].as_str().unwrap().to_owned()
        }
    };
    let admin = token("admin", ADMIN_PASSWORD).await;
    for i in 0..5 {
        let reply = client
            .post(format!("{}/api/v1/users", d.base))
            .bearer_auth(&admin)
            .json(
                &json!({"username": format!("bench{i}"), "password": "bench-password",
                          "full_name": format!("Bench {i}"), "email": format!("b{i}@popug.inc"),
                          "role": "worker"}),
            )
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success());
    }
    // Wait until the tracker knows the workers (through the broker in split mode).
    loop {
        let reply = client
            .post(format!("{}/api/v1/tasks", d.base))
            .bearer_auth(&admin)
            .json(&json!({"title": "warm-up"}))
            .send()
            .await
            .unwrap();
        if reply.status().is_success() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settled(&d, Duration::from_secs(60)).await;

    // 1. Steady load: one request every 1/rate s, each on its own task.
    let before = one(&d.tracker_db, "SELECT max(seq) FROM outbox");
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..rate * seconds {
        ticks.tick().await;
        let (client, base, admin) = (client.clone(), d.base.clone(), admin.clone());
        requests.spawn(async move {
            let reply = client
                .post(format!("{base}/api/v1/tasks"))
                .bearer_auth(&admin)
                .json(&json!({"title": format!("steady {i}")}))
                .send()
                .await
                .unwrap();
            assert!(reply.status().is_success());
        });
    }
    while requests.join_next().await.is_some() {}
    let sent_per_second = (rate * seconds) as f64 / started.elapsed().as_secs_f64();
    settled(&d, Duration::from_secs(120)).await;
    let lags = lags(&d, before);

    // 2. Throughput: open tasks up to `open`, then one reshuffle of them all.
    let have = one(
        &d.tracker_db,
        "SELECT count(*) FROM tasks WHERE status = 'open'",
    ) as usize;
    let mut creating = tokio::task::JoinSet::new();
    let missing = open.saturating_sub(have);
    for lane in 0..32 {
        let (client, base, admin) = (client.clone(), d.base.clone(), admin.clone());
        creating.spawn(async move {
            for i in (lane..missing).step_by(32) {
                client
                    .post(format!("{base}/api/v1/tasks"))
                    .bearer_auth(&admin)
                    .json(&json!({"title": format!("open {i}")}))
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    while creating.join_next().await.is_some() {}
    settled(&d, Duration::from_secs(300)).await;
    let reply: serde_json::Value = client
        .post(format!("{}/api/v1/tasks/reshuffle", d.base))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reshuffled = reply["reassigned"].as_u64().unwrap_or(0) as usize;
    let took = settled(&d, Duration::from_secs(600)).await;
    Figures {
        name: d.name,
        sent_per_second,
        events: lags.len(),
        p50: percentile(&lags, 0.50),
        p99: percentile(&lags, 0.99),
        max: percentile(&lags, 1.0),
        reshuffled,
        throughput: reshuffled as f64 / took.as_secs_f64(),
    }
}

#[tokio::main]
async fn main() {
    let rate = env_or("ATES_BENCH_RATE", 500);
    let seconds = env_or("ATES_BENCH_SECONDS", 10);
    let open = env_or("ATES_BENCH_OPEN", 20_000);
    assert!(
        std::net::TcpStream::connect("127.0.0.1:5672").is_ok(),
        "RabbitMQ is not running on 127.0.0.1:5672"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    all.push(measure(embedded(&dir.path().join("embedded")), rate, seconds, open).await);
    let namespace = format!("ates-bench-{}", uuid::Uuid::now_v7().simple());
    all.push(
        measure(
            split(&dir.path().join("split"), &namespace),
            rate,
            seconds,
            open,
        )
        .await,
    );
    println!(
        "\nsteady load: {rate} tasks/s ({} tracker events/s) for {seconds} s; then a reshuffle of every open task",
        rate * 2
    );
    println!(
        "{:<18} {:>10} {:>8} {:>10} {:>10} {:>10} {:>11} {:>13}",
        "deployment",
        "sent/s",
        "events",
        "lag p50",
        "lag p99",
        "lag max",
        "reshuffled",
        "applied ev/s"
    );
    for f in &all {
        println!(
            "{:<18} {:>10.0} {:>8} {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>11} {:>13.0}",
            f.name, f.sent_per_second, f.events, f.p50, f.p99, f.max, f.reshuffled, f.throughput
        );
    }
    // The bench's queues go with it.
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
