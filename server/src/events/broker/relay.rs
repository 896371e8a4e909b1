//! Publishes one producer's outbox to the broker, in order, at least once.

use super::wire::{COLUMNS, WireEvent};
use super::{Broker, connect, declare_topology};
use crate::db::{Db, DbError};
use anyhow::Context as _;
use futures_util::{FutureExt as _, StreamExt as _};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel};
use rusqlite::{OptionalExtension, params};
use std::time::Duration;
use tokio::sync::watch;

/// Messages published before waiting for the broker's confirms.
const BATCH: usize = 2000;
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Relays `producer`'s outbox until `stop` turns true, reconnecting as needed.
pub async fn run(broker: Broker, producer: Db, stop: watch::Receiver<bool>) {
    let name = format!("relay.{}", producer.name());
    super::keep_running(&name, stop.clone(), || {
        session(&broker, &producer, stop.clone())
    })
    .await
}

/// Asks `producer`'s relay to publish again from `from` (a consumer saw a gap).
pub async fn request_resend(
    channel: &Channel,
    broker: &Broker,
    producer: &str,
    from: i64,
) -> lapin::Result<()> {
    channel
        .basic_publish(
            broker.control_exchange().as_str().into(),
            producer.into(),
            BasicPublishOptions::default(),
            serde_json::json!({ "from": from }).to_string().as_bytes(),
            BasicProperties::default(),
        )
        .await?;
    Ok(())
}

async fn session(broker: &Broker, db: &Db, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let producer = db.name().to_owned();
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
    let mut commits = db.commits();
    tracing::info!(%producer, "relay connected to the broker");
    loop {
        if *stop.borrow() {
            let _ = connection.close(200, "shutting down".into()).await;
            return Ok(());
        }
        // Resend requests first: they move the position back.
        while let Some(Some(request)) = control.next().now_or_never() {
            let request = request?;
            if let Some(from) = serde_json::from_slice::<serde_json::Value>(&request.data)
                .ok()
                .and_then(|v| v.get("from")?.as_i64())
            {
                rewind(db, from - 1).await?;
                tracing::info!(%producer, from, "resending on a consumer's request");
            }
            request.ack(BasicAckOptions::default()).await?;
        }
        let position = position(db).await?;
        let batch = unpublished(db, position).await?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            tokio::select! {
                _ = commits.changed() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                request = control.next() => {
                    let request = request.context("the control queue closed")??;
                    if let Some(from) = serde_json::from_slice::<serde_json::Value>(&request.data)
                        .ok()
                        .and_then(|v| v.get("from")?.as_i64())
                    {
                        rewind(db, from - 1).await?;
                    }
                    request.ack(BasicAckOptions::default()).await?;
                }
            }
            continue;
        };
        publish(&channel, broker, &batch).await?;
        advance(db, position, last).await?;
        metrics::counter!("ates_relay_published_total", "producer" => producer.clone())
            .increment(batch.len() as u64);
    }
}

/// Publishes `batch` and waits for the broker's confirms; an error (a nack, a returned
/// message, a lost channel) leaves the position where it was, so the batch is sent again.
async fn publish(channel: &Channel, broker: &Broker, batch: &[WireEvent]) -> anyhow::Result<()> {
    let exchange = broker.events_exchange();
    let mut confirms = Vec::with_capacity(batch.len());
    for event in batch {
        let mut headers = FieldTable::default();
        headers.insert("x-seq".into(), AMQPValue::LongLongInt(event.seq));
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(format!("{}:{}", event.source, event.seq).as_str().into())
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                exchange.as_str().into(),
                event.source.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &event.encode(),
                properties,
            )
            .await?;
        confirms.push(confirm);
    }
    for confirm in futures_util::future::join_all(confirms).await {
        let confirmation = confirm?;
        anyhow::ensure!(confirmation.is_ack(), "the broker refused a message");
        if confirmation.take_message().is_some() {
            anyhow::bail!("the broker returned a message: no queue is bound for it");
        }
    }
    Ok(())
}

async fn position(db: &Db) -> Result<i64, DbError> {
    let producer = db.name().to_owned();
    db.read(move |conn| -> Result<i64, DbError> {
        Ok(conn
            .query_row(
                "SELECT position FROM relay_positions WHERE producer = ?1",
                [&producer],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    })
    .await
}

/// Moves the position from `from` to `to` after a confirmed batch (unless a resend request
/// moved it meanwhile: then the request wins).
async fn advance(db: &Db, from: i64, to: i64) -> Result<(), DbError> {
    let producer = db.name().to_owned();
    db.write(move |tx| -> Result<(), DbError> {
        tx.execute(
            "INSERT INTO relay_positions (producer, position) VALUES (?1, ?3)
             ON CONFLICT (producer) DO UPDATE SET position = ?3 WHERE position = ?2",
            params![producer, from, to],
        )?;
        Ok(())
    })
    .await
}

/// Moves the position back to `to` (never forward).
async fn rewind(db: &Db, to: i64) -> Result<(), DbError> {
    let producer = db.name().to_owned();
    db.write(move |tx| -> Result<(), DbError> {
        tx.execute(
            "INSERT INTO relay_positions (producer, position) VALUES (?1, max(?2, 0))
             ON CONFLICT (producer) DO UPDATE SET position = min(position, max(?2, 0))",
            params![producer, to],
        )?;
        Ok(())
    })
    .await
}

async fn unpublished(db: &Db, after: i64) -> Result<Vec<WireEvent>, DbError> {
    let source = db.name().to_owned();
    db.read(move |conn| -> Result<Vec<WireEvent>, DbError> {
        let mut select = conn.prepare_cached(&format!(
            "SELECT seq, {COLUMNS} FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = select.query_map(params![after, BATCH as i64], |row| {
            Ok(WireEvent {
                source: source.clone(),
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
