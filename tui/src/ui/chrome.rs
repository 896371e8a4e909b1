//! The tab bar at the top and the status line at the bottom.

use super::widgets::error_style;
use crate::app::App;
use crate::app::state::Live;
use crate::app::tabs::Tab;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn short(tab: Tab) -> &'static str {
    match tab {
        Tab::MyTasks => "Mine",
        Tab::Board => "Board",
        Tab::NewTask => "New",
        Tab::MyAccount => "Account",
        Tab::Reshuffle => "Shuffle",
        Tab::Accounts => "Accts",
        Tab::Earnings => "Earn",
        Tab::Users => "Users",
        Tab::Events => "Events",
        Tab::Analytics => "Stats",
    }
}

/// `1 My tasks [2 Board] 3 New task`: the current tab in brackets (and reversed); short
/// names when the long ones do not fit.
pub fn tabs(frame: &mut Frame, area: Rect, app: &App) {
    let label = |long: bool| -> Vec<String> {
        app.tabs
            .iter()
            .enumerate()
            .map(|(i, tab)| {
                let name = if long { tab.title() } else { short(*tab) };
                format!("{} {name}", i + 1)
            })
            .collect()
    };
    let long = label(true);
    let width: usize = long.iter().map(|l| l.chars().count() + 2).sum();
    let labels = if width <= area.width as usize {
        long
    } else {
        label(false)
    };
    let spans: Vec<Span> = app
        .tabs
        .iter()
        .zip(labels)
        .map(|(tab, text)| {
            if *tab == app.tab {
                Span::styled(
                    format!("[{text}]"),
                    Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                )
            } else {
                Span::raw(format!(" {text} "))
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Left: the outcome of the last action and the key hints. Right: who is logged in,
/// whether the data is live, and the time zone every time on screen is shown in.
pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let live = match &app.live {
        Live::Live => "live",
        Live::Connecting => "connecting",
        Live::Polling(_) => "polling",
        Live::Off => "offline",
    };
    let who = app
        .user
        .as_ref()
        .map(|u| {
            format!(
                // The leading space keeps clipped hints from running into the name.
                " {} ({}) · {live} · {} ",
                u.username,
                u.role,
                app.timezone.name()
            )
        })
        .unwrap_or_default();
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(who.chars().count() as u16),
    ])
    .areas(area);
    // The hints come from the keymap; a message shows beside them, never instead.
    let hints = crate::app::help::hints(app);
    let dim = Style::new().add_modifier(Modifier::DIM);
    let line = match &app.flash {
        Some(flash) => {
            let message = if flash.error {
                Span::styled(format!(" ! {}", flash.text), error_style())
            } else {
                Span::raw(format!(" {}", flash.text))
            };
            let help = hints
                .iter()
                .find(|(_, name)| *name == "help")
                .map(|(key, _)| format!(" · {key} help"))
                .unwrap_or_default();
            Line::from(vec![message, Span::styled(help, dim)])
        }
        None => {
            let all: Vec<String> = hints
                .iter()
                .map(|(key, name)| format!("{key} {}", name.replace('_', " ")))
                .collect();
            Line::from(Span::styled(format!(" {}", all.join(" · ")), dim))
        }
    };
    frame.render_widget(Paragraph::new(line), left);
    frame.render_widget(Paragraph::new(who), right);
}
