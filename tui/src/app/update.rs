//! Events in, commands out.

use super::command::{Command, Session};
use super::event::{Data, Event, Fetch, Reply};
use super::form::Form;
use super::state::{App, Confirm, Flash, Live, Pending, Popup, Screen};
use crate::api::ApiError;
use crate::api::sse::StreamEvent;
use ates_shared::Cents;
use ates_shared::api::Task;

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

/// Takes the variant a fetch must answer with; anything else is a bug on our side, shown
/// as an error rather than a crash.
macro_rules! expect_data {
    ($result:expr, $variant:ident) => {
        $result.and_then(|data| match data {
            Data::$variant(value) => Ok(value),
            other => Err(ApiError::Decode(format!("unexpected data {other:?}"))),
        })
    };
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
                if self.screen == Screen::Main && self.live != Live::Live && !self.tab_loading() {
                    self.refresh(self.tab)
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// "Today" follows the clock, in the company's zone; the Analytics screen shown across
    /// midnight moves to the new day.
    fn on_clock(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<Command> {
        let today = now.with_timezone(&self.timezone).date_naive();
        if today == self.today || self.screen != Screen::Main {
            self.today = today;
            return Vec::new();
        }
        self.today = today;
        if self.tab == super::tabs::Tab::Analytics {
            self.refresh(self.tab)
        } else {
            Vec::new()
        }
    }

    /// A paste goes into the text field being typed in, if any; elsewhere it is dropped
    /// (pasted text is never taken as key presses, so it cannot trigger actions).
    fn on_paste(&mut self, text: &str) -> Vec<Command> {
        use super::tabs::Tab;
        match self.screen {
            Screen::Login => self.login.paste(text),
            Screen::Resuming => {}
            Screen::Main => match &mut self.popup {
                Some(Popup::NewUser(form)) => form.paste(text),
                Some(_) => {}
                None if self.tab == Tab::NewTask && self.new_task_editing => {
                    self.new_task.paste(text)
                }
                None if self.tab == Tab::Board && self.board.searching => {
                    let line = text.replace(['\r', '\n'], " ");
                    self.board.search.push_str(&line);
                    self.board.search = self.board.search.chars().take(200).collect();
                    self.board.selected.reset();
                    self.board.recompute();
                    let query = self.board.query();
                    return self.fetch(Fetch::Board(query)).into_iter().collect();
                }
                None => {}
            },
        }
        Vec::new()
    }

    fn tab_loading(&self) -> bool {
        use super::tabs::Tab::*;
        match self.tab {
            MyTasks => self.my_tasks.loading,
            Board => self.board.tasks.loading,
            NewTask => false,
            MyAccount => self.account.loading,
            Reshuffle => self.open_count.loading,
            Accounts => self.accounts.loading,
            Earnings => self.earnings.loading,
            Users => self.users.loading,
            Events => self.system.loading,
            Analytics => self.analytics.loading,
        }
    }

    fn on_stream(&mut self, event: StreamEvent) -> Vec<Command> {
        if self.screen != Screen::Main {
            return Vec::new();
        }
        match event {
            StreamEvent::Connected => {
                let was_down = self.live != Live::Live;
                self.live = Live::Live;
                // Changes may have happened while the stream was down.
                if was_down && self.live_since_login() {
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
                if self.tab.contexts().contains(&context.as_str()) {
                    self.refresh(self.tab)
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// False right after login, when the first fetch is already on its way.
    fn live_since_login(&self) -> bool {
        !self.tab_loading()
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Command> {
        if let Some(err) = reply_error(&reply)
            && err.is_unauthorized()
            && !matches!(reply, Reply::LoggedIn { .. })
            && self.screen != Screen::Login
        {
            let note = signed_out(err);
            return self.to_login(Some(note));
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
                    self.screen = Screen::Login;
                    self.login_note = Some(err.describe());
                    Vec::new()
                }
            },
            Reply::Fetched {
                fetch,
                generation,
                result,
            } => self.on_fetched(fetch, generation, result),
            Reply::Completed { id, result } => {
                self.completing = None;
                match result {
                    Ok(task) => {
                        self.flash = Flash::info(format!("Done: “{}”", task.title));
                        self.replace_task(task);
                    }
                    Err(err) => {
                        let title = self
                            .my_tasks
                            .data
                            .iter()
                            .flatten()
                            .find(|t| t.id == id)
                            .map(|t| t.title.clone())
                            .unwrap_or_default();
                        self.flash = Flash::error(format!(
                            "Could not complete “{title}”: {}",
                            err.describe()
                        ));
                    }
                }
                Vec::new()
            }
            Reply::TaskCreated(result) => {
                self.new_task.submitting = false;
                match result {
                    Ok(task) => {
                        self.new_task = super::state::new_task_form();
                        self.flash = Flash::info(format!(
                            "Created “{}”, assigned to {}",
                            task.title, task.assignee.username
                        ));
                    }
                    Err(err) => {
                        show_task_error(&mut self.new_task, &err);
                        self.new_task_editing = true;
                    }
                }
                Vec::new()
            }
            Reply::Reshuffled(result) => {
                self.reshuffling = false;
                match result {
                    Ok(done) => {
                        self.flash = Flash::info(format!(
                            "Reshuffled: {} open task(s) reassigned",
                            done.reassigned
                        ));
                        self.refresh(self.tab)
                    }
                    Err(err) => {
                        self.flash = Flash::error(format!("Reshuffle failed: {}", err.describe()));
                        Vec::new()
                    }
                }
            }
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
            Reply::UserCreated(result) => match result {
                Ok(user) => {
                    self.popup = None;
                    self.flash = Flash::info(format!("Created {} ({})", user.username, user.role));
                    self.refresh(self.tab)
                }
                Err(err) => {
                    if let Some(Popup::NewUser(form)) = &mut self.popup {
                        form.submitting = false;
                        form.show_error(&err);
                    } else {
                        self.flash =
                            Flash::error(format!("Creating the user failed: {}", err.describe()));
                    }
                    Vec::new()
                }
            },
            Reply::UserUpdated(result) => match result {
                Ok(user) => {
                    self.flash = Flash::info(format!(
                        "{} is now {}{}",
                        user.username,
                        user.role,
                        if user.active { "" } else { " (inactive)" }
                    ));
                    if let Some(users) = &mut self.users.data
                        && let Some(slot) = users.iter_mut().find(|u| u.id == user.id)
                    {
                        *slot = user;
                    }
                    Vec::new()
                }
                Err(err) => {
                    self.flash =
                        Flash::error(format!("Updating the user failed: {}", err.describe()));
                    Vec::new()
                }
            },
            Reply::Exported(result) => {
                self.flash = match result {
                    Ok((path, rows)) => Flash::info(format!(
                        "Exported {rows} ledger row(s) to {}",
                        path.display()
                    )),
                    Err(why) => Flash::error(format!("Export failed: {why}")),
                };
                Vec::new()
            }
            Reply::Retried(result) => match result {
                Ok(letter) => {
                    self.flash = Flash::info(format!(
                        "Replayed {} for {}: {:?}",
                        letter.event_name, letter.consumer, letter.status
                    ));
                    self.refresh(self.tab)
                }
                Err(err) => {
                    self.flash = Flash::error(format!("Replay failed: {}", err.describe()));
                    Vec::new()
                }
            },
        }
    }

    fn on_fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
    ) -> Vec<Command> {
        match fetch.clone() {
            Fetch::MyTasks => {
                let result = expect_data!(result, Tasks).map(|mut tasks| {
                    App::set_my_tasks(&mut tasks);
                    tasks
                });
                self.my_tasks.accept(generation, result);
                let tasks = self.my_tasks.data.as_deref().unwrap_or_default();
                self.my_selected.sync(tasks, |t| t.id);
            }
            Fetch::Board(_) => {
                let result = result.and_then(|data| match data {
                    Data::Board { tasks, more } => Ok((tasks, more)),
                    other => Err(ApiError::Decode(format!("unexpected data {other:?}"))),
                });
                let more = result.as_ref().map(|(_, more)| *more).ok();
                if self
                    .board
                    .tasks
                    .accept(generation, result.map(|(tasks, _)| tasks))
                {
                    if let Some(more) = more {
                        self.board.more = more;
                    }
                    self.board.recompute();
                }
            }
            Fetch::MyAccount => {
                self.account
                    .accept(generation, expect_data!(result, MyAccount));
            }
            Fetch::Accounts => {
                self.accounts
                    .accept(generation, expect_data!(result, Accounts));
                let accounts = self.accounts.data.as_deref().unwrap_or_default();
                self.accounts_selected.sync(accounts, |a| a.user.id);
            }
            Fetch::Log(user) => {
                if self.log_user.as_ref().map(|u| u.id) == Some(user) {
                    self.log.accept(generation, expect_data!(result, Log));
                } else {
                    self.log.finish(generation);
                }
            }
            Fetch::Earnings => {
                self.earnings
                    .accept(generation, expect_data!(result, Earnings));
            }
            Fetch::Users => {
                self.users.accept(generation, expect_data!(result, Users));
                let users = self.users.data.as_deref().unwrap_or_default();
                self.users_selected.sync(users, |u| u.id);
            }
            Fetch::System => {
                self.system.accept(generation, expect_data!(result, System));
                let letters = self
                    .system
                    .data
                    .as_ref()
                    .map_or(&[][..], |s| &s.dead_letters[..]);
                self.dead_selected.sync(letters, |d| d.id);
            }
            Fetch::Analytics(_) => {
                self.analytics.accept(
                    generation,
                    expect_data!(result, Analytics).map(|view| *view),
                );
            }
            Fetch::Meta => {
                if self.meta.accept(generation, expect_data!(result, Meta))
                    && let Some(meta) = &self.meta.data
                {
                    // An unknown zone name (a newer server) leaves times in UTC, labelled so.
                    self.timezone = meta.timezone.parse().unwrap_or(chrono_tz::UTC);
                    if self.today != meta.today {
                        self.today = meta.today;
                        if self.tab == super::tabs::Tab::Analytics {
                            return self.refresh(self.tab);
                        }
                    }
                }
            }
            Fetch::OpenCount => {
                if self
                    .open_count
                    .accept(generation, expect_data!(result, Count))
                    && std::mem::take(&mut self.confirm_after_count)
                {
                    self.ask_reshuffle();
                }
            }
        }
        // Changes came while this fetch was in flight: exactly one more, of the view as it
        // stands now.
        let again = match &fetch {
            Fetch::MyTasks => self.my_tasks.take_again(),
            Fetch::Board(_) => self.board.tasks.take_again(),
            Fetch::MyAccount => self.account.take_again(),
            Fetch::Accounts => self.accounts.take_again(),
            Fetch::Log(_) => self.log.take_again(),
            Fetch::Earnings => self.earnings.take_again(),
            Fetch::Users => self.users.take_again(),
            Fetch::System => self.system.take_again(),
            Fetch::Analytics(_) => self.analytics.take_again(),
            Fetch::OpenCount => self.open_count.take_again(),
            Fetch::Meta => self.meta.take_again(),
        };
        match again.then(|| self.current(fetch)).flatten() {
            Some(next) => self.fetch(next).into_iter().collect(),
            None => Vec::new(),
        }
    }

    fn ask_reshuffle(&mut self) {
        match (&self.open_count.data, &self.open_count.error) {
            (_, Some(err)) => {
                self.flash = Flash::error(format!("Cannot count open tasks: {}", err.describe()))
            }
            (Some(0), None) => self.flash = Flash::info("No open tasks: nothing to reshuffle"),
            (Some(count), None) => {
                self.popup = Some(Popup::Confirm(Confirm {
                    title: "Reshuffle".into(),
                    text: format!(
                        "Reshuffle {count} open task(s)? Each one moves to a random worker or \
                         accountant and is billed as a new assignment; fees are not refunded."
                    ),
                    action: Pending::Reshuffle,
                }))
            }
            (None, None) => {}
        }
    }

    /// A task changed (completed): update it wherever it is shown, without a refetch.
    fn replace_task(&mut self, task: Task) {
        for list in [&mut self.my_tasks.data, &mut self.board.tasks.data]
            .into_iter()
            .flatten()
        {
            if let Some(slot) = list.iter_mut().find(|t| t.id == task.id) {
                *slot = task.clone();
            }
        }
        self.board.recompute();
    }
}

/// The server's validation errors at the field they name. A Jira id in the title is the
/// one mistake worth pointing at two fields: where it is, and where it belongs.
fn show_task_error(form: &mut Form, err: &ApiError) {
    form.show_error(err);
    if err.code() == Some("title_contains_jira_id") {
        form.set_error("jira_id", "put the Jira id here, e.g. UBERPOP-42");
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
        Reply::Exported(_) => None,
    }
}
