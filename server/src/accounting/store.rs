//! The accounting context's tables. Built only from events: its own copy of the users and
//! tasks, the ledger (append-only), balances, closed days and payments.

use crate::db::{Day, Stamp, Tx};
use crate::events::tables::EVENT_TABLES;
use ates_shared::Role;
use ates_shared::api::{Account, Entry, EntryKind, EntryTask, UserRef};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};
use std::collections::HashMap;
use uuid::Uuid;

/// The tables that make the read model, replaced by a rebuild. `payments` is rebuilt too,
/// but keeps each payment's e-mail state (see `replay::SWAP_PAYMENTS`); `meta` (the price
/// seed) and the event tables are never rebuilt.
pub const MODEL_TABLES: &[&str] = &[
    "users",
    "tasks",
    "ledger_owners",
    "ledger",
    "accounts",
    "closed_days",
];

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(EVENT_TABLES),
        M::up(
            "CREATE TABLE meta (
                key   TEXT PRIMARY KEY,
                value BLOB NOT NULL
            );
            CREATE TABLE users (
                id        BLOB    PRIMARY KEY,
                username  TEXT    NOT NULL,
                full_name TEXT    NOT NULL,
                email     TEXT    NOT NULL,
                role      TEXT    NOT NULL,
                active    INTEGER NOT NULL
            );
            -- Prices are fixed the first time any event names the task; title and jira id
            -- arrive with TaskCreated, whenever that is.
            CREATE TABLE tasks (
                id           BLOB    PRIMARY KEY,
                title        TEXT,
                jira_id      TEXT,
                fee_cents    INTEGER NOT NULL,
                reward_cents INTEGER NOT NULL
            );
            -- Append-only. `event_id` is the event that caused the row (none for payouts).
            CREATE TABLE ledger (
                id           BLOB    PRIMARY KEY,
                user_id      BLOB    NOT NULL,
                task_id      BLOB,
                kind         TEXT    NOT NULL,
                amount_cents INTEGER NOT NULL,
                billing_date TEXT    NOT NULL,
                at           TEXT    NOT NULL,
                event_id     BLOB
            );
            CREATE INDEX ledger_by_user ON ledger (user_id, id);
            CREATE INDEX ledger_by_date ON ledger (billing_date, kind);
            CREATE INDEX ledger_by_task ON ledger (task_id, kind);
            CREATE TABLE accounts (
                user_id       BLOB    PRIMARY KEY,
                balance_cents INTEGER NOT NULL
            );
            CREATE TABLE closed_days (
                date      TEXT PRIMARY KEY,
                closed_at TEXT NOT NULL
            );
            -- One per payout; the e-mail is sent after the close commits and retried until it goes.
            CREATE TABLE payments (
                id              BLOB    PRIMARY KEY,
                user_id         BLOB    NOT NULL,
                date            TEXT    NOT NULL,
                amount_cents    INTEGER NOT NULL,
                created_at      TEXT    NOT NULL,
                mail_status     TEXT    NOT NULL DEFAULT 'pending',
                mail_attempts   INTEGER NOT NULL DEFAULT 0,
                mail_error      TEXT,
                next_attempt_at TEXT    NOT NULL,
                mailed_at       TEXT
            );
            CREATE INDEX payments_to_mail ON payments (mail_status, next_attempt_at);",
        ),
        // A user copy only moves forward (see `UserCreated::version`); rows from before
        // versions existed are version 0.
        M::up(
            "ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE users ADD COLUMN access_version INTEGER NOT NULL DEFAULT 0;",
        ),
        M::up(crate::events::tables::DEAD_LETTER_RESOLUTION),
        M::up(crate::events::tables::TRANSPORT_TABLES),
        // Keyed by their ids (`WITHOUT ROWID`): a rowid table with a BLOB primary key is
        // two B-trees, so every fee row was one insert more and every price lookup one
        // search more than needed. The same columns in the same order (rebuilds copy
        // tables with `SELECT *`).
        M::up(KEYED_TABLES),
        M::up(crate::events::tables::OUTBOX_WITHOUT_AUTOINCREMENT),
        M::up(LEDGER_OWNERS),
        M::up(crate::events::tables::INBOX_BY_BATCH),
    ])
}

/// The version of the schema once [`KEYED_TABLES`] ran (rusqlite_migration counts from 1).
#[cfg(test)]
pub(crate) const KEYED_TABLES_VERSION: usize = 6;

/// The version of the schema once [`LEDGER_OWNERS`] ran.
#[cfg(test)]
pub(crate) const LEDGER_OWNERS_VERSION: usize = 8;

