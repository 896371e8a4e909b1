use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every event travels in this envelope, whatever the transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_id: Uuid,
    pub event_name: String,
    pub event_version: u32,
    #[serde(with = "crate::time::rfc3339")]
    pub event_time: DateTime<Utc>,
    /// The context that wrote it: `auth`, `tracker`, `accounting`.
    pub producer: String,
    pub data: serde_json::Value,
}

/// A typed payload of one event at one version.
pub trait EventPayload: Serialize + DeserializeOwned {
    const NAME: &'static str;
    const VERSION: u32;
    /// The context that owns (produces) this event.
    const PRODUCER: &'static str;

    /// Wraps the payload in a fresh envelope (time-ordered UUIDv7 id).
    fn into_envelope(self, at: DateTime<Utc>) -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            event_name: Self::NAME.to_owned(),
            event_version: Self::VERSION,
            event_time: at,
            producer: Self::PRODUCER.to_owned(),
            data: serde_json::to_value(self).expect("event payloads serialize to JSON"),
        }
    }
}

impl Envelope {
    /// Whether this envelope carries event `P` at exactly `P`'s version.
    pub fn is<P: EventPayload>(&self) -> bool {
        self.event_name == P::NAME && self.event_version == P::VERSION
    }

    /// The payload as `P`; the caller has checked [`Envelope::is`].
    pub fn payload<P: EventPayload>(&self) -> Result<P, serde_json::Error> {
        P::deserialize(&self.data)
    }
}
