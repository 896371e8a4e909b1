//! Publishes one producer's outbox to the broker, in order, at least once.
//!
//! Every message carries the producer's identity (a random id its database keeps), so an
//! inbox refuses a second writer of the same name (another process, a recreated database)
//! instead of mistaking its events for duplicates. A consumer that misses events asks for
//! them by name: they are sent again to its queue alone, from the outbox, without moving
//! the relay's own position.
//!
//! Messages are not persistent: the outbox already keeps every event on disk, and the
//! broker writing each one again and waiting for its disk before the confirm took two
//! fifths of its CPU, on the cores the services need (lag over RabbitMQ at 1k events/s,
//! p99 ~12 against ~8 ms). What a restarted broker lost is asked for again by the inboxes
//! when they reconnect (see `inbox`), and sent from the outbox.
//!
//! Batches are pipelined: the next one is published while the broker confirms those before
//! it, and the position moves, in order, as confirms come. After a failure the session
//! starts over from the confirmed position, so events may be sent twice, never skipped;
//! inboxes drop the duplicates.

use super::wire::{COLUMNS, WireEvent};
use super::{Broker, connect, declare_topology};
use crate::db::{Db, DbError};
use anyhow::Context as _;
use futures_util::future;
use futures_util::stream::FuturesOrdered;
use futures_util::{FutureExt as _, StreamExt as _};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, PublisherConfirm};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;

/// Messages read from the outbox and published at a time.
const BATCH: usize = 2000;
/// Messages published and not yet confirmed, at most. Waiting for each batch's confirm
/// before publishing the next kept every event that arrived meanwhile waiting too: the
/// lag p99 over RabbitMQ was ~80 ms at 1k events/s. A bound in messages, not batches: at
/// that rate a batch is one or two events, and the broker confirms every few tens of ms.
const UNCONFIRMED: usize = 4 * BATCH;
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The stored position moves at most this often (and when the relay has nothing to
/// publish): each move is a commit on the producer's writer, which the relay waited for
/// before publishing again, once per confirmed batch. A position left behind costs only
/// duplicates after a restart, which inboxes drop.
const ADVANCE_EVERY: Duration = Duration::from_millis(100);
/// How long the broker may take to confirm a batch (e.g. while a resource alarm blocks
/// publishers) before the session starts over.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// A consumer's request: send `queue` this producer's events from `from` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendRequest {
    pub from: i64,
    pub queue: String,
}

/// Relays `producer`'s outbox until `stop` turns true, reconnecting as needed.
pub async fn run(broker: Broker, producer: Db, stop: watch::Receiver<bool>) {
    let name = format!("relay.{}", producer.name());
    super::keep_running(&name, stop.clone(), || {
        session(&broker, &producer, stop.clone())
    })
    .await
}

/// Asks `producer`'s relay to send `queue` its events from `from` on (a gap, or a reader
/// that is new or was away).
pub async fn request_resend(
    channel: &Channel,
    broker: &Broker,
    producer: &str,
    request: &ResendRequest,
) -> lapin::Result<()> {
    let body = serde_json::to_vec(request).unwrap_or_default();
    channel
        .basic_publish(
            broker.control_exchange().as_str().into(),
            producer.into(),
            BasicPublishOptions::default(),
            &body,
            BasicProperties::default(),
        )
        .await?;
    Ok(())
}

