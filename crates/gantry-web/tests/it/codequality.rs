//! Code quality reports through the runner protocol, in process: jobs upload Code Climate
//! reports (`artifacts:reports:codequality`), the pipeline page gets a Code quality tab with the
//! count of findings, and the tab lists them most serious first, each linked to its file and
//! line at the pipeline's commit; a malformed or oversized report is named with why, and the
//! others are still shown.

use axum::http::{Method, StatusCode};
use gantry_core::ci::create::PipelineRequest;
use gantry_core::{ProjectRow, UserRow};
use serde_json::json;

use crate::support::{TestApp, zip_of};

const CI: &[u8] = b"stages: [lint]
rubocop:
  stage: lint
  script: rubocop
  artifacts:
    reports:
      codequality: gl-code-quality-report.json
eslint:
  stage: lint
  script: eslint
  artifacts:
    reports:
      codequality: [eslint.json, extra.json]
broken:
  stage: lint
  script: broken
  artifacts:
    reports:
      codequality: broken.json
huge:
  stage: lint
  script: huge
  artifacts:
    reports:
      codequality: huge.json
";

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

/// Takes the next job, uploads the report `reports` holds for its name as its code quality
/// report, and finishes it.
async fn run_job_with_report(app: &TestApp, runner: &str, reports: &[(&str, Vec<u8>)]) -> (String, i64) {
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let payload = taken.json();
    let (id, token) = (payload["id"].as_i64().unwrap(), payload["token"].as_str().unwrap().to_owned());
    let name = payload["job_info"]["name"].as_str().unwrap().to_owned();
    let report = reports.iter().find(|(job, _)| *job == name).map(|(_, zip)| zip.clone()).unwrap();
    let kinds: Vec<&str> =
        payload["artifacts"].as_array().unwrap().iter().map(|a| a["artifact_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["codequality"], "the runner is told to upload the report");
    let path = format!("/api/v4/jobs/{id}/artifacts?artifact_type=codequality&artifact_format=zip");
    let uploaded = app.job_request(Method::POST, &path, &token, report).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let done = json!({"token": token, "state": "success"});
    assert_eq!(app.api(Method::PUT, &format!("/api/v4/jobs/{id}"), None, Some(done)).await.status, StatusCode::OK);
    (name, id)
}

#[tokio::test]
async fn code_quality_findings_show_on_the_pipeline_page() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, sha) = app.project_with_file(&ada, "Quality", ".gitlab-ci.yml", CI).await;
    let runner = app.instance_runner().await;
    let pipeline = run_pipeline(&app, &project, &ada.user, &sha).await;
    let web = format!("/{}/-/pipelines/{pipeline}", project.full_path);

    // Before any report: no tab, and the tab's page says how to get one.
    let page = app.page(Method::GET, &web, Some(&ada), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("codequality-tab"), "no tab without a report");

    let rubocop = json!([
        {"description": "Method `build` has 12 arguments (exceeds 4 allowed)", "check_name": "argument_count",
         "fingerprint": "f1", "severity": "major", "location": {"path": "app/build.rb", "lines": {"begin": 5}}},
        {"description": "Avoid <script>alert(1)</script> in comments", "check_name": "xss", "fingerprint": "f2",
         "severity": "blocker", "location": {"path": "./lib/x y.rb", "positions": {"begin": {"line": 9, "column": 2}}}},
        {"description": "Escapes the repository", "severity": "info", "location": {"path": "../../etc/passwd", "lines": {"begin": 1}}},
    ]);
    let eslint = json!([
        {"description": "'x' is defined but never used", "check_name": "no-unused-vars", "fingerprint": "f3",
         "severity": "minor", "location": {"path": "web/app.js", "lines": {"begin": 3}}},
        {"description": "No location at all"},
        17,
    ]);
    let extra = json!([{"description": "Critical thing", "severity": "critical", "location": {"path": "web/app.js"}}]);
    let reports = [
        ("rubocop", zip_of(&[("gl-code-quality-report.json", rubocop.to_string().as_bytes())])),
        (
            "eslint",
            zip_of(&[("eslint.json", eslint.to_string().as_bytes()), ("extra.json", extra.to_string().as_bytes())]),
        ),
        ("broken", zip_of(&[("broken.json", b"[{\"description\": \"cut off")])),
        ("huge", zip_of(&[("huge.json", format!("[{}]", " ".repeat(11 << 20)).as_bytes())])),
    ];
    let mut jobs = Vec::new();
    for _ in 0..reports.len() {
        jobs.push(run_job_with_report(&app, &runner, &reports).await);
    }
    let job_id = |name: &str| jobs.iter().find(|(n, _)| n == name).map(|(_, id)| *id).unwrap();

    // The pipeline page's tab counts every finding that could be read.
    let page = app.page(Method::GET, &web, Some(&ada), None).await;
    let tab = page.body.split("id=\"codequality-tab\"").nth(1).expect("a Code quality tab");
    assert!(tab.starts_with(">Code quality <span class=\"badge\">6</span>"), "{}", &tab[..80]);

    let quality = app.page(Method::GET, &format!("{web}/codequality_report"), Some(&ada), None).await;
    assert_eq!(quality.status, StatusCode::OK, "{}", quality.body);
    let body = &quality.body;
    // Counts by severity, most serious first.
    let summary = body.split("id=\"codequality-summary\"").nth(1).unwrap();
    let order: Vec<usize> = ["1</strong> blocker", "1</strong> critical", "1</strong> major", "1</strong> minor"]
        .iter()
        .map(|needle| summary.find(needle).unwrap_or_else(|| panic!("{needle} in {summary}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Findings most serious first, each linked to its file and line at the commit.
    let table = body.split("id=\"codequality-findings\"").nth(1).unwrap();
    let blocker = table.find("Avoid &#60;script&#62;").expect("the description is escaped");
    let critical = table.find("Critical thing").unwrap();
    let major = table.find("Method `build` has 12 arguments").unwrap();
    let minor = table.find("defined but never used").unwrap();
    assert!(blocker < critical && critical < major && major < minor, "{table}");
    assert!(!table.contains("<script>"), "{table}");
    let base = format!("/{}/-/blob/{sha}", project.full_path);
    assert!(table.contains(&format!("href=\"{base}/app/build.rb#L5\"")), "{table}");
    assert!(table.contains(&format!("href=\"{base}/lib/x%20y.rb#L9\"")), "{table}");
    assert!(table.contains(&format!("href=\"{base}/web/app.js\"")), "a finding without a line links the file");
    assert!(!table.contains("etc/passwd\""), "a path out of the repository is shown, not linked");
    assert!(table.contains("<code>../../etc/passwd:1</code>"), "{table}");
    assert!(table.contains("no location"), "{table}");
    // The reports that could not be read (wholly or in part) say why.
    let reports = body.split("id=\"codequality-reports\"").nth(1).unwrap();
    assert!(reports.contains("broken.json is not valid JSON"), "{reports}");
    assert!(reports.contains("the report is larger than 10 MiB and was not read"), "{reports}");
    assert!(reports.contains("eslint.json: 1 entry is not an issue"), "{reports}");
    assert!(reports.contains(&format!("/-/jobs/{}", job_id("huge"))), "{reports}");

    // The Tests tab shows the same Code quality tab.
    let tests = app.page(Method::GET, &format!("{web}/test_report"), Some(&ada), None).await;
    assert!(tests.body.contains("id=\"codequality-tab\""), "{}", tests.body);

    // A pipeline that does not exist is not found; a stranger is told nothing exists.
    let stranger = app.user("stranger").await;
    let hidden = app.page(Method::GET, &format!("{web}/codequality_report"), Some(&stranger), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let missing = format!("/{}/-/pipelines/999999/codequality_report", project.full_path);
    assert_eq!(app.page(Method::GET, &missing, Some(&ada), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pipeline_without_reports_says_how_to_get_them() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, sha) = app.project_with_file(&ada, "Plain", ".gitlab-ci.yml", b"build:\n  script: make\n").await;
    let pipeline = run_pipeline(&app, &project, &ada.user, &sha).await;
    let web = format!("/{}/-/pipelines/{pipeline}", project.full_path);
    let quality = app.page(Method::GET, &format!("{web}/codequality_report"), Some(&ada), None).await;
    assert_eq!(quality.status, StatusCode::OK);
    assert!(quality.body.contains("No code quality report"), "{}", quality.body);
    assert!(!quality.body.contains("id=\"codequality-tab\""));
}
