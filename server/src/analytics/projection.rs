//! The analytics consumer: turns the tracker's and accounting's events into the analytics
//! tables. It decides nothing: amounts, billing days and rewards are accounting's published
//! facts, so replaying the logs (a rebuild) gives the same answers.

use super::store;
use crate::db::Tx;
use crate::events::{Envelope, EventPayload, Handler};
use ates_shared::api::EntryKind;
use ates_shared::events::accounting::TransactionApplied;
use ates_shared::events::tracker::TaskCreated;

pub struct Projection;

impl Handler for Projection {
    fn needs(&self, event_name: &str) -> bool {
        event_name == TaskCreated::NAME || event_name == TransactionApplied::NAME
    }

    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        if let Some(task) = TaskCreated::from_envelope(event)? {
            store::describe_task(tx, task.task_id, &task.title, task.jira_id.as_deref())?;
        } else if let Some(t) = TransactionApplied::from_envelope(event)? {
            let company_cents = match t.kind {
                EntryKind::Fee | EntryKind::Reward => -t.amount_cents,
                EntryKind::Payout => 0,
            };
            store::record_movement(tx, t.user_id, t.billing_date, t.amount_cents, company_cents)?;
            if t.kind == EntryKind::Reward {
                let task_id = t
                    .task_id
                    .ok_or_else(|| anyhow::anyhow!("a reward without a task"))?;
                store::record_reward(tx, task_id, t.amount_cents, t.at, t.billing_date)?;
            }
        }
        Ok(())
    }
}
