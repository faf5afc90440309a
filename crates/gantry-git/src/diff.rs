//! Diffs of a commit (against its first parent) or between two revisions, from
//! `git diff-tree`/`git diff` with rename detection, parsed into files, hunks and numbered
//! lines. The output read is capped, so a huge diff is cut off (and said to be) rather than
//! loaded whole.

use std::process::Stdio;

use crate::RepoId;
use tokio::io::AsyncReadExt;

use crate::command::{GitError, git};
use crate::storage::Repositories;

/// At most this much diff text is read.
pub const DIFF_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `' '` context, `'+'` added, `'-'` removed, `'\\'` "no newline at end of file".
    pub kind: char,
    pub old_number: Option<u32>,
    pub new_number: Option<u32>,
    pub text: String,
}

/// A hunk: its `@@ … @@` header and lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// The changes to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub old_path: String,
    pub new_path: String,
    pub status: FileStatus,
    pub binary: bool,
    pub additions: usize,
    pub deletions: usize,
    pub hunks: Vec<Hunk>,
}

/// The files a diff touches; `truncated` when the diff was larger than the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub files: Vec<FileDiff>,
    pub truncated: bool,
}

impl Diff {
    pub fn additions(&self) -> usize {
        self.files.iter().map(|f| f.additions).sum()
    }

    pub fn deletions(&self) -> usize {
        self.files.iter().map(|f| f.deletions).sum()
    }
}

fn is_object_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Repositories {
    /// What a commit changed, compared with its first parent (everything, for a root commit).
    pub async fn commit_diff(&self, id: impl Into<RepoId>, commit: &str) -> Result<Diff, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(commit) {
            return Err(GitError::Read(format!("'{commit}' is not a commit id")));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args([
            "-c",
            "core.quotePath=false",
            "diff-tree",
            "-p",
            "-r",
            "-M",
            "--root",
            "--no-color",
            "--no-ext-diff",
        ]);
        command.arg("--first-parent").arg(commit);
        diff_output(command).await
    }

    /// What changed from `from` to `to`, as GitLab's compare shows it: since their merge base.
    pub async fn compare_diff(&self, id: impl Into<RepoId>, from: &str, to: &str) -> Result<Diff, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(from) || !is_object_id(to) {
            return Err(GitError::Read("compare needs two commit ids".to_owned()));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["-c", "core.quotePath=false", "diff", "-M", "--no-color", "--no-ext-diff"]);
        command.arg(format!("{from}...{to}"));
        diff_output(command).await
    }
}

async fn diff_output(mut command: tokio::process::Command) -> Result<Diff, GitError> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().map_err(GitError::Spawn)?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut text = Vec::new();
    stdout.take(DIFF_LIMIT_BYTES as u64 + 1).read_to_end(&mut text).await?;
    let truncated = text.len() > DIFF_LIMIT_BYTES;
    if truncated {
        let _ = child.kill().await;
        text.truncate(DIFF_LIMIT_BYTES);
        // Keep whole lines only.
        if let Some(end) = text.iter().rposition(|b| *b == b'\n') {
            text.truncate(end + 1);
        }
    } else {
        let status = child.wait().await?;
        if !status.success() {
            return Err(GitError::Read("git could not compute the diff".to_owned()));
        }
    }
    let mut diff = parse(&String::from_utf8_lossy(&text));
    diff.truncated = truncated;
    Ok(diff)
}

