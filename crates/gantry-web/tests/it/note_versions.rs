//! A comment's history: each edit (through the API or the page's form) keeps the text it wrote
//! and, the first time, the text before; the comment's "edited" leads to a page of what
//! changed, edit by edit, and the API lists the texts; nobody who may not see the comment reads
//! its history. Comments on issues and on epics alike.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::epics::{epic, group};
use crate::support::TestApp;

#[tokio::test]
async fn an_edited_comment_keeps_what_it_said_before() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let outsider = app.user("outsider").await;
    let team = group(&app, &owner, "team", "private", &[(&guest, 10)]).await;
    let body = json!({"name": "Plans", "namespace_id": team});
    assert_eq!(
        app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await.status,
        StatusCode::CREATED
    );
    let issues = "/api/v4/projects/team%2Fplans/issues";
    let created = app.api(Method::POST, issues, Some(&owner.token), Some(json!({"title": "Launch"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let notes = format!("{issues}/1/notes");
    let note =
        app.api(Method::POST, &notes, Some(&owner.token), Some(json!({"body": "ship on monday\nwith docs"}))).await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let id = note.json()["id"].as_i64().unwrap();
    let versions = format!("{notes}/{id}/versions");
    assert_eq!(app.api(Method::GET, &versions, Some(&guest.token), None).await.json(), json!([]), "never edited");

    let edit = json!({"body": "ship on tuesday\nwith docs"});
    assert_eq!(
        app.api(Method::PUT, &format!("{notes}/{id}"), Some(&owner.token), Some(edit.clone())).await.status,
        StatusCode::OK
    );
    // The same text again is no new version.
    app.api(Method::PUT, &format!("{notes}/{id}"), Some(&owner.token), Some(edit)).await;
    // The page's form keeps one too.
    let saved = app
        .page(
            Method::POST,
            &format!("/team/plans/-/issues/1/notes/{id}/edit"),
            Some(&owner),
            Some(&[("body", "ship on tuesday\nwith docs and notes")]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let listed: Value = app.api(Method::GET, &versions, Some(&guest.token), None).await.json();
    let texts: Vec<&str> = listed.as_array().unwrap().iter().map(|v| v["body"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        ["ship on tuesday\nwith docs and notes", "ship on tuesday\nwith docs", "ship on monday\nwith docs"]
    );
    assert_eq!(listed[2]["author"]["username"], "owner");

    // "edited" (a change a second or more after the comment) leads to the history: each edit
    // as a diff against the text before.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let edit_page = format!("/team/plans/-/issues/1/notes/{id}/edit");
    let saved = app.page(Method::POST, &edit_page, Some(&owner), Some(&[("body", "final")])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let link = format!("/team/plans/-/issues/1/notes/{id}/history");
    let shown = app.page(Method::GET, "/team/plans/-/issues/1", Some(&guest), None).await;
    assert!(shown.body.contains(&format!("href=\"{link}\"")), "{}", shown.body);
    let history = app.page(Method::GET, &link, Some(&guest), None).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert!(history.body.contains("As @owner first wrote it"), "{}", history.body);
    assert!(
        history.body.contains("<code>-ship on monday</code>") && history.body.contains("<code>+ship on tuesday</code>")
    );
    assert!(history.body.contains("<code>+final</code>"), "{}", history.body);
    for refused in [
        app.page(Method::GET, &link, Some(&outsider), None).await.status,
        app.api(Method::GET, &versions, Some(&outsider.token), None).await.status,
        app.page(Method::GET, "/team/plans/-/issues/1/notes/999999/history", Some(&guest), None).await.status,
        app.page(Method::GET, "/team/plans/-/issues/1/notes/x/history", Some(&guest), None).await.status,
    ] {
        assert_eq!(refused, StatusCode::NOT_FOUND);
    }

    // A comment on an epic likewise.
    let roadmap = epic(&app, &owner, team, json!({"title": "Roadmap"})).await;
    let epic_notes = format!("/api/v4/groups/{team}/epics/{}/notes", roadmap["id"]);
    let note = app.api(Method::POST, &epic_notes, Some(&owner.token), Some(json!({"body": "draft"}))).await.json();
    let one = format!("{epic_notes}/{}", note["id"]);
    assert_eq!(
        app.api(Method::PUT, &one, Some(&owner.token), Some(json!({"body": "done"}))).await.status,
        StatusCode::OK
    );
    let listed: Value = app.api(Method::GET, &format!("{one}/versions"), Some(&guest.token), None).await.json();
    assert_eq!(
        listed.as_array().unwrap().iter().map(|v| v["body"].clone()).collect::<Vec<_>>(),
        [json!("done"), json!("draft")]
    );
    let page = format!("/team/-/epics/{}/notes/{}/history", roadmap["iid"], note["id"]);
    let history = app.page(Method::GET, &page, Some(&guest), None).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert!(history.body.contains("<code>+done</code>"), "{}", history.body);
    assert_eq!(app.page(Method::GET, &page, Some(&outsider), None).await.status, StatusCode::NOT_FOUND);
}
