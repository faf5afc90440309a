//! Memory an outsider can make the server spend stays bounded: a flood of failed sign-ins with
//! long and huge usernames (15 and 900 KiB in the form, 200 KiB over Basic authentication), and
//! many clients reading a 300 MB repository file and a 60 MiB file out of an artifacts archive
//! at once, each grow the server's resident memory by under 50 MB.

use std::io::Read;
use std::time::Duration;

use serde_json::json;

use crate::ci_pipelines::{encoded, finished, jobs, push_project, wait_for_pipeline};
use crate::git_http::{git_ok, url};
use crate::server::Server;

/// How much the server's resident memory may grow under each load.
const GROWTH_LIMIT_KB: u64 = 50 * 1024;

/// A field of `/proc/<pid>/status`, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `load` and returns how far the server's peak resident memory rose above what it held
/// before, in kB (the peak is reset first).
fn growth_during(server: &Server, load: impl FnOnce()) -> u64 {
    let pid = server.pid();
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("the peak can be reset");
    let before = status_kb(pid, "VmRSS:");
    load();
    status_kb(pid, "VmHWM:").saturating_sub(before)
}

/// `clients` threads each fetching `path` with `token`, checking they got `size` bytes.
fn fetch_in_parallel(server: &Server, token: &str, path: &str, clients: usize, size: u64) {
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                let client = crate::http_client().timeout(Duration::from_secs(300)).build().unwrap();
                let mut response =
                    client.get(format!("{}{path}", server.base_url)).header("PRIVATE-TOKEN", token).send().unwrap();
                assert_eq!(response.status(), 200, "{path}");
                let mut buffer = vec![0; 1 << 16];
                let mut total = 0u64;
                loop {
                    let read = response.read(&mut buffer).unwrap();
                    if read == 0 {
                        break;
                    }
                    total += read as u64;
                }
                assert_eq!(total, size, "{path}");
            });
        }
    });
}

#[test]
fn a_flood_of_failed_sign_ins_with_huge_usernames_keeps_memory_bounded() {
    let server = Server::start();
    let token = server.admin_token("root");
    push_project(&server, &token, "target", &[("README.md", "hi\n")]);
    let huge = "u".repeat(900 * 1024);
    // A request head is capped at about 400 KiB, so Basic authentication carries a smaller
    // name: over the cap, the server answers before reading the whole head and a client still
    // sending it may see the connection close instead of the answer.
    let large = "u".repeat(200 * 1024);
    let grown = growth_during(&server, || {
        // A fresh connection each time: the server closes one whose body it refused unread.
        let client = crate::http_client().timeout(Duration::from_secs(30)).pool_max_idle_per_host(0).build().unwrap();
        for attempt in 0..300 {
            let name = format!("{huge}{attempt}");
            // git's Basic authentication and the sign-in form both check the password.
            let response = client
                .get(format!("{}/root/target.git/info/refs?service=git-upload-pack", server.base_url))
                .basic_auth(format!("{large}{attempt}"), Some("wrong password"))
                .send()
                .unwrap();
            assert!(response.status().is_client_error(), "{}", response.status());
            // The names are letters and digits: nothing in the form needs escaping. A name that
            // fits the form's size limit reaches the sign-in check; a 900 KiB one is refused
            // (413) before the server reads it all, and may find the connection closed while
            // it is still being sent.
            let sign_in = |login: &str| {
                client
                    .post(format!("{}/users/sign_in", server.base_url))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("login={login}&password=wrong+password"))
                    .send()
            };
            let response = sign_in(&format!("{}{attempt}", &large[..15 * 1024])).unwrap();
            assert!(response.status().is_client_error() || response.status().is_success(), "{}", response.status());
            match sign_in(&name) {
                Ok(response) => assert_eq!(response.status(), 413),
                Err(error) => assert!(error.is_request(), "{error}"),
            }
        }
    });
    assert!(grown < GROWTH_LIMIT_KB, "300 failed sign-ins grew the server by {grown} kB");
}

#[test]
fn many_clients_reading_large_files_keep_memory_bounded() {
    let server = Server::start();
    let token = server.admin_token("root");
    let created = server.post_json("/api/v4/projects", &token, &json!({"name": "large", "visibility": "public"}));
    assert_eq!(created.status(), 201);
    let project: serde_json::Value = created.json().unwrap();
    let path = project["path_with_namespace"].as_str().unwrap().to_owned();
    let id = project["id"].as_i64().unwrap();

    // A 300 MB file (zeros: the push is small, the file is not) and a job whose artifacts hold
    // a 60 MiB one.
    let work = tempfile::tempdir().unwrap();
    git_ok(work.path(), &["init", "-q", "-b", "main"]);
    let big = 300_000_000u64;
    let file = std::fs::File::create(work.path().join("big.bin")).unwrap();
    file.set_len(big).unwrap();
    let ci = "make:\n  script:\n    - head -c 62914560 /dev/zero > out.bin\n  artifacts:\n    paths: [out.bin]\n";
    std::fs::write(work.path().join(".gitlab-ci.yml"), ci).unwrap();
    git_ok(work.path(), &["add", "-A"]);
    git_ok(work.path(), &["commit", "-q", "-m", "a large file"]);
    git_ok(work.path(), &["push", "-q", &url(&server, "root", &token, &path), "main"]);
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    assert_eq!(done["status"], "success", "{done}");
    let job = jobs(&server, &token, &path, done["id"].as_i64().unwrap())[0]["id"].as_i64().unwrap();

    let grown = growth_during(&server, || {
        fetch_in_parallel(
            &server,
            &token,
            &format!("/api/v4/projects/{id}/repository/files/big.bin/raw?ref=main"),
            8,
            big,
        );
    });
    assert!(grown < GROWTH_LIMIT_KB, "8 clients reading a 300 MB file grew the server by {grown} kB");
    let grown = growth_during(&server, || {
        fetch_in_parallel(&server, &token, &format!("/{path}/-/raw/main/big.bin"), 4, big);
        fetch_in_parallel(
            &server,
            &token,
            &format!("/api/v4/projects/{}/jobs/{job}/artifacts/out.bin", encoded(&path)),
            8,
            62_914_560,
        );
    });
    assert!(grown < GROWTH_LIMIT_KB, "clients reading large files grew the server by {grown} kB");
}
