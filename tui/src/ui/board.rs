//! The board of all tasks, with a status filter and a search.

use super::widgets::{block, clip, list, remote_state, when};
use crate::app::App;
use ates_shared::api::TaskStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let board = &app.board;
    let title = if board.more {
        format!(
            "Board: {}+ tasks (more load as you scroll)",
            board.visible.len()
        )
    } else {
        format!("Board: {} tasks", board.visible.len())
    };
    let Some(inner) = remote_state(
        frame,
        area,
        block(&title, &board.tasks),
        &board.tasks,
        Vec::is_empty,
        "No tasks yet: create one in New task.",
    ) else {
        return;
    };
    let [bar, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    let search = if board.searching {
        Span::styled(
            format!("/{}_", board.search),
            Style::new().add_modifier(Modifier::BOLD),
        )
    } else if board.search.is_empty() {
        Span::raw("/ search")
    } else {
        Span::raw(format!("/{}", board.search))
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(format!(" filter (f): {}  ·  ", board.filter.label())),
            search,
        ])),
        bar,
    );
    if board.visible.is_empty() {
        frame.render_widget(Paragraph::new(" No task matches."), table);
        return;
    }
    let tasks = board.tasks.data.as_deref().unwrap_or_default();
    let wide = table.width >= 120;
    list(
        frame,
        table,
        &["Status", "Jira", "Title", "Assignee", "Created"],
        &[
            Constraint::Length(6),
            Constraint::Length(if wide { 14 } else { 10 }),
            Constraint::Fill(1),
            Constraint::Length(if wide { 16 } else { 10 }),
            Constraint::Length(11),
        ],
        board.visible.len(),
        Some(board.selected.index),
        |i| {
            let Some(task) = board.visible.get(i).and_then(|&at| tasks.get(at)) else {
                return Vec::new();
            };
            vec![
                Cell::from(if task.status == TaskStatus::Done {
                    "[x]"
                } else {
                    "[ ]"
                }),
                Cell::from(clip(
                    task.jira_id.as_deref().unwrap_or(""),
                    if wide { 14 } else { 10 },
                )),
                Cell::from(task.title.clone()),
                Cell::from(clip(&task.assignee.username, if wide { 16 } else { 10 })),
                Cell::from(when(task.created_at, app.timezone)),
            ]
        },
    );
}