/// `ledger_by_user` was the costliest part of billing a reshuffle: each fee lands at the end
/// of its worker's entries, a thousand places at once, so every 8000-fee batch rewrites
/// about a thousand of its leaves (a model of the batches: 1.55 s of CPU and 222 MB of WAL
/// per 100k fees with it, 1.0 s and 94 MB without). Keeping the rows themselves in
/// `(user_id, id)` order instead, with a unique index on `id`, was measured worse in the
/// server: 2.5 times the WAL and a reshuffle settling in 4.4-5.0 s instead of 3.2-3.8 s.
/// [`LEDGER_OWNERS`] later made that index's entries smaller.
const KEYED_TABLES: &str = "
CREATE TABLE ledger_keyed (
    id           BLOB    PRIMARY KEY,
    user_id      BLOB    NOT NULL,
    task_id      BLOB,
    kind         TEXT    NOT NULL,
    amount_cents INTEGER NOT NULL,
    billing_date TEXT    NOT NULL,
    at           TEXT    NOT NULL,
    event_id     BLOB
) WITHOUT ROWID;
INSERT INTO ledger_keyed SELECT id, user_id, task_id, kind, amount_cents, billing_date, at, event_id FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_keyed RENAME TO ledger;
CREATE INDEX ledger_by_user ON ledger (user_id, id);
CREATE INDEX ledger_by_date ON ledger (billing_date, kind);
CREATE INDEX ledger_by_task ON ledger (task_id, kind);
CREATE TABLE tasks_keyed (
    id           BLOB    PRIMARY KEY,
    title        TEXT,
    jira_id      TEXT,
    fee_cents    INTEGER NOT NULL,
    reward_cents INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tasks_keyed SELECT id, title, jira_id, fee_cents, reward_cents FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_keyed RENAME TO tasks;
CREATE TABLE accounts_keyed (
    user_id       BLOB    PRIMARY KEY,
    balance_cents INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO accounts_keyed SELECT user_id, balance_cents FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_keyed RENAME TO accounts;
";

/// Each worker's rows are found through a small number of theirs, not their 16-byte id:
/// `ledger_by_owner (owner, id)` replaces `ledger_by_user (user_id, id)`. Every fee still
/// lands at the end of its worker's entries, a thousand places per batch, but the entries
/// are about half the size (fewer leaf splits, each redistributing three pages) and most
/// comparisons on the way down are of integers, not `memcmp`s of ids. Measured on 100k
/// reshuffles, alternating, 24 rounds each: accounting's writer 5 % less CPU, its
/// checkpointer 11 % less, settled 4 % sooner (1.77 s -> 1.70 s). (A trial build that
/// gave every worker the same number, so all fees appended at one place, took a quarter
/// off the writer: the thousand places, not the size of a key, are most of this index's
/// cost.)
/// `user_id` stays in each row: every reader and export reads it, and rebuilds copy the
/// rows as they are. Numbers are given in the order workers first appear (existing
/// workers here in id order); they mean nothing outside this database, and a rebuild may
/// number them differently, together with its rows.
const LEDGER_OWNERS: &str = "
CREATE TABLE ledger_owners (
    owner   INTEGER PRIMARY KEY,
    user_id BLOB    NOT NULL UNIQUE
);
INSERT INTO ledger_owners (user_id) SELECT DISTINCT user_id FROM ledger ORDER BY user_id;
ALTER TABLE ledger ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;
UPDATE ledger SET owner = (SELECT o.owner FROM ledger_owners o WHERE o.user_id = ledger.user_id);
DROP INDEX ledger_by_user;
CREATE INDEX ledger_by_owner ON ledger (owner, id);
";

/// The rows of one user: through their owner number and `ledger_by_owner` (no number, no
/// rows).
const OWNED_BY: &str = "l.owner = (SELECT owner FROM ledger_owners WHERE user_id = ?1)";

// ---- meta ----

pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

pub fn set_meta_if_absent(tx: &Tx<'_>, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(())
}

// ---- users ----

pub struct UserCopy {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub version: u32,
    pub access_version: u32,
}

/// Stores the user unless the copy already holds a newer version of them.
pub fn upsert_user(tx: &Tx<'_>, u: &UserCopy) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO users (id, username, full_name, email, role, active, version, access_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, full_name = excluded.full_name,
             email = excluded.email, role = excluded.role, active = excluded.active,
             version = excluded.version, access_version = excluded.access_version
         WHERE excluded.version >= users.version",
    )?
    .execute(params![
        u.id,
        u.username,
        u.full_name,
        u.email,
        u.role.as_str(),
        u.active,
        u.version,
        u.access_version
    ])?;
    Ok(())
}

/// Name and e-mail of a user, when accounting has heard of them.
pub fn user_contact(
    conn: &Connection,
    id: Uuid,
) -> rusqlite::Result<Option<(String, String, String)>> {
    conn.prepare_cached("SELECT username, full_name, email FROM users WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

// ---- tasks and prices ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    pub fee_cents: i64,
    pub reward_cents: i64,
}

/// Stores `prices` for the task unless it already has some; returns the prices that hold.
/// The task's prices: those fixed before, or else `draw()`'s, stored now. Only the first
/// event naming a task draws (a keyed hash); every later one reads.
pub fn fix_prices(
    tx: &Tx<'_>,
    task_id: Uuid,
    draw: impl FnOnce() -> Prices,
) -> rusqlite::Result<Prices> {
    if let Some(prices) = fixed_prices(tx, task_id)? {
        return Ok(prices);
    }
    let prices = draw();
    tx.prepare_cached("INSERT INTO tasks (id, fee_cents, reward_cents) VALUES (?1, ?2, ?3)")?
        .execute(params![task_id, prices.fee_cents, prices.reward_cents])?;
    Ok(prices)
}

/// The task's prices, if they were fixed. Once fixed they never change, so a read outside
/// the writer's transaction may use them.
pub fn fixed_prices(conn: &Connection, task_id: Uuid) -> rusqlite::Result<Option<Prices>> {
    conn.prepare_cached("SELECT fee_cents, reward_cents FROM tasks WHERE id = ?1")?
        .query_row([task_id], |r| {
            Ok(Prices {
                fee_cents: r.get(0)?,
                reward_cents: r.get(1)?,
            })
        })
        .optional()
}

pub fn describe_task(
    tx: &Tx<'_>,
    task_id: Uuid,
    title: &str,
    jira_id: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE tasks SET title = ?2, jira_id = ?3 WHERE id = ?1")?
        .execute(params![task_id, title, jira_id])?;
    Ok(())
}

/// Whether the task's reward was already credited (a completion is paid once, ever).
pub fn reward_paid(conn: &Connection, task_id: Uuid) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM ledger WHERE task_id = ?1 AND kind = 'reward' LIMIT 1")?
        .query_row([task_id], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

// ---- days ----

pub fn is_closed(conn: &Connection, date: NaiveDate) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM closed_days WHERE date = ?1")?
        .query_row([Day(date)], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

/// The first day on or after `date` that is still open: rows dated on a closed day
/// belong to the next open one.
pub fn open_day_from(conn: &Connection, mut date: NaiveDate) -> rusqlite::Result<NaiveDate> {
    while is_closed(conn, date)? {
        date = date.succ_opt().unwrap_or(date);
    }
    Ok(date)
}

pub fn last_closed_day(conn: &Connection) -> rusqlite::Result<Option<NaiveDate>> {
    conn.query_row("SELECT max(date) FROM closed_days", [], |r| r.get(0))
}

pub fn mark_closed(tx: &Tx<'_>, date: NaiveDate, at: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO closed_days (date, closed_at) VALUES (?1, ?2)",
        params![date, at],
    )?;
    Ok(())
}

pub fn insert_payment(
    tx: &Tx<'_>,
    id: Uuid,
    user_id: Uuid,
    date: NaiveDate,
    amount_cents: i64,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO payments (id, user_id, date, amount_cents, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![id, user_id, date, amount_cents, at])?;
    Ok(())
}

// ---- ledger ----

pub struct NewRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub task_id: Option<Uuid>,
    pub kind: EntryKind,
    pub amount_cents: i64,
    pub billing_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub event_id: Option<Uuid>,
}

/// Appends a row and moves the balance by its amount, together.
pub fn append(tx: &Tx<'_>, row: &NewRow) -> rusqlite::Result<()> {
    insert_row(tx, row)?;
    move_balance(tx, row.user_id, row.amount_cents)
}

/// Appends a row to the ledger and nothing else: the caller moves the balance by its
/// amount in the same transaction (at once, or summed with others).
pub fn insert_row(tx: &Tx<'_>, row: &NewRow) -> rusqlite::Result<()> {
    RowWriter::new(tx)?.insert(row)
}

/// The ledger's insert, prepared once for the many rows of a consumer's batch (taking a
/// statement from the cache and giving it back hashes its text each time), with the owner
/// numbers it has looked up or given (see [`LEDGER_OWNERS`]): a batch of 16,000 fees over
/// a thousand workers looks each one up once. Kept no longer than the transaction, so a
/// number given in a transaction that rolls back is never used again.
pub struct RowWriter<'c> {
    insert: CachedStatement<'c>,
    find_owner: CachedStatement<'c>,
    add_owner: CachedStatement<'c>,
    owners: HashMap<Uuid, i64>,
}

impl<'c> RowWriter<'c> {
    pub fn new(tx: &'c Tx<'c>) -> rusqlite::Result<RowWriter<'c>> {
        Ok(RowWriter {
            insert: tx.prepare_cached(
                "INSERT INTO ledger (id, user_id, task_id, kind, amount_cents, billing_date, at, event_id, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            find_owner: tx.prepare_cached("SELECT owner FROM ledger_owners WHERE user_id = ?1")?,
            add_owner: tx.prepare_cached(
                "INSERT INTO ledger_owners (user_id) VALUES (?1) RETURNING owner",
            )?,
            owners: HashMap::new(),
        })
    }

    /// Appends a row, as [`insert_row`].
    pub fn insert(&mut self, row: &NewRow) -> rusqlite::Result<()> {
        let owner = self.owner(row.user_id)?;
        self.insert.execute(params![
            row.id,
            row.user_id,
            row.task_id,
            row.kind.as_str(),
            row.amount_cents,
            Day(row.billing_date),
            Stamp(row.at),
            row.event_id,
            owner
        ])?;
        Ok(())
    }

    /// The user's owner number, given now if this is their first row.
    fn owner(&mut self, user_id: Uuid) -> rusqlite::Result<i64> {
        if let Some(owner) = self.owners.get(&user_id) {
            return Ok(*owner);
        }
        let owner = match self
            .find_owner
            .query_row([user_id], |r| r.get(0))
            .optional()?
        {
            Some(owner) => owner,
            None => self.add_owner.query_row([user_id], |r| r.get(0))?,
        };
        self.owners.insert(user_id, owner);
        Ok(owner)
    }
}

/// Moves a user's balance by `amount_cents`, opening their account if they have none.
pub fn move_balance(tx: &Tx<'_>, user_id: Uuid, amount_cents: i64) -> rusqlite::Result<()> {
    // An update first: every account but a worker's first row exists, and an upsert
    // searches the key twice (once to find the conflict, once to update).
    let moved = tx
        .prepare_cached(
            "UPDATE accounts SET balance_cents = balance_cents + ?2 WHERE user_id = ?1",
        )?
        .execute(params![user_id, amount_cents])?;
    if moved == 0 {
        tx.prepare_cached("INSERT INTO accounts (user_id, balance_cents) VALUES (?1, ?2)")?
            .execute(params![user_id, amount_cents])?;
    }
    Ok(())
}

/// Each user's balance at the end of `date`: every row dated on or before it. Computed as
/// the current balance minus the (few) rows dated later, so it stays cheap on a long ledger.
pub fn positive_balances_at_end_of(
    conn: &Connection,
    date: NaiveDate,
) -> rusqlite::Result<Vec<(Uuid, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.user_id, a.balance_cents - coalesce(later.amount, 0) AS closing
         FROM accounts a
         LEFT JOIN (SELECT user_id, sum(amount_cents) AS amount FROM ledger WHERE billing_date > ?1 GROUP BY user_id) later
           ON later.user_id = a.user_id
         WHERE closing > 0
         ORDER BY a.user_id",
    )?;
    let rows = stmt.query_map([date], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A user's balance as committed. Inside a consumer's transaction the ledger's batch has
/// not written its summed moves yet (`ledger::Books`): no rule there may read it.
pub fn balance(conn: &Connection, user_id: Uuid) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT balance_cents FROM accounts WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()
        .map(|b| b.unwrap_or(0))
}

const ENTRY_SELECT: &str =
    "SELECT l.id, l.at, l.kind, l.amount_cents, l.task_id, t.title, t.jira_id, l.billing_date
     FROM ledger l LEFT JOIN tasks t ON t.id = l.task_id";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let kind: String = row.get(2)?;
    let task_id: Option<Uuid> = row.get(4)?;
    Ok(Entry {
        id: row.get(0)?,
        at: row.get(1)?,
        kind: match kind.as_str() {
            "fee" => EntryKind::Fee,
            "reward" => EntryKind::Reward,
            _ => EntryKind::Payout,
        },
        amount_cents: row.get(3)?,
        task: match task_id {
            Some(id) => Some(EntryTask {
                id,
                title: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
                jira_id: row.get(6)?,
            }),
            None => None,
        },
        date: row.get(7)?,
    })
}

