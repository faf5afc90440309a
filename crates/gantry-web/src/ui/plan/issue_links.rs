//! An issue's linked issues on its page: the sidebar's lines (relates to, blocks, is blocked
//! by; only those whose other issue the visitor may see) and the forms that link by reference
//! (`#12`, `group/project#12`) and remove a link.

use axum::Extension;
use axum::extract::{Path, State};
use gantry_core::plan::issues::IssueView;
use gantry_core::plan::links::{LinkType, reference};
use gantry_core::policy::ProjectAction;
use gantry_core::{CoreError, CoreResult};
use gantry_types::IssueState;

use super::issue::after_change;
use super::issue_iid;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::project_frame::ProjectFrame;

/// A linked issue in the sidebar.
pub struct LinkLine {
    pub id: i64,
    /// "Relates to", "Blocks", "Is blocked by".
    pub relation: &'static str,
    /// `#2`, or `group/project#2` in another project.
    pub reference: String,
    pub href: String,
    pub title: String,
    pub closed: bool,
}

/// The sidebar's lines of an issue's links.
pub(super) async fn link_lines(
    core: &gantry_core::Core,
    frame: &ProjectFrame,
    view: &IssueView,
) -> CoreResult<Vec<LinkLine>> {
    let links = core.plan().list_issue_links(&frame.access, view.issue.iid).await?;
    Ok(links
        .iter()
        .map(|link| LinkLine {
            id: link.link.id,
            relation: match link.link_type {
                LinkType::RelatesTo => "Relates to",
                LinkType::Blocks => "Blocks",
                LinkType::IsBlockedBy => "Is blocked by",
            },
            reference: reference(&link.other, view),
            href: format!("/{}/-/issues/{}", link.other.project_path, link.other.issue.iid),
            title: link.other.issue.title.clone(),
            closed: link.other.issue.state == IssueState::Closed,
        })
        .collect())
}

/// `POST /{project}/-/issues/{iid}/links` (`reference`: `#12` or `group/project#12`;
/// `link_type`): links the issue to another.
pub async fn add_link(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    frame.access.require(ProjectAction::UpdateIssues).map_err(|e| visitor.error(e))?;
    let form = Fields(form);
    let written = form.get("reference").trim().to_owned();
    let linked = state.core.plan().link_issue_by_reference(&frame.access, iid, &written, form.get("link_type")).await;
    let outcome = linked.map(|view| format!("Linked: this issue is {} {written}.", view.link_type.describe()));
    after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}

/// `POST /{project}/-/issues/{iid}/links/{link_id}/delete`
pub async fn remove_link(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, link)): Path<(String, String)>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let link: i64 = link.parse().map_err(|_| visitor.error(CoreError::NotFound("issue link")))?;
    let outcome = state.core.plan().unlink_issues(&frame.access, iid, link).await.map(|_| "Link removed.".to_owned());
    after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}
