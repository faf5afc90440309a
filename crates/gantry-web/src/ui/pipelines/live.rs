//! The live pipeline pages: Server-Sent Events that send the changing part of the pipeline list,
//! or of one pipeline's page, again whenever a CI event says it changed (the same events the live
//! job log waits on).

use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use gantry_core::ci::CiEvent;
use serde::Deserialize;
use tokio::sync::broadcast;

use super::{PipelinesQuery, id_of, listed_pipelines, pipeline_view, render_pipeline_live, render_pipelines_table};
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::Chrome;
use crate::ui::jobs::event_stream;
use crate::ui::project_frame::ProjectFrame;

/// How long a live view waits for an event before it looks again anyway (a change another
/// server made may not have been signalled here).
const LIVE_FALLBACK: Duration = Duration::from_secs(5);

/// `GET /{project}/-/pipelines/stream` (the list's `status`, `ref`, `page`): Server-Sent Events,
/// `pipelines` with the list's rows as HTML whenever they change (its id is their version), and
/// `end` once no pipeline listed is running.
pub async fn pipelines_stream(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<PipelinesQuery>,
) -> Result<Response, PageError> {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let first = listed_pipelines(&state, &frame.access, &query).await.map_err(|e| visitor.error(e))?;
    let mut events = state.core.ci().ci_events();
    let stream = event_stream(move |sender| async move {
        let mut seen = query.seen.clone();
        let mut listed = Some(first);
        loop {
            let current = match listed.take() {
                Some(current) => current,
                None => match listed_pipelines(&state, &frame.access, &query).await {
                    Ok(current) => current,
                    Err(_) => return,
                },
            };
            let live = current.pipelines.iter().any(|p| p.status.is_live());
            if current.version != seen {
                seen.clone_from(&current.version);
                let html = render_pipelines_table(&frame, &query, current);
                let event = Event::default().event("pipelines").id(seen.clone()).data(html);
                if sender.send(event).await.is_err() {
                    return;
                }
            }
            if !live {
                // Nothing listed runs: the page looks again now and then instead of holding a
                // stream open (it comes back with the version it has).
                let _ = sender.send(Event::default().event("end").data(seen.clone())).await;
                return;
            }
            // Any pipeline's change may add one to this list or change one in it.
            let wanted = |event: &CiEvent| matches!(event, CiEvent::Pipeline(_));
            if !wait_for_ci_event(&mut events, wanted, Some(LIVE_FALLBACK)).await {
                return;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PipelineStreamQuery {
    /// The version of the page the visitor has (the stream sends only a newer one).
    #[serde(default)]
    seen: String,
}

/// `GET /{project}/-/pipelines/{pipeline_id}/stream`: Server-Sent Events, `pipeline` with the
/// page's changing part (status, buttons, jobs) as HTML whenever the pipeline or a job of it
/// changes (its id is the version), and `end` once nothing of it can change by itself
/// (finished, no blocking manual job waiting).
pub async fn pipeline_stream(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    Query(query): Query<PipelineStreamQuery>,
) -> Result<Response, PageError> {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "pipeline").map_err(|e| visitor.error(e))?;
    let first = pipeline_view(&state, &frame.access, id).await.map_err(|e| visitor.error(e))?;
    let chrome = Chrome::new(&visitor);
    let mut events = state.core.ci().ci_events();
    let stream = event_stream(move |sender| async move {
        let mut seen = query.seen;
        let mut view = Some(first);
        loop {
            let current = match view.take() {
                Some(current) => current,
                None => match pipeline_view(&state, &frame.access, id).await {
                    Ok(current) => current,
                    Err(_) => return,
                },
            };
            if current.version != seen {
                seen.clone_from(&current.version);
                let html = render_pipeline_live(&chrome, &frame, &current);
                let event = Event::default().event("pipeline").id(seen.clone()).data(html);
                if sender.send(event).await.is_err() {
                    return;
                }
            }
            if !current.live {
                let _ = sender.send(Event::default().event("end").data(current.line.status)).await;
                return;
            }
            let ours = |event: &CiEvent| match event {
                CiEvent::Pipeline(pipeline) => *pipeline == id,
                CiEvent::Job(job) => current.job_ids.contains(job),
                CiEvent::Trace(_) => false,
            };
            if !wait_for_ci_event(&mut events, ours, current.busy.then_some(LIVE_FALLBACK)).await {
                return;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// Waits for a CI event `wanted` accepts (then lets a burst of events pass), or until
/// `fallback` has passed. False when no event can come any more (the server is stopping).
async fn wait_for_ci_event(
    events: &mut broadcast::Receiver<CiEvent>,
    wanted: impl Fn(&CiEvent) -> bool,
    fallback: Option<Duration>,
) -> bool {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return true,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    };
    let woken = match fallback {
        Some(after) => tokio::time::timeout(after, wait).await.unwrap_or(true),
        None => wait.await,
    };
    // A job's end moves its pipeline on right after: one look after the burst, not one each.
    tokio::time::sleep(Duration::from_millis(100)).await;
    while events.try_recv().is_ok() {}
    woken
}
