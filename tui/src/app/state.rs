//! Everything the client knows and shows.

use super::command::{Command, Session};
use super::event::Fetch;
use super::form::{Field, Form};
use super::remote::Remote;
use super::tabs::{Tab, tabs_for};
use crate::screens::{Cx, Look, Screens};
use ates_shared::api::User;
use chrono::NaiveDate;
use uuid::Uuid;

/// Where the client is: logging in, checking a remembered token, or past login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Login,
    /// Checking a remembered token.
    Resuming,
    Main,
}

/// Whether the change stream is up; without it the app polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    Off,
    Connecting,
    Live,
    Polling(String),
}

/// A one-line message at the bottom: the outcome of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

impl Flash {
    pub fn info(text: impl Into<String>) -> Option<Flash> {
        Some(Flash {
            text: text.into(),
            error: false,
        })
    }

    pub fn error(text: impl Into<String>) -> Option<Flash> {
        Some(Flash {
            text: text.into(),
            error: true,
        })
    }
}

/// A destructive action waiting for a yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Reshuffle,
    CloseDay,
    SetActive { id: Uuid, active: bool },
    SetRole { id: Uuid, role: ates_shared::Role },
    Complete { id: Uuid, title: String },
    Retry(Uuid),
}

/// A question before a destructive action; the yes goes back to the screen that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    pub action: Pending,
    pub from: Tab,
}

/// The app's own overlays; a screen's dialogs belong to the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    Help,
    Confirm(Confirm),
}

pub struct App {
    /// The day the client stands on (for analytics dates); fixed in tests.
    pub today: NaiveDate,
    pub stage: Stage,
    pub login: Form,
    /// Why the user is at the login screen (e.g. an expired session).
    pub login_note: Option<String>,
    pub user: Option<User>,
    /// The session in use (or being resumed).
    pub session: Option<Session>,
    pub tabs: Vec<Tab>,
    pub tab: Tab,
    pub screens: Screens,
    /// The company's time zone: times are shown in it, labelled; "today" is in it.
    pub timezone: chrono_tz::Tz,
    pub meta: Remote<ates_shared::api::Meta>,
    /// A day close is on its way (asked from Accounts or Earnings).
    pub closing_day: bool,

    pub popup: Option<Popup>,
    /// What the `?` help is narrowed to (typed after `/` in it), and whether typing goes there.
    pub help_filter: String,
    pub help_filtering: bool,
    /// Which key does what (the vim preset unless `config.toml` changes it).
    pub keymap: super::keymap::Keymap,
    /// Charts in ASCII glyphs (`ascii_charts = true` in config.toml).
    pub ascii_charts: bool,
    pub flash: Option<Flash>,
    pub live: Live,
    generation: u64,
    pub quit: bool,
}

pub fn login_form(server: &str, username: &str) -> Form {
    let mut form = Form::new(vec![
        Field::text("server", "Server").with_value(server),
        Field::text("username", "Username").with_value(username),
        Field::secret("password", "Password"),
    ]);
    // Start where typing is needed.
    form.focus = if server.is_empty() {
        0
    } else if username.is_empty() {
        1
    } else {
        2
    };
    form
}

impl App {
    /// A client at the login screen, the fields pre-filled.
    pub fn new(today: NaiveDate, server: &str, username: &str) -> App {
        App {
            today,
            stage: Stage::Login,
            login: login_form(server, username),
            login_note: None,
            user: None,
            session: None,
            tabs: Vec::new(),
            tab: Tab::Board,
            screens: Screens::default(),
            timezone: chrono_tz::UTC,
            meta: Remote::default(),
            closing_day: false,
            popup: None,
            help_filter: String::new(),
            help_filtering: false,
            keymap: super::keymap::Keymap::default(),
            ascii_charts: false,
            flash: None,
            live: Live::Off,
            generation: 0,
            quit: false,
        }
    }