/// Parses `git diff` output (with `core.quotePath=false`).
pub fn parse(text: &str) -> Diff {
    let mut files: Vec<FileDiff> = Vec::new();
    let (mut old_number, mut new_number) = (0u32, 0u32);
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("diff --git ") {
            let (old, new) = split_header(header);
            files.push(FileDiff {
                old_path: old,
                new_path: new,
                status: FileStatus::Modified,
                binary: false,
                additions: 0,
                deletions: 0,
                hunks: Vec::new(),
            });
            continue;
        }
        let Some(file) = files.last_mut() else { continue };
        if file.hunks.is_empty() {
            if line.starts_with("new file mode") {
                file.status = FileStatus::Added;
            } else if line.starts_with("deleted file mode") {
                file.status = FileStatus::Deleted;
            } else if let Some(path) = line.strip_prefix("rename from ") {
                file.status = FileStatus::Renamed;
                file.old_path = path.to_owned();
            } else if let Some(path) = line.strip_prefix("rename to ") {
                file.new_path = path.to_owned();
            } else if let Some(path) = line.strip_prefix("--- a/") {
                file.old_path = path.to_owned();
            } else if let Some(path) = line.strip_prefix("+++ b/") {
                file.new_path = path.to_owned();
            } else if line.starts_with("Binary files ") || line == "GIT binary patch" {
                file.binary = true;
            }
        }
        if let Some(rest) = line.strip_prefix("@@ ") {
            let (old_start, new_start) = hunk_starts(rest);
            old_number = old_start;
            new_number = new_start;
            file.hunks.push(Hunk { header: line.to_owned(), lines: Vec::new() });
            continue;
        }
        let Some(hunk) = file.hunks.last_mut() else { continue };
        let (kind, text) = match line.chars().next() {
            Some(kind @ (' ' | '+' | '-' | '\\')) => (kind, &line[1..]),
            _ => continue,
        };
        let (old, new) = match kind {
            '+' => {
                file.additions += 1;
                new_number += 1;
                (None, Some(new_number - 1))
            }
            '-' => {
                file.deletions += 1;
                old_number += 1;
                (Some(old_number - 1), None)
            }
            ' ' => {
                old_number += 1;
                new_number += 1;
                (Some(old_number - 1), Some(new_number - 1))
            }
            _ => (None, None),
        };
        hunk.lines.push(DiffLine { kind, old_number: old, new_number: new, text: text.to_owned() });
    }
    Diff { files, truncated: false }
}

/// `a/old b/new` of a `diff --git` line (unambiguous when both are the same path).
fn split_header(header: &str) -> (String, String) {
    let header = header.strip_prefix("a/").unwrap_or(header);
    let half = header.len() / 2;
    if header.len() > 3 && header.is_char_boundary(half) && header[half..].starts_with(" b/") {
        let old = &header[..half];
        if header[half + 3..] == *old {
            return (old.to_owned(), old.to_owned());
        }
    }
    match header.split_once(" b/") {
        Some((old, new)) => (old.to_owned(), new.to_owned()),
        None => (header.to_owned(), header.to_owned()),
    }
}

/// The first old and new line numbers of `-12,5 +14,6 @@`.
fn hunk_starts(rest: &str) -> (u32, u32) {
    let mut parts = rest.split_whitespace();
    let number = |part: Option<&str>, sign: char| {
        part.and_then(|p| p.strip_prefix(sign))
            .and_then(|p| p.split(',').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let old = number(parts.next(), '-');
    let new = number(parts.next(), '+');
    (old.max(1), new.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "diff --git a/src/lib.rs b/src/lib.rs
index 1111111..2222222 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,4 @@ fn main
 keep
-old
+new
+more
 end
\\ No newline at end of file
diff --git a/new file.txt b/new file.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new file.txt
@@ -0,0 +1 @@
+hello
diff --git a/img.png b/img.png
index 4444444..5555555 100644
Binary files a/img.png and b/img.png differ
diff --git a/old.txt b/renamed.txt
similarity index 100%
rename from old.txt
rename to renamed.txt
";

    #[test]
    fn parses_files_hunks_and_line_numbers() {
        let diff = parse(SAMPLE);
        assert_eq!(diff.files.len(), 4);
        let lib = &diff.files[0];
        assert_eq!(
            (lib.new_path.as_str(), lib.status, lib.additions, lib.deletions),
            ("src/lib.rs", FileStatus::Modified, 2, 1)
        );
        let lines = &lib.hunks[0].lines;
        assert_eq!((lines[0].old_number, lines[0].new_number), (Some(1), Some(1)));
        assert_eq!((lines[1].kind, lines[1].old_number, lines[1].new_number), ('-', Some(2), None));
        assert_eq!((lines[3].kind, lines[3].new_number), ('+', Some(3)));
        assert_eq!((lines[4].old_number, lines[4].new_number), (Some(3), Some(4)));
        assert_eq!(lines[5].kind, '\\');
        let added = &diff.files[1];
        assert_eq!((added.new_path.as_str(), added.status, added.additions), ("new file.txt", FileStatus::Added, 1));
        assert_eq!(added.hunks[0].lines[0].new_number, Some(1));
        assert!(diff.files[2].binary);
        let renamed = &diff.files[3];
        assert_eq!(
            (renamed.old_path.as_str(), renamed.new_path.as_str(), renamed.status),
            ("old.txt", "renamed.txt", FileStatus::Renamed)
        );
        assert_eq!((diff.additions(), diff.deletions()), (3, 1));
    }
}
