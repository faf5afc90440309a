//! Job pages of a project: the jobs list, one job with its log (streaming live over Server-Sent
//! Events while it runs), the raw log, and cancel/retry/play.

use gantry_types::{CiStatus, JobId};
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use gantry_core::ci::{JobRow, PipelineRow};
use gantry_core::policy::{ProjectAccess, ProjectAction};
use gantry_core::{CoreError, now_millis};
use serde::Deserialize;

use super::log::LogRenderer;
use super::pipelines::{JobCard, PAGE_SIZE, id_of, job_card};
use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;

#[derive(Template)]
#[template(path = "projects/jobs.html")]
struct JobsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    jobs: Vec<JobCard>,
    status: String,
    page: i64,
    has_next: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct JobsQuery {
    #[serde(default)]
    status: String,
    page: Option<i64>,
}

/// `GET /{project}/-/jobs`
pub async fn jobs(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<JobsQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let page = query.page.unwrap_or(1).max(1);
    let statuses: Vec<CiStatus> = match query.status.as_str() {
        "" => Vec::new(),
        other => {
            let unknown = || CoreError::invalid_input("status", format!("'{other}' is not a job status"));
            vec![CiStatus::parse(other).ok_or_else(|| visitor.error(unknown()))?]
        }
    };
    let db_page = gantry_core::Page { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
    let (found, total) =
        state.core.ci().list_jobs(&frame.access, &statuses, db_page).await.map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let view = JobsPage {
        chrome: Chrome::new(&visitor),
        tab: "jobs",
        jobs: found.into_iter().map(|j| job_card(j, now)).collect(),
        status: query.status,
        has_next: page * PAGE_SIZE < total,
        page,
        frame,
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "projects/job.html")]
struct JobPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    card: JobCard,
    pipeline: PipelineRow,
    /// The rendered log of a finished job (a running one's arrives over the stream).
    log_html: String,
    live: bool,
    can_run: bool,
    artifacts: Vec<super::artifacts::ArtifactLine>,
    has_archive: bool,
    /// Some artifact will expire (so "Keep" means something).
    expiring: bool,
    /// A trigger job's downstream pipeline: its project's path, id and status, when it has
    /// one the visitor may see.
    downstream: Option<(String, gantry_types::PipelineId, &'static str)>,
    error: Option<String>,
}

/// A finished job's whole log as HTML.
async fn rendered_log(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    job: &JobRow,
) -> Result<String, PageError> {
    let (log, _) = state.core.ci().job_trace(&frame.access, job.id, 0).await.map_err(|e| visitor.error(e))?;
    Ok(LogRenderer::render_all(&log))
}

async fn job_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    id: &str,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let id = id_of(id, "job").map_err(|e| visitor.error(e))?;
    let (job, pipeline) = state.core.ci().job(&frame.access, id).await.map_err(|e| visitor.error(e))?;
    let downstream = if job.bridge {
        let bridges = state.core.ci().bridges(&frame.access, job.pipeline_id).await.map_err(|e| visitor.error(e))?;
        bridges
            .into_iter()
            .find(|b| b.job.id == job.id)
            .and_then(|b| b.downstream)
            .map(|(pipeline, project)| (project.full_path, pipeline.id, pipeline.status.label()))
    } else {
        None
    };
    // A trigger job writes no log; a running one follows its pipeline, not a stream.
    let live = job.status.is_live() && !job.bridge;
    let log_html = if live || job.bridge { String::new() } else { rendered_log(state, visitor, &frame, &job).await? };
    let artifacts = state.core.ci().job_artifacts(&frame.access, job.id).await.map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = JobPage {
        chrome: Chrome::new(visitor),
        tab: "pipelines",
        card: job_card(job, now),
        pipeline,
        log_html,
        live,
        has_archive: artifacts.iter().any(|a| a.file_type == "archive"),
        expiring: artifacts.iter().any(|a| a.expire_at.is_some()),
        artifacts: super::artifacts::artifact_lines(&artifacts),
        can_run: frame.access.can(ProjectAction::RunPipelines),
        downstream,
        error,
        frame,
    };
    render(status, &page)
}

/// `GET /{project}/-/jobs/{job_id}`: the job and its log (streaming while it runs).
pub async fn job(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    job_page(&state, &visitor, target, &id, None).await
}

/// `GET /{project}/-/jobs/{job_id}/raw`: the log as plain text.
pub async fn job_raw(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "job").map_err(|e| visitor.error(e))?;
    let body = log_body(&state.core, &frame.access, id).await.map_err(|e| visitor.error(e))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// A job's log as a streamed body, read a page of pieces at a time, so a large log never sits
