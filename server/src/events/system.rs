//! Every consumer of the running process, and the admin's view of them: lag, dead letters,
//! replay and rewind.

use super::consumer::{self, Consumer};
use super::rebuild::Rebuilds;
use crate::clock::SharedClock;
use crate::db::DbError;
use crate::error::{Error, Result};
use ates_shared::api::{
    ConsumerStatus, DeadLetter, DeadLetterStatus, EventsStatus, RebuildContext, RebuildState,
    RebuildStatus,
};
use ates_shared::events::Envelope;
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

#[derive(Clone)]
pub struct EventSystem {
    consumers: Arc<Vec<Arc<Consumer>>>,
    rebuilds: Rebuilds,
    clock: SharedClock,
}

impl EventSystem {
    pub fn new(consumers: Vec<Consumer>, rebuilds: Rebuilds, clock: SharedClock) -> EventSystem {
        EventSystem {
            consumers: Arc::new(consumers.into_iter().map(Arc::new).collect()),
            rebuilds,
            clock,
        }
    }

    pub fn rebuilds(&self) -> &Rebuilds {
        &self.rebuilds
    }

    /// Starts rebuilding a read model in the background (`POST /system/rebuild`).
    pub fn start_rebuild(&self, context: RebuildContext) -> Result<RebuildStatus> {
        self.rebuilds.start(context, &self.clock)
    }

    pub fn consumers(&self) -> &[Arc<Consumer>] {
        &self.consumers
    }

