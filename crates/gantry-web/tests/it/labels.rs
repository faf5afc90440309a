//! Labels beyond their names, as GitLab has them: a project's priorities (set through the API
//! and ordered on the labels page), subscriptions (a project's and a group's, each person's
//! own), promotion of a project label to its group (which merges the group projects' labels of
//! that name), and a group's labels page. Bad input is refused with a sentence.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A group made by `owner` with these members; its id.
async fn group(app: &TestApp, owner: &TestUser, path: &str, members: &[(&TestUser, i64)]) -> i64 {
    let made =
        app.api(Method::POST, "/api/v4/groups", Some(&owner.token), Some(json!({"name": path, "path": path}))).await;
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

/// A private project made by `owner`, in `group` when given; its id.
async fn project(app: &TestApp, owner: &TestUser, name: &str, group: Option<i64>) -> i64 {
    let mut body = json!({"name": name, "visibility": "private"});
    if let Some(group) = group {
        body["namespace_id"] = json!(group);
    }
    let made = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()["id"].as_i64().unwrap()
}

async fn call(
    app: &TestApp,
    user: Option<&TestUser>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let answer = app.api(method, path, user.map(|u| u.token.as_str()), body).await;
    let json = if answer.body.is_empty() { Value::Null } else { answer.json() };
    (answer.status, json)
}

/// The label called `name` in a list of labels.
fn named<'a>(labels: &'a Value, name: &str) -> &'a Value {
    labels
        .as_array()
        .unwrap()
        .iter()
        .find(|label| label["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {labels}"))
}

