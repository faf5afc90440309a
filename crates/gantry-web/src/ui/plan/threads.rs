//! Threads on an issue's page: the reply form under a thread's last note and the button that
//! resolves or reopens it (the comment form starts one). Core decides who may.

use axum::Extension;
use axum::extract::{Path, State};

use super::issue::after_change;
use super::issue_iid;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::project_frame::ProjectFrame;

/// `POST /{project}/-/issues/{iid}/discussions/{discussion_id}/reply` (`body`)
pub async fn reply(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, discussion)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let body = Fields(form).get("body").to_owned();
    let replied = state.core.plan().reply_to_issue_discussion(&frame.access, iid, &discussion, &body).await;
    after_change(&state, &visitor, frame, iid, replied.map(|_| "Your reply was added.".to_owned()), String::new()).await
}

/// `POST /{project}/-/issues/{iid}/discussions/{discussion_id}/resolve` (`resolved=yes|no`)
pub async fn resolve(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, discussion)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let resolved = Fields(form).get("resolved") != "no";
    let outcome = state.core.plan().resolve_issue_discussion(&frame.access, iid, &discussion, resolved).await;
    let notice = if resolved { "Thread resolved." } else { "Thread reopened." };
    after_change(&state, &visitor, frame, iid, outcome.map(|_| notice.to_owned()), String::new()).await
}
