//! Who gets a task: a uniformly random choice among the assignable users.

use super::store;
use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::Connection;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The assignable users, kept in memory between writes: every task creation needs them,
/// and reading a thousand rows per task was most of its cost. Reloaded whenever the
/// users' version token (changed in the same transaction as any user change) moves.
#[derive(Default)]
pub struct AssignableUsers {
    cached: Mutex<Option<(i64, Arc<Vec<Uuid>>)>>,
}

impl AssignableUsers {
    /// The current list, as seen by `conn` (inside the write transaction that uses it).
    pub fn get(&self, conn: &Connection) -> rusqlite::Result<Arc<Vec<Uuid>>> {
        let version = store::users_version(conn)?;
        let mut cached = self.cached.lock().expect("assignable users lock");
        if let Some((seen, ids)) = cached.as_ref()
            && *seen == version
        {
            return Ok(ids.clone());
        }
        let ids = Arc::new(store::assignable_user_ids(conn)?);
        *cached = Some((version, ids.clone()));
        Ok(ids)
    }
}

/// Picks one of `assignable` at random; `None` when nobody can take a task.
pub fn pick(assignable: &[Uuid], rng: &mut impl Rng) -> Option<Uuid> {
    assignable.choose(rng).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::collections::HashMap;

    #[test]
    fn nobody_to_pick_gives_none() {
        assert_eq!(pick(&[], &mut rand::rng()), None);
    }

    #[test]
    fn picks_are_spread_evenly_over_everyone() {
        let users: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts: HashMap<Uuid, u32> = HashMap::new();
        for _ in 0..100_000 {
            *counts.entry(pick(&users, &mut rng).unwrap()).or_default() += 1;
        }
        assert_eq!(counts.len(), 10, "everyone got tasks");
        for (_, n) in counts {
            // Expected 10_000 each; a fair die stays well within ±5%.
            assert!((9_500..=10_500).contains(&n), "unfair share: {n}");
        }
    }
}
