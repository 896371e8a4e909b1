//! The event system (admin): each consumer's lag, and the dead letters to replay.

use super::list::List;
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply, SystemView};
use crate::app::form::{Field, Form, FormKey};
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::selection::Moved;
use crate::app::state::Pending;
use crate::app::tabs::Tab;
use crate::ui::login::form_lines;
use crate::ui::popup::show;
use crate::ui::widgets::{block, centered, clip, error_style, list, remote_state, when};
use ates_shared::api::{DeadLetter, DeadLetterStatus};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph};
use ratatui::widgets::{Clear, Wrap};
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Events {
    pub remote: Remote<SystemView>,
    /// The dead letters of the last view, as a list to pick from.
    pub letters: List<DeadLetter>,
    pub dialog: Option<Dialog>,
}

/// A dialog over the Events screen; while one is open every key goes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// One dead letter in full, scrolled down this many lines.
    Detail { id: Uuid, scroll: u16 },
    /// Why the dead letter is discarded.
    Discard { id: Uuid, form: Form },
}

fn discard_form() -> Form {
    Form::new(vec![Field::text("reason", "Reason")])
}

impl Events {
    fn letter(&self, id: Uuid) -> Option<&DeadLetter> {
        self.letters.items().iter().find(|l| l.id == id)
    }

    fn ask_replay(letter: &DeadLetter, cx: &mut Cx) {
        let text = format!(
            "Replay {} v{} for {}? It was parked after {} attempts: {}",
            letter.event_name, letter.event_version, letter.consumer, letter.attempts, letter.error
        );
        cx.confirm(Tab::Events, "Replay", text, Pending::Retry(letter.id));
    }

