//! python-gitlab, a real GitLab API client nobody here wrote, against a real server.

use std::process::Command;

use crate::server::Server;

/// Runs the python-gitlab script `script` (in this folder) against `server` with `GANTRY_URL`
/// and the variables given; it must succeed and print `done`. Returns what it printed.
fn run_flow(server: &Server, script: &str, variables: &[(&str, &str)], done: &str) -> String {
    let python = std::env::var("GANTRY_TEST_PYTHON")
        .expect("GANTRY_TEST_PYTHON must name a Python with python-gitlab installed; scripts/test sets it up in .venv");
    let path = format!("{}/tests/e2e/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(python)
        .arg(path)
        .env("GANTRY_URL", &server.base_url)
        .envs(variables.iter().copied())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python-gitlab script {script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(done), "{stdout}");
    stdout
}

#[test]
fn python_gitlab_manages_groups_projects_members_and_pages() {
    let server = Server::start();
    let token = server.admin_token("root");
    let output = server.admin(
        &["create-user", "--username", "dev", "--email", "dev@example.com", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(output.status.success());
    run_flow(&server, "gitlab_flow.py", &[("GANTRY_TOKEN", &token)], "all python-gitlab checks passed");

    // What python-gitlab did is what the UI shows.
    let page = crate::http_client()
        .build()
        .unwrap()
        .get(format!("{}/acme/platform/service-two", server.base_url))
        .send()
        .unwrap();
    assert_eq!(page.status(), 404, "private projects are hidden from anonymous visitors");
    let project: serde_json::Value =
        server.get("/api/v4/projects/acme%2Fplatform%2Fservice-two", &token).json().unwrap();
    assert_eq!(project["description"], "updated by python-gitlab");
}

#[test]
fn python_gitlab_runs_retries_cancels_lints_schedules_and_triggers_pipelines() {
    let server = Server::start();
    let token = server.admin_token("root");
    let ci = r#"
greet:
  stage: test
  script:
    - echo "hello ${WHO:-nobody}"
    - mkdir -p out && echo greeting > out/hello.txt
    - echo '<testsuite name="t"><testcase classname="greet" name="says hello"/></testsuite>' > report.xml
  artifacts:
    paths: [out/]
    reports:
      junit: report.xml
  rules:
    - if: $SLOW != "yes"
sleeper:
  script: sleep 60
  rules:
    - if: $SLOW == "yes"
"#;
    let path = crate::ci_pipelines::push_project(&server, &token, "ci-py", &[(".gitlab-ci.yml", ci)]);
    run_flow(
        &server,
        "gitlab_ci_flow.py",
        &[("GANTRY_TOKEN", &token), ("GANTRY_PROJECT", &path)],
        "all python-gitlab CI checks passed",
    );
}

#[test]
fn python_gitlab_writes_files_and_commits_that_a_fresh_clone_shows() {
    let server = Server::start();
    let token = server.admin_token("root");
    let dev_token = server.user_token("dev", "api");
    let stdout = run_flow(
        &server,
        "gitlab_files_flow.py",
        &[("GANTRY_TOKEN", &token), ("GANTRY_DEV_TOKEN", &dev_token)],
        "all python-gitlab file checks passed",
    );
    assert!(
        stdout.contains("not allowed to push code to the protected branch 'main'"),
        "the push policy's words: {stdout}"
    );

    // A fresh clone holds every commit, each by the user who made it.
    let work = tempfile::tempdir().unwrap();
    let url = server.base_url.replacen("://", &format!("://root:{token}@"), 1) + "/root/files.git";
    crate::git_http::git_ok(work.path(), &["clone", &url, "files"]);
    let clone = work.path().join("files");
    let log =
        String::from_utf8(crate::git_http::git(&clone, &["log", "--format=%an <%ae> %s", "main"]).stdout).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let subjects: Vec<&str> = lines.iter().map(|line| line.split_once("> ").unwrap().1).collect();
    assert_eq!(subjects, ["Three actions", "Remove old", "Add old", "Update a", "Add a"], "{log}");
    assert!(lines.iter().all(|line| line.starts_with("root <root@example.com>")), "{log}");
    assert_eq!(std::fs::read_to_string(clone.join("docs/c.md")).unwrap(), "three\n");
    assert_eq!(std::fs::read_to_string(clone.join("b.txt")).unwrap(), "b\n");
    assert!(!clone.join("docs/a.md").exists() && !clone.join("old.txt").exists());
    crate::git_http::git_ok(&clone, &["fetch", "origin", "dev-work"]);
    let dev =
        String::from_utf8(crate::git_http::git(&clone, &["log", "-1", "--format=%an <%ae>", "FETCH_HEAD"]).stdout)
            .unwrap();
    assert!(dev.starts_with("dev <dev@example.com>"), "{dev}");
}

#[test]
fn python_gitlab_searches_the_instance_a_group_and_a_project() {
    let server = Server::start();
    let token = server.admin_token("root");
    run_flow(&server, "gitlab_search_flow.py", &[("GANTRY_TOKEN", &token)], "all python-gitlab search checks passed");
}

#[test]
fn python_gitlab_plans_with_labels_milestones_issues_and_comments() {
    let server = Server::start();
    let token = server.admin_token("root");
    let dev_token = server.user_token("dev", "api");
    run_flow(
        &server,
        "gitlab_issues_flow.py",
        &[("GANTRY_TOKEN", &token), ("GANTRY_DEV_TOKEN", &dev_token)],
        "all python-gitlab issue checks passed",
    );
}
