//! Pipelines as real CI files leave them: manual jobs that are left over finish the pipeline with
//! GitLab's status and the page's buttons follow; a blocking manual job blocks it; jobs that need
//! an optional manual job wait for it to be played; coverage is read from the log line by line;
//! the pipeline page and the list send their changes over their streams.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures_util::StreamExt;
use gantry_core::ci::create::PipelineRequest;
use gantry_types::PipelineId;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{TestApp, TestUser};

/// A pipeline for `main`'s commit of a new project of `user` whose CI file is `ci`.
async fn pipeline_of(app: &TestApp, user: &TestUser, name: &str, ci: &[u8]) -> (gantry_core::ProjectRow, PipelineId) {
    let (project, sha) = app.project_with_file(user, name, ".gitlab-ci.yml", ci).await;
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
    let pipeline = app.core.ci().create_pipeline(&project, request).await.unwrap().unwrap();
    (project, pipeline.id)
}

/// The runner takes the next job: its id, name and token.
async fn take(app: &TestApp, runner: &str) -> (i64, String, String) {
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "a job to take: {}", taken.body);
    let job = taken.json();
    (
        job["id"].as_i64().unwrap(),
        job["job_info"]["name"].as_str().unwrap().to_owned(),
        job["token"].as_str().unwrap().to_owned(),
    )
}

/// The runner writes `log` for the job and reports `state`.
async fn finish(app: &TestApp, job: i64, token: &str, log: &str, state: &str) {
    if !log.is_empty() {
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(format!("/api/v4/jobs/{job}/trace"))
            .header("JOB-TOKEN", token)
            .header("Content-Range", format!("0-{}", log.len() - 1))
            .body(Body::from(log.to_owned()))
            .unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::ACCEPTED);
    }
    let body = json!({"token": token, "state": state, "exit_code": if state == "success" { 0 } else { 1 }});
    let done = app.api(Method::PUT, &format!("/api/v4/jobs/{job}"), None, Some(body)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

async fn pipeline_json(app: &TestApp, user: &TestUser, project: &gantry_core::ProjectRow, id: PipelineId) -> Value {
    let path = format!("/api/v4/projects/{}/pipelines/{}", project.id.0, id.0);
    app.api(Method::GET, &path, Some(&user.token), None).await.json()
}

async fn jobs_json(app: &TestApp, user: &TestUser, project: &gantry_core::ProjectRow, id: PipelineId) -> Vec<Value> {
    let path = format!("/api/v4/projects/{}/pipelines/{}/jobs", project.id.0, id.0);
    app.api(Method::GET, &path, Some(&user.token), None).await.json().as_array().unwrap().clone()
}

fn status_of<'a>(jobs: &'a [Value], name: &str) -> &'a str {
    jobs.iter().find(|j| j["name"] == name).and_then(|j| j["status"].as_str()).unwrap_or("missing")
}

