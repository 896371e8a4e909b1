//! Users (admin): create (a form over the screen), change the role (a picker, then a
//! confirmation saying the user must log in again), deactivate or reactivate (confirmed).

use super::list::{List, step};
use super::{Cx, Look, Screen, expect};
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::form::{Field, Form, FormKey};
use crate::app::keymap::Action;
use crate::app::selection::Moved;
use crate::app::state::Pending;
use crate::app::tabs::Tab;
use crate::ui::login::form_lines;
use crate::ui::popup::show;
use crate::ui::widgets::{block, clip, error_style, list, remote_state};
use ates_shared::Role;
use ates_shared::api::{CreateUser, UpdateUser, User};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;
use uuid::Uuid;

pub const ROLE_NAMES: &[&str] = &["worker", "accountant", "manager", "admin"];

pub fn new_user_form() -> Form {
    Form::new(vec![
        Field::text("username", "Username"),
        Field::text("full_name", "Full name"),
        Field::text("email", "E-mail"),
        Field::secret("password", "Password"),
        Field::choice("role", "Role", ROLE_NAMES),
    ])
}

/// A dialog over the Users screen; while one is open every key goes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    NewUser(Form),
    RolePicker {
        user: Uuid,
        username: String,
        selected: usize,
    },
}

#[derive(Debug, Default)]
pub struct Users {
    pub list: List<User>,
    pub dialog: Option<Dialog>,
}

impl Users {
    fn new_user_key(&mut self, mut form: Form, key: KeyEvent) -> Vec<Command> {
        if form.submitting {
            self.dialog = Some(Dialog::NewUser(form));
            return Vec::new();
        }
        match form.key(key) {
            FormKey::Handled => {
                self.dialog = Some(Dialog::NewUser(form));
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
                self.dialog = Some(Dialog::NewUser(form));
                if missing {
                    Vec::new()
                } else {
                    vec![Command::CreateUser(user)]
                }
            }
        }
    }

    fn role_picker_key(
        &mut self,
        (user, username, mut selected): (Uuid, String, usize),
        key: KeyEvent,
        cx: &mut Cx,
    ) -> Vec<Command> {
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {}
            KeyCode::Enter => {
                let role = ROLE_NAMES
                    .get(selected)
                    .and_then(|r| r.parse::<Role>().ok())
                    .unwrap_or(Role::Worker);
                // A role change is confirmed, naming who and what: it grants or takes away
                // powers, and logs the user out (their token is refused).
                let powers = if role == Role::Admin {
                    " Admins manage users, see all money and run the event system."
                } else {
                    ""
                };
                cx.confirm(
                    Tab::Users,
                    "Change role",
                    format!("Make {username} {role}?{powers} They will have to log in again."),
                    Pending::SetRole { id: user, role },
                );
            }
            _ => {
                // The role list moves with the same keys as every other list.
                if let Some(action) = cx.keymap.action(Tab::Users, true, &key)
                    && let Some(next) = step(selected, ROLE_NAMES.len(), action)
                {
                    selected = next;
                }
                self.dialog = Some(Dialog::RolePicker {
                    user,
                    username,
                    selected,
                });
            }
        }
        Vec::new()
    }

    fn pick_role(&mut self) {
        if let Some(user) = self.list.selected() {
            let selected = ROLE_NAMES
                .iter()
                .position(|r| *r == user.role.as_str())
                .unwrap_or(0);
            self.dialog = Some(Dialog::RolePicker {
                user: user.id,
                username: user.username.clone(),
                selected,
            });
        }
    }

    fn ask_toggle_active(&mut self, cx: &mut Cx) {
        let Some(user) = self.list.selected() else {
            return;
        };
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
        let title = if active { "Reactivate" } else { "Deactivate" };
        let id = user.id;
        cx.confirm(Tab::Users, title, text, Pending::SetActive { id, active });
    }
}

