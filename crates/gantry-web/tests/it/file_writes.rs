//! Files and commits written through the API, checked as pushes: created, changed, moved and
//! deleted in commits on a branch, refused on a protected branch for Developers, with GitLab's
//! errors for files that exist or do not.

use axum::http::{Method, StatusCode};
use base64::Engine;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn files_are_created_changed_and_deleted_in_commits() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let created = app.api(Method::POST, "/api/v4/projects", t, Some(json!({"name": "docs"}))).await;
    let id = created.json()["id"].as_i64().unwrap();
    let files = format!("/api/v4/projects/{id}/repository/files");

    // The first commit of an empty repository makes its branch.
    let first = json!({"branch": "main", "content": "Initial content", "commit_message": "Initial commit"});
    let made = app.api(Method::POST, &format!("{files}/README.md"), t, Some(first.clone())).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json(), json!({"file_path": "README.md", "branch": "main"}));
    let again = app.api(Method::POST, &format!("{files}/README.md"), t, Some(first)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already exists"), "{}", again.body);

    let read = |path: &'static str| {
        let url = format!("{files}/{path}?ref=main");
        let app = &app;
        async move { app.api(Method::GET, &url, t, None).await }
    };
    let content = |response: &crate::support::TestResponse| {
        let encoded = response.json()["content"].as_str().unwrap().to_owned();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap()
    };
    assert_eq!(content(&read("README.md").await), "Initial content");

    // A change (as base64), by another author.
    let encoded = base64::engine::general_purpose::STANDARD.encode("Changed\n");
    let change = json!({"branch": "main", "content": encoded, "encoding": "base64", "commit_message": "Change",
        "author_name": "Grace", "author_email": "grace@example.com"});
    let changed = app.api(Method::PUT, &format!("{files}/README.md"), t, Some(change)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(content(&read("README.md").await), "Changed\n");
    let log = app.api(Method::GET, &format!("/api/v4/projects/{id}/repository/commits?ref_name=main"), t, None).await;
    assert_eq!(log.json()[0]["author_name"], "Grace");
    assert_eq!(log.json().as_array().unwrap().len(), 2);
    let missing = json!({"branch": "main", "content": "x", "commit_message": "nope"});
    let absent = app.api(Method::PUT, &format!("{files}/nothing.txt"), t, Some(missing)).await;
    assert_eq!(absent.status, StatusCode::BAD_REQUEST);
    assert!(absent.body.contains("doesn't exist"), "{}", absent.body);

    // Several actions in one commit, on a new branch started from main.
    let actions = json!({
        "branch": "feature", "start_branch": "main", "commit_message": "Rework",
        "actions": [
            {"action": "create", "file_path": "src/lib.rs", "content": "pub fn f() {}\n"},
            {"action": "move", "file_path": "docs/README.md", "previous_path": "README.md"},
            {"action": "create", "file_path": ".gitlab-ci.yml", "content": "job:\n  script: true\n"}
        ]
    });
    let commit = app.api(Method::POST, &format!("/api/v4/projects/{id}/repository/commits"), t, Some(actions)).await;
    assert_eq!(commit.status, StatusCode::CREATED, "{}", commit.body);
    assert_eq!(commit.json()["title"], "Rework");
    for (path, expected) in [
        ("docs%2FREADME.md", StatusCode::OK),
        ("src%2Flib.rs", StatusCode::OK),
        (".gitlab-ci.yml", StatusCode::OK),
        ("README.md", StatusCode::NOT_FOUND),
    ] {
        let found = app.api(Method::GET, &format!("{files}/{path}?ref=feature"), t, None).await;
        assert_eq!(found.status, expected, "{path} on feature");
    }
    assert_eq!(content(&read("README.md").await), "Changed\n", "main is as it was");
    // The commit is a push: it has a pipeline.
    let _worker = app.background_worker();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pipelines = app.api(Method::GET, &format!("/api/v4/projects/{id}/pipelines?ref=feature"), t, None).await;
        if pipelines.json().as_array().is_some_and(|p| !p.is_empty()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no pipeline for the commit");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Deleting; bad paths and a branch without a start are refused.
    let delete = json!({"branch": "feature", "commit_message": "Drop the library"});
    let deleted = app.api(Method::DELETE, &format!("{files}/src%2Flib.rs"), t, Some(delete)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    for (path, branch) in [("..%2Fescape", "main"), (".git%2Fconfig", "main"), ("new.txt", "nowhere")] {
        let body = json!({"branch": branch, "content": "x", "commit_message": "bad"});
        let refused = app.api(Method::POST, &format!("{files}/{path}"), t, Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path} on {branch}: {}", refused.body);
    }
}

#[tokio::test]
async fn a_protected_branch_takes_commits_only_from_those_who_may_push_to_it() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let dev = app.user("dev").await;
    let (project, _) = app.project_with_file(&ada, "guarded", "README.md", b"hi\n").await;
    let members = format!("/api/v4/projects/{}/members", project.id.0);
    let added = app
        .api(Method::POST, &members, Some(&ada.token), Some(json!({"user_id": dev.user.id.0, "access_level": 30})))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    // The default branch is protected from the start: Maintainers push to it.
    let file = format!("/api/v4/projects/{}/repository/files/notes.txt", project.id.0);
    let body = json!({"branch": "main", "content": "x", "commit_message": "try"});
    let refused = app.api(Method::POST, &file, Some(&dev.token), Some(body)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let elsewhere = json!({"branch": "dev-work", "start_branch": "main", "content": "x", "commit_message": "try"});
    assert_eq!(app.api(Method::POST, &file, Some(&dev.token), Some(elsewhere)).await.status, StatusCode::CREATED);
}
