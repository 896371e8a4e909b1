//! A chart of one value per day: bars up from a zero line for gains, down for losses, a
//! labelled y-axis, dates along the bottom, and the selected day marked and stated in
//! words. It scrolls so the selected day is always in view, needs no colour (the selected
//! bar is drawn with another glyph and a `^` under it) and falls back to ASCII glyphs where
//! block characters do not show (`ascii_charts = true` in config.toml).

use chrono::NaiveDate;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;

/// Glyphs for bars, the zero line and the selected bar.
#[derive(Debug, Clone, Copy)]
pub struct Glyphs {
    bar: &'static str,
    selected: &'static str,
    zero: &'static str,
    axis: &'static str,
}

impl Glyphs {
    pub const UNICODE: Glyphs = Glyphs {
        bar: "█",
        selected: "▓",
        zero: "─",
        axis: "│",
    };
    pub const ASCII: Glyphs = Glyphs {
        bar: "#",
        selected: "@",
        zero: "-",
        axis: "|",
    };

    pub fn for_ascii(ascii: bool) -> Glyphs {
        if ascii {
            Glyphs::ASCII
        } else {
            Glyphs::UNICODE
        }
    }
}

/// How the y-axis labels values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Cents, labelled in dollars.
    Cents,
    /// Plain counts.
    Count,
}

impl Unit {
    pub fn label(self, value: i64) -> String {
        match self {
            Unit::Count => value.to_string(),
            Unit::Cents => {
                let sign = if value < 0 { "-" } else { "" };
                let dollars = value.unsigned_abs() as f64 / 100.0;
                if dollars >= 10_000.0 {
                    format!("{sign}${:.0}k", dollars / 1000.0)
                } else if dollars >= 1000.0 {
                    format!("{sign}${:.1}k", dollars / 1000.0)
                } else {
                    format!("{sign}${dollars:.0}")
                }
            }
        }
    }
}

pub struct DayChart<'a> {
    /// One value per day, oldest first.
    pub days: &'a [(NaiveDate, i64)],
    pub selected: usize,
    pub unit: Unit,
    pub glyphs: Glyphs,
    /// The y-axis labels' width: charts stacked on one another give the widest of theirs,
    /// so their days line up; `None` fits this chart's own labels.
    pub axis_width: Option<u16>,
}

/// The width of the y-axis labels of `days` in `unit`.
pub fn labels_width(days: &[(NaiveDate, i64)], unit: Unit) -> u16 {
    let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(0);
    let min = days.iter().map(|d| d.1).min().unwrap_or(0).min(0);
    [unit.label(max), unit.label(0), unit.label(min)]
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1) as u16
}

/// The first day shown so that `selected` is in a window of `fit` days (the latest days
/// when the selection is at the end).
pub fn window_start(len: usize, fit: usize, selected: usize) -> usize {
    if len <= fit {
        return 0;
    }
    // The selected day at the right edge, or further right when the latest days fit.
    (selected + 1).saturating_sub(fit).min(len - fit)
}

impl Widget for DayChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        // Rows: the plot, one for the `^` marker, one for dates.
        if area.height < 4 || area.width < 12 || self.days.is_empty() {
            return;
        }
        let plot_height = area.height - 2;
        let max = self.days.iter().map(|d| d.1).max().unwrap_or(0).max(0);
        let min = self.days.iter().map(|d| d.1).min().unwrap_or(0).min(0);
        let labels = [
            self.unit.label(max),
            self.unit.label(0),
            self.unit.label(min),
        ];
        let axis_width = self
            .axis_width
            .unwrap_or_else(|| labels_width(self.days, self.unit))
            + 1;
        let plot_x = area.x + axis_width + 1;
        let plot_width = area.width.saturating_sub(axis_width + 1);
        // Two columns a day where they fit (a bar and a gap), else one.
        let column = if plot_width as usize >= self.days.len() * 2 {
            2
        } else {
            1
        };
        let fit = (plot_width as usize / column).max(1);
        let start = window_start(self.days.len(), fit, self.selected);
        let shown = &self.days[start..(start + fit).min(self.days.len())];
        // Rows above the zero line hold gains, rows below losses, in proportion.
        let span = (max - min).max(1) as f64;
        let rows_up = if min == 0 {
            plot_height - 1
        } else if max == 0 {
            0
        } else {
            ((max as f64 / span) * f64::from(plot_height - 1)).round() as u16
        };
        let zero_row = area.y + rows_up;
        let rows_down = plot_height - 1 - rows_up;
        // The y-axis: the top, zero and bottom values.
        let label_at = |buf: &mut Buffer, row: u16, text: &str| {
            let x = area.x + axis_width - 1 - text.chars().count() as u16;
            buf.set_string(x, row, text, Style::new());
        };
        label_at(buf, zero_row, &labels[1]);
        if rows_up > 0 {
            label_at(buf, area.y, &labels[0]);
        }
        if rows_down > 0 {
            label_at(buf, area.y + plot_height - 1, &labels[2]);
        }
        for row in area.y..area.y + plot_height {
            buf.set_string(area.x + axis_width, row, self.glyphs.axis, Style::new());
        }
        for x in plot_x..plot_x + plot_width {
            buf.set_string(x, zero_row, self.glyphs.zero, Style::new());
        }
        for (i, (date, value)) in shown.iter().enumerate() {
            let x = plot_x + (i * column) as u16;
            let is_selected = start + i == self.selected;
            let glyph = if is_selected {
                self.glyphs.selected
            } else {
                self.glyphs.bar
            };
            let style = if is_selected {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            // A bar's height in rows, at least one for any value but zero.
            let height = |limit: u16, part: i64, whole: i64| -> u16 {
                if part == 0 || whole == 0 {
                    0
                } else {
                    (((part as f64 / whole as f64) * f64::from(limit)).round() as u16)
                        .clamp(1, limit)
                }
            };
            if *value > 0 {
                for row in 0..height(rows_up, *value, max) {
                    buf.set_string(x, zero_row - 1 - row, glyph, style);
                }
            } else if *value < 0 {
                for row in 0..height(rows_down, -value, -min) {
                    buf.set_string(x, zero_row + 1 + row, glyph, style);
                }
            }
            if is_selected {
                buf.set_string(x, area.y + plot_height, "^", style);
            }
            // A date under the first day of each stretch that has room for one.
            let every = (6 / column).max(1);
            if i % every == 0 && x + 5 <= plot_x + plot_width {
                buf.set_string(
                    x,
                    area.y + plot_height + 1,
                    date.format("%m-%d").to_string(),
                    Style::new(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_selected_day_in_view() {
        assert_eq!(window_start(10, 20, 3), 0);
        assert_eq!(window_start(100, 30, 99), 70, "the latest days by default");
        assert_eq!(window_start(100, 30, 10), 0);
        assert_eq!(window_start(100, 30, 50), 21);
    }

    #[test]
    fn dollars_are_labelled_short() {
        assert_eq!(Unit::Cents.label(-30_000), "-$300");
        assert_eq!(Unit::Cents.label(123_456), "$1.2k");
        assert_eq!(Unit::Cents.label(0), "$0");
        assert_eq!(Unit::Count.label(7), "7");
    }
}
