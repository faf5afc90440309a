//! Jobs in the sandbox: the runner's own files, hidden paths and other jobs' directories are
//! invisible, the job's own directory is writable and the system is not, the job is not the
//! runner's user when the runner is root, and a timeout reaches the sandboxed processes.

use std::path::PathBuf;
use std::time::Duration;

use gantry_runner::{Isolation, JobLimits, SandboxSettings, sandbox};

use crate::fake_server::FakeServerForRunnerTests;
use crate::jobs::assert_in_order;
use crate::{TestRepo, TestRunner, config, job, processes_running, test_dir, variable};

/// The first user the sandbox of a root runner gives jobs: worker 1's.
const JOB_UID_BASE: u32 = 1_900_000_000;

/// The sandbox hiding `hide`, talking to `server`, reading `repo`; these tests need bubblewrap
/// and passt (`apt-get install bubblewrap passt`).
async fn sandboxed(server: &FakeServerForRunnerTests, repo: &TestRepo, hide: Vec<PathBuf>) -> Isolation {
    repo.share_with_jobs(JOB_UID_BASE + 1);
    let settings = SandboxSettings {
        hide,
        read_only: vec![repo.dir().to_owned()],
        server_url: server.url().to_owned(),
        door_program: vec![env!("CARGO_BIN_EXE_gantry-job-door").into()],
        internet: true,
        loopback_ports: Vec::new(),
        limits: JobLimits::STANDARD,
        job_uid_base: JOB_UID_BASE,
    };
    match sandbox(settings).await {
        Ok(isolation) => isolation,
        Err(why) => panic!("the sandbox does not work on this machine: {why}"),
    }
}

#[tokio::test]
async fn a_job_sees_neither_hidden_paths_nor_other_jobs_and_writes_only_its_own_directory() {
    let server = FakeServerForRunnerTests::start().await;
    let data_dir = test_dir();
    let secret_file = data_dir.path().join("gantry.db");
    std::fs::write(&secret_file, "server secrets").unwrap();
    let builds = test_dir();
    // Another job's directory, under a name the runner's start-up clean-up leaves alone.
    std::fs::create_dir(builds.path().join("other-job")).unwrap();
    std::fs::write(builds.path().join("other-job/file"), "other job's file").unwrap();
    let repo = TestRepo::with_commits(&["x"]);
    let isolation = sandboxed(&server, &repo, vec![data_dir.path().to_owned()]).await;
    let config = config(server.url(), builds.path(), isolation, 1);
    let mut runner = TestRunner::start_with(config, builds);
    let mut payload = job(
        40,
        &repo,
        &[
            "if cat \"$SECRET_FILE\"; then echo LEAK-hidden; else echo hidden-unreadable; fi",
            "if ls -A \"$DATA_DIR\" | grep -q .; then echo LEAK-data-dir; else echo data-dir-empty; fi",
            "if cat \"$CI_BUILDS_DIR/other-job/file\"; then echo LEAK-other-job; else echo other-job-unreadable; fi",
            "echo mine > \"$CI_PROJECT_DIR/own-file\" && cat own-file",
            "if touch /usr/gantry-runner-test 2>/dev/null; then echo LEAK-wrote-usr; else echo usr-read-only; fi",
            "echo in-tmp > /tmp/scratch && cat /tmp/scratch",
            "if [ \"$(id -u)\" = 0 ]; then echo LEAK-root; else echo not-root; fi",
        ],
    );
    payload.variables.push(variable("SECRET_FILE", &secret_file.to_string_lossy()));
    payload.variables.push(variable("DATA_DIR", &data_dir.path().to_string_lossy()));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(40).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    // The echoed commands mention LEAK; only an output line starting with it is one.
    assert!(!trace.lines().any(|line| line.starts_with("LEAK")) && !trace.contains("server secrets"), "{trace}");
    assert_in_order(
        &trace,
        &[
            "in a sandbox",
            "hidden-unreadable\n",
            "data-dir-empty\n",
            "other-job-unreadable\n",
            "mine\n",
            "usr-read-only\n",
            "in-tmp\n",
            "not-root\n",
            "Job succeeded",
        ],
    );
    assert!(secret_file.exists() && !std::path::Path::new("/usr/gantry-runner-test").exists());
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_builds_directory_inside_a_hidden_directory_still_works() {
    let server = FakeServerForRunnerTests::start().await;
    let data_dir = test_dir();
    std::fs::write(data_dir.path().join("gantry.db"), "server secrets").unwrap();
    let builds = data_dir.path().join("builds");
    let repo = TestRepo::with_commits(&["x"]);
    let isolation = sandboxed(&server, &repo, vec![data_dir.path().to_owned()]).await;
    let config = config(server.url(), &builds, isolation, 1);
    let mut runner = TestRunner::start_with(config, test_dir());
    let mut payload = job(42, &repo, &["ls -A \"$DATA_DIR\"", "echo mine > own-file && cat own-file"]);
    payload.variables.push(variable("DATA_DIR", &data_dir.path().to_string_lossy()));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(42).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    assert!(!trace.contains("gantry.db"), "{trace}");
    assert_in_order(&trace, &["$ ls -A \"$DATA_DIR\"\x1b[0;m\nbuilds\n", "mine\n"]);
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_timeout_kills_the_processes_inside_the_sandbox() {
    let server = FakeServerForRunnerTests::start().await;
    let repo = TestRepo::with_commits(&["x"]);
    let isolation = sandboxed(&server, &repo, Vec::new()).await;
    let mut runner = TestRunner::start(&server, isolation, 1);
    let mut payload = job(41, &repo, &["sleep 3171 &", "sleep 3172"]);
    payload.runner_info.timeout = 5;
    server.enqueue(payload);

    server.wait_for_trace(41, "$ sleep 3172").await;
    wait_for_processes(|| !processes_running(&["sleep", "3171"]).is_empty(), "the background sleep to start").await;
    let finished = server.wait_for_final_state(41).await;
    let update = finished.final_update().unwrap();
    assert_eq!(update.failure_reason.as_deref(), Some("job_execution_timeout"), "{}", finished.trace_text());
    assert_in_order(&finished.trace_text(), &["$ sleep 3172", "ERROR: Job timed out"]);
    wait_for_processes(
        || processes_running(&["sleep", "3171"]).is_empty() && processes_running(&["sleep", "3172"]).is_empty(),
        "the sandboxed processes to be killed",
    )
    .await;
    runner.shut_down().await.unwrap();
}

async fn wait_for_processes(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "waited 10 s for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
