use ates_server::clock::{SharedClock, SystemClock};
use ates_server::http::AppState;
use ates_server::{Application, Config};
use ates_shared::Role;
use ates_shared::api::{EventsStatus, LoginResponse, Page, Task, User};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "admin-password";
pub const PASSWORD: &str = "popug-password";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin: String,
    pub state: AppState,
    dir: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A user made for a test, with a fresh token.
#[derive(Debug, Clone)]
pub struct Popug {
    pub user: User,
    pub token: String,
}

/// An HTTP client for the tests. In a workspace build reqwest carries rustls (the terminal
/// client's `https://`), which needs a crypto provider installed before a client is built.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_in(
            tempfile::tempdir().expect("temp dir"),
            true,
            Arc::new(SystemClock),
        )
        .await
    }

    /// Starts on `dir` (a restart when it holds data). `deliver_events: false` leaves
    /// every event waiting in its outbox.
    pub async fn spawn_in(dir: TempDir, deliver_events: bool, clock: SharedClock) -> TestApp {
        Self::spawn_configured(dir, clock, |config| config.deliver_events = deliver_events).await
    }

    /// Starts on `dir` with `clock` and whatever `adjust` changes in the test configuration.
    pub async fn spawn_configured(
        dir: TempDir,
        clock: SharedClock,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config::for_tests(dir.path().to_path_buf());
        adjust(&mut config);
        let app = Application::build(config, clock)
            .await
            .expect("application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let mut test = TestApp {
            base,
            client: http_client(),
            admin: String::new(),
            state,
            dir: Some(dir),
            stop: Some(stop),
            server: Some(server),
        };
        test.admin = test.login("admin", ADMIN_PASSWORD).await;
        test
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.as_ref().expect("data dir").path()
    }

    /// Stops the server gracefully and hands back its data directory.
    pub async fn stop(mut self) -> TempDir {
        let _ = self.stop.take().expect("running").send(());
        self.server
            .take()
            .expect("running")
            .await
            .expect("server task")
            .expect("server ran cleanly");
        self.dir.take().expect("data dir")
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.expect("body read");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// The sum of a counter's series in this server's `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        metric(&self.client, &self.base, name).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// GET that must succeed, parsed as `T`.
    pub async fn get_ok<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let (status, body) = self.get(path, token).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_value(body).expect("reply shape")
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        serde_json::from_value::<LoginResponse>(body)
            .expect("login reply")
            .token
    }

    /// The admin creates a user with `role`; the user logs in. Waits until every context knows them.
    pub async fn popug(&self, username: &str, role: Role) -> Popug {
        let (status, body) = self
            .post(
                "/api/v1/users",
                &self.admin,
                json!({"username": username, "password": PASSWORD, "full_name": format!("{username} Popug"),
                       "email": format!("{username}@popug.inc"), "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create {username}: {body}");
        let user: User = serde_json::from_value(body).expect("user");
        let token = self.login(username, PASSWORD).await;
        self.settle().await;
        Popug { user, token }
    }

    /// The admin changes a user (`PATCH /api/v1/users/{id}`).
    pub async fn patch_user(&self, id: uuid::Uuid, change: Value) -> (StatusCode, Value) {
        self.call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&self.admin),
            Some(change),
        )
        .await
    }

    /// `token`'s holder completes the task.
    pub async fn complete(&self, token: &str, task: uuid::Uuid) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/tasks/{task}/complete"), token, json!({}))
            .await
    }

    /// The next ten tasks all go to `user` (the only one who may take them).
    pub async fn assert_new_tasks_go_to(&self, user: uuid::Uuid) {
        for i in 0..10 {
            assert_eq!(
                self.create_task(&self.admin, &format!("t{i}"))
                    .await
                    .assignee
                    .id,
                user
            );
        }
    }

    /// A worker who holds one task and completed it, with everything applied: in profit,
    /// since a reward (>= $20) beats a fee (<= $20).
    pub async fn worker_in_profit(&self, name: &str) -> (Popug, Task) {
        let popug = self.popug(name, Role::Worker).await;
        let task = self
            .create_task(&popug.token, &format!("{name}'s job"))
            .await;
        let (status, body) = self.complete(&popug.token, task.id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.settle().await;
        (popug, task)
    }

    /// Waits until every consumer has applied every event (reads are then up to date).
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status: EventsStatus = self.get_ok("/api/v1/system/events", &self.admin).await;
            if status.caught_up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "consumers did not catch up: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls `probe` until it returns `Some`, for effects that happen in the background.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn create_task(&self, token: &str, title: &str) -> Task {
        let (status, body) = self
            .post("/api/v1/tasks", token, json!({"title": title}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "create task: {body}");
        serde_json::from_value(body).expect("task")
    }

    /// Every task on the board, following the cursor.
    pub async fn all_tasks(&self, token: &str, query: &str) -> Vec<Task> {
        let mut tasks = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/tasks?limit=500{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page: Page<Task> = self.get_ok(&path, token).await;
            tasks.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return tasks,
            }
        }
    }
}

/// The sum of a counter's series in the `/metrics` of the server at `base`.
pub async fn metric(client: &reqwest::Client, base: &str, name: &str) -> f64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
