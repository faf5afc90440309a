//! Plan's issue boards through the API and the pages: a project's and a group's, several of
//! each, the first ("Development") made when the boards are first looked at; lists for labels,
//! milestones, people and iterations, moved and removed by Reporters; cards moved between
//! lists changing their issues (labels, state, milestone, assignees, iteration) with GitLab's
//! system notes, and kept in the order they are put in; Guests may not move others' cards;
//! confidential issues absent for those who may not see them; a group board across its
//! subgroups' projects; a long column shown a page of cards at a time; bad input refused with
//! a sentence.
//!
//! Long because each board feature is walked through both doors, the API's and the pages'.

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

    // The API lists none until the boards page's first look makes "Development" (as GitLab's
    // page does), with no lists; a second look makes no other.
    assert_eq!(call(&app, &guest, Method::GET, &boards, None, 200).await, json!([]));
    let page = app.page(Method::GET, "/acme/web/-/boards", Some(&guest), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
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
        (json!({"iteration_id": 1}), "not an iteration this board may use"),
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

/// The bodies of an issue's notes, oldest first.
async fn notes(app: &TestApp, user: &TestUser, project: i64, iid: i64) -> Vec<String> {
    let path = format!("/api/v4/projects/{project}/issues/{iid}/notes?sort=asc");
    let listed = call(app, user, Method::GET, &path, None, 200).await;
    listed.as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_owned()).collect()
}

