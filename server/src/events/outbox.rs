//! The transactional outbox: a context's events are rows of its own database, appended in
//! the same transaction as the change they describe.

use super::schema;
use crate::db::{DbError, Stamp, Tx};
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
    /// Why the stored row is not a readable event (not JSON, a bad id or time, too big),
    /// or `None`. Such an event is parked at once; `envelope` then holds what could be
    /// read, with no data.
    pub defect: Option<String>,
    /// Whether the envelope was checked against its schema yet (consumers check a batch
    /// off the writer thread, before its transaction).
    pub schema: SchemaCheck,
}

/// The outcome of checking an event against its schema, when that was done in advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaCheck {
    NotYet,
    Passed,
    Failed(String),
    /// The consumer has no use for events of this name: it was taken by name and position
    /// only, never parsed nor checked (see [`Interest`]).
    NotNeeded,
}

/// Which events of a log a consumer reads in full. The others it takes by name and
/// position only, to move past them: never parsed, checked, applied or recorded in the
/// inbox. Applying nothing twice is harmless, and a damaged event that nothing here uses
/// is parked by the consumers that use it, not by every one. Analytics, for one, has no
/// use for the tracker's assignments, a reshuffle's every event: reading them in full and
/// checking them cost the runtime's threads about 1 µs of their 6 µs per reassigned task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    All,
    Only(&'static [&'static str]),
}

impl Interest {
    pub fn wants(&self, event_name: &str) -> bool {
        match self {
            Interest::All => true,
            Interest::Only(names) => names.contains(&event_name),
        }
    }
}

impl LoggedEvent {
    /// Checks the envelope against its schema now, unless it is unreadable anyway.
    pub fn check_schema(&mut self) {
        if self.defect.is_none() && self.schema == SchemaCheck::NotYet {
            self.schema = match schema::validate(&self.envelope) {
                Ok(()) => SchemaCheck::Passed,
                Err(e) => SchemaCheck::Failed(e.to_string()),
            };
        }
    }
}

/// Events' data larger than this are refused by consumers (parked, never parsed): every
/// real event is well under a kilobyte, and a log must not be able to exhaust memory.
pub const MAX_EVENT_DATA_BYTES: usize = 64 * 1024;

impl LoggedEvent {
    /// Reads one `outbox` row (columns `seq, event_id, event_name, event_version,
    /// event_time, producer, data`) for a consumer with this `interest`, never failing on a
    /// damaged one.
    pub(crate) fn reader(
        interest: Interest,
    ) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<LoggedEvent> {
        move |row| match row.get_ref(2)?.as_str() {
            Ok(name) if !interest.wants(name) => Ok(LoggedEvent {
                seq: row.get(0)?,
                envelope: Envelope {
                    event_id: Default::default(),
                    event_name: name.to_owned(),
                    event_version: 0,
                    event_time: Default::default(),
                    producer: String::new(),
                    data: serde_json::Value::Null,
                },
                defect: None,
                schema: SchemaCheck::NotNeeded,
            }),
            _ => LoggedEvent::from_row(row),
        }
    }

