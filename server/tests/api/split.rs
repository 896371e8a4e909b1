//! Split mode against the real broker: four services (one context each, its own data
//! directory) and a gateway, all the real binary, with events carried by RabbitMQ on
//! 127.0.0.1:5672 (`.ci/run` starts it). Through the gateway: users, tasks, completions,
//! reshuffles, closing the day and analytics; meanwhile every message is published twice,
//! the broker is restarted in the middle of a reshuffle and a consumer service is killed
//! with SIGKILL. Afterwards the books must be whole, read straight from the databases.
//!
//! `ATES_SPLIT_TASKS` sets the tasks reshuffled while the broker restarts (400 by default;
//! the long form uses 10000).

use ates_shared::api::{EventsStatus, LoginResponse, Page, Task};
use reqwest::StatusCode;
use rusqlite::{Connection, OptionalExtension};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "split-admin-password";
const SECRET: &str = "split-mode-secret-of-at-least-32-bytes";
const PASSWORD: &str = "split-worker-password";
const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const SERVICES: [&str; 4] = ["auth", "tracker", "accounting", "analytics"];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Process {
    child: Child,
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_healthy(client: &reqwest::Client, base: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(reply) = client.get(format!("{base}/healthz")).send().await
            && reply.status() == StatusCode::OK
        {
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How the services share token keys.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// An Ed25519 pair from `ates-server keygen`: auth signs, the others only verify.
    Pair,
    /// One HS256 secret for every process (`ATES_JWT_SECRET`).
    Secret,
}

/// The broker restart in one test must not cut another's deployment.
static BROKER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A split deployment on this machine.
struct Split {
    /// The broker was cleaned up (else `Drop` does it, after a failure).
    cleaned: std::cell::Cell<bool>,
    keys: Keys,
    dir: tempfile::TempDir,
    namespace: String,
    services: std::collections::BTreeMap<&'static str, Process>,
    ports: std::collections::BTreeMap<&'static str, u16>,
    gateway: Option<Process>,
    client: reqwest::Client,
}

impl Split {
    async fn start(keys: Keys) -> Split {
        assert!(
            std::net::TcpStream::connect("127.0.0.1:5672").is_ok(),
            "RabbitMQ is not running on 127.0.0.1:5672: start it with `rabbitmq-server -detached` (.ci/run does)"
        );
        let mut split = Split {
            cleaned: std::cell::Cell::new(false),
            keys,
            dir: tempfile::tempdir().unwrap(),
            namespace: format!("ates-test-{}", uuid::Uuid::now_v7().simple()),
            services: Default::default(),
            ports: SERVICES.iter().map(|s| (*s, free_port())).collect(),
            gateway: None,
            client: crate::helpers::http_client(),
        };
        if keys == Keys::Pair {
            let status = Command::new(env!("CARGO_BIN_EXE_ates-server"))
                .args(["keygen", "--out"])
                .arg(split.dir.path().join("keys"))
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "keygen");
        }
        for service in SERVICES {
            split.start_service(service).await;
        }
        let port = free_port();
        let mut gateway = Command::new(env!("CARGO_BIN_EXE_ates-server"));
        gateway.args(["gateway", "--listen", &format!("127.0.0.1:{port}")]);
        for service in SERVICES {
            gateway.args([
                "--upstream",
                &format!("{service}=http://127.0.0.1:{}", split.ports[service]),
            ]);
        }
        let child = gateway
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the gateway starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_healthy(&split.client, &base, "the gateway").await;
        split.gateway = Some(Process { child, base });
        split
    }

    fn base(&self) -> &str {
        &self.gateway.as_ref().unwrap().base
    }

    fn dir_of(&self, service: &str) -> PathBuf {
        self.dir.path().join(service)
    }

    fn db_of(&self, context: &str) -> PathBuf {
        self.dir_of(context).join(format!("{context}.db"))
    }

    async fn start_service(&mut self, service: &'static str) {
        let port = self.ports[service];
        let process = self.spawn_service(service, port, None).await;
        self.services.insert(service, process);
    }

    /// A second analytics reader with its own queue and data directory.
    async fn start_second_reader(&self, instance: &str) -> Process {
        self.spawn_service("analytics", free_port(), Some(instance))
            .await
    }

    async fn spawn_service(&self, service: &str, port: u16, instance: Option<&str>) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ates-server"));
        command
            .args([
                "serve",
                "--only",
                service,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--data-dir")
            .arg(self.dir_of(instance.unwrap_or(service)))
            .args(["--trusted-proxy", "127.0.0.1"])
            .env("ATES_AMQP_URL", AMQP_URL)
            .env("ATES_AMQP_NAMESPACE", &self.namespace)
            .env("ATES_ADMIN_PASSWORD", ADMIN_PASSWORD);
        if let Some(instance) = instance {
            command.args(["--instance", instance]);
        }
        match self.keys {
            Keys::Secret => {
                command.env("ATES_JWT_SECRET", SECRET);
            }
            Keys::Pair => {
                let keys = self.dir.path().join("keys");
                command
                    .arg("--jwt-public-key-file")
                    .arg(keys.join("jwt-public.pem"));
                if service == "auth" {
                    command
                        .arg("--jwt-private-key-file")
                        .arg(keys.join("jwt-private.pem"));
                }
            }
        }
        let child = command
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("a service starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_healthy(&self.client, &base, service).await;
        Process { child, base }
    }

    /// SIGKILL: no shutdown hook runs.
    fn kill(&mut self, service: &str) {
        drop(self.services.remove(service));
    }

    async fn post(&self, path: &str, token: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a user through auth (as `admin`), with the tests' password and an address
    /// made from the name.
    async fn create_user(&self, admin: &str, username: &str, full_name: &str, role: &str) {
        let reply = self
            .post(
                "/api/v1/users",
                admin,
                json!({"username": username, "password": PASSWORD, "full_name": full_name,
                       "email": format!("{username}@popug.inc"), "role": role}),
            )
            .await;
        assert_eq!(reply.status(), StatusCode::CREATED, "{username} is created");
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let reply = self
            .client
            .get(format!("{}{path}", self.base()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "GET {path}");
        reply.json().await.unwrap()
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let reply = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base()))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "{username} logs in");
        reply.json::<LoginResponse>().await.unwrap().token
    }

    /// Every consumer of every service at its producer's head, read from the databases:
    /// everything published has travelled and been applied.
    async fn settle(&self, within: Duration) {
        let pairs: Vec<(&str, String, &str)> = vec![
            ("tracker", "tracker.auth".into(), "auth"),
            ("accounting", "accounting.auth".into(), "auth"),
            ("accounting", "accounting.tracker".into(), "tracker"),
            ("analytics", "analytics.tracker".into(), "tracker"),
            ("analytics", "analytics.accounting".into(), "accounting"),
            ("auth", "auth.access.auth".into(), "auth"),
            ("accounting", "accounting.access.auth".into(), "auth"),
            ("analytics", "analytics.access.auth".into(), "auth"),
        ];
        let deadline = Instant::now() + within;
        loop {
            let behind: Vec<String> = pairs
                .iter()
                .filter_map(|(service, consumer, source)| {
                    // Users copies live in the service's tracker database.
                    let db = if consumer.contains(".access.") {
                        self.dir_of(service).join("tracker.db")
                    } else {
                        self.db_of(service)
                    };
                    let position = read_one(
                        &db,
                        &format!(
                            "SELECT position FROM consumer_positions WHERE consumer = '{consumer}'"
                        ),
                    );
                    let head = read_one(
                        &self.db_of(source),
                        "SELECT coalesce(max(seq), 0) FROM outbox",
                    );
                    (position != head).then(|| format!("{consumer} {position}/{head}"))
                })
                .collect();
            if behind.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "never settled: {behind:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn check_books(&self) -> String {
        crate::crash::check_books_in(
            &self.db_of("accounting"),
            &self.db_of("tracker"),
            &self.db_of("auth"),
        )
    }

    /// What each service holds of each log: exactly the producer's log, no gap, no double.
    fn check_received(&self) {
        for (service, sources) in [
            ("tracker", &["auth"][..]),
            ("accounting", &["auth", "tracker"]),
            ("analytics", &["auth", "tracker", "accounting"]),
        ] {
            for source in sources {
                let head = read_one(
                    &self.db_of(source),
                    "SELECT coalesce(max(seq), 0) FROM outbox",
                );
                let sql = format!("SELECT count(*) FROM received WHERE source = '{source}'");
                assert_eq!(
                    read_one(&self.db_of(service), &sql),
                    head,
                    "{service} holds {source}'s log"
                );
                let sql =
                    format!("SELECT coalesce(max(seq), 0) FROM received WHERE source = '{source}'");
                assert_eq!(read_one(&self.db_of(service), &sql), head);
            }
        }
    }

    /// The sum of a counter's series in a service's `/metrics`.
    async fn metric(&self, service: &str, name: &str) -> f64 {
        crate::helpers::metric(&self.client, &self.services[service].base, name).await
    }

    /// Removes the deployment's queues and exchanges from the broker.
    async fn clean_broker(&self) {
        self.cleaned.set(true);
        let broker = ates_server::events::broker::Broker {
            url: AMQP_URL.into(),
            namespace: self.namespace.clone(),
        };
        let connection = ates_server::events::broker::connect(AMQP_URL)
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        for queue in broker
            .queues()
            .into_iter()
            .chain([broker.queue_of("reports")])
        {
            let _ = channel
                .queue_delete(queue.as_str().into(), Default::default())
                .await;
        }
        for exchange in [
            broker.events_exchange(),
            broker.control_exchange(),
            broker.dead_exchange(),
        ] {
            let _ = channel
                .exchange_delete(exchange.as_str().into(), Default::default())
                .await;
        }
        let _ = connection.close(200, "done".into()).await;
    }

    /// Publishes bytes that are no event where every service's queue gets them.
    async fn publish_garbage(&self) {
        let broker = self.broker();
        let connection = ates_server::events::broker::connect(AMQP_URL)
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .basic_publish(
                broker.events_exchange().as_str().into(),
                "auth".into(),
                Default::default(),
                b"definitely not an event",
                Default::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        let _ = connection.close(200, "done".into()).await;
    }

    /// Drops every message waiting in a service's queue.
    async fn purge(&self, service: &str) {
        let connection = ates_server::events::broker::connect(AMQP_URL)
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .queue_purge(
                self.broker().queue_of(service).as_str().into(),
                Default::default(),
            )
            .await
            .unwrap();
        let _ = connection.close(200, "done".into()).await;
    }

    /// Messages waiting in the deployment's dead-letter queue.
    async fn dead_queue_depth(&self) -> u32 {
        let broker = self.broker();
        let connection = ates_server::events::broker::connect(AMQP_URL)
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let queue = channel
            .queue_declare(
                broker.dead_exchange().as_str().into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .unwrap();
        let _ = connection.close(200, "done".into()).await;
        queue.message_count()
    }

    fn broker(&self) -> ates_server::events::broker::Broker {
        ates_server::events::broker::Broker {
            url: AMQP_URL.into(),
            namespace: self.namespace.clone(),
        }
    }

    /// Asks every relay to send every queue its whole log again: each message arrives twice.
    async fn publish_everything_again(&self) {
        let broker = self.broker();
        let connection = ates_server::events::broker::connect(AMQP_URL)
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        for service in ["tracker", "accounting", "analytics"] {
            for producer in ates_server::events::broker::sources_of(service) {
                let request = ates_server::events::broker::relay::ResendRequest {
                    from: 1,
                    queue: broker.queue_of(service),
                };
                ates_server::events::broker::relay::request_resend(
                    &channel, &broker, producer, &request,
                )
                .await
                .unwrap();
            }
        }
        let _ = connection.close(200, "done".into()).await;
    }
}

impl Drop for Split {
    /// A failed test leaves no durable queues behind on the shared broker.
    fn drop(&mut self) {
        if self.cleaned.get() {
            return;
        }
        let broker = self.broker();
        for queue in broker
            .queues()
            .into_iter()
            .chain([broker.queue_of("reports")])
        {
            let _ = Command::new("rabbitmqctl")
                .args(["delete_queue", "-q", &queue])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn read_one(db: &Path, sql: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
        .optional()
        .unwrap()
        .flatten()
        .unwrap_or(0)
}

fn rabbitmqctl(args: &[&str]) {
    let status = Command::new("rabbitmqctl")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("rabbitmqctl runs");
    assert!(status.success(), "rabbitmqctl {args:?}");
}

async fn create_tasks(split: &Split, token: &str, count: usize, lanes: usize) {
    let mut jobs = tokio::task::JoinSet::new();
    for lane in 0..lanes {
        let (client, base, token) = (
            split.client.clone(),
            split.base().to_owned(),
            token.to_owned(),
        );
        jobs.spawn(async move {
            for i in (lane..count).step_by(lanes) {
                let reply = client
                    .post(format!("{base}/api/v1/tasks"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("split work {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), StatusCode::CREATED);
            }
        });
    }
    while let Some(job) = jobs.join_next().await {
        job.unwrap();
    }
}

#[tokio::test]
async fn a_split_deployment_keeps_the_books_through_duplicates_a_broker_restart_and_a_sigkill() {
    let tasks: usize = std::env::var("ATES_SPLIT_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let _broker = BROKER.lock().await;
    let mut split = Split::start(Keys::Pair).await;
    let admin = split.login("admin", ADMIN_PASSWORD).await;

    // Users are created in auth; the tracker hears of them through the broker.
    let mut workers = Vec::new();
    for i in 0..3 {
        let name = format!("split{i}");
        split
            .create_user(&admin, &name, &format!("Split {i}"), "worker")
            .await;
        workers.push(split.login(&name, PASSWORD).await);
    }
    split.settle(Duration::from_secs(30)).await;

    // The change stream through the gateway announces the tracker's change.
    let mut stream = split
        .client
        .get(format!("{}/api/v1/stream", split.base()))
        .bearer_auth(&workers[0])
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    create_tasks(&split, &workers[0], 30, 3).await;
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        let mut seen = String::new();
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"tracker\"") {
                return seen;
            }
        }
        seen
    })
    .await
    .expect("a change event within 10 s");
    assert!(announced.contains("event: change"), "{announced}");
    drop(stream);

    // Work: each worker completes some of their tasks.
    for worker in &workers {
        let page: Page<Task> = split
            .get("/api/v1/tasks?assignee=me&status=open&limit=3", worker)
            .await;
        for task in page.items {
            let reply = split
                .post(
                    &format!("/api/v1/tasks/{}/complete", task.id),
                    worker,
                    json!({}),
                )
                .await;
            assert_eq!(reply.status(), StatusCode::OK);
        }
    }
    split.settle(Duration::from_secs(30)).await;
    println!("after work: {}", split.check_books());

    // Every message published twice changes nothing.
    let duplicates = split
        .metric("accounting", "ates_inbox_duplicates_total")
        .await;
    split.publish_everything_again().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while split
        .metric("accounting", "ates_inbox_duplicates_total")
        .await
        < duplicates + 40.0
    {
        assert!(Instant::now() < deadline, "the log never came again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    split.settle(Duration::from_secs(30)).await;
    split.check_received();
    println!("after every message twice: {}", split.check_books());

    // The broker stops and starts around a reshuffle: its events are committed while the
    // broker is away, and the relays and inboxes reconnect and deliver them.
    create_tasks(&split, &workers[1], tasks, 8).await;
    rabbitmqctl(&["stop_app"]);
    let reply = split
        .post("/api/v1/tasks/reshuffle", &admin, json!({}))
        .await;
    assert_eq!(
        reply.status(),
        StatusCode::OK,
        "a reshuffle needs no broker"
    );
    rabbitmqctl(&["start_app"]);
    split.settle(Duration::from_secs(120)).await;
    split.check_received();
    println!(
        "after a broker restart around a reshuffle: {}",
        split.check_books()
    );

    // And in the middle of one, while its events are on their way.
    let reshuffle = {
        let (client, base, admin) = (split.client.clone(), split.base().to_owned(), admin.clone());
        tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/tasks/reshuffle"))
                .bearer_auth(&admin)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    rabbitmqctl(&["stop_app"]);
    rabbitmqctl(&["start_app"]);
    assert_eq!(reshuffle.await.unwrap(), StatusCode::OK);
    split.settle(Duration::from_secs(120)).await;
    split.check_received();
    println!(
        "after a broker restart mid-reshuffle: {}",
        split.check_books()
    );

    // The accounting service is killed mid-work and comes back.
    let reshuffle = split.post("/api/v1/tasks/reshuffle", &admin, json!({}));
    let killing = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    let (reply, ()) = tokio::join!(reshuffle, killing);
    assert_eq!(reply.status(), StatusCode::OK);
    split.kill("accounting");
    create_tasks(&split, &workers[2], 20, 2).await;
    split.start_service("accounting").await;
    split.settle(Duration::from_secs(120)).await;
    split.check_received();
    println!("after a SIGKILL of accounting: {}", split.check_books());

    // Events lost on the way (the analytics queue purged while analytics was down) are
    // noticed as a gap at the next event and asked for again.
    split.kill("analytics");
    create_tasks(&split, &workers[2], 10, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    split.purge("analytics").await;
    create_tasks(&split, &workers[2], 1, 1).await;
    split.start_service("analytics").await;
    split.settle(Duration::from_secs(60)).await;
    split.check_received();
    println!("after a purged queue: {}", split.check_books());

    // Messages are not persistent, so a broker restart can lose one source's last events
    // while another's wait in the same queue. Here: auth's event purged while accounting
    // was down, the tracker's queued behind it. Once the waiting ones are taken, the inbox
    // asks every source for what it lacks; no later auth event is needed to show the gap.
    split.kill("accounting");
    split
        .create_user(&admin, "planner", "Planner", "manager")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    split.purge("accounting").await;
    create_tasks(&split, &workers[2], 3, 1).await;
    split.start_service("accounting").await;
    split.settle(Duration::from_secs(30)).await;
    split.check_received();
    println!("after a lost tail of one source: {}", split.check_books());

    // A deactivated worker is refused by every service, from its own users copy.
    for worker in &workers {
        let me: serde_json::Value = split.get("/api/v1/auth/me", worker).await;
        let reply = split
            .client
            .patch(format!(
                "{}/api/v1/users/{}",
                split.base(),
                me["id"].as_str().unwrap()
            ))
            .bearer_auth(&admin)
            .json(&json!({"active": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
    }
    split.settle(Duration::from_secs(30)).await;
    for path in ["/api/v1/tasks?assignee=me", "/api/v1/accounting/me"] {
        let reply = split
            .client
            .get(format!("{}{path}", split.base()))
            .bearer_auth(&workers[0])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    // The one active worker earns, and closing the day pays them out.
    split.create_user(&admin, "lucky", "Lucky", "worker").await;
    split.settle(Duration::from_secs(30)).await;
    let lucky = split.login("lucky", PASSWORD).await;
    create_tasks(&split, &lucky, 4, 1).await;
    let page: Page<Task> = split
        .get("/api/v1/tasks?assignee=me&status=open", &lucky)
        .await;
    assert_eq!(
        page.items.len(),
        4,
        "the only active worker gets every new task"
    );
    for task in page.items {
        let reply = split
            .post(
                &format!("/api/v1/tasks/{}/complete", task.id),
                &lucky,
                json!({}),
            )
            .await;
        assert_eq!(reply.status(), StatusCode::OK);
    }
    split.settle(Duration::from_secs(30)).await;
    let reply = split
        .post("/api/v1/accounting/close-day", &admin, json!({}))
        .await;
    assert_eq!(reply.status(), StatusCode::OK);
    let closed: serde_json::Value = reply.json().await.unwrap();
    assert!(closed["payouts"].as_i64().unwrap() >= 1, "{closed}");
    split.settle(Duration::from_secs(30)).await;
    let account: serde_json::Value = split.get("/api/v1/accounting/me", &lucky).await;
    assert_eq!(account["balance_cents"], 0, "paid out: {account}");

    // Analytics and the merged event status answer through the gateway.
    let summary: serde_json::Value = split.get("/api/v1/analytics/summary", &admin).await;
    assert!(summary.get("earnings_cents").is_some(), "{summary}");
    let status: EventsStatus = split.get("/api/v1/system/events", &admin).await;
    let names: Vec<&str> = status
        .consumers
        .iter()
        .map(|c| c.consumer.as_str())
        .collect();
    for expected in [
        "accounting.access.auth",
        "accounting.auth",
        "accounting.tracker",
        "analytics.accounting",
        "analytics.tracker",
        "tracker.auth",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(status.caught_up, "{status:?}");
    assert!(
        status.consumers.iter().all(|c| c.dead_letters == 0),
        "{status:?}"
    );
    let books = split.check_books();
    assert!(!books.ends_with(" 0 payouts"), "{books}");
    println!("split mode: books whole: {books}");

    // A second analytics reader started late catches up from the start of every log.
    let reader = split.start_second_reader("reports").await;
    let reports = split.dir_of("reports").join("analytics.db");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let behind: Vec<&str> = [
            ("analytics.tracker", "tracker"),
            ("analytics.accounting", "accounting"),
        ]
        .into_iter()
        .filter(|(consumer, source)| {
            let position = read_one(
                &reports,
                &format!("SELECT position FROM consumer_positions WHERE consumer = '{consumer}'"),
            );
            position
                != read_one(
                    &split.db_of(source),
                    "SELECT coalesce(max(seq), 0) FROM outbox",
                )
        })
        .map(|(consumer, _)| consumer)
        .collect();
        if behind.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second reader never caught up: {behind:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let earnings = "SELECT coalesce(sum(earnings_cents), 0) FROM company_days";
    assert_eq!(
        read_one(&reports, earnings),
        read_one(&split.db_of("analytics"), earnings),
        "both readers see the same earnings"
    );
    drop(reader);

    // A message that is not an event goes to the dead-letter queue, and blocks nothing.
    split.publish_garbage().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while split.dead_queue_depth().await < 3 {
        assert!(Instant::now() < deadline, "never dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    create_tasks(&split, &lucky, 2, 1).await;
    split.settle(Duration::from_secs(30)).await;
    split.check_received();

    split.clean_broker().await;
}

#[tokio::test]
async fn a_split_deployment_also_works_with_one_shared_token_secret() {
    let _broker = BROKER.lock().await;
    let split = Split::start(Keys::Secret).await;
    let admin = split.login("admin", ADMIN_PASSWORD).await;
    split.create_user(&admin, "solo", "Solo", "worker").await;
    split.settle(Duration::from_secs(30)).await;
    let solo = split.login("solo", PASSWORD).await;
    create_tasks(&split, &solo, 3, 1).await;
    split.settle(Duration::from_secs(30)).await;
    let account: serde_json::Value = split.get("/api/v1/accounting/me", &solo).await;
    assert!(
        account["balance_cents"].as_i64().unwrap() < 0,
        "three fees: {account}"
    );
    println!("split mode with a shared secret: {}", split.check_books());
    split.clean_broker().await;
}
