//! Everything the client knows and shows.

use super::command::{Command, Session};
use super::event::{AnalyticsView, BoardQuery, Fetch, SystemView};
use super::form::{Field, Form};
use super::remote::Remote;
use super::selection::Selection;
use super::tabs::{Tab, tabs_for};
use ates_shared::api::{Account, Earnings, Entry, MyAccount, Task, TaskStatus, User, UserRef};
use chrono::NaiveDate;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    pub action: Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    Help,
    Confirm(Confirm),
    NewUser(Form),
    RolePicker {
        user: Uuid,
        username: String,
        selected: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Open,
    Done,
}

impl StatusFilter {
    pub fn next(self) -> StatusFilter {
        match self {
            StatusFilter::All => StatusFilter::Open,
            StatusFilter::Open => StatusFilter::Done,
            StatusFilter::Done => StatusFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Open => "open",
            StatusFilter::Done => "done",
        }
    }

    fn admits(self, status: TaskStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => status == TaskStatus::Open,
            StatusFilter::Done => status == TaskStatus::Done,
        }
    }
}

/// Rows the board asks for at a time; another page is fetched as the selection nears the
/// end of what is loaded.
pub const BOARD_PAGE: usize = 200;

/// The board: the server filters and searches, and sends the first `rows` tasks; a refresh
/// asks for as many rows as are loaded, so 100k tasks never travel at once. `visible` is
/// kept up to date on every change, so drawing never filters again.
#[derive(Debug, Clone)]
pub struct Board {
    pub tasks: Remote<Vec<Task>>,
    /// The server has more rows than loaded.
    pub more: bool,
    pub rows: usize,
    pub filter: StatusFilter,
    pub search: String,
    pub searching: bool,
    pub visible: Vec<usize>,
    pub selected: Selection,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            tasks: Remote::default(),
            more: false,
            rows: BOARD_PAGE,
            filter: StatusFilter::All,
            search: String::new(),
            searching: false,
            visible: Vec::new(),
            selected: Selection::default(),
        }
    }
}

impl Board {
    /// What to ask the server for now.
    pub fn query(&self) -> BoardQuery {
        BoardQuery {
            status: match self.filter {
                StatusFilter::All => None,
                StatusFilter::Open => Some(TaskStatus::Open),
                StatusFilter::Done => Some(TaskStatus::Done),
            },
            search: self.search.clone(),
            rows: self.rows,
        }
    }

    /// Whether the selection is close enough to the end of the loaded rows to load more.
    pub fn wants_more(&self) -> bool {
        self.more
            && !self.tasks.loading
            && self.selected.index + BOARD_PAGE / 4 >= self.visible.len()
    }

    pub fn recompute(&mut self) {
        let needle = self.search.to_lowercase();
        let filter = self.filter;
        self.visible = match &self.tasks.data {
            None => Vec::new(),
            Some(tasks) => tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| filter.admits(t.status))
                .filter(|(_, t)| needle.is_empty() || matches_search(t, &needle))
                .map(|(i, _)| i)
                .collect(),
        };
        let tasks = self.tasks.data.as_deref().unwrap_or_default();
        self.selected.sync(&self.visible, |&i| tasks[i].id);
    }

    pub fn selected_task(&self) -> Option<&Task> {
        let index = *self.visible.get(self.selected.index)?;
        self.tasks.data.as_ref()?.get(index)
    }
}

fn matches_search(task: &Task, needle: &str) -> bool {
    task.title.to_lowercase().contains(needle)
        || task
            .jira_id
            .as_deref()
            .is_some_and(|j| j.to_lowercase().contains(needle))
        || task.assignee.username.to_lowercase().contains(needle)
}

pub struct App {
    /// The day the client stands on (for analytics dates); fixed in tests.
    pub today: NaiveDate,
    pub screen: Screen,
    pub login: Form,
    /// Why the user is at the login screen (e.g. an expired session).
    pub login_note: Option<String>,
    pub user: Option<User>,
    /// The session in use (or being resumed).
    pub session: Option<Session>,
    pub tabs: Vec<Tab>,
    pub tab: Tab,

