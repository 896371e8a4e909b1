//! Rebuilding a read model (accounting's books, analytics) from the event logs, online or
//! offline, with the same answers as before.
//!
//! A rebuild never re-decides anything: it replays facts. Each source log is replayed up to
//! where the live model stands: another context's log up to the live consumer's position,
//! and only the events the live consumer applied (its inbox), so parked dead letters stay
//! out as they are out of the live model; the model's own log (accounting's
//! `TransactionApplied`, `PaymentMade`, `DayClosed`) up to its head. The replay goes into a
//! fresh database file beside the live one, so readers keep seeing the old model. Then, in
//! one transaction of the live database with the fresh file attached, the positions are
//! checked again and the model's tables are replaced; if the logs moved meanwhile, the
//! rebuild catches up and tries again. Consumer positions, the inbox, the outbox and kept
//! state (the price seed) are not part of a model and are never touched.

use super::applied;
use super::consumer::{Handler, read_position};
use super::outbox::{Interest, LoggedEvent, Outbox};
use super::transport::{EventLog, OutboxLog};
use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use crate::error::{Error, Result};
use anyhow::Context as _;
use ates_shared::api::{RebuildContext, RebuildState, RebuildStatus};
use rusqlite::Connection;
use rusqlite_migration::Migrations;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Events replayed per transaction of the fresh database.
const BATCH: usize = 2000;
/// How often the swap may find the logs moved before the rebuild gives up.
const MAX_ROUNDS: usize = 100;
/// The schema name the fresh database is attached under during the swap.
const ATTACHED: &str = "rebuilt";

/// How far a source log is replayed.
#[derive(Debug, Clone)]
pub enum Until {
    /// Up to this live consumer's position, and only the events in its inbox.
    Consumer(String),
    /// Up to the head: the model's own log of decisions.
    Head,
}

/// One log the model is rebuilt from.
pub struct Source {
    pub log: Arc<dyn EventLog>,
    pub until: Until,
}

impl Source {
    /// Another context's log (embedded: its outbox; split: what arrived from the broker),
    /// replayed as far as the consumer `<context>.<producer>` applied it.
    pub fn followed_by(context: &str, log: Arc<dyn EventLog>) -> Source {
        let consumer = format!("{context}.{}", log.source());
        Source {
            log,
            until: Until::Consumer(consumer),
        }
    }

    /// The model's own log of decisions, replayed to its head.
    pub fn own(db: Db) -> Source {
        Source {
            log: Arc::new(OutboxLog::new(db)),
            until: Until::Head,
        }
    }
}

/// A read model that can be rebuilt.
pub struct ReadModel {
    pub context: RebuildContext,
    /// The live database that holds the model.
    pub db: Db,
    /// Creates the fresh database's tables (the context's own migrations).
    pub migrations: fn() -> Migrations<'static>,
    pub sources: Vec<Source>,
    /// Applies a replayed event to the fresh tables.
    pub replay: Arc<dyn Handler>,
    /// Runs in the swap transaction, with the fresh database attached as `rebuilt`; usually
    /// [`replace_tables`].
    pub swap_sql: String,
}

/// Swap SQL that replaces each of `tables` by its rebuilt copy (same columns, same order:
/// both databases come from the same migrations).
pub fn replace_tables(tables: &[&str]) -> String {
    tables
        .iter()
        .map(|t| {
            format!("DELETE FROM main.{t}; INSERT INTO main.{t} SELECT * FROM {ATTACHED}.{t};\n")
        })
        .collect()
}

/// What a finished rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildReport {
    /// Events replayed.
    pub events: u64,
    /// How long the swap transaction held the live database's writer (readers are never
    /// held: they see the old model until it commits).
    pub swap: std::time::Duration,
    /// Catch-up rounds: more than one when the logs moved during the rebuild.
    pub rounds: usize,
}

/// How far a rebuild has come: events replayed, and events to replay in all (it grows
/// when the logs grow meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub processed: u64,
    pub total: u64,
}

impl Progress {
    /// `processed` so far, and what is left between each source's replayed position and
    /// its target.
    fn of(processed: u64, targets: &[i64], done: &[i64]) -> Progress {
        let remaining: i64 = targets
            .iter()
            .zip(done)
            .map(|(target, done)| (target - done).max(0))
            .sum();
        Progress {
            processed,
            total: processed + remaining as u64,
        }
    }
}

