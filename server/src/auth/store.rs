//! The auth context's tables: the users and their password hashes.

use crate::db::Tx;
use crate::events::tables::EVENT_TABLES;
use ates_shared::Role;
use ates_shared::api::User;
use rusqlite::{Connection, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(EVENT_TABLES),
        M::up(
            "CREATE TABLE users (
                id            BLOB    PRIMARY KEY,
                username      TEXT    NOT NULL UNIQUE,
                full_name     TEXT    NOT NULL,
                email         TEXT    NOT NULL,
                role          TEXT    NOT NULL,
                active        INTEGER NOT NULL,
                password_hash TEXT    NOT NULL,
                created_at    TEXT    NOT NULL,
                updated_at    TEXT    NOT NULL
            );",
        ),
        // `version` moves with every change; `access_version` with role or active changes
        // only (tokens carry it). Rows from before count as version 1.
        M::up(
            "ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
             ALTER TABLE users ADD COLUMN access_version INTEGER NOT NULL DEFAULT 1;",
        ),
        M::up(crate::events::tables::DEAD_LETTER_RESOLUTION),
        M::up(crate::events::tables::TRANSPORT_TABLES),
        M::up(crate::events::tables::OUTBOX_WITHOUT_AUTOINCREMENT),
        M::up(crate::events::tables::INBOX_BY_BATCH),
    ])
}

const USER_COLUMNS: &str = "id, username, full_name, email, role, active";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get(4)?;
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        full_name: row.get(2)?,
        email: row.get(3)?,
        role: role.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?,
        active: row.get(5)?,
    })
}

pub fn insert(
    tx: &Tx<'_>,
    user: &User,
    password_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO users (id, username, full_name, email, role, active, password_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![user.id, user.username, user.full_name, user.email, user.role.as_str(), user.active, password_hash, now],
    )?;
    Ok(())
}

/// A user record's versions (see `UserCreated::version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub version: u32,
    pub access_version: u32,
}

impl Versions {
    pub const FIRST: Versions = Versions {
        version: 1,
        access_version: 1,
    };

    /// The versions after a change; `access` when the role or the active flag changed.
    pub fn next(self, access: bool) -> Versions {
        let version = self.version + 1;
        Versions {
            version,
            access_version: if access { version } else { self.access_version },
        }
    }
}

pub fn update(
    tx: &Tx<'_>,
    user: &User,
    versions: Versions,
    now: chrono::DateTime<chrono::Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE users SET full_name = ?2, email = ?3, role = ?4, active = ?5, updated_at = ?6,
             version = ?7, access_version = ?8
         WHERE id = ?1",
        params![
            user.id,
            user.full_name,
            user.email,
            user.role.as_str(),
            user.active,
            now,
            versions.version,
            versions.access_version
        ],
    )?;
    Ok(())
}

pub fn versions(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<Versions>> {
    conn.query_row(
        "SELECT version, access_version FROM users WHERE id = ?1",
        [id],
        |r| {
            Ok(Versions {
                version: r.get(0)?,
                access_version: r.get(1)?,
            })
        },
    )
    .optional()
}

pub fn by_id(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id],
        user_from_row,
    )
    .optional()
}

/// The user, their password hash and their access version (for the token).
pub fn by_username(
    conn: &Connection,
    username: &str,
) -> rusqlite::Result<Option<(User, String, u32)>> {
    conn.query_row(
        &format!(
            "SELECT {USER_COLUMNS}, password_hash, access_version FROM users WHERE username = ?1"
        ),
        [username],
        |row| Ok((user_from_row(row)?, row.get(6)?, row.get(7)?)),
    )
    .optional()
}

pub fn username_taken(conn: &Connection, username: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM users WHERE username = ?1",
        [username],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

pub fn list(conn: &Connection, after: Option<Uuid>, limit: i64) -> rusqlite::Result<Vec<User>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after, limit], user_from_row)?;
    rows.collect()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
}

pub fn active_admins(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM users WHERE role = ?1 AND active = 1",
        [Role::Admin.as_str()],
        |r| r.get(0),
    )
}
