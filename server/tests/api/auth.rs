use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp};
use ates_shared::Role;
use ates_shared::api::User;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_first_start_creates_the_admin_who_can_log_in() {
    let app = TestApp::spawn().await;
    let me: User = app.get_ok("/api/v1/auth/me", &app.admin).await;
    assert_eq!(
        (me.username.as_str(), me.role, me.active),
        ("admin", Role::Admin, true)
    );
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_gets_401() {
    let app = TestApp::spawn().await;
    for (username, password) in [("admin", "nope-nope"), ("ghost", ADMIN_PASSWORD)] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test]
async fn a_taken_username_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.popug("ann", Role::Worker).await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": "ann", "password": PASSWORD, "full_name": "Another Ann", "email": "a@b.c", "role": "worker"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "username_taken");
}

#[tokio::test]
async fn a_deactivated_user_cannot_log_in() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let (status, body) = app.patch_user(ann.user.id, json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "ann", "password": PASSWORD})),
        )
        .await;
    // The same answer as a wrong password: a login says nothing about an account's state.
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_deactivated() {
    let app = TestApp::spawn().await;
    let me: User = app.get_ok("/api/v1/auth/me", &app.admin).await;
    for change in [json!({"role": "worker"}), json!({"active": false})] {
        let (status, body) = app.patch_user(me.id, change).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "last_admin");
    }
    // With a second admin, the first may step down.
    app.popug("root", Role::Admin).await;
    let (status, body) = app.patch_user(me.id, json!({"role": "manager"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn users_are_listed_in_pages() {
    let app = TestApp::spawn().await;
    for name in ["ann", "bob", "cid"] {
        app.popug(name, Role::Worker).await;
    }
    let (status, first) = app.get("/api/v1/users?limit=2", &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let (_, second) = app
        .get(
            &format!("/api/v1/users?limit=2&cursor={cursor}"),
            &app.admin,
        )
        .await;
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "ann", "bob", "cid"]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn a_deactivation_or_a_role_change_takes_effect_on_tokens_already_issued() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let eve = app.popug("eve", Role::Admin).await;
    let (status, _) = app.get("/api/v1/users", &eve.token).await;
    assert_eq!(status, StatusCode::OK);

    // Eve is demoted: her admin token no longer lists users or makes admins; it was minted
    // before the change, so it is refused altogether.
    let (status, body) = app.patch_user(eve.user.id, json!({"role": "worker"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let (status, body) = app.get("/api/v1/users", &eve.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/users",
            &eve.token,
            json!({"username": "mallory", "password": "long-enough", "full_name": "M",
                   "email": "m@p.inc", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Ann is fired while logged in: her token is refused everywhere at once.
    let (status, body) = app.patch_user(ann.user.id, json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    for path in ["/api/v1/tasks", "/api/v1/auth/me", "/api/v1/accounting/me"] {
        let (status, body) = app.get(path, &ann.token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("deactivated"),
            "{body}"
        );
    }
    let (status, _) = app
        .post("/api/v1/tasks", &ann.token, json!({"title": "one more"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Reactivated, Ann's old token stays refused; a fresh login works, as a worker.
    let (status, body) = app.patch_user(ann.user.id, json!({"active": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let (status, body) = app.get("/api/v1/auth/me", &ann.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("log in again"),
        "{body}"
    );
    let fresh = app.login("ann", PASSWORD).await;
    let (status, _) = app.get("/api/v1/tasks", &fresh).await;
    assert_eq!(status, StatusCode::OK);
    // Promoted back, Eve's old admin token stays refused too.
    let (status, body) = app.patch_user(eve.user.id, json!({"role": "admin"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let (status, _) = app.get("/api/v1/users", &eve.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A change of name or e-mail keeps everyone logged in.
    let (status, body) = app
        .patch_user(ann.user.id, json!({"full_name": "Ann Renamed"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let (status, _) = app.get("/api/v1/tasks", &fresh).await;
    assert_eq!(status, StatusCode::OK);
}

/// A parked `UserUpdated` replayed after a newer one once undid it (here: reactivated a
/// fired worker). Copies now keep the newest version of each user.
#[tokio::test]
async fn replaying_an_older_user_event_never_undoes_a_newer_one() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let stale = app.state.auth.db().read(|conn| {
        conn.query_row(
            "SELECT event_id, event_name, event_version, event_time, producer, data FROM outbox
             WHERE event_name = 'UserCreated' ORDER BY seq DESC LIMIT 1",
            [],
            |r| {
                Ok(serde_json::json!({
                    "event_id": r.get::<_, uuid::Uuid>(0)?,
                    "event_name": r.get::<_, String>(1)?,
                    "event_version": r.get::<_, u32>(2)?,
                    "event_time": r.get::<_, String>(3)?,
                    "producer": r.get::<_, String>(4)?,
                    "data": serde_json::from_str::<serde_json::Value>(&r.get::<_, String>(5)?).unwrap(),
                }))
            },
        )
        .map_err(ates_server::db::DbError::from)
    })
    .await
    .unwrap();
    assert_eq!(stale["data"]["user_id"], ann.user.id.to_string());
    let (status, _) = app.patch_user(ann.user.id, json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK);
    app.settle().await;

    // The old record comes back as a parked dead letter of the tracker and of accounting,
    // with a fresh event id (so the inbox does not skip it), and the admin replays it.
    for (consumer, db) in [
        ("tracker.auth", app.state.tracker.db().clone()),
        ("accounting.auth", app.state.accounting.db().clone()),
    ] {
        let mut envelope = stale.clone();
        let event_id = uuid::Uuid::now_v7();
        envelope["event_id"] = json!(event_id);
        let letter = uuid::Uuid::now_v7();
        db.write(move |tx| -> Result<(), ates_server::db::DbError> {
            tx.execute(
                "INSERT INTO dead_letters (id, consumer, event_id, event_name, event_version, envelope, error, attempts, parked_at)
                 VALUES (?1, ?2, ?3, 'UserCreated', 2, ?4, 'was failing', 5, '2026-01-01T00:00:00Z')",
                rusqlite::params![letter, consumer, event_id, envelope.to_string()],
            )?;
            Ok(())
        })
        .await
        .unwrap();
        let (status, body) = app
            .post(
                &format!("/api/v1/system/dead-letters/{letter}/retry"),
                &app.admin,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "resolved");
    }
    let (status, _) = app.get("/api/v1/tasks", &ann.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "still fired");
    let bob = app.popug("bob", Role::Worker).await;
    app.assert_new_tasks_go_to(bob.user.id).await;
}

async fn try_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn logins_are_throttled_per_username_and_per_address() {
    use ates_server::auth::login_guard::LoginLimits;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_configured(
        dir,
        std::sync::Arc::new(ates_server::clock::SystemClock),
        |config| {
            config.login_limits = LoginLimits {
                per_username_per_minute: 4,
                per_address_per_minute: 12,
                refusal_delay: std::time::Duration::from_millis(300),
                ..LoginLimits::DEFAULT
            };
        },
    )
    .await; // the admin's login is the address's first attempt
    app.popug("ann", Role::Worker).await; // and ann's the second
    for _ in 0..3 {
        let reply = try_login(&app, "ann", "wrong-password").await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    }
    // Ann's name is spent (1 good + 3 bad): even the right password waits now, and the
    // refusal itself is held back, so a flood gets one answer per connection and delay.
    let asked = std::time::Instant::now();
    let reply = try_login(&app, "ann", PASSWORD).await;
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(asked.elapsed() >= std::time::Duration::from_millis(300));
    let wait: u64 = reply.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");
    // Other names from the same address still get through, until the address is spent.
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(
            try_login(&app, &format!("nobody{i}"), "whatever1")
                .await
                .status(),
        );
    }
    assert_eq!(statuses[..6], [StatusCode::UNAUTHORIZED; 6]);
    assert_eq!(statuses[6..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn password_checks_beyond_the_bound_are_turned_away_never_failed() {
    use ates_server::auth::login_guard::LoginLimits;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_configured(
        dir,
        std::sync::Arc::new(ates_server::clock::SystemClock),
        |config| {
            config.hash_cost = ates_server::auth::password::HashCost::RECOMMENDED;
            config.login_limits = LoginLimits {
                concurrent_checks: 1,
                queue_wait: std::time::Duration::from_millis(5),
                ..config.login_limits
            };
        },
    )
    .await;
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (client, url) = (
            app.client.clone(),
            format!("{}/api/v1/auth/login", app.base),
        );
        flood.spawn(async move {
            client
                .post(url)
                .json(&json!({"username": format!("flood{i}"), "password": "wrong-password"}))
                .send()
                .await
                .unwrap()
        });
    }
    let mut busy = 0;
    while let Some(reply) = flood.join_next().await {
        let reply = reply.unwrap();
        match reply.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(reply.headers().contains_key("retry-after"));
                busy += 1;
            }
            other => panic!("a flood got {other}"),
        }
    }
    assert!(
        busy > 0,
        "one check at a time: most of 24 at once are turned away"
    );
}

/// An unknown username costs the same password check as a known one, so the time of the
/// answer does not tell which names exist.
#[tokio::test]
async fn unknown_usernames_take_as_long_as_wrong_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_configured(
        dir,
        std::sync::Arc::new(ates_server::clock::SystemClock),
        |config| config.hash_cost = ates_server::auth::password::HashCost::RECOMMENDED,
    )
    .await;
    app.popug("ann", Role::Worker).await;
    let median = |name: &'static str| {
        let app = &app;
        async move {
            let mut times = Vec::new();
            for _ in 0..5 {
                let started = std::time::Instant::now();
                let reply = try_login(app, name, "wrong-password").await;
                times.push(started.elapsed());
                assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
            }
            times.sort();
            times[2]
        }
    };
    let known = median("ann").await;
    let unknown = median("nobody").await;
    // Before the dummy hash: 0.4 ms against 12-40 ms. Allow for a noisy machine.
    assert!(
        unknown * 3 > known,
        "unknown {unknown:?} against known {known:?}"
    );
}

#[tokio::test]
async fn meta_tells_clients_the_companys_zone_and_today_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_configured(
        dir,
        std::sync::Arc::new(ates_server::clock::SystemClock),
        |config| config.timezone = chrono_tz::Asia::Tokyo,
    )
    .await;
    let ann = app.popug("ann", Role::Worker).await;
    let meta: ates_shared::api::Meta = app.get_ok("/api/v1/meta", &ann.token).await;
    assert_eq!(meta.timezone, "Asia/Tokyo");
    assert_eq!(
        meta.today,
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .date_naive()
    );
}
