//! The inbox: which events each consumer applied, written in the transaction that applied
//! them. A redelivered event (after a rewind, a replay or a broker's resend) is found here
//! and skipped.
//!
//! One row per batch, not per event: the ids a batch applied, sorted, in one blob, with the
//! lowest and highest of them. A row per event (an index insert per event, in accounting
//! and again in analytics) was ~10 % of the server's CPU in a 100k reshuffle; measured,
//! see `INBOX_BY_BATCH` in `tables.rs`.
//!
//! The rows of one consumer never overlap (no row's id range reaches into another's), so
//! the rows that may hold any of a set of ids are the few whose ranges meet the set's, found
//! in one range read. Event ids are time-ordered, so a new batch's ids are normally above
//! every row; when some are not (a dead letter replayed, a producer's clock stepped back),
//! the rows they fall among are merged with them and written again.

use crate::db::{Stamp, Tx};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use std::collections::HashSet;
use uuid::Uuid;

/// The most ids one row holds (256 KiB of them). A batch is at most 16,000 events, so this
/// only splits what merging puts together.
const IDS_PER_ROW: usize = 16_384;

/// Which of `ids` `consumer` applied before.
pub(crate) fn applied_among(
    conn: &Connection,
    consumer: &str,
    ids: impl IntoIterator<Item = Uuid>,
) -> rusqlite::Result<HashSet<Uuid>> {
    let wanted = sorted(ids.into_iter().collect());
    let mut found = HashSet::new();
    for_rows_meeting(conn, consumer, &wanted, |row_ids| {
        // Only the wanted ids within the row's range are looked for: after a rewind, a
        // batch's ids may span thousands of small rows.
        let (Some(first), Some(last)) = (row_ids.first(), row_ids.last()) else {
            return;
        };
        let from = wanted.partition_point(|id| id.as_bytes() < first);
        let to = wanted.partition_point(|id| id.as_bytes() <= last);
        found.extend(
            wanted[from..to]
                .iter()
                .filter(|id| row_ids.binary_search(id.as_bytes()).is_ok()),
        );
    })?;
    Ok(found)
}

/// Records that `consumer` applied `ids` at `applied_at`; none of them was recorded before
/// (the caller checked with [`applied_among`]).
pub(crate) fn record(
    tx: &Tx<'_>,
    consumer: &str,
    ids: Vec<Uuid>,
    applied_at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let mut ids = sorted(ids);
    if ids.is_empty() {
        return Ok(());
    }
    // Rows these ids fall among (rare: ids arriving out of order) are merged with them, so
    // that rows still never overlap.
    let mut merged = Vec::new();
    for_rows_meeting(tx, consumer, &ids, |row_ids| merged.push(row_ids.to_vec()))?;
    if !merged.is_empty() {
        let mut delete =
            tx.prepare_cached("DELETE FROM inbox WHERE consumer = ?1 AND last_id = ?2")?;
        for row_ids in &merged {
            let last = row_ids.last().map(|id| Uuid::from_bytes(*id));
            delete.execute(params![consumer, last])?;
        }
        ids.extend(merged.iter().flatten().map(|id| Uuid::from_bytes(*id)));
        ids = sorted(ids);
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO inbox (consumer, last_id, first_id, applied_at, event_ids)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let applied_at = Stamp(applied_at).text();
    for row in ids.chunks(IDS_PER_ROW) {
        let blob: Vec<u8> = row.iter().flat_map(|id| *id.as_bytes()).collect();
        insert.execute(params![
            consumer,
            row[row.len() - 1],
            row[0],
            applied_at,
            blob
        ])?;
    }
    Ok(())
}

/// Every event `consumer` applied, with the time it was applied (`applied_at` as stored),
/// in id order: for tools and benchmarks that measure lag.
pub fn applied_events(conn: &Connection, consumer: &str) -> rusqlite::Result<Vec<(Uuid, String)>> {
    let mut select = conn.prepare_cached(
        "SELECT applied_at, event_ids FROM inbox WHERE consumer = ?1 ORDER BY last_id",
    )?;
    let mut rows = select.query([consumer])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        let applied_at: String = row.get(0)?;
        for id in ids_of(row.get_ref(1)?.as_blob()?) {
            events.push((Uuid::from_bytes(*id), applied_at.clone()));
        }
    }
    Ok(events)
}

