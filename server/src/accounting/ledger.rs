//! The accounting consumer: builds the ledger from auth's and the tracker's events.
//! Every assignment debits the assignee by the task's fee; every completion credits the
//! reward. Each row is published as `TransactionApplied`.

use super::pricing;
use super::store::{self, NewRow, UserCopy};
use crate::db::Tx;
use crate::events::{Envelope, Handler, Outbox};
use ates_shared::api::EntryKind;
use ates_shared::events::accounting::TransactionApplied;
use ates_shared::events::auth::UserUpdated;
use ates_shared::events::tracker::{TaskAssigned, TaskCompleted, TaskCreated};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

pub struct Ledger {
    pub timezone: Tz,
    pub seed: Vec<u8>,
}

impl Handler for Ledger {
    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        if let Some(u) = UserUpdated::from_envelope(event)? {
            store::upsert_user(
                tx,
                &UserCopy {
                    id: u.user_id,
                    username: u.username,
                    full_name: u.full_name,
                    email: u.email,
                    role: u.role,
                    active: u.active,
                    version: u.version,
                    access_version: u.access_version,
                },
            )?;
        } else if let Some(task) = TaskCreated::from_envelope(event)? {
            self.prices(tx, task.task_id)?;
            store::describe_task(tx, task.task_id, &task.title, task.jira_id.as_deref())?;
        } else if event.is::<TaskAssigned>() {
            let a: TaskAssigned = event.payload()?;
            let prices = self.prices(tx, a.task_id)?;
            self.record(
                tx,
                event.event_id,
                a.assignee_id,
                a.task_id,
                EntryKind::Fee,
                -prices.fee_cents,
                a.assigned_at,
            )?;
        } else if event.is::<TaskCompleted>() {
            let c: TaskCompleted = event.payload()?;
            let prices = self.prices(tx, c.task_id)?;
            if store::reward_paid(tx, c.task_id)? {
                tracing::warn!(task = %c.task_id, event = %event.event_id, "a second completion of a task is not paid again");
                return Ok(());
            }
            self.record(
                tx,
                event.event_id,
                c.assignee_id,
                c.task_id,
                EntryKind::Reward,
                prices.reward_cents,
                c.completed_at,
            )?;
        }
        Ok(())
    }
}

impl Ledger {
    /// The task's prices, fixed now if this is the first event that names it.
    pub(crate) fn prices(&self, tx: &Tx<'_>, task_id: Uuid) -> rusqlite::Result<store::Prices> {
        store::fix_prices(tx, task_id, || pricing::prices(&self.seed, task_id))
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        tx: &Tx<'_>,
        cause: Uuid,
        user_id: Uuid,
        task_id: Uuid,
        kind: EntryKind,
        amount_cents: i64,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        // The day of the event in the company's zone; if that day is closed already (the
        // event came late), the next open day.
        let billing_date = store::open_day_from(tx, at.with_timezone(&self.timezone).date_naive())?;
        let row = NewRow {
            id: Uuid::now_v7(),
            user_id,
            task_id: Some(task_id),
            kind,
            amount_cents,
            billing_date,
            at,
            event_id: Some(cause),
        };
        store::append(tx, &row)?;
        Outbox::publish(tx, transaction_applied(&row), at).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }
}

pub fn transaction_applied(row: &NewRow) -> TransactionApplied {
    TransactionApplied {
        transaction_id: row.id,
        user_id: row.user_id,
        task_id: row.task_id,
        kind: row.kind,
        amount_cents: row.amount_cents,
        billing_date: row.billing_date,
        at: row.at,
        cause_event_id: row.event_id,
    }
}
