//! Searching a repository for text: file contents at a commit (`git grep`, literal and
//! case-insensitive, a few lines of context around each match, as GitLab's code search shows)
//! and commit messages (`git log --grep`). Each search has a time limit (the child is killed
//! when it passes) and bounded output: at most so many hits, lines cut to a length, so a
//! search costs the same whatever the repository holds.

use std::process::Stdio;
use std::time::Duration;

use crate::RepoId;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use crate::command::{GitError, git};
use crate::storage::Repositories;

/// Lines of context shown before and after a matching line.
pub const CONTEXT_LINES: u32 = 2;
/// A line of a hit is cut to this many bytes (minified files have lines of megabytes).
const LINE_LIMIT: usize = 400;
/// Matches taken from one file (`git grep --max-count`).
const MATCHES_PER_FILE: u32 = 20;

/// How much a search may cost.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// Hits (blob chunks or commits) kept; the search stops at this many.
    pub max_hits: usize,
    /// Bytes of text kept over all hits.
    pub max_bytes: usize,
    /// Wall-clock time the git process may run.
    pub time: Duration,
}

/// Consecutive lines of one file around one or more matches: GitLab's blob search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHit {
    /// From the root of the tree.
    pub path: String,
    /// The number of the first line (1-based).
    pub startline: u32,
    /// The lines, each without its newline.
    pub lines: Vec<String>,
}

impl BlobHit {
    /// The lines as one text, each ending with a newline (GitLab's `data`).
    pub fn data(&self) -> String {
        let mut data = String::new();
        for line in &self.lines {
            data.push_str(line);
            data.push('\n');
        }
        data
    }
}

/// What a search found, and whether it saw everything (false when it stopped at a limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub hits: Vec<T>,
    pub complete: bool,
}

impl Repositories {
    /// The chunks of files at `commit` (a full commit id) whose lines contain `needle`, ignoring
    /// ASCII case; binary files are skipped.
    pub async fn grep_blobs(
        &self,
        id: impl Into<RepoId>,
        commit: &str,
        needle: &str,
        limits: SearchLimits,
    ) -> Result<Found<BlobHit>, GitError> {
        let id: RepoId = id.into();
        check_commit_id(commit)?;
        if needle.is_empty() {
            return Ok(Found { hits: Vec::new(), complete: true });
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command
            .args(["grep", "-I", "--ignore-case", "--fixed-strings", "--line-number", "--null", "--no-color"])
            .arg(format!("--context={CONTEXT_LINES}"))
            .arg(format!("--max-count={MATCHES_PER_FILE}"))
            .arg("-e")
            .arg(needle)
            .arg(commit)
            .arg("--");
        let mut parser = GrepParser::new(commit, limits);
        let complete = stream_lines(command, limits, |line| parser.line(line)).await?;
        Ok(parser.finish(complete))
    }

    /// The ids of the commits reachable from `commit` whose message contains `needle`, ignoring
    /// case, newest first.
    pub async fn grep_commit_messages(
        &self,
        id: impl Into<RepoId>,
        commit: &str,
        needle: &str,
        limits: SearchLimits,
    ) -> Result<Found<String>, GitError> {
        let id: RepoId = id.into();
        check_commit_id(commit)?;
        if needle.is_empty() {
            return Ok(Found { hits: Vec::new(), complete: true });
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command
            .args(["log", "--regexp-ignore-case", "--fixed-strings", "--format=%H"])
            .arg(format!("--grep={needle}"))
            .arg(format!("--max-count={}", limits.max_hits.saturating_add(1)))
            .arg(commit)
            .arg("--");
        let mut ids = Vec::new();
        let mut more = false;
        let complete = stream_lines(command, limits, |line| {
            let text = String::from_utf8_lossy(line).trim().to_owned();
            if text.is_empty() {
                return true;
            }
            if ids.len() >= limits.max_hits {
                more = true;
                return false;
            }
            ids.push(text);
            true
        })
        .await?;
        Ok(Found { hits: ids, complete: complete && !more })
    }
}

fn check_commit_id(commit: &str) -> Result<(), GitError> {
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(GitError::Read(format!("'{commit}' is not a commit id")));
    }
    Ok(())
}

/// Runs `command`, handing each line of its output (cut to [`LINE_LIMIT`] bytes, newline
/// removed) to `take` until it answers false, the output passes `limits.max_bytes` or the time
/// runs out; then the child is killed. Returns whether the whole output was read. Exit codes 0
/// and 1 (git grep found nothing) are answers; others are failures.
async fn stream_lines(
    mut command: tokio::process::Command,
    limits: SearchLimits,
    mut take: impl FnMut(&[u8]) -> bool,
) -> Result<bool, GitError> {
    let description = format!("{:?}", command.as_std().get_args().take(2).collect::<Vec<_>>());
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().map_err(GitError::Spawn)?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let deadline = Instant::now() + limits.time;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut total = 0usize;
    let mut complete = true;
    'read: loop {
        let read = match tokio::time::timeout_at(deadline, stdout.read(&mut buffer)).await {
            Err(_) => {
                complete = false;
                break;
            }
            Ok(read) => read?,
        };
        if read == 0 {
            if !line.is_empty() && !take(&line) {
                complete = false;
            }
            break;
        }
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                total += line.len();
                if !take(&line) || total > limits.max_bytes {
                    complete = false;
                    break 'read;
                }
                line.clear();
            } else if line.len() < LINE_LIMIT + 256 {
                // Past this, the line is cut anyway: the rest is not kept.
                line.push(byte);
            }
        }
    }
    if !complete {
        let _ = child.start_kill();
        let _ = child.wait().await;
        return Ok(false);
    }
    let status = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => status?,
        Err(_) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Ok(false);
        }
    };
    match status.code() {
        Some(0 | 1) => Ok(true),
        _ => Err(GitError::Failed { command: description, stderr: format!("exited with {status}") }),
    }
}

