//! Repository housekeeping: the incremental `git maintenance` tasks (commit-graph, loose
//! objects, incremental repack) that keep history, blame and clones fast as a repository
//! grows, and `git fsck` for administrators.

use crate::RepoId;

use crate::command::{GitError, git, run};
use crate::storage::Repositories;

impl Repositories {
    /// Runs the incremental maintenance tasks on the project's repository.
    pub async fn maintain(&self, id: impl Into<RepoId>) -> Result<(), GitError> {
        let id: RepoId = id.into();
        let path = self.existing(id)?;
        let mut tasks = vec!["--task=commit-graph", "--task=loose-objects"];
        // incremental-repack works on pack files; a repository of loose objects has none yet.
        let has_packs = std::fs::read_dir(path.join("objects/pack")).is_ok_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pack")))
        });
        if has_packs {
            tasks.push("--task=incremental-repack");
        }
        let mut command = git(self.git_program(), &path);
        command.args(["-c", "maintenance.auto=false", "maintenance", "run", "--quiet"]).args(tasks);
        run(command, None).await.map(drop)
    }

    /// Checks the repository's objects and links; returns whether it is sound and what git
    /// said.
    pub async fn fsck(&self, id: impl Into<RepoId>) -> Result<(bool, String), GitError> {
        let id: RepoId = id.into();
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["fsck", "--no-progress", "--no-dangling", "--strict"]);
        match run(command, None).await {
            Ok(output) => Ok((true, String::from_utf8_lossy(&output).trim().to_owned())),
            Err(GitError::Failed { stderr, .. }) => Ok((false, stderr)),
            Err(error) => Err(error),
        }
    }
}
