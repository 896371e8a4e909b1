//! The event system's admin endpoints: consumer lag, dead letters, replay and rewind.

use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{AppJson, AppQuery, Caller, parse_id};
use crate::paging::PageRequest;
use ates_shared::Role;
use ates_shared::api::{
    DeadLetter, DeadLetterStatus, DiscardDeadLetter, ErrorBody, EventsStatus, Page, RebuildRequest,
    RebuildStatus, Rewind,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/system/events", get(events_status))
        .route("/api/v1/system/dead-letters", get(dead_letters))
        .route(
            "/api/v1/system/dead-letters/{id}/retry",
            post(retry_dead_letter),
        )
        .route(
            "/api/v1/system/dead-letters/{id}/discard",
            post(discard_dead_letter),
        )
        .route("/api/v1/system/consumers/{consumer}/rewind", post(rewind))
        .route("/api/v1/system/rebuild", post(rebuild))
}

/// Every consumer's position, lag and parked events; `caught_up` when all lags are zero.
#[utoipa::path(get, path = "/api/v1/system/events", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = EventsStatus), (status = 403, body = ErrorBody)))]
pub async fn events_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<EventsStatus>> {
    caller.require(&[Role::Admin])?;
    let mut status = state.events.status().await?;
    for (source, db) in state.contexts.iter() {
        status.logs.push(ates_shared::api::LogHead {
            source: source.clone(),
            head: db
                .read(crate::events::outbox::Outbox::head)
                .await
                .map_err(crate::error::Error::from)?,
        });
    }
    Ok(Json(status))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Page size, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
    /// `parked` (waiting for an admin) or `resolved` (replayed); both when absent.
    pub status: Option<DeadLetterStatus>,
}

/// Events that failed every retry, newest first.
#[utoipa::path(get, path = "/api/v1/system/dead-letters", tag = "system", security(("bearer" = [])),
    params(DeadLetterQuery), responses((status = 200, body = Page<DeadLetter>), (status = 403, body = ErrorBody)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<DeadLetterQuery>,
) -> Result<Json<Page<DeadLetter>>> {
    caller.require(&[Role::Admin])?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let items = state
        .events
        .dead_letters(query.status, page.after, page.fetch())
        .await?;
    Ok(Json(page.page(items, |d| d.id)))
}

/// Apply a dead letter again; 409 `replay_failed` if it still fails.
#[utoipa::path(post, path = "/api/v1/system/dead-letters/{id}/retry", tag = "system", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The dead letter id")),
    responses((status = 200, body = DeadLetter), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeadLetter>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(
        state
            .events
            .retry_dead_letter(parse_id(&id, "dead letter")?)
            .await?,
    ))
}

/// Give up on a parked dead letter for good, with a reason that is kept; 409 `not_parked`
/// when it was already replayed or discarded.
#[utoipa::path(post, path = "/api/v1/system/dead-letters/{id}/discard", tag = "system", security(("bearer" = [])),
    request_body = DiscardDeadLetter,
    params(("id" = Uuid, Path, description = "The dead letter id")),
    responses((status = 200, body = DeadLetter), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn discard_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<DiscardDeadLetter>,
) -> Result<Json<DeadLetter>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(
        state
            .events
            .discard_dead_letter(parse_id(&id, "dead letter")?, req.reason)
            .await?,
    ))
}

/// Deliver a consumer's log again from `position` (already applied events are skipped);
/// 409 `rebuild_running` while the read model it feeds is being rebuilt.
#[utoipa::path(post, path = "/api/v1/system/consumers/{consumer}/rewind", tag = "system", security(("bearer" = [])),
    request_body = Rewind,
    params(("consumer" = String, Path, description = "A consumer's name, e.g. `accounting.tracker`")),
    responses((status = 204), (status = 404, body = ErrorBody),
        (status = 409, description = "`rebuild_running`: the consumer feeds a read model that is being rebuilt", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rewind(
    State(state): State<AppState>,
    caller: Caller,
    Path(consumer): Path<String>,
    AppJson(req): AppJson<Rewind>,
) -> Result<StatusCode> {
    caller.require(&[Role::Admin])?;
    state.events.rewind(&consumer, req.position).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rebuild a read model (`accounting` or `analytics`) from the event logs, in the
/// background: 202 at once; readers see the old model until the new one is complete and
/// swapped in. Progress and `caught_up: false` until done in `GET /system/events`.
#[utoipa::path(post, path = "/api/v1/system/rebuild", tag = "system", security(("bearer" = [])),
    request_body = RebuildRequest,
    responses((status = 202, body = RebuildStatus), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rebuild(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<RebuildRequest>,
) -> Result<(StatusCode, Json<RebuildStatus>)> {
    caller.require(&[Role::Admin])?;
    let started = state.events.start_rebuild(req.context)?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}