#[tokio::test]
async fn optional_manual_jobs_left_over_finish_the_pipeline_and_the_page_offers_retry_and_delete() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let runner = app.instance_runner().await;
    let ci = b"stages: [test, deploy]\n\
test:\n  stage: test\n  script: pytest\n  coverage: '/TOTAL.*? (100(?:\\.0+)?\\%|[1-9]?\\d(?:\\.\\d+)?\\%)$/'\n\
flaky:\n  stage: test\n  script: flaky\n  allow_failure: true\n\
deploy:\n  stage: deploy\n  script: deploy\n  when: manual\n\
smoke:\n  stage: deploy\n  needs: [deploy]\n  script: smoke\n";
    let (project, id) = pipeline_of(&app, &ada, "Manual", ci).await;
    let page = format!("/{}/-/pipelines/{}", project.full_path, id.0);
    let running = app.page(Method::GET, &page, Some(&ada), None).await;
    assert!(running.body.contains("Cancel pipeline"), "a pending pipeline can be canceled");

    let log = "Name    Stmts   Miss  Cover\r\n\
               app.py     10      2    80%\r\n\
               TOTAL      40      3    92%\r\n\
               ======== 12 passed in 0.31s ========\r\n";
    for _ in 0..2 {
        let (job, name, token) = take(&app, &runner).await;
        match name.as_str() {
            "test" => finish(&app, job, &token, log, "success").await,
            _ => finish(&app, job, &token, "", "failed").await,
        }
    }
    let pipeline = pipeline_json(&app, &ada, &project, id).await;
    assert_eq!(pipeline["status"], "success", "only an optional manual job is left: {pipeline}");
    assert!(pipeline["finished_at"].is_string(), "{pipeline}");
    assert_eq!(pipeline["coverage"], "92.00", "{pipeline}");
    let jobs = jobs_json(&app, &ada, &project, id).await;
    assert_eq!(status_of(&jobs, "deploy"), "manual");
    assert_eq!(status_of(&jobs, "smoke"), "skipped", "it needs a manual job that has not run (GitLab's rule)");
    let test = jobs.iter().find(|j| j["name"] == "test").unwrap();
    assert_eq!(test["coverage"], 92.0, "the pytest-cov line ending in `$` matched: {test}");

    let finished = app.page(Method::GET, &page, Some(&ada), None).await;
    assert!(finished.body.contains("id=\"pipeline-status\">passed"), "{}", finished.body);
    assert!(!finished.body.contains("Cancel pipeline"), "nothing is left to cancel");
    assert!(finished.body.contains(">Delete</button>"), "a finished pipeline can be deleted");
    assert!(finished.body.contains("Retry failed jobs"), "the allowed failure can be retried");

    // Playing the manual job gives the job that needs it its chance again.
    let deploy = jobs.iter().find(|j| j["name"] == "deploy").unwrap()["id"].as_i64().unwrap();
    let play = format!("/api/v4/projects/{}/jobs/{deploy}/play", project.id.0);
    assert!(app.api(Method::POST, &play, Some(&ada.token), None).await.status.is_success());
    let jobs = jobs_json(&app, &ada, &project, id).await;
    assert_eq!((status_of(&jobs, "deploy"), status_of(&jobs, "smoke")), ("pending", "created"));
    assert_eq!(pipeline_json(&app, &ada, &project, id).await["status"], "running");
    let (job, name, token) = take(&app, &runner).await;
    assert_eq!(name, "deploy");
    finish(&app, job, &token, "", "success").await;
    let (job, name, token) = take(&app, &runner).await;
    assert_eq!(name, "smoke");
    finish(&app, job, &token, "", "success").await;
    assert_eq!(pipeline_json(&app, &ada, &project, id).await["status"], "success");
}

#[tokio::test]
async fn a_blocking_manual_job_blocks_the_pipeline_until_it_is_played() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let runner = app.instance_runner().await;
    let ci = b"stages: [build, approve, release]\n\
build:\n  stage: build\n  script: make\n\
approve:\n  stage: approve\n  script: echo approved\n  rules:\n    - when: manual\n\
release:\n  stage: release\n  script: release\n";
    let (project, id) = pipeline_of(&app, &ada, "Blocked", ci).await;
    let (job, _, token) = take(&app, &runner).await;
    finish(&app, job, &token, "", "success").await;
    let pipeline = pipeline_json(&app, &ada, &project, id).await;
    assert_eq!(pipeline["status"], "manual", "{pipeline}");
    assert!(pipeline["finished_at"].is_null(), "a blocked pipeline has not finished: {pipeline}");
    let jobs = jobs_json(&app, &ada, &project, id).await;
    assert_eq!((status_of(&jobs, "approve"), status_of(&jobs, "release")), ("manual", "created"));
    let page = app.page(Method::GET, &format!("/{}/-/pipelines/{}", project.full_path, id.0), Some(&ada), None).await;
    assert!(page.body.contains("id=\"pipeline-status\">blocked"), "GitLab's word for it: {}", page.body);
    assert!(page.body.contains("Cancel pipeline"), "the release job is still to run");
    assert!(!page.body.contains("Retry failed jobs"));
    let list = app.page(Method::GET, &format!("/{}/-/pipelines", project.full_path), Some(&ada), None).await;
    assert!(list.body.contains("class=\"status blocked\""), "{}", list.body);
}

