//! Key presses: what each key does on each screen.

use super::command::Command;
use super::event::Fetch;
use super::form::FormKey;
use super::keymap::Action;
use super::selection::{Moved, Selection};
use super::state::{
    App, BOARD_PAGE, Confirm, Flash, Pending, Popup, ROLE_NAMES, Screen, new_user_form,
};
use super::tabs::Tab;
use ates_shared::Role;
use ates_shared::api::{CreateUser, NewTask, TaskStatus, UpdateUser};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Rows a page key moves.
const PAGE: usize = 10;

/// Where a movement action takes a selection in a list of `len`; `None` for other actions.
pub fn step(selected: usize, len: usize, action: Action) -> Option<usize> {
    let last = len.saturating_sub(1);
    Some(match action {
        Action::Down => selected.saturating_add(1).min(last),
        Action::Up => selected.saturating_sub(1),
        Action::PageDown => selected.saturating_add(PAGE).min(last),
        Action::PageUp => selected.saturating_sub(PAGE),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return None,
    })
}

/// Moves a list's selection; returns whether the action was a movement.
pub fn navigate_list<T>(
    selection: &mut Selection,
    items: &[T],
    id_of: impl Fn(&T) -> uuid::Uuid,
    action: Action,
) -> bool {
    match step(selection.index, items.len(), action) {
        Some(index) => {
            selection.select(index, items, id_of);
            true
        }
        None => false,
    }
}

