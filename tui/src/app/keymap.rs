//! Which key does what, per screen: the one source for handling keys, the key-hint bar and
//! the `?` help, so what the screen says and what the keys do cannot drift apart. The
//! default is a vim-style preset (`j`/`k`, `g`/`G`, `/`); every binding can be changed in
//! `config.toml`:
//!
//! ```toml
//! [keys]
//! "my_tasks.complete" = "x"           # one key
//! "global.quit" = ["q", "Ctrl-q"]     # or several
//! ```
//!
//! Text fields (forms, the search line) keep their editing keys; confirmations answer to
//! `y`/`n` only.

use super::tabs::Tab;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// Something a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    NextScreen,
    PrevScreen,
    Refresh,
    Help,
    Quit,
    Complete,
    Search,
    Filter,
    ClearSearch,
    Edit,
    Reshuffle,
    ShowLog,
    CloseDay,
    NewUser,
    ChangeRole,
    ToggleActive,
    Replay,
    Export,
    Open,
    Discard,
    Back,
    Mark,
    PrevDay,
    NextDay,
    PrevMonth,
    NextMonth,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every screen.
    Global,
    /// Every screen that shows a list.
    Lists,
    Screen(Tab),
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Lists => "lists",
            Scope::Screen(tab) => tab.config_name(),
        }
    }
}

