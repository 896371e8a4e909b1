//! `ates-server gateway`: the one URL clients use in split mode. Each route goes to the
//! service that owns it (through axum-reverse-proxy); what spans services is merged here:
//! the event system's status and dead letters, the change stream, and health. The gateway
//! holds no data and checks no tokens: every service checks its callers itself.

use crate::config::ContextName;
use ates_shared::api::{DeadLetter, EventsStatus, Page};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_reverse_proxy::{ProxyPolicy, ReverseProxy, XForwardedFor};
use futures_util::StreamExt as _;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// Bodies the gateway reads to merge or route (JSON answers and small requests).
const MERGE_LIMIT: usize = 8 * 1024 * 1024;

type Proxy = ReverseProxy<hyper_util::client::legacy::connect::HttpConnector>;

/// The services behind the gateway, by context.
pub struct Upstreams {
    proxies: BTreeMap<&'static str, Proxy>,
}

impl Upstreams {
    /// `(context, base URL)` for each service; every context must be given once.
    pub fn new(upstreams: &[(ContextName, String)]) -> anyhow::Result<Upstreams> {
        let mut proxies = BTreeMap::new();
        for (context, url) in upstreams {
            let parsed: axum::http::Uri = url
                .parse()
                .map_err(|e| anyhow::anyhow!("--upstream {}={url}: {e}", context.as_str()))?;
            anyhow::ensure!(
                parsed.scheme_str() == Some("http"),
                "--upstream {}={url}: the gateway reaches services over http:// (put TLS in front of the gateway)",
                context.as_str()
            );
            anyhow::ensure!(
                parsed.authority().is_some(),
                "--upstream {}={url}: give a URL like http://127.0.0.1:8081",
                context.as_str()
            );
            // The client's address travels in X-Forwarded-For: auth throttles logins by it.
            let proxy = ReverseProxy::new("", url.trim_end_matches('/'))
                .with_policy(ProxyPolicy::new().with_x_forwarded_for(XForwardedFor::Append));
            anyhow::ensure!(
                proxies.insert(context.as_str(), proxy).is_none(),
                "--upstream {} is given twice",
                context.as_str()
            );
        }
        for context in ["auth", "tracker", "accounting", "analytics"] {
            anyhow::ensure!(
                proxies.contains_key(context),
                "no --upstream {context}=URL: the gateway needs all four services"
            );
        }
        Ok(Upstreams { proxies })
    }

    fn get(&self, context: &str) -> &Proxy {
        &self.proxies[context]
    }
}

/// Serves the gateway on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    upstreams: Upstreams,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let router = router(Arc::new(upstreams));
    tracing::info!(address = %listener.local_addr()?, "aTES gateway is listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

pub fn router(upstreams: Arc<Upstreams>) -> Router {
    Router::new().fallback(route).with_state(upstreams)
}

/// The service that owns a path, for everything not merged.
fn owner(path: &str) -> Option<&'static str> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    Some(if under("/api/v1/auth") || under("/api/v1/users") {
        "auth"
    } else if under("/api/v1/tasks") {
        "tracker"
    } else if under("/api/v1/accounting") || path == "/api/v1/meta" {
        // The company's day is accounting's (billing days end at its midnight).
        "accounting"
    } else if under("/api/v1/analytics") {
        "analytics"
    } else if path == "/api-docs/openapi.json" {
        // Every service describes the whole API.
        "auth"
    } else {
        return None;
    })
}

async fn route(State(up): State<Arc<Upstreams>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if let Some(context) = owner(&path) {
        return forward(up.get(context), request).await;
    }
    match (method, path.as_str()) {
        (Method::GET, "/healthz") => health(&up).await,
        (Method::GET, "/api/v1/stream") => stream(&up, request).await,
        (Method::GET, "/api/v1/system/events") => events_status(&up, request).await,
        (Method::GET, "/api/v1/system/dead-letters") => dead_letters(&up, request).await,
        (Method::POST, "/api/v1/system/rebuild") => rebuild(&up, request).await,
        (Method::POST, p) if p.starts_with("/api/v1/system/consumers/") => {
            // A consumer's name starts with the service it lives in (`accounting.tracker`,
            // `analytics.access.auth`).
            let service = p
                .trim_start_matches("/api/v1/system/consumers/")
                .split(['.', '/'])
                .next()
                .unwrap_or_default();
            match up.proxies.get(service) {
                Some(proxy) => forward(proxy, request).await,
                None => error(
                    StatusCode::NOT_FOUND,
                    "unknown_consumer",
                    "no such consumer",
                ),
            }
        }
        (Method::POST, p) if p.starts_with("/api/v1/system/dead-letters/") => {
            first_found(&up, request).await
        }
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such route"),
    }
}

