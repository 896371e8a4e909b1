//! Takes a service's queue into its `received` table: in order per source, duplicates
//! dropped, gaps asked for again, acknowledged only after the commit.

use super::relay::request_resend;
use super::wire::WireEvent;
use super::{Broker, connect, declare_topology};
use crate::db::{Db, DbError};
use anyhow::Context as _;
use futures_util::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use rusqlite::params;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Deliveries written per transaction at most.
const BATCH: usize = 1000;
/// Deliveries the broker may have on their way unacknowledged: several batches, so the
/// next one arrives while this one commits.
const PREFETCH: u16 = 4000;
/// How long a batch waits for more deliveries once one has arrived.
const GATHER: Duration = Duration::from_millis(2);
/// A gap is asked for again at most this often per source.
const RESEND_EVERY: Duration = Duration::from_secs(1);

/// Receives `service`'s queue into `db` until `stop` turns true, reconnecting as needed.
/// `instance` names the queue: the service's own name, or another for a second reader
/// with a queue of its own (`--instance`).
pub async fn run(
    broker: Broker,
    service: String,
    instance: String,
    db: Db,
    stop: watch::Receiver<bool>,
) {
    let name = format!("inbox.{instance}");
    super::keep_running(&name, stop.clone(), || {
        session(&broker, &service, &instance, &db, stop.clone())
    })
    .await
}

/// What one batch did to the `received` table.
#[derive(Debug, Default)]
struct Outcome {
    stored: usize,
    duplicates: usize,
    /// Sources with a gap, and the first sequence number missing.
    gaps: HashMap<String, i64>,
}

async fn session(
    broker: &Broker,
    service: &str,
    instance: &str,
    db: &Db,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let connection = connect(&broker.url)
        .await
        .context("connecting to the broker")?;
    let channel = connection.create_channel().await?;
    declare_topology(&channel, broker).await?;
    let queue = broker.queue_of(instance);
    super::declare_queue(&channel, broker, &queue, super::sources_of(service)).await?;
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await?;
    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            format!("inbox-{instance}").as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(%service, %instance, "inbox connected to the broker");
    // Whatever was published past what this service holds, before its queue existed
    // (a new reader) or while it was away, is asked for now rather than at the next
    // event; a relay already past it sends nothing again.
    for source in super::sources_of(service) {
        let from = received_head(db, source).await? + 1;
        request_resend(&channel, broker, source, from).await?;
    }
    let mut asked: HashMap<String, Instant> = HashMap::new();
    loop {
        let first = tokio::select! {
            next = deliveries.next() => next,
            _ = stop.changed() => None,
        };
        if *stop.borrow() {
            let _ = connection.close(200, "shutting down".into()).await;
            return Ok(());
        }
        let first = first.context("the broker ended the delivery stream")??;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match tokio::time::timeout(GATHER, deliveries.next()).await {
                Ok(Some(delivery)) => batch.push(delivery?),
                Ok(None) => anyhow::bail!("the broker ended the delivery stream"),
                Err(_) => break,
            }
        }
        // Not an event at all: to the dead-letter queue, never blocking the ones behind.
        let mut events = Vec::with_capacity(batch.len());
        let mut readable = Vec::with_capacity(batch.len());
        for delivery in batch {
            match WireEvent::decode(&delivery.data) {
                Some(event) => {
                    events.push(event);
                    readable.push(delivery);
                }
                None => {
                    tracing::warn!(%service, bytes = delivery.data.len(), "rejecting a message that is not an event");
                    metrics::counter!("ates_inbox_rejected_total", "service" => service.to_owned())
                        .increment(1);
                    delivery
                        .reject(BasicRejectOptions { requeue: false })
                        .await?;
                }
            }
        }
        let outcome = store(db, events).await?;
        // Committed: now the broker may forget them.
        ack_all(&readable).await?;
        metrics::counter!("ates_inbox_received_total", "service" => service.to_owned())
            .increment(outcome.stored as u64);
        if outcome.duplicates > 0 {
            metrics::counter!("ates_inbox_duplicates_total", "service" => service.to_owned())
                .increment(outcome.duplicates as u64);
        }
        for (source, from) in outcome.gaps {
            let due = asked
                .get(&source)
                .is_none_or(|at| at.elapsed() >= RESEND_EVERY);
            if due {
                tracing::info!(%service, %source, from, "a gap in the sequence: asking for a resend");
                request_resend(&channel, broker, &source, from).await?;
                asked.insert(source, Instant::now());
            }
        }
    }
}

