//! `gantry ci lint` on a real working tree: a valid file with an include lists the jobs a push
//! would run; an invalid one exits 1 with `file:line:column: message` lines.

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
