//! The analytics context's tables, built only from events: task titles from the tracker's
//! log; money per day, balances and rewards from accounting's log (its `TransactionApplied`
//! facts, never re-decided here).

use crate::db::{Day, Tx};
use crate::events::tables::EVENT_TABLES;
use ates_shared::api::ExpensiveTask;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use std::collections::HashMap;
use uuid::Uuid;

/// The tables that make the read model: what a rebuild replaces, in one transaction.
pub const MODEL_TABLES: &[&str] = &["tasks", "company_days", "user_days", "balances", "rewards"];

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(EVENT_TABLES),
        M::up(
            "CREATE TABLE tasks (
                id      BLOB PRIMARY KEY,
                title   TEXT NOT NULL,
                jira_id TEXT
            );
            -- The company's earnings per billing day: fees charged minus rewards paid.
            CREATE TABLE company_days (
                date           TEXT    PRIMARY KEY,
                earnings_cents INTEGER NOT NULL
            ) WITHOUT ROWID;
            -- Each employee's net movement per billing day (fees, rewards and payouts), so a
            -- balance at the end of any day is a sum.
            CREATE TABLE user_days (
                date      TEXT    NOT NULL,
                user_id   BLOB    NOT NULL,
                net_cents INTEGER NOT NULL,
                PRIMARY KEY (date, user_id)
            ) WITHOUT ROWID;
            CREATE TABLE balances (
                user_id       BLOB    PRIMARY KEY,
                balance_cents INTEGER NOT NULL
            ) WITHOUT ROWID;
            -- One completion reward per task, on the billing day accounting gave it.
            CREATE TABLE rewards (
                task_id      BLOB    PRIMARY KEY,
                reward_cents INTEGER NOT NULL,
                completed_at TEXT    NOT NULL,
                date         TEXT    NOT NULL
            );
            CREATE INDEX rewards_by_day ON rewards (date, reward_cents DESC, completed_at, task_id);",
        ),
        M::up(crate::events::tables::DEAD_LETTER_RESOLUTION),
        M::up(crate::events::tables::TRANSPORT_TABLES),
        M::up(crate::events::tables::OUTBOX_WITHOUT_AUTOINCREMENT),
        M::up(crate::events::tables::INBOX_BY_BATCH),
    ])
}

// ---- writes (the projection) ----

pub fn describe_task(
    tx: &Tx<'_>,
    task_id: Uuid,
    title: &str,
    jira_id: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO tasks (id, title, jira_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, jira_id = excluded.jira_id",
    )?
    .execute(params![task_id, title, jira_id])?;
    Ok(())
}

/// Moves one employee's net on one billing day (fees, rewards and payouts summed).
pub fn move_user_day(
    tx: &Tx<'_>,
    date: NaiveDate,
    user_id: Uuid,
    net_cents: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO user_days (date, user_id, net_cents) VALUES (?1, ?2, ?3)
         ON CONFLICT (date, user_id) DO UPDATE SET net_cents = net_cents + excluded.net_cents",
    )?
    .execute(params![Day(date), user_id, net_cents])?;
    Ok(())
}

/// Moves one employee's balance.
pub fn move_balance(tx: &Tx<'_>, user_id: Uuid, amount_cents: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO balances (user_id, balance_cents) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET balance_cents = balance_cents + excluded.balance_cents",
    )?
    .execute(params![user_id, amount_cents])?;
    Ok(())
}

/// Moves what the company earned on one billing day.
pub fn move_company_day(tx: &Tx<'_>, date: NaiveDate, earnings_cents: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO company_days (date, earnings_cents) VALUES (?1, ?2)
         ON CONFLICT (date) DO UPDATE SET earnings_cents = earnings_cents + excluded.earnings_cents",
    )?
    .execute(params![Day(date), earnings_cents])?;
    Ok(())
}

pub fn record_reward(
    tx: &Tx<'_>,
    task_id: Uuid,
    reward_cents: i64,
    completed_at: DateTime<Utc>,
    date: NaiveDate,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO rewards (task_id, reward_cents, completed_at, date) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![task_id, reward_cents, completed_at, date])?;
    Ok(())
}

// ---- reads ----

/// Company earnings of the days in `[from, to]` that had any; the others earned nothing.
pub fn earnings(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> rusqlite::Result<HashMap<NaiveDate, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT date, earnings_cents FROM company_days WHERE date BETWEEN ?1 AND ?2",
    )?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Every employee's balance at the end of the day before `day`.
pub fn balances_before(conn: &Connection, day: NaiveDate) -> rusqlite::Result<HashMap<Uuid, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, sum(net_cents) FROM user_days WHERE date < ?1 GROUP BY user_id",
    )?;
    let rows = stmt.query_map([day], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Net movements of each employee per day in `[from, to]`, by day.
pub fn movements(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> rusqlite::Result<Vec<(NaiveDate, Uuid, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT date, user_id, net_cents FROM user_days WHERE date BETWEEN ?1 AND ?2 ORDER BY date",
    )?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// How many employees have a negative balance now.
pub fn negative_balances_now(conn: &Connection) -> rusqlite::Result<u32> {
    conn.prepare_cached("SELECT count(*) FROM balances WHERE balance_cents < 0")?
        .query_row([], |r| r.get(0))
}

/// The largest reward on a billing day in `[from, to]`; on equal rewards the earliest
/// completion, then the smallest task id. Each day's best is one index seek, so a range
/// costs its days, not its completions.
pub fn most_expensive(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> rusqlite::Result<Option<ExpensiveTask>> {
    conn.prepare_cached(
        "SELECT r.task_id, coalesce(t.title, ''), t.jira_id, r.reward_cents, r.completed_at
         FROM company_days d
         JOIN rewards r ON r.task_id = (
             SELECT task_id FROM rewards WHERE date = d.date
             ORDER BY reward_cents DESC, completed_at, task_id LIMIT 1)
         LEFT JOIN tasks t ON t.id = r.task_id
         WHERE d.date BETWEEN ?1 AND ?2
         ORDER BY r.reward_cents DESC, r.completed_at, r.task_id
         LIMIT 1",
    )?
    .query_row(params![from, to], |r| {
        Ok(ExpensiveTask {
            id: r.get(0)?,
            title: r.get(1)?,
            jira_id: r.get(2)?,
            reward_cents: r.get(3)?,
            completed_at: r.get(4)?,
        })
    })
    .optional()
}
