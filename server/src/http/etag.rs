//! Conditional GETs for the API's reads: every successful JSON answer carries a weak
//! `ETag` (a hash of the body), and a request whose `If-None-Match` names it gets 304 with
//! no body. Clients refetch their screen on every change of a context; most refetches find
//! nothing new for them, and then nothing crosses the network but headers.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Bodies larger than this are passed through untagged rather than held in memory.
const MAX_TAGGED_BODY: usize = 8 * 1024 * 1024;

pub async fn conditional_get(request: Request, next: Next) -> Response {
    let taggable = request.method() == Method::GET
        && request.uri().path().starts_with("/api/v1/")
        && request.uri().path() != "/api/v1/stream";
    let wanted = request.headers().get(IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    let remember = response.extensions_mut().remove::<Remember>();
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
    if let Some(Remember(asked)) = remember {
        asked.known.remember(asked.key, asked.commit, tag.clone());
    }
    parts.headers.insert(ETAG, tag);
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(CONTENT_TYPE);
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The tags of the answers a context served, each with the count of its database's commits
/// when its read began. A request naming a tag that is still the newest for its caller and
/// URI, with no commit since, is answered 304 before any read: the answer cannot have
/// changed, as a context's answers are made only of its own database. Clients refetch
/// their screens on every change anywhere; this makes the refetches of unchanged lists
/// cost a token check and a map look-up.
///
/// Only for answers that depend on nothing but the database, the caller and the URI (not
/// on the time of day: accounting's "today" would go stale without a commit). The writer
/// ticks the count just after each commit: in that sub-microsecond gap a request may still
/// get the 304 of the state before, as if it had come a moment earlier. The writer's own
/// caller is answered after the tick, and the change stream sends refetches after it.
pub struct KnownTags {
    commits: tokio::sync::watch::Receiver<u64>,
    tags: std::sync::Mutex<HashMap<u128, (u64, HeaderValue)>>,
    /// Keys are hashes of caller and URI, seeded per process so nobody can aim for a
    /// collision.
    seed: u64,
}

/// How many answers are remembered; past it, those from before the latest commit are
/// dropped, and if that is not enough, all.
const KNOWN_TAGS: usize = 16 * 1024;

/// A request's place among the [`KnownTags`]: what to remember its answer's tag under.
pub struct Asked {
    known: Arc<KnownTags>,
    key: u128,
    commit: u64,
}

impl KnownTags {
    /// `commits` ticks after each commit of the database the answers are read from.
    pub fn new(commits: tokio::sync::watch::Receiver<u64>) -> Arc<KnownTags> {
        Arc::new(KnownTags {
            commits,
            tags: std::sync::Mutex::default(),
            seed: rand::random(),
        })
    }

    /// `Err`: the 304 to answer now. `Ok`: read and answer through [`Asked::answer`].
    /// Call only once the caller is authenticated and allowed: a 304 skips everything after.
    pub fn ask(
        self: &Arc<Self>,
        caller: Uuid,
        uri: &Uri,
        IfNoneMatch(wanted): IfNoneMatch,
    ) -> Result<Asked, NotModified> {
        // Read before the read: a commit after this makes the tag remembered stale.
        let commit = *self.commits.borrow();
        let mut hasher = xxhash_rust::xxh3::Xxh3::with_seed(self.seed);
        hasher.update(caller.as_bytes());
        hasher.update(uri.path().as_bytes());
        hasher.update(b"?");
        hasher.update(uri.query().unwrap_or_default().as_bytes());
        let key = hasher.digest128();
        if let Some(wanted) = wanted {
            let known = self
                .tags
                .lock()
                .expect("known tags lock")
                .get(&key)
                .cloned();
            if let Some((at, tag)) = known
                && at == commit
                && names_tag(&wanted, &tag)
            {
                metrics::counter!("ates_http_not_modified_unread_total").increment(1);
                return Err(NotModified(tag));
            }
        }
        Ok(Asked {
            known: self.clone(),
            key,
            commit,
        })
    }

    fn remember(&self, key: u128, commit: u64, tag: HeaderValue) {
        let mut tags = self.tags.lock().expect("known tags lock");
        if tags.len() >= KNOWN_TAGS && !tags.contains_key(&key) {
            let newest = *self.commits.borrow();
            tags.retain(|_, (at, _)| *at == newest);
            if tags.len() >= KNOWN_TAGS {
                tags.clear();
            }
        }
        tags.insert(key, (commit, tag));
    }
}

impl Asked {
    /// The answer, marked so that [`conditional_get`] remembers its tag.
    pub fn answer(self, answer: impl IntoResponse) -> Response {
        let mut response = answer.into_response();
        response.extensions_mut().insert(Remember(Arc::new(self)));
        response
    }
}

/// The `If-None-Match` header, if any (taken alone: a `HeaderMap` extractor copies every header).
pub struct IfNoneMatch(pub Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(IfNoneMatch(parts.headers.get(IF_NONE_MATCH).cloned()))
    }
}

/// A response extension: the tag of this answer goes to `KnownTags`.
#[derive(Clone)]
struct Remember(Arc<Asked>);

fn names_tag(wanted: &HeaderValue, tag: &HeaderValue) -> bool {
    let tag = tag.as_bytes();
    wanted
        .to_str()
        .is_ok_and(|w| w.split(',').any(|t| t.trim().as_bytes() == tag))
}

/// A 304 for the tag the client holds.
#[derive(Debug)]
pub struct NotModified(HeaderValue);

impl IntoResponse for NotModified {
    fn into_response(self) -> Response {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(ETAG, self.0);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(tag: Option<&HeaderValue>) -> IfNoneMatch {
        IfNoneMatch(tag.cloned())
    }

    #[test]
    fn a_known_tag_is_answered_until_the_next_commit_and_only_for_its_caller_and_uri() {
        let (commits, receiver) = tokio::sync::watch::channel(0u64);
        let known = KnownTags::new(receiver);
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let uri: Uri = "/api/v1/tasks?assignee=me".parse().unwrap();
        let tag = HeaderValue::from_static("W/\"1234\"");
        let Ok(asked) = known.ask(ann, &uri, request(Some(&tag))) else {
            panic!("nothing is known yet");
        };
        known.remember(asked.key, asked.commit, tag.clone());
        let Err(fresh) = known.ask(ann, &uri, request(Some(&tag))) else {
            panic!("a known tag with no commit since");
        };
        let fresh = fresh.into_response();
        assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(fresh.headers()[ETAG], tag);
        assert!(known.ask(ann, &uri, request(None)).is_ok(), "no tag named");
        let other = HeaderValue::from_static("W/\"5678\"");
        assert!(known.ask(ann, &uri, request(Some(&other))).is_ok());
        assert!(
            known.ask(bob, &uri, request(Some(&tag))).is_ok(),
            "bob's own"
        );
        let board: Uri = "/api/v1/tasks".parse().unwrap();
        assert!(known.ask(ann, &board, request(Some(&tag))).is_ok());
        commits.send_replace(1);
        assert!(
            known.ask(ann, &uri, request(Some(&tag))).is_ok(),
            "a commit since: read again"
        );
    }

    #[test]
    fn a_tag_read_before_a_commit_is_not_trusted_after_it() {
        let (commits, receiver) = tokio::sync::watch::channel(0u64);
        let known = KnownTags::new(receiver);
        let (ann, uri) = (Uuid::now_v7(), "/api/v1/tasks".parse::<Uri>().unwrap());
        let tag = HeaderValue::from_static("W/\"1\"");
        let asked = known.ask(ann, &uri, request(None)).unwrap();
        // The read ran while a commit landed; its answer is remembered afterwards.
        commits.send_replace(1);
        known.remember(asked.key, asked.commit, tag.clone());
        assert!(known.ask(ann, &uri, request(Some(&tag))).is_ok());
    }

    #[test]
    fn the_map_stays_bounded() {
        let (commits, receiver) = tokio::sync::watch::channel(0u64);
        let known = KnownTags::new(receiver);
        let tag = HeaderValue::from_static("W/\"1\"");
        for i in 0..KNOWN_TAGS as u128 + 10 {
            if i == 100 {
                commits.send_replace(1);
            }
            known.remember(i, if i < 100 { 0 } else { 1 }, tag.clone());
        }
        let len = known.tags.lock().unwrap().len();
        assert!(len <= KNOWN_TAGS, "{len}");
        assert!(
            !known.tags.lock().unwrap().contains_key(&0),
            "stale ones go first"
        );
    }
}
