//! The `gantry` command as a person meets it: `serve` says where to go once it is ready; logs
//! are coloured only on a terminal (never in a pipe or a file, nor with `NO_COLOR`); `admin`
//! commands print their result and errors, their log only when asked (`-v`). Each runs the real
//! binary through pipes, or through a terminal that `script` (util-linux) gives it. The data
//! directory holds SQLite whatever the suite's database: what is under test is the output.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::server::free_port;

const ESC: u8 = 0x1b;

/// `gantry <args>` on the data directory `dir`, through pipes, without `RUST_LOG`.
fn gantry(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .args(["--database-url", &format!("sqlite://{}", dir.join("gantry.db").display())])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn log_lines_at(level: &str, output: &str) -> Vec<String> {
    output.lines().filter(|line| line.split_whitespace().nth(1) == Some(level)).map(str::to_owned).collect()
}

#[test]
fn admin_commands_print_their_result_and_errors_and_log_only_when_asked() {
    // A fresh data directory: the first command migrates the database, which logs at INFO.
    let quiet = tempfile::tempdir().unwrap();
    let created = gantry(
        quiet.path(),
        &["admin", "create-user", "--username", "ada", "--email", "ada@example.com", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert_eq!(text(&created.stderr), "created user ada (id 1), administrator\n", "only the result");
    let token =
        gantry(quiet.path(), &["admin", "create-token", "--username", "ada", "--name", "cli", "--scopes", "api"], None);
    assert!(token.status.success(), "{}", text(&token.stderr));
    assert!(text(&token.stdout).starts_with("gpat-") && token.stderr.is_empty(), "{}", text(&token.stderr));
    let listed = gantry(quiet.path(), &["admin", "list-users"], None);
    assert!(text(&listed.stdout).contains("ada@example.com") && listed.stderr.is_empty(), "{}", text(&listed.stderr));
    let refused =
        gantry(quiet.path(), &["admin", "create-token", "--username", "ada", "--name", "x", "--scopes", "root"], None);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("unknown scope 'root'"), "the error is printed: {}", text(&refused.stderr));
    for output in [&created, &token, &listed, &refused] {
        assert!(!output.stdout.contains(&ESC) && !output.stderr.contains(&ESC), "no escapes in a pipe");
        assert!(log_lines_at("INFO", &text(&output.stderr)).is_empty(), "{}", text(&output.stderr));
    }

    // Asked, it logs (the migrations of a fresh database), still without escapes in a pipe.
    let verbose = tempfile::tempdir().unwrap();
    let listed = gantry(verbose.path(), &["admin", "list-users", "-v"], None);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(!log_lines_at("INFO", &text(&listed.stderr)).is_empty(), "-v logs: {}", text(&listed.stderr));
    assert!(!listed.stderr.contains(&ESC), "{}", text(&listed.stderr));
}

/// `gantry admin -v list-users` on a fresh data directory through a terminal (`script`), with
/// `NO_COLOR` set or not: what the terminal shows.
fn on_a_terminal(no_color: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "'{}' admin -v list-users --data-dir '{}' --database-url 'sqlite://{}/gantry.db'",
        env!("CARGO_BIN_EXE_gantry"),
        dir.path().display(),
        dir.path().display()
    );
    let mut script = Command::new("script");
    script.args(["--quiet", "--return", "--command", &command, "/dev/null"]).env_remove("RUST_LOG");
    if no_color {
        script.env("NO_COLOR", "1");
    } else {
        script.env_remove("NO_COLOR");
    }
    let output = script
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run script ({error}): install util-linux (bsdutils on Debian)"));
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("INFO"), "{}", text(&output.stdout));
    output.stdout
}

#[test]
fn the_log_is_coloured_on_a_terminal_unless_no_color_is_set() {
    assert!(on_a_terminal(false).contains(&ESC), "a terminal gets colours");
    assert!(!on_a_terminal(true).contains(&ESC), "NO_COLOR turns them off");
}

#[test]
fn serve_says_where_it_is_ready_and_logs_without_escapes_through_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--ssh-listen", &format!("127.0.0.1:{}", free_port()), "--no-builtin-runner", "--data-dir"])
        .arg(dir.path())
        .args(["--database-url", &format!("sqlite://{}", dir.path().join("gantry.db").display())])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = Vec::new();
        stderr.read_to_end(&mut log).unwrap();
        log
    });
    let (lines, ready) = std::sync::mpsc::channel();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    let expected = format!("Gantry is ready at http://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.contains(&expected) {
        let left = deadline.saturating_duration_since(Instant::now());
        match ready.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no ready line on standard output; it printed {seen:?}"),
        }
    }
    let client = crate::http_client().build().unwrap();
    assert_eq!(client.get(format!("http://127.0.0.1:{port}/-/readiness")).send().unwrap().status(), 200);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(child.wait().unwrap().success());
    let log = log.join().unwrap();
    assert!(!log_lines_at("INFO", &text(&log)).is_empty(), "serve logs at INFO: {}", text(&log));
    assert!(!log.contains(&ESC), "no escapes in a pipe: {}", text(&log));
    assert_eq!(seen, [expected], "standard output holds the ready line alone");
}
