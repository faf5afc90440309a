//! The coordinator of `gantry ci exec`: the runner protocol's server side for one local run,
//! on 127.0.0.1. It hands the planned jobs out one at a time (each payload built when its turn
//! comes, with the artifacts and dotenv variables of the jobs before it), prints the logs,
//! keeps artifacts and caches in the run's temporary directory and records how each job ended;
//! a failure that is not allowed skips the rest.

use gantry_types::CiStatus;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use futures_util::StreamExt;
use gantry_ci::keywords::{AllowFailure, CacheKey};
use gantry_ci::payload;
use gantry_ci::plan::PlannedJob;
use gantry_ci::protocol::{self, JobPayload};
use gantry_core::ci::caches;
use tokio::io::AsyncWriteExt;

/// The most an upload (an artifact, a cache, a piece of log) may hold.
const MAX_UPLOAD: usize = 1 << 30;

/// The runner protocol's routes for the local run.
pub(super) fn router(coordinator: Coordinator) -> axum::Router {
    axum::Router::new()
        .route("/api/v4/runners/verify", post(|| async { Json(serde_json::json!({"id": 0})) }))
        .route("/api/v4/jobs/request", post(request_job))
        .route("/api/v4/jobs/{id}", put(update_job))
        .route("/api/v4/jobs/{id}/trace", patch(append_trace))
        .route("/api/v4/jobs/{id}/artifacts", post(upload_artifact).get(download_artifact))
        .route("/api/v4/jobs/{id}/cache", get(download_cache).put(upload_cache))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD))
        .with_state(coordinator)
}

/// One job of this run.
pub(super) struct LocalJob {
    pub(super) planned: PlannedJob,
    pub(super) id: i64,
    pub(super) status: CiStatus,
    pub(super) started: Option<Instant>,
    pub(super) duration: Option<Duration>,
    pub(super) archive: Option<PathBuf>,
    pub(super) dotenv: Vec<(String, String)>,
    /// It failed, and its `allow_failure` (with the exit code) allowed that.
    pub(super) allowed_failure: bool,
}

/// What every job shares.
pub(super) struct Context {
    pub(super) root: PathBuf,
    pub(super) branch: String,
    /// The project's full path as the checkout knows it.
    pub(super) project_path: String,
    /// The pipeline's predefined variables.
    pub(super) predefined: Vec<(String, String)>,
    /// When the run started, Unix milliseconds (`CI_PIPELINE_CREATED_AT`).
    pub(super) created_at: i64,
    pub(super) sha: String,
    pub(super) snapshot_ref: String,
    pub(super) extra: Vec<(String, String)>,
    pub(super) token: String,
    /// The run's temporary directory: `artifacts/`, `cache/`, `builds/`.
    pub(super) work: PathBuf,
}

pub(super) struct Exec {
    pub(super) jobs: Vec<LocalJob>,
    pub(super) next: usize,
    pub(super) running: Option<usize>,
    /// A job failed that may not: the rest are skipped.
    pub(super) halted: bool,
    pub(super) trace_sizes: std::collections::HashMap<i64, u64>,
}

#[derive(Clone)]
pub(super) struct Coordinator {
    pub(super) exec: Arc<Mutex<Exec>>,
    pub(super) context: Arc<Context>,
    pub(super) done: Arc<tokio::sync::Notify>,
}

impl Exec {
    pub(super) fn finished(&self) -> bool {
        self.running.is_none() && (self.halted || self.next >= self.jobs.len())
    }
}

