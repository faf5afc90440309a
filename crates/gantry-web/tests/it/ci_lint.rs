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

#[tokio::test]
async fn warnings_come_with_their_positions() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, _) = app.project_with_file(&ada, "Warned", ".gitlab-ci.yml", b"build:\n  script: make\n").await;
    let path = format!("/api/v4/projects/{}/ci/lint", project.id.0);
    let content = "review:\n  script: deploy\n  environment:\n    name: review\n    auto_stop_in: soon\n";
    let answer = app.api(Method::POST, &path, Some(&ada.token), Some(json!({"content": content}))).await.json();
    assert_eq!(answer["valid"], json!(true), "{answer}");
    let warning = answer["warnings"][0].as_str().unwrap();
    assert!(warning.starts_with(".gitlab-ci.yml:5:19: ") && warning.contains("auto_stop_in"), "{warning}");
}

/// The CI lint page: the project's file to start from, errors and warnings at their lines, and
/// the jobs a push to a branch would run.
#[tokio::test]
async fn the_lint_page_shows_problems_at_their_lines_and_the_jobs_a_branch_would_run() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let ci = b"build:\n  script: make\ndeploy:\n  script: deploy\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n";
    let (project, _) = app.project_with_file(&ada, "Linted page", ".gitlab-ci.yml", ci).await;
    let lint = format!("/{}/-/ci/lint", project.full_path);

    let form = app.page(Method::GET, &lint, Some(&ada), None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("deploy:\n  script: deploy"), "the project's file fills the form: {}", form.body);
    assert!(form.body.contains("id=\"ref\" name=\"ref\" value=\"main\""), "the default branch to simulate");
    let list = app.page(Method::GET, &format!("/{}/-/pipelines", project.full_path), Some(&ada), None).await;
    assert!(list.body.contains(&format!("href=\"{lint}\">CI lint</a>")), "the pipelines page links to it");

    // A valid file: the jobs a push to main would run, and to another branch.
    let content = std::str::from_utf8(ci).unwrap();
    let valid = app.page(Method::POST, &lint, Some(&ada), Some(&[("content", content), ("ref", "main")])).await;
    assert_eq!(valid.status, StatusCode::OK, "{}", valid.body);
    assert!(valid.body.contains("Syntax is correct"), "{}", valid.body);
    assert!(valid.body.contains("<strong>build</strong>") && valid.body.contains("<strong>deploy</strong>"));
    let other = app.page(Method::POST, &lint, Some(&ada), Some(&[("content", content), ("ref", "feature")])).await;
    assert!(
        other.body.contains("<strong>build</strong>") && !other.body.contains("<strong>deploy</strong>"),
        "{}",
        other.body
    );

    // An unknown keyword at line 3, column 3 (the browser's line breaks).
    let broken = "build:\r\n  script: make\r\n  colour: red\r\n";
    let invalid = app.page(Method::POST, &lint, Some(&ada), Some(&[("content", broken), ("ref", "")])).await;
    assert_eq!(invalid.status, StatusCode::OK);
    let body = &invalid.body;
    assert!(body.contains("This CI configuration is invalid"), "{body}");
    assert!(body.contains("<a href=\"#lint-L3\"><code>.gitlab-ci.yml:3:3</code></a>"), "{body}");
    assert!(body.contains("<tr id=\"lint-L3\" class=\"error\">"), "the line is marked: {body}");
    assert!(
        body.contains(
            "data-line=\"3\"><td class=\"num\"></td><td><span class=\"lint-severity error\">error</span> column 3:"
        ),
        "{body}"
    );
    assert!(body.contains("colour: red</code>"), "the pasted text is shown back");

    // A warning leaves the file valid, and is shown at its line too.
    let warned = "build:\n  script: make\n  environment: {name: review, auto_stop_in: soon}\n";
    let valid = app.page(Method::POST, &lint, Some(&ada), Some(&[("content", warned), ("ref", "main")])).await;
    let body = &valid.body;
    assert!(body.contains("Syntax is correct") && body.contains("<tr id=\"lint-L3\" class=\"warning\">"), "{body}");
    assert!(
        body.contains("<span class=\"lint-severity warning\">warning</span>") && body.contains("auto_stop_in"),
        "{body}"
    );
    assert!(body.contains("<strong>build</strong>"), "the jobs are listed: {body}");

    // Those who may not see the project's pipelines do not get the page.
    let stranger = app.user("stranger").await;
    assert_eq!(app.page(Method::GET, &lint, Some(&stranger), None).await.status, StatusCode::NOT_FOUND);
}