    /// Reads one `outbox` row in full (see [`LoggedEvent::reader`]).
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LoggedEvent> {
        let seq: i64 = row.get(0)?;
        let strict = || -> Result<Envelope, String> {
            let size = match row.get_ref(6).map_err(|e| e.to_string())? {
                rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b.len(),
                _ => 0,
            };
            if size > MAX_EVENT_DATA_BYTES {
                return Err(format!(
                    "the event's data is {size} bytes; at most {MAX_EVENT_DATA_BYTES} are accepted"
                ));
            }
            let field = |name: &str, e: rusqlite::Error| format!("`{name}` is unreadable: {e}");
            Ok(Envelope {
                event_id: row.get(1).map_err(|e| field("event_id", e))?,
                event_name: row.get(2).map_err(|e| field("event_name", e))?,
                event_version: row.get(3).map_err(|e| field("event_version", e))?,
                event_time: crate::db::timestamp(row, 4).map_err(|e| field("event_time", e))?,
                producer: row.get(5).map_err(|e| field("producer", e))?,
                data: row.get(6).map_err(|e| field("data", e))?,
            })
        };
        Ok(match strict() {
            Ok(envelope) => LoggedEvent {
                seq,
                envelope,
                defect: None,
                schema: SchemaCheck::NotYet,
            },
            Err(defect) => LoggedEvent {
                seq,
                envelope: Envelope {
                    event_id: row.get(1).unwrap_or_default(),
                    event_name: row.get(2).unwrap_or_else(|_| "<unreadable>".to_owned()),
                    event_version: row.get(3).unwrap_or_default(),
                    event_time: row.get(4).unwrap_or_default(),
                    producer: row.get(5).unwrap_or_default(),
                    data: serde_json::Value::Null,
                },
                defect: Some(defect),
                schema: SchemaCheck::NotYet,
            },
        })
    }
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
        Publisher::new(tx)?.append(envelope)
    }

    /// Up to `limit` events after position `after`, in log order, read for `interest`.
    pub fn read_after(
        conn: &Connection,
        after: i64,
        limit: usize,
        interest: Interest,
    ) -> Result<Vec<LoggedEvent>, DbError> {
        let mut select = conn.prepare_cached(
            "SELECT seq, event_id, event_name, event_version, event_time, producer, data
             FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        // Read apart from the rows: an estimate, only the vector's size depends on it.
        let expected = usize::try_from(Self::head(conn)? - after).unwrap_or(0);
        let rows = select.query_map(params![after, limit as i64], LoggedEvent::reader(interest))?;
        collect_sized(rows, expected.min(limit))
    }

    /// The sequence number of the newest event, 0 when the log is empty.
    pub fn head(conn: &Connection) -> Result<i64, DbError> {
        Ok(conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM outbox")?
            .query_row([], |r| r.get(0))?)
    }
}

/// Collects read events into a vector sized for `expected` of them up front. A batch is
/// thousands of events (~200 bytes each before their data): grown by doubling, its
/// copies and the fresh memory each one needed were a fifth of what the runtime's threads
/// spent fetching a reshuffle's events.
pub(crate) fn collect_sized(
    rows: impl Iterator<Item = rusqlite::Result<LoggedEvent>>,
    expected: usize,
) -> Result<Vec<LoggedEvent>, DbError> {
    let mut events = Vec::with_capacity(expected);
    for row in rows {
        events.push(row?);
    }
    Ok(events)
}

/// The outbox's insert, prepared once for the many events of a consumer's batch (taking a
/// statement from the cache and giving it back hashes its text each time).
pub struct Publisher<'c> {
    tx: &'c Tx<'c>,
    insert: rusqlite::CachedStatement<'c>,
}

impl<'c> Publisher<'c> {
    pub fn new(tx: &'c Tx<'c>) -> rusqlite::Result<Publisher<'c>> {
        let insert = tx.prepare_cached(
            "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        Ok(Publisher { tx, insert })
    }

    /// As [`Outbox::publish`].
    pub fn publish<P: EventPayload>(&mut self, payload: P, at: DateTime<Utc>) -> Result<Envelope> {
        let envelope = payload.into_envelope(at);
        self.append(&envelope)?;
        Ok(envelope)
    }

    /// As [`Outbox::append`].
    pub fn append(&mut self, envelope: &Envelope) -> Result<i64> {
        schema::validate(envelope).context("refusing to publish")?;
        self.insert_row(envelope, &envelope.data)
    }

    /// Appends an event wrapped, checked and written out ahead of its transaction.
    pub fn append_checked(&mut self, event: &CheckedEvent) -> Result<i64> {
        self.insert_row(&event.head, &event.data)
    }

    fn insert_row(&mut self, head: &Envelope, data: &dyn rusqlite::ToSql) -> Result<i64> {
        self.tx.note_outbox_append();
        self.insert.execute(params![
            head.event_id,
            head.event_name,
            head.event_version,
            Stamp(head.event_time),
            head.producer,
            data,
        ])?;
        Ok(self.tx.last_insert_rowid())
    }
}

/// An event wrapped in its envelope, checked against its schema and its data written out
/// as the outbox stores it, all before the transaction that appends it: on a thread other
/// than the writer's (see `Handler::prepare`). The text is the one [`Outbox::append`]
/// stores for the same envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEvent {
    /// The envelope without its data (`null`).
    head: Envelope,
    data: String,
}

impl CheckedEvent {
    pub fn new<P: EventPayload>(payload: P, at: DateTime<Utc>) -> Result<CheckedEvent> {
        let mut head = payload.into_envelope(at);
        schema::validate(&head).context("refusing to publish")?;
        let data = serde_json::to_string(&head.data).context("writing the event's data")?;
        head.data = serde_json::Value::Null;
        Ok(CheckedEvent { head, data })
    }
}
