//! Plan's milestones through the API and the pages: a project's and a group's, made, listed
//! with GitLab's filters, changed, closed, reopened and deleted by Reporters; issues put in a
//! project's or an ancestor group's milestone with GitLab's system notes, and listed by it;
//! progress that counts only the issues the viewer may see; bad input refused with a sentence;
//! and an issue's participants, which python-gitlab's issue checks ask for.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A group made through the API by `owner`, with these members; its id.
async fn group(app: &TestApp, owner: &TestUser, path: &str, members: &[(&TestUser, i64)]) -> i64 {
    let body = json!({"name": path, "path": path});
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

/// Makes a milestone through the API; its JSON.
async fn milestone(app: &TestApp, user: &TestUser, base: &str, body: Value) -> Value {
    let made = app.api(Method::POST, &format!("{base}/milestones"), Some(&user.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()
}

/// The titles a milestone list gives.
async fn titles(app: &TestApp, user: &TestUser, path: &str) -> Vec<String> {
    let listed = app.api(Method::GET, path, Some(&user.token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{path}: {}", listed.body);
    listed.json().as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_owned()).collect()
}

/// The numbers of the issues a list gives.
async fn iids(app: &TestApp, user: Option<&TestUser>, path: &str) -> Vec<i64> {
    let listed = app.api(Method::GET, path, user.map(|u| u.token.as_str()), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{path}: {}", listed.body);
    listed.json().as_array().unwrap().iter().map(|issue| issue["iid"].as_i64().unwrap()).collect()
}

/// Opens an issue through the API; its number.
async fn open(app: &TestApp, user: &TestUser, project: i64, body: Value) -> i64 {
    let path = format!("/api/v4/projects/{project}/issues");
    let created = app.api(Method::POST, &path, Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["iid"].as_i64().unwrap()
}

#[tokio::test]
async fn milestones_are_made_listed_changed_and_deleted_by_reporters() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", &[(&reporter, 20), (&guest, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");

    let v1 = milestone(
        &app,
        &reporter,
        &base,
        json!({"title": "v1", "description": "First", "start_date": "2026-01-01", "due_date": "2026-02-01"}),
    )
    .await;
    assert_eq!((v1["iid"].as_i64(), v1["project_id"].as_i64()), (Some(1), Some(id)));
    assert_eq!((v1["state"].as_str(), v1["due_date"].as_str()), (Some("active"), Some("2026-02-01")));
    assert_eq!(v1["start_date"], "2026-01-01");
    assert!(v1.get("group_id").is_none(), "a project's milestone has no group_id: {v1}");
    assert!(v1["web_url"].as_str().unwrap().ends_with("/acme/web/-/milestones/1"), "{v1}");
    let v2 = milestone(&app, &owner, &base, json!({"title": "v2", "description": "Second, with search words"})).await;
    assert_eq!(v2["iid"].as_i64(), Some(2));
    assert_eq!(v2["expired"], json!(false));

    let list = format!("{base}/milestones");
    assert_eq!(titles(&app, &guest, &list).await, ["v1", "v2"], "by due date, none last");
    assert_eq!(titles(&app, &guest, &format!("{list}?title=v2")).await, ["v2"]);
    assert_eq!(titles(&app, &guest, &format!("{list}?search=SEARCH")).await, ["v2"]);
    assert_eq!(titles(&app, &guest, &format!("{list}?iids[]=1")).await, ["v1"]);
    let paged = app.api(Method::GET, &format!("{list}?per_page=1&page=2"), Some(&guest.token), None).await;
    assert_eq!((paged.header("x-total"), paged.header("x-page")), ("2", "2"));

    let one = format!("{list}/{}", v1["id"]);
    let closed = app.api(Method::PUT, &one, Some(&reporter.token), Some(json!({"state_event": "close"}))).await;
    assert_eq!(closed.json()["state"], "closed", "{}", closed.body);
    assert_eq!(titles(&app, &guest, &format!("{list}?state=closed")).await, ["v1"]);
    assert_eq!(titles(&app, &guest, &format!("{list}?state=active")).await, ["v2"]);
    let reopened = app.api(Method::PUT, &one, Some(&reporter.token), Some(json!({"state_event": "activate"}))).await;
    assert_eq!(reopened.json()["state"], "active");
    let renamed =
        app.api(Method::PUT, &one, Some(&reporter.token), Some(json!({"title": "v1.0", "due_date": ""}))).await;
    assert_eq!((renamed.json()["title"].as_str(), &renamed.json()["due_date"]), (Some("v1.0"), &Value::Null));
    assert_eq!(renamed.json()["start_date"], "2026-01-01", "what is not sent stays");

    assert_eq!(app.api(Method::GET, &one, Some(&guest.token), None).await.status, StatusCode::OK);
    assert_eq!(app.api(Method::GET, &one, Some(&stranger.token), None).await.status, StatusCode::NOT_FOUND);
    let refused = app.api(Method::POST, &list, Some(&guest.token), Some(json!({"title": "x"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "Guests do not manage milestones");
    let refused = app.api(Method::PUT, &one, Some(&guest.token), Some(json!({"state_event": "close"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::DELETE, &one, Some(&guest.token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, &format!("{list}/x"), Some(&guest.token), None).await.status, 404);
    assert_eq!(app.api(Method::GET, &format!("{list}/999"), Some(&guest.token), None).await.status, 404);

    let merge_requests = app.api(Method::GET, &format!("{one}/merge_requests"), Some(&guest.token), None).await;
    assert_eq!(merge_requests.json(), json!([]), "{}", merge_requests.body);

    let deleted = app.api(Method::DELETE, &one, Some(&reporter.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(app.api(Method::GET, &one, Some(&guest.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(titles(&app, &guest, &list).await, ["v2"]);
}

#[tokio::test]
async fn bad_milestones_are_refused_with_a_sentence_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let acme = group(&app, &owner, "acme", &[]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let list = format!("/api/v4/projects/{id}/milestones");
    milestone(&app, &owner, &format!("/api/v4/projects/{id}"), json!({"title": "taken"})).await;
    let long = "x".repeat(256);
    for (body, status, words) in [
        (json!({"description": "no title"}), StatusCode::BAD_REQUEST, "title is missing"),
        (json!({"title": "  "}), StatusCode::BAD_REQUEST, "can't be blank"),
        (json!({"title": long}), StatusCode::BAD_REQUEST, "too long"),
        (json!({"title": "a", "due_date": "31/12/2026"}), StatusCode::BAD_REQUEST, "2026-12-31"),
        (json!({"title": "a", "start_date": "2026-02-30"}), StatusCode::BAD_REQUEST, "start_date"),
        (
            json!({"title": "a", "start_date": "2026-03-01", "due_date": "2026-02-01"}),
            StatusCode::BAD_REQUEST,
            "on or after the start date",
        ),
        (json!({"title": "taken"}), StatusCode::CONFLICT, "already been taken"),
    ] {
        let refused = app.api(Method::POST, &list, Some(&owner.token), Some(body.clone())).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
        assert!(refused.body.contains(words), "{body}: {}", refused.body);
    }
    let one = format!("{list}/{}", app.api(Method::GET, &list, Some(&owner.token), None).await.json()[0]["id"]);
    let refused = app.api(Method::PUT, &one, Some(&owner.token), Some(json!({"state_event": "finish"}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("close or activate"), "{}", refused.body);
    let refused = app.api(Method::GET, &format!("{list}?state=done"), Some(&owner.token), None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(titles(&app, &owner, &list).await, ["taken"], "nothing else was stored");
}

#[tokio::test]
async fn issues_go_in_their_project_or_group_milestones_and_are_listed_by_them() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let acme = group(&app, &owner, "acme", &[]).await;
    let other_group = group(&app, &owner, "other", &[]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let elsewhere = project(&app, &owner, "Elsewhere", "private", other_group).await;
    let base = format!("/api/v4/projects/{id}");
    let own = milestone(&app, &owner, &base, json!({"title": "v1"})).await;
    let shared = milestone(&app, &owner, &format!("/api/v4/groups/{acme}"), json!({"title": "Q1 2026"})).await;
    assert_eq!((shared["group_id"].as_i64(), shared.get("project_id")), (Some(acme), None), "{shared}");
    assert!(shared["web_url"].as_str().unwrap().ends_with("/acme/-/milestones/1"), "{shared}");
    let foreign = milestone(&app, &owner, &format!("/api/v4/projects/{elsewhere}"), json!({"title": "v9"})).await;

    assert_eq!(titles(&app, &owner, &format!("{base}/milestones")).await, ["v1"]);
    let with_parents = format!("{base}/milestones?include_parent_milestones=true");
    assert_eq!(titles(&app, &owner, &with_parents).await, ["Q1 2026", "v1"]);

    let first = open(&app, &owner, id, json!({"title": "In v1", "milestone_id": own["id"]})).await;
    let second = open(&app, &owner, id, json!({"title": "In the quarter"})).await;
    open(&app, &owner, id, json!({"title": "In none"})).await;
    let issue = format!("{base}/issues/{second}");
    let put = |body: Value| app.api(Method::PUT, &issue, Some(&owner.token), Some(body));
    let moved = put(json!({"milestone_id": shared["id"]})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.json()["milestone"]["title"], "Q1 2026");
    assert_eq!(moved.json()["milestone"]["group_id"].as_i64(), Some(acme));
    let refused = put(json!({"milestone_id": foreign["id"]})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("not a milestone of this project or its groups"), "{}", refused.body);
    assert_eq!(put(json!({"milestone_id": "x"})).await.status, StatusCode::BAD_REQUEST);
    let got = app.api(Method::GET, &format!("{base}/issues/{first}"), Some(&owner.token), None).await;
    assert_eq!(got.json()["milestone"]["iid"].as_i64(), Some(1), "{}", got.body);
    assert_eq!(got.json()["milestone"]["project_id"].as_i64(), Some(id));

    let all = format!("{base}/issues");
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?milestone=v1")).await, [first]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?milestone=Q1%202026")).await, [second]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?milestone=None")).await, [3]);
    assert_eq!(iids(&app, Some(&owner), &format!("{all}?milestone=Any")).await, [second, first]);
    assert_eq!(iids(&app, Some(&owner), &format!("/api/v4/groups/{acme}/issues?milestone=v1")).await, [first]);
    assert_eq!(iids(&app, Some(&owner), "/api/v4/issues?scope=all&milestone=Q1%202026").await, [second]);
    let milestone_issues = format!("{base}/milestones/{}/issues", own["id"]);
    assert_eq!(iids(&app, Some(&owner), &milestone_issues).await, [first]);
    let group_issues = format!("/api/v4/groups/{acme}/milestones/{}/issues", shared["id"]);
    assert_eq!(iids(&app, Some(&owner), &group_issues).await, [second]);

    assert_eq!(put(json!({"milestone_id": own["id"]})).await.status, StatusCode::OK);
    assert_eq!(put(json!({"milestone_id": 0})).await.json()["milestone"], Value::Null);
    assert_eq!(put(json!({"milestone_id": shared["id"]})).await.status, StatusCode::OK);
    assert_eq!(put(json!({"milestone_id": null})).await.json()["milestone"], Value::Null);
    let notes = app.api(Method::GET, &format!("{issue}/notes?sort=asc"), Some(&owner.token), None).await;
    let notes = notes.json();
    let bodies: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        [
            "changed milestone to %\"Q1 2026\"",
            "changed milestone to %v1",
            "removed milestone",
            "changed milestone to %\"Q1 2026\"",
            "removed milestone",
        ]
    );

    let deleted = app.api(Method::DELETE, &format!("{base}/milestones/{}", own["id"]), Some(&owner.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let got = app.api(Method::GET, &format!("{base}/issues/{first}"), Some(&owner.token), None).await;
    assert_eq!(got.json()["milestone"], Value::Null, "its issues are in no milestone after");
}

#[tokio::test]
async fn confidential_issues_count_and_show_only_for_those_who_may_see_them() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", &[]).await;
    let public = app
        .api(Method::PUT, &format!("/api/v4/groups/{acme}"), Some(&owner.token), Some(json!({"visibility": "public"})))
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    let id = project(&app, &owner, "Oss", "public", acme).await;
    let v1 = milestone(&app, &owner, &format!("/api/v4/projects/{id}"), json!({"title": "v1"})).await;
    open(&app, &owner, id, json!({"title": "Public bug", "milestone_id": v1["id"]})).await;
    open(&app, &owner, id, json!({"title": "Leaked key", "confidential": true, "milestone_id": v1["id"]})).await;

    let issues = format!("/api/v4/projects/{id}/milestones/{}/issues", v1["id"]);
    assert_eq!(iids(&app, Some(&owner), &issues).await, [2, 1]);
    assert_eq!(iids(&app, Some(&stranger), &issues).await, [1]);
    assert_eq!(iids(&app, None, &issues).await, [1]);

    for (who, open_count, sees) in
        [(Some(&owner), "2 open", true), (Some(&stranger), "1 open", false), (None, "1 open", false)]
    {
        let page = app.page(Method::GET, "/acme/oss/-/milestones", who, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(open_count), "{open_count}: {}", page.body);
        let page = app.page(Method::GET, "/acme/oss/-/milestones/1", who, None).await;
        assert_eq!(page.body.contains("Leaked key"), sees, "{}", page.body);
        assert!(page.body.contains("Public bug"));
    }
}

#[tokio::test]
async fn the_pages_make_close_reopen_and_delete_milestones_without_javascript() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let acme = group(&app, &owner, "acme", &[(&reporter, 20), (&guest, 10)]).await;
    project(&app, &owner, "Web", "private", acme).await;
    let base = "/acme/web/-/milestones";

    let list = app.page(Method::GET, base, Some(&guest), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("No milestones here.") && !list.body.contains("New milestone"), "{}", list.body);
    let tab = app.page(Method::GET, "/acme/web/-/issues", Some(&guest), None).await;
    assert!(tab.body.contains(&format!("href=\"{base}\"")), "the issues page links to milestones");

    let refused = app
        .page(
            Method::POST,
            base,
            Some(&reporter),
            Some(&[("title", "v1"), ("start_date", "2026-03-01"), ("due_date", "2026-02-01")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("on or after the start date") && refused.body.contains("value=\"v1\""),
        "{}",
        refused.body
    );
    let made = app
        .page(
            Method::POST,
            base,
            Some(&reporter),
            Some(&[("title", "v1"), ("due_date", "2026-12-31"), ("description", "The *first*")]),
        )
        .await;
    let page = app.follow(made, &reporter).await;
    assert!(page.body.contains("Milestone v1 was created.") && page.body.contains("<em>first</em>"), "{}", page.body);
    assert!(page.body.contains("due 2026-12-31"), "{}", page.body);
    assert!(page.body.contains("Give it a start and a due date to see its burndown chart."), "{}", page.body);

    let edit = app.page(Method::GET, &format!("{base}/1/edit"), Some(&reporter), None).await;
    assert!(edit.body.contains("value=\"2026-12-31\""), "{}", edit.body);
    assert_eq!(
        app.page(Method::GET, &format!("{base}/1/edit"), Some(&guest), None).await.status,
        StatusCode::FORBIDDEN
    );
    let saved = app.page(Method::POST, &format!("{base}/1/edit"), Some(&reporter), Some(&[("title", "v1.0")])).await;
    assert!(app.follow(saved, &reporter).await.body.contains("Milestone v1.0 was saved."));

    // An issue goes in it from the sidebar, a plain form.
    let opened = app.page(Method::POST, "/acme/web/-/issues", Some(&reporter), Some(&[("title", "Ship it")])).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    let issue = app.page(Method::GET, "/acme/web/-/issues/1", Some(&reporter), None).await;
    assert!(issue.body.contains("name=\"milestone_id\""), "{}", issue.body);
    let select = issue.body.split("name=\"milestone_id\"").nth(1).unwrap();
    let id = select.split("<option value=\"").nth(2).unwrap().split('"').next().unwrap().to_owned();
    let set = app
        .page(Method::POST, "/acme/web/-/issues/1/sidebar", Some(&reporter), Some(&[("milestone_id", id.as_str())]))
        .await;
    let issue = app.follow(set, &reporter).await;
    assert!(issue.body.contains("changed milestone to"), "{}", issue.body);
    let guest_view = app.page(Method::GET, "/acme/web/-/issues/1", Some(&guest), None).await;
    assert!(guest_view.body.contains(&format!("<a href=\"{base}/1\">v1.0</a>")), "{}", guest_view.body);
    let filtered = app.page(Method::GET, "/acme/web/-/issues?milestone=v1.0", Some(&guest), None).await;
    assert!(filtered.body.contains("Ship it") && filtered.body.contains("milestone v1.0"), "{}", filtered.body);
    let filtered = app.page(Method::GET, "/acme/web/-/issues?milestone=None", Some(&guest), None).await;
    assert!(!filtered.body.contains("Ship it"), "{}", filtered.body);
    let shown = app.page(Method::GET, &format!("{base}/1"), Some(&guest), None).await;
    assert!(shown.body.contains("Ship it") && shown.body.contains("0% complete"), "{}", shown.body);

    let closed = app.page(Method::POST, &format!("{base}/1/close"), Some(&reporter), Some(&[])).await;
    let page = app.follow(closed, &reporter).await;
    assert!(
        page.body.contains("Milestone v1.0 was closed.") && page.body.contains("Reopen milestone"),
        "{}",
        page.body
    );
    let list = app.page(Method::GET, &format!("{base}?state=closed"), Some(&guest), None).await;
    assert!(list.body.contains("v1.0"), "{}", list.body);
    let refused = app.page(Method::POST, &format!("{base}/1/reopen"), Some(&guest), Some(&[])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let reopened = app.page(Method::POST, &format!("{base}/1/reopen"), Some(&reporter), Some(&[])).await;
    assert!(app.follow(reopened, &reporter).await.body.contains("Milestone v1.0 was reopened."));

    let ask = app.page(Method::POST, &format!("{base}/1/delete"), Some(&reporter), Some(&[])).await;
    assert_eq!(ask.status, StatusCode::OK, "unconfirmed, a page asks");
    assert!(ask.body.contains("Delete milestone v1.0?"), "{}", ask.body);
    let deleted =
        app.page(Method::POST, &format!("{base}/1/delete"), Some(&reporter), Some(&[("confirm", "yes")])).await;
    let page = app.follow(deleted, &reporter).await;
    assert!(
        page.body.contains("Milestone v1.0 was deleted.") && page.body.contains("No milestones here."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_group_has_milestone_pages_whose_milestones_its_projects_see() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", &[(&guest, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let made = app.page(Method::POST, "/acme/-/milestones", Some(&owner), Some(&[("title", "Q1")])).await;
    let page = app.follow(made, &owner).await;
    assert!(page.body.contains("Milestone Q1 was created."), "{}", page.body);
    let refused = app.page(Method::POST, "/acme/-/milestones", Some(&guest), Some(&[("title", "Q2")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.page(Method::GET, "/acme/-/milestones", Some(&stranger), None).await.status, StatusCode::NOT_FOUND);

    let group_milestone =
        app.api(Method::GET, &format!("/api/v4/groups/{acme}/milestones"), Some(&guest.token), None).await;
    let milestone_id = group_milestone.json()[0]["id"].as_i64().unwrap();
    open(&app, &owner, id, json!({"title": "Quarterly", "milestone_id": milestone_id})).await;
    let shown = app.page(Method::GET, "/acme/-/milestones/1", Some(&guest), None).await;
    assert!(shown.body.contains("Quarterly") && shown.body.contains("acme/web#1"), "{}", shown.body);
    let from_project = app.page(Method::GET, "/acme/web/-/milestones", Some(&guest), None).await;
    assert!(from_project.body.contains("Q1") && from_project.body.contains("group milestone"), "{}", from_project.body);
    assert!(from_project.body.contains("href=\"/acme/-/milestones/1\""), "{}", from_project.body);
}

#[tokio::test]
async fn a_project_milestone_is_promoted_to_its_group_with_its_issues() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let acme = group(&app, &owner, "acme", &[]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let base = format!("/api/v4/projects/{id}");
    let v1 = milestone(&app, &owner, &base, json!({"title": "v1", "due_date": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(v1["due_date"], "2020-01-01", "a time of day is dropped, as GitLab does");
    assert_eq!(v1["expired"], json!(true));
    let iid = open(&app, &owner, id, json!({"title": "Ship", "milestone_id": v1["id"]})).await;
    let promoted =
        app.api(Method::POST, &format!("{base}/milestones/{}/promote", v1["id"]), Some(&owner.token), None).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert_eq!((promoted.json()["group_id"].as_i64(), promoted.json()["iid"].as_i64()), (Some(acme), Some(1)));
    assert_eq!(titles(&app, &owner, &format!("/api/v4/groups/{acme}/milestones")).await, ["v1"]);
    assert_eq!(titles(&app, &owner, &format!("{base}/milestones")).await, Vec::<String>::new());
    let issue = app.api(Method::GET, &format!("{base}/issues/{iid}"), Some(&owner.token), None).await;
    assert_eq!(issue.json()["milestone"]["group_id"].as_i64(), Some(acme), "its issues stay in it");

    let personal = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(json!({"name": "Mine"}))).await;
    let mine = format!("/api/v4/projects/{}", personal.json()["id"]);
    let lone = milestone(&app, &owner, &mine, json!({"title": "v1"})).await;
    let refused =
        app.api(Method::POST, &format!("{mine}/milestones/{}/promote", lone["id"]), Some(&owner.token), None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("user's namespace"), "{}", refused.body);
}

#[tokio::test]
async fn an_issue_lists_its_author_assignees_and_commenters_as_participants() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", &[(&ada, 30), (&bob, 10)]).await;
    let id = project(&app, &owner, "Web", "private", acme).await;
    let iid = open(&app, &owner, id, json!({"title": "Crash", "assignee_ids": [ada.user.id.0]})).await;
    let notes = format!("/api/v4/projects/{id}/issues/{iid}/notes");
    for (who, body) in [(&bob, "me too"), (&ada, "on it"), (&bob, "thanks")] {
        let made = app.api(Method::POST, &notes, Some(&who.token), Some(json!({"body": body}))).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    app.api(
        Method::PUT,
        &format!("/api/v4/projects/{id}/issues/{iid}"),
        Some(&owner.token),
        Some(json!({"state_event": "close"})),
    )
    .await;
    let path = format!("/api/v4/projects/{id}/issues/{iid}/participants");
    let listed = app.api(Method::GET, &path, Some(&bob.token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let body = listed.json();
    let usernames: Vec<&str> = body.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(usernames, ["owner", "ada", "bob"]);
    assert_eq!(app.api(Method::GET, &path, Some(&stranger.token), None).await.status, StatusCode::NOT_FOUND);
}
