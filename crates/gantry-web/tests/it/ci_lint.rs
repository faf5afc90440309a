//! `ci/lint` as GitLab answers it: `valid`, `errors` (GitLab's fixed messages word for word,
//! other problems with their file, line and column), `warnings`, and the jobs only when asked
//! for; the project's own CI file at a ref on `GET`. Access is checked before the input.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn lint_answers_as_gitlab_does() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let stranger = app.user("stranger").await;
    let ci = b"build:\n  script: make\n";
    let (project, _) = app.project_with_file(&ada, "Linted", ".gitlab-ci.yml", ci).await;
    let path = format!("/api/v4/projects/{}/ci/lint", project.id.0);
    let lint = |content: &str| {
        let body = json!({"content": content});
        let (app, path, token) = (&app, path.clone(), ada.token.clone());
        async move { app.api(Method::POST, &path, Some(&token), Some(body)).await }
    };

    // python-gitlab's valid file is written for Ruby: `:name` keys are symbols there.
    let valid = lint("---\n:test_job:\n  :script: echo 1\n").await;
    assert_eq!(valid.status, StatusCode::OK, "{}", valid.body);
    let answer = valid.json();
    assert_eq!((&answer["valid"], &answer["errors"]), (&json!(true), &json!([])), "{answer}");
    assert!(answer.get("jobs").is_none(), "jobs only when asked for: {answer}");

    let invalid = lint("invalid").await.json();
    assert_eq!((&invalid["valid"], &invalid["errors"]), (&json!(false), &json!(["Invalid configuration format"])));
    let hidden = lint(".hidden:\n  script: make\n").await.json();
    assert_eq!(hidden["errors"], json!(["jobs config should contain at least one visible job"]));
    let unknown = lint("build:\n  script: make\n  colour: red\n").await.json();
    let error = unknown["errors"][0].as_str().unwrap();
    assert!(error.starts_with(".gitlab-ci.yml:3:3: ") && error.contains("colour"), "{error}");

    let body = json!({"content": "a:\n  script: x\nb:\n  stage: deploy\n  script: y\n", "include_jobs": "true"});
    let with_jobs = app.api(Method::POST, &path, Some(&ada.token), Some(body)).await.json();
    let names: Vec<&str> = with_jobs["jobs"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(with_jobs["jobs"][1]["stage"], "deploy");

    // The project's own file, at the default branch or a named ref.
    let own = app.api(Method::GET, &path, Some(&ada.token), None).await;
    assert_eq!((own.status, &own.json()["valid"]), (StatusCode::OK, &json!(true)), "{}", own.body);
    let at_ref =
        app.api(Method::GET, &format!("{path}?content_ref=main&include_jobs=true"), Some(&ada.token), None).await;
    assert_eq!(at_ref.json()["jobs"][0]["name"], "build", "{}", at_ref.body);

    // Bad input is a 400 for those who may lint, a 404 for those who may not see the project.
    let missing = app.api(Method::POST, &path, Some(&ada.token), Some(json!({}))).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("content is missing"), "{}", missing.body);
    let hidden_project = app.api(Method::POST, &path, Some(&stranger.token), Some(json!({}))).await;
    assert_eq!(hidden_project.status, StatusCode::NOT_FOUND);
}
