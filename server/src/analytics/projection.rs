//! The analytics consumer: turns the tracker's and accounting's events into the analytics
//! tables. It decides nothing: amounts, billing days and rewards are accounting's published
//! facts, so replaying the logs (a rebuild) gives the same answers.

use super::store;
use crate::db::{DbError, Tx};
use crate::events::outbox::Interest;
use crate::events::{Batch, Envelope, EventPayload, Handler, Prepared};
use ates_shared::api::EntryKind;
use ates_shared::events::accounting::TransactionApplied;
use ates_shared::events::tracker::TaskCreated;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use uuid::Uuid;

pub struct Projection;

impl Handler for Projection {
    fn interest(&self) -> Interest {
        Interest::Only(&[TaskCreated::NAME, TransactionApplied::NAME])
    }

    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        let mut movements = Movements::new(tx);
        movements.apply(event)?;
        Ok(movements.write()?)
    }

    fn batch<'t>(
        &'t self,
        tx: &'t Tx<'t>,
        _prepared: Option<Prepared>,
    ) -> Result<Box<dyn Batch + 't>, DbError> {
        Ok(Box::new(Movements::new(tx)))
    }
}

/// The projection's changes over one transaction (one event, or a consumer's batch). Task
/// descriptions and rewards are written at once; money movements are sums, so they are
/// summed here and written once by [`Movements::write`]: a batch of 16,000 fees over a
/// thousand workers on one day is about two thousand upserts, not 48,000. Nothing in the
/// transaction reads those sums before then.
struct Movements<'t> {
    tx: &'t Tx<'t>,
    /// Net movement per (billing day, user), per user, and the company's per day; in key
    /// order, so the upserts walk each table forwards.
    user_days: BTreeMap<(NaiveDate, Uuid), i64>,
    balances: BTreeMap<Uuid, i64>,
    company_days: BTreeMap<NaiveDate, i64>,
}

impl Batch for Movements<'_> {
    fn handle(&mut self, event: &Envelope) -> anyhow::Result<()> {
        self.apply(event)
    }

    fn finish(self: Box<Self>) -> Result<(), DbError> {
        Ok(self.write()?)
    }
}

impl<'t> Movements<'t> {
    fn new(tx: &'t Tx<'t>) -> Movements<'t> {
        Movements {
            tx,
            user_days: BTreeMap::new(),
            balances: BTreeMap::new(),
            company_days: BTreeMap::new(),
        }
    }

    fn apply(&mut self, event: &Envelope) -> anyhow::Result<()> {
        if let Some(task) = TaskCreated::from_envelope(event)? {
            store::describe_task(self.tx, task.task_id, &task.title, task.jira_id.as_deref())?;
        } else if let Some(t) = TransactionApplied::from_envelope(event)? {
            // What the company earned by it: minus a fee or reward; a payout moves nothing.
            let company_cents = match t.kind {
                EntryKind::Fee | EntryKind::Reward => -t.amount_cents,
                EntryKind::Payout => 0,
            };
            *self
                .user_days
                .entry((t.billing_date, t.user_id))
                .or_default() += t.amount_cents;
            *self.balances.entry(t.user_id).or_default() += t.amount_cents;
            if company_cents != 0 {
                *self.company_days.entry(t.billing_date).or_default() += company_cents;
            }
            if t.kind == EntryKind::Reward {
                let task_id = t
                    .task_id
                    .ok_or_else(|| anyhow::anyhow!("a reward without a task"))?;
                store::record_reward(self.tx, task_id, t.amount_cents, t.at, t.billing_date)?;
            }
        }
        Ok(())
    }

    /// Writes the summed movements.
    fn write(self) -> rusqlite::Result<()> {
        for ((date, user_id), net_cents) in self.user_days {
            store::move_user_day(self.tx, date, user_id, net_cents)?;
        }
        for (user_id, amount_cents) in self.balances {
            store::move_balance(self.tx, user_id, amount_cents)?;
        }
        for (date, earnings_cents) in self.company_days {
            store::move_company_day(self.tx, date, earnings_cents)?;
        }
        Ok(())
    }
}
