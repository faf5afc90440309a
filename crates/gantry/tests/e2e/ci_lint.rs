//! `gantry ci lint` and `gantry ci exec` on a real working tree: a valid file with an include
//! lists the jobs a push would run; an invalid one exits 1 with `file:line:column: message`
//! lines; `exec` runs jobs in needs order with artifacts, dotenv variables and uncommitted
//! changes, and stops at a failure. Lint plans with the predefined variables the server gives
//! a push, so both pick the same jobs.

use std::path::Path;
use std::process::Command;

use crate::ci_pipelines::{jobs, wait_for_pipeline};
use crate::git_http::{git_ok, url};
use crate::server::Server;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git").arg("-C").arg(dir).args(args).status().expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn lint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_gantry")).current_dir(dir).args(["ci", "lint"]).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn lint_checks_a_working_tree_with_includes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "feature"]);
    std::fs::create_dir(root.join("ci")).unwrap();
    std::fs::write(root.join("ci/build.yml"), "build:\n  stage: build\n  script: make\n").unwrap();
    std::fs::write(
        root.join(".gitlab-ci.yml"),
        "include: ci/build.yml\ntest:\n  needs: [build]\n  script: make test\ndeploy:\n  stage: deploy\n  script: make deploy\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n",
    )
    .unwrap();
    let (code, stdout, stderr) = lint(root, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(".gitlab-ci.yml is valid: 3 jobs"), "{stdout}");
    assert!(stdout.contains("a push to `feature` runs 2 jobs"), "{stdout}");
    assert!(stdout.contains("test needs [build]"), "{stdout}");
    let (_, stdout, _) = lint(root, &["--branch", "main"]);
    assert!(stdout.contains("runs 3 jobs") && stdout.contains("    deploy"), "{stdout}");

    std::fs::write(root.join("outside.yml"), "include: ../outside.yml\njob:\n  script: x\n").unwrap();
    let (code, _, stderr) = lint(root, &["outside.yml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outside.yml:1:10: `../outside.yml` does not exist in the repository"), "{stderr}");
    std::fs::write(root.join("typo.yml"), "job:\n  script: x\n  scirpt: y\n").unwrap();
    let (code, _, stderr) = lint(root, &["typo.yml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("typo.yml:3:3: `jobs:job`: unknown keyword `scirpt`"), "{stderr}");
    let (code, _, stderr) = lint(&root.join("ci"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no .gitlab-ci.yml"), "{stderr}");
}

/// Rules over predefined variables that `gantry ci lint` once lacked (the commit's title and
/// message, the namespace, the source, the server, the project's name): lint in a clone picks
/// the jobs the server picked for the push.
const PREDEFINED_RULES_CI: &str = r#"
title:
  script: "true"
  rules:
    - if: $CI_COMMIT_TITLE == "Release the app"
message:
  script: "true"
  rules:
    - if: $CI_COMMIT_MESSAGE =~ /deploy me/ && $CI_COMMIT_AUTHOR =~ /e2e@example.com/
namespace:
  script: "true"
  rules:
    - if: $CI_PROJECT_NAMESPACE == "root" && $CI_PROJECT_NAME == "app" && $CI_PROJECT_PATH_SLUG == "root-app"
source:
  script: "true"
  rules:
    - if: $CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_REF_PROTECTED == "true"
server:
  script: "true"
  rules:
    - if: $CI_SERVER_HOST == "127.0.0.1" && $CI_API_V4_URL =~ /api.v4$/
other_title:
  script: "true"
  rules:
    - if: $CI_COMMIT_TITLE == "Something else"
unknown_here:
  script: "true"
  rules:
    - if: $GITLAB_USER_LOGIN == "nobody"
"#;

#[test]
fn ci_lint_agrees_with_the_server_on_rules_over_predefined_variables() {
    let server = Server::start();
    let token = server.admin_token("root");
    let created = server.post_json("/api/v4/projects", &token, &serde_json::json!({"name": "app"}));
    assert_eq!(created.status(), 201);
    let path = created.json::<serde_json::Value>().unwrap()["path_with_namespace"].as_str().unwrap().to_owned();
    let work = tempfile::tempdir().unwrap();
    git_ok(work.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(work.path().join(".gitlab-ci.yml"), PREDEFINED_RULES_CI).unwrap();
    git_ok(work.path(), &["add", "-A"]);
    git_ok(work.path(), &["commit", "-q", "-m", "Release the app", "-m", "Then deploy me."]);
    git_ok(work.path(), &["push", "-q", &url(&server, "root", &token, &path), "main"]);

    let pipeline = wait_for_pipeline(&server, &token, &path, |_| true);
    let mut on_server: Vec<String> = jobs(&server, &token, &path, pipeline["id"].as_i64().unwrap())
        .iter()
        .map(|job| job["name"].as_str().unwrap().to_owned())
        .collect();
    on_server.sort();
    assert_eq!(on_server, ["message", "namespace", "server", "source", "title"]);

    let clone = tempfile::tempdir().unwrap();
    git_ok(clone.path(), &["clone", "-q", &url(&server, "root", &token, &path), "app"]);
    let (code, stdout, stderr) = lint(&clone.path().join("app"), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mut linted: Vec<String> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("    "))
        .map(|name| name.split(' ').next().unwrap_or(name).to_owned())
        .collect();
    linted.sort();
    assert_eq!(linted, on_server, "{stdout}");
    // What a checkout cannot know can be given, as the CI/CD variables it stands for.
    let (_, stdout, _) = lint(&clone.path().join("app"), &["--var", "GITLAB_USER_LOGIN=nobody"]);
    assert!(stdout.contains("runs 6 jobs") && stdout.contains("    unknown_here"), "{stdout}");
}

fn exec(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_gantry")).current_dir(dir).args(["ci", "exec"]).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const EXEC_CI: &str = r#"stages: [build, test, deploy]
build:
  stage: build
  script:
    - mkdir -p out && echo "built $GREETING" > out/app.txt
    - echo "VERSION=2.0" > build.env
    - mkdir -p vendor && echo "cached $GREETING" > vendor/lib.txt
  cache:
    key: deps
    paths: [vendor/]
  artifacts:
    paths: [out/]
    reports:
      dotenv: build.env
test:
  stage: test
  needs: [build]
  script:
    - cat out/app.txt
    - echo "version $VERSION"
    - cat notes.txt
    - cat vendor/lib.txt
  cache:
    key: deps
    paths: [vendor/]
    policy: pull
flaky:
  stage: test
  script: exit 3
  allow_failure: true
broken:
  stage: test
  script: exit 1
  rules:
    - if: $BREAK == "yes"
deploy:
  stage: deploy
  script: echo deployed
manual:
  stage: deploy
  when: manual
  script: echo never
"#;

#[test]
fn exec_runs_jobs_in_needs_order_from_the_working_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    std::fs::write(root.join(".gitlab-ci.yml"), EXEC_CI).unwrap();
    std::fs::write(root.join("notes.txt"), "committed\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "first"]);
    std::fs::write(root.join("notes.txt"), "uncommitted change\n").unwrap();

    let (code, out, err) = exec(root, &["test", "--var", "GREETING=hi"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("built hi") && out.contains("version 2.0"), "artifacts and dotenv passed on: {out}");
    assert!(out.contains("uncommitted change"), "the working tree's changes are used: {out}");
    assert!(out.contains("cached hi"), "the cache the build saved is restored for the test: {out}");
    assert!(err.contains("success  build") && err.contains("success  test"), "{err}");
    assert!(!err.contains("deploy"), "only the job asked for and what it needs: {err}");

    let (code, out, err) = exec(root, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("(allowed to fail)") && err.contains("success  deploy"), "{err}");
    assert!(!err.contains("manual"), "manual jobs run only when named: {err}");

    let (code, _, err) = exec(root, &["--var", "BREAK=yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("failed   broken") && err.contains("skipped  deploy"), "{err}");
    let (code, _, err) = exec(root, &["nosuchjob"]);
    assert_eq!(code, 2);
    assert!(err.contains("no job `nosuchjob`"), "{err}");
    let refs = Command::new("git").arg("-C").arg(root).args(["for-each-ref", "refs/gantry-exec"]).output().unwrap();
    assert!(refs.stdout.is_empty(), "the snapshot's ref is removed");
    let status = Command::new("git").arg("-C").arg(root).args(["status", "--porcelain"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout).trim(), "M notes.txt", "the working tree is left as it was");
}
