//! An issue's description history: each edit (through the API, the edit form or a ticked task)
//! keeps the text it wrote and, the first time, the text before; the "changed the description"
//! note links to what changed, and the API lists the versions; nobody who may not see the issue
//! reads its history.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn every_description_is_kept_and_each_change_can_be_compared() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let editor = app.user("editor").await;
    let guest = app.user("guest").await;
    let outsider = app.user("outsider").await;
    let body = json!({"name": "Plans", "visibility": "private"});
    let project =
        app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await.json()["id"].as_i64().unwrap();
    for (user, level) in [(&editor, 20), (&guest, 10)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        let added =
            app.api(Method::POST, &format!("/api/v4/projects/{project}/members"), Some(&owner.token), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED);
    }
    let issues = format!("/api/v4/projects/{project}/issues");
    let body = json!({"title": "Launch", "description": "one\ntwo\n- [ ] ship"});
    let created = app.api(Method::POST, &issues, Some(&owner.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let versions = format!("{issues}/1/description_versions");
    assert_eq!(app.api(Method::GET, &versions, Some(&guest.token), None).await.json(), json!([]));

    let edit = json!({"description": "one\n2\n- [ ] ship\nthree"});
    assert_eq!(
        app.api(Method::PUT, &format!("{issues}/1"), Some(&editor.token), Some(edit)).await.status,
        StatusCode::OK
    );
    // A title alone keeps the description, and no version is made.
    let retitle = json!({"title": "Launch day"});
    app.api(Method::PUT, &format!("{issues}/1"), Some(&editor.token), Some(retitle)).await;
    let listed: Value = app.api(Method::GET, &versions, Some(&guest.token), None).await.json();
    let texts: Vec<&str> = listed.as_array().unwrap().iter().map(|v| v["description"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one\ntwo\n- [ ] ship", "one\n2\n- [ ] ship\nthree"]);
    assert_eq!((listed[0]["author"]["username"].as_str(), &listed[0]["note_id"]), (Some("owner"), &Value::Null));
    assert_eq!(listed[1]["author"]["username"], "editor");
    assert!(listed[1]["note_id"].is_i64());

    // The edit form of the pages keeps a version too.
    let saved = app
        .page(
            Method::POST,
            "/owner/plans/-/issues/1/edit",
            Some(&owner),
            Some(&[("title", "Launch day"), ("description", "one\n2\n- [ ] ship\nthree\nfour")]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let listed: Value = app.api(Method::GET, &versions, Some(&guest.token), None).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3));

    // The issue page links each "changed the description" note to what it changed.
    let page = app.page(Method::GET, "/owner/plans/-/issues/1", Some(&guest), None).await;
    assert_eq!(page.body.matches("Compare with previous version").count(), 2, "{}", page.body);
    let second = listed[1]["id"].as_i64().unwrap();
    let compare = format!("/owner/plans/-/issues/1/descriptions/{second}/diff");
    assert!(page.body.contains(&compare), "{}", page.body);
    let diff = app.page(Method::GET, &compare, Some(&guest), None).await;
    assert_eq!(diff.status, StatusCode::OK);
    assert!(diff.body.contains("<code>-two</code>") && diff.body.contains("<code>+2</code>"), "{}", diff.body);
    assert!(diff.body.contains("<code>+three</code>") && diff.body.contains("Changed by @editor"), "{}", diff.body);

    // Nobody outside the private project reads the history; an unknown version is not there.
    assert_eq!(app.api(Method::GET, &versions, Some(&outsider.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.page(Method::GET, &compare, Some(&outsider), None).await.status, StatusCode::NOT_FOUND);
    for bad in ["999999", "abc", "-1"] {
        let path = format!("/owner/plans/-/issues/1/descriptions/{bad}/diff");
        assert_eq!(app.page(Method::GET, &path, Some(&owner), None).await.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn a_confidential_issue_keeps_its_history_from_those_who_may_not_see_it() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let body = json!({"name": "Secret plans", "visibility": "public"});
    let project =
        app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await.json()["id"].as_i64().unwrap();
    let body = json!({"user_id": guest.user.id.0, "access_level": 10});
    app.api(Method::POST, &format!("/api/v4/projects/{project}/members"), Some(&owner.token), Some(body)).await;
    let issues = format!("/api/v4/projects/{project}/issues");
    let body = json!({"title": "Embargo", "description": "before", "confidential": true});
    app.api(Method::POST, &issues, Some(&owner.token), Some(body)).await;
    let edit = json!({"description": "after"});
    app.api(Method::PUT, &format!("{issues}/1"), Some(&owner.token), Some(edit)).await;
    let versions = format!("{issues}/1/description_versions");
    let listed: Value = app.api(Method::GET, &versions, Some(&owner.token), None).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    let version = listed[1]["id"].as_i64().unwrap();
    for user in [Some(&guest), None] {
        let token = user.map(|u| u.token.as_str());
        assert_eq!(app.api(Method::GET, &versions, token, None).await.status, StatusCode::NOT_FOUND);
        let compare = format!("/owner/secret-plans/-/issues/1/descriptions/{version}/diff");
        assert_eq!(app.page(Method::GET, &compare, user, None).await.status, StatusCode::NOT_FOUND);
    }
}
