//! The one error type of the server's domain code. `http::error` turns it into the API's
//! `{"error": {"code", "message"}}` body with the right status.

use crate::db::DbError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input (400/422). `code` is stable snake_case; `message` names the field.
    #[error("{message}")]
    Invalid {
        status: u16,
        code: &'static str,
        message: String,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Conflict with the current state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Too many requests (429) or too busy (503); the client may retry after the wait.
    #[error("{message}")]
    Throttled {
        status: u16,
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// Anything else: logged, never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// 422 with a code and a message that names the field.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            status: 422,
            code,
            message: message.into(),
        }
    }

    /// 400 with a code and a message that names the field.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            status: 400,
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Error {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        Error::Internal(e.into())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Internal(e.into())
    }
}
