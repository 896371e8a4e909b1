//! My tasks: open ones first; `c` completes the selected one.

use super::widgets::{block, clip, list, remote_state, when};
use crate::app::App;
use ates_shared::api::TaskStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let open = app.my_tasks.data.as_ref().map_or(0, |t| {
        t.iter().filter(|t| t.status == TaskStatus::Open).count()
    });
    let title = format!("My tasks: {open} open");
    let Some(inner) = remote_state(
        frame,
        area,
        block(&title, &app.my_tasks),
        &app.my_tasks,
        Vec::is_empty,
        "No tasks assigned to you yet.",
    ) else {
        return;
    };
    let tasks = app.my_tasks.data.as_deref().unwrap_or_default();
    let wide = inner.width >= 120;
    list(
        frame,
        inner,
        &[
            "Status",
            "Jira",
            "Title",
            if wide {
                "Created      Completed"
            } else {
                "Created"
            },
        ],
        &[
            Constraint::Length(6),
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Length(if wide { 24 } else { 11 }),
        ],
        tasks.len(),
        Some(app.my_selected.index),
        |i| {
            let task = &tasks[i];
            let status = if app.completing == Some(task.id) {
                "[..]"
            } else if task.status == TaskStatus::Done {
                "[x]"
            } else {
                "[ ]"
            };
            let dates = if wide {
                format!(
                    "{}  {}",
                    when(task.created_at, app.timezone),
                    task.completed_at
                        .map(|at| when(at, app.timezone))
                        .unwrap_or_default()
                )
            } else {
                when(task.created_at, app.timezone)
            };
            vec![
                Cell::from(status),
                Cell::from(clip(task.jira_id.as_deref().unwrap_or(""), 12)),
                Cell::from(task.title.clone()),
                Cell::from(dates),
            ]
        },
    );
}