/// whole in memory. The first page is read before answering, so a missing job is a 404; the
/// visitor is authorised once, by the access the request loaded.
pub async fn log_body(
    core: &gantry_core::Core,
    access: &ProjectAccess,
    job: JobId,
) -> Result<axum::body::Body, CoreError> {
    let first = core.ci().job_trace_pieces(access, job, 0).await?;
    let start = (core.clone(), access.clone(), job, Some(first), 0_i64);
    let pages = futures_util::stream::unfold(start, |(core, access, job, read, next)| async move {
        let pieces = match read {
            Some(pieces) => pieces,
            None => match core.ci().job_trace_pieces(&access, job, next).await {
                Ok(pieces) => pieces,
                Err(error) => {
                    return Some((
                        Err(std::io::Error::other(error.to_string())),
                        (core, access, job, Some(Vec::new()), next),
                    ));
                }
            },
        };
        let (last, _) = pieces.last()?;
        let after = last + 1;
        let bytes: Vec<u8> = pieces.into_iter().flat_map(|(_, bytes)| bytes).collect();
        Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)), (core, access, job, None, after)))
    });
    Ok(axum::body::Body::from_stream(pages))
}

/// `GET /{project}/-/jobs/{job_id}/stream`: Server-Sent Events with the log as rendered HTML
/// lines (`log` events), the job's status (`status`) and `end` when the job has finished.
pub async fn job_stream(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "job").map_err(|e| visitor.error(e))?;
    state.core.ci().job(&frame.access, id).await.map_err(|e| visitor.error(e))?;
    let mut events = state.core.ci().ci_events();
    let core = state.core.clone();
    let access = frame.access;
    let stream = event_stream(move |sender| async move {
        let mut renderer = LogRenderer::new();
        let mut next = 0;
        let mut last_status = None;
        loop {
            // Read what is new, render complete lines, send them.
            loop {
                let Ok(pieces) = core.ci().job_trace_pieces(&access, id, next).await else { return };
                let Some((last, _)) = pieces.last() else { break };
                next = last + 1;
                let mut html = String::new();
                for (_, bytes) in pieces {
                    html.push_str(&renderer.push(&bytes));
                }
                if !html.is_empty() && sender.send(Event::default().event("log").data(html)).await.is_err() {
                    return;
                }
            }
            let Ok((job, _)) = core.ci().job(&access, id).await else { return };
            if Some(job.status) != last_status {
                last_status = Some(job.status);
                if sender.send(Event::default().event("status").data(job.status.label())).await.is_err() {
                    return;
                }
            }
            if !job.status.is_live() {
                let rest = renderer.finish();
                if !rest.is_empty() {
                    let _ = sender.send(Event::default().event("log").data(rest)).await;
                }
                let _ = sender.send(Event::default().event("end").data(job.status.label())).await;
                return;
            }
            // Wait for this job's next piece or status change (or look again after a while,
            // for changes made by another server replica).
            let wait = async {
                loop {
                    match events.recv().await {
                        Ok(gantry_core::ci::CiEvent::Trace(j) | gantry_core::ci::CiEvent::Job(j)) if j == id => return,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// A stream of Server-Sent Events fed by a task through a small channel (the task ends when
/// the client goes away).
pub(crate) fn event_stream<F, Fut>(produce: F) -> impl futures_util::Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(16);
    tokio::spawn(produce(sender));
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    })
}

async fn job_action(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    id: &str,
    action: &str,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let job_id = id_of(id, "job").map_err(|e| visitor.error(e))?;
    let project = &frame.project;
    let done = match action {
        "cancel" => state.core.ci().cancel_job(&visitor.actor, project, job_id).await,
        "retry" => state.core.ci().retry_job(&visitor.actor, project, job_id).await,
        "play" => state.core.ci().play_job(&visitor.actor, project, job_id).await,
        _ => return Err(crate::ui::not_found().await),
    };
    match done {
        Ok(job) => see_other(&format!("/{}/-/jobs/{}", project.full_path, job.id)),
        Err(error @ (CoreError::Conflict(_) | CoreError::Invalid { .. })) => {
            job_page(state, visitor, target, id, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/jobs/{job_id}/{action}`: `cancel`, `retry` or `play` a job.
pub async fn change_job(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    job_action(&state, &visitor, target, &id, &action).await
}