impl ReadModel {
    /// Rebuilds the model and swaps it in. On error the live model is left as it was.
    pub async fn rebuild(
        &self,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> anyhow::Result<RebuildReport> {
        // A file of its own per rebuild: the connections of an earlier one may still be
        // closing (and deleting their WAL files) when the next starts.
        let dir = self
            .db
            .path()
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        self.remove_leftovers()?;
        let name = format!("{}{}", self.fresh_prefix(), uuid::Uuid::now_v7().simple());
        let fresh_path = dir.join(format!("{name}.db"));
        let fresh = Db::open(&dir, &name, &(self.migrations)())
            .context("creating the database to rebuild into")?;
        let outcome = self.replay_and_swap(&fresh, &fresh_path, progress).await;
        drop(fresh);
        if let Err(e) = remove_database_files(&fresh_path) {
            tracing::warn!(error = %e, "removing the rebuilt database file");
        }
        outcome
    }

    /// Fresh files are named `<db>.rebuild-<id>.db`.
    fn fresh_prefix(&self) -> String {
        format!("{}.rebuild-", self.db.name())
    }

    /// Removes the files of rebuilds of this model that a crash or a kill interrupted.
    pub fn remove_leftovers(&self) -> anyhow::Result<()> {
        let dir = self.db.path().parent().unwrap_or(Path::new("."));
        remove_leftovers(dir, &self.fresh_prefix())
    }

    async fn replay_and_swap(
        &self,
        fresh: &Db,
        fresh_path: &Path,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> anyhow::Result<RebuildReport> {
        let mut done = vec![0i64; self.sources.len()];
        let mut processed = 0u64;
        for round in 1..=MAX_ROUNDS {
            let untils: Vec<Until> = self.sources.iter().map(|s| s.until.clone()).collect();
            let targets = {
                let untils = untils.clone();
                self.db.read(move |conn| positions(conn, &untils)).await?
            };
            progress(Progress::of(processed, &targets, &done));
            for (i, source) in self.sources.iter().enumerate() {
                while done[i] < targets[i] {
                    let mut events = source.log.fetch(done[i], BATCH, Interest::All).await?;
                    events.retain(|e| e.seq <= targets[i]);
                    let Some(last) = events.last().map(|e| e.seq) else {
                        anyhow::bail!(
                            "the {} log ends at {} before position {}",
                            source.log.source(),
                            done[i],
                            targets[i]
                        );
                    };
                    let taken = events.len() as u64;
                    if let Until::Consumer(consumer) = &source.until {
                        events = self.applied_only(consumer, events).await?;
                    }
                    let replay = self.replay.clone();
                    fresh
                        .write_exclusive(move |tx| -> anyhow::Result<()> {
                            for event in &events {
                                // An own log's damaged row cannot be replayed exactly.
                                if let Some(defect) = &event.defect {
                                    anyhow::bail!("position {}: {defect}", event.seq);
                                }
                                replay.handle(tx, &event.envelope).with_context(|| {
                                    format!(
                                        "replaying {} v{} {}",
                                        event.envelope.event_name,
                                        event.envelope.event_version,
                                        event.envelope.event_id
                                    )
                                })?;
                            }
                            Ok(())
                        })
                        .await?;
                    done[i] = last;
                    processed += taken;
                    progress(Progress::of(processed, &targets, &done));
                }
            }
            let (swap_sql, reached) = (self.swap_sql.clone(), done.clone());
            let swap_started = std::time::Instant::now();
            let swapped = self
                .db
                .write_attached(
                    fresh_path,
                    ATTACHED,
                    move |tx| -> std::result::Result<bool, DbError> {
                        let now = positions(tx, &untils)?;
                        if !caught_up(&untils, &now, &reached) {
                            return Ok(false);
                        }
                        tx.execute_batch(&swap_sql)?;
                        Ok(true)
                    },
                )
                .await?;
            if swapped {
                return Ok(RebuildReport {
                    events: processed,
                    swap: swap_started.elapsed(),
                    rounds: round,
                });
            }
        }
        anyhow::bail!(
            "the logs kept moving faster than the rebuild could follow ({MAX_ROUNDS} rounds); try again when it is quieter"
        )
    }

    /// The events of `events` that `consumer` applied in the live model.
    async fn applied_only(
        &self,
        consumer: &str,
        events: Vec<LoggedEvent>,
    ) -> std::result::Result<Vec<LoggedEvent>, DbError> {
        let consumer = consumer.to_owned();
        self.db
            .read(move |conn| -> std::result::Result<_, DbError> {
                // One read of the inbox for the batch (its rows hold thousands of ids each).
                let ids = events
                    .iter()
                    .filter(|e| e.defect.is_none())
                    .map(|e| e.envelope.event_id);
                let applied = applied::applied_among(conn, &consumer, ids)?;
                Ok(events
                    .into_iter()
                    .filter(|e| e.defect.is_none() && applied.contains(&e.envelope.event_id))
                    .collect())
            })
            .await
    }
}

/// Where each source stands in the live database now.
fn positions(conn: &Connection, untils: &[Until]) -> std::result::Result<Vec<i64>, DbError> {
    untils
        .iter()
        .map(|until| match until {
            Until::Consumer(name) => Ok(read_position(conn, name)?),
            Until::Head => Outbox::head(conn),
        })
        .collect()
}

/// Whether the replay reached where the live model stands. A consumer rewound meanwhile
/// stands behind the replay, which is fine: the events between are in its inbox, and it
/// redelivers them without effect.
fn caught_up(untils: &[Until], now: &[i64], reached: &[i64]) -> bool {
    untils
        .iter()
        .zip(now.iter().zip(reached))
        .all(|(until, (now, reached))| match until {
            Until::Consumer(_) => now <= reached,
            Until::Head => now == reached,
        })
}

/// Removes the files of rebuilds that a crash or a kill interrupted.
fn remove_leftovers(dir: &Path, prefix: &str) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Removes a database file and its WAL companions, if present.
fn remove_database_files(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", file.display())),
        }
    }
    Ok(())
}

