//! The tracker's tables: tasks, and its own copy of the users (from auth's events).

use crate::db::Tx;
use crate::events::tables::EVENT_TABLES;
use ates_shared::Role;
use ates_shared::api::{Task, TaskStatus, UserRef};
use chrono::{DateTime, Utc};
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, ToSql, params};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(EVENT_TABLES),
        M::up(
            "CREATE TABLE users (
                id       BLOB    PRIMARY KEY,
                username TEXT    NOT NULL,
                role     TEXT    NOT NULL,
                active   INTEGER NOT NULL
            );
            CREATE TABLE tasks (
                id           BLOB PRIMARY KEY,
                title        TEXT NOT NULL,
                jira_id      TEXT,
                description  TEXT NOT NULL,
                status       TEXT NOT NULL,
                -- Always one of `users` (picked from it in the same transaction). No foreign
                -- key: its check and statement journal were a third of a reshuffle's time.
                assignee_id  BLOB NOT NULL,
                created_at   TEXT NOT NULL,
                completed_at TEXT
            );
            -- Changes (to a fresh random token) with every change to `users`, in the same
            -- transaction: the in-memory list of assignable users is reloaded when it moves.
            CREATE TABLE users_version (
                id    INTEGER PRIMARY KEY CHECK (id = 1),
                token INTEGER NOT NULL
            );
            INSERT INTO users_version (id, token) VALUES (1, 0);
            CREATE INDEX tasks_by_assignee ON tasks (assignee_id, status);
            CREATE INDEX tasks_by_status ON tasks (status);",
        ),
        // A user copy only moves forward (see `UserCreated::version`); rows from before
        // versions existed are version 0.
        M::up(
            "ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE users ADD COLUMN access_version INTEGER NOT NULL DEFAULT 0;",
        ),
        M::up(crate::events::tables::DEAD_LETTER_RESOLUTION),
        // Lists are newest first: with the id in the index a page is an index range, not
        // a sort of every matching task (1000 open tasks out of 100k: 207 ms before).
        M::up(
            "DROP INDEX tasks_by_assignee;
             CREATE INDEX tasks_by_assignee ON tasks (assignee_id, id);
             DROP INDEX tasks_by_status;
             CREATE INDEX tasks_by_status ON tasks (status, id);",
        ),
        M::up(crate::events::tables::TRANSPORT_TABLES),
        // A reshuffle runs in chunks; its row says how far it got (see `reshuffle`).
        M::up(
            "CREATE TABLE reshuffles (
                id           BLOB    PRIMARY KEY,
                assigned_at  TEXT    NOT NULL,
                -- The newest task open when it began: later ones are not its.
                up_to        BLOB    NOT NULL,
                -- The last task reassigned so far, in id order (none yet: NULL).
                done_through BLOB,
                reassigned   INTEGER NOT NULL,
                finished_at  TEXT
            ) WITHOUT ROWID;",
        ),
        M::up(crate::events::tables::OUTBOX_WITHOUT_AUTOINCREMENT),
        M::up(crate::events::tables::INBOX_BY_BATCH),
    ])
}

/// The tracker's copy of a user: only what assignment and display need.
#[derive(Debug, Clone, PartialEq)]
pub struct UserCopy {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub active: bool,
    pub version: u32,
    pub access_version: u32,
}

/// Stores the user unless the copy already holds a newer version of them.
pub fn upsert_user(tx: &Tx<'_>, user: &UserCopy) -> rusqlite::Result<()> {
    let changed = tx
        .prepare_cached(
            "INSERT INTO users (id, username, role, active, version, access_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET username = excluded.username, role = excluded.role,
                 active = excluded.active, version = excluded.version,
                 access_version = excluded.access_version
             WHERE excluded.version >= users.version",
        )?
        .execute(params![
            user.id,
            user.username,
            user.role.as_str(),
            user.active,
            user.version,
            user.access_version
        ])?;
    if changed > 0 {
        tx.prepare_cached("UPDATE users_version SET token = ?1 WHERE id = 1")?
            .execute([rand::random::<i64>()])?;
    }
    Ok(())
}

/// The token that changes with every change to `users`.
pub fn users_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT token FROM users_version WHERE id = 1")?
        .query_row([], |r| r.get(0))
}

/// Every user's role, active flag and access version, for the access check.
pub fn standings(
    conn: &Connection,
) -> rusqlite::Result<std::collections::HashMap<Uuid, super::access::Standing>> {
    let mut stmt = conn.prepare_cached("SELECT id, role, active, access_version FROM users")?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get(1)?;
        let role = role.parse().map_err(|e: ates_shared::role::UnknownRole| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
        })?;
        Ok((
            r.get(0)?,
            super::access::Standing {
                role,
                active: r.get(2)?,
                access_version: r.get(3)?,
            },
        ))
    })?;
    rows.collect()
}

