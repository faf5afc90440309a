//! The runner protocol (GitLab's runner API shape): `POST /runners/verify`, the long-polled
//! `POST /jobs/request`, `PUT /jobs/:id` (state and heartbeat), `PATCH /jobs/:id/trace` (log
//! pieces with `Content-Range`), artifacts (`POST /jobs/:id/artifacts`, the zip as the body;
//! `GET /jobs/:id/artifacts` for a dependency) and caches (`GET`/`PUT /jobs/:id/cache?key=`).
//! Runners authenticate with their runner token, running jobs with their job token
//! (`JOB-TOKEN`); no user credentials apply here.

use gantry_types::{ArtifactId, CiStatus, JobId, RunnerId};
use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gantry_ci::protocol::{JOB_STATUS_HEADER, JOB_TOKEN_HEADER, JobRequest, JobUpdate, VerifyRequest};
use gantry_core::CoreError;
use gantry_core::ci::artifacts::ArtifactUpload;
use gantry_core::ci::jobs::TraceAppend;
use serde::{Deserialize, Serialize};

use super::ApiResult;
use crate::AppState;
use crate::error::AppError;

/// How long a job request is held open when there is no job.
pub const LONG_POLL: Duration = Duration::from_secs(30);

fn job_id(value: &str) -> ApiResult<JobId> {
    super::ci_types::id_param(value, "job")
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")).into())
}

fn with_status(mut response: Response, status: CiStatus) -> Response {
    response.headers_mut().insert(JOB_STATUS_HEADER, HeaderValue::from_static(status.as_str()));
    response
}

#[derive(Debug, Serialize)]
struct Verified {
    id: RunnerId,
    token_expires_at: Option<String>,
}

/// `POST /runners/verify` (`token`)
pub async fn verify(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let request: VerifyRequest = json_body(&body)?;
    let runner = state.core.ci().authenticate_runner(&request.token).await.map_err(|_| forbidden())?;
    Ok(Json(Verified { id: runner.id, token_expires_at: None }).into_response())
}

/// The runner's token, as `gitlab-runner unregister` sends it.
#[derive(Debug, Deserialize)]
pub struct UnregisterRequest {
    token: String,
}

