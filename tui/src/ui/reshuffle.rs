//! Reshuffle: how many open tasks would move, and the key that starts it (after a confirmation).

use super::widgets::{block, remote_state};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(inner) = remote_state(
        frame,
        area,
        block("Reshuffle", &app.open_count),
        &app.open_count,
        |_| false,
        "",
    ) else {
        return;
    };
    let count = app.open_count.data.unwrap_or(0);
    let lines = vec![
        Line::from(format!(" Open tasks: {count}")),
        Line::from(""),
        Line::from(" A reshuffle gives every open task to a random worker or accountant (it may"),
        Line::from(" land on the same one). Each move is billed as a new assignment; no fee is"),
        Line::from(" refunded. Done tasks never move."),
        Line::from(""),
        Line::from(if app.reshuffling {
            " Reshuffling…"
        } else if count == 0 {
            " Nothing to reshuffle."
        } else {
            " Enter: reshuffle (asks first)"
        }),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
