//! The crash campaign: the release-shaped server binary is killed with SIGKILL at random
//! moments while workers create and complete tasks, a manager reshuffles and the day is
//! closed, and restarted each time. Afterwards the books must be whole.
//!
//! A few rounds run with the suite; the long form is
//! `ATES_CRASH_ROUNDS=20 cargo test -p ates-server --test api crash -- --nocapture`
//! (`ATES_CRASH_SEED` repeats a campaign).

use ates_shared::api::{EventsStatus, LoginResponse, Page, Task};
use rand::{RngExt, SeedableRng};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "crash-admin-password";
const SECRET: &str = "crash-campaign-secret-of-32-bytes-or-more";
const PASSWORD: &str = "crash-worker-password";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(dir: &Path, client: &reqwest::Client) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_ates-server"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .env("ATES_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ATES_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ates-server starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = client.get(format!("{}/healthz", server.base)).send().await
                && reply.status() == StatusCode::OK
            {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown hook runs, whatever the server was doing.
    fn kill(self) {
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let reply = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "{username} logs in");
    reply.json::<LoginResponse>().await.unwrap().token
}

/// What one lane's requests achieved. A 201 or 200 is committed work, in the books
/// whatever happens next; a request cut off by a kill counts for nothing here.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Tasks created (201).
    created: i64,
    /// Tasks completed (200).
    completed: i64,
    /// 401 answers: this load's tokens are all genuine, so a correct server never gives one.
    unauthorized: i64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.created += other.created;
        self.completed += other.completed;
        self.unauthorized += other.unauthorized;
    }
}

/// What a load request was, to count its answer.
enum Op {
    Create,
    Complete,
    Other,
}

/// Work of every kind, until the server dies under it. Errors are expected then.
async fn load(
    client: reqwest::Client,
    base: String,
    admin: String,
    workers: Vec<String>,
    seed: u64,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for i in 0.. {
        let worker = &workers[rng.random_range(0..workers.len())];
        // `Ok(None)`: nothing was asked (no open task to complete, or a reply cut short).
        let (op, answer) = match rng.random_range(0..20) {
            0..=9 => (
                Op::Create,
                client
                    .post(format!("{base}/api/v1/tasks"))
                    .bearer_auth(worker)
                    .json(&json!({"title": format!("crash work {seed}-{i}")}))
                    .send()
                    .await
                    .map(|reply| Some(reply.status())),
            ),
            10..=17 => {
                let open = client
                    .get(format!(
                        "{base}/api/v1/tasks?assignee=me&status=open&limit=3"
                    ))
                    .bearer_auth(worker)
                    .send()
                    .await;
                match open {
                    Err(e) => (Op::Other, Err(e)),
                    Ok(reply) if !reply.status().is_success() => {
                        (Op::Other, Ok(Some(reply.status())))
                    }
                    Ok(reply) => match reply.json::<Page<Task>>().await {
                        Ok(page) if !page.items.is_empty() => (
                            Op::Complete,
                            client
                                .post(format!("{base}/api/v1/tasks/{}/complete", page.items[0].id))
                                .bearer_auth(worker)
                                .json(&json!({}))
                                .send()
                                .await
                                .map(|reply| Some(reply.status())),
                        ),
                        _ => (Op::Other, Ok(None)),
                    },
                }
            }
            18 => (
                Op::Other,
                client
                    .post(format!("{base}/api/v1/tasks/reshuffle"))
                    .bearer_auth(&admin)
                    .json(&json!({}))
                    .send()
                    .await
                    .map(|reply| Some(reply.status())),
            ),
            _ => (
                Op::Other,
                client
                    .post(format!("{base}/api/v1/accounting/close-day"))
                    .bearer_auth(&admin)
                    .json(&json!({}))
                    .send()
                    .await
                    .map(|reply| Some(reply.status())),
            ),
        };
        let status = match answer {
            Ok(Some(status)) => status,
            Ok(None) => continue,
            Err(_) => return tally, // killed
        };
        // A completion may meet 403 (a reshuffle moved the task) or 409 (another lane
        // completed it first); neither means the server refused work it should do.
        match op {
            Op::Create if status == StatusCode::CREATED => tally.created += 1,
            Op::Complete if status == StatusCode::OK => tally.completed += 1,
            _ if status == StatusCode::UNAUTHORIZED => tally.unauthorized += 1,
            _ => {}
        }
    }
    tally
}

