//! Events produced by the auth context.

use super::EventPayload;
use crate::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// CUD: a user was created. Carries the whole record so consumers can keep a copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
}

/// CUD: a user changed (role, name, e-mail, active flag). Carries the whole new record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub user_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
}

impl EventPayload for UserCreated {
    const NAME: &'static str = "UserCreated";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "auth";
}

impl EventPayload for UserUpdated {
    const NAME: &'static str = "UserUpdated";
    const VERSION: u32 = 1;
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
        }
    }
}
