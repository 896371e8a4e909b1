//! `GET /api/v1/stream`: a Server-Sent Events stream that says which context changed, so
//! clients refresh what they show within moments instead of polling.

use super::AppState;
use super::extract::Caller;
use ates_shared::api::Change;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt, StreamMap};

/// At most this many change messages per context per second reach a client; bursts of
/// commits in between collapse into one message.
const PER_CONTEXT_INTERVAL: Duration = Duration::from_millis(250);

/// Change notifications (event `change`, data `{"context": "tracker"}`) for any logged-in user.
#[utoipa::path(get, path = "/api/v1/stream", tag = "server", security(("bearer" = [])),
    responses((status = 200, description = "`change` events", content_type = "text/event-stream", body = Change)))]
pub async fn stream(
    State(state): State<AppState>,
    _caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = StreamMap::new();
    for (context, db) in state.contexts.iter() {
        let ticks = WatchStream::from_changes(db.commits()).throttle(PER_CONTEXT_INTERVAL);
        changes.insert(context.clone(), Box::pin(ticks));
    }
    let events = changes.map(|(context, _)| {
        Ok(Event::default()
            .event("change")
            .json_data(Change { context })
            .unwrap_or_else(|_| Event::default().event("change")))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
