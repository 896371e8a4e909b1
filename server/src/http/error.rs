//! Domain errors become the API's error body: `{"error": {"code", "message"}}`.
//! Internal causes are logged with their chain and never shown to the client.

use crate::error::Error;
use ates_shared::api::{ErrorBody, ErrorDetail};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Error::Invalid {
                status,
                code,
                message,
            } => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                message,
            ),
            Error::Unauthorized(message) => (StatusCode::UNAUTHORIZED, "unauthorized", message),
            Error::Forbidden(message) => (StatusCode::FORBIDDEN, "forbidden", message),
            Error::NotFound(message) => (StatusCode::NOT_FOUND, "not_found", message),
            Error::Conflict { code, message } => (StatusCode::CONFLICT, code, message),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged".to_owned(),
                )
            }
        };
        error_response(status, code, message)
    }
}

pub fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
        },
    };
    (status, Json(body)).into_response()
}

/// Answers for paths no route knows, in the API's error shape.
pub async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint".to_owned(),
    )
}
