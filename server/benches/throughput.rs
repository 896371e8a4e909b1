//! Throughput figures, printed (not asserted): `cargo bench -p ates-server --bench throughput`.
//!
//! 1. Reshuffle of 100k open tasks over 1k users, the consumers running as in the server:
//!    the reshuffle's own time, the time until every consumer has caught up (accounting
//!    billing every reassignment), and a raw-rusqlite baseline writing the same UPDATE +
//!    outbox INSERT rows in one transaction, with the ratio.
//!    Then the size of the event logs (per event, and per 1M tasks), and a rebuild of
//!    accounting and of analytics from those logs, in events per second.
//! 2. `POST /api/v1/tasks` per second from 50 concurrent HTTP clients, beside bare rusqlite
//!    committing one task (+ its outbox row) per transaction.
//!
//! Sizes can be lowered for a quick look: `ATES_BENCH_TASKS=10000 ATES_BENCH_USERS=100`.

mod common;

use ates_server::app::{Contexts, Databases};
use ates_server::auth::token::Tokens;
use ates_server::clock::{SharedClock, SystemClock};
use ates_server::db::DbError;
use ates_server::{Application, Config};
use ates_shared::Role;
use ates_shared::api::{CreateUser, NewTask, RebuildContext};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    // The server's allocator settings (they decide how often freed memory is returned to
    // the system and faulted in again), set before any thread starts, as the server does.
    ates_server::memory::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let tasks = env_or("ATES_BENCH_TASKS", 100_000);
    let users = env_or("ATES_BENCH_USERS", 1_000);
    let requests = env_or("ATES_BENCH_REQUESTS", 20_000);
    let clients = env_or("ATES_BENCH_CLIENTS", 50);
    println!(
        "aTES throughput benchmark ({} cores)",
        std::thread::available_parallelism()?.get()
    );
    reshuffle(tasks, users).await?;
    post_tasks(requests, clients).await?;
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

