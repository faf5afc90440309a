//! Jobs from request to final state: success, failure, timeout, cancel, shutdown, concurrency.

use std::time::Duration;

use gantry_runner::{Isolation, RunnerError};

use crate::fake_server::FakeServerForRunnerTests;
use crate::{
    TestRepo, TestRunner, config, job, process_alive, step, test_dir, variable, wait_for_file, wait_until_gone,
};

#[tokio::test]
async fn a_successful_job_logs_each_line_then_its_output_in_order() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["hello from the repository"]);
    server.enqueue(job(
        1,
        &repo,
        &[
            "echo first",
            "echo second >&2",
            "cat README.md; echo",
            "test \"$CI_PROJECT_DIR\" = \"$PWD\" && echo in-project-dir",
            "test -z \"${CARGO_MANIFEST_DIR:-}\" && echo runner-env-not-inherited",
            "test \"$HOME\" != \"$CI_PROJECT_DIR\" && test -d \"$HOME\" && echo home-of-its-own",
        ],
    ));

    let finished = server.wait_for_final_state(1).await;
    let update = finished.final_update().unwrap();
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref(), update.exit_code), ("success", None, None));
    let trace = finished.trace_text();
    assert_in_order(
        &trace,
        &[
            "Running with gantry-runner ",
            "section_start:",
            ":prepare_script\r\x1b[0K",
            ":get_sources\r\x1b[0K",
            "section_end:",
            ":step_script\r\x1b[0K",
            "\x1b[32;1m$ echo first\x1b[0;m\nfirst\n",
            "\x1b[32;1m$ echo second >&2\x1b[0;m\nsecond\n",
            "\x1b[32;1m$ cat README.md; echo\x1b[0;m\nhello from the repository\n",
            "in-project-dir\n",
            "runner-env-not-inherited\n",
            "home-of-its-own\n",
            ":step_script\r\x1b[0K\n",
            "Job succeeded",
        ],
    );
    runner.shut_down().await.unwrap();
    let left: Vec<_> = std::fs::read_dir(runner.builds.path()).unwrap().collect();
    assert!(left.is_empty(), "the job's directories are removed: {left:?}");
}

#[tokio::test]
async fn nothing_a_step_started_outlives_it_and_sections_start_on_their_own_line() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let pids = test_dir();
    let mut payload = job(9, &repo, &["sleep 306 & echo $! > \"$PID_DIR/background\"", "printf no-newline"]);
    payload.variables.push(variable("PID_DIR", &pids.path().to_string_lossy()));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(9).await;
    assert_eq!(finished.final_update().unwrap().state, "success", "{}", finished.trace_text());
    assert!(finished.trace_text().contains("no-newline\nsection_end:"), "{}", finished.trace_text());
    let background: u32 = wait_for_file(&pids.path().join("background")).await.trim().parse().unwrap();
    wait_until_gone(background).await;
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_failing_line_fails_the_job_with_its_exit_code_and_after_script_still_runs() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(2, &repo, &["echo before", "(exit 7)", "echo never-printed"]);
    payload.steps.push(step("after_script", &["echo \"cleaning up after $CI_JOB_STATUS\"", "exit 3"]));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(2).await;
    let update = finished.final_update().unwrap();
    assert_eq!(
        (update.state.as_str(), update.failure_reason.as_deref(), update.exit_code),
        ("failed", Some("script_failure"), Some(7))
    );
    let trace = finished.trace_text();
    assert!(!trace.contains("never-printed"), "{trace}");
    assert_in_order(
        &trace,
        &[
            "before\n",
            "$ (exit 7)",
            ":after_script\r\x1b[0K",
            "cleaning up after failed\n",
            "WARNING: after_script failed: exit code 3",
            "ERROR: Job failed: exit code 7",
        ],
    );
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_tree() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let pids = test_dir();
    let mut payload = job(3, &repo, &["sleep 300 & echo $! > \"$PID_DIR/background\"", "echo waiting", "sleep 301"]);
    payload.runner_info.timeout = 2;
    payload.variables.push(variable("PID_DIR", &pids.path().to_string_lossy()));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(3).await;
    let update = finished.final_update().unwrap();
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref()), ("failed", Some("job_execution_timeout")));
    assert_in_order(
        &finished.trace_text(),
        &[
            "waiting\n",
            "ERROR: Job timed out after 2 seconds",
            "ERROR: Job failed: execution took longer than 2 seconds",
        ],
    );
    let background: u32 = wait_for_file(&pids.path().join("background")).await.trim().parse().unwrap();
    wait_until_gone(background).await;
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_job_canceled_on_the_server_is_killed_at_once() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let pids = test_dir();
    let mut payload = job(4, &repo, &["sleep 302 & echo $! > \"$PID_DIR/background\"", "sleep 303"]);
    payload.variables.push(variable("PID_DIR", &pids.path().to_string_lossy()));
    server.enqueue(payload);

    let background: u32 = wait_for_file(&pids.path().join("background")).await.trim().parse().unwrap();
    assert!(process_alive(background));
    server.cancel(4);
    let finished = server.wait_for_final_state(4).await;
    // The script sleeps for 303 s, far past the wait's limit: the job ended because of the cancel.
    assert_eq!(finished.final_update().unwrap().state, "failed");
    assert!(finished.trace_text().contains("Job canceled"), "{}", finished.trace_text());
    wait_until_gone(background).await;
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn shutting_down_kills_running_jobs_and_reports_them_failed() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let pids = test_dir();
    let mut payload = job(5, &repo, &["echo $$ > \"$PID_DIR/shell\"", "sleep 304"]);
    payload.variables.push(variable("PID_DIR", &pids.path().to_string_lossy()));
    server.enqueue(payload);

    let shell: u32 = wait_for_file(&pids.path().join("shell")).await.trim().parse().unwrap();
    runner.shut_down().await.unwrap();
    let finished = server.job(5).unwrap();
    let update = finished.final_update().expect("reported before the runner stopped");
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref()), ("failed", Some("runner_system_failure")));
    assert!(finished.trace_text().contains("the runner is shutting down"), "{}", finished.trace_text());
    wait_until_gone(shell).await;
}