    pub my_tasks: Remote<Vec<Task>>,
    pub my_selected: Selection,
    pub completing: Option<Uuid>,
    pub board: Board,
    pub new_task: Form,
    /// Keys go into the form (rather than switching tabs) while editing.
    pub new_task_editing: bool,
    pub account: Remote<MyAccount>,
    pub accounts: Remote<Vec<Account>>,
    pub accounts_selected: Selection,
    pub log_user: Option<UserRef>,
    pub log: Remote<Vec<Entry>>,
    pub earnings: Remote<Earnings>,
    pub closing_day: bool,
    pub users: Remote<Vec<User>>,
    pub users_selected: Selection,
    pub system: Remote<SystemView>,
    pub dead_selected: Selection,
    pub analytics: Remote<AnalyticsView>,
    pub open_count: Remote<usize>,
    /// The company's time zone: times are shown in it, labelled; "today" is in it.
    pub timezone: chrono_tz::Tz,
    pub meta: Remote<ates_shared::api::Meta>,
    /// Show the reshuffle confirmation as soon as the count arrives.
    pub confirm_after_count: bool,
    pub reshuffling: bool,

    pub popup: Option<Popup>,
    /// What the `?` help is narrowed to (typed after `/` in it), and whether typing goes there.
    pub help_filter: String,
    pub help_filtering: bool,
    /// Which key does what (the vim preset unless `config.toml` changes it).
    pub keymap: super::keymap::Keymap,
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

pub fn new_task_form() -> Form {
    Form::new(vec![
        Field::text("title", "Title"),
        Field::text("jira_id", "Jira id"),
        Field::multiline("description", "Description"),
    ])
}

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

impl App {
    /// A client at the login screen, the fields pre-filled.
    pub fn new(today: NaiveDate, server: &str, username: &str) -> App {
        App {
            today,
            screen: Screen::Login,
            login: login_form(server, username),
            login_note: None,
            user: None,
            session: None,
            tabs: Vec::new(),
            tab: Tab::Board,
            my_tasks: Remote::default(),
            my_selected: Selection::default(),
            completing: None,
            board: Board::default(),
            new_task: new_task_form(),
            new_task_editing: false,
            account: Remote::default(),
            accounts: Remote::default(),
            accounts_selected: Selection::default(),
            log_user: None,
            log: Remote::default(),
            earnings: Remote::default(),
            closing_day: false,
            users: Remote::default(),
            users_selected: Selection::default(),
            system: Remote::default(),
            dead_selected: Selection::default(),
            analytics: Remote::default(),
            open_count: Remote::default(),
            timezone: chrono_tz::UTC,
            meta: Remote::default(),
            confirm_after_count: false,
            reshuffling: false,
            popup: None,
            help_filter: String::new(),
            help_filtering: false,
            keymap: super::keymap::Keymap::default(),
            flash: None,
            live: Live::Off,
            generation: 0,
            quit: false,
        }
    }

    /// Starts from a remembered session: check the token before showing anything.
    pub fn resume(&mut self, session: Session) -> Vec<Command> {
        self.screen = Screen::Resuming;
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
        self.screen = Screen::Main;
        self.login_note = None;
        self.live = Live::Connecting;
        let mut commands = vec![Command::SetSession(self.session.clone())];
        commands.extend(self.fetch(Fetch::Meta));
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
        *self = App::new(today, &server, &username);
        self.keymap = keymap;
        // Replies still on their way from the old session must never match a new request.
        self.generation = generation;
        self.login_note = note;
        vec![Command::SetSession(None)]
    }

    pub fn role(&self) -> Option<ates_shared::Role> {
        self.user.as_ref().map(|u| u.role)
    }

