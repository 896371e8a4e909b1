//! The HTTP face of the server: one router merged from each context's routes, the shared
//! state, the OpenAPI description, and the extractors and error mapping all routes use.

pub mod error;
pub mod etag;
pub mod extract;
pub mod metrics;
pub(crate) mod openapi;
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
use axum::http::{HeaderName, Request};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Every request gets an id (or keeps the one the caller sent): it is in each log line of
/// the request and echoed in the response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler can reach: one `Arc`, as axum clones the state for each extractor
/// and layer that takes it, on every request. Cloned as the ~30 `Arc`s of the contexts
/// inside, it was 4 % of the CPU a login flood cost the server and 3 % more to drop, and
/// `/healthz` served 40k requests/s instead of 60k.
#[derive(Clone)]
pub struct AppState(Arc<Handles>);

impl AppState {
    pub fn new(handles: Handles) -> AppState {
        AppState(Arc::new(handles))
    }
}

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// The contexts and the server's own parts, behind [`AppState`].
pub struct Handles {
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
    /// Proxies (the split-mode gateway) whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
}

/// Every context's routes (embedded mode).
pub fn router(state: AppState) -> Router {
    router_for(state, None)
}

/// The routes of `only` (split mode: one context per process), or of every context; the
/// server's own routes and the event system's are in each.
pub fn router_for(state: AppState, only: Option<&str>) -> Router {
    let serves = |context: &str| only.is_none_or(|only| only == context);
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        .route("/api/v1/meta", get(meta))
        .route("/api-docs/openapi.json", get(openapi::serve))
        .route("/api/v1/stream", get(stream::stream))
        .merge(crate::events::routes::router());
    if serves("auth") {
        router = router.merge(crate::auth::routes::router());
    }
    if serves("tracker") {
        router = router.merge(crate::tracker::routes::router());
    }
    if serves("accounting") {
        router = router.merge(crate::accounting::routes::router());
    }
    if serves("analytics") {
        router = router.merge(crate::analytics::routes::router());
    }
    router
        .fallback(error::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(extract::BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(etag::conditional_get))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn(metrics::record))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// The company's time zone and today's date in it, for clients to show times and days as
/// the company sees them.
#[utoipa::path(get, path = "/api/v1/meta", tag = "server", security(("bearer" = [])),
    responses((status = 200, body = ates_shared::api::Meta)))]
pub async fn meta(
    axum::extract::State(state): axum::extract::State<AppState>,
    _caller: extract::Caller,
) -> Json<ates_shared::api::Meta> {
    Json(ates_shared::api::Meta {
        timezone: state.accounting.timezone().name().to_owned(),
        today: state.accounting.today(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Liveness: the server answers.
#[utoipa::path(get, path = "/healthz", tag = "server", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}
