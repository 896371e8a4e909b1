//! Key presses: the login form, the app's overlays (help, confirmations), switching
//! screens and the global actions; every other key goes to the screen shown.

use super::command::Command;
use super::form::FormKey;
use super::keymap::Action;
use super::state::{App, Flash, Pending, Popup, Stage};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

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
        match self.stage {
            Stage::Login => self.login_key(key),
            Stage::Resuming => match key.code {
                KeyCode::Char('q') | KeyCode::Esc => self.quit(),
                _ => Vec::new(),
            },
            Stage::Main => self.main_key(key),
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
                KeyCode::Char('y') | KeyCode::Char('Y') => self.confirmed(confirm),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.flash = Flash::info(format!("{}: cancelled", confirm.title));
                    Vec::new()
                }
                _ => {
                    self.popup = Some(Popup::Confirm(confirm));
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

    /// A yes: closing the day is the app's; everything else goes back to the screen that
    /// asked.
    fn confirmed(&mut self, confirm: super::state::Confirm) -> Vec<Command> {
        match confirm.action {
            Pending::CloseDay => {
                self.closing_day = true;
                self.flash = Flash::info("Closing the day…");
                vec![Command::CloseDay]
            }
            action => self.with_screen(confirm.from, |screen, cx| screen.confirmed(action, cx)),
        }
    }

    fn main_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.screens.get(self.tab).typing() {
            return self.with_screen(self.tab, |screen, cx| screen.typed(key, cx));
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
        let has_list = self.screens.get(self.tab).has_list();
        let Some(action) = self.keymap.action(self.tab, has_list, &key) else {
            return Vec::new();
        };
        match action {
            Action::Quit => self.quit(),
            Action::Help => {
                self.popup = Some(Popup::Help);
                self.help_filter.clear();
                self.help_filtering = false;
                Vec::new()
            }
            Action::Refresh => self.refresh(self.tab),
            Action::NextScreen | Action::PrevScreen => {
                let len = self.tabs.len().max(1);
                let at = self.tabs.iter().position(|t| *t == self.tab).unwrap_or(0);
                let next = if action == Action::NextScreen {
                    (at + 1) % len
                } else {
                    (at + len - 1) % len
                };
                match self.tabs.get(next).copied() {
                    Some(tab) => self.switch_to(tab),
                    None => Vec::new(),
                }
            }
            action => self.with_screen(self.tab, |screen, cx| screen.action(action, cx)),
        }
    }
}
