//! Gantry's receive-pack hooks. `install` writes two tiny scripts into `<data dir>/hooks` that
//! run `gantry hook pre-receive|post-receive`; receive-pack finds them through
//! `core.hooksPath`, which only Gantry's own receive-pack processes set. The server hands each
//! push its [`PushPolicy`] and a report file in the environment:
//! - pre-receive checks every ref update and refuses the whole push (git then changes nothing
//!   and drops the quarantined objects) if any update is not allowed, saying why on stderr,
//!   which the client prints after `remote:`;
//! - post-receive appends the updates git made to the report file, from which the server
//!   records the push.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::refcheck::{PushPolicy, RefUpdate};

/// The environment variable carrying the push policy (JSON).
pub const POLICY_ENV: &str = "GANTRY_PUSH_POLICY";
/// The environment variable naming the file post-receive reports updates to.
pub const REPORT_ENV: &str = "GANTRY_PUSH_REPORT";

/// Writes the hook scripts calling `program` (the `gantry` binary) into `hooks_dir`.
pub fn install(hooks_dir: &Path, program: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(hooks_dir)?;
    let quoted = format!("'{}'", program.display().to_string().replace('\'', r"'\''"));
    for hook in ["pre-receive", "post-receive"] {
        let script = format!("#!/bin/sh\n# Written by Gantry at start-up; do not edit.\nexec {quoted} hook {hook}\n");
        let staging = hooks_dir.join(format!(".{hook}.new"));
        std::fs::write(&staging, script)?;
        set_executable(&staging)?;
        std::fs::rename(&staging, hooks_dir.join(hook))?;
    }
    Ok(())
}

#[cfg(unix)]
/// Only the server runs the hooks (git, as the server's user): nobody else needs to read them.
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The pre-receive hook: checks each `old new ref` line of `input` against the policy in the
/// environment. Returns the refusals (empty: the push may go on).
pub fn pre_receive(input: impl BufRead, policy_json: Option<&str>, git: &Path) -> Vec<String> {
    let Some(policy) = policy_json.and_then(|json| serde_json::from_str::<PushPolicy>(json).ok()) else {
        return vec!["pushes must go through Gantry (no push policy was given)".to_owned()];
    };
    let mut lines = Vec::new();
    for line in input.lines() {
        let Ok(line) = line else { return vec!["cannot read the ref updates".to_owned()] };
        lines.push(RefUpdate::parse(&line).ok_or(line));
    }
    let updates: Vec<&RefUpdate> = lines.iter().filter_map(|line| line.as_ref().ok()).collect();
    let mut refusals = Vec::new();
    for line in &lines {
        let update = match line {
            Ok(update) => update,
            Err(line) => {
                refusals.push(format!("malformed ref update: {line}"));
                continue;
            }
        };
        // A ref of the same name exists, or this push creates it too.
        let exists = |full: &str| updates.iter().any(|u| u.name == full && u.is_create()) || ref_exists(git, full);
        if let Err(reason) = policy.check(update, || is_ancestor(git, &update.old, &update.new), exists) {
            refusals.push(reason);
        }
    }
    refusals
}

/// Whether the full ref `name` exists in the repository the hook runs in.
fn ref_exists(git: &Path, name: &str) -> bool {
    Command::new(git)
        .args(["show-ref", "--verify", "--quiet", "--end-of-options", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether `old` is an ancestor of `new` (the update is a fast-forward). Run inside the hook,
/// so git's quarantine environment makes the pushed objects visible.
fn is_ancestor(git: &Path, old: &str, new: &str) -> bool {
    Command::new(git)
        .args(["merge-base", "--is-ancestor", old, new])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The post-receive hook: appends the update lines, and the push options (`git push -o …`)
/// as `option <value>` lines, to the report file.
pub fn post_receive(mut input: impl BufRead, options: &[String], report: &Path) -> std::io::Result<()> {
    let mut lines = String::new();
    input.read_to_string(&mut lines)?;
    for option in options {
        lines.push_str("option ");
        lines.push_str(&option.replace('\n', " "));
        lines.push('\n');
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(report)?;
    file.write_all(lines.as_bytes())
}

/// What a post-receive hook reported about one push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    pub updates: Vec<RefUpdate>,
    /// Push options (`ci.skip`, …), each once.
    pub options: Vec<String>,
}

/// Reads a post-receive report (lines that do not parse are skipped).
pub fn read_report(report: &str) -> PushReport {
    let mut result = PushReport::default();
    for line in report.lines() {
        if let Some(option) = line.strip_prefix("option ") {
            if !result.options.iter().any(|o| o == option) {
                result.options.push(option.to_owned());
            }
        } else if let Some(update) = RefUpdate::parse(line) {
            result.updates.push(update);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ZERO_OID;
    use crate::refcheck::BranchRule;

    #[test]
    fn pre_receive_collects_every_refusal() {
        let policy = PushPolicy {
            default_branch: "main".into(),
            protected: vec![BranchRule { pattern: "main".into(), push_allowed: false, allow_force_push: false }],
            protected_tags: Vec::new(),
            group_protected: Vec::new(),
        };
        let json = serde_json::to_string(&policy).unwrap();
        let new = "b".repeat(40);
        let input = format!("{ZERO_OID} {new} refs/heads/main\n{ZERO_OID} {new} refs/heads/topic\nnonsense\n");
        let refusals = pre_receive(input.as_bytes(), Some(&json), Path::new("git"));
        assert_eq!(refusals.len(), 2, "{refusals:?}");
        assert!(refusals[0].contains("protected branch 'main'"));
        assert!(pre_receive(&b""[..], None, Path::new("git"))[0].contains("no push policy"));
        assert!(pre_receive(&b""[..], Some(&json), Path::new("git")).is_empty());
    }

    #[test]
    fn hooks_are_installed_and_report_updates() {
        let dir = tempfile::tempdir().unwrap();
        install(dir.path(), Path::new("/opt/it's here/gantry")).unwrap();
        let script = std::fs::read_to_string(dir.path().join("pre-receive")).unwrap();
        assert!(script.ends_with("exec '/opt/it'\\''s here/gantry' hook pre-receive\n"), "{script}");
        let report = dir.path().join("report");
        let line = format!("{ZERO_OID} {} refs/heads/main\n", "c".repeat(40));
        post_receive(line.as_bytes(), &[], &report).unwrap();
        post_receive(line.as_bytes(), &["ci.skip".to_owned()], &report).unwrap();
        let read = read_report(&std::fs::read_to_string(&report).unwrap());
        assert_eq!(read.updates.len(), 2);
        assert_eq!(read.options, ["ci.skip"]);
    }
}
