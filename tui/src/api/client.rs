//! A typed client for the aTES HTTP API v1. Every method returns the shared API types, so
//! the screens, the subcommands and the demo speak exactly what the server speaks.

use super::ApiError;
use ates_shared::api::{
    Account, AnalyticsEarnings, AnalyticsSummary, CloseDayResult, CreateUser, DeadLetter, Earnings,
    Entry, EventsStatus, LoginRequest, LoginResponse, MostExpensive, MyAccount, NewTask, Page,
    ReshuffleResult, Task, TaskCounts, TaskStatus, UpdateUser, User,
};
use chrono::NaiveDate;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use uuid::Uuid;

/// The page size the client asks for: the server's largest, so long lists take few requests.
const PAGE: u32 = 500;
/// Lists longer than this are cut: a terminal cannot show more, and memory stays bounded.
pub const MAX_ITEMS: usize = 100_000;

#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    /// The last answer to each GET with its `ETag`: a refetch that finds nothing new gets
    /// 304 and no body, and the kept answer is used.
    answers: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (String, String)>>>,
}

/// GET answers kept for conditional refetches (one per screen's query, roughly).
const KEPT_ANSWERS: usize = 64;

/// Which tasks to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    /// Only the caller's own tasks.
    pub mine: bool,
}

/// The periods the analytics "most expensive task" is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`); a trailing slash is ignored.
    pub fn new(base: &str, token: Option<String>) -> Client {
        let http = super::tls::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Client {
            http,
            base: normalize_base(base),
            token,
            answers: Default::default(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let is_get = method == Method::GET;
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let kept = if is_get { self.kept(path) } else { None };
        if let Some((tag, _)) = &kept {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let response = request.send().await?;
        let status = response.status();
        let tag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = match (status, kept) {
            (reqwest::StatusCode::NOT_MODIFIED, Some((_, text))) => text,
            _ => response.text().await?,
        };
        if !status.is_success() && status != reqwest::StatusCode::NOT_MODIFIED {
            return Err(ApiError::from_reply(status.as_u16(), &text));
        }
        if is_get && let Some(tag) = tag {
            self.keep(path, tag, &text);
        }
        serde_json::from_str(&text).map_err(|err| ApiError::Decode(err.to_string()))
    }

    fn kept(&self, path: &str) -> Option<(String, String)> {
        self.answers.lock().ok()?.get(path).cloned()
    }

    fn keep(&self, path: &str, tag: String, text: &str) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= KEPT_ANSWERS && !answers.contains_key(path) {
                answers.clear();
            }
            answers.insert(path.to_owned(), (tag, text.to_owned()));
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.send::<(), T>(Method::GET, path, None).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Every item of a paged list, following `next_cursor` (up to [`MAX_ITEMS`]).
    async fn all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ApiError> {
        Ok(self.first(path, MAX_ITEMS).await?.0)
    }

    /// The first `rows` items of a paged list, following `next_cursor`, and whether the
    /// server has more.
    async fn first<T: DeserializeOwned>(
        &self,
        path: &str,
        rows: usize,
    ) -> Result<(Vec<T>, bool), ApiError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let want = rows.saturating_sub(items.len()).clamp(1, PAGE as usize);
            let mut url = format!("{path}{separator}limit={want}");
            if let Some(cursor) = &cursor {
                url.push_str("&cursor=");
                url.push_str(&encode(cursor));
            }
            let page: Page<T> = self.get(&url).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) if items.len() < rows && Some(&next) != cursor.as_ref() => {
                    cursor = Some(next)
                }
                next => return Ok((items, next.is_some())),
            }
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<LoginResponse, ApiError> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        self.post("/api/v1/auth/login", &body).await
    }

    /// The board's first `query.rows` tasks, filtered and searched by the server, and
    /// whether it has more.
    pub async fn board(
        &self,
        query: &crate::app::event::BoardQuery,
    ) -> Result<(Vec<Task>, bool), ApiError> {
        let mut path = format!("/api/v1/tasks?q={}", encode(&query.search));
        if let Some(status) = query.status {
            path.push_str(&format!("&status={}", status.as_str()));
        }
        self.first(&path, query.rows).await
    }

    pub async fn meta(&self) -> Result<ates_shared::api::Meta, ApiError> {
        self.get("/api/v1/meta").await
    }

    pub async fn me(&self) -> Result<User, ApiError> {
        self.get("/api/v1/auth/me").await
    }

    pub async fn users(&self) -> Result<Vec<User>, ApiError> {
        self.all("/api/v1/users").await
    }

    pub async fn create_user(&self, user: &CreateUser) -> Result<User, ApiError> {
        self.post("/api/v1/users", user).await
    }

    pub async fn update_user(&self, id: Uuid, change: &UpdateUser) -> Result<User, ApiError> {
        self.send(Method::PATCH, &format!("/api/v1/users/{id}"), Some(change))
            .await
    }

    pub async fn tasks(&self, query: &TaskQuery) -> Result<Vec<Task>, ApiError> {
        let mut params = Vec::new();
        if let Some(status) = query.status {
            params.push(format!("status={}", status.as_str()));
        }
        if query.mine {
            params.push("assignee=me".to_owned());
        }
        let path = if params.is_empty() {
            "/api/v1/tasks".to_owned()
        } else {
            format!("/api/v1/tasks?{}", params.join("&"))
        };
        self.all(&path).await
    }

    /// How many tasks are open and done, without downloading them.
    pub async fn task_counts(&self) -> Result<TaskCounts, ApiError> {
        self.get("/api/v1/tasks/counts").await
    }

    pub async fn create_task(&self, task: &NewTask) -> Result<Task, ApiError> {
        self.post("/api/v1/tasks", task).await
    }

    pub async fn complete_task(&self, id: Uuid) -> Result<Task, ApiError> {
        self.post(
            &format!("/api/v1/tasks/{id}/complete"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn reshuffle(&self) -> Result<ReshuffleResult, ApiError> {
        self.post("/api/v1/tasks/reshuffle", &serde_json::json!({}))
            .await
    }

    pub async fn my_account(&self) -> Result<MyAccount, ApiError> {
        self.get("/api/v1/accounting/me").await
    }

    pub async fn accounts(&self) -> Result<Vec<Account>, ApiError> {
        self.all("/api/v1/accounting/accounts").await
    }

    /// Every ledger row of one task, oldest first (accountant, admin).
    pub async fn task_ledger(
        &self,
        task: Uuid,
    ) -> Result<Vec<ates_shared::api::LedgerRow>, ApiError> {
        self.get(&format!("/api/v1/accounting/tasks/{task}/ledger"))
            .await
    }

    /// The newest `query.rows` entries of a log (of one day, if given), and whether the
    /// server has older ones.
    pub async fn audit_log_rows(
        &self,
        query: &crate::app::event::LogQuery,
    ) -> Result<(Vec<Entry>, bool), ApiError> {
        let mut path = format!("/api/v1/accounting/accounts/{}/log", query.user);
        if let Some(day) = query.day {
            path.push_str(&format!("?date={day}"));
        }
        self.first(&path, query.rows).await
    }

    pub async fn audit_log(&self, user: Uuid) -> Result<Vec<Entry>, ApiError> {
        // The newest page is what a person reads; older history stays on the server.
        let page: Page<Entry> = self
            .get(&format!(
                "/api/v1/accounting/accounts/{user}/log?limit={PAGE}"
            ))
            .await?;
        Ok(page.items)
    }

    /// Earnings per day; without dates the server answers the last 30 days.
    pub async fn earnings(
        &self,
        range: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Earnings, ApiError> {
        match range {
            Some((from, to)) => {
                self.get(&format!("/api/v1/accounting/earnings?from={from}&to={to}"))
                    .await
            }
            None => self.get("/api/v1/accounting/earnings").await,
        }
    }

    /// One page of the ledger of every worker (or of `user`) over `[from, to]`, oldest first.
    pub async fn ledger_page(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        user: Option<Uuid>,
        cursor: Option<&str>,
    ) -> Result<Page<ates_shared::api::LedgerRow>, ApiError> {
        let mut path = format!("/api/v1/accounting/ledger?from={from}&to={to}&limit={PAGE}");
        if let Some(user) = user {
            path.push_str(&format!("&user={user}"));
        }
        if let Some(cursor) = cursor {
            path.push_str("&cursor=");
            path.push_str(&encode(cursor));
        }
        self.get(&path).await
    }

    pub async fn close_day(&self) -> Result<CloseDayResult, ApiError> {
        self.post("/api/v1/accounting/close-day", &serde_json::json!({}))
            .await
    }

    pub async fn events_status(&self) -> Result<EventsStatus, ApiError> {
        self.get("/api/v1/system/events").await
    }

    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, ApiError> {
        let page: Page<DeadLetter> = self
            .get(&format!("/api/v1/system/dead-letters?limit={PAGE}"))
            .await?;
        Ok(page.items)
    }

    pub async fn retry_dead_letter(&self, id: Uuid) -> Result<DeadLetter, ApiError> {
        self.post(
            &format!("/api/v1/system/dead-letters/{id}/retry"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn discard_dead_letter(
        &self,
        id: Uuid,
        reason: &str,
    ) -> Result<DeadLetter, ApiError> {
        self.post(
            &format!("/api/v1/system/dead-letters/{id}/discard"),
            &serde_json::json!({ "reason": reason }),
        )
        .await
    }

    pub async fn rebuild(
        &self,
        context: ates_shared::api::RebuildContext,
    ) -> Result<ates_shared::api::RebuildStatus, ApiError> {
        self.post(
            "/api/v1/system/rebuild",
            &ates_shared::api::RebuildRequest { context },
        )
        .await
    }

    pub async fn analytics_summary(&self, date: NaiveDate) -> Result<AnalyticsSummary, ApiError> {
        self.get(&format!("/api/v1/analytics/summary?date={date}"))
            .await
    }

    pub async fn analytics_earnings(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<AnalyticsEarnings, ApiError> {
        self.get(&format!("/api/v1/analytics/earnings?from={from}&to={to}"))
            .await
    }

    /// The most expensive task completed in `[from, to]`.
    pub async fn most_expensive_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<MostExpensive, ApiError> {
        self.get(&format!(
            "/api/v1/analytics/most-expensive?from={from}&to={to}"
        ))
        .await
    }

    pub async fn most_expensive(
        &self,
        period: Period,
        date: NaiveDate,
    ) -> Result<MostExpensive, ApiError> {
        self.get(&format!(
            "/api/v1/analytics/most-expensive?period={}&date={date}",
            period.as_str()
        ))
        .await
    }
}

/// `localhost:8080` -> `http://localhost:8080`; no trailing slash.
pub fn normalize_base(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    if base.starts_with("http://") || base.starts_with("https://") {
        base.to_owned()
    } else {
        format!("http://{base}")
    }
}

/// Percent-encodes a cursor for a query string (cursors are opaque to the client).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_gets_a_scheme_and_loses_its_trailing_slash() {
        assert_eq!(normalize_base("localhost:8080/"), "http://localhost:8080");
        assert_eq!(
            normalize_base("https://ates.example"),
            "https://ates.example"
        );
    }

    #[test]
    fn cursors_are_percent_encoded() {
        assert_eq!(encode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }
}
