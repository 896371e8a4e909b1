//! The role matrix: every endpoint, called by every role, without a token, with a forged
//! one, an expired one, and ones revoked by a deactivation or a role change.

use crate::helpers::TestApp;
use ates_shared::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
    success: StatusCode,
}

fn endpoint(
    method: Method,
    path: impl Into<String>,
    body: Option<Value>,
    allowed: &'static [Role],
    success: u16,
) -> Endpoint {
    Endpoint {
        method,
        path: path.into(),
        body,
        allowed,
        success: StatusCode::from_u16(success).unwrap(),
    }
}

const EVERYONE: &[Role] = &[Role::Worker, Role::Accountant, Role::Manager, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];
const MANAGEMENT: &[Role] = &[Role::Manager, Role::Admin];
const MONEY: &[Role] = &[Role::Accountant, Role::Admin];

#[tokio::test]
async fn every_endpoint_admits_exactly_its_roles() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let task = app.create_task(&ann.token, "the only task").await;
    let acc = app.popug("acc", Role::Accountant).await;
    let boss = app.popug("boss", Role::Manager).await;
    let tokens = [
        (Role::Worker, &ann.token),
        (Role::Accountant, &acc.token),
        (Role::Manager, &boss.token),
        (Role::Admin, &app.admin),
    ];

    // Tokens that were genuine once: expired, of a fired admin, of a demoted admin.
    let admin_id = app
        .get_ok::<ates_shared::api::User>("/api/v1/auth/me", &app.admin)
        .await
        .id;
    let (expired, _) = app
        .state
        .tokens
        .issue(
            admin_id,
            "admin",
            Role::Admin,
            1,
            chrono::Utc::now() - chrono::Duration::days(1),
        )
        .unwrap();
    let fired = app.popug("fired", Role::Admin).await;
    let demoted = app.popug("demoted", Role::Admin).await;
    app.patch_user(fired.user.id, json!({"active": false}))
        .await;
    app.patch_user(demoted.user.id, json!({"role": "worker"}))
        .await;
    app.settle().await;

    let ann_path = format!("/api/v1/users/{}", ann.user.id);
    let mut endpoints = vec![
        endpoint(Method::GET, "/api/v1/auth/me", None, EVERYONE, 200),
        endpoint(Method::GET, "/api/v1/meta", None, EVERYONE, 200),
        endpoint(Method::GET, "/api/v1/users", None, ADMIN, 200),
        endpoint(Method::GET, ann_path.clone(), None, ADMIN, 200),
        endpoint(
            Method::PATCH,
            ann_path,
            Some(json!({"full_name": "Ann P. Popug"})),
            ADMIN,
            200,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "more work"})),
            EVERYONE,
            201,
        ),
        endpoint(Method::GET, "/api/v1/tasks", None, EVERYONE, 200),
        endpoint(Method::GET, "/api/v1/tasks/counts", None, EVERYONE, 200),
        endpoint(
            Method::GET,
            "/api/v1/tasks?assignee=me",
            None,
            EVERYONE,
            200,
        ),
        endpoint(
            Method::GET,
            format!("/api/v1/tasks/{}", task.id),
            None,
            EVERYONE,
            200,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tasks/reshuffle",
            None,
            MANAGEMENT,
            200,
        ),
        endpoint(Method::GET, "/api/v1/system/events", None, ADMIN, 200),
        endpoint(Method::GET, "/api/v1/system/dead-letters", None, ADMIN, 200),
        endpoint(
            Method::POST,
            format!("/api/v1/system/dead-letters/{}/retry", Uuid::now_v7()),
            None,
            ADMIN,
            404,
        ),
        endpoint(
            Method::POST,
            format!("/api/v1/system/dead-letters/{}/discard", Uuid::now_v7()),
            Some(json!({"reason": "never applies"})),
            ADMIN,
            404,
        ),
        endpoint(
            Method::POST,
            "/api/v1/system/consumers/tracker.auth/rewind",
            Some(json!({"position": 0})),
            ADMIN,
            204,
        ),
        endpoint(
            Method::POST,
            "/api/v1/system/rebuild",
            Some(json!({"context": "analytics"})),
            ADMIN,
            202,
        ),
        // A task's ledger (money roles only; an empty list until accounting hears of it).
        endpoint(
            Method::GET,
            format!("/api/v1/accounting/tasks/{}/ledger", task.id),
            None,
            MONEY,
            200,
        ),
        endpoint(Method::GET, "/api/v1/analytics/summary", None, ADMIN, 200),
        endpoint(
            Method::GET,
            "/api/v1/analytics/earnings?from=2026-01-01&to=2026-01-31",
            None,
            ADMIN,
            200,
        ),
        endpoint(
            Method::GET,
            "/api/v1/analytics/most-expensive?period=week",
            None,
            ADMIN,
            200,
        ),
    ];
    // Creating users needs a fresh username per call.
    for (role, _) in &tokens {
        endpoints.push(endpoint(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": format!("new-{role}"), "password": "long-enough", "full_name": "N", "email": "n@p.inc", "role": "worker"})),
            ADMIN,
            201,
        ));
    }

    for ep in &endpoints {
        for (role, token) in &tokens {
            let (status, body) = app
                .call(ep.method.clone(), &ep.path, Some(token), ep.body.clone())
                .await;
            let expected = if ep.allowed.contains(role) {
                ep.success
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                status, expected,
                "{} {} as {role}: {body}",
                ep.method, ep.path
            );
            if status == StatusCode::FORBIDDEN {
                assert_eq!(body["error"]["code"], "forbidden");
            }
        }
    }
    let bad_tokens = [
        None,
        Some("not-a-token"),
        Some("eyJhbGciOiJIUzI1NiJ9.e30.forged"),
        Some(expired.as_str()),
        Some(fired.token.as_str()),
        Some(demoted.token.as_str()),
    ];
    // Money endpoints' roles are checked in accounting.rs (a task's ledger's also above);
    // the bad tokens are checked here.
    for (method, path) in [
        (Method::GET, "/api/v1/accounting/me".to_owned()),
        (Method::GET, "/api/v1/accounting/accounts".to_owned()),
        (
            Method::GET,
            format!("/api/v1/accounting/accounts/{}/log", ann.user.id),
        ),
        (Method::GET, "/api/v1/accounting/earnings".to_owned()),
        (Method::GET, "/api/v1/accounting/ledger".to_owned()),
        (Method::GET, "/api/v1/accounting/payments".to_owned()),
        (Method::POST, "/api/v1/accounting/close-day".to_owned()),
        (Method::GET, "/api/v1/stream".to_owned()),
        (Method::POST, format!("/api/v1/tasks/{}/complete", task.id)),
    ] {
        endpoints.push(endpoint(method, path, Some(json!({})), &[], 200));
    }
    for ep in &endpoints {
        for token in bad_tokens {
            let (status, body) = app
                .call(ep.method.clone(), &ep.path, token, ep.body.clone())
                .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {} with {token:?}: {body}",
                ep.method,
                ep.path
            );
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
}

#[tokio::test]
async fn only_the_assignee_may_complete_a_task() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let task = app.create_task(&ann.token, "ann's").await;
    let acc = app.popug("acc", Role::Accountant).await;
    let boss = app.popug("boss", Role::Manager).await;
    let path = format!("/api/v1/tasks/{}/complete", task.id);
    for token in [&acc.token, &boss.token, &app.admin] {
        let (status, body) = app.post(&path, token, json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _) = app.call(Method::POST, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.post(&path, &ann.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn health_login_and_the_api_description_need_no_token() {
    let app = TestApp::spawn().await;
    let (status, body) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, doc) = app
        .call(Method::GET, "/api-docs/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/auth/login",
        "/api/v1/tasks",
        "/api/v1/tasks/reshuffle",
        "/api/v1/system/dead-letters",
        "/api/v1/system/rebuild",
        "/api/v1/analytics/summary",
        "/api/v1/analytics/earnings",
        "/api/v1/analytics/most-expensive",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"].get("Task").is_some());
}
