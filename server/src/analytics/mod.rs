//! The analytics context (admin only): the company's earnings per day, how many employees
//! are in the red, and the most expensive task of a day, week, month or any range. It keeps
//! its own database, fed only by events (task titles from the tracker; ledger rows from
//! accounting), and can be rebuilt from those logs with the same answers.
//!
//! Days are billing days: a reward belongs to the day accounting billed it on (the
//! completion's day in the company's zone, or the next open day for a late event), the same
//! days accounting's earnings use, so the two always agree.

pub mod periods;
pub mod projection;
pub mod routes;
pub mod store;

#[cfg(test)]
mod tests;

use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use crate::error::{Error, Result};
use ates_shared::api::{AnalyticsDay, AnalyticsEarnings, AnalyticsSummary, MostExpensive, Period};
use chrono::NaiveDate;
use chrono_tz::Tz;

#[derive(Clone)]
pub struct Analytics {
    db: Db,
    clock: SharedClock,
    timezone: Tz,
}

/// What `most-expensive` is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The period that holds the date.
    Period(Period, NaiveDate),
    /// Any range of days.
    Range(NaiveDate, NaiveDate),
}

impl Analytics {
    pub fn new(db: Db, clock: SharedClock, timezone: Tz) -> Analytics {
        Analytics {
            db,
            clock,
            timezone,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Today in the company's time zone.
    pub fn today(&self) -> NaiveDate {
        periods::date_in(self.clock.now(), self.timezone)
    }

    /// One day's earnings and negative balances (today: as of now).
    pub async fn summary(&self, date: Option<NaiveDate>) -> Result<AnalyticsSummary> {
        let date = date.unwrap_or_else(|| self.today());
        let day = self.days(date, date).await?.pop().unwrap_or(AnalyticsDay {
            date,
            earnings_cents: 0,
            negative_balance_workers: 0,
        });
        Ok(AnalyticsSummary {
            date,
            earnings_cents: day.earnings_cents,
            negative_balance_workers: day.negative_balance_workers,
        })
    }

    /// Every day of `[from, to]` (default: the 30 days up to today).
    pub async fn earnings(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<AnalyticsEarnings> {
        let (from, to) = crate::dates::resolve_range(from, to, self.today())?;
        Ok(AnalyticsEarnings {
            days: self.days(from, to).await?,
        })
    }

    /// The employees in the red at the end of each day are counted by walking the days
    /// forward from the balances before `from`; from today on, the count is of the
    /// balances as they stand now (as the accounts list shows them).
    async fn days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AnalyticsDay>> {
        let today = self.today();
        Ok(self
            .db
            .read(move |conn| -> Result<_, DbError> {
                let earnings = store::earnings(conn, from, to)?;
                let mut balances = store::balances_before(conn, from)?;
                let mut negative = balances.values().filter(|b| **b < 0).count() as u32;
                let now = if to >= today {
                    Some(store::negative_balances_now(conn)?)
                } else {
                    None
                };
                let past_end = to.min(today.pred_opt().unwrap_or(today));
                let mut movements = if from <= past_end {
                    store::movements(conn, from, past_end)?
                } else {
                    Vec::new()
                }
                .into_iter()
                .peekable();
                let mut days = Vec::new();
                for date in from.iter_days().take_while(|d| *d <= to) {
                    while let Some((_, user, net)) = movements.next_if(|(d, _, _)| *d == date) {
                        let balance = balances.entry(user).or_insert(0);
                        let was_negative = *balance < 0;
                        *balance += net;
                        match (was_negative, *balance < 0) {
                            (false, true) => negative += 1,
                            (true, false) => negative -= 1,
                            _ => {}
                        }
                    }
                    days.push(AnalyticsDay {
                        date,
                        earnings_cents: earnings.get(&date).copied().unwrap_or(0),
                        negative_balance_workers: match now {
                            Some(now) if date >= today => now,
                            _ => negative,
                        },
                    });
                }
                Ok(days)
            })
            .await?)
    }

    /// The task with the largest completion reward among those completed in the span.
    pub async fn most_expensive(&self, span: Span) -> Result<MostExpensive> {
        let (from, to) = match span {
            Span::Period(period, date) => periods::bounds(period, date).ok_or_else(|| {
                Error::unprocessable("invalid_date", "`date`: the period runs past the calendar")
            })?,
            Span::Range(from, to) if from > to => {
                return Err(Error::unprocessable(
                    "invalid_range",
                    "`from` must not be after `to`",
                ));
            }
            Span::Range(from, to) => (from, to),
        };
        let task = self
            .db
            .read(move |conn| store::most_expensive(conn, from, to).map_err(DbError::from))
            .await?;
        Ok(MostExpensive { from, to, task })
    }
}

/// Analytics' read model: rebuilt from the tracker's and accounting's logs, as far as the
/// live consumers applied them.
pub fn read_model(
    analytics: Db,
    tracker: std::sync::Arc<dyn crate::events::transport::EventLog>,
    accounting: std::sync::Arc<dyn crate::events::transport::EventLog>,
) -> crate::events::rebuild::ReadModel {
    use crate::events::rebuild::{ReadModel, Source, replace_tables};
    use std::sync::Arc;
    ReadModel {
        context: ates_shared::api::RebuildContext::Analytics,
        db: analytics,
        migrations: store::migrations,
        sources: vec![
            Source::followed_by("analytics", tracker),
            Source::followed_by("analytics", accounting),
        ],
        replay: Arc::new(projection::Projection),
        swap_sql: replace_tables(store::MODEL_TABLES),
    }
}
