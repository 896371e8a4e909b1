//! The screens after login, one module each. A screen owns its state, says which keys it
//! acts on (its table in `app::keymap`), fetches its own data, takes the replies to what it
//! asked, and draws itself. `App` routes events to the screen shown and runs the commands
//! it returns; nothing here touches the terminal or the network.
//!
//! To add a screen: a `Tab`, a module with a type implementing `Screen`, a field in
//! `Screens`, its bindings in the keymap, and its place in `tabs_for`.

pub mod account;
pub mod accounts;
pub mod analytics;
pub mod audit_log;
pub mod board;
pub mod days;
pub mod earnings;
pub mod events;
pub mod list;
pub mod my_tasks;
pub mod new_task;
pub mod reshuffle;
pub mod task_detail;
pub mod users;

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Data, Fetch, Reply};
use crate::app::keymap::{Action, Keymap};
use crate::app::remote::Remote;
use crate::app::state::{Confirm, Flash, Pending, Popup};
use crate::app::tabs::Tab;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

/// What a screen may use of the app while it handles an event.
pub struct Cx<'a> {
    pub today: NaiveDate,
    pub timezone: chrono_tz::Tz,
    /// Who is logged in, and as what.
    pub me: Option<ates_shared::api::UserRef>,
    pub role: Option<ates_shared::Role>,
    pub keymap: &'a Keymap,
    pub flash: &'a mut Option<Flash>,
    pub popup: &'a mut Option<Popup>,
    /// A day close is on its way (asked from Accounts or Earnings; one at a time).
    pub closing_day: &'a mut bool,
    pub(crate) generation: &'a mut u64,
}

impl Cx<'_> {
    /// Asks for `fetch` into `remote`, marking it loading; nothing (and one more fetch owed,
    /// see `Remote`) while that view's fetch is in flight.
    pub fn fetch<T>(&mut self, remote: &mut Remote<T>, fetch: Fetch) -> Option<Command> {
        *self.generation += 1;
        let generation = *self.generation;
        remote
            .begin(generation)
            .then_some(Command::Fetch { fetch, generation })
    }

    /// After a reply: the one more fetch owed if changes came while it was in flight.
    pub fn again<T>(&mut self, remote: &mut Remote<T>, fetch: Fetch) -> Vec<Command> {
        if remote.take_again() {
            self.fetch(remote, fetch).into_iter().collect()
        } else {
            Vec::new()
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        *self.flash = Flash::info(text);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        *self.flash = Flash::error(text);
    }

    /// Asks for a yes before `action`; the yes comes back to `from`'s `confirmed`.
    pub fn confirm(&mut self, from: Tab, title: &str, text: String, action: Pending) {
        *self.popup = Some(Popup::Confirm(Confirm {
            title: title.to_owned(),
            text,
            action,
            from,
        }));
    }

    /// Closing the day is asked from Accounts and Earnings alike.
    pub fn ask_close_day(&mut self, from: Tab) {
        if *self.closing_day {
            return;
        }
        self.confirm(
            from,
            "Close the day",
            "Close today's billing day? Every positive balance is paid out and e-mailed; \
             negative balances carry over. Closing twice changes nothing."
                .into(),
            Pending::CloseDay,
        );
    }
}

/// What drawing may read besides the screen's own state.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub today: NaiveDate,
    pub timezone: chrono_tz::Tz,
    /// Charts in ASCII, where block glyphs do not show (`ascii_charts` in config.toml).
    pub ascii: bool,
}

/// Takes the variant a fetch must answer with; anything else is a bug on our side, shown
/// as an error rather than a crash.
pub fn expect<T>(
    result: Result<Data, ApiError>,
    take: impl FnOnce(Data) -> Result<T, Data>,
) -> Result<T, ApiError> {
    result.and_then(|data| take(data).map_err(|other| unexpected(&other)))
}

pub fn unexpected(data: &Data) -> ApiError {
    ApiError::Decode(format!("unexpected data {data:?}"))
}

