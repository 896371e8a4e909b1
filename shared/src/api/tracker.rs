use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
        }
    }
}

/// A user as other records point at them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: Uuid,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
    pub status: TaskStatus,
    pub assignee: UserRef,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339::option", default)]
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewTask {
    /// 1 to 200 characters, not blank. Must not carry the Jira id (no `[` or `]`): put it
    /// in `jira_id`. Stored without surrounding whitespace.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\[\]]*[^\[\]\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff][^\[\]]*$"
    )]
    pub title: String,
    /// Up to 32 letters, digits, `-` or `_`, like `UBERPOP-42`; empty or null for none.
    #[serde(default)]
    #[schema(max_length = 32, pattern = r"^[A-Za-z0-9_-]*$")]
    pub jira_id: Option<String>,
    /// Up to 10 000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReshuffleResult {
    /// How many open tasks were reassigned (each one billed as an assignment).
    pub reassigned: u64,
}

/// `GET /api/v1/tasks` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// `open` or `done`.
    pub status: Option<TaskStatus>,
    /// Only tasks whose title, Jira id or assignee's username holds this text (any case
    /// for ASCII letters); empty for all.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `me` or a user id.
    #[param(
        pattern = r"^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub assignee: Option<String>,
    /// Page size, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

/// `GET /api/v1/tasks/counts`: how many tasks are open and done (e.g. how many a reshuffle moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskCounts {
    pub open: u64,
    pub done: u64,
}
