//! What can go wrong talking to the server, in words a user can act on.

use ates_shared::api::ErrorBody;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The server answered with a non-2xx status; `message` is its own text.
    #[error("{message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("unexpected reply from the server: {0}")]
    Decode(String),
}

impl ApiError {
    /// Builds the error of a non-2xx reply from its body, which is `{"error":{...}}` when the
    /// server produced it and anything at all when a proxy or an older server did.
    pub fn from_reply(status: u16, body: &str) -> ApiError {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(body) => ApiError::Server {
                status,
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => ApiError::Server {
                status,
                code: format!("http_{status}"),
                message: if status == 404 {
                    "not available on this server".to_owned()
                } else {
                    format!("the server answered HTTP {status}")
                },
            },
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The token is missing, expired or revoked: the user has to log in again.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// The endpoint (or the record) does not exist on this server.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// How to show the error in place: a missing endpoint is a feature this server lacks,
    /// not a failure.
    pub fn describe(&self) -> String {
        match self {
            // The server's fallback says "no such endpoint"; a bare 404 comes from something
            // that is not an aTES server at all. Either way the feature is missing here.
            ApiError::Server {
                status: 404,
                message,
                code,
            } if message == "no such endpoint" || code.starts_with("http_") => {
                "not available on this server".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The names in backticks of the server's message (the fields it complains about), in order.
    pub fn named_fields(&self) -> Vec<String> {
        let ApiError::Server { message, .. } = self else {
            return Vec::new();
        };
        message
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|word| {
                !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .map(str::to_owned)
            .collect()
    }
}

impl From<reqwest::Error> for ApiError {
    fn from(err: reqwest::Error) -> Self {
        if err.is_decode() {
            ApiError::Decode(err.to_string())
        } else {
            // reqwest's top-level text is vague ("error sending request"); the source says why.
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(inner) = source {
                text = inner.to_string();
                source = inner.source();
            }
            ApiError::Network(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_body_keeps_its_code_and_message() {
        let err = ApiError::from_reply(
            422,
            r#"{"error":{"code":"title_contains_jira_id","message":"`title` must not carry the Jira id (no `[` or `]`): put it in the `jira_id` field"}}"#,
        );
        assert_eq!(err.code(), Some("title_contains_jira_id"));
        assert_eq!(err.named_fields(), vec!["title", "jira_id"]);
    }

    #[test]
    fn a_bare_404_reads_as_a_missing_feature() {
        let err = ApiError::from_reply(404, "");
        assert!(err.is_not_found());
        assert_eq!(err.describe(), "not available on this server");
    }

    #[test]
    fn an_unauthorized_reply_is_recognised() {
        let err = ApiError::from_reply(
            401,
            r#"{"error":{"code":"unauthorized","message":"token expired"}}"#,
        );
        assert!(err.is_unauthorized());
        assert_eq!(err.describe(), "token expired");
    }
}