/// Calls `f` with the ids of every row of `consumer` whose range meets that of `ids`
/// (sorted, not empty).
fn for_rows_meeting(
    conn: &Connection,
    consumer: &str,
    ids: &[Uuid],
    mut f: impl FnMut(&[[u8; 16]]),
) -> rusqlite::Result<()> {
    let (Some(low), Some(high)) = (ids.first(), ids.last()) else {
        return Ok(());
    };
    // Rows in order of their highest id from `low` on; as they never overlap, their lowest
    // ids rise in the same order, and the first that starts above `high` ends the search.
    let mut select = conn.prepare_cached(
        "SELECT first_id, event_ids FROM inbox
         WHERE consumer = ?1 AND last_id >= ?2 ORDER BY last_id",
    )?;
    let mut rows = select.query(params![consumer, low])?;
    while let Some(row) = rows.next()? {
        // The lowest id is read first: the blob of a row that ends the search is not.
        let first: Uuid = row.get(0)?;
        if first > *high {
            break;
        }
        f(ids_of(row.get_ref(1)?.as_blob()?));
    }
    Ok(())
}

/// A row's ids, as stored (16 bytes each, in order).
fn ids_of(blob: &[u8]) -> &[[u8; 16]] {
    blob.as_chunks::<16>().0
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, DbError};
    use rusqlite_migration::{M, Migrations};

    fn db() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let migrations = Migrations::new(vec![
            M::up(crate::events::tables::EVENT_TABLES),
            M::up(crate::events::tables::INBOX_BY_BATCH),
        ]);
        (Db::open(dir.path(), "inbox", &migrations).unwrap(), dir)
    }

    async fn record_ids(db: &Db, consumer: &'static str, ids: &[Uuid]) {
        let ids = ids.to_vec();
        db.write(move |tx| record(tx, consumer, ids, Utc::now()).map_err(DbError::from))
            .await
            .unwrap();
    }

    async fn among(db: &Db, consumer: &'static str, ids: &[Uuid]) -> HashSet<Uuid> {
        let ids = ids.to_vec();
        db.read(move |conn| applied_among(conn, consumer, ids).map_err(DbError::from))
            .await
            .unwrap()
    }

    async fn rows(db: &Db) -> Vec<(String, Uuid, Uuid, usize)> {
        db.read(|conn| {
            let mut select = conn.prepare(
                "SELECT consumer, first_id, last_id, length(event_ids) FROM inbox
                 ORDER BY consumer, last_id",
            )?;
            let rows = select.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, i64>(3)? as usize / 16,
                ))
            })?;
            Ok::<_, DbError>(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap()
    }

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::now_v7()).collect()
    }

    #[tokio::test]
    async fn a_batch_is_one_row_and_each_of_its_ids_is_found_again() {
        let (db, _dir) = db();
        let applied = ids(1000);
        let later = ids(3);
        record_ids(&db, "a.src", &applied).await;

        assert_eq!(rows(&db).await.len(), 1);
        let asked: Vec<Uuid> = applied.iter().step_by(7).chain(&later).copied().collect();
        let found = among(&db, "a.src", &asked).await;
        assert_eq!(found, applied.iter().step_by(7).copied().collect());
        assert!(among(&db, "other.src", &applied).await.is_empty());
        assert_eq!(among(&db, "a.src", &[applied[500]]).await.len(), 1);
        assert!(among(&db, "a.src", &[later[0]]).await.is_empty());
    }

    /// A set of ids spanning many small rows (events applied a few at a time, then
    /// delivered again in one batch after a rewind) is found in all of them.
    #[tokio::test]
    async fn ids_spanning_many_small_rows_are_all_found() {
        let (db, _dir) = db();
        let mut applied = Vec::new();
        for _ in 0..50 {
            let batch = ids(2);
            record_ids(&db, "a.src", &batch).await;
            applied.extend(batch);
        }
        let unseen = ids(5);

        assert_eq!(rows(&db).await.len(), 50);
        let asked: Vec<Uuid> = applied.iter().chain(&unseen).copied().collect();
        assert_eq!(
            among(&db, "a.src", &asked).await,
            applied.iter().copied().collect()
        );
    }

    /// Ids that fall among those of earlier rows (a producer's clock stepped back) are
    /// merged with them: rows still never overlap, and every id is found.
    #[tokio::test]
    async fn ids_out_of_order_are_merged_into_rows_that_never_overlap() {
        let (db, _dir) = db();
        let all = ids(300);
        // Three batches of every third id: each one's range spans the others'.
        for start in 0..3 {
            let batch: Vec<Uuid> = all.iter().skip(start).step_by(3).copied().collect();
            record_ids(&db, "a.src", &batch).await;
        }
        // And one below and one above everything.
        let (below, above) = (all[0], ids(1)[0]);
        let mut below_bytes = *below.as_bytes();
        below_bytes[15] = below_bytes[15].wrapping_sub(1);
        let below = Uuid::from_bytes(below_bytes);
        record_ids(&db, "a.src", &[below, above]).await;

        let rows = rows(&db).await;
        for pair in rows.windows(2) {
            assert!(pair[0].2 < pair[1].1, "rows overlap: {rows:?}");
        }
        assert_eq!(rows.iter().map(|r| r.3).sum::<usize>(), 302);
        let mut every = all.clone();
        every.extend([below, above]);
        assert_eq!(among(&db, "a.src", &every).await.len(), 302);
    }

    /// Rows hold at most `IDS_PER_ROW` ids: a merge that would make more is split.
    #[tokio::test]
    async fn merged_rows_are_split_when_they_grow_too_large() {
        let (db, _dir) = db();
        let all = ids(IDS_PER_ROW + 10);
        let evens: Vec<Uuid> = all.iter().step_by(2).copied().collect();
        let odds: Vec<Uuid> = all.iter().skip(1).step_by(2).copied().collect();
        record_ids(&db, "a.src", &evens).await;
        record_ids(&db, "a.src", &odds).await;

        let rows = rows(&db).await;
        assert_eq!(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            [IDS_PER_ROW, 10]
        );
        assert_eq!(among(&db, "a.src", &all).await.len(), all.len());
    }

    /// What an older inbox held (a row per event) is kept, as rows of up to
    /// `IDS_PER_ROW` ids per consumer.
    #[test]
    fn the_migration_keeps_every_applied_event() {
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(crate::events::tables::EVENT_TABLES)])
            .to_latest(&mut conn)
            .unwrap();
        let mut written = Vec::new();
        for (consumer, n) in [("a.src", IDS_PER_ROW + 5), ("b.src", 3)] {
            for id in ids(n) {
                conn.execute(
                    "INSERT INTO inbox (consumer, event_id, applied_at) VALUES (?1, ?2, ?3)",
                    params![consumer, id, "2026-12-01T10:00:00.000000Z"],
                )
                .unwrap();
                written.push((consumer, id));
            }
        }

        Migrations::new(vec![
            M::up(crate::events::tables::EVENT_TABLES),
            M::up(crate::events::tables::INBOX_BY_BATCH),
        ])
        .to_latest(&mut conn)
        .unwrap();

        for consumer in ["a.src", "b.src"] {
            let expected: Vec<Uuid> = written
                .iter()
                .filter(|(c, _)| *c == consumer)
                .map(|(_, id)| *id)
                .collect();
            let events = applied_events(&conn, consumer).unwrap();
            assert_eq!(
                events.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                sorted(expected.clone())
            );
            assert!(
                events
                    .iter()
                    .all(|(_, at)| at == "2026-12-01T10:00:00.000000Z")
            );
            assert_eq!(
                applied_among(&conn, consumer, expected.clone())
                    .unwrap()
                    .len(),
                expected.len()
            );
        }
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM inbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 3, "a.src in two rows, b.src in one");
    }
}