async fn session(broker: &Broker, db: &Db, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let producer = db.name().to_owned();
    let identity = identity(db).await?;
    let connection = connect(&broker.url)
        .await
        .context("connecting to the broker")?;
    let channel = connection.create_channel().await?;
    declare_topology(&channel, broker).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let control_channel = connection.create_channel().await?;
    let mut control = control_channel
        .basic_consume(
            broker.relay_queue_of(&producer).as_str().into(),
            format!("relay-{producer}").as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut appends = db.appends();
    tracing::info!(%producer, "relay connected to the broker");
    // Published batches awaiting their confirms, oldest first; each yields its last seq
    // and its size.
    let mut confirming = FuturesOrdered::new();
    let mut unconfirmed = 0;
    let mut published = position(db).await?;
    let mut progress = Position::at(published);
    // Whether the outbox may hold events past `published`: false once a read came back
    // short, true again when an append ticks (or the idle poll comes). Reading again after
    // every batch and every confirm found nothing at a steady load, and each read is a
    // hand-off to a blocking thread: two of every three were wasted.
    let mut maybe_more = true;
    loop {
        if *stop.borrow() {
            progress.store(db).await?;
            let _ = connection.close(200, "shutting down".into()).await;
            return Ok(());
        }
        while let Some(Some(request)) = control.next().now_or_never() {
            let request = request?;
            resend(&channel, db, &identity, &request.data, published).await?;
            request.ack(BasicAckOptions::default()).await?;
        }
        if maybe_more && unconfirmed < UNCONFIRMED {
            let batch = read_outbox(db, &identity, published, i64::MAX).await?;
            maybe_more = batch.len() == BATCH;
            if let Some(last) = batch.last().map(|e| e.seq) {
                let size = batch.len();
                let confirms = send(&channel, &broker.events_exchange(), None, &batch).await?;
                confirming
                    .push_back(confirmed(confirms).map(move |done| done.map(|()| (last, size))));
                unconfirmed += size;
                published = last;
                metrics::counter!("ates_relay_published_total", "producer" => producer.clone())
                    .increment(size as u64);
                continue;
            }
        }
        tokio::select! {
            Some(done) = confirming.next() => {
                // Batches confirmed together move the position once.
                let (mut last, size) = done?;
                unconfirmed -= size;
                while let Some(Some(done)) = confirming.next().now_or_never() {
                    let (later, size) = done?;
                    (last, unconfirmed) = (later, unconfirmed - size);
                }
                progress.confirmed = last;
                if progress.stored_at.elapsed() >= ADVANCE_EVERY {
                    progress.store(db).await?;
                }
            }
            _ = appends.changed(), if unconfirmed < UNCONFIRMED => maybe_more = true,
            _ = stop.changed() => {}
            _ = tokio::time::sleep(ADVANCE_EVERY), if progress.behind() => {
                progress.store(db).await?;
            }
            // Events another process appended tick nothing here.
            _ = tokio::time::sleep(IDLE_POLL) => maybe_more = true,
            request = control.next() => {
                let request = request.context("the control queue closed")??;
                resend(&channel, db, &identity, &request.data, published).await?;
                request.ack(BasicAckOptions::default()).await?;
            }
        }
    }
}

/// How far the broker confirmed this producer's events, and how far that is stored.
struct Position {
    confirmed: i64,
    stored: i64,
    stored_at: std::time::Instant,
}

impl Position {
    fn at(stored: i64) -> Position {
        Position {
            confirmed: stored,
            stored,
            stored_at: std::time::Instant::now(),
        }
    }

    /// Whether confirmed events are not stored as such yet.
    fn behind(&self) -> bool {
        self.confirmed > self.stored
    }

    /// Stores the confirmed position, if it moved.
    async fn store(&mut self, db: &Db) -> Result<(), DbError> {
        if self.behind() {
            advance(db, self.confirmed).await?;
            (self.stored, self.stored_at) = (self.confirmed, std::time::Instant::now());
        }
        Ok(())
    }
}

/// Sends the asking queue what it asked for, up to `published`, the last event this session
/// handed to the broker (the rest reaches it the usual way). Not only up to the stored
/// position, which trails by up to 100 ms: a queue bound meanwhile (a new reader) or a gap
/// asked for meanwhile would miss the events between, until the source's next event
/// showed the gap again, which for auth may be days.
async fn resend(
    channel: &Channel,
    db: &Db,
    identity: &str,
    body: &[u8],
    published: i64,
) -> anyhow::Result<()> {
    let Ok(request) = serde_json::from_slice::<ResendRequest>(body) else {
        tracing::warn!(producer = %db.name(), "ignoring an unreadable resend request");
        return Ok(());
    };
    let until = published;
    let mut after = request.from.saturating_sub(1).max(0);
    let mut sent = 0usize;
    while after < until {
        let batch = read_outbox(db, identity, after, until).await?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            break;
        };
        match publish(channel, "", Some(&request.queue), &batch).await {
            Ok(()) => {}
            // The queue is gone: nobody is waiting for these.
            Err(error) if error.is::<NoQueue>() => {
                tracing::warn!(producer = %db.name(), queue = %request.queue, "resend abandoned: the queue is gone");
                return Ok(());
            }
            // Anything else (no confirm in time, a refusal, a lost channel) ends the
            // session before the request is acknowledged: the next one serves it again.
            // The inbox may not ask twice: after a broker restart this is how it gets
            // what the broker lost.
            Err(error) => return Err(error),
        }
        sent += batch.len();
        after = last;
    }
    tracing::info!(producer = %db.name(), queue = %request.queue, from = request.from, sent, "resent on a consumer's request");
    Ok(())
}

