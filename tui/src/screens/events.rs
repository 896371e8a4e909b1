//! The event system (admin): each consumer's lag, and the dead letters to replay.

use super::list::List;
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply, SystemView};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::selection::Moved;
use crate::app::state::Pending;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, clip, list, remote_state, when};
use ates_shared::api::{DeadLetter, DeadLetterStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph};

#[derive(Debug, Default)]
pub struct Events {
    pub remote: Remote<SystemView>,
    /// The dead letters of the last view, as a list to pick from.
    pub letters: List<DeadLetter>,
}

impl Events {
    /// Shows `remote` (tests and the fetch reply alike).
    pub fn show(&mut self, remote: Remote<SystemView>) {
        self.remote = remote;
        self.letters_from_view();
    }

    fn letters_from_view(&mut self) {
        let letters = self
            .remote
            .data
            .as_ref()
            .map(|view| view.dead_letters.clone())
            .unwrap_or_default();
        self.letters.remote.data = Some(letters);
        self.letters.filter(|_| true);
    }
}

impl Screen for Events {
    fn contexts(&self) -> &'static [&'static str] {
        &["auth", "tracker", "accounting", "analytics"]
    }

    fn has_list(&self) -> bool {
        true
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        cx.fetch(&mut self.remote, Fetch::System)
            .into_iter()
            .collect()
    }

    fn loading(&self) -> bool {
        self.remote.loading
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let result = expect(result, |data| match data {
            Data::System(view) => Ok(view),
            other => Err(other),
        });
        if self.remote.accept(generation, result) {
            self.letters_from_view();
        }
        cx.again(&mut self.remote, fetch)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if self.letters.navigate(action) || action != Action::Replay {
            return Vec::new();
        }
        match self.letters.for_action() {
            Err(Moved) => cx.error(Moved::MESSAGE),
            Ok(Some(letter)) => {
                let text = format!(
                    "Replay {} v{} for {}? It was parked after {} attempts: {}",
                    letter.event_name,
                    letter.event_version,
                    letter.consumer,
                    letter.attempts,
                    letter.error
                );
                let id = letter.id;
                cx.confirm(Tab::Events, "Replay", text, Pending::Retry(id));
            }
            Ok(None) => {}
        }
        Vec::new()
    }

    fn confirmed(&mut self, action: Pending, cx: &mut Cx) -> Vec<Command> {
        match action {
            Pending::Retry(id) => {
                cx.info("Replaying the dead letter…");
                vec![Command::RetryDeadLetter(id)]
            }
            _ => Vec::new(),
        }
    }

    fn replied(&mut self, reply: Reply, cx: &mut Cx) -> Vec<Command> {
        let Reply::Retried(result) = reply else {
            return Vec::new();
        };
        match result {
            Ok(letter) => {
                cx.info(format!(
                    "Replayed {} for {}: {:?}",
                    letter.event_name, letter.consumer, letter.status
                ));
                self.refresh(cx)
            }
            Err(err) => {
                cx.error(format!("Replay failed: {}", err.describe()));
                Vec::new()
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, look: Look) {
        let Some(inner) = remote_state(
            frame,
            area,
            block("Event system", &self.remote),
            &self.remote,
            |_| false,
            "",
        ) else {
            return;
        };
        let Some(system) = &self.remote.data else {
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
        let letters = self.letters.items();
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
            Some(self.letters.selected.index),
            |i| {
                let l = &letters[i];
                vec![
                    Cell::from(when(l.parked_at, look.timezone)),
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
}
