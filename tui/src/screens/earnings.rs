//! The company's earnings per day over the last 30 days, as a bar chart; `c` closes the
//! day (asking first).

use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, money, remote_state};
use ates_shared::Cents;
use ates_shared::api::Earnings;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph};

/// Days shown at most.
const DAYS: usize = 30;

#[derive(Debug, Default)]
pub struct CompanyEarnings {
    pub remote: Remote<Earnings>,
}

impl Screen for CompanyEarnings {
    fn contexts(&self) -> &'static [&'static str] {
        &["accounting"]
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        cx.fetch(&mut self.remote, Fetch::Earnings)
            .into_iter()
            .collect()
    }

    fn loading(&self) -> bool {
        self.remote.loading
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let result = expect(result, |data| match data {
            Data::Earnings(value) => Ok(value),
            other => Err(other),
        });
        self.remote.accept(generation, result);
        cx.again(&mut self.remote, fetch)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if action == Action::CloseDay {
            cx.ask_close_day(Tab::Earnings);
        }
        Vec::new()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _look: Look) {
        let Some(inner) = remote_state(
            frame,
            area,
            block("Company earnings per day (last 30 days)", &self.remote),
            &self.remote,
            |e| e.days.is_empty(),
            "No earnings yet.",
        ) else {
            return;
        };
        let Some(earnings) = &self.remote.data else {
            return;
        };
        let mut days = earnings.days.clone();
        days.sort_by_key(|d| d.date);
        let days = &days[days.len().saturating_sub(DAYS)..];
        let total: i64 = days.iter().map(|d| d.earnings_cents).sum();
        let best = days.iter().max_by_key(|d| d.earnings_cents);
        let worst = days.iter().min_by_key(|d| d.earnings_cents);
        let [summary, chart] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(inner);
        let describe = |d: Option<&ates_shared::api::DayEarnings>| {
            d.map(|d| format!("{} {}", d.date.format("%m-%d"), money(d.earnings_cents)))
                .unwrap_or_default()
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(format!(
                    " Total {} · best {} · worst {}",
                    money(total),
                    describe(best),
                    describe(worst)
                )),
                Line::from(
                    " Bars show positive days; a day marked ! lost money.  c: close the day",
                ),
            ]),
            summary,
        );
        // Width per day: as wide as the screen allows, one column at 80x24.
        let slots = (chart.width as usize / days.len().max(1)).max(2);
        let bar_width = (slots - 1).clamp(1, 6) as u16;
        let bars: Vec<Bar> = days
            .iter()
            .map(|d| {
                let dollars = (d.earnings_cents.max(0) / 100) as u64;
                let label = if d.earnings_cents < 0 {
                    "!".to_owned()
                } else if bar_width >= 2 {
                    d.date.format("%d").to_string()
                } else {
                    d.date
                        .format("%d")
                        .to_string()
                        .chars()
                        .last()
                        .map(String::from)
                        .unwrap_or_default()
                };
                let text = if bar_width >= 5 {
                    Cents(d.earnings_cents.max(0))
                        .to_string()
                        .trim_start_matches('$')
                        .to_owned()
                } else {
                    String::new()
                };
                Bar::default()
                    .value(dollars)
                    .label(Line::from(label))
                    .text_value(text)
            })
            .collect();
        frame.render_widget(
            BarChart::default()
                .data(BarGroup::default().bars(&bars))
                .bar_width(bar_width)
                .bar_gap(1),
            chart,
        );
    }
}
