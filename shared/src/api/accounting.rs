use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::UserRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// An assignment fee (negative).
    Fee,
    /// A completion reward (positive).
    Reward,
    /// The end-of-day payout of a positive balance (negative).
    Payout,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Fee => "fee",
            EntryKind::Reward => "reward",
            EntryKind::Payout => "payout",
        }
    }
}

/// The task an audit-log entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryTask {
    pub id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
}

/// One row of a worker's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: Uuid,
    #[serde(with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// Negative for a fee and a payout, positive for a reward.
    pub amount_cents: i64,
    /// The task, for fees and rewards; `null` for payouts.
    pub task: Option<EntryTask>,
    /// The billing day (company time zone) the entry belongs to.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
}

/// One row of the ledger of every worker (`GET /api/v1/accounting/ledger`), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerRow {
    pub id: Uuid,
    pub user: crate::api::UserRef,
    #[serde(with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// Negative for a fee and a payout, positive for a reward.
    pub amount_cents: i64,
    pub task: Option<EntryTask>,
    /// The billing day (company time zone).
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
}

/// `GET /api/v1/accounting/ledger` filters and paging.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// First billing day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last billing day, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Only this user's rows.
    #[param(format = Uuid)]
    pub user: Option<String>,
    /// Page size, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

/// `GET /api/v1/accounting/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MyAccount {
    pub balance_cents: i64,
    /// Today's rewards plus fees (payouts excluded).
    pub earned_today_cents: i64,
    /// Today's entries, newest first.
    pub log: Vec<Entry>,
}

/// One worker's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Account {
    pub user: UserRef,
    pub balance_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayEarnings {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Fees charged minus rewards paid that day.
    pub earnings_cents: i64,
}

/// `GET /api/v1/accounting/earnings?from=&to=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Earnings {
    pub days: Vec<DayEarnings>,
}

/// `?from=&to=` (inclusive dates, company time zone).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRange {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last day, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

/// `POST /api/v1/accounting/close-day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CloseDayResult {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Workers paid out by this call (0 when the day was already closed).
    pub payouts: u32,
    pub paid_cents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Not sent yet (or waiting for its next retry after a failure).
    Pending,
    Sent,
    /// The last attempt failed; it is retried later.
    Failed,
}

/// A payout and the fate of its e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub user: UserRef,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub amount_cents: i64,
    pub mail_status: MailStatus,
    pub mail_attempts: u32,
    pub mail_error: Option<String>,
    pub mailed_at: Option<DateTime<Utc>>,
}
