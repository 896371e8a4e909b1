//! The event system (admin): each consumer's lag, and the dead letters to replay.

use super::widgets::{block, clip, list, remote_state, when};
use crate::app::App;
use ates_shared::api::DeadLetterStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(inner) = remote_state(
        frame,
        area,
        block("Event system", &app.system),
        &app.system,
        |_| false,
        "",
    ) else {
        return;
    };
    let Some(system) = &app.system.data else {
        return;
    };
    let consumers = &system.status.consumers;
    let [state, lag, dead] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length((consumers.len() as u16 + 3).min(inner.height / 2)),
        Constraint::Min(3),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(if system.status.caught_up {
            " Every consumer has caught up."
        } else {
            " ! Some consumers are behind."
        })),
        state,
    );
    let lag_block = Block::bordered().title(" Consumers ");
    let lag_inner = lag_block.inner(lag);
    frame.render_widget(lag_block, lag);
    list(
        frame,
        lag_inner,
        &["Consumer", "Source", "Position", "Head", "Lag", "Dead"],
        &[
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(5),
        ],
        consumers.len(),
        None,
        |i| {
            let c = &consumers[i];
            vec![
                Cell::from(c.consumer.clone()),
                Cell::from(c.source.clone()),
                Cell::from(c.position.to_string()),
                Cell::from(c.head.to_string()),
                Cell::from(if c.lag > 0 {
                    format!("! {}", c.lag)
                } else {
                    "0".into()
                }),
                Cell::from(c.dead_letters.to_string()),
            ]
        },
    );
    let letters = &system.dead_letters;
    let dead_block =
        Block::bordered().title(format!(" Dead letters: {} · Enter replays ", letters.len()));
    let dead_inner = dead_block.inner(dead);
    frame.render_widget(dead_block, dead);
    if letters.is_empty() {
        frame.render_widget(Paragraph::new(" No dead letters."), dead_inner);
        return;
    }
    list(
        frame,
        dead_inner,
        &["Parked", "Consumer", "Event", "Tries", "Status", "Error"],
        &[
            Constraint::Length(11),
            Constraint::Length(14),
            Constraint::Length(18),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
        letters.len(),
        Some(app.dead_selected.index),
        |i| {
            let l = &letters[i];
            vec![
                Cell::from(when(l.parked_at, app.timezone)),
                Cell::from(clip(&l.consumer, 14)),
                Cell::from(clip(&format!("{} v{}", l.event_name, l.event_version), 18)),
                Cell::from(l.attempts.to_string()),
                Cell::from(match l.status {
                    DeadLetterStatus::Parked => "parked",
                    DeadLetterStatus::Resolved => "resolved",
                    DeadLetterStatus::Discarded => "discarded",
                }),
                Cell::from(l.error.clone()),
            ]
        },
    );
}
