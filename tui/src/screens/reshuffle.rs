//! Reshuffle: how many open tasks would move, and the key that starts it. The count is
//! fetched first, so the confirmation can say how many tasks move.

use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::state::Pending;
use crate::app::tabs::Tab;
use crate::ui::widgets::{block, remote_state};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug, Default)]
pub struct Reshuffle {
    pub open_count: Remote<usize>,
    /// Show the confirmation as soon as the count arrives.
    pub confirm_after_count: bool,
    pub reshuffling: bool,
}

impl Reshuffle {
    fn ask(&mut self, cx: &mut Cx) {
        match (&self.open_count.data, &self.open_count.error) {
            (_, Some(err)) => cx.error(format!("Cannot count open tasks: {}", err.describe())),
            (Some(0), None) => cx.info("No open tasks: nothing to reshuffle"),
            (Some(count), None) => cx.confirm(
                Tab::Reshuffle,
                "Reshuffle",
                format!(
                    "Reshuffle {count} open task(s)? Each one moves to a random worker or \
                     accountant and is billed as a new assignment; fees are not refunded."
                ),
                Pending::Reshuffle,
            ),
            (None, None) => {}
        }
    }
}

impl Screen for Reshuffle {
    fn contexts(&self) -> &'static [&'static str] {
        &["tracker"]
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        cx.fetch(&mut self.open_count, Fetch::OpenCount)
            .into_iter()
            .collect()
    }

    fn loading(&self) -> bool {
        self.open_count.loading
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let result = expect(result, |data| match data {
            Data::Count(count) => Ok(count),
            other => Err(other),
        });
        if self.open_count.accept(generation, result)
            && std::mem::take(&mut self.confirm_after_count)
        {
            self.ask(cx);
        }
        cx.again(&mut self.open_count, fetch)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        match action {
            Action::Reshuffle if !self.reshuffling => {
                self.confirm_after_count = true;
                self.refresh(cx)
            }
            _ => Vec::new(),
        }
    }

    fn confirmed(&mut self, action: Pending, cx: &mut Cx) -> Vec<Command> {
        match action {
            Pending::Reshuffle => {
                self.reshuffling = true;
                cx.info("Reshuffling…");
                vec![Command::Reshuffle]
            }
            _ => Vec::new(),
        }
    }

    fn replied(&mut self, reply: Reply, cx: &mut Cx) -> Vec<Command> {
        let Reply::Reshuffled(result) = reply else {
            return Vec::new();
        };
        self.reshuffling = false;
        match result {
            Ok(done) => {
                cx.info(format!(
                    "Reshuffled: {} open task(s) reassigned",
                    done.reassigned
                ));
                self.refresh(cx)
            }
            Err(err) => {
                cx.error(format!("Reshuffle failed: {}", err.describe()));
                Vec::new()
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _look: Look) {
        let Some(inner) = remote_state(
            frame,
            area,
            block("Reshuffle", &self.open_count),
            &self.open_count,
            |_| false,
            "",
        ) else {
            return;
        };
        let count = self.open_count.data.unwrap_or(0);
        let lines = vec![
            Line::from(format!(" Open tasks: {count}")),
            Line::from(""),
            Line::from(
                " A reshuffle gives every open task to a random worker or accountant (it may",
            ),
            Line::from(
                " land on the same one). Each move is billed as a new assignment; no fee is",
            ),
            Line::from(" refunded. Done tasks never move."),
            Line::from(""),
            Line::from(if self.reshuffling {
                " Reshuffling…"
            } else if count == 0 {
                " Nothing to reshuffle."
            } else {
                " Enter: reshuffle (asks first)"
            }),
        ];
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}
