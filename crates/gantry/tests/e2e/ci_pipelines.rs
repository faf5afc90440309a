//! Pipelines end to end: a real `git push` of a repository with a `.gitlab-ci.yml` runs on the
//! built-in runner (shell executor) or on a separate `gantry runner` process; the API shows
//! pipelines, jobs and logs; artifacts, dotenv variables and caches pass between jobs and
//! pipelines; JUnit reports make the Tests report; cancel, retry and play work; secrets stay
//! masked.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::git_http::{git_ok, url};
use crate::server::Server;

/// A pipeline with stages, needs, rules, a matrix, variables, artifacts (an archive and a
/// dotenv report) passed from build to test, a cache, JUnit reports and a manual job.
pub const MULTI_STAGE_CI: &str = r#"
stages: [build, test, deploy]
variables:
  GREETING: hello
build:
  stage: build
  script:
    - echo "building $CI_COMMIT_REF_NAME at $CI_COMMIT_SHORT_SHA"
    - mkdir -p out && echo "$GREETING from build" > out/result.txt
    - echo "token is $CI_JOB_TOKEN"
    - echo "BUILD_VERSION=1.0-$CI_COMMIT_REF_NAME" > build.env
    - mkdir -p .deps
    - if [ -f .deps/fetched ]; then echo "cache hit"; else echo "cache miss"; echo fetched > .deps/fetched; fi
  artifacts:
    paths: [out/]
    expire_in: 1 week
    reports:
      dotenv: build.env
  cache:
    key: deps
    paths: [.deps/]
lint:
  stage: build
  script: echo "lint on $CI_PROJECT_PATH"
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
test:
  stage: test
  needs: [build]
  parallel:
    matrix:
      - FLAVOUR: [plain, fancy]
  script:
    - echo "testing $FLAVOUR in $CI_PROJECT_DIR"
    - test -f README.md
    - cat out/result.txt
    - echo "version $BUILD_VERSION"
    - printf '<testsuite name="%s"><testcase classname="app" name="works-%s" time="0.01"/><testcase classname="app" name="later-%s"><skipped/></testcase></testsuite>' "$FLAVOUR" "$FLAVOUR" "$FLAVOUR" > report.xml
  artifacts:
    reports:
      junit: report.xml
never:
  stage: test
  script: exit 1
  rules:
    - if: $CI_COMMIT_BRANCH == "nope"
deploy:
  stage: deploy
  script: echo deployed
  when: manual
"#;

/// Creates a project and pushes `files` to its `main` branch; returns the project's path.
pub fn push_project(server: &Server, token: &str, name: &str, files: &[(&str, &str)]) -> String {
    let created = server.post_json("/api/v4/projects", token, &json!({"name": name}));
    assert_eq!(created.status(), 201);
    let project: Value = created.json().unwrap();
    let path = project["path_with_namespace"].as_str().unwrap().to_owned();
    push_project_to(server, token, &path, files)
}

/// Pushes `files` as the first commit of `main` of the existing project at `path`.
pub fn push_project_to(server: &Server, token: &str, path: &str, files: &[(&str, &str)]) -> String {
    let path = path.to_owned();
    let work = tempfile::tempdir().unwrap();
    git_ok(work.path(), &["init", "-q", "-b", "main"]);
    for (file, content) in files {
        let target = work.path().join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
    git_ok(work.path(), &["add", "-A"]);
    git_ok(work.path(), &["commit", "-q", "-m", "first"]);
    git_ok(work.path(), &["push", "-q", &url(server, "root", token, &path), "main"]);
    path
}

pub fn encoded(path: &str) -> String {
    path.replace('/', "%2F")
}

/// Waits until the project's newest pipeline satisfies `done`; returns it.
pub fn wait_for_pipeline(server: &Server, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list: Value = server.get(&format!("/api/v4/projects/{}/pipelines", encoded(path)), token).json().unwrap();
        if let Some(newest) = list.as_array().and_then(|l| l.first())
            && done(newest)
        {
            return newest.clone();
        }
        assert!(Instant::now() < deadline, "the pipeline did not get there: {list}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn jobs(server: &Server, token: &str, path: &str, pipeline: i64) -> Vec<Value> {
    let jobs: Value =
        server.get(&format!("/api/v4/projects/{}/pipelines/{pipeline}/jobs", encoded(path)), token).json().unwrap();
    jobs.as_array().unwrap().clone()
}

pub fn trace(server: &Server, token: &str, path: &str, job: i64) -> String {
    server.get(&format!("/api/v4/projects/{}/jobs/{job}/trace", encoded(path)), token).text().unwrap()
}

pub fn job_named<'a>(jobs: &'a [Value], name: &str) -> &'a Value {
    jobs.iter().find(|j| j["name"] == name).unwrap_or_else(|| panic!("no job {name} in {jobs:?}"))
}