impl Screen for Users {
    fn contexts(&self) -> &'static [&'static str] {
        &["auth"]
    }

    fn has_list(&self) -> bool {
        true
    }

    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command> {
        cx.fetch(&mut self.list.remote, Fetch::Users)
            .into_iter()
            .collect()
    }

    fn loading(&self) -> bool {
        self.list.remote.loading
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let result = expect(result, |data| match data {
            Data::Users(users) => Ok(users),
            other => Err(other),
        });
        self.list.accept(generation, result);
        cx.again(&mut self.list.remote, fetch)
    }

    fn action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if self.list.navigate(action) {
            return Vec::new();
        }
        if matches!(action, Action::ChangeRole | Action::ToggleActive)
            && self.list.for_action() == Err(Moved)
        {
            cx.error(Moved::MESSAGE);
            return Vec::new();
        }
        match action {
            Action::NewUser => self.dialog = Some(Dialog::NewUser(new_user_form())),
            Action::ChangeRole => self.pick_role(),
            Action::ToggleActive => self.ask_toggle_active(cx),
            _ => {}
        }
        Vec::new()
    }

    fn typing(&self) -> bool {
        self.dialog.is_some()
    }

    fn typed(&mut self, key: KeyEvent, cx: &mut Cx) -> Vec<Command> {
        match self.dialog.take() {
            Some(Dialog::NewUser(form)) => self.new_user_key(form, key),
            Some(Dialog::RolePicker {
                user,
                username,
                selected,
            }) => self.role_picker_key((user, username, selected), key, cx),
            None => Vec::new(),
        }
    }

    fn pasted(&mut self, text: &str, _cx: &mut Cx) -> Vec<Command> {
        if let Some(Dialog::NewUser(form)) = &mut self.dialog {
            form.paste(text);
        }
        Vec::new()
    }

    fn confirmed(&mut self, action: Pending, cx: &mut Cx) -> Vec<Command> {
        let (id, update) = match action {
            Pending::SetActive { id, active } => {
                cx.info(if active {
                    "Reactivating…"
                } else {
                    "Deactivating…"
                });
                (
                    id,
                    UpdateUser {
                        active: Some(active),
                        ..UpdateUser::default()
                    },
                )
            }
            Pending::SetRole { id, role } => {
                cx.info(format!("Changing the role to {role}…"));
                (
                    id,
                    UpdateUser {
                        role: Some(role),
                        ..UpdateUser::default()
                    },
                )
            }
            _ => return Vec::new(),
        };
        vec![Command::UpdateUser(id, update)]
    }

    fn replied(&mut self, reply: Reply, cx: &mut Cx) -> Vec<Command> {
        match reply {
            Reply::UserCreated(Ok(user)) => {
                self.dialog = None;
                cx.info(format!("Created {} ({})", user.username, user.role));
                self.refresh(cx)
            }
            Reply::UserCreated(Err(err)) => {
                if let Some(Dialog::NewUser(form)) = &mut self.dialog {
                    form.submitting = false;
                    form.show_error(&err);
                } else {
                    cx.error(format!("Creating the user failed: {}", err.describe()));
                }
                Vec::new()
            }
            Reply::UserUpdated(Ok(user)) => {
                cx.info(format!(
                    "{} is now {}{}",
                    user.username,
                    user.role,
                    if user.active { "" } else { " (inactive)" }
                ));
                self.list.replace(user);
                Vec::new()
            }
            Reply::UserUpdated(Err(err)) => {
                cx.error(format!("Updating the user failed: {}", err.describe()));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn overlay(&self, frame: &mut Frame, area: Rect, _look: Look) {
        match &self.dialog {
            None => {}
            Some(Dialog::NewUser(form)) => {
                let mut lines = form_lines(form, true);
                if let Some(err) = &form.error {
                    lines.push(Line::from(Span::styled(format!("! {err}"), error_style())));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(if form.submitting {
                    "Creating…"
                } else {
                    "Enter next / create · ←/→ role · Esc cancel"
                }));
                show(frame, area, " New user ", lines, 64);
            }
            Some(Dialog::RolePicker {
                username, selected, ..
            }) => {
                let mut lines = vec![Line::from(format!("Role of {username}:")), Line::from("")];
                for (i, role) in ROLE_NAMES.iter().enumerate() {
                    let marker = if i == *selected { ">" } else { " " };
                    let style = if i == *selected {
                        Style::new().add_modifier(Modifier::REVERSED)
                    } else {
                        Style::new()
                    };
                    lines.push(Line::from(Span::styled(format!("{marker} {role}"), style)));
                }
                lines.push(Line::from(""));
                lines.push(Line::from("j/k choose · Enter set · Esc cancel"));
                show(frame, area, " Change role ", lines, 40);
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _look: Look) {
        let count = self.list.items().len();
        let Some(inner) = remote_state(
            frame,
            area,
            block(
                &format!("Users: {count} · n new · e role · d (de)activate"),
                &self.list.remote,
            ),
            &self.list.remote,
            Vec::is_empty,
            "No users.",
        ) else {
            return;
        };
        let wide = inner.width >= 120;
        let mut header = vec!["Username", "Role", "Active", "Full name"];
        let mut widths = vec![
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Fill(1),
        ];
        if wide {
            header.push("E-mail");
            widths.push(Constraint::Fill(1));
        }
        list(
            frame,
            inner,
            &header,
            &widths,
            self.list.len(),
            Some(self.list.selected.index),
            |i| {
                let Some(user) = self.list.row(i) else {
                    return Vec::new();
                };
                let mut cells = vec![
                    Cell::from(clip(&user.username, 16)),
                    Cell::from(user.role.as_str()),
                    Cell::from(if user.active { "yes" } else { "NO" }),
                    Cell::from(user.full_name.clone()),
                ];
                if wide {
                    cells.push(Cell::from(user.email.clone()));
                }
                cells
            },
        );
    }
}
