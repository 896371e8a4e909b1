//! The HTTP face of the server: one router merged from each context's routes, the shared
//! state, the OpenAPI description, and the extractors and error mapping all routes use.

pub mod error;
pub mod extract;
mod openapi;
mod stream;

use crate::accounting::Accounting;
use crate::analytics::Analytics;
use crate::auth::Auth;
use crate::auth::token::Tokens;
use crate::clock::SharedClock;
use crate::db::Db;
use crate::events::EventSystem;
use crate::tracker::Tracker;
use ates_shared::api::Health;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub auth: Auth,
    pub accounting: Accounting,
    pub analytics: Analytics,
    pub tracker: Tracker,
    pub events: EventSystem,
    pub tokens: Arc<Tokens>,
    /// Every request's current role and active flag (see `tracker::access`).
    pub access: Arc<crate::tracker::access::Access>,
    pub clock: SharedClock,
    /// Each context's name and database, for the change stream.
    pub contexts: Arc<Vec<(String, Db)>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api-docs/openapi.json", get(openapi::serve))
        .route("/api/v1/stream", get(stream::stream))
        .merge(crate::auth::routes::router())
        .merge(crate::tracker::routes::router())
        .merge(crate::accounting::routes::router())
        .merge(crate::analytics::routes::router())
        .merge(crate::events::routes::router())
        .fallback(error::not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness: the server answers.
#[utoipa::path(get, path = "/healthz", tag = "server", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}
