//! For tests of consumers: a producer's log in a database of its own, holding only the event
//! tables, and a consumer that follows it.

use super::consumer::{Consumer, Handler};
use super::tables::EVENT_TABLES;
use super::transport::OutboxLog;
use super::{Envelope, Outbox};
use crate::clock::SystemClock;
use crate::db::{Db, DbError};
use rusqlite_migration::{M, Migrations};
use std::sync::Arc;

pub(crate) struct TestLog {
    pub db: Db,
    producer: String,
    _dir: tempfile::TempDir,
}

impl TestLog {
    /// An empty log of the context `producer`.
    pub fn new(producer: &str) -> TestLog {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path(),
            producer,
            &Migrations::new(vec![M::up(EVENT_TABLES)]),
        )
        .unwrap();
        TestLog {
            db,
            producer: producer.to_owned(),
            _dir: dir,
        }
    }

    /// Appends `events` in order, each checked against its schema as a producer's are.
    pub async fn publish(&self, events: Vec<Envelope>) {
        self.db
            .write(move |tx| -> crate::error::Result<()> {
                for event in &events {
                    Outbox::append(tx, event)?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }

    /// Appends a row as it stands, unchecked (a damaged or schema-breaking event).
    pub async fn append_raw(
        &self,
        event_name: &'static str,
        event_time: &'static str,
        data: String,
    ) {
        let producer = self.producer.clone();
        self.db
            .write(move |tx| -> Result<(), DbError> {
                tx.execute(
                    "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
                     VALUES (?1, ?2, 1, ?3, ?4, ?5)",
                    rusqlite::params![uuid::Uuid::now_v7(), event_name, event_time, producer, data],
                )?;
                tx.note_outbox_append();
                Ok(())
            })
            .await
            .unwrap();
    }

    /// A consumer in `context`'s database `db` that follows this log with `handler`.
    pub fn consumer(&self, context: &str, db: Db, handler: impl Handler) -> Consumer {
        Consumer::new(
            context,
            db,
            Arc::new(OutboxLog::new(self.db.clone())),
            Arc::new(handler),
            Arc::new(SystemClock),
        )
    }
}
