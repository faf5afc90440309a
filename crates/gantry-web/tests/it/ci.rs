//! The runner protocol in process: a runner takes a job, uploads its log in pieces (a secret
//! split between two of them stays masked), is told where the log ends when it sends the wrong
//! offset, reports the result, and loses access once the job has ended.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gantry_core::Actor;
use gantry_core::ci::create::PipelineRequest;
use gantry_core::ci::runners::{RunnerRegistration, RunnerScope};
use gantry_core::manage::projects::NewProjectInput;
use gantry_types::{CiStatus, JobId};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

async fn patch_trace(app: &TestApp, job: i64, token: &str, start: usize, body: &[u8]) -> TestResponse {
    let request = Request::builder()
        .method(Method::PATCH)
        .uri(format!("/api/v4/jobs/{job}/trace"))
        .header("JOB-TOKEN", token)
        .header("Content-Range", format!("{start}-{}", start + body.len() - 1))
        .body(Body::from(body.to_vec()))
        .unwrap();
    app.send(request).await
}

async fn put_job(app: &TestApp, job: i64, body: Value) -> TestResponse {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(format!("/api/v4/jobs/{job}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn a_runner_takes_a_job_streams_its_log_masked_and_reports_the_result() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    let ci = b"stages: [build, test]\nbuild:\n  stage: build\n  script: echo build\ntest:\n  stage: test\n  script: echo test\n";
    let (project, sha) = app.project_with_file(&ada, "Runs", ".gitlab-ci.yml", ci).await;
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
    let pipeline = app.core.ci().create_pipeline(&project, request).await.unwrap().unwrap();
    assert_eq!(pipeline.status, CiStatus::Pending);

    let bad = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": "grt-nope"}))).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    let runner = app.instance_runner().await;
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let job = taken.json();
    assert_eq!(job["job_info"]["name"], "build");
    let (id, token) = (job["id"].as_i64().unwrap(), job["token"].as_str().unwrap().to_owned());
    let variables = job["variables"].as_array().unwrap();
    let value = |key: &str| variables.iter().rev().find(|v| v["key"] == key).map(|v| v["value"].clone());
    assert_eq!(value("CI_COMMIT_REF_NAME"), Some(json!("main")));
    assert_eq!(value("CI_JOB_TOKEN"), Some(json!(token)));
    assert_eq!(value("CI_PROJECT_PATH"), Some(json!(project.full_path)));
    assert_eq!(job["steps"][0]["script"], json!(["echo build"]));

    // The secret arrives in two pieces; neither the stored nor the served log ever has it.
    let (head, tail) = token.split_at(9);
    let first = format!("$ echo $CI_JOB_TOKEN\n{head}");
    let piece = patch_trace(&app, id, &token, 0, first.as_bytes()).await;
    assert_eq!(piece.status, StatusCode::ACCEPTED, "{}", piece.body);
    assert_eq!(piece.header("range"), format!("0-{}", first.len()));
    assert_eq!(piece.header("job-status"), "running");
    let wrong = patch_trace(&app, id, &token, 3, b"again").await;
    assert_eq!(wrong.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(wrong.header("range"), format!("0-{}", first.len()));
    let second = format!("{tail}\ndone\n");
    let piece = patch_trace(&app, id, &token, first.len(), second.as_bytes()).await;
    assert_eq!(piece.status, StatusCode::ACCEPTED);
    let served = app
        .api(Method::GET, &format!("/api/v4/projects/{}/jobs/{id}/trace", project.id.0), Some(&ada.token), None)
        .await;
    assert!(!served.body.contains(head), "the start of a secret is held back: {}", served.body);
    let finished = put_job(&app, id, json!({"token": token, "state": "success", "exit_code": 0})).await;
    assert_eq!(finished.status, StatusCode::OK);
    let served = app
        .api(Method::GET, &format!("/api/v4/projects/{}/jobs/{id}/trace", project.id.0), Some(&ada.token), None)
        .await;
    assert_eq!(served.body, "$ echo $CI_JOB_TOKEN\n[MASKED]\ndone\n");
    assert!(!served.body.contains(&token));

    // The finished log moves into the object store (a background job); it reads the same, also
    // from an offset.
    let _worker = app.background_worker();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut conn = app.core.db().conn().await.unwrap();
        let archived = gantry_db::ci::traces::trace_archive(&mut conn, JobId(id)).await.unwrap().is_some();
        if archived && gantry_db::ci::traces::read_trace(&mut conn, JobId(id), 0, 10).await.unwrap().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the log was not archived");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let archived = app
        .api(Method::GET, &format!("/api/v4/projects/{}/jobs/{id}/trace", project.id.0), Some(&ada.token), None)
        .await;
    assert_eq!(archived.body, served.body);
    let access = app.core.access_to_project(&owner, &project).await.unwrap();
    let rest = app.core.ci().job_trace(&access, JobId(id), first.len() as i64).await.unwrap().0;
    assert_eq!(String::from_utf8(rest).unwrap(), "[MASKED]\ndone\n", "a viewer resuming at the second piece");
    // A second archiver (the sweeper racing the finish hook) cannot replace the first archive.
    let mut conn = app.core.db().conn().await.unwrap();
    let replaced = gantry_db::ci::traces::set_trace_archive(&mut conn, JobId(id), &"0".repeat(64), "[]").await.unwrap();
    assert!(!replaced, "the first archive recorded wins");
    drop(conn);
    let again = app.core.ci().job_trace(&access, JobId(id), 0).await.unwrap().0;
    assert_eq!(String::from_utf8(again).unwrap(), served.body);

    // The job has ended: its token no longer works, and the next stage's job is queued.
    let late = patch_trace(&app, id, &token, 0, b"x").await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
    let next = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(next.status, StatusCode::CREATED);
    assert_eq!(next.json()["job_info"]["name"], "test");
    let failed = put_job(
        &app,
        next.json()["id"].as_i64().unwrap(),
        json!({"token": next.json()["token"], "state": "failed", "failure_reason": "script_failure", "exit_code": 3}),
    )
    .await;
    assert_eq!(failed.status, StatusCode::OK);
    let access = app.core.access_to_project(&owner, &project).await.unwrap();
    let (pipeline, jobs) = app.core.ci().pipeline(&access, pipeline.id).await.unwrap();
    assert_eq!(pipeline.status, CiStatus::Failed);
    assert_eq!(jobs[1].exit_code, Some(3));
    assert_eq!(jobs[1].failure_reason.as_deref(), Some("script_failure"));
}

#[tokio::test]
async fn variables_are_encrypted_masked_scoped_and_reach_jobs_in_precedence_order() {
    let app = TestApp::new().await;
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
    let base = format!("/api/v4/projects/{}/variables", project.id.0);
    let post = |body: Value| app.api(Method::POST, &base, Some(&ada.token), Some(body));

    // Bad input is refused with the reason, and nothing is stored.
    let short = post(json!({"key": "TOKEN", "value": "short", "masked": true})).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.body);
    assert!(short.body.contains("at least 8"), "{}", short.body);
    let spaced = post(json!({"key": "TOKEN", "value": "has spaces in it", "masked": true})).await;
    assert_eq!(spaced.status, StatusCode::BAD_REQUEST);
    let bad_key = post(json!({"key": "NOT-A-KEY", "value": "x"})).await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
    let listed = app.api(Method::GET, &base, Some(&ada.token), None).await;
    assert_eq!(listed.json(), json!([]));

    let created = post(json!({"key": "TOKEN", "value": "s3cr3t-t0ken-value", "masked": true})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["masked"], true);
    assert_eq!(post(json!({"key": "TOKEN", "value": "again"})).await.status, StatusCode::CONFLICT);
    assert_eq!(post(json!({"key": "SHARED", "value": "project wins"})).await.status, StatusCode::CREATED);
    assert_eq!(
        post(json!({"key": "RELEASE", "value": "only protected", "protected": true})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        post(json!({"key": "DEPLOY_URL", "value": "https://prod", "environment_scope": "production"})).await.status,
        StatusCode::CREATED
    );
    let group_url = format!("/api/v4/groups/{}/variables", group.id.0);
    let made =
        app.api(Method::POST, &group_url, Some(&ada.token), Some(json!({"key": "SHARED", "value": "group"}))).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let made =
        app.api(Method::POST, &group_url, Some(&ada.token), Some(json!({"key": "FROM_GROUP", "value": "g"}))).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let changed =
        app.api(Method::PUT, &format!("{base}/SHARED"), Some(&ada.token), Some(json!({"description": "mine"}))).await;
    assert_eq!(changed.json()["value"], "project wins");
    assert_eq!(changed.json()["description"], "mine");

    // At rest the values are sealed.
    let mut conn = app.core.db().conn().await.unwrap();
    let owner_key = gantry_db::ci::variables::VariableOwner::Project(project.id);
    for row in gantry_db::ci::variables::list_variables(&mut conn, owner_key).await.unwrap() {
        assert!(row.value_sealed.starts_with("v1:") && !row.value_sealed.contains("s3cr3t"), "{}", row.value_sealed);
    }
    drop(conn);

    // A job on an unprotected branch: no protected variable, no production-only one; the
    // project's value wins over the group's; the masked value is masked in the log.
    let author = gantry_git::Author { name: "Ada", email: "ada@example.com" };
    let ci = b"job:\n  script: echo $TOKEN\n";
    let sha =
        app.core.repos().initial_commit(project.id, "feature", ".gitlab-ci.yml", ci, "ci", &author).await.unwrap();
    let request = PipelineRequest {
        ref_name: "feature".into(),
        is_tag: false,
        sha,
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(ada.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    app.core.ci().create_pipeline(&project, request).await.unwrap().unwrap();
    let registration = RunnerRegistration {
        scope: RunnerScope::Project(project.id),
        description: "vars".into(),
        tags: Vec::new(),
        run_untagged: true,
        paused: false,
        max_concurrent: 0,
    };
    let (_, runner) = app.core.ci().register_runner(&owner, registration).await.unwrap();
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let job = taken.json();
    let variables = job["variables"].as_array().unwrap();
    let last = |key: &str| variables.iter().rev().find(|v| v["key"] == key).cloned();
    assert_eq!(last("SHARED").unwrap()["value"], "project wins");
    assert_eq!(last("FROM_GROUP").unwrap()["value"], "g");
    assert!(last("RELEASE").is_none(), "protected variables stay off unprotected refs");
    assert!(last("DEPLOY_URL").is_none(), "environment-scoped variables stay off other jobs");
    assert_eq!(last("TOKEN").unwrap()["masked"], true);
    let (id, token) = (job["id"].as_i64().unwrap(), job["token"].as_str().unwrap().to_owned());
    let log = b"$ echo $TOKEN\ns3cr3t-t0ken-value\n";
    assert_eq!(patch_trace(&app, id, &token, 0, &log[..20]).await.status, StatusCode::ACCEPTED);
    assert_eq!(patch_trace(&app, id, &token, 20, &log[20..]).await.status, StatusCode::ACCEPTED);
    assert_eq!(put_job(&app, id, json!({"token": token, "state": "success"})).await.status, StatusCode::OK);
    let served = app
        .api(Method::GET, &format!("/api/v4/projects/{}/jobs/{id}/trace", project.id.0), Some(&ada.token), None)
        .await;
    assert_eq!(served.body, "$ echo $TOKEN\n[MASKED]\n");

    let deleted = app.api(Method::DELETE, &format!("{base}/TOKEN"), Some(&ada.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.api(Method::GET, &format!("{base}/TOKEN"), Some(&ada.token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn other_systems_report_commit_statuses_shown_with_the_commit() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, sha) = app.project_with_file(&ada, "Reported", "README.md", b"hi").await;
    let post = |body: Value, sha: String| {
        let app = &app;
        let token = ada.token.clone();
        let path = format!("/api/v4/projects/{}/statuses/{sha}", project.id.0);
        async move { app.api(Method::POST, &path, Some(&token), Some(body)).await }
    };
    let running = post(json!({"state": "running", "name": "jenkins", "ref": "main"}), sha.clone()).await;
    assert_eq!(running.status, StatusCode::CREATED, "{}", running.body);
    assert_eq!(running.json()["status"], "running");
    let body = json!({"state": "success", "context": "jenkins", "ref": "main", "target_url": "https://ci.example.com/1", "coverage": "87.5"});
    let done = post(body, sha.clone()).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    let done = done.json();
    assert_eq!((done["id"].clone(), done["coverage"].clone()), (running.json()["id"].clone(), json!(87.5)));
    assert!(done["finished_at"].is_string() && done["started_at"].is_string());
    for (body, status) in [
        (json!({"state": "exploded"}), StatusCode::BAD_REQUEST),
        (json!({"state": "success", "target_url": "javascript:alert(1)"}), StatusCode::BAD_REQUEST),
        (json!({"state": "success", "coverage": 101}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(post(body, sha.clone()).await.status, status);
    }
    assert_eq!(post(json!({"state": "success"}), "0".repeat(40)).await.status, StatusCode::NOT_FOUND);
    let listed = app
        .api(
            Method::GET,
            &format!("/api/v4/projects/{}/repository/commits/{sha}/statuses?name=jenkins", project.id.0),
            Some(&ada.token),
            None,
        )
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["author"]["username"], "ada");
    let page = app.page(Method::GET, &format!("/{}/-/commit/{sha}", project.full_path), Some(&ada), None).await;
    assert!(
        page.body.contains("id=\"commit-statuses\"") && page.body.contains("https://ci.example.com/1"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_runner_unregisters_itself_with_its_token() {
    let app = TestApp::new().await;
    let token = app.instance_runner().await;
    let verify = |token: &str| app.api(Method::POST, "/api/v4/runners/verify", None, Some(json!({"token": token})));
    assert_eq!(verify(&token).await.status, StatusCode::OK);
    let gone = app.api(Method::DELETE, "/api/v4/runners", None, Some(json!({"token": token}))).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(verify(&token).await.status, StatusCode::FORBIDDEN, "its token is dead");
    let again = app.api(Method::DELETE, &format!("/api/v4/runners?token={token}"), None, None).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
}
