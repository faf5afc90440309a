//! Plan's issues, comments and labels through the API and the pages: the list's filters,
//! confidential issues seen only by Reporters, their author and assignees, close and reopen with
//! their system notes, labels of groups and projects, comments changed only by their author,
//! and bad input refused with a sentence and nothing stored.
//!
//! Long because it walks one feature end to end through both doors, the API's and the pages'.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A project made through the API by `owner` (in `group` when given), its id.
async fn project(app: &TestApp, owner: &TestUser, name: &str, visibility: &str, group: Option<i64>) -> i64 {
    let mut body = json!({"name": name, "visibility": visibility});
    if let Some(group) = group {
        body["namespace_id"] = json!(group);
    }
    let created = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

async fn add_member(app: &TestApp, owner: &TestUser, project: i64, user: &TestUser, level: i64) {
    let body = json!({"user_id": user.user.id.0, "access_level": level});
    let path = format!("/api/v4/projects/{project}/members");
    let added = app.api(Method::POST, &path, Some(&owner.token), Some(body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
}

/// Opens an issue through the API; its JSON.
async fn open(app: &TestApp, user: &TestUser, project: i64, body: Value) -> Value {
    let path = format!("/api/v4/projects/{project}/issues");
    let created = app.api(Method::POST, &path, Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

/// The numbers of the issues a list gives.
async fn iids(app: &TestApp, user: Option<&TestUser>, path: &str) -> Vec<i64> {
    let listed = app.api(Method::GET, path, user.map(|u| u.token.as_str()), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{path}: {}", listed.body);
    listed.json().as_array().unwrap().iter().map(|issue| issue["iid"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn issues_are_opened_listed_with_filters_and_counted() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let id = project(&app, &owner, "Tracker", "private", None).await;
    add_member(&app, &owner, id, &ada, 30).await;
    let base = format!("/api/v4/projects/{id}");
    for (name, color) in [("bug", "#d9534f"), ("feature", "#5CB85C")] {
        let body = json!({"name": name, "color": color});
        let made = app.api(Method::POST, &format!("{base}/labels"), Some(&owner.token), Some(body)).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }

    let crash = open(
        &app,
        &owner,
        id,
        json!({"title": "Crash on start", "description": "It **crashes**.\n\n- [x] seen\n- [ ] fixed",
               "labels": "bug", "assignee_ids": [ada.user.id.0], "weight": 2, "due_date": "2026-12-31"}),
    )
    .await;
    assert_eq!((crash["iid"].as_i64(), crash["state"].as_str()), (Some(1), Some("opened")));
    assert_eq!(crash["labels"], json!(["bug"]));
    assert_eq!(crash["assignee"]["username"], "ada");
    assert_eq!(crash["author"]["username"], "owner");
    assert_eq!((crash["weight"].as_i64(), crash["due_date"].as_str()), (Some(2), Some("2026-12-31")));
    assert_eq!(crash["task_completion_status"], json!({"count": 2, "completed_count": 1}));
    assert_eq!(crash["references"]["full"], "owner/tracker#1");
    assert_eq!(crash["milestone"], Value::Null);
    assert!(crash["web_url"].as_str().unwrap().ends_with("/owner/tracker/-/issues/1"), "{crash}");
    open(&app, &ada, id, json!({"title": "Dark mode", "labels": ["feature", "bug"]})).await;
    open(&app, &ada, id, json!({"title": "Typo in README", "description": "teh"})).await;

    let all = format!("{base}/issues");
    assert_eq!(iids(&app, Some(&owner), &all).await, [3, 2, 1], "newest first");
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?labels=bug")).await, [2, 1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?labels=bug,FEATURE")).await, [2]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?labels=None")).await, [3]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?labels=Any")).await, [2, 1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?assignee_username=ada")).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?assignee_id={}", ada.user.id.0)).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?assignee_id=None")).await, [3, 2]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?author_username=ada")).await, [3, 2]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?author_id={}", owner.user.id.0)).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?search=TEH")).await, [3], "the description too");
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?iids[]=1&iids[]=3")).await, [3, 1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?order_by=title&sort=asc")).await, [1, 2, 3]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?order_by=due_date&sort=asc")).await[0], 1);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?assignee_username=nobody")).await, Vec::<i64>::new());
    assert_eq!(iids(&app, Some(&ada), &format!("{all}?scope=created_by_me")).await, [3, 2]);
    assert_eq!(iids(&app, Some(&ada), &format!("{all}?scope=assigned_to_me")).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?created_after=2000-01-01T00:00:00Z")).await.len(), 3);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?created_before=2000-01-01")).await.len(), 0);

    let paged = app.api(Method::GET, &format!("{all}?per_page=2&page=2"), Some(&owner.token), None).await;
    assert_eq!((paged.header("x-total"), paged.header("x-total-pages"), paged.header("x-page")), ("3", "2", "2"));
    assert_eq!(paged.json().as_array().unwrap().len(), 1);

    let mine = iids(&app, Some(&ada), "/api/v4/issues").await;
    assert_eq!(mine, [3, 2], "GET /issues is what the caller opened unless asked");
    assert_eq!(iids(&app, Some(&ada), "/api/v4/issues?scope=all").await, [3, 2, 1]);
    assert_eq!(app.api(Method::GET, "/api/v4/issues", None, None).await.status, StatusCode::UNAUTHORIZED);

    let stats = app.api(Method::GET, &format!("{base}/issues_statistics"), Some(&owner.token), None).await;
    assert_eq!(stats.json()["statistics"]["counts"], json!({"all": 3, "closed": 0, "opened": 3}));
    let one = app.api(Method::GET, &format!("{base}/issues/2"), Some(&owner.token), None).await;
    assert_eq!(one.json()["labels"], json!(["bug", "feature"]), "labels by name");
    assert_eq!(app.api(Method::GET, &format!("{base}/issues/9"), Some(&owner.token), None).await.status, 404);
    assert_eq!(app.api(Method::GET, &format!("{base}/issues/x"), Some(&owner.token), None).await.status, 404);
}

