//! The task tracker: tasks, random assignment, reshuffles and completion. It learns about
//! users only from auth's events (`users_copy`) and publishes `TaskCreated`,
//! `TaskAssigned` and `TaskCompleted` for accounting and analytics.

pub mod access;
pub mod assign;
mod page_json;
pub mod reshuffle;
pub mod routes;
pub mod store;
pub mod users_copy;
mod validate;

use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use crate::error::{Error, Result};
use crate::events::Outbox;
use crate::http::etag::KnownTags;
use crate::http::extract::Caller;
use crate::paging::PageRequest;
use ates_shared::api::{NewTask, Page, ReshuffleResult, Task, TaskCounts, TaskStatus};
use ates_shared::events::tracker::{TaskAssigned, TaskCompleted, TaskCreated};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Clone)]
pub struct Tracker {
    db: Db,
    clock: SharedClock,
    assignable: Arc<assign::AssignableUsers>,
    /// The tags of the lists and tasks served, so an unchanged refetch is a 304 with no read.
    pub known_tags: Arc<KnownTags>,
    /// Held by the reshuffle running: they run one at a time.
    reshuffling: Arc<tokio::sync::Mutex<()>>,
    /// The most tasks per transaction of a reshuffle ([`reshuffle::CHUNK`]; fewer in tests).
    reshuffle_chunk: usize,
}

/// Whose tasks to list.
#[derive(Debug, Clone, Copy)]
pub enum AssigneeFilter {
    Anyone,
    User(Uuid),
}

impl AssigneeFilter {
    fn user(self) -> Option<Uuid> {
        match self {
            AssigneeFilter::Anyone => None,
            AssigneeFilter::User(id) => Some(id),
        }
    }
}

/// Whether a list's `q` asks for a search (an empty one does not).
fn is_search(search: &Option<String>) -> bool {
    search.as_deref().is_some_and(|s| !s.is_empty())
}

fn no_assignees() -> Error {
    Error::conflict(
        "no_assignees",
        "nobody can take a task: there is no active worker or accountant",
    )
}

impl Tracker {
    pub fn new(db: Db, clock: SharedClock) -> Tracker {
        Tracker {
            known_tags: KnownTags::new(db.commits()),
            db,
            clock,
            assignable: Arc::default(),
            reshuffling: Arc::default(),
            reshuffle_chunk: reshuffle::CHUNK,
        }
    }

