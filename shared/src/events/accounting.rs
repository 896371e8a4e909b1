//! Events produced by the accounting context.

use super::{Envelope, EventPayload};
use crate::api::EntryKind;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Business event, version 1 (historic): a row was added to a worker's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionAppliedV1 {
    pub transaction_id: Uuid,
    pub user_id: Uuid,
    pub task_id: Option<Uuid>,
    pub kind: EntryKind,
    /// Negative for fees and payouts.
    pub amount_cents: i64,
    pub billing_date: NaiveDate,
    #[serde(with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
}

/// Business event, version 2 (current): a row was added to a worker's ledger. It carries
/// every column of the row, so a rebuild of the ledger from accounting's own log restores
/// each row exactly, including which event caused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionApplied {
    pub transaction_id: Uuid,
    pub user_id: Uuid,
    pub task_id: Option<Uuid>,
    pub kind: EntryKind,
    /// Negative for fees and payouts.
    pub amount_cents: i64,
    pub billing_date: NaiveDate,
    #[serde(with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
    /// The tracker event that caused the row; none for payouts.
    pub cause_event_id: Option<Uuid>,
}

impl From<TransactionAppliedV1> for TransactionApplied {
    /// Upcast: version 1 did not say which event caused the row.
    fn from(v1: TransactionAppliedV1) -> Self {
        TransactionApplied {
            transaction_id: v1.transaction_id,
            user_id: v1.user_id,
            task_id: v1.task_id,
            kind: v1.kind,
            amount_cents: v1.amount_cents,
            billing_date: v1.billing_date,
            at: v1.at,
            cause_event_id: None,
        }
    }
}

impl TransactionApplied {
    /// Reads any known version of `TransactionApplied` as the newest one.
    /// `Ok(None)` when the envelope is not a `TransactionApplied` at all.
    pub fn from_envelope(env: &Envelope) -> Result<Option<TransactionApplied>, serde_json::Error> {
        if env.is::<TransactionApplied>() {
            env.payload::<TransactionApplied>().map(Some)
        } else if env.is::<TransactionAppliedV1>() {
            env.payload::<TransactionAppliedV1>()
                .map(|v1| Some(v1.into()))
        } else {
            Ok(None)
        }
    }
}

/// Business event: a billing day was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayClosed {
    pub date: NaiveDate,
    #[serde(with = "crate::time::rfc3339")]
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
    #[serde(with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
}

impl EventPayload for TransactionAppliedV1 {
    const NAME: &'static str = "TransactionApplied";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}

impl EventPayload for TransactionApplied {
    const NAME: &'static str = "TransactionApplied";
    const VERSION: u32 = 2;
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
