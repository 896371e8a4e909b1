//! Events produced by the task tracker.

use super::{Envelope, EventPayload};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// CUD, version 1 (historic): only the title, which then often carried the Jira id
/// as `[UBERPOP-42] fix login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCreatedV1 {
    pub task_id: Uuid,
    pub title: String,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// CUD, version 2 (current): the Jira id has its own field and the title is clean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCreated {
    pub task_id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// Business event: a task was given to a user, at creation or by a reshuffle.
/// Every one of them is billed as an assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskAssigned {
    pub task_id: Uuid,
    pub assignee_id: Uuid,
    #[serde(with = "crate::time::rfc3339")]
    pub assigned_at: DateTime<Utc>,
}

/// Business event: the assignee completed the task (happens once per task).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCompleted {
    pub task_id: Uuid,
    pub assignee_id: Uuid,
    #[serde(with = "crate::time::rfc3339")]
    pub completed_at: DateTime<Utc>,
}

impl EventPayload for TaskCreatedV1 {
    const NAME: &'static str = "TaskCreated";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "tracker";
}

impl EventPayload for TaskCreated {
    const NAME: &'static str = "TaskCreated";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "tracker";
}

impl EventPayload for TaskAssigned {
    const NAME: &'static str = "TaskAssigned";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "tracker";
}

impl EventPayload for TaskCompleted {
    const NAME: &'static str = "TaskCompleted";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "tracker";
}

impl From<TaskCreatedV1> for TaskCreated {
    /// Upcast: split a leading `[JIRA-ID]` off the old title into `jira_id`.
    fn from(v1: TaskCreatedV1) -> Self {
        let (jira_id, title) = split_jira_prefix(&v1.title);
        TaskCreated {
            task_id: v1.task_id,
            title,
            jira_id,
            description: String::new(),
            created_at: v1.created_at,
        }
    }
}

impl TaskCreated {
    /// Reads any known version of `TaskCreated` as the newest one.
    /// `Ok(None)` when the envelope is not a `TaskCreated` at all.
    pub fn from_envelope(env: &Envelope) -> Result<Option<TaskCreated>, serde_json::Error> {
        if env.is::<TaskCreated>() {
            env.payload::<TaskCreated>().map(Some)
        } else if env.is::<TaskCreatedV1>() {
            env.payload::<TaskCreatedV1>().map(|v1| Some(v1.into()))
        } else {
            Ok(None)
        }
    }
}

/// `"[UBERPOP-42] fix login"` -> `(Some("UBERPOP-42"), "fix login")`.
fn split_jira_prefix(title: &str) -> (Option<String>, String) {
    let trimmed = title.trim_start();
    if let Some(rest) = trimmed.strip_prefix('[')
        && let Some((id, after)) = rest.split_once(']')
        && !id.trim().is_empty()
    {
        let after = after.trim_start_matches([' ', '-', ':']).trim();
        return (Some(id.trim().to_owned()), after.to_owned());
    }
    (None, title.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upcasting_v1_moves_the_jira_id_out_of_the_title() {
        let at = Utc::now();
        let id = Uuid::now_v7();
        let v2: TaskCreated = TaskCreatedV1 {
            task_id: id,
            title: "[UBERPOP-42] - fix login".into(),
            created_at: at,
        }
        .into();
        assert_eq!(v2.jira_id.as_deref(), Some("UBERPOP-42"));
        assert_eq!(v2.title, "fix login");
        assert_eq!(v2.task_id, id);
    }

    #[test]
    fn upcasting_v1_without_jira_id_keeps_the_title() {
        let v2: TaskCreated = TaskCreatedV1 {
            task_id: Uuid::now_v7(),
            title: "water the plants".into(),
            created_at: Utc::now(),
        }
        .into();
        assert_eq!(v2.jira_id, None);
        assert_eq!(v2.title, "water the plants");
    }

    #[test]
    fn from_envelope_reads_both_versions() {
        let at = Utc::now();
        let v1 = TaskCreatedV1 {
            task_id: Uuid::now_v7(),
            title: "[X-1] a".into(),
            created_at: at,
        }
        .into_envelope(at);
        let got = TaskCreated::from_envelope(&v1).unwrap().unwrap();
        assert_eq!(
            (got.jira_id.as_deref(), got.title.as_str()),
            (Some("X-1"), "a")
        );

        let assigned = TaskAssigned {
            task_id: Uuid::now_v7(),
            assignee_id: Uuid::now_v7(),
            assigned_at: at,
        }
        .into_envelope(at);
        assert!(TaskCreated::from_envelope(&assigned).unwrap().is_none());
    }
}
