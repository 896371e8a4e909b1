//! Extractors that turn every kind of bad request into the API's error body with the
//! offending field named: JSON bodies, query strings, path ids and bearer tokens.

use super::AppState;
use crate::auth::token::Claims;
use crate::error::Error;
use ates_shared::Role;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The largest request body accepted: every API body is a few kilobytes at most.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// A JSON body. Malformed JSON, a missing field or a wrong type is a 400/422 that names the field.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(Error::Invalid {
                status: 415,
                code: "unsupported_media_type",
                message: "send the body as JSON with `Content-Type: application/json`".into(),
            });
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => Error::Invalid {
                    status: 413,
                    code: "payload_too_large",
                    message: format!(
                        "the body is larger than the {BODY_LIMIT_BYTES} bytes allowed"
                    ),
                },
                _ => Error::bad_request("bad_body", format!("could not read the body: {e}")),
            })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON, naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let what = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                Error::unprocessable("invalid_field", format!("`{path}`: {what}"))
            }
            serde_json::error::Category::Data => Error::unprocessable("invalid_body", what),
            _ => Error::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {what}"),
            ),
        }
    })
}

/// serde_json ends messages with " at line 1 column 17"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string, with a clear 400 naming the parameter that does not parse.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(AppQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let detail = e.inner().to_string();
                if path == "." {
                    Error::bad_request("invalid_query", format!("query string: {detail}"))
                } else {
                    Error::bad_request(
                        "invalid_query",
                        format!("query parameter `{path}`: {detail}"),
                    )
                }
            })
    }
}

/// A UUID taken from the path, e.g. `/tasks/{id}`.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, Error> {
    crate::text::parse_uuid(raw)
        .ok_or_else(|| Error::NotFound(format!("no {what} with id `{raw}` (not a UUID)")))
}

/// The authenticated caller, from a bearer token checked locally (no call to auth).
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(Error::Forbidden(format!(
            "this needs the role {}; you are {}",
            allowed.join(" or "),
            self.role
        )))
    }
}

impl From<Claims> for Caller {
    fn from(c: Claims) -> Self {
        Caller {
            id: c.sub,
            username: c.username,
            role: c.role,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            Error::Unauthorized("missing `Authorization: Bearer <token>` header".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Error::Unauthorized("the `Authorization` header must be `Bearer <token>`".into())
            })?;
        let claims = state.tokens.verify(token.trim(), state.clock.now())?;
        let claims_version = claims.ver;
        let mut caller = Caller::from(claims);
        // The token says who the caller was at login; the user copy says who they are now.
        match state.access.standing(caller.id).await? {
            Some(now) if !now.active => {
                return Err(Error::Unauthorized(
                    "your account is deactivated; ask an admin".into(),
                ));
            }
            Some(now) if claims_version < now.access_version => {
                return Err(Error::Unauthorized(
                    "your role or access changed since this token was issued; log in again".into(),
                ));
            }
            Some(now) => caller.role = now.role,
            None => {}
        }
        Ok(caller)
    }
}
