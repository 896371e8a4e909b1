//! Popups over any screen: help, confirmations, the new-user form, the role picker.

use super::login::form_lines;
use super::widgets::{centered, error_style};
use crate::app::App;
use crate::app::help::bindings;
use crate::app::state::{Popup, ROLE_NAMES};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(popup) = &app.popup else { return };
    match popup {
        Popup::Help => {
            let keys = bindings(app);
            let key_width = keys
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            let mut lines: Vec<Line> = Vec::new();
            if app.help_filtering || !app.help_filter.is_empty() {
                lines.push(Line::from(Span::styled(
                    format!(
                        " /{}{}",
                        app.help_filter,
                        if app.help_filtering { "_" } else { "" }
                    ),
                    Style::new().add_modifier(Modifier::BOLD),
                )));
            }
            lines.extend(
                keys.iter()
                    .map(|(key, what)| Line::from(format!(" {key:key_width$}  {what}"))),
            );
            if keys.is_empty() {
                lines.push(Line::from(" No key matches."));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(" / filters · ? or Esc closes this help"));
            show(frame, area, " Keys ", lines, 64);
        }
        Popup::Confirm(confirm) => {
            let lines = vec![
                Line::from(confirm.text.clone()),
                Line::from(""),
                Line::from(Span::styled(
                    "[y] yes    [n] no",
                    Style::new().add_modifier(Modifier::BOLD),
                )),
            ];
            show(frame, area, &format!(" {} ", confirm.title), lines, 60);
        }
        Popup::NewUser(form) => {
            let mut lines = form_lines(form, true);
            if let Some(err) = &form.error {
                lines.push(Line::from(Span::styled(format!("! {err}"), error_style())));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(if form.submitting {
                "Creating…"
            } else {
                "Enter next / create · ←/→ role · Esc cancel"
            }));
            show(frame, area, " New user ", lines, 64);
        }
        Popup::RolePicker {
            username, selected, ..
        } => {
            let mut lines = vec![Line::from(format!("Role of {username}:")), Line::from("")];
            for (i, role) in ROLE_NAMES.iter().enumerate() {
                let marker = if i == *selected { ">" } else { " " };
                let style = if i == *selected {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                };
                lines.push(Line::from(Span::styled(format!("{marker} {role}"), style)));
            }
            lines.push(Line::from(""));
            lines.push(Line::from("j/k choose · Enter set · Esc cancel"));
            show(frame, area, " Change role ", lines, 40);
        }
    }
}

fn show(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, width: u16) {
    let width = width.min(area.width);
    // Wrapped height: each line takes ceil(len / inner width) rows.
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let height: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_width))
        .sum::<usize>()
        + 2;
    let rect = centered(area, width, height.min(u16::MAX as usize) as u16);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(title.to_owned())),
        rect,
    );
}
