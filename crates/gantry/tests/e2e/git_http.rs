//! The real `git` client against a real `gantry serve` over smart HTTP: clone, push, fetch,
//! branches and tags, protected branches, tokens and their scopes, anonymous access,
//! concurrent pushes, an interrupted push, and malformed requests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

use crate::server::Server;

/// Runs the `git` client with no configuration of this machine's and no prompts.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    git_with(dir, args, &[])
}

/// [`git`] with extra environment variables (such as `GIT_SSH_COMMAND`).
pub fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new("git")
        .args(["-c", "user.name=E2E", "-c", "user.email=e2e@example.com", "-c", "init.defaultBranch=main"])
        .args(["-c", "credential.helper=", "-c", "protocol.version=2"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("LC_ALL", "C")
        .envs(env.iter().copied())
        .output()
        .expect("git runs")
}

/// Runs git and insists that it succeeds; returns what it printed.
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let output = git(dir, args);
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "git {args:?} failed:\n{printed}");
    printed
}

/// Runs git and insists that it fails; returns what it printed.
pub fn git_fails(dir: &Path, args: &[&str]) -> String {
    let output = git(dir, args);
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "git {args:?} should have failed:\n{printed}");
    printed
}

/// `http://user:token@host/path.git`
pub fn url(server: &Server, user: &str, token: &str, path: &str) -> String {
    let host = server.base_url.trim_start_matches("http://");
    format!("http://{user}:{token}@{host}/{path}.git")
}

/// The refs of the server's copy, as `git ls-remote` prints them.
pub fn refs(server: &Server, token: &str, path: &str) -> String {
    git_ok(Path::new("."), &["ls-remote", &url(server, "root", token, path)])
}

pub fn commit(dir: &Path, file: &str, content: &str) {
    std::fs::write(dir.join(file), content).unwrap();
    git_ok(dir, &["add", file]);
    git_ok(dir, &["commit", "-q", "-m", &format!("change {file}")]);
}

pub struct Team {
    pub root: String,
    pub lead: String,
    pub dev: String,
    pub reader: String,
    pub project_id: i64,
}

/// A private project `acme/api` with a Maintainer (lead), a Developer (dev) and a Developer
/// whose token may only read (reader).
pub fn team(server: &Server) -> Team {
    let root = server.admin_token("root");
    let lead = server.user_token("lead", "write_repository");
    let dev = server.user_token("dev", "write_repository");
    let reader = server.user_token("reader", "read_repository");
    let group: serde_json::Value = server.post_json("/api/v4/groups", &root, &json!({"name": "Acme"})).json().unwrap();
    let project: serde_json::Value = server
        .post_json("/api/v4/projects", &root, &json!({"name": "API", "namespace_id": group["id"]}))
        .json()
        .unwrap();
    let project_id = project["id"].as_i64().expect("project created");
    for (user, level) in [("lead", 40), ("dev", 30), ("reader", 30)] {
        let users: serde_json::Value = server.get(&format!("/api/v4/users?username={user}"), &root).json().unwrap();
        let body = json!({"user_id": users[0]["id"], "access_level": level});
        let added = server.post_json(&format!("/api/v4/projects/{project_id}/members"), &root, &body);
        assert_eq!(added.status(), 201);
    }
    Team { root, lead, dev, reader, project_id }
}

pub fn repository_path(server: &Server, id: i64) -> PathBuf {
    gantry_git::Repositories::new(server.data_dir(), "git").path(gantry_types::ProjectId(id))
}

