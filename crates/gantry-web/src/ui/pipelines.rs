//! Pipeline pages of a project: the list with filters, one pipeline's stages and jobs (both kept
//! up to date while they are open by [`live`]), "Run pipeline", and cancel/retry/delete; its
//! Code quality tab is [`codequality`], its Tests tab [`super::test_reports`]. Job pages are in
//! [`super::jobs`], the CI lint page in [`super::ci_lint`].
//!
//! Long because the list, the pipeline page and the "Run pipeline" form share the views and
//! the actions they offer.

use std::hash::{DefaultHasher, Hash, Hasher};

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::ci::{JobRow, PipelineFilter, PipelineRow};
use gantry_core::policy::{ProjectAccess, ProjectAction};
use gantry_core::{CoreError, CoreResult, now_millis};
use gantry_types::{CiStatus, JobId, PipelineId};
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;

pub mod codequality;
pub mod live;

pub(crate) const PAGE_SIZE: i64 = 30;

/// A length of time as `1m 05s`.
pub fn duration_text(millis: i64) -> String {
    let seconds = millis.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// An id from the path: one that is not a number names nothing.
pub(crate) fn id_of<T: std::str::FromStr>(value: &str, what: &'static str) -> Result<T, CoreError> {
    value.parse::<T>().map_err(|_| CoreError::NotFound(what))
}

/// A pipeline row of the list.
pub struct PipelineLine {
    pub pipeline: PipelineRow,
    pub status: &'static str,
    pub when: String,
    pub duration: Option<String>,
}

/// A pipeline's status as GitLab shows it: one waiting for a blocking manual job is "blocked".
pub(crate) fn pipeline_status_label(status: CiStatus) -> &'static str {
    match status {
        CiStatus::Manual => "blocked",
        other => other.label(),
    }
}

impl PipelineLine {
    pub(crate) fn new(pipeline: PipelineRow, now: i64) -> PipelineLine {
        PipelineLine {
            status: pipeline_status_label(pipeline.status),
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
    /// The list's part that changes while pipelines run (rendered [`PipelinesTable`]).
    table_html: String,
    stream: String,
    status: String,
    ref_name: String,
    can_run: bool,
}

/// The pipeline list's rows and pager, which the stream sends again when they change.
#[derive(Template)]
#[template(path = "projects/_pipelines_table.html")]
struct PipelinesTable<'a> {
    frame: &'a ProjectFrame,
    pipelines: Vec<PipelineLine>,
    status: &'a str,
    ref_name: &'a str,
    page: i64,
    has_next: bool,
    can_run: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct PipelinesQuery {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "ref")]
    ref_name: String,
    page: Option<i64>,
    /// The version of the list the page shows (the stream sends only a newer one).
    #[serde(default)]
    seen: String,
}

/// One page of the list as the visitor asked for it.
struct ListedPipelines {
    pipelines: Vec<PipelineRow>,
    has_next: bool,
    /// Changes when what the rows show changes.
    version: String,
}