/// Reads Server-Sent Events from `path` until `done` accepts one (`event` name, data), within a
/// deadline; `meanwhile` runs once the stream is open.
async fn read_events<F>(
    app: &TestApp,
    user: &TestUser,
    path: &str,
    meanwhile: F,
    done: impl Fn(&str, &str) -> bool,
) -> Vec<(String, String)>
where
    F: std::future::Future<Output = ()>,
{
    let request = Request::builder()
        .uri(path)
        .header("cookie", format!("gantry_session={}", user.session))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body().into_data_stream();
    meanwhile.await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk =
            tokio::time::timeout(left, body.next()).await.unwrap_or_else(|_| panic!("no wanted event: {events:?}"));
        let Some(Ok(chunk)) = chunk else { return events };
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |line: &'_ str, name: &str| {
                line.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|v| v.strip_prefix(' ').unwrap_or(v).to_owned())
            };
            let Some(name) = block.lines().find_map(|l| field(l, "event")) else { continue };
            let data: Vec<String> = block.lines().filter_map(|l| field(l, "data")).collect();
            let data = data.join("\n");
            let finished = done(&name, &data);
            events.push((name, data));
            if finished {
                return events;
            }
        }
    }
}

#[tokio::test]
async fn the_pipeline_page_and_the_list_send_their_changes_live() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let runner = app.instance_runner().await;
    let ci = b"build:\n  stage: build\n  script: make\ntest:\n  stage: test\n  script: make test\n";
    let (project, id) = pipeline_of(&app, &ada, "Live", ci).await;
    let page = app.page(Method::GET, &format!("/{}/-/pipelines/{}", project.full_path, id.0), Some(&ada), None).await;
    let stream =
        page.body.split("data-stream=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().replace("&amp;", "&");
    assert!(stream.starts_with(&format!("/{}/-/pipelines/{}/stream?seen=", project.full_path, id.0)), "{stream}");

    // A job finishing changes the page: the stream sends the new jobs and status.
    let (job, name, token) = take(&app, &runner).await;
    assert_eq!(name, "build");
    let events = read_events(
        &app,
        &ada,
        &stream,
        async { finish(&app, job, &token, "built\n", "success").await },
        |name, data| name == "pipeline" && data.contains(">passed</span>") && data.contains("job-name\">build"),
    )
    .await;
    let (_, last) = events.last().unwrap();
    assert!(last.contains("id=\"pipeline-status\">"), "the status is part of what is sent");
    assert!(last.contains("Cancel pipeline"), "the test job is still to run");

    // The list follows the pipeline to its end, then ends.
    let (job, _, token) = take(&app, &runner).await;
    let list = format!("/{}/-/pipelines/stream?seen=old", project.full_path);
    let events = read_events(&app, &ada, &list, async { finish(&app, job, &token, "", "failed").await }, |name, _| {
        name == "end"
    })
    .await;
    let rows = events.iter().rev().find(|(name, _)| name == "pipelines").map(|(_, data)| data.clone()).unwrap();
    assert!(rows.contains(&format!("id=\"pipeline-{}\"", id.0)) && rows.contains("status failed"), "{rows}");

    // A finished pipeline's stream sends what changed since the page's version, then ends.
    let events = read_events(&app, &ada, &stream, async {}, |name, _| name == "end").await;
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["pipeline", "end"]);
    assert!(events[0].1.contains("Retry failed jobs") && !events[0].1.contains("Cancel pipeline"), "{}", events[0].1);

    // Strangers are told there is no such pipeline.
    let stranger = app.user("stranger").await;
    let hidden = app.page(Method::GET, &stream, Some(&stranger), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}