#[test]
fn clone_push_fetch_branches_tags_and_protected_branches_over_http() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    let lead_url = url(&server, "lead", &team.lead, "acme/api");
    let dev_url = url(&server, "dev", &team.dev, "acme/api");

    // An empty project clones; its Maintainer pushes the first commit to the protected default branch.
    let printed = git_ok(work.path(), &["clone", &lead_url, "lead"]);
    assert!(printed.contains("empty repository"), "{printed}");
    let lead = work.path().join("lead");
    commit(&lead, "README.md", "# API\n");
    git_ok(&lead, &["push", "origin", "main"]);
    let project: serde_json::Value =
        server.get(&format!("/api/v4/projects/{}", team.project_id), &team.root).json().unwrap();
    assert_eq!(project["empty_repo"], false);

    // A Developer clones, pushes a branch and a tag, deletes the branch, fetches.
    git_ok(work.path(), &["clone", &dev_url, "dev"]);
    let dev = work.path().join("dev");
    assert_eq!(std::fs::read_to_string(dev.join("README.md")).unwrap(), "# API\n");
    git_ok(&dev, &["checkout", "-q", "-b", "topic"]);
    commit(&dev, "topic.txt", "topic\n");
    git_ok(&dev, &["push", "origin", "topic"]);
    git_ok(&dev, &["tag", "v0.1"]);
    git_ok(&dev, &["push", "origin", "v0.1"]);
    let listed = refs(&server, &team.root, "acme/api");
    assert!(listed.contains("refs/heads/topic") && listed.contains("refs/tags/v0.1"), "{listed}");
    git_ok(&dev, &["push", "origin", "--delete", "topic"]);
    assert!(!refs(&server, &team.root, "acme/api").contains("refs/heads/topic"));
    commit(&lead, "CHANGELOG.md", "0.1\n");
    git_ok(&lead, &["push", "origin", "main"]);
    git_ok(&dev, &["fetch", "origin"]);
    git_ok(&dev, &["checkout", "-q", "main"]);
    git_ok(&dev, &["merge", "-q", "--ff-only", "origin/main"]);
    assert!(dev.join("CHANGELOG.md").exists(), "fetch brought the new commit");

    // Protected main: a Developer's push, anyone's force-push and deletion are refused with a
    // message after `remote:`, and nothing changes.
    let before = refs(&server, &team.root, "acme/api");
    commit(&dev, "dev.txt", "dev\n");
    let printed = git_fails(&dev, &["push", "origin", "main"]);
    assert!(
        printed.contains("remote: Gantry: you are not allowed to push code to the protected branch 'main'"),
        "{printed}"
    );
    git_ok(&lead, &["reset", "-q", "--hard", "HEAD~1"]);
    commit(&lead, "other.txt", "rewritten history\n");
    let printed = git_fails(&lead, &["push", "--force", "origin", "main"]);
    assert!(printed.contains("remote: Gantry: you are not allowed to force-push"), "{printed}");
    let printed = git_fails(&lead, &["push", "origin", "--delete", "main"]);
    assert!(printed.contains("remote: Gantry: the default branch 'main' cannot be deleted"), "{printed}");
    let printed = git_fails(&dev, &["push", "origin", "HEAD:refs/notes/commits"]);
    assert!(printed.contains("only branches"), "{printed}");
    assert_eq!(refs(&server, &team.root, "acme/api"), before, "refused pushes changed nothing");
    // A protected branch other than the default one: Maintainers push to it, nobody deletes it
    // by pushing.
    let rule = json!({"name": "release/*", "push_access_level": 40, "merge_access_level": 40});
    let protected =
        server.post_json(&format!("/api/v4/projects/{}/protected_branches", team.project_id), &team.root, &rule);
    assert_eq!(protected.status(), 201);
    git_ok(&lead, &["push", "origin", "origin/main:refs/heads/release/1"]);
    let printed = git_fails(&dev, &["push", "origin", "--delete", "release/1"]);
    assert!(printed.contains("remote: Gantry: you cannot delete the protected branch 'release/1'"), "{printed}");
    assert!(
        refs(&server, &team.root, "acme/api").contains("refs/heads/release/1"),
        "the refused deletion changed nothing"
    );

    // A Maintainer's fast-forward goes through.
    git_ok(&lead, &["fetch", "-q", "origin"]);
    git_ok(&lead, &["reset", "-q", "--hard", "origin/main"]);
    commit(&lead, "more.txt", "more\n");
    git_ok(&lead, &["push", "origin", "main"]);

    // A read-only token clones but cannot push.
    let reader_url = url(&server, "reader", &team.reader, "acme/api");
    git_ok(work.path(), &["clone", "-q", &reader_url, "reader"]);
    let reader = work.path().join("reader");
    git_ok(&reader, &["checkout", "-q", "-b", "reader-branch"]);
    let printed = git_fails(&reader, &["push", "origin", "reader-branch"]);
    assert!(printed.contains("write_repository"), "{printed}");

    let fsck = git_ok(&repository_path(&server, team.project_id), &["fsck", "--no-progress"]);
    assert!(!fsck.contains("error"), "{fsck}");
}

