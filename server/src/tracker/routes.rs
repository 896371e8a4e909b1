//! HTTP endpoints of the task tracker.

use super::AssigneeFilter;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::etag::IfNoneMatch;
use crate::http::extract::{AppJson, AppQuery, Caller, parse_id};
use crate::paging::PageRequest;
use ates_shared::Role;
use ates_shared::api::{ErrorBody, NewTask, Page, ReshuffleResult, Task, TaskCounts, TaskFilter};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tasks", get(list_tasks).post(create_task))
        .route("/api/v1/tasks/reshuffle", post(reshuffle))
        .route("/api/v1/tasks/counts", get(task_counts))
        .route("/api/v1/tasks/{id}", get(get_task))
        .route("/api/v1/tasks/{id}/complete", post(complete_task))
}

/// Create a task; it is assigned at once to a random worker or accountant.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tracker", security(("bearer" = [])), request_body = NewTask,
    responses((status = 201, body = Task),
        (status = 409, description = "`no_assignees`: nobody can take it", body = ErrorBody),
        (status = 422, description = "`title_contains_jira_id` and other bad fields", body = ErrorBody)))]
pub async fn create_task(
    State(state): State<AppState>,
    _caller: Caller,
    AppJson(new): AppJson<NewTask>,
) -> Result<(StatusCode, Json<Task>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.tracker.create_task(new).await?),
    ))
}

/// The board (every task, newest first), or one user's tasks with `assignee=me|<id>`.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tracker", security(("bearer" = [])), params(TaskFilter),
    responses((status = 200, body = Page<Task>), (status = 400, body = ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    if_none_match: IfNoneMatch,
    AppQuery(filter): AppQuery<TaskFilter>,
) -> Result<Response> {
    let asked = match state.tracker.known_tags.ask(caller.id, &uri, if_none_match) {
        Ok(asked) => asked,
        Err(not_modified) => return Ok(not_modified.into_response()),
    };
    let assignee = match filter.assignee.as_deref() {
        None => AssigneeFilter::Anyone,
        Some("me") => AssigneeFilter::User(caller.id),
        Some(other) => AssigneeFilter::User(crate::text::parse_uuid(other).ok_or_else(|| {
            Error::unprocessable("invalid_assignee", "`assignee` must be `me` or a user id")
        })?),
    };
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    if filter.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(Error::unprocessable(
            "invalid_query",
            "query parameter `q` must be at most 200 characters",
        ));
    }
    let page = state
        .tracker
        .list_tasks_json(filter.status, assignee, filter.q, page)
        .await?;
    Ok(asked.answer(([(CONTENT_TYPE, "application/json")], page)))
}

/// How many tasks are open and done.
#[utoipa::path(get, path = "/api/v1/tasks/counts", tag = "tracker", security(("bearer" = [])),
    responses((status = 200, body = TaskCounts), (status = 401, body = ErrorBody)))]
pub async fn task_counts(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    if_none_match: IfNoneMatch,
) -> Result<Response> {
    let asked = match state.tracker.known_tags.ask(caller.id, &uri, if_none_match) {
        Ok(asked) => asked,
        Err(not_modified) => return Ok(not_modified.into_response()),
    };
    Ok(asked.answer(Json(state.tracker.counts().await?)))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tracker", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    if_none_match: IfNoneMatch,
    Path(id): Path<String>,
) -> Result<Response> {
    let asked = match state.tracker.known_tags.ask(caller.id, &uri, if_none_match) {
        Ok(asked) => asked,
        Err(not_modified) => return Ok(not_modified.into_response()),
    };
    Ok(asked.answer(Json(state.tracker.get_task(parse_id(&id, "task")?).await?)))
}

/// Complete a task (its assignee only).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tracker", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task id")),
    responses((status = 200, body = Task), (status = 403, description = "not the assignee", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`already_done`", body = ErrorBody)))]
pub async fn complete_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Task>> {
    Ok(Json(
        state
            .tracker
            .complete_task(parse_id(&id, "task")?, &caller)
            .await?,
    ))
}

/// Reassign every open task at random (manager, admin). Each reassignment is billed.
#[utoipa::path(post, path = "/api/v1/tasks/reshuffle", tag = "tracker", security(("bearer" = [])),
    responses((status = 200, body = ReshuffleResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reshuffle(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ReshuffleResult>> {
    caller.require(&[Role::Manager, Role::Admin])?;
    Ok(Json(state.tracker.reshuffle().await?))
}
