//! One outbox row as a message body: its source, its sequence number and its six columns
//! exactly as stored (a damaged row travels damaged, and is parked by the consumer as in
//! embedded mode, rather than being lost on the way).

use rusqlite::types::Value;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value as Json;

/// The columns after `seq`, in the order `LoggedEvent::from_row` reads them.
pub const COLUMNS: &str = "event_id, event_name, event_version, event_time, producer, data";

#[derive(Debug, Clone, PartialEq)]
pub struct WireEvent {
    pub source: String,
    /// The producer's identity (see `relay`): one writer per source.
    pub producer_id: String,
    pub seq: i64,
    pub columns: Vec<Value>,
}

/// A message body as it is written: serialized straight from the row's values, without a
/// `serde_json::Value` tree per message or a `format!` per blob byte (an earlier profile put
/// a quarter of the relay's time in those).
#[derive(Serialize)]
struct Outgoing<'a> {
    source: &'a str,
    producer_id: &'a str,
    seq: i64,
    columns: Columns<'a>,
}

/// A message body as it is read: the envelope typed, the columns left for [`from_json`]
/// to read one by one (a damaged column must not make the whole message unreadable).
#[derive(Deserialize)]
struct Incoming {
    source: String,
    producer_id: String,
    seq: i64,
    #[serde(default)]
    columns: Json,
}

impl WireEvent {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&Outgoing {
            source: &self.source,
            producer_id: &self.producer_id,
            seq: self.seq,
            columns: Columns(&self.columns),
        })
        .expect("a row's values serialize to JSON")
    }

    /// `None` for a body that is not an event message at all. A message whose source,
    /// producer and sequence number are readable but whose columns are not is an event
    /// that travelled damaged: its columns come back empty, so the consumer parks it as
    /// a dead letter instead of the sequence having a hole for good.
    pub fn decode(body: &[u8]) -> Option<WireEvent> {
        let message: Incoming = serde_json::from_slice(body).ok()?;
        if message.seq <= 0 || message.source.is_empty() || message.producer_id.is_empty() {
            return None;
        }
        let columns = match message.columns {
            Json::Array(columns) => columns.into_iter().map(from_json).collect(),
            _ => None,
        }
        .filter(|columns: &Vec<Value>| columns.len() == 6)
        .unwrap_or_else(|| vec![Value::Null; 6]);
        Some(WireEvent {
            source: message.source,
            producer_id: message.producer_id,
            seq: message.seq,
            columns,
        })
    }
}

struct Columns<'a>(&'a [Value]);

impl Serialize for Columns<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Column))
    }
}

/// One column: null, integer and text as themselves; a real as `{"real": "<text>"}` (so
/// infinities and NaN travel too); a blob as `{"blob": "<hex>"}`.
struct Column<'a>(&'a Value);

impl Serialize for Column<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Integer(i) => serializer.serialize_i64(*i),
            Value::Text(t) => serializer.serialize_str(t),
            Value::Real(f) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("real", &f.to_string())?;
                map.end()
            }
            Value::Blob(b) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("blob", &hex(b))?;
                map.end()
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    text
}

fn from_json(value: Json) -> Option<Value> {
    Some(match value {
        Json::Null => Value::Null,
        Json::Number(n) => Value::Integer(n.as_i64()?),
        Json::String(s) => Value::Text(s),
        Json::Object(o) => {
            if let Some(f) = o.get("real") {
                Value::Real(f.as_str()?.parse().ok()?)
            } else {
                let hex = o.get("blob")?.as_str()?;
                if hex.len() % 2 != 0 {
                    return None;
                }
                Value::Blob(
                    (0..hex.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                        .collect::<Option<Vec<u8>>>()?,
                )
            }
        }
        Json::Bool(_) | Json::Array(_) => return None,
    })
}

#[cfg(test)]
impl WireEvent {
    /// A small event numbered `seq` of `source`, from its producer `<source>-1` (tests).
    pub(crate) fn sample(source: &str, seq: i64) -> WireEvent {
        WireEvent {
            source: source.into(),
            producer_id: format!("{source}-1"),
            seq,
            columns: vec![
                Value::Blob(uuid::Uuid::now_v7().as_bytes().to_vec()),
                Value::Text("E".into()),
                Value::Integer(1),
                Value::Text("t".into()),
                Value::Text(source.into()),
                Value::Text(format!(r#"{{"seq":{seq}}}"#)),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_column_survives_the_trip() {
        let event = WireEvent {
            source: "tracker".into(),
            producer_id: "p1".into(),
            seq: 42,
            columns: vec![
                Value::Blob(vec![0, 1, 0xfe, 0xff]),
                Value::Text("TaskAssigned".into()),
                Value::Integer(2),
                Value::Text("2026-11-25T00:00:00Z".into()),
                Value::Null,
                Value::Real(1.5),
            ],
        };
        assert_eq!(WireEvent::decode(&event.encode()), Some(event.clone()));
        let infinite = WireEvent {
            columns: vec![Value::Real(f64::INFINITY); 6],
            ..event
        };
        assert_eq!(WireEvent::decode(&infinite.encode()), Some(infinite));
    }

    #[test]
    fn the_body_is_json_with_blobs_in_hex_and_reals_as_text() {
        let event = WireEvent {
            source: "tracker".into(),
            producer_id: "p1".into(),
            seq: 7,
            columns: vec![
                Value::Blob(vec![0, 0x1a, 0xff]),
                Value::Text("Task\"Assigned".into()),
                Value::Integer(-2),
                Value::Real(f64::NAN),
                Value::Null,
                Value::Text("{}".into()),
            ],
        };
        assert_eq!(
            String::from_utf8(event.encode()).unwrap(),
            r#"{"source":"tracker","producer_id":"p1","seq":7,"columns":[{"blob":"001aff"},"Task\"Assigned",-2,{"real":"NaN"},null,"{}"]}"#
        );
        // As the relay wrote them before (keys in another order): still read.
        let older = br#"{"columns":[{"blob":"001aff"},"TaskAssigned",2,"t",null,"{}"],"producer_id":"p1","seq":7,"source":"tracker"}"#;
        assert_eq!(
            WireEvent::decode(older).unwrap().columns[0],
            Value::Blob(vec![0, 0x1a, 0xff])
        );
    }

    #[test]
    fn an_event_with_unreadable_columns_arrives_empty_to_be_parked() {
        let body = br#"{"source":"auth","producer_id":"p","seq":3,"columns":[{"blob":"zz"}]}"#;
        let event = WireEvent::decode(body).unwrap();
        assert_eq!((event.seq, event.columns), (3, vec![Value::Null; 6]));
    }

    #[test]
    fn what_is_not_an_event_is_recognised() {
        for body in [
            &b"not json"[..],
            br#"{"source":"auth","producer_id":"p","seq":0,"columns":[]}"#,
            br#"{"source":"auth","seq":1,"columns":[null,null,null,null,null,null]}"#,
            br#"{"producer_id":"p","seq":1,"columns":[null,null,null,null,null,null]}"#,
            br#"{"source":"","producer_id":"p","seq":1,"columns":[]}"#,
        ] {
            assert_eq!(
                WireEvent::decode(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
