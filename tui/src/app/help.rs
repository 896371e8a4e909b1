//! The keys of each screen: the help overlay and the footer read them from here, so what
//! the screen says and what the keys do cannot drift apart.

use super::state::{App, Popup, Screen};
use super::tabs::Tab;

pub type Binding = (&'static str, &'static str);

const GLOBAL: &[Binding] = &[
    ("1-9", "switch screen"),
    ("Tab/S-Tab", "next / previous screen"),
    ("r", "refresh"),
    ("?", "this help"),
    ("q", "quit"),
    ("Ctrl-C", "quit from anywhere"),
];

const LIST: &[Binding] = &[
    ("j/k ↑/↓", "move"),
    ("PgUp/PgDn", "move a page"),
    ("g/G Home/End", "first / last"),
];

const FORM: &[Binding] = &[
    ("Tab/↓ ↑", "next / previous field"),
    ("Enter", "next field; on the last one, submit"),
    ("Ctrl-S", "submit"),
    ("Ctrl-U", "clear the field"),
    ("←/→ space", "change a choice"),
    ("Esc", "stop editing"),
];

/// The keys of what is on screen now, most specific first.
pub fn bindings(app: &App) -> Vec<Binding> {
    let mut keys: Vec<Binding> = Vec::new();
    match app.screen {
        Screen::Login => {
            keys.extend_from_slice(FORM);
            keys.push(("Esc", "quit"));
            return keys;
        }
        Screen::Resuming => return vec![("q", "quit")],
        Screen::Main => {}
    }
    if let Some(Popup::NewUser(_)) = app.popup {
        keys.extend_from_slice(FORM);
        return keys;
    }
    match app.tab {
        Tab::MyTasks => {
            keys.push(("c/Enter", "complete the selected task (asks first: y/n)"));
            keys.extend_from_slice(LIST);
        }
        Tab::Board => {
            keys.push(("/", "search title, jira id, assignee"));
            keys.push(("f", "filter: all / open / done"));
            keys.push(("Esc", "clear the search"));
            keys.extend_from_slice(LIST);
        }
        Tab::NewTask => {
            keys.push(("Enter/i", "start typing"));
            keys.extend_from_slice(FORM);
        }
        Tab::MyAccount => {}
        Tab::Reshuffle => keys.push(("Enter", "reshuffle all open tasks (asks first)")),
        Tab::Accounts => {
            keys.push(("Enter", "show the selected account's audit log"));
            keys.push(("c", "close the day (asks first)"));
            keys.extend_from_slice(LIST);
        }
        Tab::Earnings => keys.push(("c", "close the day (asks first)")),
        Tab::Users => {
            keys.push(("n", "new user"));
            keys.push(("e", "change the role"));
            keys.push(("d", "deactivate / reactivate (asks first)"));
            keys.extend_from_slice(LIST);
        }
        Tab::Events => {
            keys.push(("Enter", "replay the selected dead letter (asks first)"));
            keys.extend_from_slice(LIST);
        }
        Tab::Analytics => {}
    }
    keys.extend_from_slice(GLOBAL);
    keys
}