pub fn finished(status: &Value) -> bool {
    matches!(status.as_str(), Some("success" | "failed" | "canceled" | "skipped" | "manual"))
}

/// What [`MULTI_STAGE_CI`]'s build hands its test jobs: the archive, the dotenv variables; and
/// the JUnit results of the matrix.
fn check_artifacts_and_reports(server: &Server, token: &str, path: &str, pipeline: i64, all: &[Value]) {
    let build = job_named(all, "build");
    assert_eq!(build["artifacts_file"]["filename"], "artifacts.zip", "{build}");
    let test = trace(server, token, path, job_named(all, "test: [fancy]")["id"].as_i64().unwrap());
    assert!(test.contains("hello from build"), "the build's archive reached the test job: {test}");
    assert!(test.contains("version 1.0-main"), "the build's dotenv reached the test job: {test}");
    assert!(test.contains("Downloading artifacts for build"), "{test}");
    let report: Value = server
        .get(&format!("/api/v4/projects/{}/pipelines/{pipeline}/test_report", encoded(path)), token)
        .json()
        .unwrap();
    assert_eq!(report["total_count"], 4, "{report}");
    assert_eq!(report["success_count"], 2, "{report}");
    assert_eq!(report["skipped_count"], 2, "{report}");
    let files =
        server.get(&format!("/api/v4/projects/{}/jobs/{}/artifacts/out/result.txt", encoded(path), build["id"]), token);
    assert_eq!(files.text().unwrap(), "hello from build\n");
}

/// Retries the build job of `pipeline`: the new attempt finds the cache the first one saved.
fn check_cache_on_retry(server: &Server, token: &str, path: &str, pipeline: i64, all: &[Value]) {
    let first = job_named(all, "build")["id"].as_i64().unwrap();
    assert!(trace(server, token, path, first).contains("cache miss"));
    let retried =
        server.post_json(&format!("/api/v4/projects/{}/jobs/{first}/retry", encoded(path)), token, &json!({}));
    assert_eq!(retried.status(), 201);
    let second = retried.json::<Value>().unwrap()["id"].as_i64().unwrap();
    wait_for_job(server, token, path, pipeline, |all| all.iter().any(|j| j["id"] == second && finished(&j["status"])));
    let log = trace(server, token, path, second);
    assert!(log.contains("cache hit") && log.contains("Successfully extracted cache"), "{log}");
}

