//! Includes the server resolves when it creates a pipeline, as the pipeline's user: a component
//! of another project at a tag (or the newest release), with inputs checked and interpolated and
//! refused to a user who may not read that project; a template of the server's library; a
//! remote file, refused until an administrator allows its host, then fetched and, unchanged,
//! not downloaded again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{HeaderMap, Method, StatusCode};
use gantry_core::ProjectRow;
use gantry_core::ci::CiSettingsOfServer;
use gantry_core::ci::create::PipelineRequest;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A test app whose server is `http://gantry.test`, the host component addresses name.
async fn app() -> TestApp {
    TestApp::with_core(|core| {
        core.with_ci_settings(CiSettingsOfServer { external_url: "http://gantry.test".into(), ..Default::default() })
    })
    .await
}

/// Commits `files` (path, content) to `main` of `project`.
async fn commit(app: &TestApp, user: &TestUser, project: &ProjectRow, files: &[(&str, &str)]) {
    let actions: Vec<Value> = files
        .iter()
        .map(|(path, content)| json!({"action": "create", "file_path": path, "content": content}))
        .collect();
    let body = json!({"branch": "main", "commit_message": "CI files", "actions": actions});
    let path = format!("/api/v4/projects/{}/repository/commits", project.id.0);
    let committed = app.api(Method::POST, &path, Some(&user.token), Some(body)).await;
    assert_eq!(committed.status, StatusCode::CREATED, "{}", committed.body);
}

async fn update(app: &TestApp, user: &TestUser, project: &ProjectRow, path: &str, content: &str) {
    let body = json!({"branch": "main", "commit_message": "Change", "actions": [
        {"action": "update", "file_path": path, "content": content}
    ]});
    let uri = format!("/api/v4/projects/{}/repository/commits", project.id.0);
    let committed = app.api(Method::POST, &uri, Some(&user.token), Some(body)).await;
    assert_eq!(committed.status, StatusCode::CREATED, "{}", committed.body);
}