/// The roles whose users may hold tasks, as stored.
const ASSIGNABLE: [&str; 2] = [Role::Worker.as_str_const(), Role::Accountant.as_str_const()];

/// Users a task may go to: active, and neither manager nor admin.
pub fn assignable_user_ids(conn: &Connection) -> rusqlite::Result<Vec<Uuid>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM users WHERE active = 1 AND role IN (?1, ?2) ORDER BY id")?;
    let rows = stmt.query_map(ASSIGNABLE, |r| r.get(0))?;
    rows.collect()
}

pub struct NewTaskRow<'a> {
    pub id: Uuid,
    pub title: &'a str,
    pub jira_id: Option<&'a str>,
    pub description: &'a str,
    pub assignee_id: Uuid,
    pub created_at: DateTime<Utc>,
}

pub fn insert_task(tx: &Tx<'_>, task: &NewTaskRow<'_>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_at)
         VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6)",
    )?
    .execute(params![
        task.id,
        task.title,
        task.jira_id,
        task.description,
        task.assignee_id,
        task.created_at
    ])?;
    Ok(())
}

/// The newest open task (ids are time-ordered): where a reshuffle beginning now ends.
pub fn newest_open_task(conn: &Connection) -> rusqlite::Result<Option<Uuid>> {
    conn.prepare_cached("SELECT max(id) FROM tasks WHERE status = 'open'")?
        .query_row([], |r| r.get(0))
}

/// Up to `limit` open tasks after `after` (from the first when `None`) up to `up_to`, in
/// id order: a range of `tasks_by_status`.
pub fn open_task_ids_between(
    conn: &Connection,
    after: Option<Uuid>,
    up_to: Uuid,
    limit: usize,
) -> rusqlite::Result<Vec<Uuid>> {
    // An empty blob sorts before every id.
    let after: Vec<u8> = after.map_or_else(Vec::new, |id| id.as_bytes().to_vec());
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM tasks WHERE status = 'open' AND id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![after, up_to, limit as i64], |r| r.get(0))?;
    rows.collect()
}

/// A reshuffle's update of assignees, prepared once for its chunk of tasks (taking a
/// statement from the cache hashes its text each time).
pub struct Reassigner<'c>(CachedStatement<'c>);

impl<'c> Reassigner<'c> {
    pub fn new(tx: &'c Tx<'c>) -> rusqlite::Result<Reassigner<'c>> {
        Ok(Reassigner(tx.prepare_cached(
            "UPDATE tasks SET assignee_id = ?2 WHERE id = ?1",
        )?))
    }

    pub fn set(&mut self, task_id: Uuid, assignee_id: Uuid) -> rusqlite::Result<()> {
        self.0.execute(params![task_id, assignee_id])?;
        Ok(())
    }
}

pub fn mark_done(tx: &Tx<'_>, task_id: Uuid, at: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE tasks SET status = 'done', completed_at = ?2 WHERE id = ?1")?
        .execute(params![task_id, at])?;
    Ok(())
}

const TASK_SELECT: &str =
    "SELECT t.id, t.title, t.jira_id, t.description, t.status, t.assignee_id, u.username,
        t.created_at, t.completed_at
     FROM tasks t JOIN users u ON u.id = t.assignee_id";

fn task_from_row(row: &Row<'_>) -> rusqlite::Result<Task> {
    let status: String = row.get(4)?;
    Ok(Task {
        id: row.get(0)?,
        title: row.get(1)?,
        jira_id: row.get(2)?,
        description: row.get(3)?,
        status: if status == "done" {
            TaskStatus::Done
        } else {
            TaskStatus::Open
        },
        assignee: UserRef {
            id: row.get(5)?,
            username: row.get(6)?,
        },
        created_at: crate::db::timestamp(row, 7)?,
        completed_at: crate::db::optional_timestamp(row, 8)?,
    })
}

