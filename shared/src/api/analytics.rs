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