#[test]
fn a_push_runs_a_multi_stage_pipeline_on_the_builtin_runner() {
    let server = Server::start();
    let token = server.admin_token("root");
    let path = push_project(&server, &token, "app", &[(".gitlab-ci.yml", MULTI_STAGE_CI), ("README.md", "# app\n")]);
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    let id = pipeline["id"].as_i64().unwrap();
    let all = jobs(&server, &token, &path, id);
    let names: Vec<&str> = all.iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    for name in ["build", "lint", "test: [plain]", "test: [fancy]"] {
        let job = job_named(&all, name);
        assert_eq!(job["status"], "success", "{name}: {}", trace(&server, &token, &path, job["id"].as_i64().unwrap()));
    }
    assert_eq!(job_named(&all, "deploy")["status"], "manual");
    // A manual job outside rules may fail: the pipeline passed.
    assert_eq!(pipeline["status"], "success");

    let build = job_named(&all, "build");
    let log = trace(&server, &token, &path, build["id"].as_i64().unwrap());
    assert!(log.contains("building main at "), "{log}");
    assert!(log.contains("token is [MASKED]"), "the job token is masked: {log}");
    assert!(!log.contains("gjob-"), "{log}");
    let plain = trace(&server, &token, &path, job_named(&all, "test: [plain]")["id"].as_i64().unwrap());
    assert!(plain.contains("testing plain in /"), "{plain}");
    check_artifacts_and_reports(&server, &token, &path, id, &all);

    // Play the manual job: it runs and the pipeline passes with it.
    let deploy = job_named(&all, "deploy")["id"].as_i64().unwrap();
    let played =
        server.post_json(&format!("/api/v4/projects/{}/jobs/{deploy}/play", encoded(&path)), &token, &json!({}));
    assert_eq!(played.status(), 201);
    wait_for_pipeline(&server, &token, &path, |_| {
        let all = jobs(&server, &token, &path, id);
        job_named(&all, "deploy")["status"] == "success"
    });
    let log = trace(&server, &token, &path, deploy);
    assert!(log.contains("deployed"), "{log}");
    check_cache_on_retry(&server, &token, &path, id, &all);
}

#[test]
fn skip_ci_and_ci_skip_push_option_create_no_pipeline() {
    let server = Server::start();
    let token = server.admin_token("root");
    let path = push_project(&server, &token, "quiet", &[(".gitlab-ci.yml", "job:\n  script: echo hi\n")]);
    wait_for_pipeline(&server, &token, &path, |p| p["status"] == "success");
    let work = tempfile::tempdir().unwrap();
    let remote = url(&server, "root", &token, &path);
    git_ok(work.path(), &["clone", "-q", &remote, "."]);
    std::fs::write(work.path().join("a.txt"), "a").unwrap();
    git_ok(work.path(), &["add", "-A"]);
    git_ok(work.path(), &["commit", "-q", "-m", "quiet change [skip ci]"]);
    git_ok(work.path(), &["push", "-q", "origin", "main"]);
    std::fs::write(work.path().join("b.txt"), "b").unwrap();
    git_ok(work.path(), &["add", "-A"]);
    git_ok(work.path(), &["commit", "-q", "-m", "another"]);
    git_ok(work.path(), &["push", "-q", "-o", "ci.skip", "origin", "main"]);
    // A third push does run: by then the first two would have made their pipelines.
    std::fs::write(work.path().join("c.txt"), "c").unwrap();
    git_ok(work.path(), &["add", "-A"]);
    git_ok(work.path(), &["commit", "-q", "-m", "loud"]);
    git_ok(work.path(), &["push", "-q", "origin", "main"]);
    let newest = wait_for_pipeline(&server, &token, &path, |p| p["iid"] == 2);
    let head = git_ok(work.path(), &["rev-parse", "HEAD"]);
    assert_eq!(newest["sha"], head.trim(), "the second pipeline is the third push's");
}

/// A `gantry runner` process; killed when dropped.
pub struct RunnerProcess {
    child: std::process::Child,
    _builds: tempfile::TempDir,
}

impl RunnerProcess {
    fn start(server: &Server, token: &str) -> RunnerProcess {
        RunnerProcess::start_with(&server.base_url, token, &[], &[])
    }

