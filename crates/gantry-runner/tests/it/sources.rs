//! `get_sources`: the job's commit from a real repository with the real `git`, shallow when
//! asked, and failures told apart (refused by the server, or the server unreachable).

use gantry_runner::Isolation;

use crate::fake_server::FakeServerForRunnerTests;
use crate::jobs::assert_in_order;
use crate::{TestRepo, TestRunner, job};

#[tokio::test]
async fn a_shallow_fetch_has_only_the_last_commits() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["one", "two", "three"]);
    let mut payload = job(30, &repo, &["git rev-parse HEAD", "git rev-list --count HEAD", "cat README.md; echo"]);
    payload.git_info.depth = 2;
    server.enqueue(payload);

    let finished = server.wait_for_final_state(30).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    assert_in_order(
        &trace,
        &["Fetching changes with git depth set to 2...", &format!("{}\n", repo.commits[2]), "\n2\n", "\nthree\n"],
    );
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_full_fetch_checks_out_any_commit_of_the_history_cleanly() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["one", "two", "three"]);
    let mut payload =
        job(31, &repo, &["git rev-list --count HEAD", "git status --porcelain | wc -l", "cat README.md; echo"]);
    payload.git_info.depth = 0;
    payload.git_info.sha = repo.commits[1].clone();
    server.enqueue(payload);

    let finished = server.wait_for_final_state(31).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    assert_in_order(
        &trace,
        &["Fetching changes...", "$ git rev-list --count HEAD\x1b[0;m\n2\n", "| wc -l\x1b[0;m\n0\n", "\ntwo\n"],
    );
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_fetch_the_server_refuses_fails_the_job_without_running_the_script() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(32, &repo, &["echo never-run"]);
    payload.git_info.repo_url = format!("{}/missing.git", repo.bare.display());
    server.enqueue(payload);

    let finished = server.wait_for_final_state(32).await;
    let update = finished.final_update().unwrap();
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref()), ("failed", Some("script_failure")));
    let trace = finished.trace_text();
    assert!(!trace.contains("never-run"), "{trace}");
    assert_in_order(
        &trace,
        &[
            "ERROR: cannot fetch the job's sources: the server refused",
            "ERROR: Job failed: cannot fetch the job's sources",
        ],
    );
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_git_server_is_a_system_failure_and_the_token_stays_out_of_the_log() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut payload = job(33, &repo, &["echo never-run"]);
    let token = payload.token.clone();
    payload.git_info.repo_url = format!("http://gitlab-ci-token:{token}@127.0.0.1:{closed_port}/acme/app.git");
    server.enqueue(payload);

    let finished = server.wait_for_final_state(33).await;
    let update = finished.final_update().unwrap();
    let trace = finished.trace_text();
    assert_eq!(
        (update.state.as_str(), update.failure_reason.as_deref()),
        ("failed", Some("runner_system_failure")),
        "{trace}"
    );
    assert!(!trace.contains(&token), "{trace}");
    assert_in_order(
        &trace,
        &[
            &format!("Fetching from http://127.0.0.1:{closed_port}/acme/app.git\n"),
            "ERROR: Job failed (system failure): cannot fetch",
        ],
    );
    runner.shut_down().await.unwrap();
}
