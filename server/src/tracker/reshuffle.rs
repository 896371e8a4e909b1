//! A reshuffle, in chunks: every open task, in id order, gets a random assignee and its
//! `TaskAssigned`, up to [`CHUNK`] tasks per transaction, each with the reshuffle's progress.
//!
//! Why chunks and not one transaction: accounting can bill only what has committed. In one
//! transaction, 1M tasks held the tracker's writer for ~8 s (every `POST /tasks` waited that
//! long) and accounting started billing only after it: settled in ~3x the tracker's own
//! time. In chunks, billing runs beside the reshuffle on the other core.
//!
//! A reshuffle once begun is finished: its row (`reshuffles`) says how far it got, and one
//! cut short by a crash is finished at the next start, or before the next reshuffle. Its
//! tasks are those open when it began (up to the newest then); one completed meanwhile
//! stays done, one created meanwhile keeps its fresh assignment. Every assignment of one
//! reshuffle carries the time it began (one reshuffle, one billing day).

use super::{assign, no_assignees, store};
use crate::db::{Stamp, Tx};
use crate::error::{Error, Result};
use crate::events::outbox::Publisher;
use ates_shared::events::tracker::TaskAssigned;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

/// The most tasks reassigned per transaction (the first chunk is an eighth of it, so that
/// accounting starts billing at once; each next one is as large as all before it). Large
/// enough that a commit's fsync and the pages it writes are shared by many tasks; small
/// enough that a `POST /tasks` waits for one chunk at most (0.2-0.7 s measured), not for
/// the whole reshuffle (6.3 s at 1M). Measured on 2 cores, 1M tasks: settled in 17.8-24.3 s
/// (four runs) against 22.3 s in one transaction; answered in 10.0-12.5 s against 6.4 s,
/// as billing now shares the cores with it.
pub const CHUNK: usize = 25_000;

/// How far a reshuffle got, as its row holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub id: Uuid,
    /// When it began: the assignment time of all its tasks.
    pub assigned_at: DateTime<Utc>,
    /// The newest task open when it began; tasks after it are not this reshuffle's.
    pub up_to: Uuid,
    /// The last task reassigned so far (tasks are taken in id order).
    pub done_through: Option<Uuid>,
    pub reassigned: u64,
    pub finished: bool,
    /// It ended before its last task because nobody could take a task any more.
    pub cut_short: bool,
}

/// Begins a reshuffle at `now` and reassigns its first chunk. `None` when no task is open
/// (nothing is stored). With nobody to assign, fails and stores nothing.
pub fn begin(
    tx: &Tx<'_>,
    assignable: &assign::AssignableUsers,
    now: DateTime<Utc>,
    chunk: usize,
) -> Result<Option<Progress>> {
    let Some(up_to) = store::newest_open_task(tx)? else {
        return Ok(None);
    };
    if assignable.get(tx)?.is_empty() {
        return Err(no_assignees());
    }
    let progress = Progress {
        id: Uuid::now_v7(),
        assigned_at: now,
        up_to,
        done_through: None,
        reassigned: 0,
        finished: false,
        cut_short: false,
    };
    tx.prepare_cached(
        "INSERT INTO reshuffles (id, assigned_at, up_to, done_through, reassigned, finished_at)
         VALUES (?1, ?2, ?3, NULL, 0, NULL)",
    )?
    .execute(params![progress.id, Stamp(now), up_to])?;
    next_chunk(tx, assignable, progress, now, chunk).map(Some)
}

/// Reassigns the next chunk of `progress`'s tasks, and records how far it got (finished
/// once a chunk comes out short). `now` is the events' time.
pub fn next_chunk(
    tx: &Tx<'_>,
    assignable: &assign::AssignableUsers,
    mut progress: Progress,
    now: DateTime<Utc>,
    chunk: usize,
) -> Result<Progress> {
    let tasks = store::open_task_ids_between(tx, progress.done_through, progress.up_to, chunk)?;
    let assignable = assignable.get(tx)?;
    if assignable.is_empty() && !tasks.is_empty() {
        // Everyone was deactivated meanwhile: the rest cannot move. It ends here rather
        // than wait, unfinished, for a worker to come back.
        progress.finished = true;
        progress.cut_short = true;
        save(tx, &progress, now)?;
        return Ok(progress);
    }
    let mut rng = rand::rng();
    let mut reassigner = store::Reassigner::new(tx)?;
    let mut publisher = Publisher::new(tx)?;
    for task_id in &tasks {
        let assignee_id = assign::pick(&assignable, &mut rng).ok_or_else(no_assignees)?;
        reassigner.set(*task_id, assignee_id)?;
        publisher.publish(
            TaskAssigned {
                task_id: *task_id,
                assignee_id,
                assigned_at: progress.assigned_at,
            },
            now,
        )?;
    }
    progress.reassigned += tasks.len() as u64;
    progress.done_through = tasks.last().copied().or(progress.done_through);
    progress.finished = tasks.len() < chunk;
    save(tx, &progress, now)?;
    Ok(progress)
}

