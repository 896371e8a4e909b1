use serde::{Deserialize, Serialize};

/// One message of the change stream `GET /api/v1/stream` (Server-Sent Events, event name
/// `change`): something in `context` changed; a client refetches what it shows from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// `auth`, `tracker`, `accounting` or `analytics`.
    pub context: String,
}
