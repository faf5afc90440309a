//! The issue list's bulk edit (`POST /{project}/-/issues/bulk_update`): the ticked issues
//! closed or reopened, given or relieved of a label, put in a milestone (or none) and assigned
//! (or unassigned) at once, as GitLab's list does; Reporters and above. Each issue is one
//! change with its own checks and system notes; the list comes back saying how many changed
//! and which could not.

use axum::Extension;
use axum::extract::State;
use gantry_core::CoreError;
use gantry_core::plan::issues::{IssueChanges, StateEvent};
use gantry_core::policy::ProjectAction;
use gantry_types::MilestoneId;

use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;

/// Most refusals the notice names (it travels in a cookie).
const MAX_REFUSALS_SHOWN: usize = 5;

/// The change the form asks for, the same for every ticked issue.
async fn changes_of(state: &AppState, form: &Fields) -> Result<IssueChanges, CoreError> {
    let state_event = match form.get("state_event") {
        "" => None,
        "close" => Some(StateEvent::Close),
        "reopen" => Some(StateEvent::Reopen),
        _ => return Err(CoreError::invalid_input("state_event", "must be close or reopen")),
    };
    let label = |name: &str| Some(form.get(name).trim().to_owned()).filter(|l| !l.is_empty());
    let milestone_id = match form.get("milestone_id").trim() {
        "" => None,
        "0" => Some(None),
        id => Some(Some(MilestoneId(
            id.parse::<i64>().map_err(|_| CoreError::invalid_input("milestone_id", "is not a milestone"))?,
        ))),
    };
    let assignee_ids = match form.get("assignee").trim().trim_start_matches('@') {
        "" => None,
        none if none.eq_ignore_ascii_case("none") => Some(Vec::new()),
        name => Some(state.core.plan().user_ids_by_usernames(&[name.to_owned()]).await?),
    };
    let changes = IssueChanges {
        state_event,
        add_labels: label("add_label").into_iter().collect(),
        remove_labels: label("remove_label").into_iter().collect(),
        milestone_id,
        assignee_ids,
        ..IssueChanges::default()
    };
    let nothing = changes.state_event.is_none()
        && changes.add_labels.is_empty()
        && changes.remove_labels.is_empty()
        && changes.milestone_id.is_none()
        && changes.assignee_ids.is_none();
    if nothing {
        return Err(CoreError::invalid_input("change", "is missing: choose what to change in the ticked issues"));
    }
    Ok(changes)
}

/// `POST /{project}/-/issues/bulk_update` (`iids` ticked; `state_event`, `add_label`,
/// `remove_label`, `milestone_id` (0: none), `assignee` (none: nobody); `return_to` the list)
pub async fn bulk_update(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::UpdateIssues)?;
    let form = Fields(form);
    let base = format!("/{}/-/issues", frame.project.full_path);
    // Back to the list the form was on, never elsewhere.
    let back = Some(form.get("return_to")).filter(|to| to.starts_with(&format!("{base}?")) || *to == base);
    let back = back.unwrap_or(&base).to_owned();
    let iids: Vec<i64> = form.all("iids").iter().filter_map(|iid| iid.trim().parse().ok()).collect();
    let outcome = match changes_of(&state, &form).await {
        Ok(changes) => state.core.plan().bulk_update_issues(&frame.access, &iids, &changes).await,
        Err(error) => Err(error),
    };
    let notice = match outcome {
        Ok(outcome) => {
            let mut notice = match outcome.changed.len() {
                1 => "1 issue was updated.".to_owned(),
                n => format!("{n} issues were updated."),
            };
            for (iid, why) in outcome.refused.iter().take(MAX_REFUSALS_SHOWN) {
                notice.push_str(&format!(" #{iid} was not: {why}."));
            }
            if let Some(more) = outcome.refused.len().checked_sub(MAX_REFUSALS_SHOWN).filter(|more| *more > 0) {
                notice.push_str(&format!(" {more} more were not changed."));
            }
            notice
        }
        Err(CoreError::Invalid { field, message }) => {
            let mut sentence = format!("{field} {message}");
            if let Some(first) = sentence.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("Nothing was changed: {sentence}.")
        }
        Err(error) => return Err(visitor.error(error)),
    };
    see_other_with(&state, &visitor, &back, &Flash::notice(notice))
}