impl Coordinator {
    fn payload(&self, exec: &Exec, index: usize) -> JobPayload {
        let context = &self.context;
        let job = &exec.jobs[index];
        let planned = &job.planned;
        // As the server's, without its URLs (the run has no server) and in pipeline 0.
        let job_predefined = gantry_ci::predefined::for_job(
            None,
            &context.project_path,
            &gantry_ci::predefined::Job {
                id: job.id,
                name: &planned.name,
                stage: &planned.stage,
                started_at: now_millis(),
                token: &context.token,
                runner_id: None,
                node: planned.definition.node,
                pipeline_id: 0,
                pipeline_iid: 0,
                pipeline_created_at: context.created_at,
            },
        );
        let dependencies: Vec<&LocalJob> =
            exec.jobs.iter().filter(|other| planned.dependencies.contains(&other.planned.name)).collect();
        let dotenv: Vec<(String, String)> =
            dependencies.iter().flat_map(|dependency| dependency.dotenv.iter().cloned()).collect();
        let variables = payload::job_variables(&payload::Layers {
            pipeline_predefined: &context.predefined,
            job_predefined: &job_predefined,
            file: &planned.variables,
            dotenv: &dotenv,
            ci_cd: &[],
            pipeline: &context.extra,
        })
        .variables;
        let definition = &planned.definition;
        let timeout = definition.timeout.unwrap_or(3600);
        let steps = payload::job_steps(definition, timeout);
        JobPayload {
            id: job.id,
            token: context.token.clone(),
            job_info: protocol::JobInfo {
                id: job.id,
                name: planned.name.clone(),
                stage: planned.stage.clone(),
                project_id: 0,
                project_name: "local".to_owned(),
            },
            git_info: protocol::GitInfo {
                repo_url: format!("file://{}", context.root.display()),
                ref_name: context.branch.clone(),
                sha: context.sha.clone(),
                before_sha: "0".repeat(40),
                ref_type: "branch".to_owned(),
                refspecs: vec![format!("+{0}:{0}", context.snapshot_ref)],
                depth: 0,
            },
            runner_info: protocol::JobRunnerInfo { timeout },
            variables,
            steps,
            image: definition.image.clone(),
            services: definition.services.clone(),
            artifacts: payload::artifact_specs(definition),
            cache: definition.cache.iter().map(|cache| cache_spec(context, cache)).collect(),
            dependencies: dependencies
                .iter()
                .filter(|d| d.archive.is_some())
                .map(|d| protocol::Dependency {
                    id: d.id,
                    name: d.planned.name.clone(),
                    artifacts_file: Some(protocol::ArtifactsFile { filename: "artifacts.zip".into(), size: 0 }),
                })
                .collect(),
        }
    }
}

/// A cache of the CI file with its key resolved as the server resolves it (`key:files` from
/// the blob ids at the run's snapshot commit), without the server's protection suffix.
fn cache_spec(context: &Context, cache: &gantry_ci::keywords::Cache) -> protocol::CacheSpec {
    let digest = match &cache.key {
        CacheKey::Text(_) => None,
        CacheKey::Files { files, .. } => caches::files_digest(files.iter().filter_map(|file| {
            let listed = crate::ci::git_output(&context.root, &["ls-tree", &context.sha, "--", file])?;
            let (meta, _) = listed.split_once('\t')?;
            match meta.split(' ').collect::<Vec<_>>()[..] {
                [_, "blob", id] => Some((file.as_str(), id.to_owned())),
                _ => None,
            }
        })),
    };
    caches::cache_spec(cache, &caches::cache_key(&cache.key, digest), "")
}

