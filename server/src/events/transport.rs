//! How a producer's log reaches its consumers. The consumer runtime only needs to fetch
//! events after a position and to hear that new ones may exist; the embedded transport
//! reads the producer's outbox in the same process, a broker transport can do the same
//! from a queue.

use super::outbox::{Interest, LoggedEvent, Outbox, collect_sized};
use crate::db::{Db, DbError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One producer's ordered log, as seen by consumers.
pub trait EventLog: Send + Sync + 'static {
    /// The producing context (`auth`, `tracker`, ...).
    fn source(&self) -> &str;
    /// Up to `limit` events after `position`, in order, read for `interest`.
    fn fetch(
        &self,
        position: i64,
        limit: usize,
        interest: Interest,
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
        interest: Interest,
    ) -> BoxFuture<'_, Result<Vec<LoggedEvent>, DbError>> {
        Box::pin(
            self.db
                .read(move |conn| Outbox::read_after(conn, position, limit, interest)),
        )
    }

    fn head(&self) -> BoxFuture<'_, Result<i64, DbError>> {
        Box::pin(self.db.read(Outbox::head))
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.db.appends()
    }
}

/// Split mode's transport: another context's log as it arrived from the broker, held in
/// this consumer's own database (`received`, contiguous per source; see `broker::inbox`).
pub struct MirrorLog {
    db: Db,
    source: String,
}

impl MirrorLog {
    pub fn new(db: Db, source: &str) -> MirrorLog {
        MirrorLog {
            db,
            source: source.to_owned(),
        }
    }

    /// Ticks after `source`'s events were added to `db`'s `received` table (the inbox
    /// ticks it once they are committed); its consumers wait on this alone.
    pub fn arrivals(db: &Db, source: &str) -> Arc<watch::Sender<u64>> {
        db.signal(&format!("received.{source}"))
    }
}

impl EventLog for MirrorLog {
    fn source(&self) -> &str {
        &self.source
    }

    fn fetch(
        &self,
        position: i64,
        limit: usize,
        interest: Interest,
    ) -> BoxFuture<'_, Result<Vec<LoggedEvent>, DbError>> {
        let source = self.source.clone();
        Box::pin(self.db.read(move |conn| -> Result<_, DbError> {
            let expected = usize::try_from(mirror_head(conn, &source)? - position).unwrap_or(0);
            let mut select = conn.prepare_cached(
                "SELECT seq, event_id, event_name, event_version, event_time, producer, data
                 FROM received WHERE source = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows = select.query_map(
                rusqlite::params![source, position, limit as i64],
                LoggedEvent::reader(interest),
            )?;
            collect_sized(rows, expected.min(limit))
        }))
    }

    fn head(&self) -> BoxFuture<'_, Result<i64, DbError>> {
        let source = self.source.clone();
        Box::pin(self.db.read(move |conn| mirror_head(conn, &source)))
    }

    fn changes(&self) -> watch::Receiver<u64> {
        MirrorLog::arrivals(&self.db, &self.source).subscribe()
    }
}

/// The position of the newest event of `source` held in `received`, 0 when none is.
fn mirror_head(conn: &rusqlite::Connection, source: &str) -> Result<i64, DbError> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM received WHERE source = ?1")?
        .query_row([source], |r| r.get(0))?)
}