#[test]
fn a_branch_and_a_tag_never_share_a_name_and_a_name_is_a_branch_first() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    let lead_url = url(&server, "lead", &team.lead, "acme/api");
    git_ok(work.path(), &["clone", "-q", &lead_url, "lead"]);
    let lead = work.path().join("lead");
    commit(&lead, "README.md", "the branch\n");
    git_ok(&lead, &["push", "-q", "origin", "main"]);
    git_ok(&lead, &["tag", "v1"]);
    git_ok(&lead, &["push", "-q", "origin", "v1"]);
    let before = refs(&server, &team.root, "acme/api");

    // Over git: a tag named like a branch, a branch named like a tag, and names that read as
    // something else are refused with the reason after `remote:`.
    let dev_url = url(&server, "dev", &team.dev, "acme/api");
    git_ok(&lead, &["remote", "add", "dev", &dev_url]);
    for (refspec, reason) in [
        ("HEAD:refs/tags/main", "a branch named 'main' exists already"),
        ("HEAD:refs/tags/main/scripts", "a branch named 'main' exists already"),
        ("HEAD:refs/heads/v1", "a tag named 'v1' exists already"),
        ("HEAD:refs/heads/HEAD", "a branch cannot be named HEAD"),
        ("HEAD:refs/heads/refs/heads/x", "a branch name cannot start with refs/"),
    ] {
        let printed = git_fails(&lead, &["push", "dev", refspec]);
        assert!(printed.contains(&format!("remote: Gantry: {reason}")), "{refspec}: {printed}");
    }
    let hex = format!("HEAD:refs/heads/{}", "a".repeat(40));
    assert!(git_fails(&lead, &["push", "dev", &hex]).contains("named like a commit id"));
    assert_eq!(refs(&server, &team.root, "acme/api"), before, "refused pushes changed nothing");

    // Over the API, the same.
    let project = format!("/api/v4/projects/{}/repository", team.project_id);
    let tag = server.post_json(&format!("{project}/tags"), &team.root, &json!({"tag_name": "main", "ref": "main"}));
    assert!(tag.status().is_client_error(), "{}", tag.status());
    let said = tag.text().unwrap();
    assert!(said.contains("a branch named 'main' exists already"), "{said}");
    let branch =
        server.post_json(&format!("{project}/branches"), &team.root, &json!({"branch": "HEAD", "ref": "main"}));
    assert!(branch.status().is_client_error(), "{}", branch.status());

    // A repository changed by hand can still hold both: every ref parameter then means the branch.
    let bare = repository_path(&server, team.project_id);
    let tree = git_ok(&bare, &["rev-parse", "main^{tree}"]);
    let other = git_ok(&bare, &["commit-tree", tree.trim(), "-m", "the tag's commit"]);
    git_ok(&bare, &["update-ref", "refs/tags/main", other.trim()]);
    let branch_head = git_ok(&bare, &["rev-parse", "refs/heads/main"]);
    let commits: serde_json::Value =
        server.get(&format!("{project}/commits?ref_name=main"), &team.root).json().unwrap();
    assert_eq!(commits[0]["id"], branch_head.trim(), "{commits}");
    let commit: serde_json::Value = server.get(&format!("{project}/commits/main"), &team.root).json().unwrap();
    assert_eq!(commit["id"], branch_head.trim());
    let raw = server.get(&format!("{project}/files/README.md/raw?ref=main"), &team.root);
    assert_eq!(raw.text().unwrap(), "the branch\n");
    let created =
        server.post_json(&format!("{project}/branches"), &team.root, &json!({"branch": "from-main", "ref": "main"}));
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().unwrap();
    assert_eq!(created["commit"]["id"], branch_head.trim());
}