    /// Asks for `fetch` and marks its data as loading; nothing (and one more fetch owed,
    /// see `Remote`) while the same view's fetch is in flight.
    pub fn fetch(&mut self, fetch: Fetch) -> Option<Command> {
        self.generation += 1;
        let generation = self.generation;
        let started = match fetch {
            Fetch::MyTasks => self.my_tasks.begin(generation),
            Fetch::Board(_) => self.board.tasks.begin(generation),
            Fetch::MyAccount => self.account.begin(generation),
            Fetch::Accounts => self.accounts.begin(generation),
            Fetch::Log(_) => self.log.begin(generation),
            Fetch::Earnings => self.earnings.begin(generation),
            Fetch::Users => self.users.begin(generation),
            Fetch::System => self.system.begin(generation),
            Fetch::Analytics(_) => self.analytics.begin(generation),
            Fetch::OpenCount => self.open_count.begin(generation),
            Fetch::Meta => self.meta.begin(generation),
        };
        started.then_some(Command::Fetch { fetch, generation })
    }

    /// The fetch of the same view as `fetch`, as the view stands now (the log of the user
    /// shown now, analytics for today).
    pub fn current(&self, fetch: Fetch) -> Option<Fetch> {
        Some(match fetch {
            Fetch::Log(_) => Fetch::Log(self.log_user.as_ref()?.id),
            Fetch::Analytics(_) => Fetch::Analytics(self.today),
            Fetch::Board(_) => Fetch::Board(self.board.query()),
            other => other,
        })
    }

    /// Fetches what `tab` shows.
    pub fn refresh(&mut self, tab: Tab) -> Vec<Command> {
        let fetches: Vec<Fetch> = match tab {
            Tab::MyTasks => vec![Fetch::MyTasks],
            Tab::Board => vec![Fetch::Board(self.board.query())],
            Tab::NewTask => vec![],
            Tab::MyAccount => vec![Fetch::MyAccount],
            Tab::Reshuffle => vec![Fetch::OpenCount],
            Tab::Accounts => {
                let mut list = vec![Fetch::Accounts];
                if let Some(user) = &self.log_user {
                    list.push(Fetch::Log(user.id));
                }
                list
            }
            Tab::Earnings => vec![Fetch::Earnings],
            Tab::Users => vec![Fetch::Users],
            Tab::Events => vec![Fetch::System],
            Tab::Analytics => vec![Fetch::Analytics(self.today)],
        };
        fetches.into_iter().filter_map(|f| self.fetch(f)).collect()
    }

    pub fn switch_to(&mut self, tab: Tab) -> Vec<Command> {
        if !self.tabs.contains(&tab) {
            return Vec::new();
        }
        self.tab = tab;
        self.new_task_editing = false;
        self.board.searching = false;
        self.refresh(tab)
    }

    /// My tasks in the order shown: open ones first, newest first within each.
    pub fn set_my_tasks(tasks: &mut [Task]) {
        tasks.sort_by_key(|t| t.status != TaskStatus::Open);
    }

    pub fn selected_my_task(&self) -> Option<&Task> {
        self.my_tasks.data.as_ref()?.get(self.my_selected.index)
    }

    pub fn selected_account(&self) -> Option<&Account> {
        self.accounts
            .data
            .as_ref()?
            .get(self.accounts_selected.index)
    }

    pub fn selected_user(&self) -> Option<&User> {
        self.users.data.as_ref()?.get(self.users_selected.index)
    }

    /// Whether keys currently go into a text field (so `q` and digits are text).
    pub fn typing(&self) -> bool {
        match self.screen {
            Screen::Login => true,
            Screen::Resuming => false,
            Screen::Main => {
                matches!(self.popup, Some(Popup::NewUser(_)))
                    || (self.popup.is_none()
                        && ((self.tab == Tab::NewTask && self.new_task_editing)
                            || (self.tab == Tab::Board && self.board.searching)))
            }
        }
    }
}
