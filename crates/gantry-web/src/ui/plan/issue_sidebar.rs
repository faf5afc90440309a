//! The sidebar of an issue's page: the iterations it offers (its own and the current and
//! upcoming ones of the project's groups) and its form (`/-/issues/{iid}/sidebar`), which
//! changes labels, milestone, iteration, assignees, due date, weight, confidentiality and the
//! lock in one update for those who may change any issue.

use axum::Extension;
use axum::extract::{Path, State};
use gantry_core::CoreError;
use gantry_core::plan::issues::{IssueChanges, IssueView};
use gantry_core::plan::iterations::{IterationRow, iteration_name};
use gantry_core::policy::ProjectAction;
use gantry_types::{IterationId, MilestoneId};

use super::issue::after_change;
use super::issues::Fields;
use super::{issue_iid, usernames};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::project_frame::ProjectFrame;

/// An issue's iteration (its name and address) and, for those who may change it, the
/// iterations the sidebar offers: id, name, chosen (none when the project is in no group).
pub(super) async fn iterations(
    state: &AppState,
    frame: &ProjectFrame,
    view: &IssueView,
    can_manage: bool,
) -> Result<(Option<(String, String)>, Vec<(i64, String, bool)>), CoreError> {
    let iteration_label = |it: &IterationRow| format!("{} ({})", iteration_name(it), it.cadence_title);
    let iteration =
        view.iteration.as_ref().map(|it| (iteration_label(it), format!("/{}/-/iterations/{}", it.group_path, it.id)));
    let iteration_choices = if can_manage {
        let mut iterations = state.core.plan().iterations_for_issues(&frame.access).await?;
        if let Some(own) = view.iteration.as_ref().filter(|own| !iterations.iter().any(|it| it.id == own.id)) {
            iterations.insert(0, own.clone());
        }
        let chosen = view.iteration.as_ref().map(|it| it.id);
        iterations.iter().map(|it| (it.id.0, iteration_label(it), Some(it.id) == chosen)).collect()
    } else {
        Vec::new()
    };
    Ok((iteration, iteration_choices))
}

/// `POST /{project}/-/issues/{iid}/sidebar`: labels, assignees, due date, weight and
/// confidentiality (those who may change any issue).
pub async fn save_sidebar(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::UpdateIssues)?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let form = Fields(form);
    let outcome = async {
        let weight = match form.get("weight").trim() {
            "" => None,
            text => {
                Some(text.parse::<i64>().map_err(|_| CoreError::invalid_input("weight", "must be a whole number"))?)
            }
        };
        let assignee_ids = state.core.plan().user_ids_by_usernames(&usernames(form.get("assignees"))).await?;
        let milestone_id = match form.get("milestone_id").trim() {
            "" | "0" => None,
            text => Some(MilestoneId(
                text.parse::<i64>().map_err(|_| CoreError::invalid_input("milestone_id", "is not a milestone"))?,
            )),
        };
        // The form has the field only when the project is in a group (iterations are groups').
        let iteration_id = match form.find("iteration_id").map(str::trim) {
            None => None,
            Some("" | "0") => Some(None),
            Some(text) => Some(Some(IterationId(
                text.parse::<i64>().map_err(|_| CoreError::invalid_input("iteration_id", "is not an iteration"))?,
            ))),
        };
        let changes = IssueChanges {
            labels: Some(form.all("labels")),
            milestone_id: Some(milestone_id),
            iteration_id,
            assignee_ids: Some(assignee_ids),
            due_date: Some(Some(form.get("due_date").to_owned()).filter(|d| !d.trim().is_empty())),
            weight: Some(weight),
            confidential: Some(form.ticked("confidential")),
            discussion_locked: Some(form.ticked("discussion_locked")),
            ..IssueChanges::default()
        };
        state.core.plan().update_issue(&frame.access, iid, &changes).await?;
        Ok::<String, CoreError>(format!("Issue #{iid} was updated."))
    }
    .await;
    after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}
