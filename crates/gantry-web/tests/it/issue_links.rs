//! Linked issues through GitLab's API and the issue page: relates to, blocks and is blocked by
//! across projects, system notes on both issues, a link shown only to those who may see its
//! other issue, Reporters only, and clear refusals (itself, twice, an issue one cannot see).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let answer = app.api(method, path, Some(&user.token), body).await;
    let json = if answer.body.is_empty() { Value::Null } else { answer.json() };
    (answer.status, json)
}

async fn project(app: &TestApp, owner: &TestUser, name: &str) -> i64 {
    let body = json!({"name": name, "visibility": "private"});
    call(app, owner, Method::POST, "/api/v4/projects", Some(body)).await.1["id"].as_i64().unwrap()
}

#[tokio::test]
async fn issues_link_across_projects_for_those_who_see_both() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let api = project(&app, &owner, "Api").await;
    let web = project(&app, &owner, "Web").await;
    let body = json!({"user_id": ada.user.id.0, "access_level": 20});
    call(&app, &owner, Method::POST, &format!("/api/v4/projects/{api}/members"), Some(body)).await;
    for title in ["First", "Second"] {
        call(&app, &owner, Method::POST, &format!("/api/v4/projects/{api}/issues"), Some(json!({"title": title})))
            .await;
    }
    call(&app, &owner, Method::POST, &format!("/api/v4/projects/{web}/issues"), Some(json!({"title": "Elsewhere"})))
        .await;
    let links = format!("/api/v4/projects/{api}/issues/1/links");

    let (status, link) = call(
        &app,
        &ada,
        Method::POST,
        &links,
        Some(json!({"target_project_id": api, "target_issue_iid": 2, "link_type": "blocks"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    assert_eq!((link["source_issue"]["iid"].as_i64(), link["target_issue"]["iid"].as_i64()), (Some(1), Some(2)));
    assert_eq!(link["link_type"], "blocks");
    // The other way round, it is blocked.
    let (_, seen_from_two) =
        call(&app, &ada, Method::GET, &format!("/api/v4/projects/{api}/issues/2/links"), None).await;
    assert_eq!(seen_from_two[0]["iid"], 1);
    assert_eq!(seen_from_two[0]["link_type"], "is_blocked_by");
    let (status, twice) = call(
        &app,
        &ada,
        Method::POST,
        &format!("/api/v4/projects/{api}/issues/2/links"),
        Some(json!({"target_project_id": api.to_string(), "target_issue_iid": "1"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{twice}");
    let (status, itself) =
        call(&app, &ada, Method::POST, &links, Some(json!({"target_project_id": api, "target_issue_iid": 1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{itself}");
    // Ada cannot see the other project: no link to it, and no such issue for her.
    let (status, unseen) =
        call(&app, &ada, Method::POST, &links, Some(json!({"target_project_id": web, "target_issue_iid": 1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unseen}");
    assert!(unseen.to_string().contains("names no issue you can see"), "{unseen}");
    let (status, _) = call(
        &app,
        &owner,
        Method::POST,
        &links,
        Some(json!({"target_project_id": "owner/web", "target_issue_iid": 1, "link_type": "relates_to"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, for_owner) = call(&app, &owner, Method::GET, &links, None).await;
    assert_eq!(for_owner.as_array().unwrap().len(), 2);
    let (_, for_ada) = call(&app, &ada, Method::GET, &links, None).await;
    assert_eq!(for_ada.as_array().unwrap().len(), 1, "the link into a project Ada cannot see is left out");

    // System notes on both sides.
    let notes = |project: i64, iid: i64| {
        let app = &app;
        let owner = &owner;
        async move {
            let path = format!("/api/v4/projects/{project}/issues/{iid}/notes?sort=asc");
            let (_, notes) = call(app, owner, Method::GET, &path, None).await;
            notes.as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        notes(api, 1).await,
        vec!["marked this issue as blocking #2", "marked this issue as related to owner/web#1"]
    );
    assert_eq!(notes(api, 2).await, vec!["marked this issue as blocked by #1"]);
    assert_eq!(notes(web, 1).await, vec!["marked this issue as related to owner/api#1"]);

    // A Guest may not link; unlinking says so on both.
    let guest = app.user("guest").await;
    let body = json!({"user_id": guest.user.id.0, "access_level": 10});
    call(&app, &owner, Method::POST, &format!("/api/v4/projects/{api}/members"), Some(body)).await;
    let (status, _) =
        call(&app, &guest, Method::POST, &links, Some(json!({"target_project_id": api, "target_issue_iid": 2}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = for_ada[0]["issue_link_id"].as_i64().unwrap();
    let (status, removed) = call(&app, &ada, Method::DELETE, &format!("{links}/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(notes(api, 2).await.last().unwrap(), "removed the relation with #1");

    // The page: the sidebar's form links by reference and lists the link.
    let page = "/owner/api/-/issues/2";
    let fields = [("reference", "#1"), ("link_type", "relates_to")];
    let linked = app.page(Method::POST, &format!("{page}/links"), Some(&ada), Some(&fields)).await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    let shown = app.page(Method::GET, page, Some(&ada), None).await;
    assert!(
        shown.body.contains("Relates to</span> <a href=\"/owner/api/-/issues/1\" title=\"First\">#1</a>"),
        "{}",
        shown.body
    );
    let wrong = app
        .page(
            Method::POST,
            &format!("{page}/links"),
            Some(&ada),
            Some(&[("reference", "one"), ("link_type", "blocks")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("names no issue"), "{}", wrong.body);
}
