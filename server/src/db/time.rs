//! Times and days in SQLite columns, in the text form rusqlite gives chrono's types
//! (`2026-11-25 05:30:00.123+00:00`, `2026-11-25`), read and written without chrono's
//! format strings: rusqlite formats with `%F %T%.f%:z`, parsing that pattern on every call,
//! and applying a fee row spent 7 % of its time there.

use ates_shared::time::{push_date, push_date_time};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::{ToSql, ToSqlOutput, Value};

/// A time column as rusqlite writes `DateTime<Utc>` (`2026-11-25 05:30:00.123+00:00`),
/// read with chrono's RFC 3339 parser. rusqlite's own reading tries strftime patterns in
/// turn, which was a tenth of the cost of serving a page of tasks.
pub fn timestamp(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    match row
        .get_ref(index)?
        .as_str()
        .map(DateTime::parse_from_rfc3339)
    {
        Ok(Ok(time)) => Ok(time.with_timezone(&Utc)),
        _ => row.get(index),
    }
}

/// [`timestamp`] of a column that may be NULL.
pub fn optional_timestamp(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    if row.get_ref(index)? == rusqlite::types::ValueRef::Null {
        return Ok(None);
    }
    timestamp(row, index).map(Some)
}

/// A time bound as exactly the text rusqlite writes for a `DateTime<Utc>`, so stored
/// columns keep one form (they are compared and sorted as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(pub DateTime<Utc>);

impl Stamp {
    /// The text stored for this time (to bind one time many times, written out once).
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(35);
        if !push_date_time(&mut text, self.0, ' ', "+00:00") {
            // Years outside 0..=9999 and leap seconds: chrono's own text, as rusqlite's.
            text = self.0.format("%F %T%.f%:z").to_string();
        }
        text
    }
}

impl ToSql for Stamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Text(self.text())))
    }
}

/// A day bound as exactly the text rusqlite writes for a `NaiveDate` (`%F`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl ToSql for Day {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let mut text = String::with_capacity(10);
        if !push_date(&mut text, self.0) {
            return self.0.to_sql();
        }
        Ok(ToSqlOutput::Owned(Value::Text(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rusqlite::Connection;

    #[test]
    fn timestamps_read_fast_are_the_timestamps_rusqlite_wrote() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (at TEXT, maybe TEXT)")
            .unwrap();
        let times = [
            "2026-11-25T05:30:00.123456789Z"
                .parse::<DateTime<Utc>>()
                .unwrap(),
            "2026-01-01T00:00:00Z".parse().unwrap(),
            "1999-12-31T23:59:59.5Z".parse().unwrap(),
        ];
        for at in times {
            conn.execute("INSERT INTO t VALUES (?1, NULL)", [at])
                .unwrap();
        }
        let read: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = conn
            .prepare("SELECT at, maybe FROM t")
            .unwrap()
            .query_map([], |r| Ok((timestamp(r, 0)?, optional_timestamp(r, 1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read, times.map(|t| (t, None)).to_vec());
        // Another way of writing a time still reads, through rusqlite's own parser.
        let other: DateTime<Utc> = conn
            .query_row("SELECT '2026-11-25 05:30:00'", [], |r| timestamp(r, 0))
            .unwrap();
        assert_eq!(
            other,
            "2026-11-25T05:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    fn as_text(value: &dyn ToSql) -> String {
        match value.to_sql().unwrap() {
            ToSqlOutput::Owned(Value::Text(t)) => t,
            ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(t)) => {
                String::from_utf8(t.to_vec()).unwrap()
            }
            other => panic!("not text: {other:?}"),
        }
    }

    proptest! {
        /// Whatever the time, the text is the one rusqlite would have written.
        #[test]
        fn stamps_and_days_are_written_as_rusqlite_writes_them(
            seconds in -62_000_000_000i64..260_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1000, (0u32..1000).prop_map(|n| n * 1_000_000),
                (0u32..1_000_000).prop_map(|n| n * 1000), 0u32..1_000_000_000],
        ) {
            let t = DateTime::<Utc>::from_timestamp(seconds, nanos).unwrap();
            prop_assert_eq!(as_text(&Stamp(t)), as_text(&t));
            prop_assert_eq!(Stamp(t).text(), as_text(&t));
            prop_assert_eq!(as_text(&Day(t.date_naive())), as_text(&t.date_naive()));
        }
    }
}
