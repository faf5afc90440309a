//! Reading a project's repository for the code browser and the repository API: every read
//! checks that the actor may read the code, then runs on a blocking thread (gix is blocking).
//! Archives of a commit and snapshots of the whole repository are streamed.

use gantry_git::GitError;
use gantry_git::archive::{ArchiveFormat, ByteStream};
use gantry_git::blame::Blame;
use gantry_git::diff::Diff;
use gantry_git::read::Reader;
use gantry_git::refs::RefKind;

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

    /// Who last changed each line of `path` as of `commit` (or each of its first
    /// `first_lines`, which it must have).
    pub async fn blame(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        commit: &str,
        path: &str,
        first_lines: Option<usize>,
    ) -> CoreResult<Blame> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        Ok(self.repos.blame(project.id, commit, path, first_lines).await?)
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

    /// The files of `commit` (a full id; only those under `path` when given) as an archive whose
    /// paths start with `prefix/`.
    pub async fn archive(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        commit: &str,
        format: ArchiveFormat,
        prefix: &str,
        path: Option<&str>,
    ) -> CoreResult<ByteStream> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        Ok(self.repos.stream_archive(project.id, commit, format, prefix, path)?)
    }

    /// The bare repository of the project `lookup` names as a tar (administrators only, as in
    /// GitLab; anonymous visitors are asked to sign in and everyone else is told there is nothing
    /// here, before the project is looked for). Projects have no wiki repository in Gantry.
    pub async fn snapshot(
        &self,
        actor: &Actor,
        lookup: &crate::manage::groups::Lookup,
        wiki: bool,
    ) -> CoreResult<(ProjectRow, ByteStream)> {
        crate::policy::require_admin(actor)?;
        let (project, _) = self.find_project(actor, lookup).await?;
        if wiki {
            return Err(CoreError::NotFound("wiki repository"));
        }
        let stream = self.repository(&project)?.stream_snapshot(project.id)?;
        tracing::info!(project.id = %project.id, "repository snapshot taken");
        Ok((project, stream))
    }

    /// The branches and tags whose history holds `commit` (a full id), at most `limit`.
    pub async fn refs_containing(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        commit: &str,
        kinds: &[RefKind],
        limit: usize,
    ) -> CoreResult<Vec<(RefKind, String)>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        Ok(self.repos.refs_containing(project.id, commit, kinds, limit).await?)
    }

    /// The best common ancestor of `revisions` (branches, tags or commit ids): `Err` with the
    /// names that are none of those, `Ok(None)` when they have no common ancestor.
    pub async fn merge_base(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        revisions: &[String],
    ) -> CoreResult<Result<Option<String>, Vec<String>>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        drop(conn);
        let mut commits = Vec::with_capacity(revisions.len());
        let mut unknown = Vec::new();
        for revision in revisions {
            match self.repos.resolve_commit(project.id, revision.trim()).await? {
                Some(commit) => commits.push(commit),
                None => unknown.push(revision.clone()),
            }
        }
        if !unknown.is_empty() {
            return Ok(Err(unknown));
        }
        Ok(Ok(self.repos.merge_base(project.id, &commits).await?))
    }
}
