//! Two `gantry serve` on one PostgreSQL database and one data directory, behind nginx: a push
//! to one creates exactly one pipeline, a runner long-polling the other takes its job, the job
//! page on the first streams the log the runner sends through the second, a schedule fires
//! once, and killing one server fails no request nginx can send to the other. PostgreSQL only:
//! on SQLite there is one server.

use std::io::BufRead;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ci_pipelines::{RunnerProcess, encoded, jobs, push_project, runner_token, wait_for_pipeline};
use crate::nginx::Nginx;
use crate::server::{Server, free_port};

const CI: &str = "job:\n  script:\n    - echo first line\n    - sleep 3\n    - echo last line\n";

#[test]
fn two_servers_share_one_database_and_one_data_directory() {
    if !std::env::var("GANTRY_TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!("two servers share only a PostgreSQL database: this test runs in the PostgreSQL pass");
        return;
    }
    let mut first = Server::start_with(&["--no-builtin-runner"]);
    let second = Server::start_beside(&first, &["--no-builtin-runner"]);
    let token = first.admin_token("root");
    let runner = runner_token(&first, &[]);
    let _agent = RunnerProcess::start_with(&second.base_url, &runner, &[], &[]);
    let port = free_port();
    let _nginx = Nginx::start(
        &format!(
            "  upstream gantry {{ server 127.0.0.1:{}; server 127.0.0.1:{}; }}\n  server {{\n    \
             listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://gantry;\n      \
             proxy_http_version 1.1;\n      proxy_set_header Host $host:$server_port;\n      \
             proxy_next_upstream error timeout http_502;\n      proxy_connect_timeout 2s;\n    }}\n  }}",
            first.port, second.port
        ),
        port,
    );

    // A push to the first server: one pipeline; the runner waiting on the second takes its job.
    let path = push_project(&first, &token, "shared", &[(".gitlab-ci.yml", CI)]);
    wait_for_pipeline(&second, &token, &path, |p| p["status"] == "running");
    // (How soon: `scripts/bench-arch` measures push to first log line across the two servers;
    // tests assert no timings. That the wake-up crosses servers is gantry-db's `cluster` test.)
    let job = jobs(&first, &token, &path, first_pipeline(&first, &token, &path))[0].clone();
    assert!(job["queued_duration"].as_f64().is_some(), "the job started: {job}");

    // The job page on the first server streams what the runner sends through the second, live.
    let id = job["id"].as_i64().unwrap();
    let client = crate::http_client().timeout(Duration::from_secs(60)).build().unwrap();
    let stream = client
        .get(format!("{}/{path}/-/jobs/{id}/stream", first.base_url))
        .header(reqwest::header::COOKIE, first.session_cookie("root"))
        .send()
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut lines = std::io::BufReader::new(stream).lines();
    let mut saw_first_line_while_running = false;
    let mut ended = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("first line") && !saw_first_line_while_running {
            let now: Value =
                first.get(&format!("/api/v4/projects/{}/jobs/{id}", encoded(&path)), &token).json().unwrap();
            saw_first_line_while_running = now["status"] == "running";
        }
        if line == "event: end" {
            ended = true;
            break;
        }
    }
    assert!(saw_first_line_while_running, "the log reached the first server's page while the job ran");
    assert!(ended, "the stream ends with the job");
    let log = first.get(&format!("/api/v4/projects/{}/jobs/{id}/trace", encoded(&path)), &token).text().unwrap();
    assert!(log.contains("first line") && log.contains("last line"), "{log}");
    let all: Value = second.get(&format!("/api/v4/projects/{}/pipelines", encoded(&path)), &token).json().unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1, "one push, one pipeline: {all}");

    // A schedule due every minute fires once, whichever server leads the periodic work.
    let schedule = json!({"description": "minutely", "ref": "main", "cron": "* * * * *"});
    let created =
        first.post_json(&format!("/api/v4/projects/{}/pipeline_schedules", encoded(&path)), &token, &schedule);
    assert_eq!(created.status(), 201);
    let scheduled = || -> usize {
        let all: Value = first
            .get(&format!("/api/v4/projects/{}/pipelines?source=schedule", encoded(&path)), &token)
            .json()
            .unwrap();
        all.as_array().unwrap().len()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while scheduled() == 0 {
        assert!(Instant::now() < deadline, "the schedule never fired");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(scheduled(), 1, "fired once, not once per server");

    // One server dies: every request through nginx is still answered, by the other.
    first.kill();
    let through_nginx = crate::http_client().timeout(Duration::from_secs(10)).build().unwrap();
    for _ in 0..20 {
        let response = through_nginx
            .get(format!("http://127.0.0.1:{port}/api/v4/projects/{}", encoded(&path)))
            .header("PRIVATE-TOKEN", &token)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

fn first_pipeline(server: &Server, token: &str, path: &str) -> i64 {
    let all: Value = server.get(&format!("/api/v4/projects/{}/pipelines", encoded(path)), token).json().unwrap();
    all[0]["id"].as_i64().unwrap()
}
