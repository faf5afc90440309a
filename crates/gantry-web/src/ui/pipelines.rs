//! CI pages of a project: pipelines (list with filters, one pipeline's stages and jobs, "Run
//! pipeline"), jobs (list, one job with its log streaming live over Server-Sent Events, the raw
//! log) and the actions on them (cancel, retry, play, delete).

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use gantry_core::ci::{JobRow, PipelineFilter, PipelineRow};
use gantry_core::policy::ProjectAction;
use gantry_core::{CoreError, now_millis};
use serde::Deserialize;

use super::log::LogRenderer;
use super::repository::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;

const PAGE_SIZE: i64 = 30;

/// How a status looks: its label and CSS class.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "success" => "passed",
        "failed" => "failed",
        "running" => "running",
        "pending" => "pending",
        "created" => "created",
        "canceled" => "canceled",
        "skipped" => "skipped",
        "manual" => "manual",
        "scheduled" => "delayed",
        "waiting_for_resource" => "waiting",
        _ => "unknown",
    }
}

/// A length of time as `1m 05s`.
pub fn duration_text(millis: i64) -> String {
    let seconds = millis.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, (seconds % 3600) / 60),
    }
}

fn id_of(value: &str, what: &'static str) -> Result<i64, CoreError> {
    value.parse::<i64>().map_err(|_| CoreError::NotFound(what))
}

/// A pipeline row of the list.
pub struct PipelineLine {
    pub pipeline: PipelineRow,
    pub status: &'static str,
    pub when: String,
    pub duration: Option<String>,
}

impl PipelineLine {
    fn new(pipeline: PipelineRow, now: i64) -> PipelineLine {
        PipelineLine {
            status: status_label(&pipeline.status),
            when: ago(pipeline.created_at, now),
            duration: pipeline.started_at.zip(pipeline.finished_at).map(|(s, f)| duration_text(f - s)),
            pipeline,
        }
    }
}

#[derive(Template)]
#[template(path = "projects/pipelines.html")]
struct PipelinesPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    pipelines: Vec<PipelineLine>,
    status: String,
    ref_name: String,
    page: i64,
    has_next: bool,
    can_run: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct PipelinesQuery {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "ref")]
    ref_name: String,
    page: Option<i64>,
}

/// `GET /{project}/-/pipelines`
pub async fn pipelines(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<PipelinesQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let page = query.page.unwrap_or(1).max(1);
    let status = Some(query.status.as_str()).filter(|s| !s.is_empty());
    let filter = PipelineFilter {
        status,
        ref_name: Some(query.ref_name.as_str()).filter(|s| !s.is_empty()),
        ..PipelineFilter::default()
    };
    let db_page = gantry_core::Page { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
    let (found, total) = state
        .core
        .list_pipelines(&visitor.actor, &frame.project, &filter, db_page)
        .await
        .map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let can_run =
        frame.role.is_some_and(|l| l >= ProjectAction::RunPipelines.required_level()) && !frame.project.archived;
    let page_view = PipelinesPage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        pipelines: found.into_iter().map(|p| PipelineLine::new(p, now)).collect(),
        status: query.status,
        ref_name: query.ref_name,
        has_next: page * PAGE_SIZE < total,
        page,
        can_run,
        frame,
    };
    render(StatusCode::OK, &page_view)
}

/// A job as the pipeline page shows it.
pub struct JobCard {
    pub job: JobRow,
    pub status: &'static str,
    pub needs: Vec<String>,
    pub duration: Option<String>,
}

/// A stage column of the pipeline graph.
pub struct StageColumn {
    pub name: String,
    pub jobs: Vec<JobCard>,
}

#[derive(Template)]
#[template(path = "projects/pipeline.html")]
struct PipelinePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    line: PipelineLine,
    stages: Vec<StageColumn>,
    retried: Vec<JobCard>,
    can_run: bool,
    can_delete: bool,
    active: bool,
    has_failed: bool,
    error: Option<String>,
}

fn job_card(job: JobRow, now: i64) -> JobCard {
    JobCard {
        status: status_label(&job.status),
        needs: job.needs.as_deref().and_then(|n| serde_json::from_str(n).ok()).unwrap_or_default(),
        duration: job.started_at.map(|s| duration_text(job.finished_at.unwrap_or(now) - s)),
        job,
    }
}

