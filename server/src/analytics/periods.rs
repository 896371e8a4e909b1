//! The periods analytics reports on, as ranges of billing days in the company's time zone:
//! a day, its ISO week (Monday to Sunday) or its calendar month.

use ates_shared::api::Period;
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;

/// The company's date at instant `now`.
pub fn date_in(now: DateTime<Utc>, timezone: Tz) -> NaiveDate {
    now.with_timezone(&timezone).date_naive()
}

/// The first and last day of the `period` that holds `date`; `None` at the ends of the
/// calendar, where a week would run past the last representable day.
pub fn bounds(period: Period, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    match period {
        Period::Day => Some((date, date)),
        Period::Week => {
            let week = date.week(chrono::Weekday::Mon);
            Some((week.checked_first_day()?, week.checked_last_day()?))
        }
        Period::Month => {
            let first = date.with_day(1)?;
            let last = first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|next| next.checked_sub_days(Days::new(1)))
                .unwrap_or(NaiveDate::MAX);
            Some((first, last))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn span(period: Period, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        bounds(period, date).unwrap()
    }

    #[test]
    fn a_week_past_the_end_of_the_calendar_is_refused_not_a_panic() {
        assert_eq!(bounds(Period::Week, NaiveDate::MAX), None);
        assert_eq!(bounds(Period::Week, NaiveDate::MIN), None);
        assert!(bounds(Period::Month, NaiveDate::MAX).is_some());
    }

    #[test]
    fn a_day_is_itself() {
        assert_eq!(
            span(Period::Day, day("2026-11-24")),
            (day("2026-11-24"), day("2026-11-24"))
        );
    }

    #[test]
    fn weeks_run_monday_to_sunday_across_month_and_year_ends() {
        // Sunday 2026-11-29 belongs to the week that began on Monday the 23rd.
        assert_eq!(
            span(Period::Week, day("2026-11-29")),
            (day("2026-11-23"), day("2026-11-29"))
        );
        assert_eq!(
            span(Period::Week, day("2026-11-30")),
            (day("2026-11-30"), day("2026-12-06"))
        );
        // ISO week 1 of 2027 starts on Monday 2027-01-04; 2027-01-01 is in the week before.
        assert_eq!(
            span(Period::Week, day("2027-01-01")),
            (day("2026-12-28"), day("2027-01-03"))
        );
    }

    #[test]
    fn months_are_calendar_months_including_leap_februaries() {
        assert_eq!(
            span(Period::Month, day("2028-02-15")),
            (day("2028-02-01"), day("2028-02-29"))
        );
        assert_eq!(
            span(Period::Month, day("2026-02-01")),
            (day("2026-02-01"), day("2026-02-28"))
        );
        assert_eq!(
            span(Period::Month, day("2026-12-31")),
            (day("2026-12-01"), day("2026-12-31"))
        );
    }

    #[test]
    fn the_date_follows_the_company_zone_up_to_its_last_second() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 23:59:59 on the last day of February in New York is already March in UTC.
        let last_second = at("2026-03-01T04:59:59Z");
        assert_eq!(date_in(last_second, ny), day("2026-02-28"));
        assert_eq!(date_in(last_second, chrono_tz::UTC), day("2026-03-01"));
        assert_eq!(
            span(Period::Month, date_in(last_second, ny)).1,
            day("2026-02-28")
        );
        assert_eq!(date_in(at("2026-03-01T05:00:00Z"), ny), day("2026-03-01"));
        // 23:59:59 on a Sunday in Tokyo still belongs to that ISO week.
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let sunday_night = date_in(at("2026-11-29T14:59:59Z"), tokyo);
        assert_eq!(
            span(Period::Week, sunday_night),
            (day("2026-11-23"), day("2026-11-29"))
        );
        assert_eq!(
            date_in(at("2026-11-29T15:00:00Z"), tokyo),
            day("2026-11-30")
        );
    }
}
