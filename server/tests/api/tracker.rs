use crate::helpers::TestApp;
use ates_shared::Role;
use ates_shared::api::{ReshuffleResult, Task, TaskStatus};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{HashMap, HashSet};

#[tokio::test]
async fn the_whole_flow_from_users_to_a_completed_task() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let acc = app.popug("acc", Role::Accountant).await;
    let boss = app.popug("boss", Role::Manager).await;

    // Anyone may create tasks; they only ever land on the worker or the accountant.
    let mut created = Vec::new();
    for i in 0..30 {
        let author = [&ann.token, &boss.token, &app.admin][i % 3];
        created.push(app.create_task(author, &format!("task {i}")).await);
    }
    let holders: HashSet<_> = created.iter().map(|t| t.assignee.id).collect();
    assert!(holders.is_subset(&HashSet::from([ann.user.id, acc.user.id])));
    assert!(
        created
            .iter()
            .all(|t| t.status == TaskStatus::Open && t.completed_at.is_none())
    );

    // The manager reshuffles every open task.
    let (status, body) = app
        .post("/api/v1/tasks/reshuffle", &boss.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result: ReshuffleResult = serde_json::from_value(body).unwrap();
    assert_eq!(result.reassigned, 30);

    // Ann completes one of hers; completing it again is a conflict; others may not.
    let mine = app.all_tasks(&ann.token, "&assignee=me&status=open").await;
    let task = mine
        .first()
        .expect("30 tasks over 2 people: ann has some (p = 1 - 2^-30)");
    let (status, body) = app.complete(&acc.token, task.id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app.complete(&ann.token, task.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done: Task = serde_json::from_value(body).unwrap();
    assert_eq!(done.status, TaskStatus::Done);
    assert!(done.completed_at.is_some());
    let (status, body) = app.complete(&ann.token, task.id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "already_done");

    // A done task never moves again.
    app.post("/api/v1/tasks/reshuffle", &app.admin, json!({}))
        .await;
    let after: Task = app
        .get_ok(&format!("/api/v1/tasks/{}", task.id), &boss.token)
        .await;
    assert_eq!(
        (after.assignee.id, after.status),
        (ann.user.id, TaskStatus::Done)
    );
    let counts: ates_shared::api::TaskCounts =
        app.get_ok("/api/v1/tasks/counts", &boss.token).await;
    assert_eq!((counts.open, counts.done), (29, 1));
    let done_list = app.all_tasks(&boss.token, "&status=done").await;
    assert_eq!(
        done_list.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![task.id]
    );
}

#[tokio::test]
async fn managers_and_admins_never_get_tasks() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    app.popug("boss", Role::Manager).await;
    app.popug("root", Role::Admin).await;
    for i in 0..20 {
        app.create_task(&app.admin, &format!("t{i}")).await;
    }
    for _ in 0..5 {
        app.post("/api/v1/tasks/reshuffle", &app.admin, json!({}))
            .await;
        let holders: HashSet<_> = app
            .all_tasks(&app.admin, "")
            .await
            .iter()
            .map(|t| t.assignee.id)
            .collect();
        assert_eq!(holders, HashSet::from([ann.user.id]));
    }
}

#[tokio::test]
async fn reshuffles_spread_tasks_over_every_assignable_user() {
    let app = TestApp::spawn().await;
    let mut ids = HashSet::new();
    for name in ["ann", "bob", "cid", "dee"] {
        ids.insert(app.popug(name, Role::Worker).await.user.id);
    }
    for i in 0..200 {
        app.create_task(&app.admin, &format!("t{i}")).await;
    }
    app.post("/api/v1/tasks/reshuffle", &app.admin, json!({}))
        .await;
    let mut counts: HashMap<_, usize> = HashMap::new();
    for t in app.all_tasks(&app.admin, "").await {
        *counts.entry(t.assignee.id).or_default() += 1;
    }
    assert_eq!(counts.keys().copied().collect::<HashSet<_>>(), ids);
    // 50 expected each; below 20 would be a 1-in-10^7 fluke of a fair draw.
    assert!(counts.values().all(|&n| n >= 20), "{counts:?}");
}

#[tokio::test]
async fn a_promoted_user_keeps_tasks_until_the_next_reshuffle_and_gets_no_new_ones() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let task = app.create_task(&ann.token, "water the plants").await;
    assert_eq!(task.assignee.id, ann.user.id);
    let bob = app.popug("bob", Role::Worker).await;

    app.patch_user(ann.user.id, json!({"role": "manager"}))
        .await;
    app.settle().await;
    let kept: Task = app
        .get_ok(&format!("/api/v1/tasks/{}", task.id), &app.admin)
        .await;
    assert_eq!(kept.assignee.id, ann.user.id, "keeps it until a reshuffle");
    app.assert_new_tasks_go_to(bob.user.id).await;
    app.post("/api/v1/tasks/reshuffle", &app.admin, json!({}))
        .await;
    let moved: Task = app
        .get_ok(&format!("/api/v1/tasks/{}", task.id), &app.admin)
        .await;
    assert_eq!(moved.assignee.id, bob.user.id);
}

