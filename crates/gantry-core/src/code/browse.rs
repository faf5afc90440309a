//! Reading a project's repository for the code browser and the repository API: every read
//! checks that the actor may read the code, then runs on a blocking thread (gix is blocking).

use gantry_git::GitError;
use gantry_git::blame::Blame;
use gantry_git::diff::Diff;
use gantry_git::read::Reader;

use crate::policy::{ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

impl super::Code<'_> {
    /// Runs `read` against the project's repository, if the actor may read its code.
    pub async fn read_repository<T, F>(&self, actor: &Actor, project: &ProjectRow, read: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Reader) -> Result<T, GitError> + Send + 'static,
    {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        let repos = self.repos.clone();
        let id = project.id;
        let outcome = tokio::task::spawn_blocking(move || read(&repos.reader(id)?))
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))?;
        Ok(outcome?)
    }

    /// The bytes of the blob `blob` (of `size` bytes) a piece at a time: for blobs too large to
    /// read whole ([`gantry_git::read::LOADED_LIMIT`]).
    pub async fn stream_blob(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        blob: &str,
        size: u64,
    ) -> CoreResult<crate::ContentStream> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        let child = self.repos.spawn_cat_blob(project.id, blob)?;
        crate::ContentStream::from_child(size, child).await
    }

    /// What a commit changed (against its first parent).
    pub async fn commit_diff(&self, actor: &Actor, project: &ProjectRow, commit: &str) -> CoreResult<Diff> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        Ok(self.repos.commit_diff(project.id, commit).await?)
    }

    /// Who last changed each line of `path` as of `commit`.
    pub async fn blame(&self, actor: &Actor, project: &ProjectRow, commit: &str, path: &str) -> CoreResult<Blame> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        Ok(self.repos.blame(project.id, commit, path).await?)
    }

    /// Runs `git fsck` on the project's repository (administrators only; others are told
    /// there is nothing here).
    pub async fn check_repository(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<(bool, String)> {
        crate::policy::require_admin(actor)?;
        let outcome = self.repos.fsck(project.id).await?;
        tracing::info!(project.id = %project.id, sound = outcome.0, "repository checked");
        Ok(outcome)
    }

    /// What changed between two commits, since their merge base.
    pub async fn compare_diff(&self, actor: &Actor, project: &ProjectRow, from: &str, to: &str) -> CoreResult<Diff> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        Ok(self.repos.compare_diff(project.id, from, to).await?)
    }
}
