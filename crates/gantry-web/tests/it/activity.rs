//! Activity: GitLab's events API (`/events`, `/users/:id/events`, `/projects/:id/events`) and a
//! project's activity page — pushes, issues opened, closed and reopened, comments — newest
//! first, filtered by action, kind and date, in GitLab's shapes; events of a confidential issue
//! only for those who see it; bad filters refused with a sentence.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn call(app: &TestApp, user: Option<&TestUser>, method: Method, path: &str, body: Option<Value>) -> Value {
    let answer = app.api(method, path, user.map(|u| u.token.as_str()), body).await;
    assert!(answer.status.is_success(), "{path}: {} {}", answer.status, answer.body);
    answer.json()
}

/// `(action_name, target_type, target_title)` of each event a list gives.
async fn events(app: &TestApp, user: Option<&TestUser>, path: &str) -> Vec<(String, String, String)> {
    let listed = call(app, user, Method::GET, path, None).await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            let text = |field: &str| event[field].as_str().unwrap_or_default().to_owned();
            (text("action_name"), text("target_type"), text("target_title"))
        })
        .collect()
}

#[tokio::test]
async fn pushes_issues_and_comments_are_events_seen_as_their_items_are() {
    let app = TestApp::new().await;
    let (owner, stranger) = (app.user("owner").await, app.user("stranger").await);
    let body = json!({"name": "app", "visibility": "public"});
    let id = call(&app, Some(&owner), Method::POST, "/api/v4/projects", Some(body)).await["id"].as_i64().unwrap();
    let file = json!({"branch": "main", "content": "hello", "commit_message": "Add a file"});
    call(&app, Some(&owner), Method::POST, &format!("/api/v4/projects/{id}/repository/files/README.md"), Some(file))
        .await;
    let issues = format!("/api/v4/projects/{id}/issues");
    call(&app, Some(&owner), Method::POST, &issues, Some(json!({"title": "Crash on start"}))).await;
    call(&app, Some(&owner), Method::POST, &format!("{issues}/1/notes"), Some(json!({"body": "Seen it too."}))).await;
    call(&app, Some(&owner), Method::PUT, &format!("{issues}/1"), Some(json!({"state_event": "close"}))).await;
    call(&app, Some(&owner), Method::PUT, &format!("{issues}/1"), Some(json!({"state_event": "reopen"}))).await;
    let secret = json!({"title": "Leaked key", "confidential": true});
    call(&app, Some(&owner), Method::POST, &issues, Some(secret)).await;
    call(&app, Some(&owner), Method::POST, &format!("{issues}/2/notes"), Some(json!({"body": "Rotated."}))).await;

    let shown = |a: &str, t: &str, title: &str| (a.to_owned(), t.to_owned(), title.to_owned());
    let everything = events(&app, Some(&owner), &format!("/api/v4/projects/{id}/events")).await;
    assert_eq!(
        everything,
        [
            shown("commented on", "Note", "Leaked key"),
            shown("opened", "Issue", "Leaked key"),
            shown("reopened", "Issue", "Crash on start"),
            shown("closed", "Issue", "Crash on start"),
            shown("commented on", "Note", "Crash on start"),
            shown("opened", "Issue", "Crash on start"),
            shown("pushed new", "", ""),
        ]
    );
    // Someone who does not see the confidential issue sees none of its events.
    for who in [Some(&stranger), None] {
        let seen = events(&app, who, &format!("/api/v4/projects/{id}/events")).await;
        assert_eq!(seen, everything[2..], "as {:?}", who.map(|u| &u.user.username));
    }

    // GitLab's shapes.
    let listed = call(&app, Some(&owner), Method::GET, &format!("/api/v4/projects/{id}/events?sort=asc"), None).await;
    let push = &listed[0];
    assert_eq!(push["author_username"], "owner");
    assert_eq!(push["push_data"]["ref"], "main");
    assert_eq!(push["push_data"]["ref_type"], "branch");
    assert_eq!(push["push_data"]["action"], "created");
    assert_eq!(push["push_data"]["commit_count"], 1);
    assert!(push["push_data"]["commit_from"].is_null());
    let comment = &listed[2];
    assert_eq!((comment["target_type"].as_str(), comment["target_iid"].as_i64()), (Some("Note"), Some(1)));
    assert_eq!(comment["note"]["body"], "Seen it too.");
    assert_eq!(comment["note"]["noteable_type"], "Issue");

    // Filters, a person's events and one's own.
    let path = format!("/api/v4/projects/{id}/events?action=commented&target_type=note");
    assert_eq!(events(&app, Some(&stranger), &path).await, [shown("commented on", "Note", "Crash on start")]);
    assert_eq!(events(&app, Some(&owner), &format!("/api/v4/projects/{id}/events?before=2000-01-01")).await, []);
    assert_eq!(events(&app, Some(&owner), &format!("/api/v4/projects/{id}/events?after=2000-01-01")).await.len(), 7);
    assert_eq!(events(&app, Some(&stranger), "/api/v4/users/owner/events").await, everything[2..]);
    assert_eq!(events(&app, Some(&owner), &format!("/api/v4/users/{}/events", owner.user.id.0)).await, everything);
    assert_eq!(events(&app, Some(&owner), "/api/v4/events").await, everything);
    assert_eq!(events(&app, Some(&stranger), "/api/v4/events").await, []);
    assert_eq!(events(&app, Some(&stranger), "/api/v4/events?scope=all").await, everything[2..]);
    for (query, field) in
        [("action=exploded", "action"), ("target_type=wiki", "target_type"), ("before=soon", "before")]
    {
        let refused =
            app.api(Method::GET, &format!("/api/v4/projects/{id}/events?{query}"), Some(&owner.token), None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(refused.body.contains(field), "{}", refused.body);
    }

    // The activity page and the overview's card.
    let page = app.page(Method::GET, "/owner/app/-/activity", Some(&stranger), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("reopened issue <a href=\"/owner/app/-/issues/1\">#1 Crash on start</a>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("pushed new branch"));
    assert!(!page.body.contains("Leaked key"));
    let page = app.page(Method::GET, "/owner/app/-/activity?event_filter=comments", Some(&owner), None).await;
    assert!(page.body.contains("Seen it too.") && page.body.contains("Rotated."));
    assert!(!page.body.contains("pushed new branch"));
    let overview = app.page(Method::GET, "/owner/app", Some(&owner), None).await;
    assert!(overview.body.contains("commented on issue"), "{}", overview.body);
}
