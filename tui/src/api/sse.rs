//! The change stream (`GET /api/v1/stream`, Server-Sent Events): a parser for the wire
//! format and a task that keeps one connection open, reconnecting with backoff.

use super::client::normalize_base;
use ates_shared::api::Change;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// What the stream task reports to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    Connected,
    /// The stream dropped or could not be opened; the app polls until it is back.
    Disconnected(String),
    /// Something in this context (`auth`, `tracker`, `accounting`, `analytics`) changed.
    Changed(String),
}

/// One complete message of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage {
    pub event: String,
    pub data: String,
}

/// Splits the byte stream into messages. Bytes may arrive cut anywhere, even inside a
/// UTF-8 character, so whole lines are decoded only once they are complete.
#[derive(Debug, Default)]
pub struct SseParser {
    pending: Vec<u8>,
    event: String,
    data: Vec<String>,
}

impl SseParser {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        self.pending.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() || !self.event.is_empty() {
                    messages.push(SseMessage {
                        event: if self.event.is_empty() {
                            "message".to_owned()
                        } else {
                            std::mem::take(&mut self.event)
                        },
                        data: self.data.join("\n"),
                    });
                }
                self.event.clear();
                self.data.clear();
            } else if line.starts_with(':') {
                // A comment: the server's keep-alive.
            } else {
                let (field, value) = match line.split_once(':') {
                    Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                    None => (line, ""),
                };
                match field {
                    "event" => self.event = value.to_owned(),
                    "data" => self.data.push(value.to_owned()),
                    _ => {}
                }
            }
        }
        // A line longer than any real message means garbage: drop it rather than grow forever.
        if self.pending.len() > 1 << 20 {
            self.pending.clear();
        }
        messages
    }
}

/// The context a `change` message names, or `None` for anything else.
pub fn change_context(message: &SseMessage) -> Option<String> {
    if message.event != "change" {
        return None;
    }
    serde_json::from_str::<Change>(&message.data)
        .ok()
        .map(|change| change.context)
}

/// No byte for this long (the server sends a keep-alive every 15 s) means a dead connection.
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// Keeps the stream open until the receiver of `report` is gone (the app quit or logged out,
/// which aborts this task).
pub async fn follow<F>(
    base: String,
    token: String,
    report: UnboundedSender<F>,
    wrap: fn(StreamEvent) -> F,
) where
    F: Send + 'static,
{
    let http = super::tls::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let url = format!("{}/api/v1/stream", normalize_base(&base));
    let mut backoff = MIN_BACKOFF;
    loop {
        let reason = match http
            .get(&url)
            .bearer_auth(&token)
            .header("accept", "text/event-stream")
            .send()
            .await
        {
            Ok(response) if response.status().is_success() => {
                if report.send(wrap(StreamEvent::Connected)).is_err() {
                    return;
                }
                backoff = MIN_BACKOFF;
                read(response, &report, wrap).await
            }
            Ok(response) => format!("the stream answered HTTP {}", response.status().as_u16()),
            Err(err) => crate::api::ApiError::from(err).to_string(),
        };
        if report
            .send(wrap(StreamEvent::Disconnected(reason)))
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Reads messages until the connection ends; returns why it ended.
async fn read<F>(
    mut response: reqwest::Response,
    report: &UnboundedSender<F>,
    wrap: fn(StreamEvent) -> F,
) -> String {
    let mut parser = SseParser::default();
    loop {
        match tokio::time::timeout(IDLE_TIMEOUT, response.chunk()).await {
            Err(_) => return "the stream went quiet".to_owned(),
            Ok(Err(err)) => return crate::api::ApiError::from(err).to_string(),
            Ok(Ok(None)) => return "the server closed the stream".to_owned(),
            Ok(Ok(Some(bytes))) => {
                for message in parser.push(&bytes) {
                    if let Some(context) = change_context(&message)
                        && report.send(wrap(StreamEvent::Changed(context))).is_err()
                    {
                        return "stopped".to_owned();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_message_split_across_chunks_is_parsed_once_complete() {
        let mut parser = SseParser::default();
        assert!(parser.push(b"event: change\nda").is_empty());
        let messages = parser.push(b"ta: {\"context\":\"tracker\"}\n\n");
        assert_eq!(messages.len(), 1);
        assert_eq!(change_context(&messages[0]).as_deref(), Some("tracker"));
    }

    #[test]
    fn keep_alive_comments_and_crlf_lines_are_ignored() {
        let mut parser = SseParser::default();
        let messages =
            parser.push(b":\r\n\r\nevent: change\r\ndata: {\"context\":\"auth\"}\r\n\r\n");
        assert_eq!(messages.len(), 1);
        assert_eq!(change_context(&messages[0]).as_deref(), Some("auth"));
    }

    #[test]
    fn garbage_data_is_not_a_change() {
        let mut parser = SseParser::default();
        let messages = parser.push(b"event: change\ndata: not json\n\n");
        assert_eq!(change_context(&messages[0]), None);
    }
}
