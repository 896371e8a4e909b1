//! The New task form; the server's validation errors appear under the field they name.

use super::login::form_lines;
use super::widgets::error_style;
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let form = &app.new_task;
    let block = Block::bordered().title(" New task ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![
        Line::from("A new task goes at once to a random worker or accountant."),
        Line::from(""),
    ];
    lines.extend(form_lines(form, app.new_task_editing));
    if let Some(err) = &form.error {
        lines.push(Line::from(Span::styled(format!("! {err}"), error_style())));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(if form.submitting {
        "Creating…"
    } else if app.new_task_editing {
        "Enter next field / create · Ctrl-S create · Esc stop editing"
    } else {
        "Enter or i: start typing"
    }));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