async fn reshuffle(tasks: usize, users: usize) -> anyhow::Result<()> {
    println!("\n== reshuffle: {tasks} open tasks over {users} users");
    let dir = tempfile::tempdir()?;
    let clock: SharedClock = Arc::new(SystemClock);
    let tokens = Arc::new(Tokens::new(b"bench", chrono::Duration::hours(1)));
    let Contexts {
        auth,
        tracker,
        accounting,
        events,
        dbs,
        ..
    } = Contexts::open(&Config::for_tests(dir.path().to_path_buf()), clock, tokens).await?;

    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..users {
        let auth = auth.clone();
        set.spawn(async move {
            auth.create_user(CreateUser {
                username: format!("popug{i}"),
                password: "bench-password".into(),
                full_name: format!("Popug {i}"),
                email: format!("popug{i}@popug.inc"),
                role: if i % 10 == 0 {
                    Role::Accountant
                } else {
                    Role::Worker
                },
            })
            .await
        });
    }
    while let Some(r) = set.join_next().await {
        r?.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    events.drain().await?;
    println!(
        "setup: {users} users created and delivered in {}",
        secs(started.elapsed())
    );

    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..tasks {
        let tracker = tracker.clone();
        set.spawn(async move {
            tracker
                .create_task(NewTask {
                    title: format!("task {i}"),
                    jira_id: Some(format!("POP-{i}")),
                    description: None,
                })
                .await
        });
        // Keep a bounded number in flight.
        if set.len() >= 2_000 {
            set.join_next()
                .await
                .expect("in flight")?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    while let Some(r) = set.join_next().await {
        r?.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let created = started.elapsed();
    println!(
        "setup: {tasks} tasks created in-process in {} ({:.0} tasks/s, group commit)",
        secs(created),
        tasks as f64 / created.as_secs_f64()
    );
    let started = Instant::now();
    events.drain().await?;
    println!(
        "setup: their events delivered in {}",
        secs(started.elapsed())
    );

    let ledger_rows = || async {
        accounting
            .db()
            .read(|c| {
                c.query_row("SELECT count(*) FROM ledger", [], |r| r.get::<_, i64>(0))
                    .map_err(DbError::from)
            })
            .await
    };
    let rows_before = ledger_rows().await?;

    // The consumers run as they do in the server: they bill each chunk of the reshuffle as
    // it commits.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut consumers = JoinSet::new();
    events.spawn(&mut consumers, &stopped);
    let cpu_before = common::thread_cpu(std::process::id());
    let started = Instant::now();
    let result = tracker
        .reshuffle()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let reshuffle_time = started.elapsed();
    assert_eq!(result.reassigned as usize, tasks);

    // Watch the consumers catch up.
    // When each consumer caught up: the last one sets the settled time, and the order
    // shows which context holds the others up.
    let mut caught_up_at = std::collections::BTreeMap::new();
    loop {
        let status = events.status().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for c in &status.consumers {
            if c.lag > 0 {
                caught_up_at.remove(&c.consumer);
            } else {
                caught_up_at
                    .entry(c.consumer.clone())
                    .or_insert_with(|| started.elapsed());
            }
        }
        if status.caught_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let caught_up = started.elapsed();
    let cpu_used = common::thread_cpu_between(&cpu_before, &common::thread_cpu(std::process::id()));
    let applying = caught_up - reshuffle_time;
    stop.send(true)?;
    while consumers.join_next().await.is_some() {}
    let new_rows = ledger_rows().await? - rows_before;
    assert_eq!(new_rows as usize, tasks, "one fee row per reassignment");

    let baseline = common::raw::reshuffle(dir.path(), "FULL", tasks, users)?;
    println!(
        "reshuffle ({tasks} UPDATEs + {tasks} TaskAssigned events, in transactions of {}): {}",
        ates_server::tracker::reshuffle::CHUNK,
        secs(reshuffle_time)
    );
    println!(
        "  = {:.0} tasks/s",
        tasks as f64 / reshuffle_time.as_secs_f64()
    );
    println!(
        "until every consumer caught up ({} consumers): {} after the reshuffle began",
        events.consumers().len(),
        secs(caught_up)
    );
    let mut order: Vec<_> = caught_up_at.into_iter().collect();
    order.sort_by_key(|(_, at)| *at);
    for (consumer, at) in order {
        println!("  {consumer} caught up at {}", secs(at));
    }
    println!(
        "accounting: {new_rows} fee rows (+ balances, TransactionApplied events), billed beside the reshuffle's chunks, all applied {} after it answered",
        secs(applying)
    );
    // CPU is steadier than wall time on a shared machine, and shows which thread the
    // settling waits on (accounting's writer, when one thread's seconds are the wall's).
    println!("CPU from the reshuffle until caught up, by thread:");
    for (thread, seconds) in cpu_used.iter().filter(|(_, s)| *s >= 0.01) {
        println!(
            "  {thread}: {seconds:.2} s = {:.1} µs per reassigned task",
            seconds * 1e6 / tasks as f64
        );
    }
    println!(
        "raw rusqlite baseline (same rows, one transaction, synchronous=FULL like aTES): {}",
        secs(baseline)
    );
    println!(
        "ratio reshuffle / baseline: {:.2}x (aim: <= 1.5x)",
        reshuffle_time.as_secs_f64() / baseline.as_secs_f64()
    );
    log_sizes(&dbs, tasks).await?;
    rebuilds(&events).await?;
    Ok(())
}

/// How big the event logs (the outbox tables and their unique index) grew, per event and
/// scaled to 1M tasks, measured with SQLite's `dbstat`.
async fn log_sizes(dbs: &Databases, tasks: usize) -> anyhow::Result<()> {
    println!("\n== event logs after creating and reshuffling {tasks} tasks");
    let mut total = 0i64;
    for (name, db) in dbs.contexts() {
        let (events, bytes) = db
            .read(|c| {
                let events: i64 = c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
                let bytes: i64 = c.query_row(
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('outbox', 'sqlite_autoindex_outbox_1')",
                    [],
                    |r| r.get(0),
                )?;
                Ok::<_, DbError>((events, bytes))
            })
            .await?;
        total += bytes;
        if events == 0 {
            continue;
        }
        println!(
            "{name:>10}: {events:>9} events, {:>8.1} MiB, {:>4.0} bytes/event, {:>7.1} MiB per 1M tasks",
            bytes as f64 / MIB,
            bytes as f64 / events.max(1) as f64,
            bytes as f64 / MIB * 1e6 / tasks as f64
        );
    }
    println!(
        "all logs: {:.1} MiB = {:.0} MiB per 1M tasks (each created, assigned, reshuffled once)",
        total as f64 / MIB,
        total as f64 / MIB * 1e6 / tasks as f64
    );
    Ok(())
}

const MIB: f64 = 1024.0 * 1024.0;

/// Rebuilds accounting and analytics from the logs, as `POST /system/rebuild` does.
async fn rebuilds(events: &ates_server::events::EventSystem) -> anyhow::Result<()> {
    println!("\n== rebuilds from the logs");
    for context in RebuildContext::ALL {
        let model = events
            .rebuilds()
            .model(context)
            .expect("every context has a read model");
        let started = Instant::now();
        let report = model.rebuild(&|_| {}).await?;
        let took = started.elapsed();
        println!(
            "{context:>10}: {} events replayed and swapped in {} = {:.0} events/s; the swap held the writer {}",
            report.events,
            secs(took),
            report.events as f64 / took.as_secs_f64(),
            secs(report.swap)
        );
    }
    Ok(())
}

async fn post_tasks(requests: usize, clients: usize) -> anyhow::Result<()> {
    println!("\n== POST /api/v1/tasks: {requests} requests from {clients} concurrent clients");
    let dir = tempfile::tempdir()?;
    let app = Application::build(
        Config::for_tests(dir.path().to_path_buf()),
        Arc::new(SystemClock),
    )
    .await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    for i in 0..clients {
        state
            .auth
            .create_user(CreateUser {
                username: format!("client{i}"),
                password: "bench-password".into(),
                full_name: format!("Client {i}"),
                email: format!("client{i}@popug.inc"),
                role: Role::Worker,
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    state.events.drain().await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let token = state
        .auth
        .login(
            "client0".into(),
            "bench-password".into(),
            std::net::Ipv4Addr::LOCALHOST.into(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .token;

    let started = Instant::now();
    let mut set = JoinSet::new();
    for c in 0..clients {
        let (base, token) = (base.clone(), token.clone());
        let share = requests / clients + usize::from(c < requests % clients);
        set.spawn(async move {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::new();
            for i in 0..share {
                let resp = client
                    .post(format!("{base}/api/v1/tasks"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"title": format!("task {c}-{i}")}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    resp.status() == 201,
                    "POST /tasks answered {}",
                    resp.status()
                );
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let http = started.elapsed();
    let _ = stop.send(());
    server.await??;

    let raw = common::raw::one_row_per_commit(dir.path(), "FULL", requests)?;
    println!(
        "aTES over HTTP: {:.0} tasks/s ({} for {requests}); every request is its own transaction, concurrent ones share commits",
        requests as f64 / http.as_secs_f64(),
        secs(http)
    );
    println!(
        "bare rusqlite, one task + outbox row per commit, synchronous=FULL like aTES: {:.0} commits/s ({})",
        requests as f64 / raw.as_secs_f64(),
        secs(raw)
    );
    Ok(())
}
