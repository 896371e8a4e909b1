//! The accounting context: prices, the ledger of every worker, balances, end-of-day payouts
//! and their e-mails. Fed only by events (users from auth; tasks, assignments and
//! completions from the tracker); publishes `TransactionApplied`, `PaymentMade`, `DayClosed`.

pub mod close;
pub mod ledger;
pub mod mail;
pub mod pricing;
pub mod replay;
pub mod routes;
pub mod store;

#[cfg(test)]
mod tests;

use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use crate::error::{Error, Result};
use crate::events::EventSystem;
use crate::paging::PageRequest;
use ates_shared::api::{
    Account, CloseDayResult, DayEarnings, Earnings, Entry, MailStatus, MyAccount, Page, Payment,
    UserRef,
};
use chrono::NaiveDate;
use chrono_tz::Tz;
use mail::Mailer;
use rusqlite::params;
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

#[derive(Clone)]
pub struct Accounting {
    db: Db,
    clock: SharedClock,
    timezone: Tz,
    mailer: Mailer,
    mail_due: Arc<Notify>,
}

impl Accounting {
    pub fn new(db: Db, clock: SharedClock, timezone: Tz, mailer: Mailer) -> Accounting {
        Accounting {
            db,
            clock,
            timezone,
            mailer,
            mail_due: Arc::new(Notify::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Today in the company's time zone.
    /// The company's time zone.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&self.timezone).date_naive()
    }

    /// Creates (once) the pricing seed and the day accounting started; returns the seed.
    pub async fn init(&self) -> Result<Vec<u8>> {
        let (seed, today) = (pricing::new_seed(), self.today());
        self.db
            .write(move |tx| -> Result<Vec<u8>> {
                store::set_meta_if_absent(tx, "pricing_seed", &seed)?;
                store::set_meta_if_absent(tx, "started_on", today.to_string().as_bytes())?;
                Ok(store::meta(tx, "pricing_seed")?.unwrap_or(seed))
            })
            .await
    }

    /// Balance, what was earned in the current billing day and that day's rows.
    pub async fn my_account(&self, user_id: Uuid) -> Result<MyAccount> {
        let today = self.today();
        Ok(self
            .db
            .read(move |conn| -> Result<MyAccount, DbError> {
                let day = store::open_day_from(conn, today)?;
                Ok(MyAccount {
                    balance_cents: store::balance(conn, user_id)?,
                    earned_today_cents: store::earned_on(conn, user_id, day)?,
                    log: store::entries(conn, user_id, Some(day), None, 1_000)?,
                })
            })
            .await?)
    }

    pub async fn accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let rows = self
            .db
            .read(move |conn| {
                store::accounts(conn, page.after, page.fetch()).map_err(DbError::from)
            })
            .await?;
        Ok(page.page(rows, |a| a.user.id))
    }

    /// A user's audit log, newest first.
    pub async fn log(
        &self,
        user_id: Uuid,
        date: Option<NaiveDate>,
        page: PageRequest,
    ) -> Result<Page<Entry>> {
        let rows = self
            .db
            .read(move |conn| -> Result<_, DbError> {
                let known = store::user_contact(conn, user_id)?.is_some()
                    || store::balance(conn, user_id)? != 0;
                Ok(known
                    .then(|| store::entries(conn, user_id, date, page.after, page.fetch()))
                    .transpose()?)
            })
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!("accounting knows no user with id {user_id}"))
            })?;
        Ok(page.page(rows, |e| e.id))
    }

    /// Every worker's ledger rows of `[from, to]` (default: the last 30 days), or one
    /// user's, oldest first, a page at a time.
    pub async fn ledger(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        user: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<ates_shared::api::LedgerRow>> {
        let (from, to) = crate::dates::resolve_range(from, to, self.today())?;
        let rows = self
            .db
            .read(move |conn| {
                store::ledger(conn, from, to, user, page.after, page.fetch()).map_err(DbError::from)
            })
            .await?;
        Ok(page.page(rows, |r| r.id))
    }

    /// Every ledger row of one task, oldest first.
    pub async fn task_ledger(&self, task_id: Uuid) -> Result<Vec<ates_shared::api::LedgerRow>> {
        Ok(self
            .db
            .read(move |conn| store::task_ledger(conn, task_id).map_err(DbError::from))
            .await?)
    }

    /// Company earnings for every day of `[from, to]` (days without activity earn 0).
    pub async fn earnings(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Earnings> {
        let (from, to) = crate::dates::resolve_range(from, to, self.today())?;
        let known = self
            .db
            .read(move |conn| store::company_earnings(conn, from, to).map_err(DbError::from))
            .await?;
        let mut known = known.into_iter().peekable();
        let days = from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(|date| {
                let earnings_cents = match known.peek() {
                    Some((d, cents)) if *d == date => {
                        let cents = *cents;
                        known.next();
                        cents
                    }
                    _ => 0,
                };
                DayEarnings {
                    date,
                    earnings_cents,
                }
            })
            .collect();
        Ok(Earnings { days })
    }

    /// Closes today (on demand). Closing a closed day changes nothing.
    pub async fn close_today(&self) -> Result<CloseDayResult> {
        let today = self.today();
        let closed = self.close_through(today).await?;
        Ok(closed
            .into_iter()
            .last()
            .filter(|last| last.date == today)
            .unwrap_or(CloseDayResult {
                date: today,
                payouts: 0,
                paid_cents: 0,
            }))
    }

    /// Closes every day before today that is still open, oldest first (at midnight, and
    /// after downtime).
    pub async fn close_missed_days(&self) -> Result<Vec<CloseDayResult>> {
        match self.today().pred_opt() {
            Some(yesterday) => self.close_through(yesterday).await,
            None => Ok(Vec::new()),
        }
    }

    async fn close_through(&self, through: NaiveDate) -> Result<Vec<CloseDayResult>> {
        let nothing_to_close = self
            .db
            .read(move |conn| close::all_closed_through(conn, through).map_err(DbError::from))
            .await?;
        if nothing_to_close {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let closed = self
            .db
            .write(move |tx| close::close_through(tx, through, now))
            .await?;
        for day in &closed {
            tracing::info!(date = %day.date, payouts = day.payouts, paid_cents = day.paid_cents, "day closed");
        }
        if closed.iter().any(|day| day.payouts > 0) {
            self.mail_due.notify_one();
        }
        Ok(closed)
    }

    pub async fn payments(&self, page: PageRequest) -> Result<Page<Payment>> {
        let rows = self
            .db
            .read(move |conn| -> Result<Vec<Payment>, DbError> {
                let mut stmt = conn.prepare_cached(
                    "SELECT p.id, p.user_id, coalesce(u.username, ''), p.date, p.amount_cents, p.mail_status,
                            p.mail_attempts, p.mail_error, p.mailed_at
                     FROM payments p LEFT JOIN users u ON u.id = p.user_id
                     WHERE ?1 IS NULL OR p.id < ?1 ORDER BY p.id DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![page.after, page.fetch()], |r| {
                    let status: String = r.get(5)?;
                    Ok(Payment {
                        id: r.get(0)?,
                        user: UserRef { id: r.get(1)?, username: r.get(2)? },
                        date: r.get(3)?,
                        amount_cents: r.get(4)?,
                        mail_status: match status.as_str() {
                            "sent" => MailStatus::Sent,
                            "failed" => MailStatus::Failed,
                            _ => MailStatus::Pending,
                        },
                        mail_attempts: r.get(6)?,
                        mail_error: r.get(7)?,
                        mailed_at: r.get(8)?,
                    })
                })?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await?;
        Ok(page.page(rows, |p| p.id))
    }

    /// Closes every day that has ended (midnight in the company's zone), checking every
    /// `tick`. At start it first lets the consumers apply the events already waiting (for at
    /// most a minute), so days missed while the server was down close with everything that
    /// happened in them.
    pub async fn run_day_closer(
        self,
        events: EventSystem,
        mut shutdown: watch::Receiver<bool>,
        tick: std::time::Duration,
    ) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        while tokio::time::Instant::now() < deadline && !*shutdown.borrow() {
            if events.status().await.map(|s| s.caught_up).unwrap_or(false) {
                break;
            }
            tokio::time::sleep(tick).await;
        }
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.close_missed_days().await {
                tracing::error!(error = %e, "closing ended days");
            }
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Sends payout e-mails as they fall due: at once after a close, and retries later.
    /// Its own task, so a slow mail server never delays closing a day.
    pub async fn run_mailer(self, mut shutdown: watch::Receiver<bool>, tick: std::time::Duration) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = mail::send_due(&self.db, &self.mailer, &self.clock).await {
                tracing::error!(error = %e, "sending payout e-mails");
            }
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = self.mail_due.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
