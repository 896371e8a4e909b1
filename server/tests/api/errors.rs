//! Bad input gets a 4xx naming the field, never a 500, and changes nothing.

use crate::helpers::TestApp;
use ates_shared::Role;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn bad_bodies_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let cases = [
        (json!({}), "title"),
        (json!({"title": 42}), "title"),
        (json!({"title": "ok", "jira_id": ["x"]}), "jira_id"),
        (json!({"title": "   "}), "title"),
        (
            json!({"title": "ok", "jira_id": "has spaces in it"}),
            "jira_id",
        ),
        (json!({"title": "x".repeat(201)}), "title"),
    ];
    for (body, field) in cases {
        let (status, reply) = app.post("/api/v1/tasks", &ann.token, body.clone()).await;
        assert!(status.is_client_error(), "{body} -> {status}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{body}: `{message}` should name {field}"
        );
    }
    let user_cases = [
        (
            json!({"username": "x", "password": "long-enough", "full_name": "X", "email": "x@y.z", "role": "worker"}),
            "username",
        ),
        (
            json!({"username": "xavier", "password": "short", "full_name": "X", "email": "x@y.z", "role": "worker"}),
            "password",
        ),
        (
            json!({"username": "xavier", "password": "long-enough", "full_name": "X", "email": "nope", "role": "worker"}),
            "email",
        ),
        (
            json!({"username": "xavier", "password": "long-enough", "full_name": "X", "email": "x@y.z", "role": "boss"}),
            "role",
        ),
        (
            json!({"username": "xavier", "password": "long-enough", "full_name": "X", "email": "x@y.z"}),
            "role",
        ),
    ];
    for (body, field) in user_cases {
        let (status, reply) = app.post("/api/v1/users", &app.admin, body.clone()).await;
        assert!(status.is_client_error(), "{body} -> {status}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{body}: `{message}` should name {field}"
        );
    }
    let (status, reply) = app.patch_user(ann.user.id, json!({"role": "king"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply["error"]["message"].as_str().unwrap().contains("role"));
    assert!(
        app.all_tasks(&ann.token, "").await.is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_are_client_errors() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let url = format!("{}/api/v1/tasks", app.base);
    let broken = app
        .client
        .post(&url)
        .bearer_auth(&ann.token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = broken.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");

    let text = app
        .client
        .post(&url)
        .bearer_auth(&ann.token)
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn unknown_ids_are_404_and_bad_queries_name_the_parameter() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    for path in [
        format!("/api/v1/tasks/{}", Uuid::now_v7()),
        "/api/v1/tasks/not-a-uuid".to_owned(),
    ] {
        let (status, body) = app.get(&path, &ann.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (status, _) = app.complete(&ann.token, Uuid::now_v7()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .patch_user(Uuid::now_v7(), json!({"active": false}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for (query, param) in [
        ("status=later", "status"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=many", "limit"),
        ("cursor=zzz", "cursor"),
        ("assignee=someone", "assignee"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/tasks?{query}"), &ann.token).await;
        assert!(status.is_client_error(), "{query} -> {status}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(param),
            "{query}: {body}"
        );
    }
    let (status, body) = app
        .post(
            "/api/v1/system/consumers/tracker.auth/rewind",
            &app.admin,
            json!({"position": 99_999}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/system/consumers/nobody/rewind",
            &app.admin,
            json!({"position": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// What axum answers before a handler runs still comes in the API's error shape.
#[tokio::test]
async fn unknown_routes_wrong_methods_huge_bodies_and_bad_path_bytes_answer_json() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let expect = |status: StatusCode, code: &str, got: (StatusCode, serde_json::Value)| {
        assert_eq!(got.0, status, "{}", got.1);
        assert_eq!(got.1["error"]["code"], code, "{}", got.1);
        assert!(
            !got.1["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{}",
            got.1
        );
    };
    expect(
        StatusCode::NOT_FOUND,
        "not_found",
        app.get("/api/v1/nowhere", &ann.token).await,
    );
    expect(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        app.call(
            reqwest::Method::DELETE,
            "/api/v1/tasks",
            Some(&ann.token),
            None,
        )
        .await,
    );
    expect(
        StatusCode::BAD_REQUEST,
        "bad_request",
        app.get("/api/v1/tasks/%FF", &ann.token).await,
    );
    let huge = json!({"title": "big", "description": "x".repeat(3 * 1024 * 1024)});
    expect(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        app.post("/api/v1/tasks", &ann.token, huge).await,
    );
    let wrong_method = app
        .client
        .delete(format!("{}/api/v1/tasks", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        wrong_method.headers().contains_key("allow"),
        "a 405 says which methods the path takes"
    );
    assert!(app.all_tasks(&ann.token, "").await.is_empty());
}
