//! HTTP endpoints of accounting.

use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{AppQuery, Caller, parse_id};
use crate::paging::PageRequest;
use ates_shared::Role;
use ates_shared::api::{
    Account, CloseDayResult, DateRange, Earnings, Entry, ErrorBody, MyAccount, Page, PageParams,
    Payment,
};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;

const MONEY_ROLES: &[Role] = &[Role::Accountant, Role::Admin];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounting/me", get(my_account))
        .route("/api/v1/accounting/accounts", get(accounts))
        .route(
            "/api/v1/accounting/accounts/{user_id}/log",
            get(account_log),
        )
        .route("/api/v1/accounting/earnings", get(earnings))
        .route("/api/v1/accounting/ledger", get(ledger))
        .route(
            "/api/v1/accounting/tasks/{task_id}/ledger",
            get(task_ledger),
        )
        .route("/api/v1/accounting/close-day", post(close_day))
        .route("/api/v1/accounting/payments", get(payments))
}

/// My balance, what I earned today (fees + rewards) and today's audit log.
#[utoipa::path(get, path = "/api/v1/accounting/me", tag = "accounting", security(("bearer" = [])),
    responses((status = 200, body = MyAccount), (status = 401, body = ErrorBody)))]
pub async fn my_account(State(state): State<AppState>, caller: Caller) -> Result<Json<MyAccount>> {
    Ok(Json(state.accounting.my_account(caller.id).await?))
}

/// Every worker's balance (accountant, admin).
#[utoipa::path(get, path = "/api/v1/accounting/accounts", tag = "accounting", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<Account>), (status = 403, body = ErrorBody)))]
pub async fn accounts(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<PageParams>,
) -> Result<Json<Page<Account>>> {
    caller.require(MONEY_ROLES)?;
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.accounting.accounts(page).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Page size, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
    /// Only this billing day, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// A worker's audit log, newest first (accountant, admin; anyone for their own id).
#[utoipa::path(get, path = "/api/v1/accounting/accounts/{user_id}/log", tag = "accounting", security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The worker's user id"), LogParams), responses((status = 200, body = Page<Entry>), (status = 403, body = ErrorBody)))]
pub async fn account_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    AppQuery(params): AppQuery<LogParams>,
) -> Result<Json<Page<Entry>>> {
    let user_id = parse_id(&user_id, "user")?;
    if user_id != caller.id {
        caller.require(MONEY_ROLES)?;
    }
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(
        state.accounting.log(user_id, params.date, page).await?,
    ))
}

/// Every worker's ledger rows of a range of billing days (at most 366), or one user's,
/// oldest first: what accountants export (accountant, admin).
#[utoipa::path(get, path = "/api/v1/accounting/ledger", tag = "accounting", security(("bearer" = [])),
    params(ates_shared::api::LedgerParams),
    responses((status = 200, body = Page<ates_shared::api::LedgerRow>), (status = 403, body = ErrorBody)))]
pub async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<ates_shared::api::LedgerParams>,
) -> Result<Json<Page<ates_shared::api::LedgerRow>>> {
    caller.require(MONEY_ROLES)?;
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let user = match params.user.as_deref() {
        None => None,
        Some(raw) => Some(crate::text::parse_uuid(raw).ok_or_else(|| {
            crate::error::Error::unprocessable("invalid_user", "`user` must be a user id")
        })?),
    };
    Ok(Json(
        state
            .accounting
            .ledger(params.from, params.to, user, page)
            .await?,
    ))
}

/// Every ledger row of one task, oldest first: each assignment's fee (whom it charged)
/// and the reward (accountant, admin). A task accounting has not heard of has none.
#[utoipa::path(get, path = "/api/v1/accounting/tasks/{task_id}/ledger", tag = "accounting", security(("bearer" = [])),
    params(("task_id" = Uuid, Path, description = "The task's id")),
    responses((status = 200, body = Vec<ates_shared::api::LedgerRow>), (status = 403, body = ErrorBody)))]
pub async fn task_ledger(
    State(state): State<AppState>,
    caller: Caller,
    Path(task_id): Path<String>,
) -> Result<Json<Vec<ates_shared::api::LedgerRow>>> {
    caller.require(MONEY_ROLES)?;
    let task_id = parse_id(&task_id, "task")?;
    Ok(Json(state.accounting.task_ledger(task_id).await?))
}

/// The company's earnings per day: fees charged minus rewards paid (accountant, admin).
#[utoipa::path(get, path = "/api/v1/accounting/earnings", tag = "accounting", security(("bearer" = [])), params(DateRange),
    responses((status = 200, body = Earnings), (status = 422, body = ErrorBody)))]
pub async fn earnings(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(range): AppQuery<DateRange>,
) -> Result<Json<Earnings>> {
    caller.require(MONEY_ROLES)?;
    Ok(Json(state.accounting.earnings(range.from, range.to).await?))
}

/// Close today now: pay out positive balances and e-mail the workers (accountant, admin).
/// Closing an already closed day changes nothing.
#[utoipa::path(post, path = "/api/v1/accounting/close-day", tag = "accounting", security(("bearer" = [])),
    responses((status = 200, body = CloseDayResult), (status = 403, body = ErrorBody)))]
pub async fn close_day(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CloseDayResult>> {
    caller.require(MONEY_ROLES)?;
    Ok(Json(state.accounting.close_today().await?))
}

/// Payouts and whether their e-mail went out (accountant, admin).
#[utoipa::path(get, path = "/api/v1/accounting/payments", tag = "accounting", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<Payment>), (status = 403, body = ErrorBody)))]
pub async fn payments(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<PageParams>,
) -> Result<Json<Page<Payment>>> {
    caller.require(MONEY_ROLES)?;
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.accounting.payments(page).await?))
}