/// Posts a card's move form on `page` as `who`, coming back to the board with a filter.
async fn move_card(
    app: &TestApp,
    who: &TestUser,
    page: &str,
    issue: &Value,
    fields: Vec<(&'static str, String)>,
) -> crate::support::TestResponse {
    let path = format!("{page}/issues/{}/move", issue["id"]);
    let mut form = fields;
    form.push(("return_to", format!("{page}?search=")));
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.page(Method::POST, &path, Some(who), Some(&borrowed)).await
}

/// The titles of a column of a board page, in order (`key`: open, closed or a list's id).
fn column(page: &str, key: &str) -> Vec<String> {
    let start = page.find(&format!("data-list-id=\"{key}\"")).unwrap_or_else(|| panic!("no column {key}: {page}"));
    let rest = &page[start..];
    let end = rest[1..].find("class=\"board-list\"").map_or(rest.len(), |end| end + 1);
    rest[..end]
        .split("<a href=\"/")
        .skip(1)
        .filter_map(|part| part.split_once("<strong>").and_then(|(_, t)| t.split_once("</strong>")).map(|(t, _)| t))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn moving_cards_changes_their_issues_with_system_notes_and_keeps_their_order() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let acme = group(&app, &owner, "acme", None, &[(&reporter, 20), (&guest, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");
    let todo = label(&app, &owner, &base, "Todo").await;
    let doing = label(&app, &owner, &base, "Doing").await;
    let v1 = call(&app, &owner, Method::POST, &format!("{base}/milestones"), Some(json!({"title": "v1"})), 201).await;
    let docs = open(&app, &owner, id, json!({"title": "Write docs", "labels": "Todo"})).await;
    let bug = open(&app, &owner, id, json!({"title": "Fix bug", "weight": 3})).await;
    let third = open(&app, &owner, id, json!({"title": "Third"})).await;
    let board =
        call(&app, &reporter, Method::POST, &format!("{base}/boards"), Some(json!({"name": "Flow"})), 201).await;
    let lists = format!("{base}/boards/{}/lists", board["id"]);
    let mut list_ids = Vec::new();
    for body in [
        json!({"label_id": todo}),
        json!({"label_id": doing}),
        json!({"milestone_id": v1["id"]}),
        json!({"assignee_id": guest.user.id.0}),
    ] {
        list_ids.push(
            call(&app, &reporter, Method::POST, &lists, Some(body), 201).await["id"].as_i64().unwrap().to_string(),
        );
    }
    let [todo_list, doing_list, v1_list, guest_list] = [0, 1, 2, 3].map(|i| list_ids[i].clone());
    let page = format!("/acme/web/-/boards/{}", board["id"]);

    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(column(&shown.body, "open"), ["Fix bug", "Third"], "open issues in no list, in the board's order");
    assert_eq!(column(&shown.body, &todo_list), ["Write docs"]);
    assert!(shown.body.contains("draggable=\"true\" data-issue-id="), "cards are draggable for a script");
    assert!(shown.body.contains(&format!("data-issue-iid=\"{}\"", bug["iid"])));
    assert!(shown.body.contains("weight 3"));
    assert!(shown.body.contains("Move to"), "each card has a form that moves it without JavaScript");

    let iid = |v: &Value| v["iid"].as_i64().unwrap();

    // A label's list to another's: the label changes, with GitLab's note.
    let moved =
        move_card(&app, &reporter, &page, &docs, vec![("from", todo_list.clone()), ("to", doing_list.clone())]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.header("location"), format!("{page}?search="), "back to the board and its filters");
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", iid(&docs)), None, 200).await;
    assert_eq!(got["labels"], json!(["Doing"]));
    let said = notes(&app, &owner, id, iid(&docs)).await;
    assert!(said.last().unwrap().starts_with("added ~") && said.last().unwrap().contains("removed ~"), "{said:?}");
    // To Closed: closed, the lists' labels taken off; out of it: reopened.
    move_card(&app, &reporter, &page, &docs, vec![("from", doing_list.clone()), ("to", "closed".into())]).await;
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", iid(&docs)), None, 200).await;
    assert_eq!((got["state"].as_str(), &got["labels"]), (Some("closed"), &json!([])), "{got}");
    move_card(&app, &reporter, &page, &docs, vec![("from", "closed".into()), ("to", "open".into())]).await;
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", iid(&docs)), None, 200).await;
    assert_eq!(got["state"], "opened");
    let said = notes(&app, &owner, id, iid(&docs)).await;
    assert_eq!(&said[said.len() - 3..], ["removed ~Doing label", "closed", "reopened"], "{said:?}");
    // A milestone's list sets the milestone; back to Open takes it out; a person's list assigns.
    move_card(&app, &reporter, &page, &bug, vec![("from", "open".into()), ("to", v1_list.clone())]).await;
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", iid(&bug)), None, 200).await;
    assert_eq!(got["milestone"]["title"], "v1");
    move_card(&app, &reporter, &page, &bug, vec![("from", v1_list.clone()), ("to", "open".into())]).await;
    move_card(&app, &reporter, &page, &bug, vec![("from", "open".into()), ("to", guest_list.clone())]).await;
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", iid(&bug)), None, 200).await;
    assert_eq!((&got["milestone"], got["assignees"][0]["username"].as_str()), (&Value::Null, Some("guest")));
    assert_eq!(
        notes(&app, &owner, id, iid(&bug)).await,
        ["changed milestone to %v1", "removed milestone", "assigned to @guest"]
    );
    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(column(&shown.body, &guest_list), ["Fix bug"]);
    assert_eq!(column(&shown.body, "open"), ["Write docs", "Third"]);

    // Within a list: between two cards (the one before, the one after), and kept.
    let placed = move_card(
        &app,
        &reporter,
        &page,
        &third,
        vec![("from", "open".into()), ("to", "open".into()), ("move_after_id", docs["id"].to_string())],
    )
    .await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER, "{}", placed.body);
    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(column(&shown.body, "open"), ["Third", "Write docs"]);
    assert_eq!(notes(&app, &owner, id, iid(&third)).await, Vec::<String>::new(), "a new place is no change");

    // A Guest may not move others' cards; bad input says why on the board.
    let refused =
        move_card(&app, &guest, &page, &third, vec![("from", "open".into()), ("to", todo_list.clone())]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let refused = move_card(&app, &guest, &page, &third, vec![("from", "open".into()), ("to", "closed".into())]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let refused =
        move_card(&app, &reporter, &page, &third, vec![("from", "open".into()), ("to", "elsewhere".into())]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("must be open, closed or a list of this board"), "{}", refused.body);
    let refused =
        move_card(&app, &reporter, &page, &third, vec![("from", "open".into()), ("to", "99999".into())]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let guest_sees = app.page(Method::GET, &page, Some(&guest), None).await;
    assert_eq!(guest_sees.status, StatusCode::OK);
    assert!(!guest_sees.body.contains("Add list"), "Guests do not manage lists");
}

#[tokio::test]
async fn the_pages_make_rename_and_delete_boards_and_their_lists_without_javascript() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let acme = group(&app, &owner, "acme", None, &[(&guest, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    label(&app, &owner, &format!("/api/v4/projects/{id}"), "Todo").await;
    let first = app.page(Method::GET, "/acme/web/-/boards", Some(&owner), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("Board Development"), "the first look makes Development");
    assert!(first.body.contains("data-list-id=\"open\"") && first.body.contains("data-list-id=\"closed\""));
    let issues = app.page(Method::GET, "/acme/web/-/issues", Some(&guest), None).await;
    assert!(issues.body.contains("href=\"/acme/web/-/boards\""), "the issue list links the boards");

    let made = app.page(Method::POST, "/acme/web/-/boards", Some(&owner), Some(&[("name", "Sprint")])).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let board = made.header("location").to_owned();
    let shown = app.follow(made, &owner).await;
    assert!(shown.body.contains("Board Sprint was created."), "{}", shown.body);
    let refused = app.page(Method::POST, "/acme/web/-/boards", Some(&owner), Some(&[("name", " ")])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Name can&#39;t be blank."), "{}", refused.body);

    let boards = call(&app, &owner, Method::GET, &format!("/api/v4/projects/{id}/boards"), None, 200).await;
    let todo_choice = format!(
        "label:{}",
        call(&app, &owner, Method::GET, &format!("/api/v4/projects/{id}/labels"), None, 200).await[0]["id"]
    );
    let added =
        app.page(Method::POST, &format!("{board}/lists"), Some(&owner), Some(&[("list", todo_choice.as_str())])).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let added = app.page(Method::POST, &format!("{board}/lists"), Some(&owner), Some(&[("username", "guest")])).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let again = app.page(Method::POST, &format!("{board}/lists"), Some(&owner), Some(&[("username", "guest")])).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let shown = app.page(Method::GET, &board, Some(&owner), None).await;
    assert!(shown.body.contains(">Todo</h3>") && shown.body.contains(">@guest</h3>"), "{}", shown.body);
    let board_id = board.rsplit('/').next().unwrap();
    let lists =
        call(&app, &owner, Method::GET, &format!("/api/v4/projects/{id}/boards/{board_id}/lists"), None, 200).await;
    assert_eq!(lists.as_array().unwrap().len(), 2, "{boards}");
    let removed =
        app.page(Method::POST, &format!("{board}/lists/{}/delete", lists[0]["id"]), Some(&owner), Some(&[])).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);

    let saved = app
        .page(
            Method::POST,
            &format!("{board}/edit"),
            Some(&owner),
            Some(&[("name", "Sprint 2"), ("hide_closed_list", "1")]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = app.page(Method::GET, &board, Some(&owner), None).await;
    assert!(shown.body.contains("Board Sprint 2") && !shown.body.contains("data-list-id=\"closed\""), "{}", shown.body);
    let refused = app.page(Method::POST, &format!("{board}/edit"), Some(&guest), Some(&[("name", "x")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let asks = app.page(Method::POST, &format!("{board}/delete"), Some(&owner), Some(&[])).await;
    assert_eq!(asks.status, StatusCode::OK, "unconfirmed, a page asks");
    assert!(asks.body.contains("Delete board Sprint 2?"), "{}", asks.body);
    let deleted = app.page(Method::POST, &format!("{board}/delete"), Some(&owner), Some(&[("confirm", "yes")])).await;
    assert_eq!((deleted.status, deleted.header("location")), (StatusCode::SEE_OTHER, "/acme/web/-/boards"));
    assert_eq!(app.page(Method::GET, &board, Some(&owner), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn confidential_issues_stay_off_boards_for_those_who_may_not_see_them() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let made = app
        .api(
            Method::POST,
            "/api/v4/groups",
            Some(&owner.token),
            Some(json!({"name": "oss", "path": "oss", "visibility": "public"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let oss = made.json()["id"].as_i64().unwrap();
    let id = project(&app, &owner, "Lib", "public", oss).await;
    let bug = label(&app, &owner, &format!("/api/v4/projects/{id}"), "Bug").await;
    open(&app, &owner, id, json!({"title": "Public bug", "labels": "Bug"})).await;
    open(&app, &owner, id, json!({"title": "Leaked key", "labels": "Bug", "confidential": true})).await;
    open(&app, &owner, id, json!({"title": "Quiet plan", "confidential": true})).await;
    let board =
        call(&app, &owner, Method::POST, &format!("/api/v4/projects/{id}/boards"), Some(json!({"name": "B"})), 201)
            .await;
    let list = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v4/projects/{id}/boards/{}/lists", board["id"]),
        Some(json!({"label_id": bug})),
        201,
    )
    .await;
    let key = list["id"].to_string();
    let page = format!("/oss/lib/-/boards/{}", board["id"]);
    let seen = app.page(Method::GET, &page, Some(&owner), None).await;
    assert_eq!(column(&seen.body, &key), ["Public bug", "Leaked key"]);
    assert_eq!(column(&seen.body, "open"), ["Quiet plan"]);
    for who in [Some(&stranger), None] {
        let seen = app.page(Method::GET, &page, who, None).await;
        assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
        assert_eq!(column(&seen.body, &key), ["Public bug"]);
        assert_eq!(column(&seen.body, "open"), Vec::<String>::new());
        assert!(!seen.body.contains("Leaked key") && !seen.body.contains("Quiet plan"));
    }
    let group_board = app.page(Method::GET, "/oss/-/boards", Some(&stranger), None).await;
    assert_eq!(group_board.status, StatusCode::OK, "{}", group_board.body);
    assert!(group_board.body.contains("Public bug") && !group_board.body.contains("Leaked key"));
    assert!(!group_board.body.contains("Move to"), "who may not move cards gets no forms: {}", group_board.body);
}

#[tokio::test]
async fn a_group_board_spans_its_subgroups_projects_and_uses_group_labels() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let outsider = app.user("outsider").await;
    let acme = group(&app, &owner, "acme", None, &[(&reporter, 20)]).await;
    let team = group(&app, &owner, "team", Some(acme), &[]).await;
    let hidden = group(&app, &owner, "hidden", None, &[(&outsider, 30)]).await;
    let web = project(&app, &owner, "Web", "private", acme).await;
    let api = project(&app, &owner, "Api", "private", team).await;
    let elsewhere = project(&app, &owner, "Elsewhere", "private", hidden).await;
    let doing = label(&app, &owner, &format!("/api/v4/groups/{acme}"), "Doing").await;
    let local = label(&app, &owner, &format!("/api/v4/projects/{web}"), "Local").await;
    open(&app, &owner, web, json!({"title": "Web task"})).await;
    let deep = open(&app, &owner, api, json!({"title": "Api task"})).await;
    open(&app, &owner, elsewhere, json!({"title": "Not in the group"})).await;

    let boards = format!("/api/v4/groups/{acme}/boards");
    let page = app.page(Method::GET, "/acme/-/boards", Some(&reporter), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let first = call(&app, &reporter, Method::GET, &boards, None, 200).await;
    assert_eq!((first[0]["name"].as_str(), first[0]["group"]["id"].as_i64()), (Some("Development"), Some(acme)));
    assert!(first[0].get("project").is_none(), "{first}");
    let board = call(&app, &reporter, Method::POST, &boards, Some(json!({"name": "All"})), 201).await;
    let lists = format!("{boards}/{}/lists", board["id"]);
    let refused = app.api(Method::POST, &lists, Some(&reporter.token), Some(json!({"label_id": local}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "a project's label is not the group's: {}", refused.body);
    let list = call(&app, &reporter, Method::POST, &lists, Some(json!({"label_id": doing})), 201).await;
    assert_eq!(list["label"]["name"], "Doing");

    let page = format!("/acme/-/boards/{}", board["id"]);
    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let mut open_titles = column(&shown.body, "open");
    open_titles.sort();
    assert_eq!(open_titles, ["Api task", "Web task"], "the subgroup's project too, nothing from elsewhere");
    assert!(shown.body.contains("acme/team/api#1"), "a group board names each card's project");

    let moved = app
        .page(
            Method::POST,
            &format!("{page}/issues/{}/move", deep["id"]),
            Some(&reporter),
            Some(&[("from", "open"), ("to", &list["id"].to_string())]),
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let got = call(&app, &owner, Method::GET, &format!("/api/v4/projects/{api}/issues/1"), None, 200).await;
    assert_eq!(got["labels"], json!(["Doing"]), "the group's label, on a subgroup project's issue");
    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(column(&shown.body, &list["id"].to_string()), ["Api task"]);
    let group_page = app.page(Method::GET, "/acme", Some(&reporter), None).await;
    assert!(group_page.body.contains("href=\"/acme/-/boards\""), "the group page links its boards");
    assert_eq!(app.page(Method::GET, &page, Some(&outsider), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_long_column_shows_its_first_cards_and_more_on_request() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let acme = group(&app, &owner, "acme", None, &[]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");
    let doing = label(&app, &owner, &base, "Doing").await;
    for n in 1..=25 {
        open(&app, &owner, id, json!({"title": format!("Card {n}"), "labels": "Doing"})).await;
    }
    let board = call(&app, &owner, Method::POST, &format!("{base}/boards"), Some(json!({"name": "Flow"})), 201).await;
    let list = call(
        &app,
        &owner,
        Method::POST,
        &format!("{base}/boards/{}/lists", board["id"]),
        Some(json!({"label_id": doing})),
        201,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let page = format!("/acme/web/-/boards/{}", board["id"]);
    let first = app.page(Method::GET, &format!("{page}?search=Card"), Some(&owner), None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("<li class=\"board-card\"").count(), 20, "a page of cards: {}", first.body);
    assert!(first.body.contains("and 5 more"), "{}", first.body);
    let more = format!("{page}?search=Card&#38;column={list}&#38;cards=40#list-{list}");
    assert!(first.body.contains(&more), "the filters stay and the column shows more: {}", first.body);

    let all = app.page(Method::GET, &more.replace("&#38;", "&"), Some(&owner), None).await;
    assert_eq!(all.body.matches("<li class=\"board-card\"").count(), 25, "{}", all.body);
    assert!(!all.body.contains("Show more"), "nothing more to show");
    let back = format!("value=\"{page}?search=Card&#38;column={list}&#38;cards=40\"");
    assert!(all.body.contains(&back), "a move comes back to the column showing more: {}", all.body);
    // Asking for more than a column may show is asking for the most it shows.
    let many = app.page(Method::GET, &format!("{page}?column={list}&cards=99999"), Some(&owner), None).await;
    assert_eq!(many.body.matches("<li class=\"board-card\"").count(), 25);
}

#[tokio::test]
async fn iteration_lists_hold_their_iterations_issues_and_a_card_moved_in_or_out_changes_its_iteration() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let acme = group(&app, &owner, "acme", None, &[(&reporter, 20)]).await;
    let team = group(&app, &owner, "team", Some(acme), &[]).await;
    let others = group(&app, &owner, "others", None, &[]).await;
    let web = project(&app, &owner, "Web", "private", team).await;
    let day = |days: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string();
    let iteration = async |group: i64, title: &str| -> Value {
        let cadences = format!("/api/v4/groups/{group}/iteration_cadences");
        let body = json!({"title": format!("{title} cadence"), "start_date": day(-1), "automatic": false});
        let cadence = call(&app, &owner, Method::POST, &cadences, Some(body), 201).await;
        let body = json!({"title": title, "start_date": day(-1), "due_date": day(12)});
        call(&app, &owner, Method::POST, &format!("{cadences}/{}/iterations", cadence["id"]), Some(body), 201).await
    };
    let sprint = iteration(acme, "Sprint 2").await;
    let theirs = iteration(others, "Their sprint").await;
    let planned = open(&app, &owner, web, json!({"title": "Planned", "iteration_id": sprint["id"]})).await;
    let loose = open(&app, &owner, web, json!({"title": "Loose"})).await;

    // A project's board takes an iteration of the groups above it, once, and no other group's.
    let base = format!("/api/v4/projects/{web}");
    let board =
        call(&app, &reporter, Method::POST, &format!("{base}/boards"), Some(json!({"name": "Sprint"})), 201).await;
    let lists = format!("{base}/boards/{}/lists", board["id"]);
    let list = call(&app, &reporter, Method::POST, &lists, Some(json!({"iteration_id": sprint["id"]})), 201).await;
    assert_eq!(
        (list["list_type"].as_str(), list["iteration"]["title"].as_str()),
        (Some("iteration"), Some("Sprint 2"))
    );
    let again = app.api(Method::POST, &lists, Some(&reporter.token), Some(json!({"iteration_id": sprint["id"]}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let refused =
        app.api(Method::POST, &lists, Some(&reporter.token), Some(json!({"iteration_id": theirs["id"]}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("not an iteration this board may use"), "{}", refused.body);
    let listed = call(&app, &reporter, Method::GET, &format!("{lists}/{}", list["id"]), None, 200).await;
    assert_eq!(listed["iteration"]["id"], sprint["id"]);

    // The list holds the iteration's open issues; the open column the others.
    let page = format!("/acme/team/web/-/boards/{}", board["id"]);
    let key = list["id"].to_string();
    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(column(&shown.body, &key), ["Planned"]);
    assert_eq!(column(&shown.body, "open"), ["Loose"]);
    assert!(shown.body.contains(">Sprint 2</h3>") && shown.body.contains(" · Sprint 2</p>"), "{}", shown.body);

    // Into the list: the issue is in the iteration; back to Open: out of it, with notes.
    let moved = move_card(&app, &reporter, &page, &loose, vec![("from", "open".into()), ("to", key.clone())]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", loose["iid"]), None, 200).await;
    assert_eq!(got["iteration"]["id"], sprint["id"]);
    move_card(&app, &reporter, &page, &planned, vec![("from", key.clone()), ("to", "open".into())]).await;
    let got = call(&app, &owner, Method::GET, &format!("{base}/issues/{}", planned["iid"]), None, 200).await;
    assert_eq!(got["iteration"], Value::Null);
    let loose_iid = loose["iid"].as_i64().unwrap();
    assert_eq!(notes(&app, &owner, web, loose_iid).await, ["changed iteration to **Sprint 2**"]);
    assert_eq!(notes(&app, &owner, web, planned["iid"].as_i64().unwrap()).await, ["removed iteration"]);
    let shown = app.page(Method::GET, &page, Some(&reporter), None).await;
    assert_eq!(
        (column(&shown.body, &key), column(&shown.body, "open")),
        (vec!["Loose".to_owned()], vec!["Planned".to_owned()])
    );

    // A group's board offers the group's open iterations in its form and adds one from it.
    let group_board = call(
        &app,
        &reporter,
        Method::POST,
        &format!("/api/v4/groups/{team}/boards"),
        Some(json!({"name": "Team"})),
        201,
    )
    .await;
    let group_page = format!("/acme/team/-/boards/{}", group_board["id"]);
    let shown = app.page(Method::GET, &group_page, Some(&reporter), None).await;
    let choice = format!("iteration:{}", sprint["id"]);
    assert!(shown.body.contains("<optgroup label=\"Iterations\">") && shown.body.contains(&choice), "{}", shown.body);
    let added = app
        .page(Method::POST, &format!("{group_page}/lists"), Some(&reporter), Some(&[("list", choice.as_str())]))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let shown = app.page(Method::GET, &group_page, Some(&reporter), None).await;
    assert!(shown.body.contains(">Sprint 2</h3>"), "{}", shown.body);
    let bad =
        app.page(Method::POST, &format!("{group_page}/lists"), Some(&reporter), Some(&[("list", "iteration:x")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // Deleting the iteration takes its lists with it.
    let deleted = app
        .api(Method::DELETE, &format!("/api/v4/groups/{acme}/iterations/{}", sprint["id"]), Some(&owner.token), None)
        .await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    let left = call(&app, &reporter, Method::GET, &lists, None, 200).await;
    assert_eq!(left, json!([]));
}

#[tokio::test]
async fn a_board_kept_between_views_shows_every_change_however_it_was_written() {
    use gantry_types::{IssueId, IssueState, LabelId, UserId};
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let acme = group(&app, &owner, "acme", None, &[]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");
    let todo = label(&app, &owner, &base, "Todo").await;
    let planned = open(&app, &owner, id, json!({"title": "Planned", "labels": "Todo"})).await;
    let loose = open(&app, &owner, id, json!({"title": "Loose"})).await;
    let board = call(&app, &owner, Method::POST, &format!("{base}/boards"), Some(json!({"name": "Flow"})), 201).await;
    let lists = format!("{base}/boards/{}/lists", board["id"]);
    let todo_list = call(&app, &owner, Method::POST, &lists, Some(json!({"label_id": todo})), 201).await;
    let owner_list = call(&app, &owner, Method::POST, &lists, Some(json!({"assignee_id": owner.user.id.0})), 201).await;
    let (todo_key, owner_key) = (todo_list["id"].to_string(), owner_list["id"].to_string());
    let page = format!("/acme/web/-/boards/{}", board["id"]);
    let columns = async || {
        let shown = app.page(Method::GET, &page, Some(&owner), None).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        [column(&shown.body, "open"), column(&shown.body, &todo_key), column(&shown.body, &owner_key)]
    };
    assert_eq!(columns().await, [vec!["Loose"], vec!["Planned"], vec![]]);
    assert_eq!(columns().await, [vec!["Loose"], vec!["Planned"], vec![]], "the same again, as kept");

    // Written straight to the database, as another server sharing it would, or a cascade.
    let issue_id = |issue: &Value| IssueId(issue["id"].as_i64().unwrap());
    let mut conn = app.core.db().conn().await.unwrap();
    gantry_db::plan::labels::remove_issue_label(&mut conn, issue_id(&planned), LabelId(todo)).await.unwrap();
    drop(conn);
    assert_eq!(columns().await, [vec!["Planned", "Loose"], vec![], vec![]]);
    let mut conn = app.core.db().conn().await.unwrap();
    gantry_db::plan::issues::set_issue_assignees(&mut conn, issue_id(&loose), &[UserId(owner.user.id.0)])
        .await
        .unwrap();
    drop(conn);
    assert_eq!(columns().await, [vec!["Planned"], vec![], vec!["Loose"]]);
    let mut conn = app.core.db().conn().await.unwrap();
    gantry_db::plan::issues::set_issue_state(&mut conn, issue_id(&planned), IssueState::Closed, None).await.unwrap();
    drop(conn);
    assert_eq!(columns().await, [vec![], vec![], vec!["Loose"]]);
    // Through the API, and a deleted issue.
    call(&app, &owner, Method::PUT, &format!("{base}/issues/{}", loose["iid"]), Some(json!({"labels": "Todo"})), 200)
        .await;
    assert_eq!(columns().await, [vec![], vec!["Loose"], vec!["Loose"]]);
    let deleted = app.api(Method::DELETE, &format!("{base}/issues/{}", loose["iid"]), Some(&owner.token), None).await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    assert_eq!(columns().await, [Vec::<String>::new(), vec![], vec![]]);

    // Many changes later (their rows folded in the background meanwhile), still every one seen.
    let mut conn = app.core.db().conn().await.unwrap();
    for _ in 0..40 {
        gantry_db::plan::labels::add_issue_label(&mut conn, issue_id(&planned), LabelId(todo)).await.unwrap();
        gantry_db::plan::labels::remove_issue_label(&mut conn, issue_id(&planned), LabelId(todo)).await.unwrap();
    }
    drop(conn);
    assert_eq!(columns().await, [Vec::<String>::new(), vec![], vec![]]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut conn = app.core.db().conn().await.unwrap();
    gantry_db::plan::issues::set_issue_state(&mut conn, issue_id(&planned), IssueState::Opened, None).await.unwrap();
    drop(conn);
    assert_eq!(columns().await, [vec!["Planned"], vec![], vec![]]);
    assert_eq!(columns().await, [vec!["Planned"], vec![], vec![]]);
}
