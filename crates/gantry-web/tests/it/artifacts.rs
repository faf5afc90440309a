//! Artifacts, reports and caches through the runner protocol, in process: a build job uploads
//! an archive, a dotenv report and a cache; the test job gets the archive, the variables and the
//! cache, and reports JUnit results; people download, browse, keep and delete the artifacts,
//! read the Tests tab and its new failures against the default branch; the sweeper removes
//! expired artifacts and their blobs. Bad uploads are refused with nothing kept.

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::ci::create::PipelineRequest;
use gantry_core::{ProjectRow, UserRow};
use gantry_types::JobId;
use serde_json::{Value, json};

use crate::support::{TestApp, zip_of};

const CI: &[u8] = b"stages: [build, test]
build:
  stage: build
  script: make
  artifacts:
    paths: [dist/]
    expire_in: 1 week
    reports:
      dotenv: build.env
  cache:
    key: deps
    paths: [vendor/]
test:
  stage: test
  script: check
  artifacts:
    reports:
      junit: report.xml
  cache:
    key: deps
    paths: [vendor/]
    policy: pull
";

fn junit(failing: &[&str]) -> Vec<u8> {
    zip_of(&[("report.xml", junit_xml(failing).as_bytes())]).to_vec()
}

fn junit_xml(failing: &[&str]) -> String {
    let mut xml = String::from("<testsuites><testsuite name=\"unit\" time=\"0.5\">");
    for name in ["adds", "subtracts", "divides"] {
        if failing.contains(&name) {
            xml.push_str(&format!(
                "<testcase classname=\"calc\" name=\"{name}\" time=\"0.1\"><failure message=\"wrong\">expected 2, got 3</failure></testcase>"
            ));
        } else {
            xml.push_str(&format!("<testcase classname=\"calc\" name=\"{name}\" time=\"0.1\"/>"));
        }
    }
    xml.push_str("</testsuite></testsuites>");
    xml
}

struct Taken {
    id: i64,
    token: String,
    payload: Value,
}

async fn take(app: &TestApp, runner: &str) -> Taken {
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let payload = taken.json();
    Taken { id: payload["id"].as_i64().unwrap(), token: payload["token"].as_str().unwrap().to_owned(), payload }
}

