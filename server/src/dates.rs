//! Ranges of days as the API takes them: `?from=&to=`, both optional, checked once here so
//! accounting and analytics answer the same question the same way.

use crate::error::{Error, Result};
use chrono::{Duration, NaiveDate};

/// The longest range a per-day report answers at once.
pub const MAX_RANGE_DAYS: i64 = 366;

/// `to` defaults to `today`, `from` to 29 days before `to` (30 days in all). Refuses a
/// range that runs backwards or is longer than [`MAX_RANGE_DAYS`], naming the field.
pub fn resolve_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate)> {
    let to = to.unwrap_or(today);
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub_signed(Duration::days(29))
            .ok_or_else(|| Error::unprocessable("invalid_range", "`to` is too far in the past"))?,
    };
    if from > to {
        return Err(Error::unprocessable(
            "invalid_range",
            "`from` must not be after `to`",
        ));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(Error::unprocessable(
            "invalid_range",
            format!("`from`..`to` may span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_to_the_thirty_days_up_to_today() {
        assert_eq!(
            resolve_range(None, None, day("2026-03-31")).unwrap(),
            (day("2026-03-02"), day("2026-03-31"))
        );
    }

    #[test]
    fn refuses_backwards_and_overlong_ranges() {
        let today = day("2026-03-31");
        assert!(resolve_range(Some(day("2026-04-01")), Some(today), today).is_err());
        assert!(resolve_range(Some(day("2025-01-01")), Some(today), today).is_err());
        assert!(resolve_range(Some(day("2025-03-31")), Some(day("2026-03-30")), today).is_ok());
    }
}
