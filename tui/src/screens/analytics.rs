//! Analytics (admin): today's company earnings and employees in the red, the most expensive
//! task of the day, week and month, and the last days' earnings, newest at the bottom.
//! A server without analytics answers 404, and the screen says so in place. Shown across
//! midnight, it moves to the new day.

use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{AnalyticsView, Data, Fetch};
use crate::app::remote::Remote;
use crate::ui::widgets::{block, money, remote_state};
use ates_shared::api::MostExpensive;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

#[derive(Debug, Default)]
pub struct Analytics {
    pub remote: Remote<AnalyticsView>,
}

impl Screen for Analytics {
    fn contexts(&self) -> &'static [&'static str] {
        &["analytics", "accounting"]
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        let today = cx.today;
        cx.fetch(&mut self.remote, Fetch::Analytics(today))
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
            Data::Analytics(view) => Ok(*view),
            other => Err(other),
        });
        self.remote.accept(generation, result);
        let today = cx.today;
        cx.again(&mut self.remote, Fetch::Analytics(today))
    }

    fn new_day(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.refresh(cx)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let title = format!("Analytics for {}", look.today);
        let Some(inner) = remote_state(
            frame,
            area,
            block(&title, &self.remote),
            &self.remote,
            |_| false,
            "",
        ) else {
            return;
        };
        let Some(view) = &self.remote.data else {
            return;
        };
        let expensive = |label: &str, m: &MostExpensive| -> Line<'static> {
            match &m.task {
                Some(t) => Line::from(format!(
                    " Most expensive, {label:<5} {}..{}: {} {}{}",
                    m.from.format("%m-%d"),
                    m.to.format("%m-%d"),
                    money(t.reward_cents),
                    t.jira_id
                        .as_ref()
                        .map(|j| format!("[{j}] "))
                        .unwrap_or_default(),
                    t.title
                )),
                None => Line::from(format!(
                    " Most expensive, {label:<5} {}..{}: none completed",
                    m.from.format("%m-%d"),
                    m.to.format("%m-%d")
                )),
            }
        };
        let mut lines = vec![
            Line::from(format!(
                " Company earnings today: {}",
                money(view.summary.earnings_cents)
            )),
            Line::from(format!(
                " Workers with a negative balance: {}",
                view.summary.negative_balance_workers
            )),
            Line::from(""),
            expensive("day", &view.day),
            expensive("week", &view.week),
            expensive("month", &view.month),
            Line::from(""),
            Line::from(" Day             Earnings  In the red"),
        ];
        // As many of the latest days as fit below the rest.
        let room = (inner.height as usize).saturating_sub(lines.len());
        let shown = &view.days[view.days.len().saturating_sub(room)..];
        lines.extend(shown.iter().map(|d| {
            Line::from(format!(
                " {}  {:>13}  {:>10}",
                d.date,
                money(d.earnings_cents),
                d.negative_balance_workers
            ))
        }));
        // Unwrapped, so every line takes one row and the day table's room is exact.
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
