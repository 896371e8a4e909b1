//! Users (admin): create, change role, deactivate.

use super::widgets::{block, clip, list, remote_state};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let count = app.users.data.as_ref().map_or(0, Vec::len);
    let Some(inner) = remote_state(
        frame,
        area,
        block(
            &format!("Users: {count} · n new · e role · d (de)activate"),
            &app.users,
        ),
        &app.users,
        Vec::is_empty,
        "No users.",
    ) else {
        return;
    };
    let users = app.users.data.as_deref().unwrap_or_default();
    let wide = inner.width >= 120;
    let mut header = vec!["Username", "Role", "Active", "Full name"];
    let mut widths = vec![
        Constraint::Length(16),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    if wide {
        header.push("E-mail");
        widths.push(Constraint::Fill(1));
    }
    list(
        frame,
        inner,
        &header,
        &widths,
        users.len(),
        Some(app.users_selected.index),
        |i| {
            let user = &users[i];
            let mut cells = vec![
                Cell::from(clip(&user.username, 16)),
                Cell::from(user.role.as_str()),
                Cell::from(if user.active { "yes" } else { "NO" }),
                Cell::from(user.full_name.clone()),
            ];
            if wide {
                cells.push(Cell::from(user.email.clone()));
            }
            cells
        },
    );
}