#[test]
fn anonymous_clients_clone_public_projects_and_are_asked_to_sign_in_for_private_ones() {
    let server = Server::start();
    let root = server.admin_token("root");
    for (name, visibility) in [("open", "public"), ("closed", "private")] {
        let body = json!({"name": name, "visibility": visibility, "initialize_with_readme": true});
        assert_eq!(server.post_json("/api/v4/projects", &root, &body).status(), 201);
    }
    let work = tempfile::tempdir().unwrap();
    let host = server.base_url.trim_start_matches("http://");
    git_ok(work.path(), &["clone", &format!("http://{host}/root/open.git"), "open"]);
    assert!(work.path().join("open/README.md").exists(), "the README commit came along");
    // Without `.git` too, as GitLab allows; and with the original protocol (v0).
    git_ok(work.path(), &["clone", "-q", &format!("http://{host}/root/open"), "open-again"]);
    git_ok(
        work.path(),
        &["-c", "protocol.version=0", "clone", "-q", &format!("http://{host}/root/open.git"), "open-v0"],
    );
    assert!(work.path().join("open-v0/README.md").exists(), "a protocol v0 clone works");

    let printed = git_fails(work.path(), &["clone", &format!("http://{host}/root/closed.git"), "closed"]);
    assert!(printed.contains("could not read Username"), "git was asked for credentials: {printed}");
    let printed = git_fails(work.path(), &["clone", &format!("http://{host}/root/missing.git"), "missing"]);
    assert!(printed.contains("could not read Username"), "a missing project looks the same: {printed}");
    let response = crate::http_client()
        .build()
        .unwrap()
        .get(format!("{}/root/closed.git/info/refs?service=git-upload-pack", server.base_url))
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Basic realm=\"Gantry\"");

    // Anonymous pushes to a public project are asked to sign in; a wrong token is refused.
    git_ok(&work.path().join("open"), &["checkout", "-q", "-b", "anon"]);
    let printed = git_fails(&work.path().join("open"), &["push", "origin", "anon"]);
    assert!(printed.contains("could not read Username"), "{printed}");
    let printed = git_fails(work.path(), &["clone", &url(&server, "root", "gpat-wrong", "root/closed"), "wrong"]);
    assert!(printed.contains("Authentication failed"), "{printed}");
    // The password works as well as a token.
    let with_password = url(&server, "root", "a%20long%20password", "root/closed");
    git_ok(work.path(), &["clone", "-q", &with_password, "closed"]);
}