    /// Starts from a remembered session: check the token before showing anything.
    pub fn resume(&mut self, session: Session) -> Vec<Command> {
        self.stage = Stage::Resuming;
        self.login = login_form(&session.server, &session.username);
        let command = Command::Resume {
            server: session.server.clone(),
            token: session.token.clone(),
        };
        self.session = Some(session);
        vec![command]
    }

    /// Logged in as `user`: show the first screen the role may use.
    pub fn enter(&mut self, user: User) -> Vec<Command> {
        self.tabs = tabs_for(user.role);
        self.tab = self.tabs.first().copied().unwrap_or(Tab::Board);
        self.user = Some(user);
        self.stage = Stage::Main;
        self.login_note = None;
        self.live = Live::Connecting;
        let mut commands = vec![Command::SetSession(self.session.clone())];
        commands.extend(self.fetch_meta());
        commands.extend(self.refresh(self.tab));
        commands
    }

    /// Back to the login screen, keeping the server and username; forgets the token.
    pub fn to_login(&mut self, note: Option<String>) -> Vec<Command> {
        let (server, username) = match &self.session {
            Some(s) => (s.server.clone(), s.username.clone()),
            None => (
                self.login.value("server").to_owned(),
                self.login.value("username").to_owned(),
            ),
        };
        let (today, keymap, generation) = (self.today, self.keymap.clone(), self.generation);
        let ascii_charts = self.ascii_charts;
        *self = App::new(today, &server, &username);
        self.keymap = keymap;
        self.ascii_charts = ascii_charts;
        // Replies still on their way from the old session must never match a new request.
        self.generation = generation;
        self.login_note = note;
        vec![Command::SetSession(None)]
    }

    pub fn role(&self) -> Option<ates_shared::Role> {
        self.user.as_ref().map(|u| u.role)
    }

    /// The app's parts a screen may use, beside the screens themselves.
    pub(crate) fn split(&mut self) -> (&mut Screens, Cx<'_>) {
        (
            &mut self.screens,
            Cx {
                today: self.today,
                timezone: self.timezone,
                me: self.user.as_ref().map(|u| ates_shared::api::UserRef {
                    id: u.id,
                    username: u.username.clone(),
                }),
                role: self.user.as_ref().map(|u| u.role),
                keymap: &self.keymap,
                flash: &mut self.flash,
                popup: &mut self.popup,
                closing_day: &mut self.closing_day,
                generation: &mut self.generation,
            },
        )
    }

    /// Runs `f` on `tab`'s screen with the context it may use.
    pub(crate) fn with_screen<R>(
        &mut self,
        tab: Tab,
        f: impl FnOnce(&mut dyn crate::screens::Screen, &mut Cx) -> R,
    ) -> R {
        let (screens, mut cx) = self.split();
        f(screens.get_mut(tab), &mut cx)
    }

    pub fn look(&self) -> Look {
        Look {
            today: self.today,
            timezone: self.timezone,
            ascii: self.ascii_charts,
        }
    }

    /// Asks for the company's time zone and today's date.
    pub(crate) fn fetch_meta(&mut self) -> Option<Command> {
        self.generation += 1;
        let generation = self.generation;
        self.meta.begin(generation).then_some(Command::Fetch {
            fetch: Fetch::Meta,
            generation,
        })
    }

    /// Fetches what `tab` shows.
    pub fn refresh(&mut self, tab: Tab) -> Vec<Command> {
        self.with_screen(tab, |screen, cx| screen.refresh(cx))
    }

    pub fn switch_to(&mut self, tab: Tab) -> Vec<Command> {
        if !self.tabs.contains(&tab) {
            return Vec::new();
        }
        self.screens.get_mut(self.tab).left();
        self.tab = tab;
        self.refresh(tab)
    }

    /// Whether keys currently go into text (so `q` and digits are text).
    pub fn typing(&self) -> bool {
        match self.stage {
            Stage::Login => true,
            Stage::Resuming => false,
            Stage::Main => self.popup.is_none() && self.screens.get(self.tab).typing(),
        }
    }
}
