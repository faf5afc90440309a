//! Blame: which commit last changed each line of a file, from `git blame --porcelain`,
//! grouped into runs of consecutive lines from the same commit.

use crate::RepoId;

use crate::command::{GitError, git, run};
use crate::storage::Repositories;

/// Files larger than this are not blamed (the page says so).
pub const BLAME_LIMIT_BYTES: usize = 1024 * 1024;

/// A commit that lines come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameCommit {
    pub id: String,
    pub author_name: String,
    /// Unix seconds.
    pub author_time: i64,
    pub summary: String,
}

/// Consecutive lines last changed by one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameRange {
    /// Index into [`Blame::commits`].
    pub commit: usize,
    /// The number of the first line (1-based).
    pub start: u32,
    pub lines: Vec<String>,
}

/// A blamed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blame {
    pub commits: Vec<BlameCommit>,
    pub ranges: Vec<BlameRange>,
}

impl Repositories {
    /// Blames `path` as of `commit` (a full commit id): all its lines, or its first
    /// `first_lines` (which the file must have).
    pub async fn blame(
        &self,
        id: impl Into<RepoId>,
        commit: &str,
        path: &str,
        first_lines: Option<usize>,
    ) -> Result<Blame, GitError> {
        let id: RepoId = id.into();
        if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GitError::Read(format!("'{commit}' is not a commit id")));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["blame", "--porcelain"]);
        if let Some(lines) = first_lines.filter(|n| *n > 0) {
            command.arg(format!("-L1,{lines}"));
        }
        command.args([commit, "--", path]);
        let output = run(command, None).await?;
        Ok(parse(&String::from_utf8_lossy(&output)))
    }
}

/// Parses `git blame --porcelain` output.
pub fn parse(text: &str) -> Blame {
    let mut blame = Blame::default();
    let mut current: Option<(usize, u32)> = None;
    for line in text.lines() {
        if let Some(content) = line.strip_prefix('\t') {
            let Some((commit, number)) = current.take() else { continue };
            match blame.ranges.last_mut() {
                Some(range) if range.commit == commit && range.start + range.lines.len() as u32 == number => {
                    range.lines.push(content.to_owned());
                }
                _ => blame.ranges.push(BlameRange { commit, start: number, lines: vec![content.to_owned()] }),
            }
            continue;
        }
        let mut words = line.split(' ');
        let first = words.next().unwrap_or_default();
        if first.len() == 40 && first.bytes().all(|b| b.is_ascii_hexdigit()) {
            let number = words.nth(1).and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
            let index = match blame.commits.iter().position(|c| c.id == first) {
                Some(index) => index,
                None => {
                    blame.commits.push(BlameCommit {
                        id: first.to_owned(),
                        author_name: String::new(),
                        author_time: 0,
                        summary: String::new(),
                    });
                    blame.commits.len() - 1
                }
            };
            current = Some((index, number));
            continue;
        }
        let Some((index, _)) = current else { continue };
        let commit = &mut blame.commits[index];
        if let Some(name) = line.strip_prefix("author ") {
            commit.author_name = name.to_owned();
        } else if let Some(time) = line.strip_prefix("author-time ") {
            commit.author_time = time.parse().unwrap_or(0);
        } else if let Some(summary) = line.strip_prefix("summary ") {
            commit.summary = summary.to_owned();
        }
    }
    blame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_lines_by_commit() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let text = format!(
            "{a} 1 1 2\nauthor Ada\nauthor-time 1700000000\nsummary First\nfilename f\n\tone\n{a} 2 2\n\ttwo\n\
             {b} 3 3 1\nauthor Bob\nauthor-time 1700000100\nsummary Second\nfilename f\n\tthree\n{a} 3 4 1\n\tfour\n"
        );
        let blame = parse(&text);
        assert_eq!(blame.commits.len(), 2);
        assert_eq!((blame.commits[1].author_name.as_str(), blame.commits[1].summary.as_str()), ("Bob", "Second"));
        assert_eq!(blame.ranges.len(), 3);
        assert_eq!((blame.ranges[0].start, blame.ranges[0].lines.len()), (1, 2));
        assert_eq!((blame.ranges[1].commit, blame.ranges[1].start), (1, 3));
        assert_eq!((blame.ranges[2].commit, blame.ranges[2].lines[0].as_str()), (0, "four"));
    }
}