#[tokio::test]
async fn confidential_issues_are_seen_by_reporters_their_author_and_assignees_only() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let reporter = app.user("reporter").await;
    let author = app.user("author").await;
    let assignee = app.user("assignee").await;
    let stranger = app.user("stranger").await;
    let id = project(&app, &owner, "Oss", "public", None).await;
    add_member(&app, &owner, id, &guest, 10).await;
    add_member(&app, &owner, id, &reporter, 20).await;
    open(&app, &author, id, json!({"title": "Public bug"})).await;
    let secret = open(&app, &author, id, json!({"title": "Leaked key", "confidential": true})).await;
    assert_eq!(secret["confidential"], json!(true), "anyone may open a confidential issue");
    let path = format!("/api/v4/projects/{id}/issues/2");
    let assign = json!({"assignee_ids": [assignee.user.id.0]});
    let assigned = app.api(Method::PUT, &path, Some(&owner.token), Some(assign)).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);

    let list = format!("/api/v4/projects/{id}/issues");
    for (who, sees) in [
        (None, false),
        (Some(&stranger), false),
        (Some(&guest), false),
        (Some(&reporter), true),
        (Some(&author), true),
        (Some(&assignee), true),
        (Some(&owner), true),
    ] {
        let label = who.map_or("anonymous", |u| u.user.username.as_str());
        let listed = iids(&app, who, &list).await;
        assert_eq!(listed.contains(&2), sees, "{label} lists the confidential issue: {listed:?}");
        assert!(listed.contains(&1), "{label} lists the public issue");
        let one = app.api(Method::GET, &path, who.map(|u| u.token.as_str()), None).await;
        assert_eq!(one.status, if sees { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{label}: {}", one.body);
        let notes = app.api(Method::GET, &format!("{path}/notes"), who.map(|u| u.token.as_str()), None).await;
        assert_eq!(notes.status, if sees { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{label}'s notes");
        let page = app.page(Method::GET, "/owner/oss/-/issues/2", who, None).await;
        assert_eq!(page.status, if sees { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{label}'s page");
        let count = app.page(Method::GET, "/owner/oss/-/issues", who, None).await;
        assert_eq!(count.body.contains("Leaked key"), sees, "{label}'s list page");
    }
    let scope_all = iids(&app, Some(&guest), "/api/v4/issues?scope=all").await;
    assert_eq!(scope_all, [1], "across projects too");
    assert_eq!(iids(&app, Some(&reporter), "/api/v4/issues?scope=all").await, [2, 1]);
    let filtered = iids(&app, Some(&author), &format!("{list}?confidential=true")).await;
    assert_eq!(filtered, [2]);

    // The author and the assignee may edit it and close it; a Guest may not touch others' issues.
    let closed = app.api(Method::PUT, &path, Some(&assignee.token), Some(json!({"state_event": "close"}))).await;
    assert_eq!((closed.status, closed.json()["state"].as_str()), (StatusCode::OK, Some("closed")), "{}", closed.body);
    let public = format!("/api/v4/projects/{id}/issues/1");
    let refused = app.api(Method::PUT, &public, Some(&guest.token), Some(json!({"title": "Mine now"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let renamed = app.api(Method::PUT, &public, Some(&author.token), Some(json!({"title": "Public bug!"}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let labelled = app.api(Method::PUT, &public, Some(&author.token), Some(json!({"labels": "sneaky"}))).await;
    assert_eq!(labelled.json()["labels"], json!([]), "labels are for Reporters, left out as in GitLab");
    let deleted = app.api(Method::DELETE, &public, Some(&reporter.token), None).await;
    assert_eq!(deleted.status, StatusCode::FORBIDDEN, "Owners delete issues");
    assert_eq!(app.api(Method::POST, &list, None, Some(json!({"title": "x"}))).await.status, StatusCode::UNAUTHORIZED);
}

/// The bodies of an issue's notes, oldest first.
async fn note_bodies(app: &TestApp, user: &TestUser, project: i64, iid: i64) -> Vec<String> {
    let path = format!("/api/v4/projects/{project}/issues/{iid}/notes?sort=asc");
    let listed = app.api(Method::GET, &path, Some(&user.token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.json().as_array().unwrap().iter().map(|note| note["body"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_change_leaves_a_system_note_in_gitlab_words() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let id = project(&app, &owner, "Notes", "private", None).await;
    add_member(&app, &owner, id, &ada, 10).await;
    let labels = format!("/api/v4/projects/{id}/labels");
    for name in ["bug", "needs review"] {
        app.api(Method::POST, &labels, Some(&owner.token), Some(json!({"name": name, "color": "#ff0000"}))).await;
    }
    open(&app, &owner, id, json!({"title": "Old title"})).await;
    let path = format!("/api/v4/projects/{id}/issues/1");
    let changes = [
        json!({"state_event": "close"}),
        json!({"state_event": "close"}),
        json!({"state_event": "reopen"}),
        json!({"title": "New title"}),
        json!({"add_labels": "bug,needs review"}),
        json!({"remove_labels": "bug"}),
        json!({"assignee_ids": [ada.user.id.0]}),
        json!({"assignee_ids": [0]}),
        json!({"confidential": true}),
        json!({"due_date": "2026-12-31"}),
        json!({"due_date": ""}),
        json!({"weight": 5}),
        json!({"discussion_locked": true}),
        json!({"description": "Now described"}),
    ];
    for change in changes {
        let changed = app.api(Method::PUT, &path, Some(&owner.token), Some(change.clone())).await;
        assert_eq!(changed.status, StatusCode::OK, "{change}: {}", changed.body);
    }
    assert_eq!(
        note_bodies(&app, &owner, id, 1).await,
        [
            "closed",
            "reopened",
            "changed title from **Old title** to **New title**",
            "added ~bug ~\"needs review\" labels",
            "removed ~bug label",
            "assigned to @ada",
            "unassigned @ada",
            "made the issue confidential",
            "changed due date to December 31, 2026",
            "removed due date",
            "changed weight to **5**",
            "locked the discussion in this issue",
            "changed the description",
        ]
    );
    let issue = app.api(Method::GET, &path, Some(&owner.token), None).await.json();
    assert_eq!(issue["user_notes_count"], json!(0), "system notes are not people's");
    assert_eq!(issue["closed_at"], Value::Null);
    let visible = app.api(Method::PUT, &path, Some(&owner.token), Some(json!({"confidential": false}))).await;
    assert_eq!(visible.status, StatusCode::OK);
    let locked = app.api(Method::POST, &format!("{path}/notes"), Some(&ada.token), Some(json!({"body": "hi"}))).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN, "a locked discussion: {}", locked.body);
}

#[tokio::test]
async fn comments_are_changed_and_deleted_by_their_author_only() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let bo = app.user("bo").await;
    let id = project(&app, &owner, "Talk", "private", None).await;
    add_member(&app, &owner, id, &ada, 10).await;
    add_member(&app, &owner, id, &bo, 40).await;
    open(&app, &owner, id, json!({"title": "Discuss"})).await;
    let notes = format!("/api/v4/projects/{id}/issues/1/notes");
    let made = app.api(Method::POST, &notes, Some(&ada.token), Some(json!({"body": "First!"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "a Guest comments: {}", made.body);
    let note = made.json();
    assert_eq!((note["author"]["username"].as_str(), note["system"].as_bool()), (Some("ada"), Some(false)));
    assert_eq!((note["noteable_type"].as_str(), note["noteable_iid"].as_i64()), (Some("Issue"), Some(1)));
    let path = format!("{notes}/{}", note["id"]);

    let by_other = app.api(Method::PUT, &path, Some(&bo.token), Some(json!({"body": "edited by bo"}))).await;
    assert_eq!(by_other.status, StatusCode::FORBIDDEN, "a Maintainer does not edit ada's words");
    assert_eq!(app.api(Method::DELETE, &path, Some(&bo.token), None).await.status, StatusCode::FORBIDDEN);
    let edited = app.api(Method::PUT, &path, Some(&ada.token), Some(json!({"body": "Second thoughts"}))).await;
    assert_eq!((edited.status, edited.json()["body"].as_str()), (StatusCode::OK, Some("Second thoughts")));
    let blank = app.api(Method::PUT, &path, Some(&ada.token), Some(json!({"body": "  "}))).await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{}", blank.body);
    assert_eq!(app.api(Method::DELETE, &path, Some(&ada.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, &path, Some(&ada.token), None).await.status, StatusCode::NOT_FOUND);

    let closed = app
        .api(
            Method::PUT,
            &format!("/api/v4/projects/{id}/issues/1"),
            Some(&owner.token),
            Some(json!({"state_event": "close"})),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK);
    let system = app.api(Method::GET, &notes, Some(&owner.token), None).await.json();
    let system_id = system[0]["id"].as_i64().unwrap();
    let change =
        app.api(Method::PUT, &format!("{notes}/{system_id}"), Some(&owner.token), Some(json!({"body": "x"}))).await;
    assert_eq!(change.status, StatusCode::FORBIDDEN, "system notes stay: {}", change.body);
}

#[tokio::test]
async fn labels_of_groups_reach_their_projects() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let group = app
        .api(Method::POST, "/api/v4/groups", Some(&owner.token), Some(json!({"name": "Acme", "path": "acme"})))
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let group_id = group.json()["id"].as_i64().unwrap();
    for (user, level) in [(&reporter, 20), (&guest, 10)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        app.api(Method::POST, &format!("/api/v4/groups/{group_id}/members"), Some(&owner.token), Some(body)).await;
    }
    let id = project(&app, &owner, "Web", "private", Some(group_id)).await;
    let group_labels = format!("/api/v4/groups/{group_id}/labels");
    let project_labels = format!("/api/v4/projects/{id}/labels");
    let made = app
        .api(
            Method::POST,
            &group_labels,
            Some(&reporter.token),
            Some(json!({"name": "priority::high", "color": "#FF0000"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!((made.json()["color"].as_str(), made.json()["text_color"].as_str()), (Some("#ff0000"), Some("#000000")));
    assert_eq!(made.json()["is_project_label"], json!(false));
    let by_guest =
        app.api(Method::POST, &project_labels, Some(&guest.token), Some(json!({"name": "x", "color": "#000"}))).await;
    assert_eq!(by_guest.status, StatusCode::FORBIDDEN, "Reporters manage labels");
    let dark = app
        .api(Method::POST, &project_labels, Some(&reporter.token), Some(json!({"name": "docs", "color": "#1f1e24"})))
        .await;
    assert_eq!(dark.json()["text_color"], json!("#ffffff"), "white on a dark label");
    let twice = app
        .api(Method::POST, &project_labels, Some(&reporter.token), Some(json!({"name": "DOCS", "color": "#000000"})))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "unique ignoring case: {}", twice.body);
    let bad_colour = app
        .api(Method::POST, &project_labels, Some(&reporter.token), Some(json!({"name": "odd", "color": "red-ish"})))
        .await;
    assert_eq!(bad_colour.status, StatusCode::BAD_REQUEST, "{}", bad_colour.body);

    let names = |listed: Value| -> Vec<String> {
        listed.as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap().to_owned()).collect()
    };
    let listed = app.api(Method::GET, &project_labels, Some(&guest.token), None).await;
    assert_eq!(names(listed.json()), ["docs", "priority::high"], "the project's and its group's");
    let listed = app.api(Method::GET, &group_labels, Some(&guest.token), None).await;
    assert_eq!(names(listed.json()), ["priority::high"], "a group's own");
    let by_name = app.api(Method::GET, &format!("{project_labels}/priority::high"), Some(&guest.token), None).await;
    assert_eq!(by_name.status, StatusCode::OK, "a label by name: {}", by_name.body);

    let issue = open(&app, &reporter, id, json!({"title": "Slow", "labels": "priority::high,docs"})).await;
    assert_eq!(issue["labels"], json!(["docs", "priority::high"]));
    let renamed = app
        .api(
            Method::PUT,
            &format!("{group_labels}/priority::high"),
            Some(&reporter.token),
            Some(json!({"new_name": "priority::urgent"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let again = app.api(Method::GET, &format!("/api/v4/projects/{id}/issues/1"), Some(&guest.token), None).await;
    assert_eq!(again.json()["labels"], json!(["docs", "priority::urgent"]));
    let deleted = app.api(Method::DELETE, &format!("{project_labels}/docs"), Some(&reporter.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let again = app.api(Method::GET, &format!("/api/v4/projects/{id}/issues/1"), Some(&guest.token), None).await;
    assert_eq!(again.json()["labels"], json!(["priority::urgent"]));
    let group_issues =
        iids(&app, Some(&guest), &format!("/api/v4/groups/{group_id}/issues?labels=priority::urgent")).await;
    assert_eq!(group_issues, [1]);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_sentence_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let id = project(&app, &owner, "Strict", "private", None).await;
    let issues = format!("/api/v4/projects/{id}/issues");
    let cases = [
        (json!({"description": "no title"}), "title is missing"),
        (json!({"title": "   "}), "title can't be blank"),
        (json!({"title": "x".repeat(256)}), "title is too long"),
        (json!({"title": "ok", "description": "d".repeat(1_048_577)}), "description is too long"),
        (json!({"title": "ok", "due_date": "someday"}), "due_date must be a date"),
        (json!({"title": "ok", "weight": -1}), "weight must be a whole number"),
        (json!({"title": "ok", "assignee_ids": [987654]}), "assignee_ids"),
    ];
    for (body, words) in cases {
        let refused = app.api(Method::POST, &issues, Some(&owner.token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{words}: {}", refused.body);
        assert!(refused.body.contains(words), "{words}: {}", refused.body);
    }
    assert_eq!(iids(&app, Some(&owner), &issues).await, Vec::<i64>::new(), "nothing stored");
    let unknown = app.api(Method::GET, &format!("{issues}?labels=nope"), Some(&owner.token), None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert!(unknown.body.contains("nope"), "{}", unknown.body);
    for query in ["state=maybe", "order_by=colour", "sort=up", "created_after=yesterday", "scope=mine"] {
        let refused = app.api(Method::GET, &format!("{issues}?{query}"), Some(&owner.token), None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}: {}", refused.body);
    }
    open(&app, &owner, id, json!({"title": "Fine"})).await;
    let path = format!("{issues}/1");
    let long = app.api(Method::PUT, &path, Some(&owner.token), Some(json!({"title": "y".repeat(256)}))).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST, "{}", long.body);
    let event = app.api(Method::PUT, &path, Some(&owner.token), Some(json!({"state_event": "explode"}))).await;
    assert_eq!(event.status, StatusCode::BAD_REQUEST, "{}", event.body);
    let note = app.api(Method::POST, &format!("{path}/notes"), Some(&owner.token), Some(json!({"body": ""}))).await;
    assert_eq!(note.status, StatusCode::BAD_REQUEST, "{}", note.body);
    let kept = app.api(Method::GET, &path, Some(&owner.token), None).await.json();
    assert_eq!((kept["title"].as_str(), kept["user_notes_count"].as_i64()), (Some("Fine"), Some(0)));
    assert!(note_bodies(&app, &owner, id, 1).await.is_empty(), "a refused change leaves no note");
}

#[tokio::test]
async fn the_pages_open_comment_close_and_delete_issues_without_javascript() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let id = project(&app, &owner, "Pages", "private", None).await;
    add_member(&app, &owner, id, &guest, 10).await;
    let base = "/owner/pages/-";

    let made = app
        .page(
            Method::POST,
            &format!("{base}/labels"),
            Some(&owner),
            Some(&[("title", "urgent"), ("color", "#ffeb3b"), ("description", "Do it now")]),
        )
        .await;
    let labels = app.follow(made, &owner).await;
    assert!(labels.body.contains("Label urgent was created."), "{}", labels.body);
    assert!(labels.body.contains("background-color: #ffeb3b; color: #000000"), "black on yellow: {}", labels.body);

    let tab = app.page(Method::GET, &format!("{base}/issues"), Some(&guest), None).await;
    assert_eq!(tab.status, StatusCode::OK);
    assert!(tab.body.contains("No issues here yet."), "{}", tab.body);
    let form = app.page(Method::GET, &format!("{base}/issues/new"), Some(&guest), None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(!form.body.contains("name=\"weight\""), "a Guest sets no weight");
    let form = app.page(Method::GET, &format!("{base}/issues/new"), Some(&owner), None).await;
    assert!(form.body.contains("name=\"labels\" value=\"urgent\""), "{}", form.body);

    let empty = app
        .page(Method::POST, &format!("{base}/issues"), Some(&owner), Some(&[("title", ""), ("description", "kept")]))
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("Title can&#39;t be blank.") || empty.body.contains("Title can't be blank."),
        "{}",
        empty.body
    );
    assert!(empty.body.contains(">kept</textarea>"), "the draft stays");

    let fields = [
        ("title", "Broken <b>link</b>"),
        ("description", "See **here**\n\n<script>alert(1)</script>"),
        ("labels", "urgent"),
        ("assignees", "guest"),
        ("weight", "3"),
        ("due_date", "2026-12-31"),
    ];
    let opened = app.page(Method::POST, &format!("{base}/issues"), Some(&owner), Some(&fields)).await;
    assert_eq!(opened.header("location"), format!("{base}/issues/1"));
    let page = app.follow(opened, &owner).await;
    assert!(page.body.contains("Issue #1 was opened."), "{}", page.body);
    assert!(page.body.contains("Broken &#60;b&#62;link&#60;/b&#62;"), "the title is escaped: {}", page.body);
    assert!(page.body.contains("<strong>here</strong>") && !page.body.contains("<script>alert"), "markdown, sanitised");
    assert!(page.body.contains("value=\"guest\""), "the sidebar shows the assignee: {}", page.body);

    let list = app.page(Method::GET, &format!("{base}/issues"), Some(&guest), None).await;
    assert!(list.body.contains("Issues <span class=\"badge\">1</span>"), "the tab counts open issues");
    assert!(list.body.contains("#1 · opened"), "{}", list.body);
    assert!(list.body.contains("Assigned to @guest"), "{}", list.body);
    let filtered = app.page(Method::GET, &format!("{base}/issues?label=nope"), Some(&guest), None).await;
    assert_eq!(filtered.status, StatusCode::BAD_REQUEST, "an unknown label is said so");

    let commented = app
        .page(Method::POST, &format!("{base}/issues/1/notes"), Some(&guest), Some(&[("body", "Me too, *badly*")]))
        .await;
    let page = app.follow(commented, &guest).await;
    assert!(page.body.contains("Your comment was added.") && page.body.contains("<em>badly</em>"), "{}", page.body);
    let closed = app.page(Method::POST, &format!("{base}/issues/1/close"), Some(&guest), Some(&[])).await;
    let page = app.follow(closed, &guest).await; // the assignee closes it
    assert!(page.body.contains("Issue #1 was closed.") && page.body.contains("Reopen issue"), "{}", page.body);
    assert!(
        page.body.contains("<strong>@guest</strong> <span class=\"markdown system-body\"><p>closed</p>"),
        "{}",
        page.body
    );
    let list = app.page(Method::GET, &format!("{base}/issues?state=closed"), Some(&guest), None).await;
    assert!(list.body.contains("Broken &#60;b&#62;link&#60;/b&#62;"), "{}", list.body);

    let ask = app.page(Method::POST, &format!("{base}/issues/1/delete"), Some(&owner), Some(&[])).await;
    assert_eq!(ask.status, StatusCode::OK, "unconfirmed, a page asks");
    assert!(ask.body.contains("name=\"confirm\" value=\"yes\""), "{}", ask.body);
    assert_eq!(iids(&app, Some(&owner), &format!("/api/v4/projects/{id}/issues")).await, [1], "still there");
    let refused =
        app.page(Method::POST, &format!("{base}/issues/1/delete"), Some(&guest), Some(&[("confirm", "yes")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let deleted =
        app.page(Method::POST, &format!("{base}/issues/1/delete"), Some(&owner), Some(&[("confirm", "yes")])).await;
    let list = app.follow(deleted, &owner).await;
    assert!(list.body.contains("Issue #1 was deleted."), "{}", list.body);
    assert_eq!(iids(&app, Some(&owner), &format!("/api/v4/projects/{id}/issues")).await, Vec::<i64>::new());
}

#[test]
fn label_chips_are_readable_on_every_colour() {
    for red in (0..=255).step_by(17) {
        for green in (0..=255).step_by(17) {
            for blue in (0..=255).step_by(17) {
                let background = format!("#{red:02x}{green:02x}{blue:02x}");
                let text = gantry_web::label_text_color(&background);
                let text_rgb = if text == "#000000" { [0, 0, 0] } else { [255, 255, 255] };
                let ratio = gantry_web::contrast_ratio([red as u8, green as u8, blue as u8], text_rgb);
                assert!(ratio >= 4.5, "{text} on {background}: {ratio:.2}:1");
            }
        }
    }
}

#[tokio::test]
async fn an_issue_holds_one_label_of_each_scope() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let id = project(&app, &owner, "Scoped", "private", None).await;
    for name in ["priority::high", "priority::low", "team::api::lead", "team::api::member", "bug"] {
        let body = json!({"name": name, "color": "#336699"});
        let made =
            app.api(Method::POST, &format!("/api/v4/projects/{id}/labels"), Some(&owner.token), Some(body)).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    let issue = open(&app, &owner, id, json!({"title": "Scoped", "labels": "priority::low,priority::high,bug"})).await;
    assert_eq!(issue["labels"], json!(["bug", "priority::high"]), "the last of a scope wins");
    let path = format!("/api/v4/projects/{id}/issues/{}", issue["iid"]);
    let changed = app
        .api(Method::PUT, &path, Some(&owner.token), Some(json!({"add_labels": "priority::low,team::api::lead"})))
        .await;
    assert_eq!(changed.json()["labels"], json!(["bug", "priority::low", "team::api::lead"]), "{}", changed.body);
    let changed =
        app.api(Method::PUT, &path, Some(&owner.token), Some(json!({"add_labels": "team::api::member"}))).await;
    assert_eq!(changed.json()["labels"], json!(["bug", "priority::low", "team::api::member"]));
    let notes = app.api(Method::GET, &format!("{path}/notes?sort=asc"), Some(&owner.token), None).await.json();
    let last = notes.as_array().unwrap().last().unwrap()["body"].as_str().unwrap().to_owned();
    assert!(last.contains("team::api::member") && last.contains("removed"), "{last}");
}
