//! What happens to the app: keys, replies to its commands, and the change stream.

use crate::api::ApiError;
use crate::api::sse::StreamEvent;
use ates_shared::api::{
    Account, AnalyticsDay, AnalyticsSummary, CloseDayResult, DeadLetter, Earnings, Entry,
    EventsStatus, LoginResponse, MostExpensive, MyAccount, ReshuffleResult, Task, User,
};
use chrono::NaiveDate;
use ratatui::crossterm::event::KeyEvent;
use uuid::Uuid;

// A few events a second pass through a channel: their size does not matter, and boxing
// replies would only make every test and handler noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Reply(Reply),
    Stream(StreamEvent),
    /// Sent every two seconds; the app refreshes on it only while the stream is down.
    Poll,
    /// The terminal changed size: only a redraw is needed.
    Resize,
    /// The time now (every two seconds): "today" follows it, in the company's zone.
    Clock(chrono::DateTime<chrono::Utc>),
    /// Text pasted into the terminal (bracketed paste), as one piece.
    Paste(String),
    /// SIGTERM or SIGHUP: leave as on `q`, restoring the terminal.
    Terminate,
}

/// What the board asks the server for: its filters, and how many rows are wanted (a page
/// more each time the selection nears the end of what is loaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardQuery {
    pub status: Option<ates_shared::api::TaskStatus>,
    /// Server-side search over titles, Jira ids and assignees; empty for all.
    pub search: String,
    pub rows: usize,
}

/// What an audit log asks the server for: whose, which day (or every day), how many
/// entries (a page more as the selection nears the end), and for which screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub owner: super::tabs::Tab,
    pub user: Uuid,
    pub day: Option<NaiveDate>,
    pub rows: usize,
}

/// A piece of data a screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    MyTasks,
    Board(BoardQuery),
    MyAccount,
    Accounts,
    Log(LogQuery),
    /// Earnings per day up to this day (a year of them).
    Earnings(NaiveDate),
    Users,
    System,
    Analytics(NaiveDate),
    /// How many tasks a reshuffle would move.
    OpenCount,
    /// The company's time zone and today's date.
    Meta,
    /// The most expensive task of a range of days the admin picked.
    MostExpensiveBetween(NaiveDate, NaiveDate),
    /// A task's ledger rows, for the task detail shown on this screen.
    TaskLedger(super::tabs::Tab, Uuid),
}

/// The event system's health as the Events screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemView {
    pub status: EventsStatus,
    pub dead_letters: Vec<DeadLetter>,
}

/// The admin's analytics; each part may be missing on a server without analytics.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsView {
    pub summary: AnalyticsSummary,
    /// Earnings and employees in the red per day, oldest first, up to today.
    pub days: Vec<AnalyticsDay>,
    pub day: MostExpensive,
    pub week: MostExpensive,
    pub month: MostExpensive,
}

#[derive(Debug, Clone)]
pub enum Data {
    Tasks(Vec<Task>),
    /// The first rows of the board; `more` when the server has more.
    Board {
        tasks: Vec<Task>,
        more: bool,
    },
    MyAccount(MyAccount),
    Accounts(Vec<Account>),
    /// The newest `rows` entries of a log; `more` when the server has older ones.
    Log {
        entries: Vec<Entry>,
        more: bool,
    },
    Earnings(Earnings),
    Users(Vec<User>),
    System(SystemView),
    Analytics(Box<AnalyticsView>),
    Count(usize),
    Meta(ates_shared::api::Meta),
    TaskLedger(Vec<ates_shared::api::LedgerRow>),
    MostExpensive(MostExpensive),
}

#[derive(Debug, Clone)]
pub enum Reply {
    LoggedIn {
        server: String,
        result: Result<LoginResponse, ApiError>,
    },
    Resumed(Result<User, ApiError>),
    Fetched {
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
    },
    Completed {
        id: Uuid,
        result: Result<Task, ApiError>,
    },
    TaskCreated(Result<Task, ApiError>),
    Reshuffled(Result<ReshuffleResult, ApiError>),
    DayClosed(Result<CloseDayResult, ApiError>),
    UserCreated(Result<User, ApiError>),
    UserUpdated(Result<User, ApiError>),
    Retried(Result<DeadLetter, ApiError>),
    Discarded(Result<DeadLetter, ApiError>),
    /// The export's file and row count, or why it failed.
    Exported(Result<(std::path::PathBuf, usize), String>),
}
