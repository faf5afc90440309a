//! End-to-end tests against a real `gantry serve` process: restarts, SIGKILL during writes,
//! the admin command line, python-gitlab (a real GitLab client) against the API, and headless
//! Chromium through the web UI. The database is SQLite in a temporary directory, or a fresh
//! PostgreSQL database when `GANTRY_TEST_DATABASE_URL` names a PostgreSQL server.

mod browser;
mod browser_dead_ends;
mod browser_edit;
mod browser_find;
mod browser_phone;
mod browser_plan;
mod ci_files;
mod ci_lint;
mod ci_pipelines;
mod command_line;
mod deploy;
mod durability;
mod git_http;
mod git_ssh;
mod mail;
mod memory;
mod nginx;
mod protected_tags;
mod python_gitlab;
mod sandbox;
mod server;
mod tls_runner;
mod two_servers;
mod wiki;

use std::time::Duration;

use server::Server;

/// A builder of the tests' own HTTP clients: reqwest is built with rustls and without a crypto
/// provider of its own, so the one the runner uses is installed first.
pub fn http_client() -> reqwest::blocking::ClientBuilder {
    gantry_runner::install_crypto_provider();
    reqwest::blocking::Client::builder()
}

#[test]
fn restart_keeps_everything_and_sigkill_during_writes_leaves_a_consistent_database() {
    let server = Server::start();
    let token = server.admin_token("root");
    for n in 0..5 {
        let body = serde_json::json!({"name": format!("Group {n}"), "path": format!("group{n}")});
        assert_eq!(server.post_json("/api/v4/groups", &token, &body).status(), 201);
    }
    let server = server.restart();
    assert_eq!(server.get("/api/v4/groups?all_available=true", &token).headers()["x-total"], "5");

    // Hammer writes from a thread and kill the server in the middle of them.
    let base = server.base_url.clone();
    let writer_token = token.clone();
    let writer = std::thread::spawn(move || {
        let client = http_client().build().unwrap();
        let mut acknowledged = Vec::new();
        for n in 0..400 {
            let body = serde_json::json!({"name": format!("Burst {n}"), "path": format!("burst{n}")});
            match client.post(format!("{base}/api/v4/groups")).header("PRIVATE-TOKEN", &writer_token).json(&body).send()
            {
                Ok(response) if response.status() == 201 => acknowledged.push(format!("burst{n}")),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        acknowledged
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.get("/api/v4/groups?all_available=true&search=burst", &token).headers()["x-total"].to_str().unwrap()
        < "3"
    {
        assert!(std::time::Instant::now() < deadline, "writes did not start");
    }
    let server = server.kill_and_restart();
    let acknowledged = writer.join().unwrap();
    assert!(!acknowledged.is_empty());
    for path in &acknowledged {
        let response = server.get(&format!("/api/v4/groups/{path}"), &token);
        assert_eq!(response.status(), 200, "acknowledged group {path} survived the kill");
    }
    // Every group that exists is whole: it has its route and its owner.
    let listed: serde_json::Value =
        server.get("/api/v4/groups?all_available=true&per_page=100&search=burst", &token).json().unwrap();
    for group in listed.as_array().unwrap() {
        let members: serde_json::Value =
            server.get(&format!("/api/v4/groups/{}/members", group["id"]), &token).json().unwrap();
        assert_eq!(members.as_array().unwrap().len(), 1, "group {} has its owner", group["full_path"]);
    }
}

#[test]
fn admin_commands_work_beside_a_running_server() {
    let server = Server::start();
    let output = server.admin(
        &["create-user", "--username", "bob", "--email", "bob@example.com", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = server.admin(&["create-token", "--username", "bob", "--name", "cli", "--scopes", "api"], None);
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("gpat-") && !token.contains('\n'), "only the token is printed");
    let me: serde_json::Value = server.get("/api/v4/user", &token).json().unwrap();
    assert_eq!(me["username"], "bob");
    let list = server.admin(&["list-users"], None);
    assert!(String::from_utf8_lossy(&list.stdout).contains("bob@example.com"));
    let bad = server.admin(&["create-token", "--username", "bob", "--name", "x", "--scopes", "root"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope 'root'"));
    // bob, the first account, is the administrator; carol is not, and her token may not act as others.
    let carol = server.admin(
        &["create-user", "--username", "carol", "--email", "carol@example.com", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(carol.status.success(), "{}", String::from_utf8_lossy(&carol.stderr));
    let reserved = server.admin(&["create-token", "--username", "carol", "--name", "x", "--scopes", "api,sudo"], None);
    assert!(!reserved.status.success(), "sudo is for administrators' tokens");
    assert!(
        String::from_utf8_lossy(&reserved.stderr).contains("administrators"),
        "{}",
        String::from_utf8_lossy(&reserved.stderr)
    );
}
