//! The app's popups over any screen: help and confirmations (a screen draws its own
//! dialogs, with `show`).

use super::widgets::centered;
use crate::app::App;
use crate::app::help::bindings;
use crate::app::state::Popup;
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
    }
}

/// A bordered box of `lines` at most `width` wide, centred in `area` over what is there.
pub fn show(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, width: u16) {
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
