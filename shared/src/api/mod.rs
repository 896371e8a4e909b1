//! The HTTP API v1 shapes (see the README's API section). Every request and reply body
//! the server speaks is one of these types, so the server and the client cannot drift apart.

mod accounting;
mod analytics;
mod auth;
mod stream;
mod system;
mod tracker;

pub use accounting::*;
pub use analytics::*;
pub use auth::*;
pub use stream::*;
pub use system::*;
pub use tracker::*;

use serde::{Deserialize, Serialize};

/// Default and largest page sizes of every list endpoint.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
pub const MAX_PAGE_LIMIT: u32 = 500;

/// The body of every non-2xx reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `title_contains_jira_id`.
    pub code: String,
    /// Human text; for bad input it names the offending field.
    pub message: String,
}

/// One page of a list. Pass `next_cursor` back as `?cursor=` for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=` of every list endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

/// `GET /api/v1/meta`: what clients need to show times and days as the company sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Meta {
    /// The company's IANA time zone: billing days end at its midnight.
    pub timezone: String,
    /// Today in that zone, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub today: chrono::NaiveDate,
    /// The server's version.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
}