#[tokio::test]
async fn a_deactivated_user_gets_no_new_tasks() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let bob = app.popug("bob", Role::Worker).await;
    app.patch_user(ann.user.id, json!({"active": false})).await;
    app.settle().await;
    app.assert_new_tasks_go_to(bob.user.id).await;
}

#[tokio::test]
async fn with_nobody_to_assign_creation_fails_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.popug("boss", Role::Manager).await;
    let (status, body) = app
        .post("/api/v1/tasks", &app.admin, json!({"title": "orphan"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "no_assignees");
    assert!(app.all_tasks(&app.admin, "").await.is_empty());
}

#[tokio::test]
async fn the_board_pages_through_every_task_once_newest_first() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(app.create_task(&ann.token, &format!("t{i}")).await.id);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/tasks?limit=3".to_owned();
    loop {
        let (_, page) = app.get(&path, &ann.token).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/tasks?limit=3&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = ids.iter().rev().map(|id| id.to_string()).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn jira_ids_have_their_own_field() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let (status, body) = app
        .post(
            "/api/v1/tasks",
            &ann.token,
            json!({"title": "[UBERPOP-42] fix login"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "title_contains_jira_id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("jira_id")
    );

    let (status, body) = app
        .post(
            "/api/v1/tasks",
            &ann.token,
            json!({"title": "fix login", "jira_id": "UBERPOP-42", "description": "it breaks"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["jira_id"].as_str(), body["description"].as_str()),
        (Some("UBERPOP-42"), Some("it breaks"))
    );
}

#[tokio::test]
async fn the_board_searches_titles_jira_ids_and_assignees_on_the_server() {
    let app = TestApp::spawn().await;
    let ann = app.popug("annabel", Role::Worker).await;
    for (title, jira) in [
        ("Count the Seeds", None),
        ("Polish beaks", Some("UBERPOP-7")),
        ("100% done soon", None),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/tasks",
                &ann.token,
                json!({"title": title, "jira_id": jira}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let titles = |tasks: Vec<ates_shared::api::Task>| -> Vec<String> {
        tasks.into_iter().map(|t| t.title).collect()
    };
    assert_eq!(
        titles(app.all_tasks(&ann.token, "&q=seeds").await),
        ["Count the Seeds"]
    );
    assert_eq!(
        titles(app.all_tasks(&ann.token, "&q=uberpop").await),
        ["Polish beaks"]
    );
    assert_eq!(
        app.all_tasks(&ann.token, "&q=annab&status=open")
            .await
            .len(),
        3
    );
    // `%` is a character, not a wildcard.
    assert_eq!(
        titles(app.all_tasks(&ann.token, "&q=%25").await),
        ["100% done soon"]
    );
    assert!(app.all_tasks(&ann.token, "&q=nothing").await.is_empty());
    let (status, body) = app
        .get(&format!("/api/v1/tasks?q={}", "x".repeat(201)), &ann.token)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn lists_answer_304_when_nothing_changed_since_the_tag_the_client_holds() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    app.create_task(&ann.token, "tagged").await;
    let url = format!("{}/api/v1/tasks?assignee=me", app.base);
    let first = app
        .client
        .get(&url)
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with("W/\""), "{tag}");
    let again = app
        .client
        .get(&url)
        .bearer_auth(&ann.token)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    assert!(again.bytes().await.unwrap().is_empty());
    app.create_task(&ann.token, "a change").await;
    let changed = app
        .client
        .get(&url)
        .bearer_auth(&ann.token)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "the list changed");
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
}

/// A 304 is answered from the tags the tracker remembers, without a read: it must still
/// check the caller first, and forget a tag once anything commits.
#[tokio::test]
async fn a_remembered_tag_is_no_way_around_a_deactivation_or_a_change() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let task = app.create_task(&ann.token, "tagged").await;
    app.settle().await;
    let get = |path: String, tag: Option<String>| {
        let request = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&ann.token);
        let request = match tag {
            Some(tag) => request.header("if-none-match", tag),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    let unread = || app.metric("ates_http_not_modified_unread_total");
    let unread_before = unread().await;
    let mut tags = Vec::new();
    for path in [
        "/api/v1/tasks?assignee=me".to_owned(),
        "/api/v1/tasks/counts".to_owned(),
        format!("/api/v1/tasks/{}", task.id),
    ] {
        let first = get(path.clone(), None).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again = get(path.clone(), Some(tag.clone())).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag, "{path}");
        tags.push((path, tag));
    }
    // Those 304s came from the remembered tags, not from a read hashed again (the metric is
    // the process's: other tests may add to it, never take away).
    assert!(unread().await >= unread_before + 3.0);

    // Completing the task changes all three answers: none of the old tags may stand.
    let (status, body) = app.complete(&ann.token, task.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (path, tag) in &tags {
        let changed = get(path.clone(), Some(tag.clone())).await;
        assert_eq!(changed.status(), StatusCode::OK, "{path} changed");
        let new_tag = changed.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(&new_tag, tag, "{path}");
        let again = get(path.clone(), Some(new_tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }

    // Deactivated while holding tags the tracker remembers: refused, not told "unchanged".
    let (path, _) = &tags[0];
    let tag = get(path.clone(), None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = app.patch_user(ann.user.id, json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let refused = get(path.clone(), Some(tag)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