    /// A runner of the server at `url`, with extra `gantry runner` options and environment.
    pub fn start_with(url: &str, token: &str, extra: &[&str], environment: &[(&str, &str)]) -> RunnerProcess {
        let builds = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
            .args(["runner", "--url", url, "--token", token, "--executor", "shell", "--concurrent", "2"])
            .args(["--job-uid-base", &crate::server::job_uid_base(crate::server::free_port())])
            .args(extra)
            .envs(environment.iter().copied())
            .arg("--builds-dir")
            .arg(builds.path())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("gantry runner starts");
        RunnerProcess { child, _builds: builds }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn runner_token(server: &Server, args: &[&str]) -> String {
    let mut all = vec!["create-runner"];
    all.extend_from_slice(args);
    let output = server.admin(&all, None);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("grt-") && !token.contains('\n'), "only the token is printed: {token}");
    token
}

pub fn wait_for_job(
    server: &Server,
    token: &str,
    path: &str,
    pipeline: i64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = jobs(server, token, path, pipeline);
        if done(&all) {
            return all;
        }
        assert!(Instant::now() < deadline, "the jobs did not get there: {all:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_same_pipeline_runs_on_a_separate_gantry_runner_with_tags() {
    let server = Server::start_with(&["--no-builtin-runner"]);
    let token = server.admin_token("root");
    let runner = runner_token(&server, &["--tags", "remote,linux", "--tagged-only"]);
    let _agent = RunnerProcess::start(&server, &runner);
    let tagged = MULTI_STAGE_CI.replace("  stage: build\n", "  stage: build\n  tags: [remote]\n");
    let path = push_project(&server, &token, "remote", &[(".gitlab-ci.yml", &tagged), ("README.md", "# remote\n")]);
    // Untagged jobs wait: this runner only takes tagged ones. Tag them all and push again.
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| p["status"] == "running");
    let id = pipeline["id"].as_i64().unwrap();
    // Once the tagged build stage is done, the untagged test jobs are queued, and stay there.
    wait_for_job(&server, &token, &path, id, |all| {
        job_named(all, "build")["status"] == "success" && job_named(all, "test: [plain]")["status"] == "pending"
    });
    let all = wait_for_job(&server, &token, &path, id, |all| job_named(all, "lint")["status"] == "success");
    assert_eq!(job_named(&all, "test: [plain]")["status"], "pending", "untagged jobs wait for an untagged runner");
    let cancel =
        server.post_json(&format!("/api/v4/projects/{}/pipelines/{id}/cancel", encoded(&path)), &token, &json!({}));
    assert_eq!(cancel.status(), 201);

    let everything_tagged = MULTI_STAGE_CI.replace("  script:", "  tags: [remote]\n  script:");
    let work = tempfile::tempdir().unwrap();
    git_ok(work.path(), &["clone", "-q", &url(&server, "root", &token, &path), "."]);
    std::fs::write(work.path().join(".gitlab-ci.yml"), everything_tagged).unwrap();
    git_ok(work.path(), &["commit", "-qam", "tag every job"]);
    git_ok(work.path(), &["push", "-q", "origin", "main"]);
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| p["iid"] == 2 && finished(&p["status"]));
    assert_eq!(pipeline["status"], "success");
    let all = jobs(&server, &token, &path, pipeline["id"].as_i64().unwrap());
    let build = job_named(&all, "build");
    assert_eq!(build["status"], "success");
    let log = trace(&server, &token, &path, build["id"].as_i64().unwrap());
    assert!(log.contains("token is [MASKED]"), "{log}");
    assert!(log.contains("cache hit"), "the first pipeline's build saved the cache: {log}");
    check_artifacts_and_reports(&server, &token, &path, pipeline["id"].as_i64().unwrap(), &all);
    let runners: Value = server.get("/api/v4/runners/all", &token).json().unwrap();
    let listed = &runners.as_array().unwrap()[0];
    assert_eq!(listed["tag_list"], json!(["linux", "remote"]));
    assert_eq!(listed["online"], true);
    assert_eq!(listed["executor"], "shell");
}