#[tokio::test]
async fn concurrent_workers_run_jobs_at_the_same_time() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 2);
    let repo = TestRepo::with_commits(&["x"]);
    let meeting = test_dir();
    // Each job waits for the other: they can only both finish if they run at once.
    for (id, mine, theirs) in [(6, "a", "b"), (7, "b", "a")] {
        let mut payload = job(
            id,
            &repo,
            &[&format!("touch \"$MEET/{mine}\""), &format!("while [ ! -e \"$MEET/{theirs}\" ]; do sleep 0.05; done")],
        );
        payload.runner_info.timeout = 30;
        payload.variables.push(variable("MEET", &meeting.path().to_string_lossy()));
        server.enqueue(payload);
    }
    for id in [6, 7] {
        let finished = server.wait_for_final_state(id).await;
        assert_eq!(finished.final_update().unwrap().state, "success", "{}", finished.trace_text());
    }
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn file_variables_are_files_outside_the_project() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(
        8,
        &repo,
        &[
            "cat \"$CONFIG_FILE\"; echo",
            "case \"$CONFIG_FILE\" in \"$CI_PROJECT_DIR\"/*) echo inside;; *) echo outside;; esac",
        ],
    );
    payload.variables.push(gantry_ci::protocol::JobVariable { file: true, ..variable("CONFIG_FILE", "key: value") });
    server.enqueue(payload);
    let finished = server.wait_for_final_state(8).await;
    assert_eq!(finished.final_update().unwrap().state, "success", "{}", finished.trace_text());
    assert_in_order(&finished.trace_text(), &["key: value\n", "outside\n"]);
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_refused_runner_token_stops_the_runner_with_a_clear_error() {
    let server = FakeServerForRunnerTests::start().await;
    let builds = test_dir();
    let mut config = config(server.url(), builds.path(), Isolation::None, 2);
    config.token = "glrt-wrong".into();
    let error = tokio::time::timeout(Duration::from_secs(30), gantry_runner::run(config, std::future::pending()))
        .await
        .expect("the runner stops by itself")
        .unwrap_err();
    assert!(matches!(error, RunnerError::InvalidToken { .. }), "{error:?}");
    assert!(error.to_string().contains("refused the runner token"), "{error}");
}

#[tokio::test]
async fn verify_tells_a_valid_token_from_a_refused_one() {
    let server = FakeServerForRunnerTests::start().await;
    gantry_runner::verify(server.url(), crate::fake_server::RUNNER_TOKEN, None).await.unwrap();
    let error = gantry_runner::verify(server.url(), "glrt-wrong", None).await.unwrap_err();
    assert!(matches!(error, RunnerError::InvalidToken { .. }), "{error:?}");
    let error = gantry_runner::verify("http://127.0.0.1:9", "x", None).await.unwrap_err();
    assert!(matches!(error, RunnerError::Unreachable { .. }), "{error:?}");
}

#[tokio::test]
async fn job_directories_left_by_a_crash_are_removed_at_start() {
    let server = FakeServerForRunnerTests::start().await;
    let builds = test_dir();
    for dir in ["41", "41.tmp", "keep-me"] {
        std::fs::create_dir(builds.path().join(dir)).unwrap();
    }
    let config = config(server.url(), builds.path(), Isolation::None, 1);
    let mut runner = TestRunner::start_with(config, builds);
    runner.shut_down().await.unwrap();
    let left: Vec<String> = std::fs::read_dir(runner.builds.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["keep-me"]);
}

/// Fails unless every piece appears in `text`, each after the previous one.
pub fn assert_in_order(text: &str, pieces: &[&str]) {
    let mut at = 0;
    for piece in pieces {
        match text[at..].find(piece) {
            Some(found) => at += found + piece.len(),
            None => panic!("{piece:?} is missing after byte {at} of the log:\n{text}"),
        }
    }
}