async fn forward(proxy: &Proxy, request: Request) -> Response {
    match proxy.proxy_request(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// A GET of `path_and_query` to one service with the caller's credentials.
async fn get_from(proxy: &Proxy, headers: &HeaderMap, path_and_query: &str) -> Response {
    let mut request = Request::new(Body::empty());
    *request.uri_mut() = path_and_query.parse().unwrap_or_default();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, auth.clone());
    }
    forward(proxy, request).await
}

/// The same GET to every service; the first failure (e.g. 401, 403, a service down) is
/// the answer, else each JSON body.
async fn get_all<T: serde::de::DeserializeOwned>(
    up: &Upstreams,
    request: Request,
) -> Result<Vec<T>, Response> {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = request.headers().clone();
    drop(request);
    let answers = futures_util::future::join_all(
        up.proxies
            .values()
            .map(|proxy| get_from(proxy, &headers, &path)),
    )
    .await;
    let mut bodies = Vec::new();
    for answer in answers {
        if !answer.status().is_success() {
            return Err(answer);
        }
        let bytes = axum::body::to_bytes(answer.into_body(), MERGE_LIMIT)
            .await
            .map_err(|e| error(StatusCode::BAD_GATEWAY, "bad_gateway", &e.to_string()))?;
        bodies.push(
            serde_json::from_slice(&bytes)
                .map_err(|e| error(StatusCode::BAD_GATEWAY, "bad_gateway", &e.to_string()))?,
        );
    }
    Ok(bodies)
}

async fn events_status(up: &Upstreams, request: Request) -> Response {
    match get_all::<EventsStatus>(up, request).await {
        Err(response) => response,
        Ok(all) => axum::Json(merge_status(all)).into_response(),
    }
}

/// Every service's status as one. A consumer's head is what has reached its service; the
/// producing service says where its log really ends, so events still in the relay or the
/// broker count as lag, and `caught_up` means every event written has been applied.
fn merge_status(all: Vec<EventsStatus>) -> EventsStatus {
    let mut merged = EventsStatus {
        consumers: Vec::new(),
        caught_up: true,
        rebuilds: Vec::new(),
        logs: Vec::new(),
    };
    for status in all {
        merged.caught_up &= status.caught_up;
        merged.consumers.extend(status.consumers);
        merged.rebuilds.extend(status.rebuilds);
        merged.logs.extend(status.logs);
    }
    for consumer in &mut merged.consumers {
        if let Some(log) = merged.logs.iter().find(|l| l.source == consumer.source) {
            consumer.head = consumer.head.max(log.head);
            consumer.lag = (consumer.head - consumer.position).max(0);
        }
    }
    merged.caught_up &= merged.consumers.iter().all(|c| c.lag == 0);
    merged.consumers.sort_by(|a, b| a.consumer.cmp(&b.consumer));
    merged.logs.sort_by(|a, b| a.source.cmp(&b.source));
    merged
}

/// Each service's page after the same cursor, merged newest first (ids are time-ordered)
/// and cut to the page size; the next cursor is the last id shown while any service has
/// more.
async fn dead_letters(up: &Upstreams, request: Request) -> Response {
    let limit = request
        .uri()
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "limit")
                .and_then(|(_, v)| v.parse::<usize>().ok())
        })
        .unwrap_or(50);
    match get_all::<Page<DeadLetter>>(up, request).await {
        Err(response) => response,
        Ok(pages) => {
            let more = pages.iter().any(|p| p.next_cursor.is_some());
            let mut items: Vec<DeadLetter> = pages.into_iter().flat_map(|p| p.items).collect();
            items.sort_by_key(|d| std::cmp::Reverse(d.id));
            let cut = items.len() > limit;
            items.truncate(limit);
            let next_cursor = (more || cut)
                .then(|| items.last().map(|d| d.id.to_string()))
                .flatten();
            axum::Json(Page { items, next_cursor }).into_response()
        }
    }
}

/// A dead letter lives in one service, unknown here: each is asked in turn until one
/// knows it.
async fn first_found(up: &Upstreams, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MERGE_LIMIT).await {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &e.to_string(),
            );
        }
    };
    let mut last = error(StatusCode::NOT_FOUND, "not_found", "no service knows it");
    for proxy in up.proxies.values() {
        let request = Request::from_parts(parts.clone(), Body::from(body.clone()));
        let response = forward(proxy, request).await;
        if response.status() != StatusCode::NOT_FOUND {
            return response;
        }
        last = response;
    }
    last
}