#[test]
fn canceling_a_job_kills_its_whole_process_tree() {
    let server = Server::start();
    let token = server.admin_token("root");
    let ci = "sleepy:\n  script:\n    - echo started\n    - sleep 3123 & sleep 3124\n";
    let path = push_project(&server, &token, "cancel", &[(".gitlab-ci.yml", ci)]);
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| p["status"] == "running");
    let id = pipeline["id"].as_i64().unwrap();
    let all = wait_for_job(&server, &token, &path, id, |all| {
        all[0]["status"] == "running"
            && trace(&server, &token, &path, all[0]["id"].as_i64().unwrap()).contains("started")
    });
    let sleeping = || {
        let out = std::process::Command::new("pgrep").args(["-f", "sleep 312[34]"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleeping() < 2 {
        assert!(Instant::now() < deadline, "the job's processes did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let job = all[0]["id"].as_i64().unwrap();
    let canceled =
        server.post_json(&format!("/api/v4/projects/{}/jobs/{job}/cancel", encoded(&path)), &token, &json!({}));
    assert_eq!(canceled.status(), 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleeping() > 0 {
        assert!(Instant::now() < deadline, "the job's processes outlived the cancel");
        std::thread::sleep(Duration::from_millis(100));
    }
    let done = wait_for_pipeline(&server, &token, &path, |p| p["status"] == "canceled");
    assert_eq!(done["status"], "canceled");
}

#[test]
fn a_runner_killed_mid_job_fails_it_as_a_runner_system_failure_and_it_is_retried() {
    let server = Server::start_with(&["--no-builtin-runner", "--runner-heartbeat-timeout", "3"]);
    let token = server.admin_token("root");
    let runner = runner_token(&server, &[]);
    let marker = tempfile::tempdir().unwrap();
    let marker = marker.path().join("first-attempt");
    let ci = format!(
        "flaky:\n  retry:\n    max: 1\n    when: runner_system_failure\n  script:\n    - \
         if [ -e {m} ]; then echo second attempt; else touch {m}; echo first attempt; sleep 3125; fi\n",
        m = marker.display()
    );
    // The attempts share a marker file on this machine, which a sandboxed job cannot reach: the
    // runner's death is what this is about.
    let unsandboxed = ["--unsafe-jobs-without-sandbox"];
    let mut first = RunnerProcess::start_with(&server.base_url, &runner, &unsandboxed, &[]);
    let path = push_project(&server, &token, "flaky", &[(".gitlab-ci.yml", &ci)]);
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| p["status"] == "running");
    let id = pipeline["id"].as_i64().unwrap();
    wait_for_job(&server, &token, &path, id, |all| {
        trace(&server, &token, &path, all[0]["id"].as_i64().unwrap()).contains("first attempt")
    });
    first.kill();
    let _ = std::process::Command::new("pkill").args(["-f", "sleep 3125"]).status();
    let all = wait_for_job(&server, &token, &path, id, |all| all.len() == 1 && all[0]["status"] == "pending");
    assert_eq!(all[0]["attempt"], 2);
    let _second = RunnerProcess::start_with(&server.base_url, &runner, &unsandboxed, &[]);
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    assert_eq!(done["status"], "success");
    let every: Value = server
        .get(&format!("/api/v4/projects/{}/pipelines/{id}/jobs?include_retried=true", encoded(&path)), &token)
        .json()
        .unwrap();
    let every = every.as_array().unwrap();
    let failed = every.iter().find(|j| j["attempt"] == 1).unwrap();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure_reason"], "runner_system_failure");
    let log = trace(&server, &token, &path, every.iter().find(|j| j["attempt"] == 2).unwrap()["id"].as_i64().unwrap());
    assert!(log.contains("second attempt"), "{log}");
}

#[test]
fn a_pipeline_carries_on_across_a_server_restart() {
    let server = Server::start_with(&["--no-builtin-runner"]);
    let token = server.admin_token("root");
    let runner = runner_token(&server, &[]);
    let _agent = RunnerProcess::start(&server, &runner);
    let ci = "stages: [one, two]\nslow:\n  stage: one\n  script:\n    - echo before\n    - sleep 3\n    - echo after\n\
              next:\n  stage: two\n  script: echo next ran\n";
    let path = push_project(&server, &token, "restart", &[(".gitlab-ci.yml", ci)]);
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| p["status"] == "running");
    let id = pipeline["id"].as_i64().unwrap();
    wait_for_job(&server, &token, &path, id, |all| {
        let slow = job_named(all, "slow");
        trace(&server, &token, &path, slow["id"].as_i64().unwrap()).contains("before")
    });
    let server = server.restart();
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    assert_eq!(done["status"], "success");
    let all = jobs(&server, &token, &path, id);
    let slow = trace(&server, &token, &path, job_named(&all, "slow")["id"].as_i64().unwrap());
    assert!(slow.contains("before") && slow.contains("after"), "{slow}");
    let next = trace(&server, &token, &path, job_named(&all, "next")["id"].as_i64().unwrap());
    assert!(next.contains("next ran"), "{next}");
}

#[test]
fn builtin_runner_jobs_cannot_see_the_data_directory_or_other_jobs() {
    let server = Server::start();
    let token = server.admin_token("root");
    let data = server.data_dir().canonicalize().unwrap();
    assert!(data.join("gantry.db").exists() || !server_uses_sqlite(), "the database file is there to hide");
    assert!(data.join("secrets.key").exists(), "the secrets key is there to hide");
    // Another project's job keeps its build directory busy while the snoop looks for it.
    let other = push_project(
        &server,
        &token,
        "other",
        &[(".gitlab-ci.yml", "busy:\n  script:\n    - echo secret > secret.txt\n    - sleep 8\n")],
    );
    let busy = wait_for_pipeline(&server, &token, &other, |p| p["status"] == "running");
    let busy_job = wait_for_job(&server, &token, &other, busy["id"].as_i64().unwrap(), |all| {
        all[0]["status"] == "running"
    })[0]["id"]
        .as_i64()
        .unwrap();
    let ci = format!(
        r#"snoop:
  script:
    - if cat "{data}/gantry.db" > /dev/null 2>&1; then echo "READ THE DATABASE"; exit 1; fi
    - if cat "{data}/ssh_host_ed25519_key" > /dev/null 2>&1; then echo "READ THE HOST KEY"; exit 1; fi
    - if cat "{data}/secrets.key" > /dev/null 2>&1; then echo "READ THE SECRETS KEY"; exit 1; fi
    - if cat "{data}/builds/{busy_job}/secret.txt" 2>/dev/null; then echo "READ ANOTHER JOB"; exit 1; fi
    - if touch /usr/gantry-was-here 2>/dev/null; then echo "WROTE THE SYSTEM"; exit 1; fi
    - ls -a "{data}/builds"
    - echo isolated
"#,
        data = data.display()
    );
    let path = push_project(&server, &token, "snoop", &[(".gitlab-ci.yml", &ci)]);
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    let all = jobs(&server, &token, &path, done["id"].as_i64().unwrap());
    let log = trace(&server, &token, &path, all[0]["id"].as_i64().unwrap());
    assert_eq!(done["status"], "success", "{log}");
    assert!(log.contains("isolated"), "{log}");
    // The listing of the builds directory shows this job's directories only (its work tree and
    // the `.tmp` one beside it for file variables).
    let own = all[0]["id"].to_string();
    let listing: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.contains("$ ls -a"))
        .skip(1)
        .take_while(|l| !l.contains("$ echo isolated"))
        .map(str::trim)
        .collect();
    assert!(listing.contains(&own.as_str()), "{log}");
    assert!(listing.iter().all(|name| [".", ".."].contains(name) || name.starts_with(&own)), "{log}");
}

fn server_uses_sqlite() -> bool {
    !std::env::var("GANTRY_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

#[test]
fn a_masked_variable_printed_in_pieces_never_reaches_a_log() {
    let server = Server::start();
    let token = server.admin_token("root");
    let created = server.post_json("/api/v4/projects", &token, &json!({"name": "secretive"}));
    let path = created.json::<Value>().unwrap()["path_with_namespace"].as_str().unwrap().to_owned();
    let secret = "c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw==";
    let variable = server.post_json(
        &format!("/api/v4/projects/{}/variables", encoded(&path)),
        &token,
        &json!({"key": "SECRET", "value": secret, "masked": true}),
    );
    assert_eq!(variable.status(), 201);
    let ci = r#"leak:
  script:
    - printf '%s' "${SECRET%????????????????}"; sleep 0.5; printf '%s\n' "${SECRET#"${SECRET%????????????????}"}"
    - echo "whole=$SECRET"
"#;
    push_project_to(&server, &token, &path, &[(".gitlab-ci.yml", ci)]);
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    let job = jobs(&server, &token, &path, done["id"].as_i64().unwrap())[0]["id"].as_i64().unwrap();
    let log = trace(&server, &token, &path, job);
    assert_eq!(done["status"], "success", "{log}");
    assert!(log.contains("[MASKED]\n") && log.contains("whole=[MASKED]"), "{log}");
    for piece in [&secret[..20], &secret[20..]] {
        assert!(!log.contains(piece), "no piece of the secret ({piece}) in the log: {log}");
    }
    // The database file holds neither the value (encrypted) nor a log with it.
    if server_uses_sqlite() {
        let bytes = std::fs::read(server.data_dir().join("gantry.db")).unwrap();
        let wal = std::fs::read(server.data_dir().join("gantry.db-wal")).unwrap_or_default();
        for file in [&bytes, &wal] {
            assert!(!file.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is not stored in clear");
        }
    }
}

/// Builds the test images (`scripts/test-images`) once per test process.
fn test_images() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/test-images");
        let built = std::process::Command::new(script).output().unwrap();
        assert!(built.status.success(), "{script} failed: {}", String::from_utf8_lossy(&built.stderr));
    });
}

#[test]
fn the_same_pipeline_runs_with_the_docker_executor_and_a_service() {
    test_images();
    let server = Server::start_with(&[
        "--builtin-runner-executor",
        "docker",
        "--docker-default-image",
        "gantry-test/busybox:latest",
    ]);
    let token = server.admin_token("root");
    let with_service = format!(
        "{MULTI_STAGE_CI}\nservice-check:\n  stage: test\n  services:\n    - name: gantry-test/busybox:latest\n      alias: web\n      \
         command: [\"sh\", \"-c\", \"mkdir -p /www && echo hello-from-service > /www/index.html && httpd -f -p 8080 -h /www\"]\n  \
         script:\n    - for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web:8080/ && break; sleep 0.3; done\n"
    );
    let path = push_project(&server, &token, "boxed", &[(".gitlab-ci.yml", &with_service), ("README.md", "# boxed\n")]);
    let pipeline = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    let id = pipeline["id"].as_i64().unwrap();
    let all = jobs(&server, &token, &path, id);
    for name in ["build", "lint", "test: [plain]", "test: [fancy]", "service-check"] {
        let job = job_named(&all, name);
        let log = trace(&server, &token, &path, job["id"].as_i64().unwrap());
        assert_eq!(job["status"], "success", "{name}: {log}");
        assert!(log.contains("docker executor"), "{name} ran in a container: {log}");
    }
    assert_eq!(pipeline["status"], "success");
    let service = trace(&server, &token, &path, job_named(&all, "service-check")["id"].as_i64().unwrap());
    assert!(service.contains("hello-from-service"), "{service}");
    let build = trace(&server, &token, &path, job_named(&all, "build")["id"].as_i64().unwrap());
    assert!(build.contains("token is [MASKED]"), "{build}");
    check_artifacts_and_reports(&server, &token, &path, id, &all);
    check_cache_on_retry(&server, &token, &path, id, &all);
    // Nothing of the jobs is left behind in Docker.
    let project: Value = server.get(&format!("/api/v4/projects/{}", encoded(&path)), &token).json().unwrap();
    let label = format!("label=io.gantry.project={}", project["id"]);
    let left = std::process::Command::new("docker").args(["ps", "-aq", "--filter", &label]).output().unwrap();
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty(), "containers left behind");
}
