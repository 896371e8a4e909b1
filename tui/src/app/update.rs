//! Events in, commands out.

use super::command::{Command, Session};
use super::event::{Data, Event, Reply};
use super::state::{App, Flash, Live, Stage};
use crate::api::ApiError;
use crate::api::sse::StreamEvent;
use crate::screens::{Screens, expect};
use ates_shared::Cents;

/// Why the session ended, in the server's words (expired, deactivated, or a role change
/// that asks for a new login).
fn signed_out(err: &ApiError) -> String {
    match err {
        ApiError::Server { message, .. } if !message.is_empty() => {
            format!("Signed out: {message}")
        }
        _ => "Your session has ended: log in again.".to_owned(),
    }
}

impl App {
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Key(key) => self.on_key(key),
            Event::Reply(reply) => self.on_reply(reply),
            Event::Stream(stream) => self.on_stream(stream),
            Event::Resize => Vec::new(),
            Event::Clock(now) => self.on_clock(now),
            Event::Paste(text) => self.on_paste(&text),
            Event::Terminate => {
                self.quit = true;
                vec![Command::Quit]
            }
            Event::Poll => {
                if self.stage == Stage::Main && self.live != Live::Live && !self.tab_loading() {
                    self.refresh(self.tab)
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// "Today" follows the clock, in the company's zone; the screen shown across midnight
    /// hears of the new day (Analytics moves to it).
    fn on_clock(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<Command> {
        let today = now.with_timezone(&self.timezone).date_naive();
        self.new_day(today)
    }

    fn new_day(&mut self, today: chrono::NaiveDate) -> Vec<Command> {
        let changed = today != self.today;
        self.today = today;
        if changed && self.stage == Stage::Main {
            self.with_screen(self.tab, |screen, cx| screen.new_day(cx))
        } else {
            Vec::new()
        }
    }

    /// A paste goes into the text field being typed in, if any; elsewhere it is dropped
    /// (pasted text is never taken as key presses, so it cannot trigger actions).
    fn on_paste(&mut self, text: &str) -> Vec<Command> {
        match self.stage {
            Stage::Login => {
                self.login.paste(text);
                Vec::new()
            }
            Stage::Main if self.popup.is_none() && self.screens.get(self.tab).typing() => {
                self.with_screen(self.tab, |screen, cx| screen.pasted(text, cx))
            }
            Stage::Main | Stage::Resuming => Vec::new(),
        }
    }

    fn tab_loading(&self) -> bool {
        self.screens.get(self.tab).loading()
    }

    fn on_stream(&mut self, event: StreamEvent) -> Vec<Command> {
        if self.stage != Stage::Main {
            return Vec::new();
        }
        match event {
            StreamEvent::Connected => {
                let was_down = self.live != Live::Live;
                self.live = Live::Live;
                // Changes may have happened while the stream was down; right after login
                // the first fetch is already on its way.
                if was_down && !self.tab_loading() {
                    self.refresh(self.tab)
                } else {
                    Vec::new()
                }
            }
            StreamEvent::Disconnected(reason) => {
                self.live = Live::Polling(reason);
                Vec::new()
            }
            StreamEvent::Changed(context) => {
                if self
                    .screens
                    .get(self.tab)
                    .contexts()
                    .contains(&context.as_str())
                {
                    self.refresh(self.tab)
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Command> {
        if let Some(err) = reply_error(&reply)
            && err.is_unauthorized()
            && !matches!(reply, Reply::LoggedIn { .. })
            && self.stage != Stage::Login
        {
            let note = signed_out(err);
            return self.to_login(Some(note));
        }
        // A completed task shows as done on the board too, without a refetch.
        if let Reply::Completed {
            result: Ok(task), ..
        } = &reply
        {
            self.screens.board.task_changed(task.clone());
        }
        if let Some(tab) = Screens::reply_owner(&reply) {
            return self.with_screen(tab, |screen, cx| screen.replied(reply, cx));
        }
        match reply {
            Reply::LoggedIn { server, result } => {
                self.login.submitting = false;
                match result {
                    Ok(login) => {
                        self.session = Some(Session {
                            server,
                            token: login.token,
                            username: login.user.username.clone(),
                        });
                        self.login.fields.iter_mut().for_each(|f| {
                            if f.secret {
                                f.value.clear()
                            }
                        });
                        self.enter(login.user)
                    }
                    Err(err) => {
                        self.login.error = Some(err.describe());
                        Vec::new()
                    }
                }
            }
            Reply::Resumed(result) => match result {
                Ok(user) => self.enter(user),
                Err(err) => {
                    // The server may just be down: keep the token, let the user retry.
                    self.stage = Stage::Login;
                    self.login_note = Some(err.describe());
                    Vec::new()
                }
            },
            Reply::Fetched {
                fetch,
                generation,
                result,
            } => match Screens::owner(&fetch) {
                Some(tab) => self.with_screen(tab, |screen, cx| {
                    screen.fetched(fetch, generation, result, cx)
                }),
                None => self.on_meta(generation, result),
            },
            Reply::DayClosed(result) => {
                self.closing_day = false;
                match result {
                    Ok(closed) => {
                        self.flash = Flash::info(format!(
                            "Closed {}: {} payout(s), {} paid",
                            closed.date,
                            closed.payouts,
                            Cents(closed.paid_cents)
                        ));
                        self.refresh(self.tab)
                    }
                    Err(err) => {
                        self.flash =
                            Flash::error(format!("Closing the day failed: {}", err.describe()));
                        Vec::new()
                    }
                }
            }
            // Routed to their screens above.
            Reply::Completed { .. }
            | Reply::TaskCreated(_)
            | Reply::Reshuffled(_)
            | Reply::UserCreated(_)
            | Reply::UserUpdated(_)
            | Reply::Retried(_)
            | Reply::Discarded(_)
            | Reply::Exported(_) => Vec::new(),
        }
    }

    /// The company's time zone and today's date.
    fn on_meta(&mut self, generation: u64, result: Result<Data, ApiError>) -> Vec<Command> {
        let result = expect(result, |data| match data {
            Data::Meta(meta) => Ok(meta),
            other => Err(other),
        });
        let mut commands = Vec::new();
        if self.meta.accept(generation, result)
            && let Some(meta) = self.meta.data.clone()
        {
            // An unknown zone name (a newer server) leaves times in UTC, labelled so.
            self.timezone = meta.timezone.parse().unwrap_or(chrono_tz::UTC);
            commands = self.new_day(meta.today);
        }
        if self.meta.take_again() {
            commands.extend(self.fetch_meta());
        }
        commands
    }
}

fn reply_error(reply: &Reply) -> Option<&ApiError> {
    match reply {
        Reply::LoggedIn { result, .. } => result.as_ref().err(),
        Reply::Resumed(r) => r.as_ref().err(),
        Reply::Fetched { result, .. } => result.as_ref().err(),
        Reply::Completed { result, .. } => result.as_ref().err(),
        Reply::TaskCreated(r) => r.as_ref().err(),
        Reply::Reshuffled(r) => r.as_ref().err(),
        Reply::DayClosed(r) => r.as_ref().err(),
        Reply::UserCreated(r) => r.as_ref().err(),
        Reply::UserUpdated(r) => r.as_ref().err(),
        Reply::Retried(r) => r.as_ref().err(),
        Reply::Discarded(r) => r.as_ref().err(),
        Reply::Exported(_) => None,
    }
}
