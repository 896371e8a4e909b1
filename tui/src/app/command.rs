//! What the app asks the outside world to do.

use super::event::Fetch;
use ates_shared::api::{CreateUser, NewTask, UpdateUser};
use uuid::Uuid;

/// A logged-in session: what is remembered between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub server: String,
    pub token: String,
    pub username: String,
}

#[derive(Debug, Clone)]
pub enum Command {
    Login {
        server: String,
        username: String,
        password: String,
    },
    /// Check a remembered token (`GET /auth/me`).
    Resume {
        server: String,
        token: String,
    },
    /// Use (and remember) this session, or forget the token; (re)starts the change stream.
    SetSession(Option<Session>),
    Fetch {
        fetch: Fetch,
        generation: u64,
    },
    CompleteTask(Uuid),
    CreateTask(NewTask),
    Reshuffle,
    CloseDay,
    CreateUser(CreateUser),
    UpdateUser(Uuid, UpdateUser),
    RetryDeadLetter(Uuid),
    /// Give up on a dead letter for good, with the reason kept.
    DiscardDeadLetter(Uuid, String),
    /// Write every ledger row of `[from, to]` to a CSV file in the current directory.
    ExportLedger {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
    Quit,
}
