//! To-dos, notification levels and issue subscriptions through the API and the pages: an
//! assignment and a mention give the people named a to-do (never for what they may not see,
//! never for one's own doing), acting on the issue marks one's to-dos done, levels are set for
//! all mail, a group and a project, and bad input is refused with a sentence.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn project(app: &TestApp, owner: &TestUser, name: &str) -> i64 {
    let body = json!({"name": name, "visibility": "private"});
    let created = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

async fn add_member(app: &TestApp, owner: &TestUser, project: i64, user: &TestUser, level: i64) {
    let body = json!({"user_id": user.user.id.0, "access_level": level});
    let added =
        app.api(Method::POST, &format!("/api/v4/projects/{project}/members"), Some(&owner.token), Some(body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
}

async fn todos(app: &TestApp, user: &TestUser, query: &str) -> Vec<Value> {
    let listed = app.api(Method::GET, &format!("/api/v4/todos{query}"), Some(&user.token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.json().as_array().unwrap().clone()
}

fn actions(todos: &[Value]) -> Vec<(String, i64)> {
    todos
        .iter()
        .map(|t| (t["action_name"].as_str().unwrap().to_owned(), t["target"]["iid"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn assignments_and_mentions_give_to_dos_that_acting_marks_done() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let stranger = app.user("stranger").await;
    let id = project(&app, &owner, "Plans").await;
    add_member(&app, &owner, id, &ada, 30).await;
    add_member(&app, &owner, id, &bob, 10).await;
    let issues = format!("/api/v4/projects/{id}/issues");

    let body = json!({"title": "Ship it", "description": "@bob please read; @stranger and @owner too",
                      "assignee_ids": [ada.user.id.0]});
    let opened = app.api(Method::POST, &issues, Some(&owner.token), Some(body)).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert_eq!(actions(&todos(&app, &ada, "").await), vec![("assigned".to_owned(), 1)]);
    let bobs = todos(&app, &bob, "").await;
    assert_eq!(actions(&bobs), vec![("directly_addressed".to_owned(), 1)]);
    assert_eq!(bobs[0]["author"]["username"], "owner");
    assert_eq!(bobs[0]["project"]["path_with_namespace"], "owner/plans");
    assert!(bobs[0]["target_url"].as_str().unwrap().ends_with("/owner/plans/-/issues/1"));
    assert!(todos(&app, &stranger, "").await.is_empty(), "no to-do for a project one may not see");
    assert!(todos(&app, &owner, "").await.is_empty(), "no to-do for one's own mention");

    // A confidential issue mentions a Guest, who may not read it: no to-do.
    let secret = json!({"title": "Secret", "description": "cc @bob", "confidential": true});
    app.api(Method::POST, &issues, Some(&owner.token), Some(secret)).await;
    assert_eq!(todos(&app, &bob, "").await.len(), 1);

    // A comment's mention; the same reason again keeps one line.
    for text in ["thoughts, @ada?", "@ada ping"] {
        let note =
            app.api(Method::POST, &format!("{issues}/1/notes"), Some(&owner.token), Some(json!({"body": text}))).await;
        assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    }
    let adas = todos(&app, &ada, "").await;
    let mut got = actions(&adas);
    got.sort();
    assert_eq!(got, vec![("assigned".into(), 1), ("directly_addressed".into(), 1), ("mentioned".into(), 1)]);
    assert_eq!(actions(&todos(&app, &ada, "?action=assigned").await), vec![("assigned".to_owned(), 1)]);

    // Ada comments: her to-dos on the issue are done.
    app.api(Method::POST, &format!("{issues}/1/notes"), Some(&ada.token), Some(json!({"body": "on it"}))).await;
    assert!(todos(&app, &ada, "").await.is_empty());
    assert_eq!(todos(&app, &ada, "?state=done").await.len(), 3);

    // Bob marks his done through the API; another's to-do is not found.
    let bob_todo = bobs[0]["id"].as_i64().unwrap();
    let theirs = app.api(Method::POST, &format!("/api/v4/todos/{bob_todo}/mark_as_done"), Some(&ada.token), None).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let done = app.api(Method::POST, &format!("/api/v4/todos/{bob_todo}/mark_as_done"), Some(&bob.token), None).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_eq!(done.json()["state"], "done");

    // One's own to-do on an issue, once; then all done at once.
    let mine = app.api(Method::POST, &format!("{issues}/1/todo"), Some(&bob.token), None).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    assert_eq!(mine.json()["action_name"], "marked");
    let again = app.api(Method::POST, &format!("{issues}/1/todo"), Some(&bob.token), None).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let cleared = app.api(Method::POST, "/api/v4/todos/mark_as_done", Some(&bob.token), None).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert!(todos(&app, &bob, "").await.is_empty());

    // Bad filters are refused with a sentence; anonymous callers are asked to sign in.
    let bad = app.api(Method::GET, "/api/v4/todos?state=later", Some(&bob.token), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("state does not have a valid value"), "{}", bad.body);
    let anonymous = app.api(Method::GET, "/api/v4/todos", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Losing sight of the project hides its to-dos.
    let body = json!({"title": "Later", "assignee_ids": [ada.user.id.0]});
    app.api(Method::POST, &issues, Some(&owner.token), Some(body)).await;
    assert_eq!(todos(&app, &ada, "").await.len(), 1);
    let removed = app
        .api(Method::DELETE, &format!("/api/v4/projects/{id}/members/{}", ada.user.id.0), Some(&owner.token), None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert!(todos(&app, &ada, "").await.is_empty());
}

#[tokio::test]
async fn notification_levels_and_subscriptions_are_the_callers_own() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let id = project(&app, &owner, "Levels").await;
    add_member(&app, &owner, id, &ada, 20).await;

    let global = app.api(Method::GET, "/api/v4/notification_settings", Some(&ada.token), None).await;
    assert_eq!(global.json(), json!({"level": "participating", "notification_email": "ada@example.com"}));
    let set =
        app.api(Method::PUT, "/api/v4/notification_settings", Some(&ada.token), Some(json!({"level": "watch"}))).await;
    assert_eq!(set.json()["level"], "watch");
    let global = app.api(Method::GET, "/api/v4/notification_settings", Some(&ada.token), None).await;
    assert_eq!(global.json()["level"], "watch");
    for (level, message) in
        [("global", "global is for a group or project"), ("loud", "'loud' is not a notification level")]
    {
        let refused = app
            .api(Method::PUT, "/api/v4/notification_settings", Some(&ada.token), Some(json!({"level": level})))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(refused.body.contains(message), "{}", refused.body);
    }

    let path = format!("/api/v4/projects/{id}/notification_settings");
    assert_eq!(app.api(Method::GET, &path, Some(&ada.token), None).await.json(), json!({"level": "global"}));
    let set = app.api(Method::PUT, &path, Some(&ada.token), Some(json!({"level": "disabled"}))).await;
    assert_eq!(set.json(), json!({"level": "disabled"}));
    let stranger = app.user("stranger").await;
    assert_eq!(app.api(Method::GET, &path, Some(&stranger.token), None).await.status, StatusCode::NOT_FOUND);

    // Subscribing to an issue: the issue says so; twice is "not modified".
    let body = json!({"title": "Watch me"});
    app.api(Method::POST, &format!("/api/v4/projects/{id}/issues"), Some(&owner.token), Some(body)).await;
    let issue = format!("/api/v4/projects/{id}/issues/1");
    assert_eq!(app.api(Method::GET, &issue, Some(&ada.token), None).await.json()["subscribed"], false);
    assert_eq!(app.api(Method::GET, &issue, Some(&owner.token), None).await.json()["subscribed"], true, "its author");
    let on = app.api(Method::POST, &format!("{issue}/subscribe"), Some(&ada.token), None).await;
    assert_eq!(on.status, StatusCode::CREATED, "{}", on.body);
    assert_eq!(on.json()["subscribed"], true);
    assert_eq!(
        app.api(Method::POST, &format!("{issue}/subscribe"), Some(&ada.token), None).await.status,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(app.api(Method::GET, &issue, Some(&ada.token), None).await.json()["subscribed"], true);
    let off = app.api(Method::POST, &format!("{issue}/unsubscribe"), Some(&owner.token), None).await;
    assert_eq!(off.json()["subscribed"], false);
    assert_eq!(app.api(Method::GET, &issue, Some(&owner.token), None).await.json()["subscribed"], false);
}

#[tokio::test]
async fn the_pages_list_to_dos_and_set_levels_without_javascript() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let id = project(&app, &owner, "Board").await;
    add_member(&app, &owner, id, &ada, 30).await;
    let body = json!({"title": "Review <the> plan", "description": "@ada have a look"});
    app.api(Method::POST, &format!("/api/v4/projects/{id}/issues"), Some(&owner.token), Some(body)).await;

    let list = app.page(Method::GET, "/dashboard/todos", Some(&ada), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("@owner addressed you"), "{}", list.body);
    assert!(list.body.contains("owner/board#1 Review &#60;the&#62; plan"), "escaped: {}", list.body);
    assert!(list.body.contains("<span class=\"count\">1</span>"), "the top bar counts: {}", list.body);
    let todo = todos(&app, &ada, "").await[0]["id"].as_i64().unwrap();
    let done = app.page(Method::POST, &format!("/dashboard/todos/{todo}/done"), Some(&ada), Some(&[])).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let list = app.follow(done, &ada).await;
    assert!(
        list.body.contains("The to-do was marked as done.") && list.body.contains("Nothing needs you now"),
        "{}",
        list.body
    );
    let others = app.page(Method::POST, &format!("/dashboard/todos/{todo}/done"), Some(&owner), Some(&[])).await;
    assert_eq!(others.status, StatusCode::NOT_FOUND);

    // The issue page's buttons: a to-do of one's own, and mail on or off.
    let issue = "/owner/board/-/issues/1";
    let page = app.page(Method::GET, issue, Some(&ada), None).await;
    assert!(page.body.contains("Add a to-do") && page.body.contains("Notifications: on"), "mentioned: {}", page.body);
    let added = app.page(Method::POST, &format!("{issue}/todo"), Some(&ada), Some(&[])).await;
    let page = app.follow(added, &ada).await;
    assert!(page.body.contains("Added to your to-do list.") && page.body.contains("Mark as done"), "{}", page.body);
    let off = app.page(Method::POST, &format!("{issue}/subscription"), Some(&ada), Some(&[("subscribed", "no")])).await;
    let page = app.follow(off, &ada).await;
    assert!(
        page.body.contains("You will get no more mail about this issue.") && page.body.contains("Notifications: off")
    );
    let all = app.page(Method::POST, "/dashboard/todos/done", Some(&ada), Some(&[])).await;
    assert!(app.follow(all, &ada).await.body.contains("1 to-do was marked as done."));

    // Levels: all mail on the profile, a project's on its page.
    let profile = app.page(Method::GET, "/-/profile/notifications", Some(&ada), None).await;
    assert!(profile.body.contains("value=\"participating\" checked"), "{}", profile.body);
    assert!(profile.body.contains("This server sends no mail yet"), "mail is off here");
    let saved = app.page(Method::POST, "/-/profile/notifications", Some(&ada), Some(&[("level", "mention")])).await;
    assert!(app.follow(saved, &ada).await.body.contains("value=\"mention\" checked"));
    let bad = app.page(Method::POST, "/-/profile/notifications", Some(&ada), Some(&[("level", "loud")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let saved = app.page(Method::POST, "/owner/board/-/notifications", Some(&ada), Some(&[("level", "watch")])).await;
    let overview = app.follow(saved, &ada).await;
    assert!(overview.body.contains("Notifications for this project: Watch"), "{}", overview.body);
    assert!(overview.body.contains("value=\"watch\" selected"), "{}", overview.body);

    // An unknown unsubscribe link is not found, signed in or not.
    let unknown = app.page(Method::GET, "/-/unsubscribe/nothing-here", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