/// Publishes `batch` (to `exchange` by producer, or straight to `queue` through the default
/// exchange) and waits for the broker's confirms; an error (a nack, a returned message, a
/// lost channel, no confirm in time) leaves the position where it was, so the batch is
/// sent again.
async fn publish(
    channel: &Channel,
    exchange: &str,
    queue: Option<&str>,
    batch: &[WireEvent],
) -> anyhow::Result<()> {
    confirmed(send(channel, exchange, queue, batch).await?).await
}

/// Publishes `batch` as [`publish`] does, without waiting for the confirms it returns.
///
/// lapin queues a message's frames when its publish is first polled and only then waits
/// for its I/O loop to write them. Awaiting each publish in turn paid that hand-over once
/// per message: ~1 ms each on a busy 2-core machine, most of the lag over RabbitMQ at a
/// steady load. So each publish is polled once, here and in order (the broker sees the
/// outbox's order, and the confirms' delivery tags follow it), and the writes of the whole
/// batch are waited for together.
async fn send(
    channel: &Channel,
    exchange: &str,
    queue: Option<&str>,
    batch: &[WireEvent],
) -> anyhow::Result<Vec<PublisherConfirm>> {
    let bodies: Vec<Vec<u8>> = batch.iter().map(WireEvent::encode).collect();
    let mut publishing = Vec::with_capacity(batch.len());
    for (event, body) in batch.iter().zip(&bodies) {
        let mut headers = FieldTable::default();
        headers.insert("x-seq".into(), AMQPValue::LongLongInt(event.seq));
        let properties = BasicProperties::default()
            // Transient: see the module's comment.
            .with_delivery_mode(1)
            .with_content_type("application/json".into())
            .with_message_id(format!("{}:{}", event.source, event.seq).as_str().into())
            .with_headers(headers);
        let mut publish = Box::pin(future::maybe_done(channel.basic_publish(
            exchange.into(),
            queue.unwrap_or(&event.source).into(),
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            body,
            properties,
        )));
        // Queues the frames (or fails at once, on a closed channel).
        let _ = futures_util::poll!(publish.as_mut());
        publishing.push(publish);
    }
    let mut confirms = Vec::with_capacity(batch.len());
    for mut publish in publishing {
        publish.as_mut().await;
        let written = publish.as_mut().take_output();
        confirms.push(written.expect("an awaited publish holds its outcome")?);
    }
    Ok(confirms)
}

/// The broker returned a mandatory message: no queue is bound for it.
#[derive(Debug, thiserror::Error)]
#[error("the broker returned a message: no queue is bound for it")]
struct NoQueue;

