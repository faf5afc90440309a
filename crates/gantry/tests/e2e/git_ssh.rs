//! The real `git` and `ssh` clients against Gantry's built-in SSH server: keys added through
//! the API, clone, push, fetch, branches and tags, protected-branch refusals, and what a
//! person sees when they try to log in or run something else.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::git_http::{commit, git_with, refs, repository_path, team};
use crate::server::Server;

/// A new Ed25519 key pair in `dir`; returns the private key's path.
pub(crate) fn key_pair(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    path
}

/// The ssh command git should use with this key.
fn ssh_command(key: &Path) -> String {
    format!(
        "ssh -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
         -o LogLevel=ERROR -o BatchMode=yes",
        key.display()
    )
}

/// Adds the public half of `key` to the account of the token's owner.
fn add_key(server: &Server, api_token: &str, key: &Path) {
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let added = server.post_json("/api/v4/user/keys", api_token, &json!({"title": "laptop", "key": public}));
    assert_eq!(added.status(), 201, "{}", added.text().unwrap());
}

pub(crate) struct SshGit<'a> {
    command: String,
    pub(crate) url: String,
    _server: &'a Server,
}

impl SshGit<'_> {
    pub(crate) fn run(&self, dir: &Path, args: &[&str]) -> (bool, String) {
        let output = git_with(dir, args, &[("GIT_SSH_COMMAND", &self.command)]);
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), printed)
    }

    pub(crate) fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let (ok, printed) = self.run(dir, args);
        assert!(ok, "git {args:?} over SSH failed:\n{printed}");
        printed
    }

    pub(crate) fn fails(&self, dir: &Path, args: &[&str]) -> String {
        let (ok, printed) = self.run(dir, args);
        assert!(!ok, "git {args:?} over SSH should have failed:\n{printed}");
        printed
    }
}

pub(crate) fn ssh_git<'a>(server: &'a Server, key: &Path, path: &str) -> SshGit<'a> {
    SshGit {
        command: ssh_command(key),
        url: format!("ssh://git@127.0.0.1:{}/{path}.git", server.ssh_port),
        _server: server,
    }
}

#[test]
fn clone_push_fetch_and_protected_branches_over_ssh() {
    let server = Server::start();
    let team = team(&server);
    let keys = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let lead_key = key_pair(keys.path(), "lead");
    let dev_key = key_pair(keys.path(), "dev");
    add_key(&server, &server.token("lead", "api"), &lead_key);
    add_key(&server, &server.token("dev", "api"), &dev_key);
    let lead = ssh_git(&server, &lead_key, "acme/api");
    let dev = ssh_git(&server, &dev_key, "acme/api");

    let printed = lead.ok(work.path(), &["clone", &lead.url, "lead"]);
    assert!(printed.contains("empty repository"), "{printed}");
    let lead_dir = work.path().join("lead");
    commit(&lead_dir, "README.md", "# API over SSH\n");
    lead.ok(&lead_dir, &["push", "origin", "main"]);

    dev.ok(work.path(), &["clone", &dev.url, "dev"]);
    let dev_dir = work.path().join("dev");
    assert_eq!(std::fs::read_to_string(dev_dir.join("README.md")).unwrap(), "# API over SSH\n");
    dev.ok(&dev_dir, &["checkout", "-q", "-b", "topic"]);
    commit(&dev_dir, "topic.txt", "topic\n");
    dev.ok(&dev_dir, &["push", "origin", "topic"]);
    dev.ok(&dev_dir, &["tag", "v1"]);
    dev.ok(&dev_dir, &["push", "origin", "v1"]);
    let listed = refs(&server, &team.root, "acme/api");
    assert!(listed.contains("refs/heads/topic") && listed.contains("refs/tags/v1"), "{listed}");
    dev.ok(&dev_dir, &["push", "origin", "--delete", "topic"]);
    commit(&lead_dir, "NEWS", "news\n");
    lead.ok(&lead_dir, &["push", "origin", "main"]);
    dev.ok(&dev_dir, &["fetch", "origin"]);
    let log = dev.ok(&dev_dir, &["log", "--oneline", "origin/main"]);
    assert!(log.contains("change NEWS"), "{log}");

    // The same refusals as over HTTP, with the reason after `remote:`.
    let before = refs(&server, &team.root, "acme/api");
    dev.ok(&dev_dir, &["checkout", "-q", "main"]);
    dev.ok(&dev_dir, &["merge", "-q", "--ff-only", "origin/main"]);
    commit(&dev_dir, "dev.txt", "dev\n");
    let printed = dev.fails(&dev_dir, &["push", "origin", "main"]);
    assert!(
        printed.contains("remote: Gantry: you are not allowed to push code to the protected branch 'main'"),
        "{printed}"
    );
    lead.ok(&lead_dir, &["reset", "-q", "--hard", "HEAD~1"]);
    commit(&lead_dir, "other.txt", "rewritten\n");
    let printed = lead.fails(&lead_dir, &["push", "--force", "origin", "main"]);
    assert!(printed.contains("remote: Gantry: you are not allowed to force-push"), "{printed}");
    let printed = lead.fails(&lead_dir, &["push", "origin", "--delete", "main"]);
    assert!(printed.contains("cannot be deleted"), "{printed}");
    let printed = dev.fails(&dev_dir, &["push", "origin", "HEAD:refs/tags/main"]);
    assert!(printed.contains("remote: Gantry: a branch named 'main' exists already"), "{printed}");
    assert_eq!(refs(&server, &team.root, "acme/api"), before, "refused pushes changed nothing");

    let fsck = git_with(&repository_path(&server, team.project_id), &["fsck", "--no-progress"], &[]);
    assert!(fsck.status.success());
}

