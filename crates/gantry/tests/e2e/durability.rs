//! A push is recorded, and gets its pipeline exactly once, whatever happens to its client or to
//! the server once git has updated the refs: a client that leaves before the answer, a server
//! killed before it recorded the push (the report git's hook left is recorded at the next
//! start), and a server killed after the record but before the pipeline (the queued background
//! job runs at the next start). And a server restarted gracefully while a job runs reports that
//! job as its runner stopped it.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ci_pipelines::{encoded, push_project};
use crate::git_http::{git, git_ok, repository_path};
use crate::server::Server;

const CI: &str = "job:\n  script: echo hi\n";

/// The project's pipelines on `ref_name`, once there is at least one (60 s at most).
fn pipelines_on(server: &Server, token: &str, path: &str, ref_name: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list: Value =
            server.get(&format!("/api/v4/projects/{}/pipelines?ref={ref_name}", encoded(path)), token).json().unwrap();
        let list = list.as_array().cloned().unwrap_or_default();
        if !list.is_empty() {
            return list;
        }
        assert!(Instant::now() < deadline, "no pipeline on {ref_name}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn project(server: &Server, token: &str, path: &str) -> Value {
    server.get(&format!("/api/v4/projects/{}", encoded(path)), token).json().unwrap()
}

#[test]
fn a_push_whose_client_leaves_without_the_answer_is_recorded_and_gets_its_pipeline() {
    let server = Server::start();
    let token = server.admin_token("root");
    let path = push_project(&server, &token, "leaving", &[(".gitlab-ci.yml", CI)]);
    let id = project(&server, &token, &path)["id"].as_i64().unwrap();

    // A commit for a new branch, packed as git's client would send it.
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("clone");
    git_ok(work.path(), &["clone", "-q", repository_path(&server, id).to_str().unwrap(), clone.to_str().unwrap()]);
    std::fs::write(clone.join("more.txt"), "more\n").unwrap();
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "-q", "-m", "more"]);
    let new = git_ok(&clone, &["rev-parse", "HEAD"]).trim().to_owned();
    let mut pack = std::process::Command::new("git")
        .args(["pack-objects", "--stdout", "--revs", "-q"])
        .current_dir(&clone)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    pack.stdin.take().unwrap().write_all(format!("{new}\n^{new}~1\n").as_bytes()).unwrap();
    let pack = pack.wait_with_output().unwrap().stdout;
    let command = format!("{} {new} refs/heads/left\0report-status\n", "0".repeat(40));
    let mut body = format!("{:04x}{command}0000", command.len() + 4).into_bytes();
    body.extend_from_slice(&pack);

    // The whole request is sent; the client reads no answer, and goes once git has updated
    // the ref (the server may or may not have sent the whole answer by then).
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("root:{token}"))
    };
    let mut stream = std::net::TcpStream::connect(server.base_url.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /{path}.git/git-receive-pack HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n\
         Content-Type: application/x-git-receive-pack-request\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let repository = repository_path(&server, id);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !git(&repository, &["rev-parse", "--verify", "-q", "refs/heads/left"]).status.success() {
        assert!(Instant::now() < deadline, "git did not update the ref");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(stream);

    let pipelines = pipelines_on(&server, &token, &path, "left");
    assert_eq!(pipelines.len(), 1, "{pipelines:?}");
    assert_eq!(pipelines[0]["sha"], new.as_str());
}

#[test]
fn a_push_a_killed_server_left_unrecorded_is_recorded_once_at_the_next_start() {
    let server = Server::start();
    let token = server.admin_token("root");
    let path = push_project(&server, &token, "orphaned", &[(".gitlab-ci.yml", CI)]);
    let id = project(&server, &token, &path)["id"].as_i64().unwrap();
    let user: Value = server.get("/api/v4/user", &token).json().unwrap();
    let user = user["id"].as_i64().unwrap();
    let repository = repository_path(&server, id);
    let main = git_ok(&repository, &["rev-parse", "refs/heads/main"]).trim().to_owned();

    // What a server killed right after git's ref update leaves: the ref, and the report its
    // post-receive hook wrote, with no push record (named for the server that took the push).
    let port = server.port;
    let report = std::cell::RefCell::new(std::path::PathBuf::new());
    let server = server.kill_and_restart_after(|data| {
        git_ok(&repository, &["update-ref", "refs/heads/orphaned", &main]);
        let file = data.join("tmp").join(format!("push-{}-{id}-{user}-00112233445566778899aabb", server_tag(port)));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, format!("{} {main} refs/heads/orphaned\n", "0".repeat(40))).unwrap();
        *report.borrow_mut() = file;
    });
    let pipelines = pipelines_on(&server, &token, &path, "orphaned");
    assert_eq!(pipelines.len(), 1, "{pipelines:?}");
    let pipeline = pipelines[0]["id"].as_i64().unwrap();
    let pipeline: Value =
        server.get(&format!("/api/v4/projects/{}/pipelines/{pipeline}", encoded(&path)), &token).json().unwrap();
    assert_eq!(pipeline["user"]["username"], "root", "the push is its pusher's: {pipeline}");
    assert!(!report.borrow().exists(), "the report is removed once recorded");

    // Once: another start records nothing more.
    let server = server.restart();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pipelines_on(&server, &token, &path, "orphaned").len(), 1);
}

