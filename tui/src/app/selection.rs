//! A list's selected row, held by the id of the item rather than its position: a refresh
//! that inserts rows above (new tasks arrive at the top) or removes rows never moves the
//! selection to another item, so an action always names the item the user chose.
//!
//! When the selected item leaves the list the selection falls back to the nearest row and
//! is marked `moved`: the next action is refused once, so the user sees where it went
//! before anything acts on it.

use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub index: usize,
    pub id: Option<Uuid>,
    /// The selected item left the list and the selection fell back to a neighbour.
    pub moved: bool,
}

impl Selection {
    /// After the list changed: back on the same item wherever it is now; else the nearest row.
    pub fn sync<T>(&mut self, items: &[T], id_of: impl Fn(&T) -> Uuid) {
        if let Some(id) = self.id {
            if let Some(index) = items.iter().position(|item| id_of(item) == id) {
                self.index = index;
                return;
            }
            self.moved = true;
        }
        self.index = self.index.min(items.len().saturating_sub(1));
        self.id = items.get(self.index).map(&id_of);
    }

    /// The user moved the selection to `index` (clamped).
    pub fn select<T>(&mut self, index: usize, items: &[T], id_of: impl Fn(&T) -> Uuid) {
        self.index = index.min(items.len().saturating_sub(1));
        self.id = items.get(self.index).map(id_of);
        self.moved = false;
    }

    /// Back to the top, e.g. after a new search.
    pub fn reset(&mut self) {
        *self = Selection::default();
    }

    /// The selected item, unless the selection just moved by itself (then `Err` once, and
    /// the next call succeeds): actions use this.
    pub fn for_action<'a, T>(
        &mut self,
        items: &'a [T],
        id_of: impl Fn(&T) -> Uuid,
    ) -> Result<Option<&'a T>, Moved> {
        if std::mem::take(&mut self.moved) {
            return Err(Moved);
        }
        if self.id.is_none() {
            // Never synced (the list was just shown): the row drawn at the index.
            self.id = items.get(self.index).map(&id_of);
        }
        Ok(items
            .get(self.index)
            .filter(|item| Some(id_of(item)) == self.id))
    }
}

/// The selected item had left the list; the selection moved to a neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved;

impl Moved {
    pub const MESSAGE: &str =
        "The selected item left the list; the selection moved: check it and press again";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn rows_inserted_above_keep_the_same_item_selected() {
        let mut list = ids(3);
        let mut selection = Selection::default();
        selection.select(1, &list, |id| *id);
        let chosen = list[1];
        list.splice(0..0, [Uuid::from_u128(100), Uuid::from_u128(101)]);
        selection.sync(&list, |id| *id);
        assert_eq!(selection.index, 3);
        let item = selection.for_action(&list, |id| *id).unwrap();
        assert_eq!(item, Some(&chosen));
    }

    #[test]
    fn a_vanished_item_moves_the_selection_and_the_next_action_waits() {
        let mut list = ids(3);
        let mut selection = Selection::default();
        selection.select(2, &list, |id| *id);
        list.remove(2);
        selection.sync(&list, |id| *id);
        assert_eq!((selection.index, selection.id), (1, Some(list[1])));
        assert_eq!(selection.for_action(&list, |id| *id), Err(Moved));
        assert_eq!(selection.for_action(&list, |id| *id), Ok(Some(&list[1])));
    }

    #[test]
    fn an_empty_list_selects_nothing() {
        let mut selection = Selection::default();
        selection.sync::<Uuid>(&[], |id| *id);
        assert_eq!(selection.id, None);
        assert_eq!(selection.for_action::<Uuid>(&[], |id| *id), Ok(None));
    }
}