    pub fn consumer(&self, name: &str) -> Result<&Arc<Consumer>> {
        self.consumers
            .iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| Error::NotFound(format!("no consumer named `{name}`")))
    }

    /// Starts one task per consumer; they stop when `shutdown` turns true.
    pub fn spawn(&self, tasks: &mut JoinSet<()>, shutdown: &watch::Receiver<bool>) {
        for consumer in self.consumers.iter() {
            tasks.spawn(consumer.clone().run(shutdown.clone()));
        }
    }

    /// Applies everything pending, consumer after consumer, until all are idle.
    /// For tests, tools and benchmarks that want a settled state without waiting.
    pub async fn drain(&self) -> Result<usize, DbError> {
        let mut total = 0;
        loop {
            let mut round = 0;
            for consumer in self.consumers.iter() {
                round += consumer.drain().await?;
            }
            if round == 0 {
                return Ok(total);
            }
            total += round;
        }
    }

    pub async fn status(&self) -> Result<EventsStatus> {
        let mut consumers = Vec::with_capacity(self.consumers.len());
        for consumer in self.consumers.iter() {
            let position = consumer.position().await?;
            let head = consumer.log().head().await?;
            let name = consumer.name().to_owned();
            let dead_letters: i64 = consumer
                .db()
                .read(move |conn| {
                    conn.query_row(
                        "SELECT count(*) FROM dead_letters WHERE consumer = ?1 AND status = 'parked'",
                        [&name],
                        |r| r.get(0),
                    )
                    .map_err(DbError::from)
                })
                .await?;
            consumers.push(ConsumerStatus {
                consumer: consumer.name().to_owned(),
                source: consumer.source().to_owned(),
                position,
                head,
                lag: (head - position).max(0),
                dead_letters,
            });
        }
        let rebuilds = self.rebuilds.statuses();
        let caught_up = consumers.iter().all(|c| c.lag == 0)
            && rebuilds.iter().all(|r| r.state != RebuildState::Running);
        Ok(EventsStatus {
            logs: Vec::new(),
            consumers,
            caught_up,
            rebuilds,
        })
    }

    /// Up to `limit` dead letters of every consumer older than `before`, newest first. Each
    /// consumer's database pages its own (ids are time-ordered UUIDv7); the pages are merged.
    pub async fn dead_letters(
        &self,
        status: Option<DeadLetterStatus>,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<DeadLetter>> {
        let mut all = Vec::new();
        for consumer in self.consumers.iter() {
            let name = consumer.name().to_owned();
            let mut found = consumer
                .db()
                .read(move |conn| {
                    list_dead_letters(conn, &name, status, before, limit).map_err(DbError::from)
                })
                .await?;
            all.append(&mut found);
        }
        all.sort_by_key(|d| std::cmp::Reverse(d.id));
        all.truncate(limit.max(0) as usize);
        Ok(all)
    }

    /// Gives up on a parked event for good, keeping the admin's reason. It is never applied:
    /// a rebuild leaves it out as the live model did.
    pub async fn discard_dead_letter(&self, id: Uuid, reason: String) -> Result<DeadLetter> {
        if crate::text::is_blank(&reason) || reason.chars().count() > 500 {
            return Err(Error::unprocessable(
                "invalid_reason",
                "`reason` must be 1 to 500 characters, not blank",
            ));
        }
        let reason = reason.trim().to_owned();
        let now = self.clock.now();
        for consumer in self.consumers.iter() {
            let name = consumer.name().to_owned();
            let reason = reason.clone();
            let found = consumer
                .db()
                .write(move |tx| -> Result<Option<DeadLetter>> {
                    let Some(letter) = load_dead_letter(tx, &name, id)? else {
                        return Ok(None);
                    };
                    if letter.status != DeadLetterStatus::Parked {
                        return Err(Error::conflict(
                            "not_parked",
                            format!("dead letter {id} is already {}", letter.status.as_str()),
                        ));
                    }
                    tx.execute(
                        "UPDATE dead_letters SET status = 'discarded', resolution = ?2, resolved_at = ?3
                         WHERE id = ?1",
                        params![id, reason, now],
                    )?;
                    Ok(load_dead_letter(tx, &name, id)?)
                })
                .await?;
            if let Some(letter) = found {
                return Ok(letter);
            }
        }
        Err(Error::NotFound(format!("no dead letter with id {id}")))
    }

    /// Applies a parked event again with its consumer's handler. Succeeds (and changes
    /// nothing) if the event had been applied meanwhile; on failure the dead letter stays
    /// parked with the new error and one more attempt counted.
    pub async fn retry_dead_letter(&self, id: Uuid) -> Result<DeadLetter> {
        for consumer in self.consumers.iter() {
            let name = consumer.name().to_owned();
            let Some(letter) = consumer
                .db()
                .read(move |conn| load_dead_letter(conn, &name, id).map_err(DbError::from))
                .await?
            else {
                continue;
            };
            match letter.status {
                DeadLetterStatus::Resolved => return Ok(letter),
                DeadLetterStatus::Discarded => {
                    return Err(Error::conflict(
                        "not_parked",
                        format!(
                            "dead letter {id} was discarded: {}",
                            letter.discard_reason.unwrap_or_default()
                        ),
                    ));
                }
                DeadLetterStatus::Parked => {}
            }
            self.refuse_during_rebuild(consumer)?;
            let envelope: Envelope =
                serde_json::from_value(letter.envelope.clone()).map_err(|e| {
                    Error::conflict(
                        "replay_failed",
                        format!("dead letter {id} is not a readable event ({e}); discard it"),
                    )
                })?;
            let handler = consumer.handler();
            let name = consumer.name().to_owned();
            let now = self.clock.now();
            let outcome = consumer
                .db()
                .write(move |tx| -> Result<Result<(), String>, DbError> {
                    // Another admin may have replayed or discarded it since it was read.
                    let still_parked = load_dead_letter(tx, &name, id)?
                        .is_some_and(|d| d.status == DeadLetterStatus::Parked);
                    if !still_parked {
                        return Ok(Err(NOT_PARKED.to_owned()));
                    }
                    tx.execute_batch("SAVEPOINT replay")?;
                    match consumer::replay(tx, &name, handler.as_ref(), &envelope, now) {
                        Ok(()) => {
                            tx.execute_batch("RELEASE replay")?;
                            tx.execute(
                                "UPDATE dead_letters SET status = 'resolved', resolved_at = ?2, attempts = attempts + 1
                                 WHERE id = ?1",
                                params![id, now],
                            )?;
                            Ok(Ok(()))
                        }
                        Err(message) => {
                            tx.execute_batch("ROLLBACK TO replay; RELEASE replay")?;
                            tx.execute(
                                "UPDATE dead_letters SET error = ?2, attempts = attempts + 1 WHERE id = ?1",
                                params![id, message],
                            )?;
                            Ok(Err(message))
                        }
                    }
                })
                .await?;
            let name = consumer.name().to_owned();
            let updated = consumer
                .db()
                .read(move |conn| load_dead_letter(conn, &name, id).map_err(DbError::from))
                .await?
                .ok_or_else(|| Error::NotFound(format!("no dead letter {id}")))?;
            return match outcome {
                Ok(()) => Ok(updated),
                Err(message) if message == NOT_PARKED => Err(Error::conflict(
                    "not_parked",
                    format!("dead letter {id} was replayed or discarded meanwhile"),
                )),
                Err(message) => Err(Error::conflict(
                    "replay_failed",
                    format!("the event still fails: {message}"),
                )),
            };
        }
        Err(Error::NotFound(format!("no dead letter with id {id}")))
    }

    fn refuse_during_rebuild(&self, consumer: &Consumer) -> Result<()> {
        if self.rebuilds.running_on(consumer.db().name()) {
            return Err(Error::conflict(
                "rebuild_running",
                format!(
                    "`{}` feeds a read model that is being rebuilt; try again when the rebuild is done",
                    consumer.name()
                ),
            ));
        }
        Ok(())
    }

    /// Moves a consumer's position back so the log is delivered again from there (the
    /// inbox makes the redelivery change nothing).
    pub async fn rewind(&self, consumer: &str, position: i64) -> Result<()> {
        let consumer = self.consumer(consumer)?;
        self.refuse_during_rebuild(consumer)?;
        // Only backwards: moving ahead would skip the events between without applying them.
        let current = consumer.position().await?;
        if !(0..=current).contains(&position) {
            return Err(Error::unprocessable(
                "position_out_of_range",
                format!(
                    "`position` must be between 0 and {current} (where the consumer stands): a rewind only goes back"
                ),
            ));
        }
        consumer.rewind(position).await?;
        Ok(())
    }
}

