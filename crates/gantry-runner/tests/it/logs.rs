//! The job log on its way to the server: masking across pieces, offsets the server refuses,
//! pieces it takes only in part, the size of each request.

use gantry_runner::Isolation;

use crate::fake_server::FakeServerForRunnerTests;
use crate::jobs::assert_in_order;
use std::time::Duration;

use crate::{TestRepo, TestRunner, job, processes_running, test_dir, variable};

const SECRET: &str = "s3cr3t-Value-42";

#[tokio::test]
async fn a_masked_variable_never_reaches_the_server_however_the_output_is_cut() {
    let server = FakeServerForRunnerTests::start().await;
    // Tiny pieces: the secret is cut by the server's offsets as well as by the output's timing.
    server.limit_trace_pieces(5);
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(
        20,
        &repo,
        &[
            "echo \"whole: $SECRET\"",
            // The secret leaves the process in two writes, 300 ms apart: two reads of the pipe.
            "printf 'split: s3cr3t-Va'; sleep 0.3; printf 'lue-42 end\\n'",
            "echo \"token: $TOKEN_COPY\"",
            "echo \"not secret: s3cr3t-Valu\"",
        ],
    );
    payload.variables.push(gantry_ci::protocol::JobVariable { masked: true, ..variable("SECRET", SECRET) });
    // The job token is always masked, also when a variable carries it unmasked.
    let token = payload.token.clone();
    payload.variables.push(variable("TOKEN_COPY", &token));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(20).await;
    assert_eq!(finished.final_update().unwrap().state, "success", "{}", finished.trace_text());
    let trace = finished.trace_text();
    assert!(!trace.contains(SECRET) && !trace.contains(&token), "{trace}");
    assert_in_order(
        &trace,
        &[
            "whole: [MASKED]\n",
            "split: [MASKED] end\n",
            "token: [MASKED]\n",
            "not secret: s3cr3t-Valu\n",
            "Job succeeded",
        ],
    );
    assert!(finished.patch_sizes.len() > 1);
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn the_log_arrives_whole_when_the_server_refuses_offsets_and_takes_pieces_in_part() {
    let server = FakeServerForRunnerTests::start().await;
    server.limit_trace_pieces(1000);
    server.refuse_trace_offsets(3);
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    server.enqueue(job(21, &repo, &["seq 1 20000"]));

    let finished = server.wait_for_final_state(21).await;
    let trace = finished.trace_text();
    let expected: String = (1..=20000).map(|n| format!("{n}\n")).collect();
    assert!(
        trace.contains(&format!("\x1b[32;1m$ seq 1 20000\x1b[0;m\n{expected}")),
        "the numbers arrive whole and in order"
    );
    assert!(trace.ends_with("Job succeeded\x1b[0;m\n"), "{}", &trace[trace.len() - 200..]);
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_large_log_goes_in_pieces_of_at_most_one_mebibyte() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    server.enqueue(job(22, &repo, &["head -c 5000000 /dev/zero | tr '\\0' a; echo"]));

    let finished = server.wait_for_final_state(22).await;
    assert_eq!(finished.final_update().unwrap().state, "success");
    assert!(finished.patch_sizes.iter().all(|size| *size <= 1 << 20), "{:?}", finished.patch_sizes);
    assert!(finished.trace_text().contains(&format!("{}\n", "a".repeat(5_000_000))));
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn the_first_line_reaches_the_server_while_the_job_still_runs() {
    let server = FakeServerForRunnerTests::start().await;
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(23, &repo, &["echo early-line", "sleep 30"]);
    payload.runner_info.timeout = 60;
    server.enqueue(payload);

    let seen = server.wait_for_trace(23, "early-line\n").await;
    assert!(seen.final_update().is_none(), "the line came while the job ran");
    server.cancel(23);
    server.wait_for_final_state(23).await;
    runner.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_stalled_server_makes_the_job_wait_rather_than_the_runner_buffer_without_end() {
    let server = FakeServerForRunnerTests::start().await;
    server.pause_traces();
    let mut runner = TestRunner::start(&server, Isolation::None, 1);
    let repo = TestRepo::with_commits(&["x"]);
    let marks = test_dir();
    let mut payload =
        job(24, &repo, &["head -c 40000000 /dev/zero | tr '\\0' b; echo", "touch \"$MARKS/wrote-everything\""]);
    payload.variables.push(variable("MARKS", &marks.path().to_string_lossy()));
    server.enqueue(payload);

    server.wait_for_trace_request().await;
    // 40 MB do not fit in the runner's 16 MiB buffer: while the server takes nothing, the job's
    // writer comes to a stop, blocked on its output, well short of the end.
    let wrote_everything = marks.path().join("wrote-everything");
    let stopped_at = wait_for_writer_to_stop(&["tr", "\\0", "b"], &wrote_everything).await;
    assert!(stopped_at < 40_000_000, "the writer got {stopped_at} bytes out while the server took nothing");
    assert!(!wrote_everything.exists(), "the job wrote everything while the server took nothing");

    server.resume_traces();
    let finished = server.wait_for_final_state(24).await;
    assert_eq!(finished.final_update().unwrap().state, "success");
    assert!(wrote_everything.exists());
    assert!(finished.trace_text().contains(&format!("{}\n", "b".repeat(40_000_000))), "no byte was dropped");
    runner.shut_down().await.unwrap();
}

/// Waits until a process running `args` has been blocked writing to a full pipe, without writing
/// a byte more, for a whole second; how many bytes it had written by then. A writer whose reader
/// keeps taking output never stays still that long; the wait fails once `done_mark` exists.
async fn wait_for_writer_to_stop(args: &[&str], done_mark: &std::path::Path) -> u64 {
    const STILL_FOR: Duration = Duration::from_secs(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut last: Option<(u32, u64, tokio::time::Instant)> = None;
    loop {
        assert!(!done_mark.exists(), "the job wrote everything while the server took nothing");
        assert!(tokio::time::Instant::now() < deadline, "no {args:?} process stopped, blocked on its output");
        let blocked = processes_running(args).into_iter().find(|pid| blocked_on_pipe(*pid));
        let observed = blocked.and_then(|pid| Some((pid, bytes_written(pid)?)));
        last = match (observed, last) {
            (Some((pid, written)), Some((last_pid, last_written, since)))
                if pid == last_pid && written == last_written =>
            {
                if since.elapsed() >= STILL_FOR {
                    return written;
                }
                Some((pid, written, since))
            }
            (Some((pid, written)), _) => Some((pid, written, tokio::time::Instant::now())),
            (None, _) => None,
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The bytes a process has passed to `write` so far (`wchar` in `/proc/PID/io`).
fn bytes_written(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines().find_map(|line| line.strip_prefix("wchar: ")?.trim().parse().ok())
}

/// Whether the kernel says a process waits to write to a pipe (`pipe_write`, or
/// `anon_pipe_write` in newer kernels).
fn blocked_on_pipe(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|channel| channel.ends_with("pipe_write"))
}
