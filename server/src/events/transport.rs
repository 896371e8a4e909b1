//! How a producer's log reaches its consumers. The consumer runtime only needs to fetch
//! events after a position and to hear that new ones may exist; the embedded transport
//! reads the producer's outbox in the same process, a broker transport can do the same
//! from a queue.

use super::outbox::{LoggedEvent, Outbox};
use crate::db::{Db, DbError};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One producer's ordered log, as seen by consumers.
pub trait EventLog: Send + Sync + 'static {
    /// The producing context (`auth`, `tracker`, ...).
    fn source(&self) -> &str;
    /// Up to `limit` events after `position`, in order.
    fn fetch(
        &self,
        position: i64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<LoggedEvent>, DbError>>;
    /// The position of the newest event.
    fn head(&self) -> BoxFuture<'_, Result<i64, DbError>>;
    /// Changes whenever new events may have been appended (a hint; consumers also poll).
    fn changes(&self) -> watch::Receiver<u64>;
}

/// The embedded transport: the producer's outbox table, read in-process.
pub struct OutboxLog {
    db: Db,
}

impl OutboxLog {
    pub fn new(db: Db) -> OutboxLog {
        OutboxLog { db }
    }
}

impl EventLog for OutboxLog {
    fn source(&self) -> &str {
        self.db.name()
    }

    fn fetch(
        &self,
        position: i64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<LoggedEvent>, DbError>> {
        Box::pin(
            self.db
                .read(move |conn| Outbox::read_after(conn, position, limit)),
        )
    }

    fn head(&self) -> BoxFuture<'_, Result<i64, DbError>> {
        Box::pin(self.db.read(Outbox::head))
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.db.commits()
    }
}
