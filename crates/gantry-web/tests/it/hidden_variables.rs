//! A hidden CI/CD variable's value is never given back, by any route at any level: only jobs
//! get it.

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::ci::create::PipelineRequest;
use gantry_core::ci::runners::{RunnerRegistration, RunnerScope};
use gantry_core::manage::projects::NewProjectInput;
use serde_json::{Value, json};

use crate::support::TestApp;

const SECRET: &str = "hidden-s3cret-value";
const NEW_SECRET: &str = "another-s3cret-value";

#[tokio::test]
async fn hidden_values_never_leave_the_server_but_reach_jobs() {
    let app = TestApp::new().await;
    // The first user is the administrator: the instance's variables are theirs.
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    let group = app
        .core
        .manage()
        .create_group(
            &owner,
            &gantry_core::manage::groups::NewGroup { name: "Acme".into(), path: "acme".into(), ..Default::default() },
        )
        .await
        .unwrap();
    let project = app
        .core
        .manage()
        .create_project(
            &owner,
            &NewProjectInput { name: "Vars".into(), namespace: Some(group.id), ..NewProjectInput::default() },
        )
        .await
        .unwrap();
    let levels = [
        ("INSTANCE_SECRET", "/api/v4/admin/ci/variables".to_owned()),
        ("GROUP_SECRET", format!("/api/v4/groups/{}/variables", group.id.0)),
        ("PROJECT_SECRET", format!("/api/v4/projects/{}/variables", project.id.0)),
    ];
    let token = Some(ada.token.as_str());
    for (key, base) in &levels {
        let body = json!({"key": key, "value": SECRET, "masked_and_hidden": true});
        let created = app.api(Method::POST, base, token, Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{base}: {}", created.body);
        assert_hidden(&created.json(), key);
        let listed = app.api(Method::GET, base, token, None).await;
        let listed = listed.json();
        let found = listed.as_array().unwrap().iter().find(|v| v["key"] == *key).unwrap();
        assert_hidden(found, key);
        let one = app.api(Method::GET, &format!("{base}/{key}"), token, None).await;
        assert_hidden(&one.json(), key);
        // A change without a value keeps it; asking to unhide changes nothing.
        let changed = app
            .api(Method::PUT, &format!("{base}/{key}"), token, Some(json!({"description": "kept", "masked": false})))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{base}: {}", changed.body);
        assert_hidden(&changed.json(), key);
        assert_eq!(changed.json()["description"], "kept");
        // A hidden value must still be maskable.
        let unmaskable = app.api(Method::PUT, &format!("{base}/{key}"), token, Some(json!({"value": "short"}))).await;
        assert_eq!(unmaskable.status, StatusCode::BAD_REQUEST, "{base}: {}", unmaskable.body);
    }
    for (_, base) in &levels {
        let every = app.api(Method::GET, base, token, None).await;
        assert!(!every.body.contains(SECRET), "{base} gave a hidden value back: {}", every.body);
    }
    // The settings pages show that it is hidden, not the value.
    for page in [
        format!("/{}/-/settings/ci_cd", project.full_path),
        "/acme/-/settings/ci_cd".to_owned(),
        "/admin/ci_cd".to_owned(),
    ] {
        let shown = app.page(Method::GET, &page, Some(&ada), None).await;
        assert_eq!(shown.status, StatusCode::OK, "{page}");
        assert!(!shown.body.contains(SECRET), "{page} shows a hidden value");
        assert!(shown.body.contains("hidden"), "{page}");
    }
    // The settings page's form hides a value too, and keeps it when saved without one.
    let settings = format!("/{}/-/settings/ci_cd", project.full_path);
    let form = [("key", "FORM_SECRET"), ("value", SECRET), ("variable_type", "env_var"), ("hidden", "1")];
    let added = app.page(Method::POST, &format!("{settings}/variables"), Some(&ada), Some(&form)).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let edit = [
        ("key", "FORM_SECRET"),
        ("value", ""),
        ("variable_type", "env_var"),
        ("keeps_hidden_value", "1"),
        ("original_key", "FORM_SECRET"),
        ("original_scope", "*"),
        ("description", "from the form"),
    ];
    let edited = app.page(Method::POST, &format!("{settings}/variables"), Some(&ada), Some(&edit)).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let one = app.api(Method::GET, &format!("{}/FORM_SECRET", levels[2].1), token, None).await.json();
    assert_hidden(&one, "FORM_SECRET");
    assert_eq!(one["description"], "from the form");

    // The project's value changes, then a job gets every level's.
    let base = &levels[2].1;
    let set = app.api(Method::PUT, &format!("{base}/PROJECT_SECRET"), token, Some(json!({"value": NEW_SECRET}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_hidden(&set.json(), "PROJECT_SECRET");
    let variables = job_variables(&app, &ada, &owner, &project).await;
    let value = |key: &str| variables.iter().rev().find(|v| v["key"] == key).map(|v| v["value"].clone());
    assert_eq!(value("INSTANCE_SECRET"), Some(json!(SECRET)));
    assert_eq!(value("GROUP_SECRET"), Some(json!(SECRET)));
    assert_eq!(value("PROJECT_SECRET"), Some(json!(NEW_SECRET)));
    assert_eq!(value("FORM_SECRET"), Some(json!(SECRET)), "saved without a value, it kept its own");
    assert!(
        variables
            .iter()
            .filter(|v| v["key"].as_str().is_some_and(|k| k.ends_with("_SECRET")))
            .all(|v| v["masked"] == true)
    );
}

fn assert_hidden(variable: &Value, key: &str) {
    assert_eq!(variable["key"], key);
    assert_eq!(variable["value"], Value::Null, "{variable}");
    assert_eq!((variable["hidden"].as_bool(), variable["masked"].as_bool()), (Some(true), Some(true)), "{variable}");
}

/// The variables a job of the project's pipeline gets.
async fn job_variables(
    app: &TestApp,
    ada: &crate::support::TestUser,
    owner: &Actor,
    project: &gantry_core::ProjectRow,
) -> Vec<Value> {
    let author = gantry_git::Author { name: "Ada", email: "ada@example.com" };
    let ci = b"job:\n  script: echo $PROJECT_SECRET\n";
    let sha = app.core.repos().initial_commit(project.id, "main", ".gitlab-ci.yml", ci, "ci", &author).await.unwrap();
    let request = PipelineRequest {
        ref_name: "main".into(),
        is_tag: false,
        sha,
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(ada.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    app.core.ci().create_pipeline(project, request).await.unwrap().unwrap();
    let registration = RunnerRegistration {
        scope: RunnerScope::Project(project.id),
        description: "hidden".into(),
        tags: Vec::new(),
        run_untagged: true,
        paused: false,
        max_concurrent: 0,
    };
    let (_, runner) = app.core.ci().register_runner(owner, registration).await.unwrap();
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    taken.json()["variables"].as_array().unwrap().clone()
}