async fn finish(app: &TestApp, job: &Taken, state: &str) {
    let body = json!({"token": job.token, "state": state});
    let done = app.api(Method::PUT, &format!("/api/v4/jobs/{}", job.id), None, Some(body)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

async fn upload(app: &TestApp, job: &Taken, query: &str, body: Vec<u8>) -> crate::support::TestResponse {
    app.job_request(Method::POST, &format!("/api/v4/jobs/{}/artifacts?{query}", job.id), &job.token, body).await
}

async fn run_pipeline(app: &TestApp, project: &ProjectRow, user: &UserRow, sha: &str) -> i64 {
    let request = PipelineRequest {
        ref_name: "main".into(),
        is_tag: false,
        sha: sha.to_owned(),
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    app.core.ci().create_pipeline(project, request).await.unwrap().unwrap().id.0
}

#[tokio::test]
async fn artifacts_reports_and_caches_pass_between_jobs_and_reach_people() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    let (project, sha) = app.project_with_file(&ada, "Arts", ".gitlab-ci.yml", CI).await;
    let runner = app.instance_runner().await;
    let first = run_pipeline(&app, &project, &ada.user, &sha).await;

    // The build job: its payload names what to upload and the resolved cache key.
    let build = take(&app, &runner).await;
    let kinds: Vec<&str> =
        build.payload["artifacts"].as_array().unwrap().iter().map(|a| a["artifact_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["archive", "dotenv"]);
    let key = build.payload["cache"][0]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("deps-") && key.ends_with("protected"), "{key}");

    // Bad uploads are refused and leave nothing behind.
    assert_eq!(
        upload(&app, &build, "artifact_type=archive", b"not a zip".to_vec()).await.status,
        StatusCode::BAD_REQUEST
    );
    let unknown = upload(&app, &build, "artifact_type=horoscope", zip_of(&[("a", b"1")])).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("a report type GitLab documents"), "{}", unknown.body);
    let path = format!("/api/v4/jobs/{}/artifacts", build.id);
    let stranger = app.job_request(Method::POST, &path, "gjob-nope", Vec::new()).await;
    assert!(matches!(stranger.status.as_u16(), 401 | 403));
    let bad_env = upload(&app, &build, "artifact_type=dotenv", zip_of(&[("build.env", b"not a line")])).await;
    assert_eq!(bad_env.status, StatusCode::BAD_REQUEST, "{}", bad_env.body);
    assert!(bad_env.body.contains("dotenv"), "{}", bad_env.body);

    let archive = zip_of(&[("dist/", b""), ("dist/app.bin", b"\x00\x01binary"), ("dist/readme.txt", b"hello <world>")]);
    let stored =
        upload(&app, &build, "artifact_type=archive&artifact_format=zip&expire_in=604800", archive.clone()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    assert_eq!(stored.json()["size"], archive.len());
    let env = upload(
        &app,
        &build,
        "artifact_type=dotenv",
        zip_of(&[("build.env", b"VERSION=1.2.3\n# note\nNAME='gantry'\n")]),
    )
    .await;
    assert_eq!(env.status, StatusCode::CREATED, "{}", env.body);
    // A report type Gantry does not read yet is kept as the job's artifact of that type.
    let sast = upload(&app, &build, "artifact_type=sast", zip_of(&[("gl-sast-report.json", b"{}")])).await;
    assert_eq!(sast.status, StatusCode::CREATED, "{}", sast.body);

    // Caches: only keys with the job's own suffix; saved, then read back.
    let cache_path = |key: &str| format!("/api/v4/jobs/{}/cache?key={key}", build.id);
    let foreign =
        app.job_request(Method::PUT, &cache_path("deps-protected-x"), &build.token, zip_of(&[("v", b"1")])).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let missing = app.job_request(Method::GET, &cache_path(&key), &build.token, Vec::new()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let cache = zip_of(&[("vendor/lib.txt", b"cached")]);
    let saved = app.job_request(Method::PUT, &cache_path(&key), &build.token, cache.clone()).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    finish(&app, &build, "success").await;

    // The test job depends on build: it gets the archive, the dotenv variables, the cache.
    let test = take(&app, &runner).await;
    assert_eq!(test.payload["dependencies"][0]["id"], build.id);
    assert_eq!(test.payload["dependencies"][0]["artifacts_file"]["filename"], "artifacts.zip");
    let variables = test.payload["variables"].as_array().unwrap();
    let value = |key: &str| variables.iter().rev().find(|v| v["key"] == key).map(|v| v["value"].clone());
    assert_eq!(value("VERSION"), Some(json!("1.2.3")));
    assert_eq!(value("NAME"), Some(json!("gantry")));
    let fetched =
        app.job_request(Method::GET, &format!("/api/v4/jobs/{}/artifacts", build.id), &test.token, Vec::new()).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.bytes, archive);
    let restored = app
        .job_request(Method::GET, &format!("/api/v4/jobs/{}/cache?key={key}", test.id), &test.token, Vec::new())
        .await;
    assert_eq!(restored.bytes, cache);
    let report = upload(&app, &test, "artifact_type=junit", junit(&["divides"])).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.body);
    finish(&app, &test, "failed").await;

    // People: the job's artifacts in the API, one file, the Tests report.
    let api = |path: String| {
        let token = ada.token.clone();
        let app = &app;
        async move { app.api(Method::GET, &path, Some(&token), None).await }
    };
    let base = format!("/api/v4/projects/{}", project.id.0);
    let job = api(format!("{base}/jobs/{}", build.id)).await.json();
    assert_eq!(job["artifacts_file"]["filename"], "artifacts.zip");
    let types: Vec<&str> =
        job["artifacts"].as_array().unwrap().iter().map(|a| a["file_type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 3, "{types:?}");
    assert!(types.contains(&"sast"), "the kept report is listed with its type: {types:?}");
    assert!(job["artifacts_expire_at"].is_string());
    assert_eq!(api(format!("{base}/jobs/{}/artifacts", build.id)).await.bytes, archive);
    let one = api(format!("{base}/jobs/{}/artifacts/dist/readme.txt", build.id)).await;
    assert_eq!((one.status, one.body.as_str()), (StatusCode::OK, "hello <world>"));
    assert_eq!(api(format!("{base}/jobs/{}/artifacts/dist/nope", build.id)).await.status, StatusCode::NOT_FOUND);
    let latest = api(format!("{base}/jobs/artifacts/main/download?job=build")).await;
    assert_eq!(latest.bytes, archive);
    // One file of that archive; a ref, job or path that names nothing is a 404; `job` is needed.
    let raw = api(format!("{base}/jobs/artifacts/main/raw/dist/readme.txt?job=build")).await;
    assert_eq!((raw.status, raw.body.as_str()), (StatusCode::OK, "hello <world>"));
    assert!(raw.header("content-security-policy").contains("sandbox"));
    for missing in
        ["main/raw/dist/nope?job=build", "main/raw/dist/readme.txt?job=test", "gone/raw/dist/readme.txt?job=build"]
    {
        assert_eq!(api(format!("{base}/jobs/artifacts/{missing}")).await.status, StatusCode::NOT_FOUND, "{missing}");
    }
    let no_job = api(format!("{base}/jobs/artifacts/main/raw/dist/readme.txt")).await;
    assert_eq!(no_job.status, StatusCode::BAD_REQUEST);
    assert!(no_job.body.contains("job is missing"), "{}", no_job.body);
    let no_job = api(format!("{base}/jobs/artifacts/main/download")).await;
    assert_eq!(no_job.status, StatusCode::BAD_REQUEST);
    let stranger = app.user("stranger").await;
    let hidden = app
        .api(Method::GET, &format!("{base}/jobs/artifacts/main/raw/dist/readme.txt"), Some(&stranger.token), None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "a stranger learns nothing, not even that `job` is missing");
    let tests = api(format!("{base}/pipelines/{first}/test_report")).await.json();
    assert_eq!((tests["total_count"].as_i64(), tests["failed_count"].as_i64()), (Some(3), Some(1)));
    assert_eq!(tests["test_suites"][0]["name"], "test");
    let failed: Vec<&Value> =
        tests["test_suites"][0]["test_cases"].as_array().unwrap().iter().filter(|c| c["status"] == "failed").collect();
    assert_eq!(failed[0]["name"], "divides");
    assert!(failed[0]["system_output"].as_str().unwrap().contains("expected 2, got 3"));
    let summary = api(format!("{base}/pipelines/{first}/test_report_summary")).await.json();
    for (in_summary, in_report) in [
        ("count", "total_count"),
        ("success", "success_count"),
        ("failed", "failed_count"),
        ("skipped", "skipped_count"),
        ("error", "error_count"),
        ("time", "total_time"),
    ] {
        assert_eq!(summary["total"][in_summary], tests[in_report], "{in_summary}");
        assert_eq!(summary["test_suites"][0][in_report], tests["test_suites"][0][in_report], "{in_report}");
    }
    assert_eq!((summary["total"]["count"].as_i64(), summary["total"]["time"].as_f64()), (Some(3), Some(0.5)));
    assert_eq!(summary["test_suites"][0]["build_ids"], tests["test_suites"][0]["build_ids"]);
    assert!(summary["total"]["suite_error"].is_null());

    // The browser: the job's artifacts, browsing, one file (escaped), the Tests tab.
    let page = |path: String| {
        let user = ada.clone();
        let app = &app;
        async move { app.page(Method::GET, &path, Some(&user), None).await }
    };
    let web = format!("/{}/-", project.full_path);
    let job_page = page(format!("{web}/jobs/{}", build.id)).await;
    assert!(job_page.body.contains("Job artifacts") && job_page.body.contains("Browse"), "{}", job_page.body);
    let top = page(format!("{web}/jobs/{}/artifacts/browse", build.id)).await;
    assert!(top.body.contains(">dist<"), "{}", top.body);
    let folder = page(format!("{web}/jobs/{}/artifacts/browse/dist", build.id)).await;
    assert!(folder.body.contains("readme.txt") && folder.body.contains("app.bin"));
    let file = page(format!("{web}/jobs/{}/artifacts/file/dist/readme.txt", build.id)).await;
    assert!(file.body.contains("hello &#60;world&#62;") && !file.body.contains("<world>"), "{}", file.body);
    let binary = page(format!("{web}/jobs/{}/artifacts/file/dist/app.bin", build.id)).await;
    assert!(binary.body.contains("binary file"));
    let raw = page(format!("{web}/jobs/{}/artifacts/raw/dist/readme.txt", build.id)).await;
    assert!(raw.header("content-security-policy").contains("sandbox"));
    let pipeline_page = page(format!("{web}/pipelines/{first}")).await;
    assert!(pipeline_page.body.contains("id=\"tests-tab\""));
    let tab = page(format!("{web}/pipelines/{first}/test_report")).await;
    assert!(tab.body.contains("divides") && tab.body.contains("expected 2, got 3"), "{}", tab.body);
    assert!(tab.body.contains("No finished pipeline of main to compare with"));

    // A second pipeline: `subtracts` fails anew, `divides` still fails (not new).
    let second = run_pipeline(&app, &project, &ada.user, &sha).await;
    let build2 = take(&app, &runner).await;
    finish(&app, &build2, "success").await;
    let test2 = take(&app, &runner).await;
    // With a file that is not JUnit: the report keeps what it could read and says what not.
    let reports = zip_of(&[
        ("report.xml", junit_xml(&["divides", "subtracts"]).as_bytes()),
        ("broken.xml", b"<testsuites><testsuite"),
    ]);
    assert_eq!(upload(&app, &test2, "artifact_type=junit", reports).await.status, StatusCode::CREATED);
    finish(&app, &test2, "failed").await;
    let compared = api(format!("{base}/pipelines/{second}/test_report")).await.json();
    assert_eq!(compared["compared_with_pipeline_id"], first);
    assert_eq!(compared["new_failure_count"], 1);
    let new: Vec<&str> = compared["test_suites"][0]["test_cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["new_failure"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(new, ["subtracts"]);
    let summary = api(format!("{base}/pipelines/{second}/test_report_summary")).await.json();
    assert_eq!((summary["total"]["count"].as_i64(), summary["total"]["failed"].as_i64()), (Some(3), Some(2)));
    let suite_error = summary["test_suites"][0]["suite_error"].as_str().unwrap_or_default();
    assert!(suite_error.starts_with("broken.xml: "), "{summary}");
    assert_eq!(summary["total"]["suite_error"], suite_error);
    assert_eq!(compared["test_suites"][0]["suite_error"], suite_error);
    let tab = page(format!("{web}/pipelines/{second}/test_report")).await;
    assert!(tab.body.contains("1 new failure"), "{}", tab.body);

    // Keep, then delete (Maintainers); the sweeper removes what expired and unused blobs.
    let kept = app.api(Method::POST, &format!("{base}/jobs/{}/artifacts/keep", build.id), Some(&ada.token), None).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert!(kept.json()["artifacts_expire_at"].is_null());
    let expiring = upload(&app, &test2, "artifact_type=archive&expire_in=0", zip_of(&[("x", b"y")])).await;
    assert_eq!(expiring.status, StatusCode::FORBIDDEN, "the job has ended: its token no longer uploads");
    let deleted = app.api(Method::DELETE, &format!("{base}/jobs/{}/artifacts", build.id), Some(&ada.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(api(format!("{base}/jobs/{}/artifacts", build.id)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.core.ci().sweep_artifacts().await.unwrap(), 0, "nothing else has expired");
    let removed = app.core.ci().collect_blobs(std::time::Duration::ZERO).await.unwrap();
    assert!(removed >= 2, "the deleted archive and dotenv blobs are collected ({removed})");
    let caches =
        app.core.ci().project_caches(&app.core.access_to_project(&owner, &project).await.unwrap()).await.unwrap();
    assert_eq!(caches.len(), 1, "the cache is still referenced and kept");
    let settings = page(format!("{web}/settings/ci_cd")).await;
    assert!(settings.body.contains(&key));
    let cleared = app.page(Method::POST, &format!("{web}/settings/ci_cd/caches/clear"), Some(&ada), Some(&[])).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert!(
        app.core
            .ci()
            .project_caches(&app.core.access_to_project(&owner, &project).await.unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn expired_artifacts_go_but_the_latest_successful_pipelines_stay() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    let ci = b"build:\n  script: make\n  artifacts:\n    paths: [out]\n";
    let (project, sha) = app.project_with_file(&ada, "Old", ".gitlab-ci.yml", ci).await;
    let runner = app.instance_runner().await;
    let mut jobs = Vec::new();
    for _ in 0..2 {
        run_pipeline(&app, &project, &ada.user, &sha).await;
        let job = take(&app, &runner).await;
        let body = zip_of(&[("out", b"built")]);
        assert_eq!(upload(&app, &job, "artifact_type=archive&expire_in=0", body).await.status, StatusCode::CREATED);
        finish(&app, &job, "success").await;
        jobs.push(job.id);
    }
    // Both expired; the newer pipeline is main's latest successful one and keeps its archive.
    assert_eq!(app.core.ci().sweep_artifacts().await.unwrap(), 1);
    let access = app.core.access_to_project(&owner, &project).await.unwrap();
    assert!(app.core.ci().job_artifacts(&access, JobId(jobs[0])).await.unwrap().is_empty());
    assert_eq!(app.core.ci().job_artifacts(&access, JobId(jobs[1])).await.unwrap().len(), 1);
    // Without keep-latest, it goes too.
    let mut settings = app.core.ci().ci_settings(&access).await.unwrap();
    settings.keep_latest_artifact = false;
    app.core.ci().update_ci_settings(&owner, &project, &settings).await.unwrap();
    assert_eq!(app.core.ci().sweep_artifacts().await.unwrap(), 1);
    assert!(app.core.ci().job_artifacts(&access, JobId(jobs[1])).await.unwrap().is_empty());
}
