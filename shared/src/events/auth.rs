//! Events produced by the auth context.

use super::{Envelope, EventPayload};
use crate::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// CUD, version 2 (current): a user was created. Carries the whole record so consumers can
/// keep a copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// The record's version: 1 at creation, one more with every change. A copy only ever
    /// moves forward, so a late or replayed older event never undoes a newer one.
    pub version: u32,
    /// The version at which the role or the active flag last changed. Tokens carry it: one
    /// minted before such a change is refused.
    pub access_version: u32,
}

/// CUD, version 2 (current): a user changed (role, name, e-mail, active flag). Carries the
/// whole new record, in the same shape as [`UserCreated`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub user_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub version: u32,
    pub access_version: u32,
}

/// Version 1 (historic) of both user events: the record without versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecordV1 {
    pub user_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
}

impl EventPayload for UserCreated {
    const NAME: &'static str = "UserCreated";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "auth";
}

impl EventPayload for UserUpdated {
    const NAME: &'static str = "UserUpdated";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "auth";
}

impl From<UserCreated> for UserUpdated {
    fn from(u: UserCreated) -> Self {
        UserUpdated {
            user_id: u.user_id,
            username: u.username,
            full_name: u.full_name,
            email: u.email,
            role: u.role,
            active: u.active,
            version: u.version,
            access_version: u.access_version,
        }
    }
}

impl From<UserRecordV1> for UserUpdated {
    /// Upcast: version 1 carried no versions. Version 0 sorts before every versioned
    /// record, so a copy applies v1 events in log order and none after a v2 one.
    fn from(v1: UserRecordV1) -> Self {
        UserUpdated {
            user_id: v1.user_id,
            username: v1.username,
            full_name: v1.full_name,
            email: v1.email,
            role: v1.role,
            active: v1.active,
            version: 0,
            access_version: 0,
        }
    }
}

impl UserUpdated {
    /// Reads any version of `UserCreated` or `UserUpdated` as the newest record.
    /// `Ok(None)` when the envelope is not a user event.
    pub fn from_envelope(env: &Envelope) -> Result<Option<UserUpdated>, serde_json::Error> {
        let is_user_event = env.producer == "auth"
            && (env.event_name == UserCreated::NAME || env.event_name == UserUpdated::NAME);
        if !is_user_event {
            return Ok(None);
        }
        match env.event_version {
            1 => serde_json::from_value::<UserRecordV1>(env.data.clone()).map(|v1| Some(v1.into())),
            _ => serde_json::from_value::<UserUpdated>(env.data.clone()).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(name: &str, version: u32, data: serde_json::Value) -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            event_name: name.into(),
            event_version: version,
            event_time: chrono::Utc::now(),
            producer: "auth".into(),
            data,
        }
    }

    #[test]
    fn v1_records_upcast_to_version_zero_and_v2_keep_theirs() {
        let id = Uuid::now_v7();
        let v1 = json!({"user_id": id, "username": "ann", "full_name": "Ann", "email": "a@b.c",
            "role": "worker", "active": true});
        let got = UserUpdated::from_envelope(&envelope("UserCreated", 1, v1))
            .unwrap()
            .unwrap();
        assert_eq!((got.user_id, got.version, got.access_version), (id, 0, 0));
        let mut v2 = serde_json::to_value(&got).unwrap();
        v2["version"] = json!(4);
        v2["access_version"] = json!(3);
        let got = UserUpdated::from_envelope(&envelope("UserUpdated", 2, v2))
            .unwrap()
            .unwrap();
        assert_eq!((got.version, got.access_version), (4, 3));
        assert!(
            UserUpdated::from_envelope(&envelope("TaskCreated", 2, json!({})))
                .unwrap()
                .is_none()
        );
    }
}