async fn listed_pipelines(
    state: &AppState,
    access: &ProjectAccess,
    query: &PipelinesQuery,
) -> CoreResult<ListedPipelines> {
    let page = query.page.unwrap_or(1).max(1);
    let status = match query.status.as_str() {
        "" => None,
        other => Some(
            CiStatus::parse(other)
                .ok_or_else(|| CoreError::invalid_input("status", format!("'{other}' is not a pipeline status")))?,
        ),
    };
    let filter = PipelineFilter {
        status,
        ref_name: Some(query.ref_name.as_str()).filter(|s| !s.is_empty()),
        ..PipelineFilter::default()
    };
    let db_page = gantry_core::Page { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
    let (pipelines, total) = state.core.ci().list_pipelines(access, &filter, db_page).await?;
    let mut hasher = DefaultHasher::new();
    for pipeline in &pipelines {
        (pipeline.id.0, pipeline.status.as_str(), pipeline.started_at, pipeline.finished_at).hash(&mut hasher);
    }
    total.hash(&mut hasher);
    Ok(ListedPipelines { pipelines, has_next: page * PAGE_SIZE < total, version: format!("{:016x}", hasher.finish()) })
}

fn render_pipelines_table(frame: &ProjectFrame, query: &PipelinesQuery, listed: ListedPipelines) -> String {
    let now = now_millis();
    let table = PipelinesTable {
        frame,
        pipelines: listed.pipelines.into_iter().map(|p| PipelineLine::new(p, now)).collect(),
        status: &query.status,
        ref_name: &query.ref_name,
        page: query.page.unwrap_or(1).max(1),
        has_next: listed.has_next,
        can_run: frame.access.can(ProjectAction::RunPipelines),
    };
    rendered_fragment(&table)
}

/// A part of a page as HTML (a template that fails shows as nothing, and is logged).
fn rendered_fragment(fragment: &impl Template) -> String {
    fragment.render().unwrap_or_else(|error| {
        tracing::error!(%error, "template failed to render");
        String::new()
    })
}

/// `GET /{project}/-/pipelines`
pub async fn pipelines(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<PipelinesQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let listed = listed_pipelines(&state, &frame.access, &query).await.map_err(|e| visitor.error(e))?;
    let page = query.page.unwrap_or(1).max(1).to_string();
    let same_list =
        [("status", query.status.as_str()), ("ref", &query.ref_name), ("page", &page), ("seen", &listed.version)];
    let stream = format!(
        "/{}/-/pipelines/stream?{}",
        frame.project.full_path,
        serde_urlencoded::to_string(same_list).unwrap_or_default()
    );
    let page_view = PipelinesPage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        table_html: render_pipelines_table(&frame, &query, listed),
        stream,
        status: query.status,
        ref_name: query.ref_name,
        can_run: frame.access.can(ProjectAction::RunPipelines),
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
    /// Where the card leads instead of the job's page: a trigger job's downstream pipeline.
    pub downstream_href: Option<String>,
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
    pipeline_id: PipelineId,
    /// The page's part that changes while the pipeline runs (rendered [`PipelineLive`]).
    live_html: String,
    stream: String,
    error: Option<String>,
}

/// A pipeline a trigger job started, as the graph shows it beside the stages.
pub struct DownstreamCard {
    pub job_name: String,
    pub pipeline: PipelineRow,
    /// The downstream pipeline's project path, when it is another project's.
    pub other_project: Option<String>,
    pub project_path: String,
    pub status: &'static str,
}

/// The trigger job that started a pipeline, as its page names it.
pub struct UpstreamLine {
    pub job_name: String,
    pub job_id: JobId,
    pub pipeline_id: PipelineId,
    pub project_path: String,
    /// A child pipeline (the same project), not another project's.
    pub child: bool,
}

/// What a pipeline's page shows of it, read afresh for each look.
struct PipelineView {
    line: PipelineLine,
    stages: Vec<StageColumn>,
    downstream: Vec<DownstreamCard>,
    upstream: Option<UpstreamLine>,
    retried: Vec<JobCard>,
    /// Some job may still be canceled (GitLab's cancelable statuses: not manual jobs).
    cancelable: bool,
    /// Some current job failed or was canceled (so "Retry failed jobs" has work).
    has_failed: bool,
    /// No job is running (a running pipeline is canceled before it is deleted).
    deletable: bool,
    /// How many test cases the jobs reported (the Tests tab's count).
    test_count: usize,
    /// How many code quality findings the jobs reported; None without a report (no tab).
    quality_count: Option<usize>,
    /// The pipeline may still change: it runs, or waits for a person (a blocking manual job).
    live: bool,
    /// A job is on its way (queued, running, delayed): the view looks again now and then even
    /// without being told of a change.
    busy: bool,
    job_ids: Vec<JobId>,
    /// Changes when what the page shows changes.
    version: String,
}

/// The part of a pipeline's page the stream sends again: status, buttons, tabs and jobs.
#[derive(Template)]
#[template(path = "projects/_pipeline_live.html")]
struct PipelineLive<'a> {
    chrome: &'a Chrome,
    frame: &'a ProjectFrame,
    line: &'a PipelineLine,
    stages: &'a [StageColumn],
    downstream: &'a [DownstreamCard],
    upstream: Option<&'a UpstreamLine>,
    retried: &'a [JobCard],
    can_run: bool,
    can_delete: bool,
    cancelable: bool,
    has_failed: bool,
    deletable: bool,
    test_count: usize,
    quality_count: Option<usize>,
}

pub(crate) fn job_card(job: JobRow, now: i64) -> JobCard {
    JobCard {
        status: job.status.label(),
        needs: job.needs.as_deref().and_then(|n| serde_json::from_str(n).ok()).unwrap_or_default(),
        duration: job.started_at.map(|s| duration_text(job.finished_at.unwrap_or(now) - s)),
        downstream_href: None,
        job,
    }
}

