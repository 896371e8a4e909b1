//! One outbox row as a message body: its source, its sequence number and its six columns
//! exactly as stored (a damaged row travels damaged, and is parked by the consumer as in
//! embedded mode, rather than being lost on the way).

use rusqlite::types::Value;
use serde_json::{Value as Json, json};

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

impl WireEvent {
    pub fn encode(&self) -> Vec<u8> {
        let columns: Vec<Json> = self.columns.iter().map(to_json).collect();
        json!({
            "source": self.source,
            "producer_id": self.producer_id,
            "seq": self.seq,
            "columns": columns,
        })
        .to_string()
        .into_bytes()
    }

    /// `None` for a body that is not an event message at all. A message whose source,
    /// producer and sequence number are readable but whose columns are not is an event
    /// that travelled damaged: its columns come back empty, so the consumer parks it as
    /// a dead letter instead of the sequence having a hole for good.
    pub fn decode(body: &[u8]) -> Option<WireEvent> {
        let value: Json = serde_json::from_slice(body).ok()?;
        let source = value.get("source")?.as_str()?.to_owned();
        let producer_id = value.get("producer_id")?.as_str()?.to_owned();
        let seq = value.get("seq")?.as_i64().filter(|s| *s > 0)?;
        if source.is_empty() || producer_id.is_empty() {
            return None;
        }
        let columns = value
            .get("columns")
            .and_then(Json::as_array)
            .and_then(|columns| columns.iter().map(from_json).collect::<Option<Vec<_>>>())
            .filter(|columns| columns.len() == 6)
            .unwrap_or_else(|| vec![Value::Null; 6]);
        Some(WireEvent {
            source,
            producer_id,
            seq,
            columns,
        })
    }
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Integer(i) => json!(i),
        // As text, so infinities and NaN travel too.
        Value::Real(f) => json!({ "real": f.to_string() }),
        Value::Text(t) => json!(t),
        Value::Blob(b) => {
            json!({ "blob": b.iter().map(|x| format!("{x:02x}")).collect::<String>() })
        }
    }
}

fn from_json(value: &Json) -> Option<Value> {
    Some(match value {
        Json::Null => Value::Null,
        Json::Number(n) => Value::Integer(n.as_i64()?),
        Json::String(s) => Value::Text(s.clone()),
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
