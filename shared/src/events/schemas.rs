//! The schema registry: every event at every version has a JSON Schema file under
//! `shared/schemas/<producer>/<EventName>/<version>.json`, embedded here at build time.
//! The server compiles them once and validates each event's `data` before it is written
//! and before it is applied.

/// One registered schema.
#[derive(Debug, Clone, Copy)]
pub struct SchemaFile {
    pub producer: &'static str,
    pub event_name: &'static str,
    pub version: u32,
    pub json: &'static str,
}

macro_rules! schema {
    ($producer:literal, $name:literal, $version:literal) => {
        SchemaFile {
            producer: $producer,
            event_name: $name,
            version: $version,
            json: include_str!(concat!(
                "../../schemas/",
                $producer,
                "/",
                $name,
                "/",
                $version,
                ".json"
            )),
        }
    };
}

/// Every schema the system knows. A new event or version adds its file and a line here.
pub const REGISTRY: &[SchemaFile] = &[
    schema!("auth", "UserCreated", 1),
    schema!("auth", "UserUpdated", 1),
    schema!("auth", "UserCreated", 2),
    schema!("auth", "UserUpdated", 2),
    schema!("tracker", "TaskCreated", 1),
    schema!("tracker", "TaskCreated", 2),
    schema!("tracker", "TaskAssigned", 1),
    schema!("tracker", "TaskCompleted", 1),
    schema!("accounting", "TransactionApplied", 1),
    schema!("accounting", "TransactionApplied", 2),
    schema!("accounting", "DayClosed", 1),
    schema!("accounting", "PaymentMade", 1),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_json_and_registered_once() {
        let mut seen = std::collections::HashSet::new();
        for s in REGISTRY {
            let v: serde_json::Value = serde_json::from_str(s.json)
                .unwrap_or_else(|e| panic!("{} v{}: {e}", s.event_name, s.version));
            assert_eq!(v["type"], "object", "{} v{}", s.event_name, s.version);
            assert!(
                seen.insert((s.event_name, s.version)),
                "{} v{} twice",
                s.event_name,
                s.version
            );
        }
    }
}
