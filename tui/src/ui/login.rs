//! The login screen: server URL, username, password.

use super::widgets::{centered, error_style};
use crate::app::App;
use crate::app::form::Form;
use crate::app::state::Stage;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let box_area = centered(area, 64, 16);
    frame.render_widget(Clear, box_area);
    let block = Block::bordered().title(" aTES · log in ");
    let inner = block.inner(box_area);
    frame.render_widget(block, box_area);
    let mut lines: Vec<Line> = Vec::new();
    if app.stage == Stage::Resuming {
        lines.push(Line::from(""));
        lines.push(Line::from(format!(
            "Connecting to {} as {}…",
            app.login.value("server"),
            app.login.value("username")
        )));
        lines.push(Line::from(""));
        lines.push(Line::from("q quit"));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    if let Some(note) = &app.login_note {
        lines.push(Line::from(Span::styled(format!("! {note}"), error_style())));
    }
    lines.extend(form_lines(&app.login, true));
    if let Some(err) = &app.login.error {
        lines.push(Line::from(Span::styled(format!("! {err}"), error_style())));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(if app.login.submitting {
        "Logging in…"
    } else {
        "Enter next/log in · Tab move · Esc quit"
    }));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// A form as lines: `> Label: value_` for the focused field, errors under their field.
pub fn form_lines(form: &Form, focused: bool) -> Vec<Line<'static>> {
    let width = form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let here = focused && i == form.focus;
        let marker = if here { ">" } else { " " };
        let mut value = field.shown();
        if field.choices.is_some() {
            value = format!("< {value} >");
        } else if here {
            value.push('_');
        }
        let style = if here {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker} {:width$}: ", field.label), style),
            Span::raw(value),
        ]));
        if let Some(err) = &field.error {
            lines.push(Line::from(Span::styled(
                format!("  {:width$}  ! {err}", ""),
                error_style(),
            )));
        }
    }
    lines
}
