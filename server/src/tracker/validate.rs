//! Input rules for tasks. Every refusal names the field.

use crate::error::{Error, Result};
use ates_shared::api::NewTask;

const MAX_TITLE: usize = 200;
const MAX_JIRA_ID: usize = 32;
const MAX_DESCRIPTION: usize = 10_000;

/// A new task's fields, trimmed and checked.
#[derive(Debug)]
pub struct ValidTask {
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
}

/// Lengths are of the text as sent (what the OpenAPI limits say); titles and descriptions
/// are kept without surrounding whitespace.
pub fn new_task(new: NewTask) -> Result<ValidTask> {
    if new.title.contains(['[', ']']) {
        return Err(Error::unprocessable(
            "title_contains_jira_id",
            "`title` must not carry the Jira id (no `[` or `]`): put it in the `jira_id` field",
        ));
    }
    if crate::text::is_blank(&new.title) || new.title.chars().count() > MAX_TITLE {
        return Err(Error::unprocessable(
            "invalid_title",
            format!("`title` must be 1 to {MAX_TITLE} characters, not blank"),
        ));
    }
    let title = new.title.trim().to_owned();
    let jira_id = match new.jira_id.as_deref() {
        None | Some("") => None,
        Some(id) => {
            let well_formed = id.chars().count() <= MAX_JIRA_ID
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !well_formed {
                return Err(Error::unprocessable(
                    "invalid_jira_id",
                    format!(
                        "`jira_id` must be up to {MAX_JIRA_ID} letters, digits, `-` or `_`, like UBERPOP-42"
                    ),
                ));
            }
            Some(id.to_owned())
        }
    };
    let description = new.description.unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(Error::unprocessable(
            "invalid_description",
            format!("`description` must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(ValidTask {
        title,
        jira_id,
        description: description.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(title: &str, jira_id: Option<&str>) -> NewTask {
        NewTask {
            title: title.into(),
            jira_id: jira_id.map(Into::into),
            description: None,
        }
    }

    #[test]
    fn a_jira_id_in_the_title_is_refused_naming_jira_id() {
        let err = new_task(task("[UBERPOP-42] fix login", None)).unwrap_err();
        assert!(matches!(
            err,
            Error::Invalid {
                code: "title_contains_jira_id",
                ..
            }
        ));
        assert!(err.to_string().contains("`jira_id`"));
    }

    #[test]
    fn titles_are_kept_trimmed_and_empty_jira_id_means_none() {
        let ok = new_task(task("  fix login ", Some(""))).unwrap();
        assert_eq!((ok.title.as_str(), ok.jira_id), ("fix login", None));
        // The id is taken as sent, as the OpenAPI pattern says.
        assert!(new_task(task("fix login", Some(" UBERPOP-1"))).is_err());
        // Lengths count the text as sent.
        assert!(new_task(task(&format!(" {}", "x".repeat(200)), None)).is_err());
        assert!(new_task(task("\u{1c}\t", None)).is_err(), "blank");
        let ok = new_task(task("fix login", Some("UBERPOP-42"))).unwrap();
        assert_eq!(ok.jira_id.as_deref(), Some("UBERPOP-42"));
    }

    #[test]
    fn empty_titles_and_odd_jira_ids_are_refused() {
        assert!(
            new_task(task("   ", None))
                .unwrap_err()
                .to_string()
                .contains("`title`")
        );
        assert!(
            new_task(task("ok", Some("has space")))
                .unwrap_err()
                .to_string()
                .contains("`jira_id`")
        );
    }
}
