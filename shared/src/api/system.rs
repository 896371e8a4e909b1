use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How far one consumer is behind the log it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsumerStatus {
    /// `<context>.<source>`, e.g. `tracker.auth`.
    pub consumer: String,
    /// The log (producing context) it follows.
    pub source: String,
    /// Sequence number of the last event it took from the log.
    pub position: i64,
    /// Sequence number of the newest event in the log.
    pub head: i64,
    /// `head - position`: events not yet applied.
    pub lag: i64,
    /// Events parked after failing every retry and not yet replayed.
    pub dead_letters: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventsStatus {
    pub consumers: Vec<ConsumerStatus>,
    /// True when every consumer has applied every event and no rebuild is running: reads
    /// are up to date.
    pub caught_up: bool,
    /// Read-model rebuilds started since the server started (newest last).
    #[serde(default)]
    pub rebuilds: Vec<RebuildStatus>,
    /// The newest event of each log the answering process writes. In split mode a
    /// consumer's `head` is what has reached it; the gateway compares with these, so
    /// `caught_up` also waits for events still on their way through the broker.
    #[serde(default)]
    pub logs: Vec<LogHead>,
}

/// The newest event of one context's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogHead {
    pub source: String,
    pub head: i64,
}

/// A read model that can be rebuilt from the event logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebuildContext {
    Accounting,
    Analytics,
}

impl RebuildContext {
    pub const ALL: [RebuildContext; 2] = [RebuildContext::Accounting, RebuildContext::Analytics];

    pub fn as_str(self) -> &'static str {
        match self {
            RebuildContext::Accounting => "accounting",
            RebuildContext::Analytics => "analytics",
        }
    }
}

impl std::fmt::Display for RebuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/v1/system/rebuild`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildRequest {
    pub context: RebuildContext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebuildState {
    /// Replaying the logs into fresh tables; readers still see the old model.
    Running,
    /// The rebuilt model is live.
    Done,
    /// Stopped with an error; the old model stays live and unchanged.
    Failed,
}

/// Progress of one rebuild.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RebuildStatus {
    pub context: RebuildContext,
    pub state: RebuildState,
    /// Events replayed so far.
    pub processed: u64,
    /// Events to replay (grows while the logs grow during the rebuild).
    pub total: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterStatus {
    /// Waiting for an admin.
    Parked,
    /// Replayed successfully.
    Resolved,
    /// Given up by an admin, with a reason; never applied.
    Discarded,
}

impl DeadLetterStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeadLetterStatus::Parked => "parked",
            DeadLetterStatus::Resolved => "resolved",
            DeadLetterStatus::Discarded => "discarded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: Uuid,
    pub consumer: String,
    pub event_id: Uuid,
    pub event_name: String,
    pub event_version: u32,
    /// The last error the handler reported.
    pub error: String,
    pub attempts: u32,
    pub parked_at: DateTime<Utc>,
    pub status: DeadLetterStatus,
    /// Why an admin discarded it.
    #[serde(default)]
    pub discard_reason: Option<String>,
    /// The whole event as it was received.
    pub envelope: serde_json::Value,
}

/// `POST /api/v1/system/dead-letters/{id}/discard`: give up on an event that can never apply.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardDeadLetter {
    /// Why, kept with the dead letter (1 to 500 characters, not blank).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"[^\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
    )]
    pub reason: String,
}

/// `POST /api/v1/system/consumers/{consumer}/rewind`: deliver the log again from `position`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rewind {
    /// At most where the consumer stands: a rewind only goes back.
    #[schema(minimum = 0)]
    pub position: i64,
}
