//! Lists past the count limit: over 10,000 issues the API stops counting as GitLab does (no
//! `X-Total`, `X-Total-Pages` or last link; a next page while pages are full; the pages beyond
//! still served), the issue list's tabs read "10,000+", a board column "1,000+", and a list
//! that selects fewer is counted exactly.

use axum::http::{Method, StatusCode};
use gantry_core::COUNT_LIMIT;
use gantry_db::plan::issues::{IssueFields, insert_issue};
use gantry_types::ProjectId;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn lists_past_the_count_limit_stop_counting_and_still_page_on() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let created = app
        .api(
            Method::POST,
            "/api/v4/projects",
            Some(&owner.token),
            Some(json!({"name": "Big", "visibility": "private"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let project = created.json();
    let (id, path) = (project["id"].as_i64().unwrap(), project["path_with_namespace"].as_str().unwrap().to_owned());
    // Written straight to the database: through the API they would take minutes.
    let issues = COUNT_LIMIT + 5;
    let mut tx = app.core.db().begin().await.unwrap();
    for number in 1..=issues {
        let title = format!("Issue {number}");
        let fields = IssueFields {
            title: &title,
            description: "",
            confidential: false,
            due_date: None,
            weight: None,
            discussion_locked: false,
        };
        insert_issue(&mut tx, ProjectId(id), owner.user.id, &fields).await.unwrap();
    }
    tx.commit().await.unwrap();

    let first =
        app.api(Method::GET, &format!("/api/v4/projects/{id}/issues?per_page=100"), Some(&owner.token), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.headers.get("x-total").is_none() && first.headers.get("x-total-pages").is_none());
    assert_eq!(first.headers["x-next-page"], "2");
    let link = first.headers["link"].to_str().unwrap();
    assert!(link.contains("rel=\"next\"") && !link.contains("rel=\"last\""), "{link}");
    let listed = first.json();
    assert_eq!(listed.as_array().unwrap().len(), 100);
    assert_eq!(listed[0]["iid"], issues, "newest first");

    // Past the counted rows the pages are still served, and the last one says so.
    let last = app
        .api(Method::GET, &format!("/api/v4/projects/{id}/issues?per_page=100&page=101"), Some(&owner.token), None)
        .await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.body);
    let iids: Vec<i64> = last.json().as_array().unwrap().iter().map(|issue| issue["iid"].as_i64().unwrap()).collect();
    assert_eq!(iids, [5, 4, 3, 2, 1]);
    assert_eq!(last.headers["x-next-page"], "");

    // A list that selects fewer is counted.
    let few = app
        .api(Method::GET, &format!("/api/v4/projects/{id}/issues?iids[]=1&iids[]=2"), Some(&owner.token), None)
        .await;
    assert_eq!(few.headers["x-total"], "2");
    assert_eq!(few.headers["x-total-pages"], "1");

    let page = app.page(Method::GET, &format!("/{path}/-/issues"), Some(&owner), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("10,000+"), "the tabs say the count stopped");
    let board = app.page(Method::GET, &format!("/{path}/-/boards"), Some(&owner), None).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    assert!(board.body.contains("1,000+"), "the open column says its count stopped");
}
