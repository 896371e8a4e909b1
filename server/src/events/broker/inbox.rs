//! Takes a service's queue into its `received` table: in order per source, duplicates
//! dropped, gaps asked for again, acknowledged only after the commit.

use super::relay::{ResendRequest, request_resend};
use super::wire::WireEvent;
use super::{Broker, connect, declare_topology};
use crate::db::{Db, DbError, Tx};
use crate::events::transport::MirrorLog;
use anyhow::Context as _;
use futures_util::{FutureExt as _, StreamExt as _};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Deliveries written per commit at most.
const BATCH: usize = 1000;
/// Deliveries the broker may have on their way unacknowledged: several batches, so the
/// next one arrives while this one commits.
const PREFETCH: u16 = 4000;
/// A gap is asked for again after this long, doubling up to `MAX_RESEND_WAIT`.
const RESEND_EVERY: Duration = Duration::from_secs(1);
const MAX_RESEND_WAIT: Duration = Duration::from_secs(30);
/// A session that has not taken the messages waiting when it connected asks for what it
/// lacks anyway after this long without a delivery.
const ASK_WHEN_QUIET_FOR: Duration = Duration::from_secs(1);

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
    /// Sources with events stored, each once.
    arrived: Vec<String>,
    duplicates: usize,
    /// Indexes of the events refused (see `store`).
    refused: Vec<usize>,
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
    let waiting =
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
    tracing::info!(%service, %instance, waiting, "inbox connected to the broker");
    let mut asking = Asking::default();
    // The queue may miss events: published before it existed (a new reader), lost with a
    // purge, or held by the broker in memory only when it restarted (messages are not
    // persistent: the producers' outboxes keep them). Once the messages waiting now are
    // taken (at once when there are none), each source is asked for everything after
    // what is held: sent again, what is still on its way is only a duplicate. Also once
    // no delivery came for a while: a standby (single active consumer) counted messages
    // that another reader took, and may never see that many.
    let mut ask_after = Some(waiting as usize);
    loop {
        if ask_after == Some(0) {
            ask_after = None;
            for source in super::sources_of(service) {
                let from = received_head(db, source).await? + 1;
                asking.ask(&channel, broker, &queue, source, from).await?;
            }
        }
        let first = tokio::select! {
            next = deliveries.next() => next,
            _ = stop.changed() => None,
            _ = tokio::time::sleep(ASK_WHEN_QUIET_FOR), if ask_after.is_some() => {
                ask_after = Some(0);
                continue;
            }
        };
        if *stop.borrow() {
            let _ = connection.close(200, "shutting down".into()).await;
            return Ok(());
        }
        let first = first.context("the broker ended the delivery stream")??;
        let mut batch = vec![first];
        // After its first delivery a batch takes those already waiting and waits for no
        // more. A wait of 2 ms per delivery once went on for as long as deliveries came
        // less than that apart (at 1k events/s a batch gathered for ~20 ms, the lag p50
        // over RabbitMQ); a window of 1 ms still cost ~1.9 ms per batch (the timer's
        // resolution). Under a heavy load deliveries queue up while a batch is stored, so
        // the next batch still fills at once.
        while batch.len() < BATCH {
            match deliveries.next().now_or_never() {
                Some(Some(delivery)) => batch.push(delivery?),
                Some(None) => anyhow::bail!("the broker ended the delivery stream"),
                None => break,
            }
        }
        ask_after = ask_after.map(|left| left.saturating_sub(batch.len()));
        // Only events of a source this service takes, sent under that source's name.
        let mut events = Vec::with_capacity(batch.len());
        let mut deliveries_of_events = Vec::with_capacity(batch.len());
        for delivery in batch {
            let event = WireEvent::decode(&delivery.data).filter(|event| {
                super::sources_of(service).contains(&event.source.as_str())
                    && (delivery.routing_key.as_str() == event.source
                        || delivery.routing_key.as_str() == queue)
            });
            match event {
                Some(event) => {
                    events.push(event);
                    deliveries_of_events.push(delivery);
                }
                None => reject(&delivery, service, "not an event of a source it takes").await?,
            }
        }
        let outcome = store(db, events).await?;
        // Committed: now the broker may forget them. Refused ones go to the dead letters.
        let mut last_accepted = None;
        for (i, delivery) in deliveries_of_events.iter().enumerate() {
            if outcome.refused.contains(&i) {
                reject(delivery, service, "another producer under a known name").await?;
            } else {
                last_accepted = Some(delivery);
            }
        }
        if let Some(last) = last_accepted {
            // Deliveries of one channel are in tag order: one ack covers the batch.
            let acked = last.ack(BasicAckOptions { multiple: true }).await?;
            anyhow::ensure!(acked, "the channel closed before the ack");
        }
        metrics::counter!("ates_inbox_received_total", "service" => service.to_owned())
            .increment(outcome.stored as u64);
        if outcome.duplicates > 0 {
            metrics::counter!("ates_inbox_duplicates_total", "service" => service.to_owned())
                .increment(outcome.duplicates as u64);
        }
        for (source, from) in outcome.gaps {
            asking.ask(&channel, broker, &queue, &source, from).await?;
        }
    }
}