#[test]
fn strangers_unknown_keys_logins_and_other_commands_get_clear_answers() {
    let server = Server::start();
    let team = team(&server);
    let keys = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let stranger_token = server.user_token("stranger", "api");
    let stranger_key = key_pair(keys.path(), "stranger");
    add_key(&server, &stranger_token, &stranger_key);
    let unknown_key = key_pair(keys.path(), "unknown");
    let lead_key = key_pair(keys.path(), "lead");
    add_key(&server, &server.token("lead", "api"), &lead_key);

    let stranger = ssh_git(&server, &stranger_key, "acme/api");
    let printed = stranger.fails(work.path(), &["clone", &stranger.url, "nothing"]);
    assert!(printed.contains("could not be found"), "a private project is not found: {printed}");
    let unknown = ssh_git(&server, &unknown_key, "acme/api");
    let printed = unknown.fails(work.path(), &["clone", &unknown.url, "nothing"]);
    assert!(printed.contains("Permission denied (publickey)"), "{printed}");

    let ssh = |key: &Path, extra: &[&str]| {
        let mut command = Command::new("ssh");
        command
            .args(["-i"])
            .arg(key)
            .args(["-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-p", &server.ssh_port.to_string()])
            .arg("git@127.0.0.1")
            .args(extra);
        let output = command.output().expect("ssh runs");
        (
            output.status.code(),
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
        )
    };
    let (code, printed) = ssh(&lead_key, &["-T"]);
    assert_eq!(code, Some(0), "{printed}");
    assert!(
        printed.contains("Welcome to Gantry, @lead!") && printed.contains("does not provide shell access"),
        "{printed}"
    );
    let (code, printed) = ssh(&lead_key, &["ls", "-la"]);
    assert_eq!(code, Some(1));
    assert!(printed.contains("Gantry only serves git over SSH"), "{printed}");
    let (code, printed) = ssh(&lead_key, &["git-upload-pack", "'/acme/../etc.git'"]);
    assert_eq!(code, Some(1));
    assert!(printed.contains("could not be found"), "{printed}");

    // A blocked user's key stops working.
    let users: serde_json::Value = server.get("/api/v4/users?username=lead", &team.root).json().unwrap();
    let blocked = server.post_json(&format!("/api/v4/users/{}/block", users[0]["id"]), &team.root, &json!({}));
    assert!(blocked.status().is_success());
    let (code, printed) = ssh(&lead_key, &["-T"]);
    assert_ne!(code, Some(0));
    assert!(printed.contains("Permission denied"), "{printed}");
}
