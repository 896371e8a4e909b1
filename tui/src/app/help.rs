//! The `?` help and the key-hint bar, both read from the keymap (the same table the keys
//! are handled by), so what the screen says and what the keys do cannot drift apart.

use super::keymap::Action;
use super::state::{App, Stage};
use super::tabs::Tab;
use crate::screens::users::Dialog;

/// (keys, what they do).
pub type Binding = (String, String);

/// Editing keys of text forms (fixed: they are typing, not commands).
const FORM: &[(&str, &str)] = &[
    ("Tab/↓ ↑", "next / previous field"),
    ("Enter", "next field; on the last one, submit"),
    ("Ctrl-S", "submit"),
    ("Ctrl-U", "clear the field"),
    ("←/→ space", "change a choice"),
    ("Esc", "stop editing"),
];

fn fixed(list: &[(&str, &str)]) -> Vec<Binding> {
    list.iter()
        .map(|(k, w)| ((*k).to_owned(), (*w).to_owned()))
        .collect()
}

/// The keys of what is on screen now, most specific first, narrowed by the help's filter.
pub fn bindings(app: &App) -> Vec<Binding> {
    let has_list = app.screens.get(app.tab).has_list();
    let all = match app.stage {
        Stage::Login => {
            let mut keys = fixed(FORM);
            keys.push(("Esc".into(), "quit".into()));
            keys
        }
        Stage::Resuming => vec![("q".into(), "quit".into())],
        Stage::Main
            if app.tab == Tab::Users
                && matches!(app.screens.users.dialog, Some(Dialog::NewUser(_))) =>
        {
            fixed(FORM)
        }
        Stage::Main => {
            let mut keys: Vec<Binding> = app
                .keymap
                .for_screen(app.tab, has_list)
                .into_iter()
                .map(|b| (b.keys_label(), b.help.to_owned()))
                .collect();
            if app.tab == Tab::NewTask {
                keys.extend(fixed(FORM));
            }
            keys.push(("1-9".into(), "switch screen".into()));
            keys
        }
    };
    let needle = app.help_filter.to_lowercase();
    all.into_iter()
        .filter(|(k, w)| {
            needle.is_empty()
                || k.to_lowercase().contains(&needle)
                || w.to_lowercase().contains(&needle)
        })
        .collect()
}

/// The always-visible hints: the screen's own actions first, then help and quit.
pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    if app.stage != Stage::Main {
        return Vec::new();
    }
    let keymap = &app.keymap;
    let has_list = app.screens.get(app.tab).has_list();
    let mut hints: Vec<(String, &'static str)> = keymap
        .for_screen(app.tab, has_list)
        .into_iter()
        .filter(|b| matches!(b.scope, super::keymap::Scope::Screen(_)))
        // Moving along a chart is like moving in a list: the screen says how, and `?`.
        .filter(|b| {
            !matches!(
                b.action,
                Action::PrevDay
                    | Action::NextDay
                    | Action::PrevMonth
                    | Action::NextMonth
                    | Action::Back
            )
        })
        .filter_map(|b| Some((b.keys.first()?.label(), b.name)))
        .collect();
    for (action, name) in [
        (Action::Help, "help"),
        (Action::Quit, "quit"),
        (Action::Refresh, "refresh"),
    ] {
        if let Some(key) = keymap.key_for(app.tab, has_list, action) {
            hints.push((key, name));
        }
    }
    hints
}