async fn reject(delivery: &Delivery, service: &str, why: &str) -> lapin::Result<()> {
    tracing::error!(%service, routing_key = %delivery.routing_key, bytes = delivery.data.len(), %why, "rejecting a message to the dead letters");
    metrics::counter!("ates_inbox_rejected_total", "service" => service.to_owned()).increment(1);
    delivery
        .reject(BasicRejectOptions { requeue: false })
        .await?;
    Ok(())
}

/// Resend requests, with backoff: the same gap is asked for again after 1 s, then 2 s,
/// 4 s... up to 30 s, so a gap that cannot close never floods a relay.
#[derive(Default)]
struct Asking {
    last: HashMap<String, (i64, Instant, Duration)>,
}

impl Asking {
    async fn ask(
        &mut self,
        channel: &lapin::Channel,
        broker: &Broker,
        queue: &str,
        source: &str,
        from: i64,
    ) -> lapin::Result<()> {
        let wait = match self.last.get(source) {
            Some((asked, at, wait)) if *asked == from => {
                if at.elapsed() < *wait {
                    return Ok(());
                }
                (*wait * 2).min(MAX_RESEND_WAIT)
            }
            _ => RESEND_EVERY,
        };
        tracing::info!(%queue, %source, from, "asking for a resend");
        request_resend(
            channel,
            broker,
            source,
            &ResendRequest {
                from,
                queue: queue.to_owned(),
            },
        )
        .await?;
        self.last
            .insert(source.to_owned(), (from, Instant::now(), wait));
        Ok(())
    }
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

/// Writes the next events of each source; drops what is already held; notes gaps; refuses
/// (indexes into `events`) what comes from another producer than the source's known one,
/// or claims a sequence number held by a different event.
async fn store(db: &Db, events: Vec<WireEvent>) -> Result<Outcome, DbError> {
    if events.is_empty() {
        return Ok(Outcome::default());
    }
    // A few deliveries share their commit with the consumers' work (`Db::write_batch`).
    let count = events.len();
    let store = move |tx: &Tx<'_>| -> Result<Outcome, DbError> {
        let mut outcome = Outcome::default();
        let mut heads: HashMap<String, i64> = HashMap::new();
        let mut producers: HashMap<String, String> = HashMap::new();
        let now = chrono::Utc::now().to_rfc3339();
        let mut insert = tx.prepare_cached(
            "INSERT INTO received (source, seq, event_id, event_name, event_version, event_time,
                                   producer, data, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (i, event) in events.into_iter().enumerate() {
            let known = match producers.get(&event.source) {
                Some(known) => known.clone(),
                None => {
                    tx.execute(
                        "INSERT OR IGNORE INTO received_sources (source, producer_id) VALUES (?1, ?2)",
                        params![event.source, event.producer_id],
                    )?;
                    let known: String = tx.query_row(
                        "SELECT producer_id FROM received_sources WHERE source = ?1",
                        [&event.source],
                        |r| r.get(0),
                    )?;
                    producers.insert(event.source.clone(), known.clone());
                    known
                }
            };
            if known != event.producer_id {
                outcome.refused.push(i);
                continue;
            }
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
                // Held already: the same event, or a conflict nobody may paper over.
                let held: Option<rusqlite::types::Value> = tx
                    .query_row(
                        "SELECT event_id FROM received WHERE source = ?1 AND seq = ?2",
                        params![event.source, event.seq],
                        |r| r.get(0),
                    )
                    .optional()?;
                if held.as_ref() == Some(&event.columns[0]) {
                    outcome.duplicates += 1;
                } else {
                    outcome.refused.push(i);
                }
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
                if !outcome.arrived.contains(&event.source) {
                    outcome.arrived.push(event.source.clone());
                }
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
    };
    let outcome = db.write_batch(count, store).await?;
    // Committed: wake the consumers of what arrived, and only them.
    for source in &outcome.arrived {
        MirrorLog::arrivals(db, source).send_modify(|n| *n += 1);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(source: &str, seq: i64) -> WireEvent {
        WireEvent::sample(source, seq)
    }

    fn db(dir: &std::path::Path) -> Db {
        Db::open(dir, "tracker", &crate::tracker::store::migrations()).unwrap()
    }

    #[tokio::test]
    async fn events_are_kept_in_order_duplicates_dropped_and_gaps_noted() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let mut auth_arrived = MirrorLog::arrivals(&db, "auth").subscribe();
        let tracker_arrived = MirrorLog::arrivals(&db, "tracker").subscribe();
        let one = event("auth", 1);
        let first = store(&db, vec![one.clone(), event("auth", 2), one.clone()])
            .await
            .unwrap();
        assert_eq!((first.stored, first.duplicates), (2, 1));
        assert!(first.gaps.is_empty());
        assert!(
            auth_arrived.has_changed().unwrap(),
            "auth's consumers are woken"
        );
        assert!(!tracker_arrived.has_changed().unwrap(), "tracker's are not");
        auth_arrived.mark_unchanged();
        let held = store(&db, vec![one]).await.unwrap();
        assert_eq!((held.stored, held.duplicates), (0, 1));
        assert!(
            !auth_arrived.has_changed().unwrap(),
            "a duplicate wakes nobody"
        );
        let gap = store(&db, vec![event("auth", 5), event("tracker", 1)])
            .await
            .unwrap();
        assert_eq!(gap.stored, 1, "tracker's first");
        assert!(tracker_arrived.has_changed().unwrap());
        assert_eq!(gap.gaps.get("auth"), Some(&3));
        let filled = store(
            &db,
            vec![event("auth", 3), event("auth", 4), event("auth", 5)],
        )
        .await
        .unwrap();
        assert_eq!(filled.stored, 3);
        assert!(filled.gaps.is_empty());
        // Another writer under the name `auth`, and a different event at a held number,
        // are refused, never taken for duplicates.
        let mut stranger = event("auth", 6);
        stranger.producer_id = "auth-2".into();
        let mut rewritten = event("auth", 2);
        rewritten.columns[0] = rusqlite::types::Value::Blob(vec![9; 16]);
        let refused = store(&db, vec![stranger, rewritten, event("auth", 6)])
            .await
            .unwrap();
        assert_eq!(refused.refused, vec![0, 1]);
        assert_eq!(refused.stored, 1);
        let log = crate::events::transport::MirrorLog::new(db.clone(), "auth");
        use crate::events::transport::EventLog;
        assert_eq!(log.head().await.unwrap(), 6);
        let seqs: Vec<i64> = log
            .fetch(0, 10, crate::events::outbox::Interest::All)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    }
}
