//! Commit statuses from outside: another CI system, a deploy tool or a scanner reports the state
//! of a commit (`POST /projects/:id/statuses/:sha`), shown beside the commit's pipelines.

use gantry_db::ci::statuses::{self, CommitStatusRow, NewCommitStatus};
use gantry_types::CiStatus;

use crate::policy::{ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// The states a status may have (GitLab's).
pub const COMMIT_STATES: &[CiStatus] =
    &[CiStatus::Pending, CiStatus::Running, CiStatus::Success, CiStatus::Failed, CiStatus::Canceled, CiStatus::Skipped];

/// What a reporter says about a commit.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub state: String,
    pub ref_name: Option<String>,
    /// `default` when not given.
    pub name: Option<String>,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub coverage: Option<f64>,
}

fn checked_text(field: &'static str, value: Option<&str>, limit: usize) -> CoreResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(text) if text.len() > limit || text.contains(['\0', '\n', '\r']) => {
            Err(CoreError::invalid(field, format!("must be one line of at most {limit} characters")))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

impl super::Ci<'_> {
    /// Records the state of commit `sha` under `name` (Developers).
    pub async fn set_commit_status(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        sha: &str,
        input: &StatusInput,
    ) -> CoreResult<CommitStatusRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        drop(conn);
        let Some(state) = CiStatus::parse(&input.state).filter(|state| COMMIT_STATES.contains(state)) else {
            let states: Vec<&str> = COMMIT_STATES.iter().map(|state| state.as_str()).collect();
            return Err(CoreError::invalid("state", format!("must be one of {}", states.join(", "))));
        };
        let is_sha = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        let commit = if is_sha { self.repos.resolve_commit(project.id, sha).await? } else { None };
        let Some(sha) = commit.filter(|found| found.eq_ignore_ascii_case(sha)) else {
            return Err(CoreError::NotFound("commit"));
        };
        let name = checked_text("name", input.name.as_deref(), 255)?.unwrap_or_else(|| "default".to_owned());
        let ref_name = checked_text("ref", input.ref_name.as_deref(), 255)?.unwrap_or_default();
        let target_url = checked_text("target_url", input.target_url.as_deref(), 2048)?;
        if let Some(url) = &target_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(CoreError::invalid("target_url", "must be an http:// or https:// address"));
        }
        let description = checked_text("description", input.description.as_deref(), 255)?;
        if input.coverage.is_some_and(|c| !(0.0..=100.0).contains(&c)) {
            return Err(CoreError::invalid("coverage", "must be between 0 and 100"));
        }
        let new = NewCommitStatus {
            sha: &sha,
            ref_name: &ref_name,
            name: &name,
            status: state,
            target_url: target_url.as_deref(),
            description: description.as_deref(),
            coverage: input.coverage,
        };
        let mut conn = self.db.conn().await?;
        Ok(statuses::put_status(&mut conn, project.id, actor.user().map(|u| u.id), &new).await?)
    }

    /// The statuses reported for a commit (Reporters), newest first; `ref` and `name` filter.
    pub async fn commit_statuses(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        sha: &str,
        ref_name: Option<&str>,
        name: Option<&str>,
    ) -> CoreResult<Vec<CommitStatusRow>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        Ok(statuses::commit_statuses(&mut conn, project.id, sha, ref_name, name).await?)
    }

    /// The statuses of a commit for its page: empty for visitors who may not see pipelines.
    pub async fn visible_commit_statuses(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        sha: &str,
    ) -> CoreResult<Vec<CommitStatusRow>> {
        match self.commit_statuses(actor, project, sha, None, None).await {
            Err(CoreError::Forbidden(_) | CoreError::NotFound(_)) => Ok(Vec::new()),
            other => other,
        }
    }
}