/// `{"context": "accounting" | "analytics"}` goes to that service.
async fn rebuild(up: &Upstreams, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MERGE_LIMIT).await {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &e.to_string(),
            );
        }
    };
    let context = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("context")?.as_str().map(str::to_owned));
    let target = match context.as_deref() {
        Some("analytics") => "analytics",
        // Accounting also answers every malformed body, with the server's own message.
        _ => "accounting",
    };
    forward(up.get(target), Request::from_parts(parts, Body::from(body))).await
}

/// Up when every service answers its health check.
async fn health(up: &Upstreams) -> Response {
    let checks =
        futures_util::future::join_all(up.proxies.iter().map(|(name, proxy)| async move {
            let ok = get_from(proxy, &HeaderMap::new(), "/healthz")
                .await
                .status()
                .is_success();
            (*name, ok)
        }))
        .await;
    let down: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect();
    if down.is_empty() {
        axum::Json(ates_shared::api::Health {
            status: "ok".into(),
        })
        .into_response()
    } else {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_down",
            &format!("not answering: {}", down.join(", ")),
        )
    }
}

/// Every service's change stream as one: each announces its own context's changes. Events
/// are passed on whole (split at the blank line that ends each), never interleaved.
async fn stream(up: &Upstreams, request: Request) -> Response {
    let headers = request.headers().clone();
    drop(request);
    let answers = futures_util::future::join_all(
        up.proxies
            .values()
            .map(|proxy| get_from(proxy, &headers, "/api/v1/stream")),
    )
    .await;
    let mut streams = Vec::new();
    for answer in answers {
        if !answer.status().is_success() {
            return answer;
        }
        streams.push(whole_events(answer.into_body()).boxed());
    }
    let merged = futures_util::stream::select_all(streams);
    let mut response = Response::new(Body::from_stream(merged));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A body of server-sent events, re-chunked so each item is whole events.
fn whole_events(body: Body) -> impl futures_util::Stream<Item = Result<Bytes, axum::Error>> + Send {
    let mut pending: Vec<u8> = Vec::new();
    body.into_data_stream().filter_map(move |chunk| {
        let out = match chunk {
            Err(e) => Some(Err(e)),
            Ok(bytes) => {
                pending.extend_from_slice(&bytes);
                match pending.windows(2).rposition(|w| w == b"\n\n") {
                    Some(end) => {
                        let rest = pending.split_off(end + 2);
                        Some(Ok(Bytes::from(std::mem::replace(&mut pending, rest))))
                    }
                    None => None,
                }
            }
        };
        std::future::ready(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_still_on_their_way_count_as_lag() {
        use ates_shared::api::{ConsumerStatus, LogHead};
        let consumer = |name: &str, source: &str, at: i64| ConsumerStatus {
            consumer: name.into(),
            source: source.into(),
            position: at,
            head: at,
            lag: 0,
            dead_letters: 0,
        };
        let status = |consumers, logs| EventsStatus {
            consumers,
            caught_up: true,
            rebuilds: Vec::new(),
            logs,
        };
        let merged = merge_status(vec![
            status(
                vec![consumer("accounting.tracker", "tracker", 10)],
                vec![LogHead {
                    source: "accounting".into(),
                    head: 4,
                }],
            ),
            status(
                vec![consumer("tracker.auth", "auth", 3)],
                vec![LogHead {
                    source: "tracker".into(),
                    head: 12,
                }],
            ),
        ]);
        let accounting = &merged.consumers[0];
        assert_eq!((accounting.head, accounting.lag), (12, 2));
        assert!(
            !merged.caught_up,
            "two tracker events are still on their way"
        );
    }

    #[test]
    fn each_route_goes_to_its_owner() {
        assert_eq!(owner("/api/v1/auth/login"), Some("auth"));
        assert_eq!(owner("/api/v1/users/abc"), Some("auth"));
        assert_eq!(owner("/api/v1/usersx"), None);
        assert_eq!(owner("/api/v1/tasks"), Some("tracker"));
        assert_eq!(owner("/api/v1/tasks/x/complete"), Some("tracker"));
        assert_eq!(owner("/api/v1/accounting/ledger"), Some("accounting"));
        assert_eq!(owner("/api/v1/analytics/summary"), Some("analytics"));
        assert_eq!(owner("/api/v1/system/events"), None, "merged");
        assert_eq!(owner("/api/v1/stream"), None, "merged");
    }
}