/// [`entries`]' query: `?1` user, `?2` day or NULL, `?3` cursor or NULL, `?4` limit.
pub(crate) fn user_entries_sql() -> String {
    format!(
        "{ENTRY_SELECT} WHERE {OWNED_BY} AND (?2 IS NULL OR l.billing_date = ?2) AND (?3 IS NULL OR l.id < ?3)
         ORDER BY l.id DESC LIMIT ?4"
    )
}

/// A user's rows, newest first; `before` is the paging cursor; `date` limits to one day.
pub fn entries(
    conn: &Connection,
    user_id: Uuid,
    date: Option<NaiveDate>,
    before: Option<Uuid>,
    limit: i64,
) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(&user_entries_sql())?;
    let rows = stmt.query_map(params![user_id, date, before, limit], entry_from_row)?;
    rows.collect()
}

/// The columns `ledger_row_from` reads: a ledger row with its task and user.
const LEDGER_ROWS: &str =
    "SELECT l.id, l.at, l.kind, l.amount_cents, l.task_id, t.title, t.jira_id, l.billing_date,
            l.user_id, coalesce(u.username, '')
     FROM ledger l LEFT JOIN tasks t ON t.id = l.task_id LEFT JOIN users u ON u.id = l.user_id";

fn ledger_row_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<ates_shared::api::LedgerRow> {
    let entry = entry_from_row(row)?;
    Ok(ates_shared::api::LedgerRow {
        id: entry.id,
        user: UserRef {
            id: row.get(8)?,
            username: row.get(9)?,
        },
        at: entry.at,
        kind: entry.kind,
        amount_cents: entry.amount_cents,
        task: entry.task,
        date: entry.date,
    })
}

