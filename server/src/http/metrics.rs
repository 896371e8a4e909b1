//! `GET /metrics` in Prometheus's text format: requests and latencies by route (recorded by
//! a middleware), and, read when scraped, every consumer's lag, parked dead letters and
//! payout e-mails not yet sent. Login throttles are counted where they happen.

use super::AppState;
use crate::db::DbError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The process's one recorder (metrics are process-wide; tests run several servers).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            )
            .expect("bucket list is not empty")
            .install_recorder()
            .expect("the only metrics recorder of the process")
    })
}

/// Counts every request and times it, labelled by the route's pattern (never the raw
/// path, so ids do not multiply the series).
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    // Only the standard methods: any other token a client sends is one series, not many.
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("ates_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("ates_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Prometheus scrape endpoint.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn serve(State(state): State<AppState>) -> Response {
    if let Err(e) = observe(&state).await {
        tracing::warn!(error = %e, "metrics: reading the event state failed");
    }
    let handle = handle();
    handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Gauges read from the databases when scraped.
async fn observe(state: &AppState) -> anyhow::Result<()> {
    let status = state.events.status().await?;
    for c in &status.consumers {
        let consumer = c.consumer.clone();
        metrics::gauge!("ates_consumer_lag_events", "consumer" => consumer.clone())
            .set(c.lag as f64);
        metrics::gauge!("ates_consumer_position", "consumer" => consumer.clone())
            .set(c.position as f64);
        metrics::gauge!("ates_dead_letters_parked", "consumer" => consumer)
            .set(c.dead_letters as f64);
    }
    let pending: i64 = state
        .accounting
        .db()
        .read(|conn| {
            conn.query_row(
                "SELECT count(*) FROM payments WHERE mail_status != 'sent'",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .await?;
    metrics::gauge!("ates_payout_emails_pending").set(pending as f64);
    Ok(())
}