async fn pipeline_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    id: &str,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let id = id_of(id, "pipeline").map_err(|e| visitor.error(e))?;
    let (pipeline, jobs) =
        state.core.pipeline(&visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let mut stages: Vec<StageColumn> = Vec::new();
    let mut retried = Vec::new();
    let mut ordered = jobs;
    ordered.sort_by_key(|j| (j.stage_idx, j.id));
    let active = ordered
        .iter()
        .any(|j| !j.retried && matches!(j.status.as_str(), "created" | "pending" | "running" | "scheduled" | "manual"));
    let has_failed = ordered.iter().any(|j| !j.retried && matches!(j.status.as_str(), "failed" | "canceled"));
    for job in ordered {
        if job.retried {
            retried.push(job_card(job, now));
            continue;
        }
        match stages.last_mut() {
            Some(column) if column.name == job.stage => column.jobs.push(job_card(job, now)),
            _ => stages.push(StageColumn { name: job.stage.clone(), jobs: vec![job_card(job, now)] }),
        }
    }
    let role = frame.role;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = PipelinePage {
        chrome: Chrome::new(visitor),
        tab: "pipelines",
        line: PipelineLine::new(pipeline, now),
        stages,
        retried,
        can_run: role.is_some_and(|l| l >= ProjectAction::RunPipelines.required_level()) && !frame.project.archived,
        can_delete: role.is_some_and(|l| l >= ProjectAction::DeletePipelines.required_level()),
        active,
        has_failed,
        error,
        frame,
    };
    render(status, &page)
}

/// `GET /{project}/-/pipelines/{pipeline_id}`
pub async fn pipeline(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    pipeline_page(&state, &visitor, target, &id, None).await
}

/// What a pipeline or job action asks for.
#[derive(Debug, Clone, Copy)]
enum Action {
    Cancel,
    Retry,
    Delete,
}

