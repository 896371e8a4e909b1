//! The company's earnings per day, as a chart over up to a year: days that lost money go
//! below the zero line; `h`/`l` move the selected day (its date and value are stated),
//! `[`/`]` move 30 days; `c` closes the day (asking first).

use super::days::{DaySelection, RANGE_DAYS, contiguous};
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::tabs::Tab;
use crate::ui::chart::{DayChart, Glyphs, Unit};
use crate::ui::widgets::{block, money, remote_state};
use ates_shared::api::Earnings;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

#[derive(Debug, Default)]
pub struct CompanyEarnings {
    pub remote: Remote<Earnings>,
    pub selection: DaySelection,
}

impl CompanyEarnings {
    /// Every day from the first with earnings (at most a year back) to `today`: the
    /// server also answers the quiet days before the company started, which say nothing.
    pub fn days(&self, today: NaiveDate) -> Vec<(NaiveDate, i64)> {
        let Some(earnings) = &self.remote.data else {
            return Vec::new();
        };
        let first = earnings
            .days
            .iter()
            .filter(|d| d.earnings_cents != 0)
            .map(|d| d.date)
            .min()
            .unwrap_or(today);
        let from = first.max(today - chrono::Duration::days(RANGE_DAYS - 1));
        contiguous(
            from,
            today,
            earnings.days.iter().map(|d| (d.date, d.earnings_cents)),
        )
    }
}

impl Screen for CompanyEarnings {
    fn contexts(&self) -> &'static [&'static str] {
        &["accounting"]
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        let today = cx.today;
        cx.fetch(&mut self.remote, Fetch::Earnings(today))
            .into_iter()
            .collect()
    }

    fn loading(&self) -> bool {
        self.remote.loading
    }

    fn fetched(
        &mut self,
        _fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let result = expect(result, |data| match data {
            Data::Earnings(value) => Ok(value),
            other => Err(other),
        });
        self.remote.accept(generation, result);
        let today = cx.today;
        cx.again(&mut self.remote, Fetch::Earnings(today))
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if action == Action::CloseDay {
            cx.ask_close_day(Tab::Earnings);
        } else {
            let days = self.days(cx.today);
            self.selection.step(&days, action);
        }
        Vec::new()
    }

    fn new_day(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.refresh(cx)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let Some(inner) = remote_state(
            frame,
            area,
            block("Company earnings per day", &self.remote),
            &self.remote,
            |e| e.days.is_empty(),
            "No earnings yet.",
        ) else {
            return;
        };
        let days = self.days(look.today);
        if days.is_empty() {
            return;
        }
        let selected = self.selection.index(&days);
        let total: i64 = days.iter().map(|d| d.1).sum();
        let best = days.iter().max_by_key(|d| d.1);
        let worst = days.iter().min_by_key(|d| d.1);
        let describe = |d: Option<&(NaiveDate, i64)>| {
            d.map(|d| format!("{} {}", d.0.format("%m-%d"), money(d.1)))
                .unwrap_or_default()
        };
        let [summary, chart] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(4)]).areas(inner);
        let (date, value) = days[selected];
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(format!(
                    " {date} ({}): {}   ·  h/l day  [/] 30 days  c close the day",
                    date.format("%a"),
                    money(value)
                )),
                Line::from(format!(
                    " {} days: total {} · best {} · worst {}",
                    days.len(),
                    money(total),
                    describe(best),
                    describe(worst)
                )),
            ]),
            summary,
        );
        frame.render_widget(
            DayChart {
                days: &days,
                selected,
                unit: Unit::Cents,
                glyphs: Glyphs::for_ascii(look.ascii),
                axis_width: None,
            },
            chart,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_shared::api::DayEarnings;

    #[test]
    fn the_chart_starts_at_the_first_day_anything_was_earned() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let day = |back: i64, cents: i64| DayEarnings {
            date: today - chrono::Duration::days(back),
            earnings_cents: cents,
        };
        let screen = CompanyEarnings {
            remote: Remote::loaded(Earnings {
                days: vec![
                    day(300, 0),
                    day(200, 0),
                    day(3, -500),
                    day(1, 700),
                    day(0, 0),
                ],
            }),
            selection: DaySelection::default(),
        };
        let days = screen.days(today);
        assert_eq!(
            days.len(),
            4,
            "from 3 days back to today, quiet days included"
        );
        assert_eq!(days[0].1, -500);
        assert_eq!(days[3], (today, 0));
    }
}
