//! The one list type every list on screen uses: rows fetched from the server, the rows
//! shown (all of them, or those a filter keeps), and the selection, held by the shown
//! item's id (see `Selection`), which also decides how far the table scrolls.

use crate::api::ApiError;
use crate::app::keymap::Action;
use crate::app::remote::Remote;
use crate::app::selection::{Moved, Selection};
use ates_shared::api::{Account, DeadLetter, Task, User};
use uuid::Uuid;

/// Rows a page key moves.
const PAGE: usize = 10;

/// What identifies a row across refreshes.
pub trait Keyed {
    fn key(&self) -> Uuid;
}

impl Keyed for Task {
    fn key(&self) -> Uuid {
        self.id
    }
}

impl Keyed for Account {
    fn key(&self) -> Uuid {
        self.user.id
    }
}

impl Keyed for User {
    fn key(&self) -> Uuid {
        self.id
    }
}

impl Keyed for DeadLetter {
    fn key(&self) -> Uuid {
        self.id
    }
}

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

#[derive(Debug, Clone)]
pub struct List<T> {
    pub remote: Remote<Vec<T>>,
    /// Indexes into the loaded rows of the rows shown, in order.
    visible: Vec<usize>,
    pub selected: Selection,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            remote: Remote::default(),
            visible: Vec::new(),
            selected: Selection::default(),
        }
    }
}

impl<T: Keyed> List<T> {
    /// Every loaded row, shown or not.
    pub fn items(&self) -> &[T] {
        self.remote.data.as_deref().unwrap_or_default()
    }

    /// How many rows are shown.
    pub fn len(&self) -> usize {
        self.visible.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visible.is_empty()
    }

    /// The `index`th row shown.
    pub fn row(&self, index: usize) -> Option<&T> {
        self.items().get(*self.visible.get(index)?)
    }

    /// The selected row as drawn.
    pub fn selected(&self) -> Option<&T> {
        self.row(self.selected.index)
    }

    /// Shows `remote` as it is (a fixed state, e.g. in tests), every row.
    pub fn show(&mut self, remote: Remote<Vec<T>>) {
        self.remote = remote;
        self.filter(|_| true);
    }

    /// Takes a reply to the fetch in flight (false when stale) and shows every row.
    pub fn accept(&mut self, generation: u64, result: Result<Vec<T>, ApiError>) -> bool {
        let taken = self.remote.accept(generation, result);
        if taken {
            self.filter(|_| true);
        }
        taken
    }

    /// Shows only the rows `keep` keeps; the selection stays on its item if still shown.
    pub fn filter(&mut self, keep: impl Fn(&T) -> bool) {
        let items = self.remote.data.as_deref().unwrap_or_default();
        self.visible = (0..items.len()).filter(|&i| keep(&items[i])).collect();
        self.selected.sync(&self.visible, |&i| items[i].key());
    }

    /// Moves the selection for a movement action; false for any other action.
    pub fn navigate(&mut self, action: Action) -> bool {
        let Some(index) = step(self.selected.index, self.visible.len(), action) else {
            return false;
        };
        let items = self.remote.data.as_deref().unwrap_or_default();
        self.selected
            .select(index, &self.visible, |&i| items[i].key());
        true
    }

    /// The row an action acts on: the one drawn as selected, never whatever row now sits at
    /// its position; `Err` once when the selected item left the list by itself.
    pub fn for_action(&mut self) -> Result<Option<&T>, Moved> {
        let items = self.remote.data.as_deref().unwrap_or_default();
        let at = self
            .selected
            .for_action(&self.visible, |&i| items[i].key())?;
        Ok(at.map(|&i| &items[i]))
    }

    /// Puts a changed item in place of the loaded one with the same key (if loaded).
    pub fn replace(&mut self, item: T) -> bool {
        let key = item.key();
        match self
            .remote
            .data
            .as_mut()
            .and_then(|items| items.iter_mut().find(|t| t.key() == key))
        {
            Some(slot) => {
                *slot = item;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Row(u128);

    impl Keyed for Row {
        fn key(&self) -> Uuid {
            Uuid::from_u128(self.0)
        }
    }

    fn loaded(rows: &[u128]) -> List<Row> {
        let mut list = List::default();
        list.remote.begin(1);
        list.accept(1, Ok(rows.iter().map(|&n| Row(n)).collect()));
        list
    }

    #[test]
    fn a_filter_hides_rows_and_the_selection_follows_its_item() {
        let mut list = loaded(&[1, 2, 3, 4]);
        list.navigate(Action::Bottom);
        assert_eq!(list.selected().map(|r| r.0), Some(4));
        list.filter(|r| r.0 % 2 == 0);
        assert_eq!(list.len(), 2);
        assert_eq!(list.selected().map(|r| r.0), Some(4), "same item, new row");
        assert_eq!(list.selected.index, 1);
    }

    #[test]
    fn an_action_after_the_item_left_is_refused_once() {
        let mut list = loaded(&[1, 2, 3]);
        list.navigate(Action::Down);
        list.remote.begin(2);
        list.accept(2, Ok(vec![Row(1), Row(3)]));
        assert!(list.for_action().is_err());
        assert_eq!(list.for_action().unwrap().map(|r| r.0), Some(3));
    }

    #[test]
    fn movement_stays_inside_the_shown_rows() {
        let mut list = loaded(&[1, 2, 3]);
        assert!(list.navigate(Action::PageDown));
        assert_eq!(list.selected.index, 2);
        assert!(list.navigate(Action::Top));
        assert_eq!(list.selected.index, 0);
        assert!(!list.navigate(Action::Complete));
    }
}
