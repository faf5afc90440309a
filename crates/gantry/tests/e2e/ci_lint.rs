//! `gantry ci lint` and `gantry ci exec` on a real working tree: a valid file with an include
//! lists the jobs a push would run; an invalid one exits 1 with `file:line:column: message`
//! lines; `exec` runs jobs in needs order with artifacts, dotenv variables and uncommitted
//! changes, and stops at a failure.

use std::path::Path;
use std::process::Command;

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