async fn tag(app: &TestApp, user: &TestUser, project: &ProjectRow, name: &str) {
    let path = format!("/api/v4/projects/{}/repository/tags", project.id.0);
    let made = app.api(Method::POST, &path, Some(&user.token), Some(json!({"tag_name": name, "ref": "main"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
}

/// A pipeline of `main` by `user`: its YAML errors, and the names and stages of its jobs.
async fn pipeline(app: &TestApp, user: &TestUser, project: &ProjectRow) -> (Option<String>, Vec<(String, String)>) {
    let sha = app.core.repos().resolve_commit(project.id, "main").await.unwrap().unwrap();
    let request = PipelineRequest {
        ref_name: "main".into(),
        is_tag: false,
        sha,
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(user.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    let pipeline = app.core.ci().create_pipeline(project, request).await.unwrap().unwrap();
    let path = format!("/api/v4/projects/{}/pipelines/{}/jobs", project.id.0, pipeline.id.0);
    let jobs = app.api(Method::GET, &path, Some(&user.token), None).await.json();
    let mut jobs: Vec<(String, String)> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|job| (job["name"].as_str().unwrap().to_owned(), job["stage"].as_str().unwrap().to_owned()))
        .collect();
    jobs.sort();
    (pipeline.yaml_errors, jobs)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

const COMPONENT: &str = "spec:
  component: [version]
  inputs:
    stage:
      default: test
      options: [build, test]
    target:
---
include:
  - local: templates/build/common.yml
build-$[[ inputs.target ]]:
  extends: .common
  stage: $[[ inputs.stage ]]
  script: make $[[ inputs.target ]] VERSION=$[[ component.version ]]
";

#[tokio::test]
async fn a_component_of_another_project_is_read_at_its_version_with_its_inputs() {
    let app = app().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let (components, _) = app.project_with_file(&ada, "components", "README.md", b"CI components\n").await;
    commit(
        &app,
        &ada,
        &components,
        &[("templates/build/template.yml", COMPONENT), ("templates/build/common.yml", ".common:\n  tags: []\n")],
    )
    .await;
    tag(&app, &ada, &components, "1.0.0").await;
    update(&app, &ada, &components, "templates/build/template.yml", &COMPONENT.replace("build-", "compile-")).await;
    tag(&app, &ada, &components, "1.1.0").await;
    let address = format!("gantry.test/{}/build", components.full_path);

    let ci = format!(
        "stages: [build, test]\ninclude:\n  - component: {address}@1.0.0\n    inputs:\n      target: docs\n      stage: build\n  - component: {address}@~latest\n    inputs:\n      target: app\n"
    );
    let (app_project, _) = app.project_with_file(&ada, "app", ".gitlab-ci.yml", ci.as_bytes()).await;
    let (errors, jobs) = pipeline(&app, &ada, &app_project).await;
    assert_eq!(errors, None);
    assert_eq!(jobs, pairs(&[("build-docs", "build"), ("compile-app", "test")]));

    // Inputs that do not fit are GitLab's errors, where the include is.
    let bad = format!("include:\n  - component: {address}@1.0.0\n    inputs:\n      stage: deploy\n");
    update(&app, &ada, &app_project, ".gitlab-ci.yml", &bad).await;
    let (errors, jobs) = pipeline(&app, &ada, &app_project).await;
    let errors = errors.unwrap();
    assert!(jobs.is_empty());
    assert!(errors.contains("`target` input: required value has not been provided"), "{errors}");
    assert!(
        errors.contains("`stage` input: `deploy` cannot be used because it is not in the list of allowed options"),
        "{errors}"
    );

    // Bob may not read Ada's private components: his pipeline says so, as GitLab does.
    let (bobs, _) = app.project_with_file(&bob, "bobs", ".gitlab-ci.yml", ci.as_bytes()).await;
    let (errors, jobs) = pipeline(&app, &bob, &bobs).await;
    assert!(jobs.is_empty());
    assert!(errors.unwrap().contains(&format!(
        "Component '{address}@1.0.0' - project does not exist or you don't have sufficient permissions"
    )),);

    // A component of another server, and a version that does not exist.
    let elsewhere =
        format!("include:\n  - component: gitlab.com/components/sast/sast@2.0.0\n  - component: {address}@9.9.9\n");
    update(&app, &ada, &app_project, ".gitlab-ci.yml", &elsewhere).await;
    let errors = pipeline(&app, &ada, &app_project).await.0.unwrap();
    assert!(
        errors.contains("Component 'gitlab.com/components/sast/sast@2.0.0' - the component path is not supported"),
        "{errors}"
    );
    assert!(errors.contains(&format!("Component '{address}@9.9.9' - content not found")), "{errors}");
}

#[tokio::test]
async fn include_project_reads_as_the_pipeline_user_with_rules_and_inputs() {
    let app = app().await;
    let ada = app.user("ada").await;
    let (shared, _) = app.project_with_file(&ada, "shared", "README.md", b"Shared CI files\n").await;
    let test = "spec:\n  inputs:\n    command:\n---\ninclude: ci/more.yml\ntest:\n  script: $[[ inputs.command ]]\n";
    commit(&app, &ada, &shared, &[("ci/test.yml", test), ("ci/more.yml", "more:\n  script: echo more\n")]).await;
    let ci = format!(
        "include:\n  - project: {path}\n    file: ci/test.yml\n    inputs:\n      command: cargo test\n  - project: {path}\n    file: ci/never.yml\n    rules:\n      - exists: [Cargo.toml]\n  - template: Bash.gitlab-ci.yml\n    rules:\n      - if: $CI_COMMIT_BRANCH == \"main\"\n",
        path = shared.full_path
    );
    let (project, _) = app.project_with_file(&ada, "consumer", ".gitlab-ci.yml", ci.as_bytes()).await;
    let (errors, jobs) = pipeline(&app, &ada, &project).await;
    assert_eq!(errors, None);
    let names: Vec<&str> = jobs.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.contains(&"test") && names.contains(&"more"), "{names:?}");
    assert!(names.len() > 2, "the Bash template's jobs are there too: {names:?}");

    // Linting sees the same, as the user who asks.
    let lint = format!("/api/v4/projects/{}/ci/lint", project.id.0);
    let linted =
        app.api(Method::POST, &lint, Some(&ada.token), Some(json!({"content": ci, "include_jobs": true}))).await;
    assert_eq!(linted.json()["valid"], true, "{}", linted.body);

    // An unknown template names some that exist and where the list is.
    let unknown = json!({"content": "include:\n  - template: Rusty.gitlab-ci.yml\n"});
    let linted = app.api(Method::POST, &lint, Some(&ada.token), Some(unknown)).await.json();
    let error = linted["errors"][0].as_str().unwrap().to_owned();
    assert!(error.contains("Included file `Rusty.gitlab-ci.yml` is empty or does not exist!"), "{error}");
    assert!(error.contains("`Rust.gitlab-ci.yml`") && error.contains("/api/v4/templates/gitlab_ci_ymls"), "{error}");
}

/// What the remote CI server saw: requests, and full answers (not `304 Not Modified`).
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    full: AtomicUsize,
}

/// A CI file server on 127.0.0.1: `/ci.yml` with an ETag, `/big.yml` over 1 MiB, anything else
/// a 404.
async fn remote_server(seen: Arc<Seen>) -> u16 {
    use axum::routing::get;
    let file = move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            seen.requests.fetch_add(1, Ordering::SeqCst);
            if headers.get("if-none-match").is_some_and(|v| v == "\"v1\"") {
                return (StatusCode::NOT_MODIFIED, [("etag", "\"v1\"")], String::new());
            }
            seen.full.fetch_add(1, Ordering::SeqCst);
            (StatusCode::OK, [("etag", "\"v1\"")], "remote-job:\n  script: echo from afar\n".to_owned())
        }
    };
    let router = axum::Router::new()
        .route("/ci.yml", get(file))
        .route("/big.yml", get(|| async { format!("# {}\n", "x".repeat(1 << 20)) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

#[tokio::test]
async fn remote_includes_come_only_from_hosts_the_administrator_allows() {
    let app = app().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let seen = Arc::new(Seen::default());
    let port = remote_server(seen.clone()).await;
    let ci = format!("include:\n  - remote: http://127.0.0.1:{port}/ci.yml\nlocal-job:\n  script: echo here\n");
    let (project, _) = app.project_with_file(&ada, "remote", ".gitlab-ci.yml", ci.as_bytes()).await;

    // Nothing is allowed by default, and the error says how to allow it.
    let (errors, jobs) = pipeline(&app, &ada, &project).await;
    let errors = errors.unwrap();
    assert!(jobs.is_empty());
    assert!(errors.contains("`127.0.0.1` is not an allowed host for remote includes"), "{errors}");
    assert!(errors.contains("ci_remote_include_hosts"), "{errors}");
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0, "nothing was asked of a host not allowed");

    // Only the administrator may allow it; then the file is fetched.
    let settings = "/api/v4/application/settings";
    let hosts = json!({"ci_remote_include_hosts": [format!("127.0.0.1:{port}")]});
    assert_eq!(
        app.api(Method::PUT, settings, Some(&ada.token), Some(hosts.clone())).await.status,
        StatusCode::NOT_FOUND
    );
    let allowed = app.api(Method::PUT, settings, Some(&root.token), Some(hosts)).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    assert_eq!(allowed.json()["ci_remote_include_hosts"], json!([format!("127.0.0.1:{port}")]));
    let (errors, jobs) = pipeline(&app, &ada, &project).await;
    assert_eq!(errors, None);
    assert_eq!(jobs, pairs(&[("local-job", "test"), ("remote-job", "test")]));

    // Unchanged, it is not downloaded again: the server is asked with its ETag.
    let (errors, _) = pipeline(&app, &ada, &project).await;
    assert_eq!(errors, None);
    assert_eq!((seen.requests.load(Ordering::SeqCst), seen.full.load(Ordering::SeqCst)), (2, 1));

    // Too large, or not there: GitLab's errors.
    let ci = format!(
        "include:\n  - remote: http://127.0.0.1:{port}/big.yml\n  - remote: http://127.0.0.1:{port}/gone.yml\n"
    );
    update(&app, &ada, &project, ".gitlab-ci.yml", &ci).await;
    let errors = pipeline(&app, &ada, &project).await.0.unwrap();
    assert!(errors.contains("big.yml` is larger than 1 MiB"), "{errors}");
    assert!(errors.contains("gone.yml` could not be fetched because of HTTP code `404` error!"), "{errors}");

    // Entries may be written as one text too; a host named exactly reaches even a local address
    // (a `*.` entry never does).
    let hosts = json!({"ci_remote_include_hosts": "*.example.com, localhost"});
    let allowed = app.api(Method::PUT, settings, Some(&root.token), Some(hosts)).await;
    assert_eq!(allowed.json()["ci_remote_include_hosts"], json!(["*.example.com", "localhost"]), "{}", allowed.body);
    let ci = format!("include:\n  - remote: http://localhost:{port}/ci.yml\n");
    update(&app, &ada, &project, ".gitlab-ci.yml", &ci).await;
    let (errors, jobs) = pipeline(&app, &ada, &project).await;
    assert_eq!(errors, None);
    assert_eq!(jobs, pairs(&[("remote-job", "test")]));
}

const WITH_INPUTS: &str = "spec:
  inputs:
    environment:
      description: Where to deploy
      options: [staging, production]
      default: staging
    replicas:
      type: number
      default: 1
---
deploy-$[[ inputs.environment ]]:
  script: deploy --replicas $[[ inputs.replicas ]]
";

#[tokio::test]
async fn the_project_files_inputs_come_from_the_api_and_the_run_pipeline_form() {
    let app = app().await;
    let ada = app.user("ada").await;
    let (project, _) = app.project_with_file(&ada, "app", ".gitlab-ci.yml", WITH_INPUTS.as_bytes()).await;
    let run = |inputs: Value| {
        let path = format!("/api/v4/projects/{}/pipeline", project.id.0);
        let token = ada.token.clone();
        let app = &app;
        async move { app.api(Method::POST, &path, Some(&token), Some(json!({"ref": "main", "inputs": inputs}))).await }
    };
    let jobs_of = |pipeline: i64| {
        let path = format!("/api/v4/projects/{}/pipelines/{pipeline}/jobs", project.id.0);
        let token = ada.token.clone();
        let app = &app;
        async move {
            let jobs = app.api(Method::GET, &path, Some(&token), None).await.json();
            jobs.as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let made = run(json!({"environment": "production", "replicas": 3})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(jobs_of(made.json()["id"].as_i64().unwrap()).await, ["deploy-production"]);
    // Without inputs, the defaults.
    let made = run(Value::Null).await;
    assert_eq!(jobs_of(made.json()["id"].as_i64().unwrap()).await, ["deploy-staging"]);
    // Values the header refuses fail the pipeline with GitLab's words; a non-hash is refused.
    let refused = run(json!({"environment": "qa", "colour": "red"})).await;
    let errors = refused.json()["yaml_errors"].as_str().unwrap_or_default().to_owned();
    assert!(errors.contains("unknown input arguments: colour"), "{errors}");
    assert_eq!(run(json!("production")).await.status, StatusCode::BAD_REQUEST);

    // The form offers the inputs, with their options and defaults, and runs with them.
    let form = app.page(Method::GET, &format!("/{}/-/pipelines/new", project.full_path), Some(&ada), None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"input:environment\""), "{}", form.body);
    assert!(form.body.contains("<option value=\"production\">production</option>"), "{}", form.body);
    assert!(form.body.contains("Where to deploy"));
    let fields = [("ref", "main"), ("input:environment", "production"), ("input:replicas", "2")];
    let ran = app.page(Method::POST, &format!("/{}/-/pipelines", project.full_path), Some(&ada), Some(&fields)).await;
    assert_eq!(ran.status, StatusCode::SEE_OTHER, "{}", ran.body);
    let location = ran.header("location").to_owned();
    let pipeline: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(jobs_of(pipeline).await, ["deploy-production"]);

    // A schedule keeps its inputs and runs with them.
    let schedules = format!("/api/v4/projects/{}/pipeline_schedules", project.id.0);
    let body = json!({"description": "nightly", "ref": "main", "cron": "0 4 * * *",
        "inputs": [{"name": "environment", "value": "production"}, {"name": "replicas", "value": 5}]});
    let made = app.api(Method::POST, &schedules, Some(&ada.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let schedule = made.json();
    assert_eq!(
        schedule["inputs"],
        json!([{"name": "environment", "value": "production"}, {"name": "replicas", "value": 5}])
    );
    let id = schedule["id"].as_i64().unwrap();
    let bad = json!({"inputs": [{"name": "no spaces allowed", "value": "x"}]});
    let refused = app.api(Method::PUT, &format!("{schedules}/{id}"), Some(&ada.token), Some(bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let played = app.api(Method::POST, &format!("{schedules}/{id}/play"), Some(&ada.token), None).await;
    assert!(played.status.is_success(), "{}", played.body);
    let ran = app.api(Method::GET, &format!("{schedules}/{id}/pipelines"), Some(&ada.token), None).await.json();
    let pipeline = ran.as_array().unwrap()[0]["id"].as_i64().unwrap();
    assert_eq!(jobs_of(pipeline).await, ["deploy-production"]);
    // The schedule's form shows them for editing.
    let form = app
        .page(Method::GET, &format!("/{}/-/pipeline_schedules/{id}/edit", project.full_path), Some(&ada), None)
        .await;
    assert!(form.body.contains("value=\"environment\""), "{}", form.body);
    assert!(form.body.contains("value=\"5\""), "{}", form.body);
}
