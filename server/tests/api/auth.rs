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
    assert_eq!(status, StatusCode::FORBIDDEN);
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

    // Eve is demoted: her admin token no longer lists users or makes admins.
    let (status, body) = app.patch_user(eve.user.id, json!({"role": "worker"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let (status, body) = app.get("/api/v1/users", &eve.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/users",
            &eve.token,
            json!({"username": "mallory", "password": "long-enough", "full_name": "M",
                   "email": "m@p.inc", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

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
}