async fn pipeline_action(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    id: &str,
    action: Action,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let pipeline_id = id_of(id, "pipeline").map_err(|e| visitor.error(e))?;
    let project = &frame.project;
    let done = match action {
        Action::Cancel => state.core.cancel_pipeline(&visitor.actor, project, pipeline_id).await.map(|_| ()),
        Action::Retry => state.core.retry_pipeline(&visitor.actor, project, pipeline_id).await.map(|_| ()),
        Action::Delete => state.core.delete_pipeline(&visitor.actor, project, pipeline_id).await,
    };
    match (done, action) {
        (Ok(()), Action::Delete) => see_other(&format!("/{}/-/pipelines", project.full_path)),
        (Ok(()), _) => see_other(&format!("/{}/-/pipelines/{pipeline_id}", project.full_path)),
        (Err(error @ (CoreError::Conflict(_) | CoreError::Invalid { .. })), _) => {
            pipeline_page(state, visitor, target, id, Some(form_error(error))).await
        }
        (Err(error), _) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/pipelines/{pipeline_id}/{action}`: `cancel` the pipeline or `retry` its
/// failed jobs.
pub async fn change_pipeline(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let action = match action.as_str() {
        "cancel" => Action::Cancel,
        "retry" => Action::Retry,
        _ => return Err(crate::ui::not_found().await),
    };
    pipeline_action(&state, &visitor, target, &id, action).await
}

/// `POST /{project}/-/pipelines/{pipeline_id}/delete`
pub async fn delete_pipeline(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    pipeline_action(&state, &visitor, target, &id, Action::Delete).await
}

#[derive(Template)]
#[template(path = "projects/pipeline_new.html")]
struct NewPipelinePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    ref_name: String,
    variables: Vec<(String, String)>,
    error: Option<String>,
}

/// `GET /{project}/-/pipelines/new`
pub async fn new_pipeline_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    state
        .core
        .authorize_project(&visitor.actor, &frame.project, ProjectAction::RunPipelines)
        .await
        .map_err(|e| visitor.error(e))?;
    let page = NewPipelinePage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        ref_name: frame.project.default_branch.clone(),
        variables: vec![(String::new(), String::new()); 3],
        error: None,
        frame,
    };
    render(StatusCode::OK, &page)
}

/// `POST /{project}/-/pipelines`: runs a pipeline for a ref with variables (`key`/`value`
/// pairs in form order).
pub async fn run_pipeline(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let ref_name = form.iter().find(|(k, _)| k == "ref").map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let keys = form.iter().filter(|(k, _)| k == "key").map(|(_, v)| v.trim().to_owned());
    let values = form.iter().filter(|(k, _)| k == "value").map(|(_, v)| v.clone());
    let typed: Vec<(String, String)> = keys.zip(values).collect();
    let variables: Vec<(String, String)> = typed.iter().filter(|(k, _)| !k.is_empty()).cloned().collect();
    match state.core.run_pipeline(&visitor.actor, &frame.project, &ref_name, variables, "web").await {
        Ok(pipeline) => see_other(&format!("/{}/-/pipelines/{}", frame.project.full_path, pipeline.id)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            let (status, message) = form_error(error);
            let page = NewPipelinePage {
                chrome: Chrome::new(&visitor),
                tab: "pipelines",
                ref_name,
                variables: typed,
                error: Some(message),
                frame,
            };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

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
    let statuses: Vec<&str> = Some(query.status.as_str()).filter(|s| !s.is_empty()).into_iter().collect();
    let db_page = gantry_core::Page { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
    let (found, total) =
        state.core.list_jobs(&visitor.actor, &frame.project, &statuses, db_page).await.map_err(|e| visitor.error(e))?;
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
    error: Option<String>,
}

/// A finished job's whole log as HTML.
async fn rendered_log(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    job: &JobRow,
) -> Result<String, PageError> {
    let (log, _) =
        state.core.job_trace(&visitor.actor, &frame.project, job.id, 0).await.map_err(|e| visitor.error(e))?;
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
    let (job, pipeline) = state.core.job(&visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    let live = matches!(job.status.as_str(), "created" | "pending" | "running" | "scheduled");
    let log_html = if live { String::new() } else { rendered_log(state, visitor, &frame, &job).await? };
    let now = now_millis();
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = JobPage {
        chrome: Chrome::new(visitor),
        tab: "pipelines",
        card: job_card(job, now),
        pipeline,
        log_html,
        live,
        can_run: frame.role.is_some_and(|l| l >= ProjectAction::RunPipelines.required_level())
            && !frame.project.archived,
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
    let body = log_body(&state.core, &visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// A job's log as a streamed body, read a page of pieces at a time, so a large log never sits
/// whole in memory. The first page is read before answering, so a missing job is a 404.
pub async fn log_body(
    core: &gantry_core::Core,
    actor: &gantry_core::Actor,
    project: &gantry_core::ProjectRow,
    job: i64,
) -> Result<axum::body::Body, CoreError> {
    let first = core.job_trace_pieces(actor, project, job, 0).await?;
    let start = (core.clone(), actor.clone(), project.clone(), job, Some(first), 0_i64);
    let pages = futures_util::stream::unfold(start, |(core, actor, project, job, read, next)| async move {
        let pieces = match read {
            Some(pieces) => pieces,
            None => match core.job_trace_pieces(&actor, &project, job, next).await {
                Ok(pieces) => pieces,
                Err(error) => {
                    return Some((
                        Err(std::io::Error::other(error.to_string())),
                        (core, actor, project, job, Some(Vec::new()), next),
                    ));
                }
            },
        };
        let (last, _) = pieces.last()?;
        let after = last + 1;
        let bytes: Vec<u8> = pieces.into_iter().flat_map(|(_, bytes)| bytes).collect();
        Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)), (core, actor, project, job, None, after)))
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
    state.core.job(&visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    let mut events = state.core.ci_events();
    let core = state.core.clone();
    let actor = visitor.actor.clone();
    let project = frame.project;
    let stream = async_stream(move |sender| async move {
        let mut renderer = LogRenderer::new();
        let mut next = 0;
        let mut last_status = String::new();
        loop {
            // Read what is new, render complete lines, send them.
            loop {
                let Ok(pieces) = core.job_trace_pieces(&actor, &project, id, next).await else { return };
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
            let Ok((job, _)) = core.job(&actor, &project, id).await else { return };
            if job.status != last_status {
                last_status = job.status.clone();
                if sender.send(Event::default().event("status").data(status_label(&job.status))).await.is_err() {
                    return;
                }
            }
            if !matches!(job.status.as_str(), "created" | "pending" | "running" | "scheduled") {
                let rest = renderer.finish();
                if !rest.is_empty() {
                    let _ = sender.send(Event::default().event("log").data(rest)).await;
                }
                let _ = sender.send(Event::default().event("end").data(status_label(&job.status))).await;
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

/// A stream fed by a task through a small channel (the task ends when the client goes away).
fn async_stream<F, Fut>(produce: F) -> impl futures_util::Stream<Item = Result<Event, Infallible>>
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
        "cancel" => state.core.cancel_job(&visitor.actor, project, job_id).await,
        "retry" => state.core.retry_job(&visitor.actor, project, job_id).await,
        "play" => state.core.play_job(&visitor.actor, project, job_id).await,
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
