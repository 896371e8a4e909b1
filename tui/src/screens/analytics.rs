//! Analytics (admin): today's company earnings and employees in the red, the most expensive
//! task of the day, week and month, and charts of earnings and of employees in the red per
//! day over up to a year, with a selected day (`h`/`l`, `[`/`]`) marked on both.
//! A server without analytics answers 404, and the screen says so in place. Shown across
//! midnight, it moves to the new day.

use super::days::{DaySelection, RANGE_DAYS, contiguous};
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{AnalyticsView, Data, Fetch};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::ui::chart::{DayChart, Glyphs, Unit, labels_width};
use crate::ui::widgets::{block, money, remote_state};
use ates_shared::api::{AnalyticsDay, MostExpensive};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

#[derive(Debug, Default)]
pub struct Analytics {
    pub remote: Remote<AnalyticsView>,
    /// The day both charts mark, held by date.
    pub selection: DaySelection,
    /// The first day of a range being picked (`v`), then the range and its most
    /// expensive task.
    pub range_start: Option<NaiveDate>,
    pub range: Option<(NaiveDate, NaiveDate)>,
    pub range_result: Remote<MostExpensive>,
}

impl Analytics {
    fn series(
        &self,
        today: NaiveDate,
        value: impl Fn(&AnalyticsDay) -> i64,
    ) -> Vec<(NaiveDate, i64)> {
        let Some(view) = &self.remote.data else {
            return Vec::new();
        };
        // From the first day anything happened: the quiet days before say nothing.
        let first = view
            .days
            .iter()
            .filter(|d| d.earnings_cents != 0 || d.negative_balance_workers != 0)
            .map(|d| d.date)
            .min()
            .unwrap_or(today);
        let from = first.max(today - chrono::Duration::days(RANGE_DAYS - 1));
        contiguous(from, today, view.days.iter().map(|d| (d.date, value(d))))
    }

    pub fn earnings_days(&self, today: NaiveDate) -> Vec<(NaiveDate, i64)> {
        self.series(today, |d| d.earnings_cents)
    }

    pub fn in_the_red_days(&self, today: NaiveDate) -> Vec<(NaiveDate, i64)> {
        self.series(today, |d| i64::from(d.negative_balance_workers))
    }
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
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        if let Fetch::MostExpensiveBetween(..) = fetch {
            let result = expect(result, |data| match data {
                Data::MostExpensive(found) => Ok(found),
                other => Err(other),
            });
            self.range_result.accept(generation, result);
            return match self.range {
                Some((from, to)) => cx.again(
                    &mut self.range_result,
                    Fetch::MostExpensiveBetween(from, to),
                ),
                None => Vec::new(),
            };
        }
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

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let days = self.earnings_days(cx.today);
        if action != Action::Mark {
            self.selection.step(&days, action);
            return Vec::new();
        }
        let Some(&(picked, _)) = days.get(self.selection.index(&days)) else {
            return Vec::new();
        };
        match self.range_start.take() {
            None => {
                self.range_start = Some(picked);
                cx.info(format!(
                    "Range from {picked}: move to its last day and press v"
                ));
                Vec::new()
            }
            Some(start) => {
                let (from, to) = (start.min(picked), start.max(picked));
                self.range = Some((from, to));
                cx.fetch(
                    &mut self.range_result,
                    Fetch::MostExpensiveBetween(from, to),
                )
                .into_iter()
                .collect()
            }
        }
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
        let earnings = self.earnings_days(look.today);
        let in_red = self.in_the_red_days(look.today);
        let selected = self.selection.index(&earnings);
        let picked = earnings.get(selected).map(|d| d.0).unwrap_or(look.today);
        let lines = vec![
            Line::from(format!(
                " Today: earnings {} · {} worker(s) in the red",
                money(view.summary.earnings_cents),
                view.summary.negative_balance_workers
            )),
            expensive("day", &view.day),
            expensive("week", &view.week),
            expensive("month", &view.month),
            match (
                &self.range,
                &self.range_result.data,
                &self.range_result.error,
                self.range_start,
            ) {
                (_, _, _, Some(start)) => Line::from(format!(
                    " Range from {start}: move to its last day and press v"
                )),
                (Some(_), _, Some(err), None) => Line::from(format!(" ! {}", err.describe())),
                (Some(_), Some(found), None, None) => expensive("range", found),
                (Some((from, to)), None, None, None) => Line::from(format!(
                    " Most expensive, range {}..{}: loading…",
                    from.format("%m-%d"),
                    to.format("%m-%d")
                )),
                _ => Line::from(" v on a day, then on another: the most expensive task between"),
            },
            Line::from(format!(
                " {picked} ({}): earnings {} · {} in the red   ·  h/l day  [/] 30 days",
                picked.format("%a"),
                money(earnings.get(selected).map_or(0, |d| d.1)),
                in_red.get(selected).map_or(0, |d| d.1)
            )),
        ];
        let [text, first, second] = Layout::vertical([
            Constraint::Length(lines.len() as u16),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(lines), text);
        let glyphs = Glyphs::for_ascii(look.ascii);
        // One axis width for both, so the same day sits in the same column.
        let axis_width =
            labels_width(&earnings, Unit::Cents).max(labels_width(&in_red, Unit::Count));
        for (area, title, days, unit) in [
            (first, " Earnings per day", &earnings, Unit::Cents),
            (second, " Workers in the red per day", &in_red, Unit::Count),
        ] {
            let [heading, chart] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
            frame.render_widget(Paragraph::new(title), heading);
            frame.render_widget(
                DayChart {
                    days,
                    selected,
                    unit,
                    glyphs,
                    axis_width: Some(axis_width),
                },
                chart,
            );
        }
    }
}
