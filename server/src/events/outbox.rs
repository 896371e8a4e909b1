//! The transactional outbox: a context's events are rows of its own database, appended in
//! the same transaction as the change they describe.

use super::schema;
use crate::db::{DbError, Tx};
use crate::error::Result;
use anyhow::Context as _;
use ates_shared::events::{Envelope, EventPayload};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

/// An event as it sits in a log: its position and its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub seq: i64,
    pub envelope: Envelope,
}

pub struct Outbox;

impl Outbox {
    /// Wraps `payload` in a new envelope stamped `at`, validates it and appends it.
    pub fn publish<P: EventPayload>(
        tx: &Tx<'_>,
        payload: P,
        at: DateTime<Utc>,
    ) -> Result<Envelope> {
        let envelope = payload.into_envelope(at);
        Self::append(tx, &envelope)?;
        Ok(envelope)
    }

    /// Validates `envelope` against its schema and appends it; returns its sequence number.
    /// A payload that breaks its schema is a bug in the producer: nothing is written.
    pub fn append(tx: &Tx<'_>, envelope: &Envelope) -> Result<i64> {
        schema::validate(envelope).context("refusing to publish")?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        insert.execute(params![
            envelope.event_id,
            envelope.event_name,
            envelope.event_version,
            envelope.event_time,
            envelope.producer,
            envelope.data,
        ])?;
        Ok(tx.last_insert_rowid())
    }

    /// Up to `limit` events after position `after`, in log order.
    pub fn read_after(
        conn: &Connection,
        after: i64,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, DbError> {
        let mut select = conn.prepare_cached(
            "SELECT seq, event_id, event_name, event_version, event_time, producer, data
             FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = select.query_map(params![after, limit as i64], |row| {
            Ok(LoggedEvent {
                seq: row.get(0)?,
                envelope: Envelope {
                    event_id: row.get(1)?,
                    event_name: row.get(2)?,
                    event_version: row.get(3)?,
                    event_time: row.get(4)?,
                    producer: row.get(5)?,
                    data: row.get(6)?,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The sequence number of the newest event, 0 when the log is empty.
    pub fn head(conn: &Connection) -> Result<i64, DbError> {
        Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?)
    }
}