#[tokio::test]
async fn books_stay_whole_through_sigkills_in_the_middle_of_work() {
    let rounds: u32 = std::env::var("ATES_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("ATES_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("crash campaign: {rounds} rounds, ATES_CRASH_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let client = crate::helpers::http_client();

    let server = Server::start(dir.path(), &client).await;
    let admin = login(&client, &server.base, "admin", ADMIN_PASSWORD).await;
    let mut workers = Vec::new();
    for i in 0..5 {
        let name = format!("crash{i}");
        let reply = client
            .post(format!("{}/api/v1/users", server.base))
            .bearer_auth(&admin)
            .json(
                &json!({"username": name, "password": PASSWORD, "full_name": format!("Crash {i}"),
                "email": format!("{name}@popug.inc"), "role": "worker"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::CREATED);
        workers.push(login(&client, &server.base, &name, PASSWORD).await);
    }
    let mut server = Some(server);
    let mut acknowledged = Tally::default();
    for round in 0..rounds {
        let running = match server.take() {
            Some(s) => s,
            None => Server::start(dir.path(), &client).await,
        };
        let mut load_tasks = tokio::task::JoinSet::new();
        for lane in 0..3u64 {
            load_tasks.spawn(load(
                client.clone(),
                running.base.clone(),
                admin.clone(),
                workers.clone(),
                seed ^ (u64::from(round) << 8) ^ lane,
            ));
        }
        let after = Duration::from_millis(rng.random_range(150..1200));
        tokio::time::sleep(after).await;
        running.kill();
        let mut tally = Tally::default();
        while let Some(lane) = load_tasks.join_next().await {
            tally.add(lane.expect("a load lane"));
        }
        println!("round {round}: killed after {after:?}; {tally:?}");
        acknowledged.add(tally);
    }

    // One last start: everything pending is delivered, then the books are checked.
    let running = Server::start(dir.path(), &client).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status: EventsStatus = client
            .get(format!("{}/api/v1/system/events", running.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status.caught_up {
            assert!(
                status.consumers.iter().all(|c| c.dead_letters == 0),
                "{status:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never caught up: {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.kill();
    let checked = check_books(dir.path());
    println!("crash campaign: {rounds} kills, books whole: {checked}");

    // Whole books are no proof if nothing was done: the load must have got work through,
    // and everything it was told was done must be in them (kills lose only unanswered
    // requests, so only lower bounds hold).
    let books = work_in_books(dir.path());
    let why = format!("seed {seed}: {acknowledged:?}, {books:?}");
    assert_eq!(
        acknowledged.unauthorized, 0,
        "genuine tokens were refused; {why}"
    );
    assert!(acknowledged.created > 0, "no task was created; {why}");
    assert!(
        books.tasks >= acknowledged.created,
        "an acknowledged task is lost; {why}"
    );
    assert!(
        books.fees >= books.tasks,
        "each task is billed at least once; {why}"
    );
    assert!(
        books.done >= acknowledged.completed,
        "an acknowledged completion is lost; {why}"
    );
    assert!(books.rewards > 0, "no completion reached the books; {why}");
}

/// How much work the books hold.
#[derive(Debug)]
struct Books {
    tasks: i64,
    done: i64,
    fees: i64,
    rewards: i64,
}

fn work_in_books(dir: &Path) -> Books {
    let conn = Connection::open(dir.join("accounting.db")).unwrap();
    conn.execute(
        "ATTACH DATABASE ?1 AS tracker",
        [dir.join("tracker.db").to_str().unwrap()],
    )
    .unwrap();
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    Books {
        tasks: one("SELECT count(*) FROM tracker.tasks"),
        done: one("SELECT count(*) FROM tracker.tasks WHERE status = 'done'"),
        fees: one("SELECT count(*) FROM ledger WHERE kind = 'fee'"),
        rewards: one("SELECT count(*) FROM ledger WHERE kind = 'reward'"),
    }
}

/// Every invariant of the books, read straight from the databases. Returns a summary.
fn check_books(dir: &Path) -> String {
    check_books_in(
        &dir.join("accounting.db"),
        &dir.join("tracker.db"),
        &dir.join("auth.db"),
    )
}

/// The same, with each context's database wherever it lives (split mode: one directory
/// per service).
pub(crate) fn check_books_in(accounting: &Path, tracker: &Path, auth: &Path) -> String {
    let conn = Connection::open(accounting).unwrap();
    for (other, path) in [("tracker", tracker), ("auth", auth)] {
        conn.execute("ATTACH DATABASE ?1 AS ?2", [path.to_str().unwrap(), other])
            .unwrap();
    }
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Every consumer stands at its producer's head.
    for (consumer, source) in [
        ("accounting.tracker", "tracker"),
        ("accounting.auth", "auth"),
    ] {
        let position = one(&format!(
            "SELECT position FROM main.consumer_positions WHERE consumer = '{consumer}'"
        ));
        let head = one(&format!("SELECT max(seq) FROM {source}.outbox"));
        assert_eq!(position, head, "{consumer}");
    }
    let assignments = one("SELECT count(*) FROM tracker.outbox WHERE event_name = 'TaskAssigned'");
    let completions = one("SELECT count(*) FROM tracker.outbox WHERE event_name = 'TaskCompleted'");
    let done = one("SELECT count(*) FROM tracker.tasks WHERE status = 'done'");
    let tasks = one("SELECT count(*) FROM tracker.tasks");
    let fees = one("SELECT count(*) FROM ledger WHERE kind = 'fee'");
    let rewards = one("SELECT count(*) FROM ledger WHERE kind = 'reward'");
    let payouts = one("SELECT count(*) FROM ledger WHERE kind = 'payout'");
    assert_eq!(fees, assignments, "one fee row per assignment");
    assert_eq!(rewards, completions, "one reward row per completion");
    assert_eq!(completions, done, "one completion per done task");
    assert_eq!(
        one(
            "SELECT count(*) FROM tracker.tasks t LEFT JOIN main.tasks p ON p.id = t.id WHERE p.id IS NULL"
        ),
        0,
        "every task has its price"
    );
    assert_eq!(
        one(
            "SELECT count(*) FROM ledger l JOIN main.tasks p ON p.id = l.task_id
             WHERE (l.kind = 'fee' AND l.amount_cents != -p.fee_cents)
                OR (l.kind = 'reward' AND l.amount_cents != p.reward_cents)"
        ),
        0,
        "every row charged the task's one price"
    );
    assert_eq!(
        one(
            "SELECT count(*) FROM (SELECT task_id FROM ledger WHERE kind = 'reward'
             GROUP BY task_id HAVING count(*) > 1)"
        ),
        0,
        "no reward twice"
    );
    // The last fee of each task (in the tracker's log order) charged its current assignee.
    assert_eq!(
        one("SELECT count(*) FROM tracker.tasks t
             JOIN (SELECT l.task_id, l.user_id, max(o.seq) AS seq FROM ledger l
                   JOIN tracker.outbox o ON o.event_id = l.event_id
                   WHERE l.kind = 'fee' GROUP BY l.task_id) last ON last.task_id = t.id
             WHERE last.user_id != t.assignee_id"),
        0,
        "each task's last fee charged its current assignee"
    );
    assert_eq!(
        one("SELECT count(*) FROM accounts a
             LEFT JOIN (SELECT user_id, sum(amount_cents) AS total FROM ledger GROUP BY user_id) s
               ON s.user_id = a.user_id
             WHERE a.balance_cents != coalesce(s.total, 0)"),
        0,
        "each balance is the sum of its rows"
    );
    assert_eq!(
        one("SELECT count(DISTINCT user_id) FROM ledger"),
        one("SELECT count(*) FROM accounts"),
        "every user with rows has an account"
    );
    format!("{tasks} tasks, {done} done, {fees} fee rows, {rewards} reward rows, {payouts} payouts")
}