    /// The same tracker, reshuffling `tasks` per transaction (tests cross chunk boundaries
    /// with a few tasks).
    pub fn with_reshuffle_chunk(mut self, tasks: usize) -> Tracker {
        self.reshuffle_chunk = tasks.max(1);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stores a new open task, assigned at once to a random assignable user. With nobody
    /// to assign, nothing is stored.
    pub async fn create_task(&self, new: NewTask) -> Result<Task> {
        let new = validate::new_task(new)?;
        let now = self.clock.now();
        let assignable = self.assignable.clone();
        self.db
            .write(move |tx| {
                let assignable = assignable.get(tx)?;
                let assignee_id =
                    assign::pick(&assignable, &mut rand::rng()).ok_or_else(no_assignees)?;
                let id = Uuid::now_v7();
                store::insert_task(
                    tx,
                    &store::NewTaskRow {
                        id,
                        title: &new.title,
                        jira_id: new.jira_id.as_deref(),
                        description: &new.description,
                        assignee_id,
                        created_at: now,
                    },
                )?;
                Outbox::publish(
                    tx,
                    TaskCreated {
                        task_id: id,
                        title: new.title,
                        jira_id: new.jira_id,
                        description: new.description,
                        created_at: now,
                    },
                    now,
                )?;
                Outbox::publish(
                    tx,
                    TaskAssigned {
                        task_id: id,
                        assignee_id,
                        assigned_at: now,
                    },
                    now,
                )?;
                store::task_by_id(tx, id)?
                    .ok_or_else(|| Error::Internal(anyhow::anyhow!("task {id} vanished")))
            })
            .await
    }

    pub async fn counts(&self) -> Result<TaskCounts> {
        let (open, done) = self
            .db
            .read(|conn| store::counts(conn).map_err(DbError::from))
            .await?;
        Ok(TaskCounts { open, done })
    }

    pub async fn get_task(&self, id: Uuid) -> Result<Task> {
        self.db
            .read_inline(move |conn| store::task_by_id(conn, id).map_err(DbError::from))
            .await?
            .ok_or_else(|| Error::NotFound(format!("no task with id {id}")))
    }

    pub async fn list_tasks(
        &self,
        status: Option<TaskStatus>,
        assignee: AssigneeFilter,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Task>> {
        let assignee = assignee.user();
        self.read_list(is_search(&search), move |conn| {
            store::page_of_tasks(conn, status, assignee, search.as_deref(), page)
        })
        .await
    }

    /// [`Tracker::list_tasks`] as the JSON of its page: the same bytes, written straight
    /// from the rows (see `page_json`), or from the page built as values if a row is in a
    /// form the fast writer does not take.
    pub async fn list_tasks_json(
        &self,
        status: Option<TaskStatus>,
        assignee: AssigneeFilter,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Vec<u8>> {
        let assignee = assignee.user();
        self.read_list(is_search(&search), move |conn| {
            let search = search.as_deref();
            if let Some(json) = store::list_tasks_json(conn, status, assignee, search, page)? {
                return Ok(json);
            }
            let values = store::page_of_tasks(conn, status, assignee, search, page)?;
            Ok(serde_json::to_vec(&values).expect("a page serializes"))
        })
        .await
    }

    /// Runs a read of a list: a page walks an index, here and now; a search may scan
    /// every task, so it runs elsewhere.
    async fn read_list<T: Send + 'static>(
        &self,
        searching: bool,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let read = move |conn: &rusqlite::Connection| read(conn).map_err(DbError::from);
        if searching {
            Ok(self.db.read(read).await?)
        } else {
            Ok(self.db.read_inline(read).await?)
        }
    }

    /// Only the assignee may complete a task, and only once.
    pub async fn complete_task(&self, id: Uuid, caller: &Caller) -> Result<Task> {
        let now = self.clock.now();
        let caller_id = caller.id;
        self.db
            .write(move |tx| {
                let task = store::task_by_id(tx, id)?
                    .ok_or_else(|| Error::NotFound(format!("no task with id {id}")))?;
                if task.assignee.id != caller_id {
                    return Err(Error::Forbidden(
                        "only the task's assignee may complete it".into(),
                    ));
                }
                if task.status == TaskStatus::Done {
                    return Err(Error::conflict("already_done", "the task is already done"));
                }
                store::mark_done(tx, id, now)?;
                Outbox::publish(
                    tx,
                    TaskCompleted {
                        task_id: id,
                        assignee_id: caller_id,
                        completed_at: now,
                    },
                    now,
                )?;
                store::task_by_id(tx, id)?
                    .ok_or_else(|| Error::Internal(anyhow::anyhow!("task {id} vanished")))
            })
            .await
    }

    /// Gives every open task to a random assignable user (possibly the same one again), one
    /// `TaskAssigned` per task, in chunks of transactions (see [`reshuffle`]). Done tasks
    /// never move. Answers once the last chunk has committed; a caller that goes away
    /// meanwhile does not stop it.
    pub async fn reshuffle(&self) -> Result<ReshuffleResult> {
        let tracker = self.clone();
        tokio::spawn(async move {
            let _turn = tracker.reshuffling.clone().lock_owned().await;
            // One a crash cut short is finished first, as if it had not been interrupted.
            tracker.finish_unfinished().await?;
            let (now, chunk) = (tracker.clock.now(), tracker.chunk_after(0));
            let assignable = tracker.assignable.clone();
            let begun = tracker
                .db
                .write_exclusive(move |tx| reshuffle::begin(tx, &assignable, now, chunk))
                .await?;
            match begun {
                Some(progress) => outcome(tracker.reshuffle_from(progress).await?),
                None => Ok(ReshuffleResult { reassigned: 0 }),
            }
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("the reshuffle stopped: {e}")))?
    }

    /// Finishes a reshuffle that a crash cut short, if there is one (at start-up).
    pub async fn finish_interrupted_reshuffle(&self) -> Result<Option<ReshuffleResult>> {
        let _turn = self.reshuffling.lock().await;
        self.finish_unfinished().await?.map(outcome).transpose()
    }

    /// Runs to its end a reshuffle a crash cut short, if there is one.
    async fn finish_unfinished(&self) -> Result<Option<reshuffle::Progress>> {
        let unfinished = self
            .db
            .read(|conn| Ok::<_, Error>(reshuffle::unfinished(conn)?))
            .await?;
        let Some(progress) = unfinished else {
            return Ok(None);
        };
        tracing::info!(reshuffle = %progress.id, reassigned = progress.reassigned, "finishing a reshuffle cut short");
        self.reshuffle_from(progress).await.map(Some)
    }

    /// The size of a reshuffle's next chunk once `reassigned` tasks are done: an eighth of
    /// the full size first, so that accounting starts billing within milliseconds, then
    /// doubling.
    fn chunk_after(&self, reassigned: u64) -> usize {
        let first = (self.reshuffle_chunk / 8).max(1);
        usize::try_from(reassigned)
            .unwrap_or(usize::MAX)
            .clamp(first, self.reshuffle_chunk)
    }

    /// Runs the chunks of `progress` until it is finished.
    async fn reshuffle_from(
        &self,
        mut progress: reshuffle::Progress,
    ) -> Result<reshuffle::Progress> {
        while !progress.finished {
            let (now, chunk) = (self.clock.now(), self.chunk_after(progress.reassigned));
            let assignable = self.assignable.clone();
            progress = self
                .db
                .write_exclusive(move |tx| {
                    reshuffle::next_chunk(tx, &assignable, progress, now, chunk)
                })
                .await?;
        }
        Ok(progress)
    }
}

/// What the caller of a finished reshuffle hears.
fn outcome(progress: reshuffle::Progress) -> Result<ReshuffleResult> {
    if progress.cut_short {
        return Err(reshuffle::cut_short(progress.reassigned));
    }
    Ok(ReshuffleResult {
        reassigned: progress.reassigned,
    })
}