/// One key, as written in the config file: `j`, `Enter`, `Ctrl-s`, `PageDown`, `F5`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        let (ctrl, name) = match text.strip_prefix("Ctrl-").or(text.strip_prefix("C-")) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let code = match name {
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "BackTab" | "Shift-Tab" => KeyCode::BackTab,
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "Space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('F') && f[1..].parse::<u8>().is_ok() => KeyCode::F(
                f[1..]
                    .parse()
                    .map_err(|_| format!("unknown key `{text}`"))?,
            ),
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().ok_or("an empty key")?),
            _ => return Err(format!("unknown key `{text}`")),
        };
        Ok(Key { code, ctrl })
    }

    fn matches(&self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let same_code = match (self.code, key.code) {
            // Terminals report letters with Shift as the capital: `G` is Shift-g.
            (KeyCode::Char(a), KeyCode::Char(b)) => a == b,
            (a, b) => a == b,
        };
        same_code && ctrl == self.ctrl
    }

    /// As shown in hints and help.
    pub fn label(&self) -> String {
        let name = match self.code {
            KeyCode::Enter => "Enter".to_owned(),
            KeyCode::Esc => "Esc".to_owned(),
            KeyCode::Tab => "Tab".to_owned(),
            KeyCode::BackTab => "S-Tab".to_owned(),
            KeyCode::Up => "↑".to_owned(),
            KeyCode::Down => "↓".to_owned(),
            KeyCode::Left => "←".to_owned(),
            KeyCode::Right => "→".to_owned(),
            KeyCode::PageUp => "PgUp".to_owned(),
            KeyCode::PageDown => "PgDn".to_owned(),
            KeyCode::Home => "Home".to_owned(),
            KeyCode::End => "End".to_owned(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{name}")
        } else {
            name
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub action: Action,
    /// The name in `config.toml`, after the scope: `my_tasks.complete`.
    pub name: &'static str,
    pub help: &'static str,
    pub keys: Vec<Key>,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::vim()
    }
}

impl Keymap {
    /// The default preset: vim-style movement, arrows and page keys too.
    pub fn vim() -> Keymap {
        use Action::*;
        let b = |scope, action, name, help, keys: &[&str]| Binding {
            scope,
            action,
            name,
            help,
            keys: keys
                .iter()
                .map(|k| Key::parse(k).expect("the preset's keys parse"))
                .collect(),
        };
        let global = Scope::Global;
        let lists = Scope::Lists;
        let on = Scope::Screen;
        Keymap {
            bindings: vec![
                b(
                    on(Tab::MyTasks),
                    Complete,
                    "complete",
                    "complete the selected task (asks first)",
                    &["c"],
                ),
                b(
                    on(Tab::MyTasks),
                    Open,
                    "open",
                    "the selected task in full",
                    &["Enter", "o"],
                ),
                b(
                    on(Tab::Board),
                    Open,
                    "open",
                    "the selected task in full",
                    &["Enter", "o"],
                ),
                b(
                    on(Tab::Board),
                    Search,
                    "search",
                    "search title, jira id, assignee (on the server)",
                    &["/"],
                ),
                b(
                    on(Tab::Board),
                    Filter,
                    "filter",
                    "filter: all / open / done",
                    &["f"],
                ),
                b(
                    on(Tab::Board),
                    ClearSearch,
                    "clear_search",
                    "clear the search",
                    &["Esc"],
                ),
                b(
                    on(Tab::NewTask),
                    Edit,
                    "edit",
                    "start typing",
                    &["Enter", "i"],
                ),
                b(
                    on(Tab::Reshuffle),
                    Reshuffle,
                    "reshuffle",
                    "reshuffle all open tasks (asks first)",
                    &["Enter", "s"],
                ),
                b(
                    on(Tab::Accounts),
                    ShowLog,
                    "show_log",
                    "show the selected account's audit log",
                    &["Enter"],
                ),
                b(
                    on(Tab::Accounts),
                    CloseDay,
                    "close_day",
                    "close the day (asks first)",
                    &["c"],
                ),
                b(
                    on(Tab::Accounts),
                    Export,
                    "export",
                    "export the last 30 days' ledger to a CSV file",
                    &["x"],
                ),
                b(
                    on(Tab::Earnings),
                    CloseDay,
                    "close_day",
                    "close the day (asks first)",
                    &["c"],
                ),
                b(
                    on(Tab::Earnings),
                    PrevDay,
                    "prev_day",
                    "the day before",
                    &["h", "Left"],
                ),
                b(
                    on(Tab::Earnings),
                    NextDay,
                    "next_day",
                    "the day after",
                    &["l", "Right"],
                ),
                b(
                    on(Tab::Earnings),
                    PrevMonth,
                    "prev_month",
                    "30 days back",
                    &["[", "PageUp"],
                ),
                b(
                    on(Tab::Earnings),
                    NextMonth,
                    "next_month",
                    "30 days on",
                    &["]", "PageDown"],
                ),
                b(
                    on(Tab::Analytics),
                    PrevDay,
                    "prev_day",
                    "the day before",
                    &["h", "Left"],
                ),
                b(
                    on(Tab::Analytics),
                    NextDay,
                    "next_day",
                    "the day after",
                    &["l", "Right"],
                ),
                b(
                    on(Tab::Analytics),
                    PrevMonth,
                    "prev_month",
                    "30 days back",
                    &["[", "PageUp"],
                ),
                b(
                    on(Tab::Analytics),
                    NextMonth,
                    "next_month",
                    "30 days on",
                    &["]", "PageDown"],
                ),
                b(
                    on(Tab::Accounts),
                    PrevDay,
                    "prev_day",
                    "the log's day before",
                    &["h", "Left"],
                ),
                b(
                    on(Tab::Accounts),
                    NextDay,
                    "next_day",
                    "the log's day after",
                    &["l", "Right"],
                ),
                b(
                    on(Tab::Accounts),
                    Back,
                    "back",
                    "every day again; then back to the accounts",
                    &["Esc"],
                ),
                b(
                    on(Tab::MyAccount),
                    PrevDay,
                    "prev_day",
                    "the log's day before",
                    &["h", "Left"],
                ),
                b(
                    on(Tab::MyAccount),
                    NextDay,
                    "next_day",
                    "the log's day after",
                    &["l", "Right"],
                ),
                b(
                    on(Tab::MyAccount),
                    Back,
                    "back",
                    "every day again",
                    &["Esc"],
                ),
                b(
                    on(Tab::Analytics),
                    Mark,
                    "mark",
                    "mark the selected day as a range's first, then last day: its most expensive task",
                    &["v"],
                ),
                b(on(Tab::Users), NewUser, "new_user", "new user", &["n"]),
                b(
                    on(Tab::Users),
                    ChangeRole,
                    "change_role",
                    "change the role (asks first)",
                    &["e"],
                ),
                b(
                    on(Tab::Users),
                    ToggleActive,
                    "toggle_active",
                    "deactivate / reactivate (asks first)",
                    &["d"],
                ),
                b(
                    on(Tab::Events),
                    Open,
                    "open",
                    "the selected dead letter in full (envelope, error)",
                    &["Enter", "o"],
                ),
                b(
                    on(Tab::Events),
                    Replay,
                    "replay",
                    "replay the selected dead letter (asks first)",
                    &["p"],
                ),
                b(
                    on(Tab::Events),
                    Discard,
                    "discard",
                    "discard the selected dead letter, with a reason",
                    &["x"],
                ),
                b(lists, Down, "down", "move down", &["j", "Down"]),
                b(lists, Up, "up", "move up", &["k", "Up"]),
                b(
                    lists,
                    PageDown,
                    "page_down",
                    "move a page down",
                    &["PageDown", "Ctrl-d"],
                ),
                b(
                    lists,
                    PageUp,
                    "page_up",
                    "move a page up",
                    &["PageUp", "Ctrl-u"],
                ),
                b(lists, Top, "top", "first row", &["g", "Home"]),
                b(lists, Bottom, "bottom", "last row", &["G", "End"]),
                b(
                    global,
                    NextScreen,
                    "next_screen",
                    "next screen (1-9 pick one)",
                    &["Tab"],
                ),
                b(
                    global,
                    PrevScreen,
                    "prev_screen",
                    "previous screen",
                    &["BackTab"],
                ),
                b(global, Refresh, "refresh", "refresh", &["r", "F5"]),
                b(global, Help, "help", "this help (/ filters it)", &["?"]),
                b(global, Quit, "quit", "quit (Ctrl-C from anywhere)", &["q"]),
            ],
        }
    }

    /// The preset with `config.toml`'s `[keys]` applied: `"<scope>.<name>" = key(s)`.
    /// Errors name the entry; the caller adds the line.
    pub fn with_overrides(
        mut self,
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, (String, String)> {
        for (entry, keys) in overrides {
            let found: Vec<usize> = self
                .bindings
                .iter()
                .enumerate()
                .filter(|(_, b)| format!("{}.{}", b.scope.name(), b.name) == *entry)
                .map(|(i, _)| i)
                .collect();
            if found.is_empty() {
                return Err((
                    entry.clone(),
                    format!("no key binding is called `{entry}`; see the `?` help for names"),
                ));
            }
            let keys = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| (entry.clone(), e))?;
            if keys.is_empty() {
                return Err((entry.clone(), "give at least one key".to_owned()));
            }
            for i in found {
                self.bindings[i].keys = keys.clone();
            }
        }
        Ok(self)
    }

    /// What `key` does on `tab`: the screen's own bindings first, then lists', then global.
    pub fn action(&self, tab: Tab, has_list: bool, key: &KeyEvent) -> Option<Action> {
        let scopes = [Scope::Screen(tab), Scope::Lists, Scope::Global];
        scopes
            .iter()
            .filter(|s| has_list || **s != Scope::Lists)
            .find_map(|scope| {
                self.bindings
                    .iter()
                    .filter(|b| b.scope == *scope)
                    .find(|b| b.keys.iter().any(|k| k.matches(key)))
                    .map(|b| b.action)
            })
    }

    /// The bindings that apply on `tab`, most specific first.
    pub fn for_screen(&self, tab: Tab, has_list: bool) -> Vec<&Binding> {
        let mut found: Vec<&Binding> = self
            .bindings
            .iter()
            .filter(|b| b.scope == Scope::Screen(tab))
            .collect();
        if has_list {
            found.extend(self.bindings.iter().filter(|b| b.scope == Scope::Lists));
        }
        found.extend(self.bindings.iter().filter(|b| b.scope == Scope::Global));
        found
    }

    /// The first key of `action` on `tab`, as shown in hints (`None` if unbound there).
    pub fn key_for(&self, tab: Tab, has_list: bool, action: Action) -> Option<String> {
        self.for_screen(tab, has_list)
            .into_iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first().map(Key::label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn the_screen_wins_over_lists_and_global() {
        let map = Keymap::vim();
        assert_eq!(
            map.action(Tab::MyTasks, true, &press(KeyCode::Enter)),
            Some(Action::Open)
        );
        assert_eq!(
            map.action(Tab::MyTasks, true, &press(KeyCode::Char('c'))),
            Some(Action::Complete)
        );
        assert_eq!(
            map.action(Tab::Board, true, &press(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(Tab::MyAccount, false, &press(KeyCode::Char('j'))),
            None,
            "no list there"
        );
        assert_eq!(
            map.action(Tab::Board, true, &press(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
    }

    #[test]
    fn overrides_rebind_and_unknown_names_or_keys_are_refused() {
        let mut keys = BTreeMap::new();
        keys.insert("my_tasks.complete".to_owned(), vec!["x".to_owned()]);
        keys.insert("global.quit".to_owned(), vec!["Ctrl-q".to_owned()]);
        let map = Keymap::vim().with_overrides(&keys).unwrap();
        assert_eq!(
            map.action(Tab::MyTasks, true, &press(KeyCode::Char('x'))),
            Some(Action::Complete)
        );
        assert_eq!(
            map.action(Tab::MyTasks, true, &press(KeyCode::Char('c'))),
            None
        );
        let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(map.action(Tab::Board, true, &ctrl_q), Some(Action::Quit));
        assert_eq!(
            map.key_for(Tab::MyTasks, true, Action::Complete).as_deref(),
            Some("x")
        );

        let mut bad = BTreeMap::new();
        bad.insert("my_tasks.compleet".to_owned(), vec!["x".to_owned()]);
        assert!(
            Keymap::vim()
                .with_overrides(&bad)
                .unwrap_err()
                .1
                .contains("compleet")
        );
        let mut bad = BTreeMap::new();
        bad.insert("global.quit".to_owned(), vec!["Hyper-q".to_owned()]);
        assert!(
            Keymap::vim()
                .with_overrides(&bad)
                .unwrap_err()
                .1
                .contains("Hyper-q")
        );
    }

    #[test]
    fn keys_parse_and_label_round_trip() {
        for text in [
            "j", "G", "Enter", "Ctrl-s", "PageDown", "F5", "?", "/", "Esc", "Space",
        ] {
            let key = Key::parse(text).unwrap();
            assert_eq!(
                Key::parse(&key.label().replace("PgDn", "PageDown")).ok(),
                Some(key),
                "{text}"
            );
        }
    }
}
