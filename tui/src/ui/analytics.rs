//! Analytics (admin): today's company earnings and employees in the red, the most expensive
//! task of the day, week and month, and the last days' earnings, newest at the bottom.
//! A server without analytics answers 404, and the screen says so in place.

use super::widgets::{block, money, remote_state};
use crate::app::App;
use ates_shared::api::MostExpensive;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let title = format!("Analytics for {}", app.today);
    let Some(inner) = remote_state(
        frame,
        area,
        block(&title, &app.analytics),
        &app.analytics,
        |_| false,
        "",
    ) else {
        return;
    };
    let Some(view) = &app.analytics.data else {
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
