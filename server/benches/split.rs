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

mod common;

use common::{
    Deployment, delete_queues, embedded, env_or, one, percentile, ready_with_workers, settled,
    split, steady_load,
};
use serde_json::json;
use std::time::Duration;

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
    let admin = ready_with_workers(&client, &d).await;
    settled(&d, Duration::from_secs(60)).await;

    // 1. Steady load: one request every 1/rate s, each on its own task.
    let (sent_per_second, lags) = steady_load(&client, &d, &admin, rate, seconds).await;

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
    delete_queues(namespace).await;
}
