//! Pieces every screen uses: remote-data states, lists with a selection, money, popups.

use crate::app::remote::Remote;
use ates_shared::Cents;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

/// Money with a `!` in front when negative, so it reads without colour: `! -$3.00`.
pub fn money(cents: i64) -> String {
    if cents < 0 {
        format!("! {}", Cents(cents))
    } else {
        Cents(cents).to_string()
    }
}

pub fn money_style(cents: i64) -> Style {
    if cents < 0 {
        Style::new().fg(ratatui::style::Color::Red)
    } else {
        Style::new()
    }
}

/// Timestamps in the company's zone (named in the status line), short: `06-03 14:05`.
pub fn when(at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone).format("%m-%d %H:%M").to_string()
}

/// A bordered block whose title says when the data is being refreshed.
pub fn block<T>(title: &str, remote: &Remote<T>) -> Block<'static> {
    let title = if remote.loading && remote.data.is_some() {
        format!(" {title} (refreshing…) ")
    } else {
        format!(" {title} ")
    };
    Block::bordered().title(title)
}

pub fn error_style() -> Style {
    Style::new()
        .fg(ratatui::style::Color::Red)
        .add_modifier(Modifier::BOLD)
}

/// Draws the states without data (loading, error, empty) inside `block`; returns the inner
/// area when there is data to draw, with the last refresh error on its first line.
pub fn remote_state<T>(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    remote: &Remote<T>,
    is_empty: impl Fn(&T) -> bool,
    empty: &str,
) -> Option<Rect> {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(data) = &remote.data else {
        let text = match (&remote.error, remote.loading) {
            (_, true) => Line::from("Loading…"),
            (Some(err), false) => {
                Line::from(Span::styled(format!("! {}", err.describe()), error_style()))
            }
            (None, false) => Line::from("Nothing loaded yet: press r to refresh"),
        };
        centered_text(frame, inner, text);
        return None;
    };
    let mut inner = inner;
    if let Some(err) = &remote.error {
        let [line, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!("! refresh failed: {}", err.describe()),
                error_style(),
            )),
            line,
        );
        inner = rest;
    }
    if is_empty(data) {
        centered_text(frame, inner, Line::from(empty.to_owned()));
        return None;
    }
    Some(inner)
}

pub fn centered_text(frame: &mut Frame, area: Rect, line: Line<'static>) {
    let [middle] = Layout::vertical([Constraint::Length(1)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(
        Paragraph::new(line)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
}

/// The first row to show so that `selected` is visible in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 || selected < height {
        0
    } else {
        selected + 1 - height
    }
}

/// A table of `len` rows of which only the visible window is built (10k rows cost what a
/// screenful costs). The selected row is marked `>` and reversed.
#[allow(clippy::too_many_arguments)]
pub fn list<'a>(
    frame: &mut Frame,
    area: Rect,
    header: &[&'a str],
    widths: &[Constraint],
    len: usize,
    selected: Option<usize>,
    row: impl Fn(usize) -> Vec<Cell<'a>>,
) {
    let height = area.height.saturating_sub(1) as usize;
    let offset = selected.map_or(0, |s| scroll_offset(s, height));
    let rows = (offset..len.min(offset + height)).map(|i| {
        let is_selected = selected == Some(i);
        let mut cells = vec![Cell::from(if is_selected { ">" } else { " " })];
        cells.extend(row(i));
        let row = Row::new(cells);
        if is_selected {
            row.style(Style::new().add_modifier(Modifier::REVERSED))
        } else {
            row
        }
    });
    let mut all_widths = vec![Constraint::Length(1)];
    all_widths.extend_from_slice(widths);
    let mut head = vec![Cell::from("")];
    head.extend(header.iter().map(|h| Cell::from(*h)));
    let table = Table::new(rows, all_widths)
        .header(
            Row::new(head).style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
        )
        .column_spacing(1);
    frame.render_widget(table, area);
}

/// A rectangle of at most `width` x `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// Cuts `text` to `max` characters with an ellipsis.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_money_is_marked_without_colour() {
        assert_eq!(money(-300), "! -$3.00");
        assert_eq!(money(1250), "$12.50");
    }

    #[test]
    fn the_selection_stays_in_view() {
        assert_eq!(scroll_offset(3, 10), 0);
        assert_eq!(scroll_offset(10, 10), 1);
        assert_eq!(scroll_offset(5, 0), 0);
    }
}