/// The tag of the server on this host listening on `port` in its reports' names: eight hex
/// digits of the SHA-256 of its identity, `<host name> <listen address>`.
fn server_tag(port: u16) -> String {
    use sha2::Digest;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let identity = format!("{} 127.0.0.1:{port}", host.trim());
    hex::encode(sha2::Sha256::digest(identity.as_bytes()))[..8].to_owned()
}

#[test]
fn a_push_whose_server_is_killed_before_its_pipeline_gets_it_once_after_the_restart() {
    // A server that runs no background jobs: its pushes are recorded and their pipelines
    // queued, never created, as if it were killed right after each record.
    let server = Server::start_with(&["--background-jobs", "0"]);
    let token = server.admin_token("root");
    let path = push_project(&server, &token, "queued", &[(".gitlab-ci.yml", CI)]);
    std::thread::sleep(Duration::from_millis(500));
    let none: Value = server.get(&format!("/api/v4/projects/{}/pipelines", encoded(&path)), &token).json().unwrap();
    assert_eq!(none, serde_json::json!([]), "the pipeline waits in the queue");
    let (_, admin_area) = server.page_as("root", "/admin/background_jobs");
    assert!(admin_area.contains("Create the pipelines of a push"), "{admin_area}");

    let server = server.kill_and_restart_with(&[]);
    let pipelines = pipelines_on(&server, &token, &path, "main");
    assert_eq!(pipelines.len(), 1, "{pipelines:?}");

    // Once: another start (even a killed one) creates nothing more.
    let server = server.kill_and_restart();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pipelines_on(&server, &token, &path, "main").len(), 1);
}

#[test]
fn a_graceful_restart_reports_the_jobs_it_stops_through_the_jobs_door() {
    let server = Server::start();
    let token = server.admin_token("root");
    let path = push_project(&server, &token, "stopping", &[(".gitlab-ci.yml", "long:\n  script: sleep 300\n")]);
    let pipeline = pipelines_on(&server, &token, &path, "main")[0]["id"].as_i64().unwrap();
    let jobs = format!("/api/v4/projects/{}/pipelines/{pipeline}/jobs", encoded(&path));
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let list: Value = server.get(&jobs, &token).json().unwrap();
        if list[0]["status"] == "running" {
            break list[0]["id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "the job never ran: {list}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The runner reports the job it kills through the door, which stays open until it has.
    let server = server.restart();
    let shown: Value = server.get(&format!("/api/v4/projects/{}/jobs/{job}", encoded(&path)), &token).json().unwrap();
    assert_eq!(shown["status"], "failed", "{shown}");
    assert_eq!(shown["failure_reason"], "runner_system_failure", "{shown}");
    let log = server.get(&format!("/api/v4/projects/{}/jobs/{job}/trace", encoded(&path)), &token).text().unwrap();
    assert!(log.contains("the runner is shutting down"), "{log}");
}