/// `DELETE /runners` (`token`): 204, or 403 for a token that is not a runner's.
pub async fn unregister(
    State(state): State<AppState>,
    super::ApiInput(request): super::ApiInput<UnregisterRequest>,
) -> ApiResult<Response> {
    state.core.ci().unregister_runner(&request.token).await.map_err(|error| match error {
        CoreError::Unauthorized => forbidden(),
        other => AppError::Core(other),
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn forbidden() -> AppError {
    AppError::Core(CoreError::Forbidden("403 Forbidden - invalid runner token".to_owned()))
}

/// `POST /jobs/request`: answered with 201 and a job as soon as one matches, or 204.
pub async fn request_job(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> ApiResult<Response> {
    let request: JobRequest = json_body(&body)?;
    let job =
        state.core.ci().request_job(&request.token, &request.info, &client.ip().to_string(), LONG_POLL).await.map_err(
            |error| match error {
                CoreError::Unauthorized => forbidden(),
                other => AppError::Core(other),
            },
        )?;
    Ok(match job {
        Some(job) => (StatusCode::CREATED, Json(job)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `PUT /jobs/:job_id` (`token`, `state`, `failure_reason`, `exit_code`)
pub async fn update_job(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult<Response> {
    let update: JobUpdate = json_body(&body)?;
    let status = state.core.ci().update_job_from_runner(job_id(&id)?, &update).await?;
    Ok(with_status(StatusCode::OK.into_response(), status))
}

fn job_token(headers: &HeaderMap) -> ApiResult<&str> {
    Ok(headers.get(JOB_TOKEN_HEADER).and_then(|v| v.to_str().ok()).ok_or(AppError::Core(CoreError::Unauthorized))?)
}

/// The query of an artifact upload.
#[derive(Debug, Default, Deserialize)]
pub struct ArtifactQuery {
    artifact_type: Option<String>,
    artifact_format: Option<String>,
    expire_in: Option<String>,
}

#[derive(Debug, Serialize)]
struct StoredArtifact {
    id: ArtifactId,
    file_type: String,
    file_format: String,
    size: i64,
    expire_at: Option<String>,
}

/// `POST /jobs/:job_id/artifacts?artifact_type=&artifact_format=zip&expire_in=`: the body is
/// the zip archive; 201, or 413 past the instance's limit, 400 when it is not a zip archive or
/// an invalid report.
pub async fn upload_artifacts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ArtifactQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let upload = ArtifactUpload {
        artifact_type: query.artifact_type,
        artifact_format: query.artifact_format,
        expire_in: query.expire_in,
    };
    let job = state.core.ci().begin_artifact_upload(job_id(&id)?, job_token(&headers)?, &upload).await?;
    let blob =
        crate::blob_io::store_body(state.core.ci().blobs(), body, state.core.ci().max_artifact_size().await?).await?;
    let row = state.core.ci().record_artifact(&job, &upload, blob).await?;
    let stored = StoredArtifact {
        id: row.id,
        file_type: row.file_type,
        file_format: row.file_format,
        size: row.size,
        expire_at: row.expire_at.map(crate::time_format::iso8601),
    };
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// `GET /jobs/:job_id/artifacts`: the archive of a job, for the running job whose token this
/// is (its `dependencies`): of the same project, or of another its job token scope lets it read.
pub async fn download_artifacts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (row, file, size) = state.core.ci().artifact_for_dependency(job_token(&headers)?, job_id(&id)?).await?;
    Ok(crate::blob_io::file_response(file, size, "application/zip", &row.file_name))
}

/// The query of a cache request.
#[derive(Debug, Deserialize)]
pub struct CacheQuery {
    /// Optional here so that a request without credentials is told so first.
    #[serde(default)]
    key: String,
}

/// `GET /jobs/:job_id/cache?key=`: the cache saved under the key, or 404.
pub async fn download_cache(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CacheQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let job = state.core.ci().job_for_cache(job_id(&id)?, job_token(&headers)?, &query.key).await?;
    match state.core.ci().open_cache(&job, &query.key).await? {
        Some((file, size)) => Ok(crate::blob_io::file_response(file, size, "application/zip", "cache.zip")),
        None => Err(CoreError::NotFound("cache").into()),
    }
}

/// `PUT /jobs/:job_id/cache?key=`: saves the body (a zip archive) under the key.
pub async fn upload_cache(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CacheQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let job = state.core.ci().job_for_cache(job_id(&id)?, job_token(&headers)?, &query.key).await?;
    let blob =
        crate::blob_io::store_body(state.core.ci().blobs(), body, state.core.ci().max_artifact_size().await?).await?;
    state.core.ci().save_cache(&job, &query.key, &blob).await?;
    Ok(StatusCode::CREATED.into_response())
}

/// Reads `Content-Range: start-end` (the end inclusive, as GitLab's runner sends it).
fn content_range(headers: &HeaderMap, length: usize) -> ApiResult<i64> {
    let Some(value) = headers.get("content-range") else { return Ok(0) };
    let text = value.to_str().map_err(|_| AppError::BadRequest("Content-Range is not text".to_owned()))?;
    let text = text.trim().trim_start_matches("bytes ").trim();
    let (start, end) = text
        .split_once('-')
        .and_then(|(s, e)| Some((s.trim().parse::<i64>().ok()?, e.trim().parse::<i64>().ok()?)))
        .ok_or_else(|| AppError::BadRequest(format!("Content-Range '{text}' is not start-end")))?;
    let expected_end = start + i64::try_from(length).unwrap_or(i64::MAX) - 1;
    if start < 0 || (length > 0 && end != expected_end) {
        return Err(
            AppError::BadRequest(format!("Content-Range '{text}' does not match the body's {length} bytes")).into()
        );
    }
    Ok(start)
}

/// `PATCH /jobs/:job_id/trace`: a piece of the log; 202 with `Range: 0-<size>`, or 416 with
/// the server's size when the piece does not start where the log ends.
pub async fn append_trace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let token = job_token(&headers)?;
    let start = content_range(&headers, body.len())?;
    let outcome = state.core.ci().append_trace(job_id(&id)?, token, start, &body).await?;
    let (status, size, job_status) = match outcome {
        TraceAppend::Accepted { size, status } => (StatusCode::ACCEPTED, size, status),
        TraceAppend::WrongOffset { size } => (StatusCode::RANGE_NOT_SATISFIABLE, size, CiStatus::Running),
    };
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("0-{size}")) {
        response.headers_mut().insert("range", value);
    }
    response.headers_mut().insert("x-gitlab-trace-update-interval", HeaderValue::from_static("3"));
    Ok(with_status(response, job_status))
}