    fn dialog_key(&mut self, dialog: Dialog, key: KeyEvent, cx: &mut Cx) -> Vec<Command> {
        match dialog {
            Dialog::Detail { id, scroll } => match key.code {
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => {}
                KeyCode::Char('p') => {
                    if let Some(letter) = self.letter(id).cloned() {
                        Events::ask_replay(&letter, cx);
                    }
                }
                KeyCode::Char('x') => {
                    self.dialog = Some(Dialog::Discard {
                        id,
                        form: discard_form(),
                    })
                }
                KeyCode::Char('j') | KeyCode::Down => {
                    self.dialog = Some(Dialog::Detail {
                        id,
                        scroll: scroll.saturating_add(1),
                    })
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    self.dialog = Some(Dialog::Detail {
                        id,
                        scroll: scroll.saturating_sub(1),
                    })
                }
                _ => self.dialog = Some(Dialog::Detail { id, scroll }),
            },
            Dialog::Discard { id, mut form } => {
                if form.submitting {
                    self.dialog = Some(Dialog::Discard { id, form });
                    return Vec::new();
                }
                match form.key(key) {
                    FormKey::Handled => self.dialog = Some(Dialog::Discard { id, form }),
                    FormKey::Cancel => self.dialog = Some(Dialog::Detail { id, scroll: 0 }),
                    FormKey::Submit => {
                        let reason = form.value("reason").trim().to_owned();
                        if reason.is_empty() {
                            form.set_error("reason", "say why: it is kept with the dead letter");
                            self.dialog = Some(Dialog::Discard { id, form });
                            return Vec::new();
                        }
                        form.submitting = true;
                        self.dialog = Some(Dialog::Discard { id, form });
                        cx.info("Discarding the dead letter…");
                        return vec![Command::DiscardDeadLetter(id, reason)];
                    }
                }
            }
        }
        Vec::new()
    }
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
        if self.letters.navigate(action)
            || !matches!(action, Action::Replay | Action::Open | Action::Discard)
        {
            return Vec::new();
        }
        let letter = match self.letters.for_action() {
            Err(Moved) => {
                cx.error(Moved::MESSAGE);
                return Vec::new();
            }
            Ok(Some(letter)) => letter.clone(),
            Ok(None) => return Vec::new(),
        };
        match action {
            Action::Replay => Events::ask_replay(&letter, cx),
            Action::Open => {
                self.dialog = Some(Dialog::Detail {
                    id: letter.id,
                    scroll: 0,
                })
            }
            _ => {
                self.dialog = Some(Dialog::Discard {
                    id: letter.id,
                    form: discard_form(),
                })
            }
        }
        Vec::new()
    }

    fn typing(&self) -> bool {
        self.dialog.is_some()
    }

    fn typed(&mut self, key: KeyEvent, cx: &mut Cx) -> Vec<Command> {
        match self.dialog.take() {
            Some(dialog) => self.dialog_key(dialog, key, cx),
            None => Vec::new(),
        }
    }

    fn pasted(&mut self, text: &str, _cx: &mut Cx) -> Vec<Command> {
        if let Some(Dialog::Discard { form, .. }) = &mut self.dialog {
            form.paste(text);
        }
        Vec::new()
    }

    fn left(&mut self) {
        self.dialog = None;
    }

    fn overlay(&self, frame: &mut Frame, area: Rect, _look: Look) {
        match &self.dialog {
            None => {}
            Some(Dialog::Discard { form, .. }) => {
                let mut lines = vec![
                    Line::from("Discarded for good: it is never applied. The reason is kept."),
                    Line::from(""),
                ];
                lines.extend(form_lines(form, true));
                if let Some(err) = &form.error {
                    lines.push(Line::from(Span::styled(format!("! {err}"), error_style())));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(if form.submitting {
                    "Discarding…"
                } else {
                    "Enter discard · Esc back"
                }));
                show(frame, area, " Discard dead letter ", lines, 70);
            }
            Some(Dialog::Detail { id, scroll }) => {
                let Some(letter) = self.letter(*id) else {
                    return;
                };
                let mut lines = vec![
                    Line::from(format!("Consumer: {}", letter.consumer)),
                    Line::from(format!(
                        "Event:    {} v{} ({})",
                        letter.event_name, letter.event_version, letter.event_id
                    )),
                    Line::from(format!(
                        "Status:   {} · {} attempt(s) · parked {}",
                        status_name(letter.status),
                        letter.attempts,
                        letter.parked_at.format("%Y-%m-%d %H:%M:%S UTC")
                    )),
                ];
                if let Some(reason) = &letter.discard_reason {
                    lines.push(Line::from(format!("Discarded because: {reason}")));
                }
                lines.push(Line::from(format!("Error:    {}", letter.error)));
                lines.push(Line::from("Envelope:"));
                let envelope = serde_json::to_string_pretty(&letter.envelope).unwrap_or_default();
                lines.extend(envelope.lines().map(|l| Line::from(format!("  {l}"))));
                let width = area.width.saturating_sub(4).min(110);
                let height = area.height.saturating_sub(2);
                let rect = centered(area, width, height);
                frame.render_widget(Clear, rect);
                frame.render_widget(
                    Paragraph::new(lines)
                        .wrap(Wrap { trim: false })
                        .scroll((*scroll, 0))
                        .block(
                            Block::bordered()
                                .title(" Dead letter ")
                                .title_bottom(" p replay · x discard · j/k scroll · Esc close "),
                        ),
                    rect,
                );
            }
        }
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
        let result = match reply {
            Reply::Retried(result) => result,
            Reply::Discarded(Ok(letter)) => {
                self.dialog = None;
                cx.info(format!(
                    "Discarded {} for {}",
                    letter.event_name, letter.consumer
                ));
                return self.refresh(cx);
            }
            Reply::Discarded(Err(err)) => {
                if let Some(Dialog::Discard { form, .. }) = &mut self.dialog {
                    form.submitting = false;
                    form.show_error(&err);
                }
                cx.error(format!("Discard failed: {}", err.describe()));
                return Vec::new();
            }
            _ => return Vec::new(),
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
            Block::bordered().title(format!(" Dead letters: {} · Enter opens ", letters.len()));
        let dead_inner = dead_block.inner(dead);
        frame.render_widget(dead_block, dead);
        if letters.is_empty() {
            frame.render_widget(Paragraph::new(" No dead letters."), dead_inner);
            return;
        }
        // Whole consumer names where there is room (`analytics.access.auth`).
        let longest = letters
            .iter()
            .map(|l| l.consumer.chars().count())
            .max()
            .unwrap_or(8);
        let consumer_width = if dead_inner.width >= 120 {
            longest.clamp(8, 32) as u16
        } else {
            14
        };
        list(
            frame,
            dead_inner,
            &["Parked", "Consumer", "Event", "Tries", "Status", "Error"],
            &[
                Constraint::Length(11),
                Constraint::Length(consumer_width),
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
                    Cell::from(clip(&l.consumer, consumer_width as usize)),
                    Cell::from(clip(&format!("{} v{}", l.event_name, l.event_version), 18)),
                    Cell::from(l.attempts.to_string()),
                    Cell::from(status_name(l.status)),
                    Cell::from(l.error.clone()),
                ]
            },
        );
    }
}

fn status_name(status: DeadLetterStatus) -> &'static str {
    match status {
        DeadLetterStatus::Parked => "parked",
        DeadLetterStatus::Resolved => "resolved",
        DeadLetterStatus::Discarded => "discarded",
    }
}
