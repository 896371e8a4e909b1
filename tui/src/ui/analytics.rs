//! Analytics (admin). A later version of the server fills it; until then the endpoints are
//! missing and the screen says so in place.

use super::widgets::{block, money, remote_state};
use crate::app::App;
use ates_shared::api::MostExpensive;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

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
                " Most expensive task, {label} ({} – {}): {} {}{}",
                m.from,
                m.to,
                money(t.reward_cents),
                t.jira_id
                    .as_ref()
                    .map(|j| format!("[{j}] "))
                    .unwrap_or_default(),
                t.title
            )),
            None => Line::from(format!(
                " Most expensive task, {label} ({} – {}): none completed",
                m.from, m.to
            )),
        }
    };
    let lines = vec![
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
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
