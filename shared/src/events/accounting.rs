//! Events produced by the accounting context.

use super::EventPayload;
use crate::api::EntryKind;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Business event: a row was added to a worker's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionApplied {
    pub transaction_id: Uuid,
    pub user_id: Uuid,
    pub task_id: Option<Uuid>,
    pub kind: EntryKind,
    /// Negative for fees and payouts.
    pub amount_cents: i64,
    pub billing_date: NaiveDate,
    pub at: DateTime<Utc>,
}

/// Business event: a billing day was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayClosed {
    pub date: NaiveDate,
    pub closed_at: DateTime<Utc>,
    pub payouts: u32,
    pub paid_cents: i64,
}

/// Business event: a worker was paid their positive balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMade {
    pub payment_id: Uuid,
    pub user_id: Uuid,
    pub date: NaiveDate,
    pub amount_cents: i64,
    pub at: DateTime<Utc>,
}

impl EventPayload for TransactionApplied {
    const NAME: &'static str = "TransactionApplied";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}

impl EventPayload for DayClosed {
    const NAME: &'static str = "DayClosed";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}

impl EventPayload for PaymentMade {
    const NAME: &'static str = "PaymentMade";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}