/// The replay's answer when the letter stopped being parked before its turn to write.
const NOT_PARKED: &str = "\u{0}not parked";

const DEAD_LETTER_COLUMNS: &str = "id, consumer, event_id, event_name, event_version, error, attempts, parked_at, status, envelope, resolution";

fn dead_letter_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    let status: String = row.get(8)?;
    Ok(DeadLetter {
        id: row.get(0)?,
        consumer: row.get(1)?,
        event_id: row.get(2)?,
        event_name: row.get(3)?,
        event_version: row.get(4)?,
        error: row.get(5)?,
        attempts: row.get(6)?,
        parked_at: row.get(7)?,
        status: match status.as_str() {
            "resolved" => DeadLetterStatus::Resolved,
            "discarded" => DeadLetterStatus::Discarded,
            _ => DeadLetterStatus::Parked,
        },
        envelope: row.get(9)?,
        discard_reason: row.get(10)?,
    })
}

fn list_dead_letters(
    conn: &rusqlite::Connection,
    consumer: &str,
    status: Option<DeadLetterStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> rusqlite::Result<Vec<DeadLetter>> {
    let sql = format!(
        "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters
         WHERE consumer = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![consumer, status.map(|s| s.as_str()), before, limit],
        dead_letter_from_row,
    )?;
    rows.collect()
}

fn load_dead_letter(
    conn: &rusqlite::Connection,
    consumer: &str,
    id: Uuid,
) -> rusqlite::Result<Option<DeadLetter>> {
    let sql =
        format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE consumer = ?1 AND id = ?2");
    conn.query_row(&sql, params![consumer, id], dead_letter_from_row)
        .optional()
}
