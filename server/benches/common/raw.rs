//! Bare rusqlite doing the same writes aTES does, at the same settings: the baselines the
//! benchmarks print aTES's figures beside.

use rusqlite::{Connection, params};
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A connection with aTES's settings: WAL, the given `synchronous`, the writer's page cache.
pub fn connection(path: &Path, synchronous: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "cache_size", -ates_server::db::WRITER_CACHE_KIB)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS tasks (
            id BLOB PRIMARY KEY, title TEXT NOT NULL, jira_id TEXT, description TEXT NOT NULL,
            status TEXT NOT NULL, assignee_id BLOB NOT NULL, created_at TEXT NOT NULL, completed_at TEXT);
         CREATE INDEX IF NOT EXISTS tasks_by_assignee ON tasks (assignee_id, id);
         CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, id);
         CREATE TABLE IF NOT EXISTS outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id BLOB NOT NULL UNIQUE, event_name TEXT NOT NULL,
            event_version INTEGER NOT NULL, event_time TEXT NOT NULL, producer TEXT NOT NULL, data TEXT NOT NULL);",
    )?;
    Ok(conn)
}

/// Bare rusqlite reshuffling `tasks` open tasks over `users` workers: one UPDATE and one
/// outbox INSERT per task, in one transaction, again and again on the same tables (as aTES
/// reshuffles its own, its log growing each time).
pub struct RawReshuffles {
    conn: Connection,
    user_ids: Vec<Uuid>,
    task_ids: Vec<Uuid>,
}

impl RawReshuffles {
    /// A database of its own in `dir` holding the open tasks.
    pub fn seed(
        dir: &Path,
        synchronous: &str,
        tasks: usize,
        users: usize,
    ) -> rusqlite::Result<RawReshuffles> {
        let mut conn = connection(&dir.join("baseline-reshuffle.db"), synchronous)?;
        let user_ids: Vec<Uuid> = (0..users).map(|_| Uuid::now_v7()).collect();
        let task_ids: Vec<Uuid> = (0..tasks).map(|_| Uuid::now_v7()).collect();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_at)
                 VALUES (?1, ?2, NULL, '', 'open', ?3, ?4)",
            )?;
            for (i, id) in task_ids.iter().enumerate() {
                insert.execute(params![
                    id,
                    format!("task {i}"),
                    user_ids[i % users],
                    chrono::Utc::now()
                ])?;
            }
        }
        tx.commit()?;
        // Copied into the database now, as a server at rest has it: not during a round.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(RawReshuffles {
            conn,
            user_ids,
            task_ids,
        })
    }

    /// One reshuffle; returns the time of its transaction.
    pub fn round(&mut self) -> rusqlite::Result<Duration> {
        use rand::RngExt;
        let started = Instant::now();
        let tx = self.conn.transaction()?;
        {
            let mut rng = rand::rng();
            let mut update = tx.prepare("UPDATE tasks SET assignee_id = ?2 WHERE id = ?1")?;
            let mut outbox = tx.prepare(
                "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
                 VALUES (?1, 'TaskAssigned', 1, ?2, 'tracker', ?3)",
            )?;
            let now = chrono::Utc::now();
            for id in &self.task_ids {
                let assignee = self.user_ids[rng.random_range(0..self.user_ids.len())];
                update.execute(params![id, assignee])?;
                let data = format!(
                    r#"{{"task_id":"{id}","assignee_id":"{assignee}","assigned_at":"{}"}}"#,
                    now.to_rfc3339()
                );
                outbox.execute(params![Uuid::now_v7(), now, data])?;
            }
        }
        tx.commit()?;
        let elapsed = started.elapsed();
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(elapsed)
    }
}

/// One raw reshuffle of `tasks` freshly seeded open tasks: the time of its transaction.
pub fn reshuffle(
    dir: &Path,
    synchronous: &str,
    tasks: usize,
    users: usize,
) -> rusqlite::Result<Duration> {
    RawReshuffles::seed(dir, synchronous, tasks, users)?.round()
}

/// `rows` tasks, each with its outbox row, one transaction each: what `POST /tasks` writes.
pub fn one_row_per_commit(
    dir: &Path,
    synchronous: &str,
    rows: usize,
) -> rusqlite::Result<Duration> {
    let mut conn = connection(
        &dir.join(format!("baseline-commits-{synchronous}.db")),
        synchronous,
    )?;
    let assignee = Uuid::now_v7();
    let started = Instant::now();
    for i in 0..rows {
        let tx = conn.transaction()?;
        let id = Uuid::now_v7();
        let now = chrono::Utc::now();
        tx.execute(
            "INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_at)
             VALUES (?1, ?2, NULL, '', 'open', ?3, ?4)",
            params![id, format!("task {i}"), assignee, now],
        )?;
        tx.execute(
            "INSERT INTO outbox (event_id, event_name, event_version, event_time, producer, data)
             VALUES (?1, 'TaskCreated', 2, ?2, 'tracker', ?3)",
            params![
                Uuid::now_v7(),
                now,
                format!(r#"{{"task_id":"{id}","title":"task {i}"}}"#)
            ],
        )?;
        tx.commit()?;
    }
    Ok(started.elapsed())
}