async fn pipeline_view(state: &AppState, access: &ProjectAccess, id: PipelineId) -> CoreResult<PipelineView> {
    let (pipeline, jobs) = state.core.ci().pipeline(access, id).await?;
    let tests = state.core.ci().pipeline_test_summary(access, id).await?;
    let quality_count = state.core.ci().pipeline_codequality_count(access, id).await?;
    let now = now_millis();
    let mut hasher = DefaultHasher::new();
    (pipeline.status.as_str(), pipeline.started_at, pipeline.finished_at, tests.counts.total, quality_count)
        .hash(&mut hasher);
    let mut downstream = Vec::new();
    if jobs.iter().any(|j| j.bridge) {
        for bridge in state.core.ci().bridges(access, id).await? {
            let Some((started, project)) = bridge.downstream.filter(|_| !bridge.job.retried) else { continue };
            (started.id.0, started.status.as_str()).hash(&mut hasher);
            downstream.push(DownstreamCard {
                job_name: bridge.job.name.clone(),
                status: started.status.label(),
                other_project: (project.id != access.project().id).then(|| project.full_path.clone()),
                project_path: project.full_path,
                pipeline: started,
            });
        }
    }
    let upstream = state.core.ci().upstream_of(access, &pipeline).await?.map(|(job, upstream, project)| UpstreamLine {
        job_name: job.name,
        job_id: job.id,
        pipeline_id: upstream.id,
        child: project.id == access.project().id,
        project_path: project.full_path,
    });
    let mut ordered = jobs;
    ordered.sort_by_key(|j| (j.stage_idx, j.id));
    for job in &ordered {
        (job.id.0, job.status.as_str(), job.retried, job.started_at.is_some()).hash(&mut hasher);
    }
    let current = || ordered.iter().filter(|j| !j.retried);
    let cancelable = current().any(|j| j.status.is_active());
    let has_failed = current().any(|j| matches!(j.status, CiStatus::Failed | CiStatus::Canceled));
    let deletable = !current().any(|j| j.status == CiStatus::Running);
    let live =
        pipeline.status.is_live() || pipeline.status == CiStatus::Manual || current().any(|j| j.status.is_live());
    let busy = current().any(|j| j.status.is_live() && j.status != CiStatus::Created);
    let job_ids = ordered.iter().map(|j| j.id).collect();
    let mut stages: Vec<StageColumn> = Vec::new();
    let mut retried = Vec::new();
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
    for card in stages.iter_mut().flat_map(|stage| stage.jobs.iter_mut()).filter(|card| card.job.bridge) {
        card.downstream_href = downstream
            .iter()
            .find(|d| d.job_name == card.job.name)
            .map(|d| format!("/{}/-/pipelines/{}", d.project_path, d.pipeline.id));
    }
    Ok(PipelineView {
        line: PipelineLine::new(pipeline, now),
        stages,
        downstream,
        upstream,
        retried,
        cancelable,
        has_failed,
        deletable,
        test_count: tests.counts.total,
        quality_count,
        live,
        busy,
        job_ids,
        version: format!("{:016x}", hasher.finish()),
    })
}

