//! Who may use the API right now. A token says who the caller was at login; every request
//! is also checked against the tracker's own copy of the users (fed by auth's events, no
//! call to auth), so a deactivation or a role change takes effect for API access as soon
//! as its event is applied, not when the token expires.
//!
//! The copy is kept in memory. After any commit of the tracker's database the next request
//! reads the users' version token (changed in the same transaction as any user change) and
//! reloads the copy only when it moved, so task writes cost one cheap read per commit, and
//! reads of an unchanged copy cost nothing.

use super::store;
use crate::db::{Db, DbError};
use ates_shared::Role;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{Mutex, watch};
use uuid::Uuid;

/// A user's standing in the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
    /// Tokens minted with an older access version are refused (`Claims::ver`).
    pub access_version: u32,
}

pub struct Access {
    db: Db,
    users: RwLock<Arc<HashMap<Uuid, Standing>>>,
    /// Ticks after every commit of the tracker's database.
    commits: watch::Receiver<u64>,
    /// The tick the copy was last checked at (`u64::MAX`: never).
    seen_commit: AtomicU64,
    /// The users' version token the copy holds; held while checking, so one request reads.
    version: Mutex<Option<i64>>,
}

impl Access {
    pub fn new(tracker: Db) -> Access {
        Access {
            commits: tracker.commits(),
            db: tracker,
            users: RwLock::default(),
            seen_commit: AtomicU64::new(u64::MAX),
            version: Mutex::new(None),
        }
    }

    /// The user's current standing; `None` for a user the copy has not heard of yet (created
    /// moments ago: no later change can have been applied either, so the token stands).
    pub async fn standing(&self, user: Uuid) -> Result<Option<Standing>, DbError> {
        self.refresh().await?;
        Ok(self
            .users
            .read()
            .expect("access copy lock")
            .get(&user)
            .copied())
    }

    async fn refresh(&self) -> Result<(), DbError> {
        // Read before the check: a commit after it is seen by the next request.
        let commit = *self.commits.borrow();
        if self.seen_commit.load(Ordering::Acquire) == commit {
            return Ok(());
        }
        let mut version = self.version.lock().await;
        if self.seen_commit.load(Ordering::Acquire) == commit {
            return Ok(());
        }
        let known = *version;
        let (now, users) = self
            .db
            .read(move |conn| -> Result<_, DbError> {
                let now = store::users_version(conn)?;
                if known == Some(now) {
                    return Ok((now, None));
                }
                Ok((now, Some(store::standings(conn)?)))
            })
            .await?;
        if let Some(users) = users {
            *self.users.write().expect("access copy lock") = Arc::new(users);
        }
        *version = Some(now);
        self.seen_commit.store(commit, Ordering::Release);
        Ok(())
    }
}
