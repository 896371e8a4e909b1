//! Closing a billing day: each positive balance at the end of the day is paid out (a payout
//! row brings it to zero) and queued for an e-mail; negative balances carry over. Closing a
//! day twice changes nothing.

use super::ledger::transaction_applied;
use super::store::{self, NewRow};
use crate::db::Tx;
use crate::error::Result;
use crate::events::Outbox;
use ates_shared::api::{CloseDayResult, EntryKind};
use ates_shared::events::accounting::{DayClosed, PaymentMade};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use uuid::Uuid;

/// Closes `date` in the caller's transaction, unless it is closed already.
pub fn close_day(tx: &Tx<'_>, date: NaiveDate, now: DateTime<Utc>) -> Result<CloseDayResult> {
    if store::is_closed(tx, date)? {
        return Ok(CloseDayResult {
            date,
            payouts: 0,
            paid_cents: 0,
        });
    }
    let mut paid_cents = 0;
    let balances = store::positive_balances_at_end_of(tx, date)?;
    for (user_id, amount) in &balances {
        let row = NewRow {
            id: Uuid::now_v7(),
            user_id: *user_id,
            task_id: None,
            kind: EntryKind::Payout,
            amount_cents: -amount,
            billing_date: date,
            at: now,
            event_id: None,
        };
        store::append(tx, &row)?;
        Outbox::publish(tx, transaction_applied(&row), now)?;
        let payment_id = Uuid::now_v7();
        store::insert_payment(tx, payment_id, *user_id, date, *amount, now)?;
        Outbox::publish(
            tx,
            PaymentMade {
                payment_id,
                user_id: *user_id,
                date,
                amount_cents: *amount,
                at: now,
            },
            now,
        )?;
        paid_cents += amount;
    }
    let payouts = balances.len() as u32;
    store::mark_closed(tx, date, now)?;
    Outbox::publish(
        tx,
        DayClosed {
            date,
            closed_at: now,
            payouts,
            paid_cents,
        },
        now,
    )?;
    Ok(CloseDayResult {
        date,
        payouts,
        paid_cents,
    })
}

/// Closes, in the caller's transaction and oldest first, every open day up to and
/// including `through`: from the day after the last closed one (or the day accounting
/// started). Because every close goes through here, closed days always form an unbroken
/// run, and no day is paid before the days ahead of it.
pub fn close_through(
    tx: &Tx<'_>,
    through: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<CloseDayResult>> {
    let mut day = match store::last_closed_day(tx)? {
        Some(last) => last.succ_opt().unwrap_or(last),
        None => started_on(tx)?.unwrap_or(through),
    };
    let mut closed = Vec::new();
    while day <= through {
        closed.push(close_day(tx, day, now)?);
        day = match day.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    Ok(closed)
}

/// Whether every day up to `through` is closed already, so closing changes nothing. The
/// day closer asks this every tick before it writes: an empty commit would tell every
/// client "accounting changed" once a second.
pub fn all_closed_through(conn: &Connection, through: NaiveDate) -> rusqlite::Result<bool> {
    Ok(match store::last_closed_day(conn)? {
        Some(last) => last >= through,
        None => started_on(conn)?.is_some_and(|started| started > through),
    })
}

/// The day accounting first ran.
fn started_on(conn: &Connection) -> rusqlite::Result<Option<NaiveDate>> {
    Ok(store::meta(conn, "started_on")?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.parse().ok()))
}