fn render_pipeline_live(chrome: &Chrome, frame: &ProjectFrame, view: &PipelineView) -> String {
    rendered_fragment(&PipelineLive {
        chrome,
        frame,
        line: &view.line,
        stages: &view.stages,
        downstream: &view.downstream,
        upstream: view.upstream.as_ref(),
        retried: &view.retried,
        can_run: frame.access.can(ProjectAction::RunPipelines),
        can_delete: frame.access.can(ProjectAction::DeletePipelines),
        cancelable: view.cancelable,
        has_failed: view.has_failed,
        deletable: view.deletable,
        test_count: view.test_count,
        quality_count: view.quality_count,
    })
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
    let view = pipeline_view(state, &frame.access, id).await.map_err(|e| visitor.error(e))?;
    let chrome = Chrome::new(visitor);
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = PipelinePage {
        live_html: render_pipeline_live(&chrome, &frame, &view),
        stream: format!("/{}/-/pipelines/{id}/stream?seen={}", frame.project.full_path, view.version),
        chrome,
        tab: "pipelines",
        pipeline_id: id,
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
        Action::Cancel => state.core.ci().cancel_pipeline(&visitor.actor, project, pipeline_id).await.map(|_| ()),
        Action::Retry => state.core.ci().retry_pipeline(&visitor.actor, project, pipeline_id).await.map(|_| ()),
        Action::Delete => state.core.ci().delete_pipeline(&visitor.actor, project, pipeline_id).await,
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
    /// Why the visitor may not give variables, when they may not (the fields are hidden).
    variables_refused: Option<String>,
    /// The CI file's `spec:inputs` at the ref, each with the value the form holds.
    inputs: Vec<(gantry_core::ci::catalog::ComponentInput, String)>,
    /// Why the CI file's inputs cannot be read, when they cannot.
    inputs_error: Option<String>,
    error: Option<String>,
}

/// The CI file's inputs at `ref_name`, each with the value `given` holds (its default when
/// none), or why they cannot be read.
async fn form_inputs(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    ref_name: &str,
    given: &[(String, String)],
) -> Result<(Vec<(gantry_core::ci::catalog::ComponentInput, String)>, Option<String>), CoreError> {
    let declared = match state.core.ci().pipeline_inputs_of(&visitor.actor, &frame.project, ref_name).await? {
        Ok(declared) => declared,
        Err(why) => return Ok((Vec::new(), Some(why))),
    };
    let inputs = declared
        .into_iter()
        .map(|input| {
            let value = given
                .iter()
                .find(|(name, _)| *name == input.name)
                .map(|(_, value)| value.clone())
                .or_else(|| input.default.as_ref().map(|d| d.trim_matches('"').to_owned()))
                .unwrap_or_default();
            (input, value)
        })
        .collect();
    Ok((inputs, None))
}

/// A form's text for an input of type `kind` as the value to give: a number, a boolean or a
/// JSON array when it reads as one; else the text, which the CI file's header then checks.
pub(crate) fn typed_input(kind: &str, text: &str) -> serde_json::Value {
    let typed = match kind {
        "number" => text.trim().parse::<f64>().ok().map(|n| {
            if n.fract() == 0.0 && n.abs() < 1e15 { serde_json::json!(n as i64) } else { serde_json::json!(n) }
        }),
        "boolean" => match text.trim() {
            "true" => Some(serde_json::Value::Bool(true)),
            "false" => Some(serde_json::Value::Bool(false)),
            _ => None,
        },
        "array" => serde_json::from_str::<serde_json::Value>(text).ok().filter(serde_json::Value::is_array),
        _ => None,
    };
    typed.unwrap_or_else(|| serde_json::Value::String(text.to_owned()))
}

/// The form's input values as the JSON hash core takes, each read as its declared type; a
/// value left at its default is not given, so the file's own default (of any shape) applies.
fn inputs_json(inputs: &[(gantry_core::ci::catalog::ComponentInput, String)]) -> Option<String> {
    let mut values = serde_json::Map::new();
    for (input, value) in inputs {
        if input.default.as_ref().is_some_and(|default| default.trim_matches('"') == value) {
            continue;
        }
        values.insert(input.name.clone(), typed_input(&input.kind, value));
    }
    (!values.is_empty()).then(|| serde_json::Value::Object(values).to_string())
}

/// Whether the visitor may give variables to the project's pipelines; why not when not.
async fn variables_refused(state: &AppState, visitor: &PageActor, frame: &ProjectFrame) -> Option<String> {
    state.core.ci().may_set_pipeline_variables(&visitor.actor, &frame.project).await.err().map(|e| e.to_string())
}

/// `?ref=` of the "Run pipeline" form: the branch or tag whose CI file's inputs it offers.
#[derive(Debug, Deserialize)]
pub struct NewPipelineQuery {
    #[serde(rename = "ref")]
    ref_name: Option<String>,
}

/// `GET /{project}/-/pipelines/new` (`?ref=`)
pub async fn new_pipeline_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<NewPipelineQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::RunPipelines)?;
    let ref_name =
        query.ref_name.filter(|r| !r.trim().is_empty()).unwrap_or_else(|| frame.project.default_branch.clone());
    let (inputs, inputs_error) =
        form_inputs(&state, &visitor, &frame, &ref_name, &[]).await.map_err(|e| visitor.error(e))?;
    let page = NewPipelinePage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        ref_name,
        variables: vec![(String::new(), String::new()); 3],
        variables_refused: variables_refused(&state, &visitor, &frame).await,
        inputs,
        inputs_error,
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
    let given: Vec<(String, String)> =
        form.iter().filter_map(|(k, v)| k.strip_prefix("input:").map(|name| (name.to_owned(), v.clone()))).collect();
    let (inputs, inputs_error) =
        form_inputs(&state, &visitor, &frame, &ref_name, &given).await.map_err(|e| visitor.error(e))?;
    let ci = state.core.ci();
    let run =
        ci.run_pipeline_with_inputs(&visitor.actor, &frame.project, &ref_name, variables, inputs_json(&inputs), "web");
    match run.await {
        Ok(pipeline) => see_other(&format!("/{}/-/pipelines/{}", frame.project.full_path, pipeline.id)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            let (status, message) = form_error(error);
            let page = NewPipelinePage {
                chrome: Chrome::new(&visitor),
                tab: "pipelines",
                ref_name,
                variables: typed,
                variables_refused: variables_refused(&state, &visitor, &frame).await,
                inputs,
                inputs_error,
                error: Some(message),
                frame,
            };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}