async fn ack_all(deliveries: &[Delivery]) -> lapin::Result<()> {
    // Deliveries of one channel arrive in tag order: one ack of the last covers them all.
    if let Some(last) = deliveries.last() {
        last.ack(BasicAckOptions { multiple: true }).await?;
    }
    Ok(())
}

async fn received_head(db: &Db, source: &str) -> Result<i64, DbError> {
    let source = source.to_owned();
    db.read(move |conn| -> Result<i64, DbError> {
        Ok(conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM received WHERE source = ?1",
            [&source],
            |r| r.get(0),
        )?)
    })
    .await
}

/// Writes the next events of each source; drops what is already held; notes gaps.
async fn store(db: &Db, events: Vec<WireEvent>) -> Result<Outcome, DbError> {
    if events.is_empty() {
        return Ok(Outcome::default());
    }
    db.write_exclusive(move |tx| -> Result<Outcome, DbError> {
        let mut outcome = Outcome::default();
        let mut heads: HashMap<String, i64> = HashMap::new();
        let now = chrono::Utc::now().to_rfc3339();
        let mut insert = tx.prepare_cached(
            "INSERT INTO received (source, seq, event_id, event_name, event_version, event_time,
                                   producer, data, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for event in events {
            let head = match heads.get(&event.source) {
                Some(head) => *head,
                None => {
                    let head: i64 = tx.query_row(
                        "SELECT coalesce(max(seq), 0) FROM received WHERE source = ?1",
                        [&event.source],
                        |r| r.get(0),
                    )?;
                    heads.insert(event.source.clone(), head);
                    head
                }
            };
            if event.seq <= head {
                outcome.duplicates += 1;
            } else if event.seq == head + 1 {
                let c = &event.columns;
                insert.execute(params![
                    event.source,
                    event.seq,
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    c[4],
                    c[5],
                    now
                ])?;
                heads.insert(event.source, event.seq);
                outcome.stored += 1;
            } else {
                outcome.gaps.entry(event.source).or_insert(head + 1);
            }
        }
        // A gap closed later in the same batch is no gap.
        outcome
            .gaps
            .retain(|source, from| heads.get(source).is_none_or(|head| *head < *from));
        Ok(outcome)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

    fn event(source: &str, seq: i64) -> WireEvent {
        WireEvent {
            source: source.into(),
            seq,
            columns: vec![
                Value::Blob(uuid::Uuid::now_v7().as_bytes().to_vec()),
                Value::Text("E".into()),
                Value::Integer(1),
                Value::Text("t".into()),
                Value::Text(source.into()),
                Value::Text("{}".into()),
            ],
        }
    }

    fn db(dir: &std::path::Path) -> Db {
        Db::open(dir, "tracker", &crate::tracker::store::migrations()).unwrap()
    }

    #[tokio::test]
    async fn events_are_kept_in_order_duplicates_dropped_and_gaps_noted() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let first = store(
            &db,
            vec![event("auth", 1), event("auth", 2), event("auth", 1)],
        )
        .await
        .unwrap();
        assert_eq!((first.stored, first.duplicates), (2, 1));
        assert!(first.gaps.is_empty());
        let gap = store(&db, vec![event("auth", 5), event("tracker", 1)])
            .await
            .unwrap();
        assert_eq!(gap.stored, 1, "tracker's first");
        assert_eq!(gap.gaps.get("auth"), Some(&3));
        let filled = store(
            &db,
            vec![event("auth", 3), event("auth", 4), event("auth", 5)],
        )
        .await
        .unwrap();
        assert_eq!(filled.stored, 3);
        assert!(filled.gaps.is_empty());
        let log = crate::events::transport::MirrorLog::new(db.clone(), "auth");
        use crate::events::transport::EventLog;
        assert_eq!(log.head().await.unwrap(), 5);
        let seqs: Vec<i64> = log
            .fetch(0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    }
}