/// The time now as Unix milliseconds.
pub(super) fn now_millis() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A key usable as a file name.
fn safe_name(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

fn job_id(text: &str) -> Result<i64, StatusCode> {
    text.parse().map_err(|_| StatusCode::NOT_FOUND)
}

async fn request_job(State(coordinator): State<Coordinator>) -> Response {
    let payload = {
        let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if exec.running.is_some() || exec.finished() {
            None
        } else {
            let index = exec.next;
            exec.next += 1;
            exec.running = Some(index);
            exec.jobs[index].status = CiStatus::Running;
            exec.jobs[index].started = Some(Instant::now());
            let name = exec.jobs[index].planned.name.clone();
            eprintln!("\n== {name}");
            Some(coordinator.payload(&exec, index))
        }
    };
    match payload {
        Some(payload) => (StatusCode::CREATED, Json(payload)).into_response(),
        None => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

async fn update_job(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
    Json(update): Json<protocol::JobUpdate>,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let index = exec.jobs.iter().position(|j| j.id == id).ok_or(StatusCode::NOT_FOUND)?;
    let finished = CiStatus::parse(&update.state).filter(|s| matches!(s, CiStatus::Success | CiStatus::Failed));
    if let Some(finished) = finished
        && exec.running == Some(index)
    {
        let job = &mut exec.jobs[index];
        job.status = finished;
        job.duration = job.started.map(|s| s.elapsed());
        let may_fail = match &job.planned.allow_failure {
            AllowFailure::No => false,
            AllowFailure::Yes => true,
            AllowFailure::ExitCodes(codes) => update.exit_code.is_some_and(|code| codes.contains(&code)),
        };
        job.allowed_failure = job.status == CiStatus::Failed && may_fail;
        if job.status == CiStatus::Failed && !may_fail {
            exec.halted = true;
            let next = exec.next;
            for later in &mut exec.jobs[next..] {
                later.status = CiStatus::Skipped;
            }
        }
        exec.running = None;
        coordinator.done.notify_waiters();
    }
    let status = exec.jobs[index].status;
    Ok(([(protocol::JOB_STATUS_HEADER, status.as_str())], StatusCode::OK).into_response())
}

async fn append_trace(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let size = {
        let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let size = exec.trace_sizes.entry(id).or_default();
        *size += body.len() as u64;
        *size
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&body);
    let _ = out.flush();
    Ok((StatusCode::ACCEPTED, [("range", format!("0-{size}")), (protocol::JOB_STATUS_HEADER, "running".to_owned())])
        .into_response())
}

#[derive(serde::Deserialize)]
struct ArtifactQuery {
    artifact_type: Option<String>,
}

async fn upload_artifact(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<ArtifactQuery>,
    body: Body,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let kind = safe_name(query.artifact_type.as_deref().unwrap_or("archive"));
    let path = coordinator.context.work.join("artifacts").join(format!("{id}-{kind}.zip"));
    save_body(body, &path).await?;
    let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let job = exec.jobs.iter_mut().find(|j| j.id == id).ok_or(StatusCode::NOT_FOUND)?;
    match kind.as_str() {
        "archive" => job.archive = Some(path),
        "dotenv" => {
            let file = std::fs::File::open(&path).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            let files =
                gantry_core::ci::artifacts::archive_files(file, 1 << 20).map_err(|_| StatusCode::BAD_REQUEST)?;
            match gantry_core::ci::reports::dotenv_variables_of(files) {
                Ok(variables) => job.dotenv = variables,
                Err(error) => {
                    eprintln!("{error}");
                    return Err(StatusCode::BAD_REQUEST);
                }
            }
        }
        "junit" => {
            let file = std::fs::File::open(&path).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            let files =
                gantry_core::ci::artifacts::archive_files(file, 30 << 20).map_err(|_| StatusCode::BAD_REQUEST)?;
            let suites: Vec<_> =
                files.iter().filter_map(|(_, c)| gantry_ci::reports::junit::parse(c).ok()).flatten().collect();
            let cases = suites.iter().flat_map(|s| &s.cases);
            let failing: Vec<String> = cases
                .clone()
                .filter(|c| {
                    matches!(
                        c.status,
                        gantry_ci::reports::junit::CaseStatus::Failed | gantry_ci::reports::junit::CaseStatus::Error
                    )
                })
                .map(|c| format!("{} {}", c.classname, c.name))
                .collect();
            eprintln!(
                "JUnit: {} tests, {} failing{}",
                cases.count(),
                failing.len(),
                if failing.is_empty() { String::new() } else { format!(": {}", failing.join(", ")) }
            );
        }
        _ => {}
    }
    Ok(StatusCode::CREATED.into_response())
}

async fn download_artifact(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let path = {
        let exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        exec.jobs.iter().find(|j| j.id == id).and_then(|j| j.archive.clone()).ok_or(StatusCode::NOT_FOUND)?
    };
    let file = tokio::fs::File::open(path).await.map_err(|_| StatusCode::NOT_FOUND)?;
    Ok(gantry_web::file_body(file).into_response())
}

#[derive(serde::Deserialize)]
struct CacheQuery {
    key: String,
}

fn cache_path(coordinator: &Coordinator, key: &str) -> PathBuf {
    coordinator.context.work.join("cache").join(format!("{}.zip", safe_name(key)))
}

async fn download_cache(State(coordinator): State<Coordinator>, Query(query): Query<CacheQuery>) -> Response {
    match tokio::fs::File::open(cache_path(&coordinator, &query.key)).await {
        Ok(file) => gantry_web::file_body(file).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn upload_cache(
    State(coordinator): State<Coordinator>,
    Query(query): Query<CacheQuery>,
    _headers: HeaderMap,
    body: Body,
) -> StatusCode {
    match save_body(body, &cache_path(&coordinator, &query.key)).await {
        Ok(()) => StatusCode::CREATED,
        Err(status) => status,
    }
}

/// Streams an upload into `path`: through a file beside it, renamed into place once whole, so
/// a cut or refused upload leaves the last whole one.
async fn save_body(body: Body, path: &std::path::Path) -> Result<(), StatusCode> {
    let partial = path.with_extension("partial");
    let mut saved = write_body(body, &partial).await;
    if saved.is_ok() {
        saved = tokio::fs::rename(&partial, path).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR);
    }
    if saved.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    saved
}

async fn write_body(body: Body, to: &std::path::Path) -> Result<(), StatusCode> {
    let internal = |_: std::io::Error| StatusCode::INTERNAL_SERVER_ERROR;
    let mut file = tokio::fs::File::create(to).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    let mut size = 0;
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| StatusCode::BAD_REQUEST)?;
        size += piece.len();
        if size > MAX_UPLOAD {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        file.write_all(&piece).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_become_file_names() {
        assert_eq!(safe_name("deps/linux x"), "deps_linux_x");
        assert_eq!(safe_name("../x"), ".._x");
    }
}