pub fn task_by_id(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<Task>> {
    conn.prepare_cached(&format!("{TASK_SELECT} WHERE t.id = ?1"))?
        .query_row([id], task_from_row)
        .optional()
}

/// Tasks newest first, optionally filtered; `before` is the paging cursor.
pub fn list_tasks(
    conn: &Connection,
    status: Option<TaskStatus>,
    assignee: Option<Uuid>,
    search: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> rusqlite::Result<Vec<Task>> {
    let (sql, args) = list_query(status, assignee, search, before, limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), task_from_row)?;
    rows.collect()
}

/// [`list_tasks`] cut to the page `page` asks for, with its cursor.
pub fn page_of_tasks(
    conn: &Connection,
    status: Option<TaskStatus>,
    assignee: Option<Uuid>,
    search: Option<&str>,
    page: crate::paging::PageRequest,
) -> rusqlite::Result<ates_shared::api::Page<Task>> {
    let rows = list_tasks(conn, status, assignee, search, page.after, page.fetch())?;
    Ok(page.page(rows, |t| t.id))
}

/// [`page_of_tasks`] as the JSON of its page (see [`super::page_json`]); `None` when a row
/// was not in the form the fast writer takes.
pub fn list_tasks_json(
    conn: &Connection,
    status: Option<TaskStatus>,
    assignee: Option<Uuid>,
    search: Option<&str>,
    page: crate::paging::PageRequest,
) -> rusqlite::Result<Option<Vec<u8>>> {
    let (sql, args) = list_query(status, assignee, search, page.after, page.fetch());
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    super::page_json::write_page(&mut rows, page.limit as usize)
}

/// The SQL of [`list_tasks`] and its arguments.
fn list_query(
    status: Option<TaskStatus>,
    assignee: Option<Uuid>,
    search: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> (String, Vec<Box<dyn ToSql>>) {
    // Only the filters given become SQL, so SQLite can use the indexes for them.
    let mut clauses = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(search) = search.filter(|s| !s.is_empty()) {
        // A substring of the title, the Jira id or the assignee's username; `%` and `_`
        // are taken literally. SQLite's LIKE ignores case for ASCII letters.
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(Box::new(format!("%{escaped}%")));
        let n = args.len();
        clauses.push(format!(
            "(t.title LIKE ?{n} ESCAPE '\\' OR t.jira_id LIKE ?{n} ESCAPE '\\' OR u.username LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(status) = status {
        args.push(Box::new(status.as_str()));
        // With an assignee too (the client's My tasks), `+` keeps SQLite off the status
        // index: it walked every open task of the company checking the assignee (117 ms
        // with 100k open). Through the assignee's index it reads that worker's tasks
        // newest first until the page is full. An index on (assignee, status, id) would
        // make that exactly a page, but a reshuffle moves every open task in it: 1M took
        // 10.1 s instead of 6.3 s, every write waiting meanwhile.
        let plus = if assignee.is_some() { "+" } else { "" };
        clauses.push(format!("{plus}t.status = ?{}", args.len()));
    }
    if let Some(assignee) = assignee {
        args.push(Box::new(assignee));
        clauses.push(format!("t.assignee_id = ?{}", args.len()));
    }
    if let Some(before) = before {
        args.push(Box::new(before));
        clauses.push(format!("t.id < ?{}", args.len()));
    }
    args.push(Box::new(limit));
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "{TASK_SELECT} {filter} ORDER BY t.id DESC LIMIT ?{}",
        args.len()
    );
    (sql, args)
}

/// How many tasks are open and done.
pub fn counts(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    let count = |status: &str| -> rusqlite::Result<u64> {
        conn.prepare_cached("SELECT count(*) FROM tasks WHERE status = ?1")?
            .query_row([status], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    Ok((count("open")?, count("done")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How SQLite reads the tasks for a page: the `detail` of each step of the plan.
    fn plan(conn: &Connection, status: Option<TaskStatus>, assignee: bool, before: bool) -> String {
        let (sql, args) = list_query(
            status,
            assignee.then(Uuid::now_v7),
            None,
            before.then(Uuid::now_v7),
            50,
        );
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let details: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        details.join("; ")
    }

    /// Pages without a search are read on a request's own thread (`Db::read_inline`):
    /// each must walk an index in page order and stop once the page is full, never scan
    /// every task of the company or sort every match.
    #[test]
    fn every_page_without_a_search_is_an_index_range_in_page_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        for status in [None, Some(TaskStatus::Open), Some(TaskStatus::Done)] {
            for assignee in [false, true] {
                for before in [false, true] {
                    let plan = plan(&conn, status, assignee, before);
                    let index = match (status.is_some(), assignee) {
                        (false, false) => "sqlite_autoindex_tasks_1",
                        (true, false) => "tasks_by_status (",
                        (_, true) => "tasks_by_assignee (",
                    };
                    assert!(
                        plan.contains(index),
                        "{status:?} {assignee} {before}: {plan}"
                    );
                    assert!(!plan.contains("TEMP B-TREE"), "sorts: {plan}");
                }
            }
        }
    }
}