/// One screen. Only `refresh`, `fetched`, `loading` and `draw` are required: a screen
/// that acts on keys, types text, asks confirmations or sends commands adds the rest.
pub trait Screen {
    /// The contexts whose changes make this screen's data stale.
    fn contexts(&self) -> &'static [&'static str];
    /// Whether the movement keys move in a list here.
    fn has_list(&self) -> bool {
        false
    }
    /// Fetches what the screen shows, as it stands now.
    fn refresh(&mut self, cx: &mut Cx) -> Vec<Command>;
    /// Whether a fetch of this screen's is in flight.
    fn loading(&self) -> bool;
    /// The reply to one of this screen's fetches (see `owner`).
    fn fetched(
        &mut self,
        fetch: Fetch,
        generation: u64,
        result: Result<Data, ApiError>,
        cx: &mut Cx,
    ) -> Vec<Command>;
    /// A key the keymap turned into an action of this screen (or a list movement).
    fn action(&mut self, _action: Action, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }
    /// Whether every key goes to the screen now (typing in a field, or a dialog of its
    /// own is open), so `q` and digits are text rather than commands.
    fn typing(&self) -> bool {
        false
    }
    /// A key while `typing`.
    fn typed(&mut self, _key: KeyEvent, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }
    /// Pasted text while `typing`.
    fn pasted(&mut self, _text: &str, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }
    /// The user said yes to a confirmation this screen asked for.
    fn confirmed(&mut self, _action: Pending, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }
    /// The reply to a command this screen sent (see `Screens::reply_owner`).
    fn replied(&mut self, _reply: Reply, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }
    /// The user left this screen for another.
    fn left(&mut self) {}
    /// The day changed while the screen is shown.
    fn new_day(&mut self, _cx: &mut Cx) -> Vec<Command> {
        Vec::new()
    }
    fn draw(&self, frame: &mut Frame, area: Rect, look: Look);
    /// A dialog of the screen's own, drawn over the whole terminal.
    fn overlay(&self, _frame: &mut Frame, _area: Rect, _look: Look) {}
}

/// Every screen's state, whether or not the role sees it.
#[derive(Debug, Default)]
pub struct Screens {
    pub my_tasks: my_tasks::MyTasks,
    pub board: board::Board,
    pub new_task: new_task::NewTask,
    pub account: account::MyAccount,
    pub reshuffle: reshuffle::Reshuffle,
    pub accounts: accounts::Accounts,
    pub earnings: earnings::CompanyEarnings,
    pub users: users::Users,
    pub events: events::Events,
    pub analytics: analytics::Analytics,
}

impl Screens {
    pub fn get(&self, tab: Tab) -> &dyn Screen {
        match tab {
            Tab::MyTasks => &self.my_tasks,
            Tab::Board => &self.board,
            Tab::NewTask => &self.new_task,
            Tab::MyAccount => &self.account,
            Tab::Reshuffle => &self.reshuffle,
            Tab::Accounts => &self.accounts,
            Tab::Earnings => &self.earnings,
            Tab::Users => &self.users,
            Tab::Events => &self.events,
            Tab::Analytics => &self.analytics,
        }
    }

    pub fn get_mut(&mut self, tab: Tab) -> &mut dyn Screen {
        match tab {
            Tab::MyTasks => &mut self.my_tasks,
            Tab::Board => &mut self.board,
            Tab::NewTask => &mut self.new_task,
            Tab::MyAccount => &mut self.account,
            Tab::Reshuffle => &mut self.reshuffle,
            Tab::Accounts => &mut self.accounts,
            Tab::Earnings => &mut self.earnings,
            Tab::Users => &mut self.users,
            Tab::Events => &mut self.events,
            Tab::Analytics => &mut self.analytics,
        }
    }

    /// The screen a fetch belongs to; `None` for the app's own (the company's time zone).
    pub fn owner(fetch: &Fetch) -> Option<Tab> {
        Some(match fetch {
            Fetch::MyTasks => Tab::MyTasks,
            Fetch::Board(_) => Tab::Board,
            Fetch::MyAccount => Tab::MyAccount,
            Fetch::Accounts => Tab::Accounts,
            Fetch::Log(query) => query.owner,
            Fetch::TaskLedger(owner, _) => *owner,
            Fetch::Earnings(_) => Tab::Earnings,
            Fetch::Users => Tab::Users,
            Fetch::System => Tab::Events,
            Fetch::Analytics(_) | Fetch::MostExpensiveBetween(..) => Tab::Analytics,
            Fetch::OpenCount => Tab::Reshuffle,
            Fetch::Meta => return None,
        })
    }

    /// The screen whose command a reply answers; `None` for the app's own (login, closing
    /// the day).
    pub fn reply_owner(reply: &Reply) -> Option<Tab> {
        Some(match reply {
            Reply::Completed { .. } => Tab::MyTasks,
            Reply::TaskCreated(_) => Tab::NewTask,
            Reply::Reshuffled(_) => Tab::Reshuffle,
            Reply::UserCreated(_) | Reply::UserUpdated(_) => Tab::Users,
            Reply::Retried(_) | Reply::Discarded(_) => Tab::Events,
            Reply::Exported(_) => Tab::Accounts,
            Reply::LoggedIn { .. }
            | Reply::Resumed(_)
            | Reply::Fetched { .. }
            | Reply::DayClosed(_) => return None,
        })
    }
}