/// Reads `git grep --null --line-number --context` output: `<commit>:<path>\0<n>\0<line>`
/// lines, `--` between chunks that are not adjacent.
struct GrepParser {
    prefix: Vec<u8>,
    limits: SearchLimits,
    hits: Vec<BlobHit>,
    current: Option<BlobHit>,
    more: bool,
}

impl GrepParser {
    fn new(commit: &str, limits: SearchLimits) -> GrepParser {
        GrepParser { prefix: format!("{commit}:").into_bytes(), limits, hits: Vec::new(), current: None, more: false }
    }

    /// Takes one line; false once the hits are full.
    fn line(&mut self, line: &[u8]) -> bool {
        if line == b"--" {
            return self.close();
        }
        let Some(rest) = line.strip_prefix(self.prefix.as_slice()) else { return true };
        let mut fields = rest.splitn(3, |b| *b == 0);
        let (Some(path), Some(number), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            return true;
        };
        let Some(number) = std::str::from_utf8(number).ok().and_then(|n| n.parse::<u32>().ok()) else {
            return true;
        };
        let path = String::from_utf8_lossy(path);
        let continues = self
            .current
            .as_ref()
            .is_some_and(|hit| hit.path == path && hit.startline + hit.lines.len() as u32 == number);
        if !continues && !self.close() {
            return false;
        }
        let text = cut_line(text);
        match &mut self.current {
            Some(hit) => hit.lines.push(text),
            None => self.current = Some(BlobHit { path: path.into_owned(), startline: number, lines: vec![text] }),
        }
        true
    }

    /// Ends the chunk being read; false once the hits are full.
    fn close(&mut self) -> bool {
        if let Some(hit) = self.current.take() {
            if self.hits.len() >= self.limits.max_hits {
                self.more = true;
                return false;
            }
            self.hits.push(hit);
        }
        true
    }

    fn finish(mut self, complete: bool) -> Found<BlobHit> {
        let closed = self.close();
        Found { hits: self.hits, complete: complete && closed && !self.more }
    }
}

/// A line as text, cut to [`LINE_LIMIT`] bytes at a character boundary.
fn cut_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= LINE_LIMIT {
        return text.into_owned();
    }
    let mut end = LINE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Author;
    use gantry_types::ProjectId;

    fn limits(max_hits: usize) -> SearchLimits {
        SearchLimits { max_hits, max_bytes: 1 << 20, time: Duration::from_secs(20) }
    }

    #[test]
    fn parses_chunks_and_stops_at_the_limit() {
        let commit = "a".repeat(40);
        let mut parser = GrepParser::new(&commit, limits(2));
        for line in [
            format!("{commit}:src/a.rs\x001\x00one"),
            format!("{commit}:src/a.rs\x002\x00Two"),
            "--".to_owned(),
            format!("{commit}:src/a.rs\x009\x00nine"),
            format!("{commit}:b:c.txt\x003\x00three"),
        ] {
            assert!(parser.line(line.as_bytes()) || line.starts_with(&commit));
        }
        let found = parser.finish(true);
        assert_eq!(found.hits.len(), 2);
        assert!(!found.complete, "a third chunk was left out");
        assert_eq!((found.hits[0].startline, found.hits[0].data()), (1, "one\nTwo\n".to_owned()));
        assert_eq!((found.hits[1].path.as_str(), found.hits[1].startline), ("src/a.rs", 9));
        assert_eq!(cut_line("é".repeat(400).as_bytes()).len(), LINE_LIMIT + "…".len());
    }

    #[test]
    fn greps_files_and_messages_of_a_commit() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(9);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            repos.create(id, "main").await.unwrap();
            let ada = Author { name: "Ada", email: "ada@example.com" };
            let text = b"alpha\nbeta\nNeedle here\ndelta\nepsilon\nzeta\neta\ntheta\nneedle again\n";
            let commit = repos.initial_commit(id, "main", "a file.txt", text, "Add the Needle notes\n", &ada).await;
            let commit = commit.unwrap();
            let found = repos.grep_blobs(id, &commit, "NEEDLE", limits(10)).await.unwrap();
            assert!(found.complete);
            assert_eq!(found.hits.len(), 2, "{found:?}");
            assert_eq!((found.hits[0].path.as_str(), found.hits[0].startline), ("a file.txt", 1));
            assert_eq!(found.hits[0].lines, ["alpha", "beta", "Needle here", "delta", "epsilon"]);
            assert_eq!((found.hits[1].startline, found.hits[1].lines.len()), (7, 3));
            let none = repos.grep_blobs(id, &commit, "absent", limits(10)).await.unwrap();
            assert!(none.complete && none.hits.is_empty());
            let cut = repos.grep_blobs(id, &commit, "needle", limits(1)).await.unwrap();
            assert_eq!((cut.hits.len(), cut.complete), (1, false));
            let messages = repos.grep_commit_messages(id, &commit, "needle NOTES", limits(10)).await.unwrap();
            assert_eq!(messages.hits, std::slice::from_ref(&commit));
            assert!(repos.grep_commit_messages(id, &commit, "other", limits(10)).await.unwrap().hits.is_empty());
            assert!(repos.grep_blobs(id, "main", "x", limits(1)).await.is_err(), "only commit ids");
        });
    }
}