#[tokio::test]
async fn labels_are_prioritized_and_subscribed_to_by_each_person() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let rita = app.user("rita").await;
    let gus = app.user("gus").await;
    let stranger = app.user("stranger").await;
    let team = group(&app, &owner, "team", &[(&rita, 20), (&gus, 10)]).await;
    let id = project(&app, &owner, "App", Some(team)).await;
    let labels = format!("/api/v4/projects/{id}/labels");

    let (status, bug) =
        call(&app, Some(&rita), Method::POST, &labels, Some(json!({"name": "bug", "color": "#d9534f", "priority": 2})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{bug}");
    assert_eq!((bug["priority"].clone(), bug["subscribed"].clone()), (json!(2), json!(false)));
    call(&app, Some(&rita), Method::POST, &labels, Some(json!({"name": "docs"}))).await;
    let (status, _) = call(
        &app,
        Some(&rita),
        Method::POST,
        &format!("/api/v4/groups/{team}/labels"),
        Some(json!({"name": "feature"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (_, list) = call(&app, Some(&gus), Method::GET, &labels, None).await;
    assert_eq!(named(&list, "bug")["priority"], 2);
    assert_eq!(named(&list, "docs")["priority"], Value::Null);
    assert_eq!(named(&list, "feature")["is_project_label"], false);

    // Priorities: Reporters set and take them away; a negative one, or a Guest, is refused.
    let bug_path = format!("{labels}/{}", bug["id"]);
    let (status, changed) = call(&app, Some(&rita), Method::PUT, &bug_path, Some(json!({"priority": null}))).await;
    assert_eq!((status, changed["priority"].clone()), (StatusCode::OK, Value::Null), "{changed}");
    let (status, refused) = call(&app, Some(&rita), Method::PUT, &bug_path, Some(json!({"priority": -1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("priority"), "{refused}");
    let (status, _) = call(&app, Some(&gus), Method::PUT, &bug_path, Some(json!({"priority": 1}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        call(&app, Some(&rita), Method::PUT, &format!("{labels}/docs"), Some(json!({"priority": 0}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = call(
        &app,
        Some(&rita),
        Method::PUT,
        &format!("/api/v4/groups/{team}/labels/feature"),
        Some(json!({"priority": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a group label has no priority in its group: {refused}");

    // Subscriptions are each person's: 201 when it changes, 304 when it was so.
    let (status, subscribed) = call(&app, Some(&gus), Method::POST, &format!("{bug_path}/subscribe"), None).await;
    assert_eq!((status, subscribed["subscribed"].clone()), (StatusCode::CREATED, json!(true)), "{subscribed}");
    let (status, _) = call(&app, Some(&gus), Method::POST, &format!("{bug_path}/subscribe"), None).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (_, list) = call(&app, Some(&gus), Method::GET, &labels, None).await;
    assert_eq!(named(&list, "bug")["subscribed"], true);
    let (_, list) = call(&app, Some(&rita), Method::GET, &labels, None).await;
    assert_eq!(named(&list, "bug")["subscribed"], false, "Rita did not subscribe");
    let (status, _) = call(&app, None, Method::POST, &format!("{bug_path}/subscribe"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a private project is not there for anonymous visitors");
    let (status, _) = call(&app, Some(&stranger), Method::POST, &format!("{bug_path}/subscribe"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a private project's label is not there for outsiders");
    let (status, unsubscribed) = call(&app, Some(&gus), Method::POST, &format!("{bug_path}/unsubscribe"), None).await;
    assert_eq!((status, unsubscribed["subscribed"].clone()), (StatusCode::CREATED, json!(false)));
    let (status, _) = call(&app, Some(&gus), Method::POST, &format!("{bug_path}/unsubscribe"), None).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // A group label subscribed from the group holds in its projects too.
    let feature = format!("/api/v4/groups/{team}/labels/feature");
    let (status, _) = call(&app, Some(&rita), Method::POST, &format!("{feature}/subscribe"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = call(&app, Some(&rita), Method::GET, &labels, None).await;
    assert_eq!(named(&list, "feature")["subscribed"], true);
    let (_, group_list) = call(&app, Some(&rita), Method::GET, &format!("/api/v4/groups/{team}/labels"), None).await;
    assert_eq!(named(&group_list, "feature")["subscribed"], true);
    // Unsubscribing from the project ends it there, and so everywhere.
    let (status, _) = call(&app, Some(&rita), Method::POST, &format!("{labels}/feature/unsubscribe"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, group_list) = call(&app, Some(&rita), Method::GET, &format!("/api/v4/groups/{team}/labels"), None).await;
    assert_eq!(named(&group_list, "feature")["subscribed"], false);
    // Subscribed from the group, a project's subscribe changes nothing; from the group,
    // unsubscribing ends the project's too.
    call(&app, Some(&rita), Method::POST, &format!("{feature}/subscribe"), None).await;
    let (status, _) = call(&app, Some(&rita), Method::POST, &format!("{labels}/feature/subscribe"), None).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    call(&app, Some(&rita), Method::POST, &format!("{feature}/unsubscribe"), None).await;
    let (status, _) = call(&app, Some(&rita), Method::POST, &format!("{labels}/feature/subscribe"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(&app, Some(&rita), Method::POST, &format!("{feature}/unsubscribe"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = call(&app, Some(&rita), Method::GET, &labels, None).await;
    assert_eq!(named(&list, "feature")["subscribed"], false, "no subscription reaches the project any more");
    // A priority that cannot be set saves nothing.
    let body = json!({"name": "never", "priority": -3});
    let (status, _) = call(&app, Some(&rita), Method::POST, &labels, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, Some(&rita), Method::GET, &format!("{labels}/never"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the label was not made");

    // Issues sorted by label priority (docs 0, bug 1; none last, newest first among equals)
    // and by weight (none last), in the API and on the list page.
    let (status, _) = call(&app, Some(&rita), Method::PUT, &bug_path, Some(json!({"priority": 1}))).await;
    assert_eq!(status, StatusCode::OK);
    let issues = format!("/api/v4/projects/{id}/issues");
    for (title, labels, weight) in
        [("One", "docs", json!(3)), ("Two", "bug", Value::Null), ("Three", "", json!(1)), ("Four", "bug", json!(2))]
    {
        let body = json!({"title": title, "labels": labels, "weight": weight});
        let (status, made) = call(&app, Some(&rita), Method::POST, &issues, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
    }
    let iids = |list: &Value| list.as_array().unwrap().iter().map(|i| i["iid"].as_i64().unwrap()).collect::<Vec<_>>();
    let (_, sorted) = call(&app, Some(&gus), Method::GET, &format!("{issues}?order_by=label_priority"), None).await;
    assert_eq!(iids(&sorted), [1, 4, 2, 3]);
    let (_, sorted) = call(&app, Some(&gus), Method::GET, &format!("{issues}?order_by=weight&sort=asc"), None).await;
    assert_eq!(iids(&sorted), [3, 4, 1, 2]);
    let (_, sorted) = call(&app, Some(&gus), Method::GET, &format!("{issues}?order_by=weight&sort=desc"), None).await;
    assert_eq!(iids(&sorted), [1, 4, 3, 2]);
    let (status, refused) = call(&app, Some(&gus), Method::GET, &format!("{issues}?order_by=colour"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.to_string().contains("label_priority"), "{refused}");
    let page = app.page(Method::GET, "/team/app/-/issues?sort=label_priority", Some(&gus), None).await;
    let at = |title: &str| page.body.find(&format!("<strong>{title}</strong>")).unwrap_or_else(|| panic!("{title}"));
    assert!(at("One") < at("Four") && at("Four") < at("Two") && at("Two") < at("Three"), "{}", page.body);
    assert!(page.body.contains("<option value=\"label_priority\" selected>Label priority</option>"), "{}", page.body);
}

#[tokio::test]
async fn a_promoted_label_becomes_its_groups_and_takes_in_its_namesakes() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let rita = app.user("rita").await;
    let gus = app.user("gus").await;
    let team = group(&app, &owner, "team", &[(&rita, 20), (&gus, 10)]).await;
    let app_id = project(&app, &owner, "App", Some(team)).await;
    let web_id = project(&app, &owner, "Web", Some(team)).await;
    let mine = project(&app, &owner, "Mine", None).await;

    let mut bugs = Vec::new();
    for pid in [app_id, web_id] {
        let (status, bug) = call(
            &app,
            Some(&rita),
            Method::POST,
            &format!("/api/v4/projects/{pid}/labels"),
            Some(json!({"name": "bug", "color": "#d9534f"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{bug}");
        bugs.push(bug["id"].as_i64().unwrap());
        let body = json!({"title": format!("Broken in {pid}"), "labels": "bug"});
        let (status, _) =
            call(&app, Some(&rita), Method::POST, &format!("/api/v4/projects/{pid}/issues"), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // Web's bug is prioritized and on a board; Gus subscribed to it.
    let (status, _) = call(
        &app,
        Some(&rita),
        Method::PUT,
        &format!("/api/v4/projects/{web_id}/labels/bug"),
        Some(json!({"priority": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, board) = call(
        &app,
        Some(&rita),
        Method::POST,
        &format!("/api/v4/projects/{web_id}/boards"),
        Some(json!({"name": "Flow"})),
    )
    .await;
    let lists = format!("/api/v4/projects/{web_id}/boards/{}/lists", board["id"]);
    let (status, _) = call(&app, Some(&rita), Method::POST, &lists, Some(json!({"label_id": bugs[1]}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        call(&app, Some(&gus), Method::POST, &format!("/api/v4/projects/{web_id}/labels/bug/subscribe"), None).await;
    assert_eq!(status, StatusCode::CREATED);

    let promote = format!("/api/v4/projects/{app_id}/labels/bug/promote");
    let (status, _) = call(&app, Some(&gus), Method::PUT, &promote, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a Guest promotes nothing");
    let (status, promoted) = call(&app, Some(&rita), Method::PUT, &promote, None).await;
    assert_eq!(status, StatusCode::OK, "{promoted}");
    assert_eq!((promoted["id"].as_i64(), promoted["is_project_label"].clone()), (Some(bugs[0]), json!(false)));

    let (_, group_labels) = call(&app, Some(&gus), Method::GET, &format!("/api/v4/groups/{team}/labels"), None).await;
    assert_eq!(named(&group_labels, "bug")["id"], bugs[0]);
    for pid in [app_id, web_id] {
        let (_, labels) = call(&app, Some(&gus), Method::GET, &format!("/api/v4/projects/{pid}/labels"), None).await;
        let bugs_here: Vec<&Value> = labels.as_array().unwrap().iter().filter(|l| l["name"] == "bug").collect();
        assert_eq!(bugs_here.len(), 1, "one bug label, the group's: {labels}");
        assert_eq!(bugs_here[0]["id"], bugs[0]);
        let (_, issues) =
            call(&app, Some(&gus), Method::GET, &format!("/api/v4/projects/{pid}/issues?labels=bug"), None).await;
        assert_eq!(issues.as_array().unwrap().len(), 1, "the issue keeps its label: {issues}");
    }
    let (_, web_labels) = call(&app, Some(&gus), Method::GET, &format!("/api/v4/projects/{web_id}/labels"), None).await;
    assert_eq!(named(&web_labels, "bug")["priority"], 0, "Web's priority moved over");
    assert_eq!(named(&web_labels, "bug")["subscribed"], true, "Gus's subscription moved over");
    let (_, lists) = call(&app, Some(&gus), Method::GET, &lists, None).await;
    assert_eq!(lists[0]["label"]["id"], bugs[0], "the board's list follows: {lists}");

    // Outside a group there is no group to promote to; a group label is not promoted again.
    call(&app, Some(&owner), Method::POST, &format!("/api/v4/projects/{mine}/labels"), Some(json!({"name": "solo"})))
        .await;
    let (status, refused) =
        call(&app, Some(&owner), Method::PUT, &format!("/api/v4/projects/{mine}/labels/solo/promote"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("not in a group"), "{refused}");
    let (status, _) = call(&app, Some(&rita), Method::PUT, &promote, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bug is the group's now, not App's own");
}

#[tokio::test]
async fn the_labels_pages_prioritize_subscribe_and_promote_without_javascript() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let rita = app.user("rita").await;
    let team = group(&app, &owner, "team", &[(&rita, 20)]).await;
    let id = project(&app, &owner, "App", Some(team)).await;
    let base = "/team/app/-/labels";
    for name in ["bug", "docs", "ux"] {
        let made = app.page(Method::POST, base, Some(&rita), Some(&[("title", name), ("color", "#336699")])).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    }
    let (_, labels) = call(&app, Some(&rita), Method::GET, &format!("/api/v4/projects/{id}/labels"), None).await;
    let label_id = |name: &str| named(&labels, name)["id"].as_i64().unwrap();

    let page = app.page(Method::GET, base, Some(&rita), None).await;
    assert!(page.body.contains("No label is prioritized."), "{}", page.body);
    for name in ["ux", "bug"] {
        let path = format!("{base}/{}/priority", label_id(name));
        let done = app.page(Method::POST, &path, Some(&rita), Some(&[("step", "prioritize")])).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    }
    let prioritized = |body: &str| -> String {
        let start = body.find("aria-label=\"Prioritized labels\"").expect("a prioritized list");
        body[start..start + body[start..].find("</ul>").unwrap()].to_owned()
    };
    let page = app.page(Method::GET, base, Some(&rita), None).await;
    let first = prioritized(&page.body);
    assert!(first.find(">ux<").unwrap() < first.find(">bug<").unwrap(), "in the order given: {first}");
    assert!(!first.contains(">docs<"));
    let up = format!("{base}/{}/priority", label_id("bug"));
    let moved = app.page(Method::POST, &up, Some(&rita), Some(&[("step", "up")])).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let page = app.page(Method::GET, base, Some(&rita), None).await;
    let now = prioritized(&page.body);
    assert!(now.find(">bug<").unwrap() < now.find(">ux<").unwrap(), "bug moved up: {now}");
    let bad = app.page(Method::POST, &up, Some(&rita), Some(&[("step", "sideways")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("prioritize, up, down or remove"), "{}", bad.body);

    let subscription = format!("{base}/{}/subscription", label_id("docs"));
    let done = app.page(Method::POST, &subscription, Some(&rita), Some(&[("subscribed", "yes")])).await;
    let page = app.follow(done, &rita).await;
    assert!(page.body.contains("Subscribed: you will get mail"), "{}", page.body);
    assert!(page.body.contains("aria-label=\"Unsubscribe from label docs\""), "{}", page.body);

    let promote = format!("{base}/{}/promote", label_id("docs"));
    let asked = app.page(Method::POST, &promote, Some(&rita), Some(&[])).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.body.contains("are merged into it"), "the page says what merges: {}", asked.body);
    let done = app.page(Method::POST, &promote, Some(&rita), Some(&[("confirm", "yes")])).await;
    let page = app.follow(done, &rita).await;
    assert!(page.body.contains("Label docs is now a group label."), "{}", page.body);

    // The group's page lists it and makes more.
    let group_page = app.page(Method::GET, "/team/-/labels", Some(&rita), None).await;
    assert_eq!(group_page.status, StatusCode::OK);
    assert!(group_page.body.contains(">docs<") && !group_page.body.contains(">ux<"), "{}", group_page.body);
    let made = app
        .page(Method::POST, "/team/-/labels", Some(&rita), Some(&[("title", "epic-ish"), ("color", "#aabbcc")]))
        .await;
    let group_page = app.follow(made, &rita).await;
    assert!(group_page.body.contains("Label epic-ish was created."), "{}", group_page.body);
    let clash =
        app.page(Method::POST, "/team/-/labels", Some(&rita), Some(&[("title", "DOCS"), ("color", "#000000")])).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    assert!(clash.body.contains("Label already exists"), "{}", clash.body);
}