#[test]
fn eight_concurrent_pushes_land_and_an_interrupted_push_changes_nothing() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    let lead_url = url(&server, "lead", &team.lead, "acme/api");
    git_ok(work.path(), &["clone", "-q", &lead_url, "seed"]);
    commit(&work.path().join("seed"), "README.md", "seed\n");
    git_ok(&work.path().join("seed"), &["push", "-q", "origin", "main"]);

    let pushes: Vec<_> = (0..8)
        .map(|n| {
            let dir = work.path().join(format!("clone{n}"));
            git_ok(work.path(), &["clone", "-q", &lead_url, dir.to_str().unwrap()]);
            std::thread::spawn(move || {
                git_ok(&dir, &["checkout", "-q", "-b", &format!("branch{n}")]);
                commit(&dir, &format!("file{n}.txt"), &format!("{n}\n"));
                git_ok(&dir, &["push", "-q", "origin", &format!("branch{n}")]);
            })
        })
        .collect();
    for push in pushes {
        push.join().expect("every push succeeds");
    }
    let listed = refs(&server, &team.root, "acme/api");
    for n in 0..8 {
        assert!(listed.contains(&format!("refs/heads/branch{n}")), "branch{n} landed: {listed}");
    }

    // A client that goes away in the middle of sending its pack.
    let before = refs(&server, &team.root, "acme/api");
    let head = before.lines().find(|l| l.ends_with("refs/heads/main")).unwrap().split('\t').next().unwrap().to_owned();
    let mut request = Vec::new();
    let command = format!("{head} {} refs/heads/main\0report-status\n", "1".repeat(40));
    request.extend_from_slice(format!("{:04x}{command}0000PACK\0\0\0\x02\0\0\0\x05", command.len() + 4).as_bytes());
    request.extend_from_slice(&[0x9c; 4096]);
    let basic = base64_credentials("lead", &team.lead);
    let mut stream = std::net::TcpStream::connect(server.base_url.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /acme/api.git/git-receive-pack HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n\
         Content-Type: application/x-git-receive-pack-request\r\nContent-Length: 10000000\r\n\r\n"
    )
    .unwrap();
    stream.write_all(&request).unwrap();
    // The client stops sending; the server has done all it will once it closes its side.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut answer);
    assert_eq!(refs(&server, &team.root, "acme/api"), before, "refs unchanged");
    let fsck = git_ok(&repository_path(&server, team.project_id), &["fsck", "--no-progress"]);
    assert!(!fsck.contains("error"), "{fsck}");
}

fn base64_credentials(user: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
}

#[test]
fn malformed_git_requests_get_clear_errors() {
    let server = Server::start();
    let team = team(&server);
    let client = crate::http_client().build().unwrap();
    let base = format!("{}/acme/api.git", server.base_url);
    let auth = |request: reqwest::blocking::RequestBuilder| request.basic_auth("lead", Some(&team.lead));

    let unknown = auth(client.get(format!("{base}/info/refs?service=git-upload-archive"))).send().unwrap();
    assert_eq!(unknown.status(), 403);
    assert!(unknown.text().unwrap().contains("unknown git service"));
    let dumb = auth(client.get(format!("{base}/info/refs"))).send().unwrap();
    assert_eq!(dumb.status(), 403);
    assert!(dumb.text().unwrap().contains("smart HTTP"));

    let post = |body: &'static [u8], content_type: &str| {
        auth(client.post(format!("{base}/git-upload-pack")))
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap()
    };
    let garbage = post(b"this is not a pkt-line", "application/x-git-upload-pack-request");
    assert_eq!(garbage.status(), 400);
    assert!(garbage.text().unwrap().contains("malformed git request"));
    assert_eq!(post(b"0000", "application/json").status(), 415);
    let gzip_lie = auth(client.post(format!("{base}/git-upload-pack")))
        .header("content-type", "application/x-git-upload-pack-request")
        .header("content-encoding", "gzip")
        .body(&b"0000not gzip"[..])
        .send()
        .unwrap();
    assert_eq!(gzip_lie.status(), 400);
    let basic = base64_credentials("lead", &team.lead);
    let mut stream = std::net::TcpStream::connect(server.base_url.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /acme/api.git/git-upload-pack HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n\
         Content-Type: application/x-git-upload-pack-request\r\nContent-Length: 999999999999\r\n\r\n"
    )
    .unwrap();
    let mut answer = [0u8; 12];
    std::io::Read::read_exact(&mut stream, &mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413", "too large is refused before the body is read");
    // Sent as written (an HTTP client library would tidy these paths up first).
    for path in ["/acme/../acme/api.git", "/acme/api%00.git", "/acme/%2e%2e/api.git", "/acme//api.git"] {
        let mut stream = std::net::TcpStream::connect(server.base_url.trim_start_matches("http://")).unwrap();
        write!(
            stream,
            "GET {path}/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n\
             Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 4"), "{path}: {answer}");
    }
    let long = format!("{}/{}.git/info/refs?service=git-upload-pack", server.base_url, "a".repeat(5000));
    assert!(auth(client.get(long)).send().unwrap().status().is_client_error());
}
