//! Commit statuses, shaped like GitLab's: `POST /projects/:id/statuses/:sha` records one,
//! `GET /projects/:id/repository/commits/:sha/statuses` lists them with the jobs of the
//! commit's newest pipeline.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::ci::CommitStatusRow;
use gantry_core::ci::statuses::StatusInput;
use gantry_types::CiStatus;
use serde::{Deserialize, Serialize};

use super::ci_types::{UserBasic, user_basic};
use super::projects::lookup_project;
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;

#[derive(Debug, Serialize)]
pub struct CommitStatus {
    /// A reported status's id, or a job's: GitLab lists a pipeline's jobs among a commit's
    /// statuses, with their own ids.
    pub id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: CiStatus,
    pub name: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub allow_failure: bool,
    pub coverage: Option<f64>,
    pub author: Option<UserBasic>,
}

impl CommitStatus {
    fn new(state: &AppState, row: CommitStatusRow) -> CommitStatus {
        CommitStatus {
            id: row.id.0,
            author: user_basic(row.author_id, row.author_username.as_deref(), &state.config),
            sha: row.sha,
            ref_name: row.ref_name,
            status: row.status,
            name: row.name,
            target_url: row.target_url,
            description: row.description,
            created_at: iso8601(row.created_at),
            started_at: row.started_at.map(iso8601),
            finished_at: row.finished_at.map(iso8601),
            allow_failure: false,
            coverage: row.coverage,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StatusBody {
    state: Option<String>,
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    name: Option<String>,
    /// GitLab's alias of `name`.
    context: Option<String>,
    target_url: Option<String>,
    description: Option<String>,
    coverage: Option<serde_json::Value>,
}

/// `POST /projects/:id/statuses/:sha` (`state`, `ref`, `name`, `target_url`, `description`,
/// `coverage`)
pub async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    ApiInput(body): ApiInput<StatusBody>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let coverage = match body.coverage {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(text)) => Some(
            text.trim()
                .parse::<f64>()
                .map_err(|_| AppError::BadRequest(format!("coverage '{text}' is not a number")))?,
        ),
        Some(other) => return Err(AppError::BadRequest(format!("coverage must be a number, not {other}")).into()),
    };
    let input = StatusInput {
        state: body.state.ok_or(AppError::BadRequest("state is missing".to_owned()))?,
        ref_name: body.ref_name,
        name: body.name.or(body.context),
        target_url: body.target_url,
        description: body.description,
        coverage,
    };
    let row = state.core.ci().set_commit_status(&actor, &project, &sha, &input).await?;
    Ok((StatusCode::CREATED, Json(CommitStatus::new(&state, row))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    name: Option<String>,
}

/// `GET /projects/:id/repository/commits/:sha/statuses` (`ref`, `name`)
pub async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    Query(query): Query<StatusQuery>,
) -> ApiResult<Json<Vec<CommitStatus>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (ref_filter, name_filter) = (query.ref_name.as_deref(), query.name.as_deref());
    let rows = state.core.ci().commit_statuses(&actor, &project, &sha, ref_filter, name_filter).await?;
    let mut out: Vec<CommitStatus> = rows.into_iter().map(|row| CommitStatus::new(&state, row)).collect();
    if let Some(pipeline) = state.core.ci().commit_pipeline(&actor, &project, &sha).await? {
        let access = state.core.access_to_project(&actor, &project).await?;
        let (pipeline, jobs) = state.core.ci().pipeline(&access, pipeline.id).await?;
        for job in jobs.iter().filter(|job| !job.retried) {
            let matches =
                ref_filter.is_none_or(|r| r == pipeline.ref_name) && name_filter.is_none_or(|n| n == job.name);
            if !matches {
                continue;
            }
            out.push(CommitStatus {
                id: job.id.0,
                sha: pipeline.sha.clone(),
                ref_name: pipeline.ref_name.clone(),
                status: job.status,
                name: job.name.clone(),
                target_url: Some(format!("{}/{}/-/jobs/{}", state.config.external_url, project.full_path, job.id)),
                description: None,
                created_at: iso8601(job.created_at),
                started_at: job.started_at.map(iso8601),
                finished_at: job.finished_at.map(iso8601),
                allow_failure: job.allow_failure != "\"no\"",
                coverage: job.coverage,
                author: user_basic(pipeline.user_id, pipeline.username.as_deref(), &state.config),
            });
        }
    }
    Ok(Json(out))
}
