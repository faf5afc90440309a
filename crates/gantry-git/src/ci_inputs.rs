//! What pipeline planning needs from a repository besides the CI file: every path of a commit
//! (for `rules:exists`) and the paths a push changed (for `rules:changes`).

use crate::RepoId;

use crate::command::{git, run};
use crate::{GitError, Repositories};

fn is_object_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn split_paths(output: &[u8]) -> Vec<String> {
    output.split(|b| *b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect()
}

impl Repositories {
    /// Every file path in a commit's tree.
    pub async fn list_files(&self, id: impl Into<RepoId>, commit: &str) -> Result<Vec<String>, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(commit) {
            return Err(GitError::Read(format!("'{commit}' is not a commit id")));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit]);
        Ok(split_paths(&run(command, None).await?))
    }

    /// The paths that differ between two commits.
    pub async fn changed_files(&self, id: impl Into<RepoId>, from: &str, to: &str) -> Result<Vec<String>, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(from) || !is_object_id(to) {
            return Err(GitError::Read("changed files need two commit ids".to_owned()));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["diff-tree", "-r", "-z", "--name-only", "--no-renames", from, to]);
        Ok(split_paths(&run(command, None).await?))
    }
}