/// Waits for a batch's confirms: every message acknowledged, none returned.
async fn confirmed(confirms: Vec<PublisherConfirm>) -> anyhow::Result<()> {
    let confirmed = tokio::time::timeout(CONFIRM_TIMEOUT, futures_util::future::join_all(confirms))
        .await
        .context("the broker did not confirm in time")?;
    for confirm in confirmed {
        let confirmation = confirm?;
        anyhow::ensure!(confirmation.is_ack(), "the broker refused a message");
        if confirmation.take_message().is_some() {
            return Err(NoQueue.into());
        }
    }
    Ok(())
}

/// This producer's identity, made on first use and kept with its position.
async fn identity(db: &Db) -> Result<String, DbError> {
    let producer = db.name().to_owned();
    db.write(move |tx| -> Result<String, DbError> {
        tx.execute(
            "INSERT OR IGNORE INTO relay_positions (producer, position, producer_id)
             VALUES (?1, 0, ?2)",
            params![producer, uuid::Uuid::now_v7().to_string()],
        )?;
        Ok(tx.query_row(
            "SELECT producer_id FROM relay_positions WHERE producer = ?1",
            [&producer],
            |r| r.get(0),
        )?)
    })
    .await
}

async fn position(db: &Db) -> Result<i64, DbError> {
    let producer = db.name().to_owned();
    db.read(move |conn| -> Result<i64, DbError> {
        Ok(conn.query_row(
            "SELECT position FROM relay_positions WHERE producer = ?1",
            [&producer],
            |r| r.get(0),
        )?)
    })
    .await
}

/// Moves the position forward after a confirmed batch.
async fn advance(db: &Db, to: i64) -> Result<(), DbError> {
    let producer = db.name().to_owned();
    db.write(move |tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE relay_positions SET position = max(position, ?2) WHERE producer = ?1",
            params![producer, to],
        )?;
        Ok(())
    })
    .await
}

/// Up to a batch of outbox rows after `after` and at most `until`.
async fn read_outbox(
    db: &Db,
    identity: &str,
    after: i64,
    until: i64,
) -> Result<Vec<WireEvent>, DbError> {
    let (source, identity) = (db.name().to_owned(), identity.to_owned());
    db.read(move |conn| -> Result<Vec<WireEvent>, DbError> {
        let mut select = conn.prepare_cached(&format!(
            "SELECT seq, {COLUMNS} FROM outbox WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3"
        ))?;
        let rows = select.query_map(params![after, until, BATCH as i64], |row| {
            Ok(WireEvent {
                source: source.clone(),
                producer_id: identity.clone(),
                seq: row.get(0)?,
                columns: (1..=6)
                    .map(|i| row.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<_, _>>()?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::options::{BasicGetOptions, QueueDeclareOptions};

    const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

    /// `send` polls each publish once before it waits for any: the broker must still get a
    /// batch in the outbox's order, or every batch would look like gaps to the inboxes.
    #[tokio::test]
    async fn a_batch_reaches_the_broker_in_the_outbox_order() {
        assert!(
            std::net::TcpStream::connect("127.0.0.1:5672").is_ok(),
            "RabbitMQ is not running on 127.0.0.1:5672: start it with `rabbitmq-server -detached` (.ci/run does)"
        );
        let connection = connect(AMQP_URL).await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let batch: Vec<WireEvent> = (1..=500)
            .map(|seq| WireEvent::sample("tracker", seq))
            .collect();
        publish(&channel, "", Some(queue.name().as_str()), &batch)
            .await
            .unwrap();
        let mut received = Vec::new();
        while let Some(message) = channel
            .basic_get(
                queue.name().as_str().into(),
                BasicGetOptions { no_ack: true },
            )
            .await
            .unwrap()
        {
            received.push(WireEvent::decode(&message.delivery.data).unwrap());
        }
        assert_eq!(received, batch);
        let _ = connection.close(200, "done".into()).await;
    }
}
