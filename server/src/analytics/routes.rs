//! HTTP endpoints of analytics (admin only).

use super::Span;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{AppQuery, Caller};
use ates_shared::Role;
use ates_shared::api::{
    AnalyticsEarnings, AnalyticsSummary, DateRange, ErrorBody, MostExpensive, Period,
};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/analytics/summary", get(summary))
        .route("/api/v1/analytics/earnings", get(earnings))
        .route("/api/v1/analytics/most-expensive", get(most_expensive))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// The day, `YYYY-MM-DD` (default: today in the company's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// One day's company earnings and how many employees ended it with a negative balance
/// (today: now). Admin only.
#[utoipa::path(get, path = "/api/v1/analytics/summary", tag = "analytics", security(("bearer" = [])),
    params(SummaryParams),
    responses((status = 200, body = AnalyticsSummary), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<SummaryParams>,
) -> Result<Json<AnalyticsSummary>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(state.analytics.summary(params.date).await?))
}

/// Earnings and negative balances for every day of a range (at most 366 days). Admin only.
#[utoipa::path(get, path = "/api/v1/analytics/earnings", tag = "analytics", security(("bearer" = [])),
    params(DateRange),
    responses((status = 200, body = AnalyticsEarnings), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn earnings(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(range): AppQuery<DateRange>,
) -> Result<Json<AnalyticsEarnings>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(state.analytics.earnings(range.from, range.to).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MostExpensiveParams {
    /// `day`, `week` (ISO, Monday to Sunday) or `month`, holding `date` (default `day`).
    #[param(inline)]
    pub period: Option<Period>,
    /// A day of the period, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    /// Instead of a period: the first day of a range (needs `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// The last day of the range (needs `from`).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

/// The task with the largest completion reward among those completed in a period or range;
/// ties go to the earliest completion, then the smallest task id; `task` is null when
/// nothing was completed. Admin only.
#[utoipa::path(get, path = "/api/v1/analytics/most-expensive", tag = "analytics", security(("bearer" = [])),
    params(MostExpensiveParams),
    responses((status = 200, body = MostExpensive), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn most_expensive(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<MostExpensiveParams>,
) -> Result<Json<MostExpensive>> {
    caller.require(&[Role::Admin])?;
    let span = match params {
        MostExpensiveParams {
            period: None,
            date: None,
            from: Some(from),
            to: Some(to),
        } => Span::Range(from, to),
        MostExpensiveParams {
            from: None,
            to: None,
            period,
            date,
        } => Span::Period(
            period.unwrap_or(Period::Day),
            date.unwrap_or_else(|| state.analytics.today()),
        ),
        MostExpensiveParams {
            from: Some(_),
            to: Some(_),
            ..
        } => {
            return Err(Error::unprocessable(
                "invalid_query",
                "give either `period`/`date` or `from`/`to`, not both",
            ));
        }
        _ => {
            return Err(Error::unprocessable(
                "invalid_query",
                "`from` and `to` go together: give both",
            ));
        }
    };
    Ok(Json(state.analytics.most_expensive(span).await?))
}
