//! A run of days with a value each, as the charts show them, and the selected day, held by
//! its date so a refresh keeps it (like a list's selection is held by id).

use crate::app::keymap::Action;
use chrono::NaiveDate;

/// Days the charts can scroll over: the server's longest range.
pub const RANGE_DAYS: i64 = 365;

/// Every day from `from` to `to`, with the values given for some of them and 0 for the
/// rest (a day nothing happened is a day too).
pub fn contiguous(
    from: NaiveDate,
    to: NaiveDate,
    values: impl IntoIterator<Item = (NaiveDate, i64)>,
) -> Vec<(NaiveDate, i64)> {
    let given: std::collections::HashMap<NaiveDate, i64> = values.into_iter().collect();
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|d| (d, given.get(&d).copied().unwrap_or(0)))
        .collect()
}

/// The selected day: a date, or the latest day while none was chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DaySelection {
    pub date: Option<NaiveDate>,
}

impl DaySelection {
    /// Its index in `days` (the latest day if unset or no longer shown).
    pub fn index(&self, days: &[(NaiveDate, i64)]) -> usize {
        self.date
            .and_then(|date| days.iter().position(|d| d.0 == date))
            .unwrap_or(days.len().saturating_sub(1))
    }

    /// Moves for a day action; false for any other action.
    pub fn step(&mut self, days: &[(NaiveDate, i64)], action: Action) -> bool {
        let delta: i64 = match action {
            Action::PrevDay => -1,
            Action::NextDay => 1,
            Action::PrevMonth => -30,
            Action::NextMonth => 30,
            _ => return false,
        };
        if days.is_empty() {
            return true;
        }
        let at = self.index(days) as i64;
        let to = (at + delta).clamp(0, days.len() as i64 - 1) as usize;
        self.date = Some(days[to].0);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn missing_days_count_as_zero() {
        let days = contiguous(day(1), day(4), [(day(2), 5), (day(4), -3)]);
        assert_eq!(
            days,
            vec![(day(1), 0), (day(2), 5), (day(3), 0), (day(4), -3)]
        );
    }

    #[test]
    fn the_selection_starts_at_the_latest_day_and_stays_inside() {
        let days = contiguous(day(1), day(10), []);
        let mut selection = DaySelection::default();
        assert_eq!(selection.index(&days), 9);
        assert!(selection.step(&days, Action::PrevDay));
        assert_eq!(selection.date, Some(day(9)));
        selection.step(&days, Action::PrevMonth);
        assert_eq!(selection.date, Some(day(1)));
        selection.step(&days, Action::NextDay);
        assert_eq!(selection.index(&days), 1);
        assert!(!selection.step(&days, Action::Complete));
    }
}