/// The rebuilds a running server was asked for, and their progress (`GET /system/events`).
#[derive(Clone, Default)]
pub struct Rebuilds {
    models: Arc<Vec<Arc<ReadModel>>>,
    statuses: Arc<Mutex<Vec<RebuildStatus>>>,
}

impl Rebuilds {
    /// Also removes what rebuilds interrupted by a crash left on disk: none runs yet.
    pub fn new(models: Vec<ReadModel>) -> Rebuilds {
        for model in &models {
            if let Err(e) = model.remove_leftovers() {
                tracing::warn!(error = %format!("{e:#}"), "removing an interrupted rebuild's files");
            }
        }
        Rebuilds {
            models: Arc::new(models.into_iter().map(Arc::new).collect()),
            statuses: Arc::default(),
        }
    }

    pub fn model(&self, context: RebuildContext) -> Option<&Arc<ReadModel>> {
        self.models.iter().find(|m| m.context == context)
    }

    /// Every rebuild started since the server started, oldest first.
    pub fn statuses(&self) -> Vec<RebuildStatus> {
        self.statuses.lock().expect("rebuild status lock").clone()
    }

    /// Whether a model held in the database `db_name` is being rebuilt. Dead-letter replays
    /// and rewinds of that database's consumers wait for it: they apply events without
    /// moving a position, which the swap's check would not see.
    pub fn running_on(&self, db_name: &str) -> bool {
        self.statuses().iter().any(|s| {
            s.state == RebuildState::Running
                && self
                    .model(s.context)
                    .is_some_and(|m| m.db.name() == db_name)
        })
    }

    /// Starts rebuilding `context` in the background; `None` if it is being rebuilt already.
    pub fn start(&self, context: RebuildContext, clock: &SharedClock) -> Result<RebuildStatus> {
        let model = self
            .model(context)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no read model `{context}` here")))?;
        let index = {
            let mut statuses = self.statuses.lock().expect("rebuild status lock");
            if statuses
                .iter()
                .any(|s| s.context == context && s.state == RebuildState::Running)
            {
                return Err(Error::conflict(
                    "rebuild_running",
                    format!("`{context}` is being rebuilt already"),
                ));
            }
            statuses.push(RebuildStatus {
                context,
                state: RebuildState::Running,
                processed: 0,
                total: 0,
                started_at: clock.now(),
                finished_at: None,
                error: None,
            });
            statuses.len() - 1
        };
        let started = self.statuses()[index].clone();
        let (statuses, clock) = (self.statuses.clone(), clock.clone());
        tokio::spawn(async move {
            let report = {
                let statuses = statuses.clone();
                move |p: Progress| {
                    let mut statuses = statuses.lock().expect("rebuild status lock");
                    statuses[index].processed = p.processed;
                    statuses[index].total = p.total;
                }
            };
            let outcome = model.rebuild(&report).await;
            let mut statuses = statuses.lock().expect("rebuild status lock");
            let status = &mut statuses[index];
            status.finished_at = Some(clock.now());
            match outcome {
                Ok(report) => {
                    tracing::info!(%context, events = report.events, swap_ms = report.swap.as_millis() as u64, rounds = report.rounds, "read model rebuilt");
                    status.state = RebuildState::Done;
                }
                Err(e) => {
                    tracing::error!(%context, error = %format!("{e:#}"), "rebuild failed");
                    status.state = RebuildState::Failed;
                    status.error = Some(format!("{e:#}"));
                }
            }
        });
        Ok(started)
    }
}
