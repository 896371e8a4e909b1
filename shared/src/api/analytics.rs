use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `GET /api/v1/analytics/summary?date=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnalyticsSummary {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub earnings_cents: i64,
    pub negative_balance_workers: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpensiveTask {
    pub id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
    pub reward_cents: i64,
    #[serde(with = "crate::time::rfc3339")]
    pub completed_at: DateTime<Utc>,
}

/// `GET /api/v1/analytics/most-expensive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MostExpensive {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub task: Option<ExpensiveTask>,
}

/// One day of `GET /api/v1/analytics/earnings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnalyticsDay {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Fees charged minus rewards paid that day, in cents (negative: the company lost money).
    pub earnings_cents: i64,
    /// Employees whose balance was negative at the end of the day (today: now).
    pub negative_balance_workers: u32,
}

/// `GET /api/v1/analytics/earnings?from=&to=`: every day of the range, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnalyticsEarnings {
    pub days: Vec<AnalyticsDay>,
}

/// The periods `most-expensive` answers for: the day itself, its ISO week (Monday to
/// Sunday) or its calendar month, in the company's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}