/// Every user's rows of the billing days `[from, to]` (or one user's), oldest first, after
/// the row `after`: the accountants' export.
pub fn ledger(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    user: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> rusqlite::Result<Vec<ates_shared::api::LedgerRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LEDGER_ROWS}
         WHERE l.billing_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR l.user_id = ?3)
           AND (?4 IS NULL OR l.id > ?4)
         ORDER BY l.id LIMIT ?5"
    ))?;
    let rows = stmt.query_map(params![from, to, user, after, limit], ledger_row_from)?;
    rows.collect()
}

/// Every row of one task, oldest first (ids are time-ordered).
pub fn task_ledger(
    conn: &Connection,
    task_id: Uuid,
) -> rusqlite::Result<Vec<ates_shared::api::LedgerRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("{LEDGER_ROWS} WHERE l.task_id = ?1 ORDER BY l.id"))?;
    let rows = stmt.query_map(params![task_id], ledger_row_from)?;
    rows.collect()
}

/// [`earned_on`]'s query: `?1` user, `?2` day.
pub(crate) fn earned_on_sql() -> String {
    format!(
        "SELECT coalesce(sum(amount_cents), 0) FROM ledger l
         WHERE {OWNED_BY} AND billing_date = ?2 AND kind IN ('fee', 'reward')"
    )
}

