//! Validators for every schema in the registry, compiled once per process.

use ates_shared::events::Envelope;
use ates_shared::events::schemas::REGISTRY;
use jsonschema::Validator;
use std::collections::HashMap;
use std::sync::LazyLock;

static VALIDATORS: LazyLock<HashMap<(&'static str, u32), Validator>> = LazyLock::new(|| {
    REGISTRY
        .iter()
        .map(|file| {
            let schema: serde_json::Value = serde_json::from_str(file.json).unwrap_or_else(|e| {
                panic!(
                    "schema {} v{} is not JSON: {e}",
                    file.event_name, file.version
                )
            });
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| {
                    panic!(
                        "schema {} v{} does not compile: {e}",
                        file.event_name, file.version
                    )
                });
            ((file.event_name, file.version), validator)
        })
        .collect()
});

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{event_name} v{event_version} does not match its schema: {problems}")]
pub struct SchemaViolation {
    pub event_name: String,
    pub event_version: u32,
    pub problems: String,
}

/// Compiles every schema now rather than on the first event (fails fast at start-up).
pub fn compile_all() {
    LazyLock::force(&VALIDATORS);
}

/// Checks an envelope's `data` against the schema of its name and version.
pub fn validate(envelope: &Envelope) -> Result<(), SchemaViolation> {
    let violation = |problems: String| SchemaViolation {
        event_name: envelope.event_name.clone(),
        event_version: envelope.event_version,
        problems,
    };
    let Some(validator) = VALIDATORS.get(&(envelope.event_name.as_str(), envelope.event_version))
    else {
        return Err(violation(
            "no schema is registered for this event and version".into(),
        ));
    };
    if validator.is_valid(&envelope.data) {
        return Ok(());
    }
    // The messages quote the offending values: keep each short, and only the first few.
    let problems: Vec<String> = validator
        .iter_errors(&envelope.data)
        .take(10)
        .map(|e| shorten(&format!("at `{}`: {e}", e.instance_path()), 300))
        .collect();
    Err(violation(problems.join("; ")))
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_shared::events::EventPayload;
    use ates_shared::events::tracker::{TaskAssigned, TaskCreated, TaskCreatedV1};
    use chrono::Utc;
    use uuid::Uuid;

    #[test]
    fn every_registered_schema_compiles() {
        compile_all();
    }

    #[test]
    fn valid_events_of_both_task_created_versions_pass() {
        let at = Utc::now();
        let v1 = TaskCreatedV1 {
            task_id: Uuid::now_v7(),
            title: "[X-1] old".into(),
            created_at: at,
        };
        let v2 = TaskCreated {
            task_id: Uuid::now_v7(),
            title: "new".into(),
            jira_id: Some("X-2".into()),
            description: String::new(),
            created_at: at,
        };
        validate(&v1.into_envelope(at)).unwrap();
        validate(&v2.into_envelope(at)).unwrap();
    }

    #[test]
    fn a_broken_payload_is_refused_with_the_field_named() {
        let at = Utc::now();
        let mut env = TaskAssigned {
            task_id: Uuid::now_v7(),
            assignee_id: Uuid::now_v7(),
            assigned_at: at,
        }
        .into_envelope(at);
        env.data["assignee_id"] = serde_json::json!("not-a-uuid");
        let err = validate(&env).unwrap_err();
        assert!(err.problems.contains("/assignee_id"), "{err}");
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let at = Utc::now();
        let mut env = TaskAssigned {
            task_id: Uuid::now_v7(),
            assignee_id: Uuid::now_v7(),
            assigned_at: at,
        }
        .into_envelope(at);
        env.event_version = 99;
        assert!(validate(&env).unwrap_err().problems.contains("no schema"));
    }
}
