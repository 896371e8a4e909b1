//! Conditional GETs for the API's reads: every successful JSON answer carries a weak
//! `ETag` (a hash of the body), and a request whose `If-None-Match` names it gets 304 with
//! no body. Clients refetch their screen on every change of a context; most refetches find
//! nothing new for them, and then nothing crosses the network but headers.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Bodies larger than this are passed through untagged rather than held in memory.
const MAX_TAGGED_BODY: usize = 8 * 1024 * 1024;

pub async fn conditional_get(request: Request, next: Next) -> Response {
    let taggable = request.method() == Method::GET
        && request.uri().path().starts_with("/api/v1/")
        && request.uri().path() != "/api/v1/stream";
    let wanted = request.headers().get(IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !taggable || response.status() != StatusCode::OK || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Only bodies known to be small are held to be hashed; others pass through untagged.
    let small = axum::body::HttpBody::size_hint(&body)
        .upper()
        .is_some_and(|upper| upper <= MAX_TAGGED_BODY as u64);
    if !small {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED_BODY).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "reading the response failed",
        )
            .into_response();
    };
    // xxh3: a page of 16 KB hashes in about a microsecond (SipHash took ten); 128 bits
    // make two different bodies with one tag out of the question.
    let tag = format!("W/\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(&bytes));
    let Ok(tag) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let matches = wanted.as_ref().is_some_and(|wanted| {
        wanted
            .to_str()
            .is_ok_and(|w| w.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    });
    parts.headers.insert(ETAG, tag);
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(CONTENT_TYPE);
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}