/// Sum of a user's fee and reward rows of one day.
pub fn earned_on(conn: &Connection, user_id: Uuid, date: NaiveDate) -> rusqlite::Result<i64> {
    conn.prepare_cached(&earned_on_sql())?
        .query_row(params![user_id, date], |r| r.get(0))
}

/// Company earnings per day in `[from, to]`: minus the sum of the day's fee and reward rows
/// (fees charged minus rewards paid). Days without rows are absent.
pub fn company_earnings(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> rusqlite::Result<Vec<(NaiveDate, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT billing_date, -sum(amount_cents) FROM ledger
         WHERE billing_date BETWEEN ?1 AND ?2 AND kind IN ('fee', 'reward')
         GROUP BY billing_date ORDER BY billing_date",
    )?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Workers (and accountants) and anyone else with a ledger, with balances, by user id.
pub fn accounts(
    conn: &Connection,
    after: Option<Uuid>,
    limit: i64,
) -> rusqlite::Result<Vec<Account>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, coalesce(a.balance_cents, 0)
         FROM users u LEFT JOIN accounts a ON a.user_id = u.id
         WHERE (u.role IN ('worker', 'accountant') OR a.user_id IS NOT NULL) AND (?1 IS NULL OR u.id > ?1)
         ORDER BY u.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(Account {
            user: UserRef {
                id: r.get(0)?,
                username: r.get(1)?,
            },
            balance_cents: r.get(2)?,
        })
    })?;
    rows.collect()
}
