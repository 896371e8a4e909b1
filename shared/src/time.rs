//! Times as text, written and read without chrono's format machinery. chrono's `Serialize`
//! for `DateTime` goes through `core::fmt` a character at a time (a twelfth of the cost of
//! serving a page of tasks) and its `Deserialize` through its general format parser (which
//! cost a fee row more than its B-tree inserts). The text is the same, character for
//! character: tests hold it against chrono's for any time.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// Appends `t` as `YYYY-MM-DD<separator>hh:mm:ss[.fff|.ffffff|.fffffffff]<zone>`: the
/// fraction in 3, 6 or 9 digits, the fewest that are exact, none for whole seconds (chrono's
/// `%.f` and its `SecondsFormat::AutoSi`). Returns `false`, appending nothing, for the
/// rarities chrono writes otherwise (years outside 0..=9999, leap seconds): leave those to
/// chrono.
pub fn push_date_time(text: &mut String, t: DateTime<Utc>, separator: char, zone: &str) -> bool {
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&t.year()) || nanos >= 1_000_000_000 {
        return false;
    }
    push_date(text, t.date_naive());
    text.push(separator);
    push_digits(text, t.hour(), 2);
    text.push(':');
    push_digits(text, t.minute(), 2);
    text.push(':');
    push_digits(text, t.second(), 2);
    if nanos != 0 {
        text.push('.');
        if nanos.is_multiple_of(1_000_000) {
            push_digits(text, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_digits(text, nanos / 1_000, 6);
        } else {
            push_digits(text, nanos, 9);
        }
    }
    text.push_str(zone);
    true
}

/// Appends `day` as `YYYY-MM-DD`; `false`, appending nothing, outside the years 0..=9999.
pub fn push_date(text: &mut String, day: NaiveDate) -> bool {
    if !(0..=9999).contains(&day.year()) {
        return false;
    }
    push_digits(text, day.year() as u32, 4);
    text.push('-');
    push_digits(text, day.month(), 2);
    text.push('-');
    push_digits(text, day.day(), 2);
    true
}

/// `value` in exactly `width` decimal digits, zero-padded (`value` must fit).
fn push_digits(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

/// For `#[serde(with = "...")]` on a `DateTime<Utc>`: written as chrono writes it
/// (`2026-11-25T05:30:00.123Z`), read as RFC 3339 first, then as anything chrono's
/// `Deserialize` takes (the same values as before, only faster).
pub mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::de::{Deserializer, Error, Visitor};
    use serde::ser::Serializer;
    use std::fmt;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(30);
        if !super::push_date_time(&mut text, *t, 'T', "Z") {
            text = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        }
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        deserializer.deserialize_str(Rfc3339)
    }

    struct Rfc3339;

    impl Visitor<'_> for Rfc3339 {
        type Value = DateTime<Utc>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 date and time")
        }

        fn visit_str<E: Error>(self, text: &str) -> Result<DateTime<Utc>, E> {
            match DateTime::parse_from_rfc3339(text) {
                Ok(time) => Ok(time.with_timezone(&Utc)),
                Err(_) => text.parse::<DateTime<Utc>>().map_err(E::custom),
            }
        }
    }

    /// The same for an `Option<DateTime<Utc>>` (`null` for none).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapped(#[serde(with = "super")] DateTime<Utc>);
            Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(t)| t))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct At {
        #[serde(with = "rfc3339")]
        at: DateTime<Utc>,
        #[serde(with = "rfc3339::option", default)]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct ChronoAt {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn reads_what_chrono_reads_and_refuses_what_it_refuses() {
        for text in [
            "2026-11-25T05:30:00Z",
            "2026-11-25T05:30:00.123456789Z",
            "2026-11-25 05:30:00.5+02:00",
            "2026-11-25T05:30:00+00:00",
            "2026-11-25T05:30:00 UTC",
        ] {
            let json = serde_json::json!({ "at": text, "maybe": text });
            let chrono: DateTime<Utc> = serde_json::from_value(json["at"].clone()).unwrap();
            let read = serde_json::from_value::<At>(json).unwrap();
            assert_eq!((read.at, read.maybe), (chrono, Some(chrono)), "{text}");
        }
        for bad in ["yesterday", "2026-13-01T00:00:00Z", ""] {
            let json = serde_json::json!({ "at": bad });
            assert!(serde_json::from_value::<At>(json).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<At>(serde_json::json!({ "at": 7 })).is_err());
        let none = serde_json::json!({ "at": "2026-11-25T05:30:00Z", "maybe": null });
        assert_eq!(serde_json::from_value::<At>(none).unwrap().maybe, None);
    }

    proptest! {
        /// Whatever the time, including leap seconds and years past 9999, the text is the
        /// one chrono writes, and it reads back as the same time.
        #[test]
        fn times_are_written_as_chrono_writes_them(
            seconds in -62_000_000_000i64..260_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1000, (0u32..1000).prop_map(|n| n * 1_000_000),
                (0u32..1_000_000).prop_map(|n| n * 1000), 0u32..2_000_000_000],
            some in any::<bool>(),
        ) {
            let Some(t) = DateTime::<Utc>::from_timestamp(seconds, nanos) else {
                return Ok(());
            };
            let maybe = some.then_some(t);
            let ours = serde_json::to_string(&At { at: t, maybe }).unwrap();
            prop_assert_eq!(&ours, &serde_json::to_string(&ChronoAt { at: t, maybe }).unwrap());
            prop_assert_eq!(serde_json::from_str::<At>(&ours).unwrap(), At { at: t, maybe });
        }
    }
}
