//! Rebuilding accounting's books from the logs without deciding anything again.
//!
//! From auth's log: the user copies. From the tracker's log: task titles and prices (the
//! same keyed hash under the kept seed, so the same prices). From accounting's own log, the
//! decisions as they were published: every ledger row with its id, amount and billing day
//! (`TransactionApplied`), every payment (`PaymentMade`), every closed day (`DayClosed`).
//! Assignments and completions are *not* billed again, so no fee, reward or payout is added.

use super::ledger::Ledger;
use super::store::{self, NewRow};
use crate::db::{Db, Tx};
use crate::events::rebuild::{ReadModel, Source, replace_tables};
use crate::events::{Envelope, Handler};
use ates_shared::api::RebuildContext;
use ates_shared::events::accounting::{DayClosed, PaymentMade, TransactionApplied};
use ates_shared::events::tracker::{TaskAssigned, TaskCompleted};
use std::sync::Arc;

/// Replaces the payments but keeps each one's e-mail state, so a rebuild sends no e-mail
/// again. A payment the live table had lost is shown as failed and never retried
/// automatically: whether its e-mail went out is unknown.
/// Ledger rows replayed from `TransactionApplied` v1 do not know the event that caused them;
/// they keep the cause the live row has.
const KEEP_LEDGER_CAUSES: &str = "
UPDATE rebuilt.ledger SET event_id = (SELECT l.event_id FROM main.ledger l WHERE l.id = rebuilt.ledger.id)
WHERE event_id IS NULL AND kind != 'payout';
";

const SWAP_PAYMENTS: &str = "
CREATE TEMP TABLE kept_mail AS
    SELECT id, mail_status, mail_attempts, mail_error, next_attempt_at, mailed_at FROM main.payments;
DELETE FROM main.payments;
INSERT INTO main.payments
    (id, user_id, date, amount_cents, created_at, mail_status, mail_attempts, mail_error, next_attempt_at, mailed_at)
SELECT r.id, r.user_id, r.date, r.amount_cents, r.created_at,
       coalesce(k.mail_status, 'failed'), coalesce(k.mail_attempts, 0),
       CASE WHEN k.id IS NULL THEN 'the e-mail state was lost before a rebuild; not resent' ELSE k.mail_error END,
       coalesce(k.next_attempt_at, '9999-12-31T00:00:00Z'), k.mailed_at
FROM rebuilt.payments r LEFT JOIN kept_mail k ON k.id = r.id;
DROP TABLE kept_mail;
";

/// Accounting's read model: rebuilt from auth's and the tracker's logs (as far as the live
/// consumers applied them) and its own log of decisions.
pub fn read_model(
    accounting: Db,
    auth: Arc<dyn crate::events::transport::EventLog>,
    tracker: Arc<dyn crate::events::transport::EventLog>,
    ledger: Arc<Ledger>,
) -> ReadModel {
    ReadModel {
        context: RebuildContext::Accounting,
        db: accounting.clone(),
        migrations: store::migrations,
        sources: vec![
            Source::followed_by("accounting", auth),
            Source::followed_by("accounting", tracker),
            Source::own(accounting.clone()),
        ],
        replay: Arc::new(Replay { ledger }),
        swap_sql: format!(
            "{KEEP_LEDGER_CAUSES}{}{SWAP_PAYMENTS}",
            replace_tables(store::MODEL_TABLES)
        ),
    }
}

pub struct Replay {
    ledger: Arc<Ledger>,
}

impl Handler for Replay {
    fn handle(&self, tx: &Tx<'_>, event: &Envelope) -> anyhow::Result<()> {
        if let Some(t) = TransactionApplied::from_envelope(event)? {
            if let Some(task_id) = t.task_id {
                self.ledger.prices(tx, task_id)?;
            }
            store::append(
                tx,
                &NewRow {
                    id: t.transaction_id,
                    user_id: t.user_id,
                    task_id: t.task_id,
                    kind: t.kind,
                    amount_cents: t.amount_cents,
                    billing_date: t.billing_date,
                    at: t.at,
                    event_id: t.cause_event_id,
                },
            )?;
        } else if event.is::<PaymentMade>() {
            let p: PaymentMade = event.payload()?;
            store::insert_payment(tx, p.payment_id, p.user_id, p.date, p.amount_cents, p.at)?;
        } else if event.is::<DayClosed>() {
            let d: DayClosed = event.payload()?;
            store::mark_closed(tx, d.date, d.closed_at)?;
        } else if event.is::<TaskAssigned>() {
            let a: TaskAssigned = event.payload()?;
            self.ledger.prices(tx, a.task_id)?;
        } else if event.is::<TaskCompleted>() {
            let c: TaskCompleted = event.payload()?;
            self.ledger.prices(tx, c.task_id)?;
        } else {
            // Users and task descriptions: the live handler's own code (it publishes
            // nothing for these).
            self.ledger.handle(tx, event)?;
        }
        Ok(())
    }
}