/// The reshuffle a crash cut short, if any (there is at most one: they run one at a time,
/// and each finishes the one before it first).
pub fn unfinished(conn: &Connection) -> rusqlite::Result<Option<Progress>> {
    conn.prepare_cached(
        "SELECT id, assigned_at, up_to, done_through, reassigned FROM reshuffles
         WHERE finished_at IS NULL ORDER BY id LIMIT 1",
    )?
    .query_row([], |r| {
        Ok(Progress {
            id: r.get(0)?,
            assigned_at: crate::db::timestamp(r, 1)?,
            up_to: r.get(2)?,
            done_through: r.get(3)?,
            reassigned: r.get::<_, i64>(4)?.max(0) as u64,
            finished: false,
            cut_short: false,
        })
    })
    .optional()
}

fn save(tx: &Tx<'_>, progress: &Progress, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE reshuffles SET done_through = ?2, reassigned = ?3, finished_at = ?4 WHERE id = ?1",
    )?
    .execute(params![
        progress.id,
        progress.done_through,
        progress.reassigned as i64,
        progress.finished.then_some(Stamp(now)),
    ])?;
    Ok(())
}

/// The error for a reshuffle that ended early, `reassigned` tasks in.
pub fn cut_short(reassigned: u64) -> Error {
    Error::conflict(
        "no_assignees",
        format!(
            "nobody can take a task any more (no active worker or accountant): the reshuffle \
             stopped after reassigning {reassigned} tasks"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{SharedClock, SystemClock};
    use crate::db::{Db, DbError};
    use crate::tracker::Tracker;
    use crate::tracker::store::UserCopy;
    use ates_shared::Role;
    use ates_shared::api::NewTask;
    use std::sync::Arc;

    struct Board {
        tracker: Tracker,
        db: Db,
        _dir: tempfile::TempDir,
    }

    /// A tracker with `workers` active workers, reshuffling `chunk` tasks per transaction.
    async fn board(workers: usize, chunk: usize) -> Board {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), "tracker", &store::migrations()).unwrap();
        for i in 0..workers {
            let user = UserCopy {
                id: Uuid::now_v7(),
                username: format!("worker{i}"),
                role: Role::Worker,
                active: true,
                version: 1,
                access_version: 1,
            };
            db.write(move |tx| store::upsert_user(tx, &user).map_err(DbError::from))
                .await
                .unwrap();
        }
        let clock: SharedClock = Arc::new(SystemClock);
        let tracker = Tracker::new(db.clone(), clock).with_reshuffle_chunk(chunk);
        Board {
            tracker,
            db,
            _dir: dir,
        }
    }

    impl Board {
        async fn create(&self, n: usize) -> Vec<Uuid> {
            let mut ids = Vec::new();
            for i in 0..n {
                let task = self
                    .tracker
                    .create_task(NewTask {
                        title: format!("task {i}"),
                        jira_id: None,
                        description: None,
                    })
                    .await
                    .unwrap();
                ids.push(task.id);
            }
            ids
        }

        /// How many `TaskAssigned` each of `tasks` has in the outbox.
        async fn assignments(&self, tasks: &[Uuid]) -> Vec<i64> {
            let tasks = tasks.to_vec();
            self.db
                .read(move |conn| {
                    tasks
                        .iter()
                        .map(|id| {
                            conn.query_row(
                                "SELECT count(*) FROM outbox WHERE event_name = 'TaskAssigned'
                                 AND json_extract(data, '$.task_id') = ?1",
                                [id.to_string()],
                                |r| r.get(0),
                            )
                            .map_err(DbError::from)
                        })
                        .collect::<Result<Vec<i64>, DbError>>()
                })
                .await
                .unwrap()
        }

        async fn rows(&self) -> Vec<(i64, bool)> {
            self.db
                .read(|conn| {
                    let mut stmt = conn.prepare(
                        "SELECT reassigned, finished_at IS NOT NULL FROM reshuffles ORDER BY id",
                    )?;
                    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    Ok::<_, DbError>(rows.collect::<rusqlite::Result<Vec<_>>>()?)
                })
                .await
                .unwrap()
        }

        /// Deactivates every user, as auth's events would in the tracker's copy.
        async fn deactivate_everyone(&self) {
            self.db
                .write(|tx| {
                    tx.execute("UPDATE users SET active = 0", [])?;
                    tx.execute("UPDATE users_version SET token = token + 1", [])?;
                    Ok::<_, DbError>(())
                })
                .await
                .unwrap();
        }

        /// Begins a reshuffle and stops after its first chunk, as a crash would.
        async fn begin_only(&self, chunk: usize) -> Progress {
            let assignable = Arc::new(assign::AssignableUsers::default());
            self.db
                .write_exclusive(move |tx| begin(tx, &assignable, Utc::now(), chunk))
                .await
                .unwrap()
                .expect("open tasks")
        }
    }

    #[tokio::test]
    async fn every_open_task_is_reassigned_once_across_chunks() {
        let board = board(3, 3).await;
        let tasks = board.create(10).await;
        let result = board.tracker.reshuffle().await.unwrap();
        assert_eq!(result.reassigned, 10);
        // Its creation's assignment, and the reshuffle's.
        assert_eq!(board.assignments(&tasks).await, vec![2; 10]);
        assert_eq!(board.rows().await, vec![(10, true)]);
    }

    #[tokio::test]
    async fn chunks_start_at_an_eighth_and_double_up_to_the_full_size() {
        let board = board(1, 25_000).await;
        let sizes: Vec<usize> = [0, 3_125, 6_250, 12_500, 25_000, 50_000, 75_000]
            .into_iter()
            .map(|done| board.tracker.chunk_after(done))
            .collect();
        assert_eq!(sizes, [3_125, 3_125, 6_250, 12_500, 25_000, 25_000, 25_000]);
        let tiny = board.tracker.clone().with_reshuffle_chunk(3);
        assert_eq!(tiny.chunk_after(0), 1);
    }

    #[tokio::test]
    async fn a_reshuffle_cut_short_is_finished_at_start_up_and_nothing_twice() {
        let board = board(3, 4).await;
        let tasks = board.create(10).await;
        let first = board.begin_only(4).await;
        assert_eq!((first.reassigned, first.finished), (4, false));
        assert_eq!(board.rows().await, vec![(4, false)]);

        let finished = board.tracker.finish_interrupted_reshuffle().await.unwrap();
        assert_eq!(finished.map(|r| r.reassigned), Some(10));
        assert_eq!(board.assignments(&tasks).await, vec![2; 10]);
        assert_eq!(board.rows().await, vec![(10, true)]);
        // Nothing is left to finish.
        let again = board.tracker.finish_interrupted_reshuffle().await.unwrap();
        assert_eq!(again, None);
    }

    #[tokio::test]
    async fn a_new_reshuffle_first_finishes_the_one_cut_short() {
        let board = board(2, 4).await;
        let tasks = board.create(6).await;
        board.begin_only(4).await;
        let result = board.tracker.reshuffle().await.unwrap();
        assert_eq!(result.reassigned, 6);
        assert_eq!(board.assignments(&tasks).await, vec![3; 6]);
        assert_eq!(board.rows().await, vec![(6, true), (6, true)]);
    }

    #[tokio::test]
    async fn tasks_done_or_created_meanwhile_are_not_moved() {
        let board = board(2, 4).await;
        let tasks = board.create(10).await;
        board.begin_only(4).await;
        // Between chunks: one of the rest is completed, and a task is created.
        let done = tasks[7];
        board
            .db
            .write(move |tx| store::mark_done(tx, done, Utc::now()).map_err(DbError::from))
            .await
            .unwrap();
        let created = board.create(1).await;

        let finished = board.tracker.finish_interrupted_reshuffle().await.unwrap();
        assert_eq!(finished.map(|r| r.reassigned), Some(9));
        let mut expected = vec![2; 10];
        expected[7] = 1;
        assert_eq!(board.assignments(&tasks).await, expected);
        assert_eq!(board.assignments(&created).await, vec![1]);
    }

    #[tokio::test]
    async fn nothing_open_or_nobody_to_assign_stores_nothing() {
        let empty = board(2, 4).await;
        assert_eq!(empty.tracker.reshuffle().await.unwrap().reassigned, 0);
        assert_eq!(empty.rows().await, vec![]);

        let board = board(1, 4).await;
        let tasks = board.create(3).await;
        board.deactivate_everyone().await;
        let refused = board.tracker.reshuffle().await.unwrap_err();
        assert!(
            refused.to_string().contains("nobody can take a task"),
            "{refused}"
        );
        assert_eq!(board.rows().await, vec![]);
        assert_eq!(board.assignments(&tasks).await, vec![1; 3]);
    }

    #[tokio::test]
    async fn everyone_leaving_between_chunks_ends_it_early_with_an_error() {
        let board = board(1, 2).await;
        let tasks = board.create(5).await;
        board.begin_only(2).await;
        board.deactivate_everyone().await;
        let error = board
            .tracker
            .finish_interrupted_reshuffle()
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("after reassigning 2 tasks"),
            "{error}"
        );
        assert_eq!(board.rows().await, vec![(2, true)]);
        assert_eq!(board.assignments(&tasks).await, vec![2, 2, 1, 1, 1]);
    }
}