impl App {
    pub(crate) fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return self.quit();
        }
        if self.popup.is_some() {
            return self.popup_key(key);
        }
        match self.screen {
            Screen::Login => self.login_key(key),
            Screen::Resuming => match key.code {
                KeyCode::Char('q') | KeyCode::Esc => self.quit(),
                _ => Vec::new(),
            },
            Screen::Main => self.main_key(key),
        }
    }

    fn quit(&mut self) -> Vec<Command> {
        self.quit = true;
        vec![Command::Quit]
    }

    fn login_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.login.submitting {
            return Vec::new();
        }
        match self.login.key(key) {
            FormKey::Handled => Vec::new(),
            FormKey::Cancel => self.quit(),
            FormKey::Submit => {
                self.login.clear_errors();
                let server = self.login.value("server").trim().to_owned();
                let username = self.login.value("username").trim().to_owned();
                let password = self.login.value("password").to_owned();
                let mut missing = false;
                for (name, value, text) in [
                    ("server", &server, "enter the server's address"),
                    ("username", &username, "enter your username"),
                    ("password", &password, "enter your password"),
                ] {
                    if value.is_empty() {
                        self.login.set_error(name, text);
                        missing = true;
                    }
                }
                if missing {
                    return Vec::new();
                }
                self.login.submitting = true;
                self.login_note = None;
                vec![Command::Login {
                    server,
                    username,
                    password,
                }]
            }
        }
    }

    fn popup_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(popup) = self.popup.take() else {
            return Vec::new();
        };
        match popup {
            Popup::Help => {
                self.help_key(key);
                Vec::new()
            }
            Popup::Confirm(confirm) => match key.code {
                // Only `y` says yes: a stray or doubled Enter must not pay, replay or reshuffle.
                KeyCode::Char('y') | KeyCode::Char('Y') => self.confirmed(confirm.action),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.flash = Flash::info(format!("{}: cancelled", confirm.title));
                    Vec::new()
                }
                _ => {
                    self.popup = Some(Popup::Confirm(confirm));
                    Vec::new()
                }
            },
            Popup::NewUser(mut form) => {
                if form.submitting {
                    self.popup = Some(Popup::NewUser(form));
                    return Vec::new();
                }
                let outcome = form.key(key);
                match outcome {
                    FormKey::Handled => {
                        self.popup = Some(Popup::NewUser(form));
                        Vec::new()
                    }
                    FormKey::Cancel => Vec::new(),
                    FormKey::Submit => {
                        form.clear_errors();
                        let mut missing = false;
                        for (name, text) in [
                            ("username", "enter a username"),
                            ("full_name", "enter the full name"),
                            ("email", "enter an e-mail address"),
                            ("password", "enter a password"),
                        ] {
                            if form.value(name).trim().is_empty() {
                                form.set_error(name, text);
                                missing = true;
                            }
                        }
                        let role = form.value("role").parse::<Role>().unwrap_or(Role::Worker);
                        let user = CreateUser {
                            username: form.value("username").trim().to_owned(),
                            password: form.value("password").to_owned(),
                            full_name: form.value("full_name").trim().to_owned(),
                            email: form.value("email").trim().to_owned(),
                            role,
                        };
                        form.submitting = !missing;
                        self.popup = Some(Popup::NewUser(form));
                        if missing {
                            Vec::new()
                        } else {
                            vec![Command::CreateUser(user)]
                        }
                    }
                }
            }
            Popup::RolePicker {
                user,
                username,
                mut selected,
            } => match key.code {
                KeyCode::Esc | KeyCode::Char('q') => Vec::new(),
                KeyCode::Enter => {
                    let role = ROLE_NAMES
                        .get(selected)
                        .and_then(|r| r.parse::<Role>().ok())
                        .unwrap_or(Role::Worker);
                    // A role change is confirmed, naming who and what: it grants or takes
                    // away powers, and logs the user out (their token is refused).
                    let powers = if role == Role::Admin {
                        " Admins manage users, see all money and run the event system."
                    } else {
                        ""
                    };
                    self.popup = Some(Popup::Confirm(Confirm {
                        title: "Change role".into(),
                        text: format!(
                            "Make {username} {role}?{powers} They will have to log in again."
                        ),
                        action: Pending::SetRole { id: user, role },
                    }));
                    Vec::new()
                }
                _ => {
                    // The role list moves with the same keys as every other list.
                    if let Some(action) = self.keymap.action(self.tab, true, &key)
                        && let Some(next) = step(selected, ROLE_NAMES.len(), action)
                    {
                        selected = next;
                    }
                    self.popup = Some(Popup::RolePicker {
                        user,
                        username,
                        selected,
                    });
                    Vec::new()
                }
            },
        }
    }

    /// The help overlay: `/` narrows it as you type; `?`, `q`, `Esc` or `Enter` close it.
    fn help_key(&mut self, key: KeyEvent) {
        if self.help_filtering {
            match key.code {
                KeyCode::Enter => self.help_filtering = false,
                KeyCode::Esc => {
                    self.help_filtering = false;
                    self.help_filter.clear();
                }
                KeyCode::Backspace => {
                    self.help_filter.pop();
                }
                KeyCode::Char(c)
                    if !key.modifiers.contains(KeyModifiers::CONTROL)
                        && self.help_filter.chars().count() < 40 =>
                {
                    self.help_filter.push(c);
                }
                _ => {}
            }
            self.popup = Some(Popup::Help);
            return;
        }
        match key.code {
            KeyCode::Char('/') => {
                self.help_filtering = true;
                self.popup = Some(Popup::Help);
            }
            KeyCode::Char('?') | KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => {
                self.help_filter.clear();
            }
            _ => self.popup = Some(Popup::Help),
        }
    }

    fn confirmed(&mut self, action: Pending) -> Vec<Command> {
        match action {
            Pending::Reshuffle => {
                self.reshuffling = true;
                self.flash = Flash::info("Reshuffling…");
                vec![Command::Reshuffle]
            }
            Pending::CloseDay => {
                self.closing_day = true;
                self.flash = Flash::info("Closing the day…");
                vec![Command::CloseDay]
            }
            Pending::SetActive { id, active } => {
                self.flash = Flash::info(if active {
                    "Reactivating…"
                } else {
                    "Deactivating…"
                });
                vec![Command::UpdateUser(
                    id,
                    UpdateUser {
                        active: Some(active),
                        ..UpdateUser::default()
                    },
                )]
            }
            Pending::Complete { id, title } => {
                self.completing = Some(id);
                self.flash = Flash::info(format!("Completing “{title}”…"));
                vec![Command::CompleteTask(id)]
            }
            Pending::SetRole { id, role } => {
                self.flash = Flash::info(format!("Changing the role to {role}…"));
                vec![Command::UpdateUser(
                    id,
                    UpdateUser {
                        role: Some(role),
                        ..UpdateUser::default()
                    },
                )]
            }
            Pending::Retry(id) => {
                self.flash = Flash::info("Replaying the dead letter…");
                vec![Command::RetryDeadLetter(id)]
            }
        }
    }

    fn main_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.tab == Tab::NewTask && self.new_task_editing {
            return self.new_task_key(key);
        }
        if self.tab == Tab::Board && self.board.searching {
            return self.search_key(key);
        }
        if let KeyCode::Char(d @ '1'..='9') = key.code
            && !key.modifiers.contains(KeyModifiers::CONTROL)
        {
            let index = d as usize - '1' as usize;
            return match self.tabs.get(index).copied() {
                Some(tab) => self.switch_to(tab),
                None => Vec::new(),
            };
        }
        // Everything else goes through the keymap: an unbound key does nothing.
        let Some(action) = self.keymap.action(self.tab, self.tab.has_list(), &key) else {
            return Vec::new();
        };
        match action {
            Action::Quit => return self.quit(),
            Action::Help => {
                self.popup = Some(Popup::Help);
                self.help_filter.clear();
                self.help_filtering = false;
                return Vec::new();
            }
            Action::Refresh => return self.refresh(self.tab),
            Action::NextScreen | Action::PrevScreen => {
                let len = self.tabs.len().max(1);
                let at = self.tabs.iter().position(|t| *t == self.tab).unwrap_or(0);
                let next = if action == Action::NextScreen {
                    (at + 1) % len
                } else {
                    (at + len - 1) % len
                };
                return match self.tabs.get(next).copied() {
                    Some(tab) => self.switch_to(tab),
                    None => Vec::new(),
                };
            }
            _ => {}
        }
        match self.tab {
            Tab::MyTasks => self.my_tasks_key(action),
            Tab::Board => self.board_key(action),
            Tab::NewTask => {
                if action == Action::Edit {
                    self.new_task_editing = true;
                }
                Vec::new()
            }
            Tab::MyAccount | Tab::Analytics => Vec::new(),
            Tab::Reshuffle => match action {
                Action::Reshuffle if !self.reshuffling => {
                    // Count first, so the confirmation can say how many tasks move.
                    self.confirm_after_count = true;
                    self.fetch(Fetch::OpenCount).into_iter().collect()
                }
                _ => Vec::new(),
            },
            Tab::Accounts => {
                let accounts = self.accounts.data.as_deref().unwrap_or_default();
                if navigate_list(&mut self.accounts_selected, accounts, |a| a.user.id, action) {
                    return Vec::new();
                }
                match action {
                    Action::ShowLog => {
                        match self.accounts_selected.for_action(accounts, |a| a.user.id) {
                            Err(Moved) => {
                                self.flash = Flash::error(Moved::MESSAGE);
                                Vec::new()
                            }
                            Ok(Some(account)) => {
                                let user = account.user.clone();
                                let id = user.id;
                                self.log_user = Some(user);
                                self.log.data = None;
                                self.fetch(Fetch::Log(id)).into_iter().collect()
                            }
                            Ok(None) => Vec::new(),
                        }
                    }
                    Action::CloseDay => self.ask_close_day(),
                    Action::Export => {
                        let to = self.today;
                        let from = to - chrono::Duration::days(29);
                        self.flash = Flash::info(format!("Exporting the ledger of {from}..{to}…"));
                        vec![Command::ExportLedger { from, to }]
                    }
                    _ => Vec::new(),
                }
            }
            Tab::Earnings => match action {
                Action::CloseDay => self.ask_close_day(),
                _ => Vec::new(),
            },
            Tab::Users => self.users_key(action),
            Tab::Events => {
                let letters = self
                    .system
                    .data
                    .as_ref()
                    .map_or(&[][..], |s| &s.dead_letters[..]);
                if navigate_list(&mut self.dead_selected, letters, |d| d.id, action) {
                    return Vec::new();
                }
                if action == Action::Replay {
                    let letter = match self.dead_selected.for_action(letters, |d| d.id) {
                        Err(Moved) => {
                            self.flash = Flash::error(Moved::MESSAGE);
                            return Vec::new();
                        }
                        Ok(letter) => letter,
                    };
                    if let Some(letter) = letter {
                        self.popup = Some(Popup::Confirm(Confirm {
                            title: "Replay".into(),
                            text: format!(
                                "Replay {} v{} for {}? It was parked after {} attempts: {}",
                                letter.event_name,
                                letter.event_version,
                                letter.consumer,
                                letter.attempts,
                                letter.error
                            ),
                            action: Pending::Retry(letter.id),
                        }));
                    }
                }
                Vec::new()
            }
        }
    }

    fn ask_close_day(&mut self) -> Vec<Command> {
        if self.closing_day {
            return Vec::new();
        }
        self.popup = Some(Popup::Confirm(Confirm {
            title: "Close the day".into(),
            text: "Close today's billing day? Every positive balance is paid out and e-mailed; \
                   negative balances carry over. Closing twice changes nothing."
                .into(),
            action: Pending::CloseDay,
        }));
        Vec::new()
    }

    fn my_tasks_key(&mut self, action: Action) -> Vec<Command> {
        let tasks = self.my_tasks.data.as_deref().unwrap_or_default();
        if navigate_list(&mut self.my_selected, tasks, |t| t.id, action) {
            return Vec::new();
        }
        if action != Action::Complete {
            return Vec::new();
        }
        // The task the selection holds by id: the one drawn as selected, never whatever
        // row now sits at the same position.
        let task = match self.my_selected.for_action(tasks, |t| t.id) {
            Err(Moved) => {
                self.flash = Flash::error(Moved::MESSAGE);
                return Vec::new();
            }
            Ok(Some(task)) => task,
            Ok(None) => return Vec::new(),
        };
        let (id, title, status) = (task.id, task.title.clone(), task.status);
        if self.completing.is_some() {
            self.flash = Flash::info("Still completing the previous task…");
            return Vec::new();
        }
        if status == TaskStatus::Done {
            self.flash = Flash::error(format!("“{title}” is already done"));
            return Vec::new();
        }
        // Completing pays money and cannot be undone: it is confirmed, naming the task.
        self.popup = Some(Popup::Confirm(Confirm {
            title: "Complete".into(),
            text: format!("Complete “{title}”? Its reward is paid and this cannot be undone."),
            action: Pending::Complete { id, title },
        }));
        Vec::new()
    }

    fn board_key(&mut self, action: Action) -> Vec<Command> {
        let tasks = self.board.tasks.data.as_deref().unwrap_or_default();
        if navigate_list(
            &mut self.board.selected,
            &self.board.visible,
            |&i| tasks[i].id,
            action,
        ) {
            if self.board.wants_more() {
                self.board.rows += BOARD_PAGE;
                return self.refetch_board();
            }
            return Vec::new();
        }
        match action {
            Action::Search => {
                self.board.searching = true;
                Vec::new()
            }
            Action::Filter => {
                self.board.filter = self.board.filter.next();
                self.board.selected.reset();
                self.board.recompute();
                self.refetch_board()
            }
            Action::ClearSearch if !self.board.search.is_empty() => {
                self.board.search.clear();
                self.board.recompute();
                self.refetch_board()
            }
            _ => Vec::new(),
        }
    }

    /// The board's filters changed (or more rows are wanted): ask the server again. While a
    /// fetch is in flight this only owes one more, with the filters as they stand then.
    fn refetch_board(&mut self) -> Vec<Command> {
        let query = self.board.query();
        self.fetch(Fetch::Board(query)).into_iter().collect()
    }

    fn search_key(&mut self, key: KeyEvent) -> Vec<Command> {
        match key.code {
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => self.board.searching = false,
            KeyCode::Esc => {
                self.board.searching = false;
                self.board.search.clear();
            }
            KeyCode::Backspace => {
                self.board.search.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if self.board.search.len() < 200 {
                    self.board.search.push(c);
                }
            }
            _ => return Vec::new(),
        }
        self.board.selected.reset();
        self.board.rows = BOARD_PAGE;
        self.board.recompute();
        self.refetch_board()
    }

    fn new_task_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.new_task.submitting {
            return Vec::new();
        }
        match self.new_task.key(key) {
            FormKey::Handled => Vec::new(),
            FormKey::Cancel => {
                self.new_task_editing = false;
                Vec::new()
            }
            FormKey::Submit => {
                self.new_task.clear_errors();
                let title = self.new_task.value("title").trim().to_owned();
                if title.is_empty() {
                    self.new_task.set_error("title", "enter a title");
                    self.new_task.focus = 0;
                    return Vec::new();
                }
                self.new_task.submitting = true;
                vec![Command::CreateTask(NewTask {
                    title,
                    jira_id: self.new_task.optional("jira_id"),
                    description: self.new_task.optional("description"),
                })]
            }
        }
    }

    fn users_key(&mut self, action: Action) -> Vec<Command> {
        let users = self.users.data.as_deref().unwrap_or_default();
        if navigate_list(&mut self.users_selected, users, |u| u.id, action) {
            return Vec::new();
        }
        if matches!(action, Action::ChangeRole | Action::ToggleActive)
            && self.users_selected.for_action(users, |u| u.id) == Err(Moved)
        {
            self.flash = Flash::error(Moved::MESSAGE);
            return Vec::new();
        }
        match action {
            Action::NewUser => self.popup = Some(Popup::NewUser(new_user_form())),
            Action::ChangeRole => {
                if let Some(user) = self.selected_user() {
                    let selected = ROLE_NAMES
                        .iter()
                        .position(|r| *r == user.role.as_str())
                        .unwrap_or(0);
                    self.popup = Some(Popup::RolePicker {
                        user: user.id,
                        username: user.username.clone(),
                        selected,
                    });
                }
            }
            Action::ToggleActive => {
                if let Some(user) = self.selected_user() {
                    let active = !user.active;
                    let text = if active {
                        format!(
                            "Reactivate {}? They can log in and get tasks again.",
                            user.username
                        )
                    } else {
                        format!(
                            "Deactivate {}? They can no longer log in and get no new tasks; the tasks they hold stay theirs until the next reshuffle.",
                            user.username
                        )
                    };
                    self.popup = Some(Popup::Confirm(Confirm {
                        title: if active {
                            "Reactivate".into()
                        } else {
                            "Deactivate".into()
                        },
                        text,
                        action: Pending::SetActive {
                            id: user.id,
                            active,
                        },
                    }));
                }
            }
            _ => {}
        }
        Vec::new()
    }
}
