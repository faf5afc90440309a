//! Plan's issue boards through the API and the pages: a project's and a group's, several of
//! each, the first ("Development") made when the boards are first looked at; lists for labels,
//! milestones and people, moved and removed by Reporters; cards moved between lists changing
//! their issues (labels, state, milestone, assignees) with GitLab's system notes, and kept in
//! the order they are put in; Guests may not move others' cards; confidential issues absent for
//! those who may not see them; a group board across its subgroups' projects; bad input refused
//! with a sentence.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A group made through the API by `owner` (under `parent`), with these members; its id.
async fn group(app: &TestApp, owner: &TestUser, path: &str, parent: Option<i64>, members: &[(&TestUser, i64)]) -> i64 {
    let body = json!({"name": path, "path": path, "parent_id": parent, "visibility": "private"});
    let made = app.api(Method::POST, "/api/v4/groups", Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_i64().unwrap();
    for (user, level) in members {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        let added =
            app.api(Method::POST, &format!("/api/v4/groups/{id}/members"), Some(&owner.token), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    id
}

/// A project made through the API by `owner` in `group`; its id.
async fn project(app: &TestApp, owner: &TestUser, name: &str, visibility: &str, group: i64) -> i64 {
    let body = json!({"name": name, "visibility": visibility, "namespace_id": group});
    let made = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()["id"].as_i64().unwrap()
}

/// A label made through the API (`base`: a project's or a group's); its id.
async fn label(app: &TestApp, user: &TestUser, base: &str, name: &str) -> i64 {
    let body = json!({"name": name, "color": "#428bca"});
    let made = app.api(Method::POST, &format!("{base}/labels"), Some(&user.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()["id"].as_i64().unwrap()
}

/// Opens an issue through the API; its JSON.
async fn open(app: &TestApp, user: &TestUser, project: i64, body: Value) -> Value {
    let path = format!("/api/v4/projects/{project}/issues");
    let created = app.api(Method::POST, &path, Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

/// Sends and checks the status; the JSON answered.
async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>, want: u16) -> Value {
    let answer = app.api(method.clone(), path, Some(&user.token), body).await;
    assert_eq!(answer.status.as_u16(), want, "{method} {path}: {}", answer.body);
    if answer.body.is_empty() { Value::Null } else { answer.json() }
}

#[tokio::test]
async fn boards_and_lists_are_made_listed_moved_and_deleted_by_reporters() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", None, &[(&reporter, 20), (&guest, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");
    let todo = label(&app, &owner, &base, "To Do").await;
    let doing = label(&app, &owner, &base, "Doing").await;
    let shared = label(&app, &owner, &format!("/api/v4/groups/{acme}"), "Shared").await;
    let boards = format!("{base}/boards");

    // The first look makes "Development", with no lists; a second look makes no other.
    let first = call(&app, &guest, Method::GET, &boards, None, 200).await;
    assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first[0]["name"], "Development");
    assert_eq!(first[0]["lists"], json!([]));
    assert_eq!(first[0]["project"]["id"].as_i64(), Some(id), "{first}");
    assert_eq!(first[0]["project"]["path_with_namespace"], "acme/web");
    assert_eq!(
        (first[0]["hide_backlog_list"].as_bool(), first[0]["hide_closed_list"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(call(&app, &owner, Method::GET, &boards, None, 200).await.as_array().unwrap().len(), 1);

    let made = call(&app, &reporter, Method::POST, &boards, Some(json!({"name": "Sprint"})), 201).await;
    assert_eq!(made["name"], "Sprint");
    let board = format!("{boards}/{}", made["id"]);
    let lists = format!("{board}/lists");
    let a = call(&app, &reporter, Method::POST, &lists, Some(json!({"label_id": todo})), 201).await;
    assert_eq!((a["list_type"].as_str(), a["position"].as_i64()), (Some("label"), Some(0)), "{a}");
    assert_eq!(a["label"]["name"], "To Do");
    let b = call(&app, &reporter, Method::POST, &lists, Some(json!({"label_id": doing})), 201).await;
    let c = call(&app, &reporter, Method::POST, &lists, Some(json!({"label_id": shared})), 201).await;
    assert_eq!(c["position"].as_i64(), Some(2), "a group's label makes a list of a project's board too");
    let d = call(&app, &reporter, Method::POST, &lists, Some(json!({"assignee_id": guest.user.id.0})), 201).await;
    assert_eq!((d["list_type"].as_str(), d["assignee"]["username"].as_str()), (Some("assignee"), Some("guest")));
    let again = app.api(Method::POST, &lists, Some(&reporter.token), Some(json!({"label_id": todo}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "one list per label: {}", again.body);

    let moved =
        call(&app, &reporter, Method::PUT, &format!("{lists}/{}", c["id"]), Some(json!({"position": 0})), 200).await;
    assert_eq!(moved["position"].as_i64(), Some(0));
    let order: Vec<(i64, i64)> = call(&app, &guest, Method::GET, &lists, None, 200)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_i64().unwrap(), l["position"].as_i64().unwrap()))
        .collect();
    let ids = |v: &Value| v["id"].as_i64().unwrap();
    assert_eq!(order, [(ids(&c), 0), (ids(&a), 1), (ids(&b), 2), (ids(&d), 3)]);
    let one = call(&app, &guest, Method::GET, &format!("{lists}/{}", b["id"]), None, 200).await;
    assert_eq!(one["label"]["name"], "Doing");
    call(&app, &reporter, Method::DELETE, &format!("{lists}/{}", a["id"]), None, 204).await;
    let positions: Vec<i64> = call(&app, &guest, Method::GET, &board, None, 200).await["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [0, 1, 2], "the others close up");

    let renamed =
        call(&app, &reporter, Method::PUT, &board, Some(json!({"name": "Sprint 2", "hide_closed_list": true})), 200)
            .await;
    assert_eq!((renamed["name"].as_str(), renamed["hide_closed_list"].as_bool()), (Some("Sprint 2"), Some(true)));
    assert_eq!(call(&app, &guest, Method::GET, &boards, None, 200).await.as_array().unwrap().len(), 2);

    // Guests read; they and strangers change nothing.
    assert_eq!(app.api(Method::GET, &board, Some(&stranger.token), None).await.status, StatusCode::NOT_FOUND);
    let refused = app.api(Method::POST, &boards, Some(&guest.token), Some(json!({"name": "x"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = app.api(Method::POST, &lists, Some(&guest.token), Some(json!({"label_id": todo}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = app.api(Method::PUT, &format!("{lists}/{}", b["id"]), Some(&guest.token), Some(json!({}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "rights before input");
    assert_eq!(app.api(Method::DELETE, &board, Some(&guest.token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, &format!("{boards}/x"), Some(&guest.token), None).await.status, 404);
    assert_eq!(app.api(Method::GET, &format!("{boards}/999"), Some(&guest.token), None).await.status, 404);
    assert_eq!(app.api(Method::GET, &format!("{lists}/999"), Some(&guest.token), None).await.status, 404);

    call(&app, &reporter, Method::DELETE, &board, None, 204).await;
    assert_eq!(app.api(Method::GET, &board, Some(&guest.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, &guest, Method::GET, &boards, None, 200).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_board_input_is_refused_with_a_sentence() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", None, &[]).await;
    let other = group(&app, &owner, "other", None, &[]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let elsewhere = project(&app, &owner, "Elsewhere", "private", other).await;
    let foreign = label(&app, &owner, &format!("/api/v4/projects/{elsewhere}"), "Foreign").await;
    let boards = format!("/api/v4/projects/{id}/boards");
    let board = call(&app, &owner, Method::POST, &boards, Some(json!({"name": "B"})), 201).await;
    let lists = format!("{boards}/{}/lists", board["id"]);

    for (body, words) in [
        (json!({}), "name is missing"),
        (json!({"name": "  "}), "can't be blank"),
        (json!({"name": "x".repeat(256)}), "too long"),
    ] {
        let refused = app.api(Method::POST, &boards, Some(&owner.token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(refused.body.contains(words), "{words}: {}", refused.body);
    }
    for (body, words) in [
        (json!({}), "exactly one must be provided"),
        (json!({"label_id": foreign, "assignee_id": 1}), "mutually exclusive"),
        (json!({"label_id": foreign}), "not a label this board may use"),
        (json!({"label_id": -1}), "must be a positive id"),
        (json!({"milestone_id": 999}), "not a milestone this board may use"),
        (json!({"assignee_id": stranger.user.id.0}), "cannot see this board"),
        (json!({"assignee_id": 99999}), "no active user"),
        (json!({"iteration_id": 1}), "iterations do not exist yet"),
    ] {
        let refused = app.api(Method::POST, &lists, Some(&owner.token), Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert!(refused.body.contains(words), "{words}: {}", refused.body);
    }
    let list = call(&app, &owner, Method::POST, &lists, Some(json!({"assignee_id": owner.user.id.0})), 201).await;
    let one = format!("{lists}/{}", list["id"]);
    let refused = app.api(Method::PUT, &one, Some(&owner.token), Some(json!({}))).await;
    assert!(
        refused.status == StatusCode::BAD_REQUEST && refused.body.contains("position is missing"),
        "{}",
        refused.body
    );
    let refused = app.api(Method::PUT, &one, Some(&owner.token), Some(json!({"position": -1}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let last = call(&app, &owner, Method::PUT, &one, Some(json!({"position": 99})), 200).await;
    assert_eq!(last["position"].as_i64(), Some(0), "beyond the end is the end");
}

#[tokio::test]
async fn reorder_places_an_issue_between_two_and_keeps_the_order() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let acme = group(&app, &owner, "acme", None, &[(&guest, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let other = project(&app, &owner, "Other", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");
    let mut issues = Vec::new();
    for title in ["one", "two", "three", "four"] {
        issues.push(open(&app, &owner, id, json!({"title": title})).await);
    }
    let positions: Vec<i64> = issues.iter().map(|i| i["relative_position"].as_i64().unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "new issues go last: {positions:?}");
    let order = async || -> Vec<String> {
        let listed =
            call(&app, &owner, Method::GET, &format!("{base}/issues?order_by=relative_position&sort=asc"), None, 200)
                .await;
        listed.as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(order().await, ["one", "two", "three", "four"]);
    let iid = |i: usize| issues[i]["iid"].as_i64().unwrap();
    let gid = |i: usize| issues[i]["id"].as_i64().unwrap();
    let reorder = |i: usize| format!("{base}/issues/{}/reorder", iid(i));

    // "four" between "one" and "two": before is the one that precedes, after the one that follows.
    let body = json!({"move_before_id": gid(0), "move_after_id": gid(1)});
    let moved = call(&app, &owner, Method::PUT, &reorder(3), Some(body), 200).await;
    assert_eq!(moved["iid"].as_i64(), Some(iid(3)));
    assert_eq!(order().await, ["one", "four", "two", "three"]);
    // To the top: only the one to follow.
    call(&app, &owner, Method::PUT, &reorder(2), Some(json!({"move_after_id": gid(0)})), 200).await;
    assert_eq!(order().await, ["three", "one", "four", "two"]);
    // To the end: only the one to precede.
    call(&app, &owner, Method::PUT, &reorder(2), Some(json!({"move_before_id": gid(1)})), 200).await;
    assert_eq!(order().await, ["one", "four", "two", "three"]);
    // Squeezing in again and again: when no gap is left, the later issues make room.
    for _ in 0..12 {
        call(
            &app,
            &owner,
            Method::PUT,
            &reorder(1),
            Some(json!({"move_before_id": gid(0), "move_after_id": gid(3)})),
            200,
        )
        .await;
        call(
            &app,
            &owner,
            Method::PUT,
            &reorder(3),
            Some(json!({"move_before_id": gid(0), "move_after_id": gid(1)})),
            200,
        )
        .await;
    }
    assert_eq!(order().await, ["one", "four", "two", "three"]);
    let notes = call(&app, &owner, Method::GET, &format!("{base}/issues/{}/notes", iid(3)), None, 200).await;
    assert_eq!(notes, json!([]), "a new place is no change worth a note");

    // Bad input, and who may not.
    let stranger_issue = open(&app, &owner, other, json!({"title": "elsewhere"})).await;
    for (body, words) in [
        (json!({}), "at least one is required"),
        (json!({"move_before_id": stranger_issue["id"]}), "no other issue of this board or project"),
        (json!({"move_before_id": gid(2), "move_after_id": gid(0)}), "the issue before must come first"),
        (json!({"move_after_id": -3}), "must be an issue's id"),
    ] {
        let refused = app.api(Method::PUT, &reorder(1), Some(&owner.token), Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert!(refused.body.contains(words), "{words}: {}", refused.body);
    }
    let refused = app.api(Method::PUT, &reorder(1), Some(&guest.token), Some(json!({"move_after_id": gid(0)}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a Guest may not move others' issues: {}", refused.body);
}
