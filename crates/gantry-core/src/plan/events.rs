//! What changed on an issue, as records (GitLab's resource events): each label added or removed,
//! the milestone or iteration set or removed, the weight and the state, written in the change's transaction
//! beside the system note that says it in words, and read by whoever may see the issue.

use gantry_db::Conn;
use gantry_db::plan::events::{self as db, NewResourceEvent};
pub use gantry_db::plan::events::{EventKind, ResourceEventRow};
use gantry_db::plan::iterations::{self as iterations_db, IterationRow};
use gantry_db::plan::labels::{self as labels_db, LabelRow};
use gantry_db::plan::milestones::{self as milestones_db, MilestoneRow};
use gantry_db::plan::users_by_ids;
use gantry_types::{IssueId, IterationId, LabelId, MilestoneId, UserId};

use super::issues::load_issue;
use crate::policy::ProjectAccess;
use crate::{CoreError, CoreResult, Page, UserRow};

/// One change to record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change {
    LabelAdded(LabelId),
    LabelRemoved(LabelId),
    MilestoneSet(MilestoneId),
    MilestoneRemoved(MilestoneId),
    IterationSet(IterationId),
    IterationRemoved(IterationId),
    Weight(Option<i64>),
    Closed,
    Reopened,
}

/// Records `change` to `issue` by `actor`.
pub(crate) async fn record(conn: &mut Conn, issue: IssueId, actor: UserId, change: Change) -> CoreResult<()> {
    record_by(conn, issue, Some(actor), change).await
}

/// Records `change` to `issue` by `actor`, or by Gantry itself (`None`: an iteration's roll-over).
pub(crate) async fn record_by(
    conn: &mut Conn,
    issue: IssueId,
    actor: Option<UserId>,
    change: Change,
) -> CoreResult<()> {
    let mut event = NewResourceEvent {
        issue_id: issue,
        user_id: actor,
        kind: EventKind::Label,
        action: None,
        label_id: None,
        milestone_id: None,
        iteration_id: None,
        weight: None,
        state: None,
    };
    match change {
        Change::LabelAdded(id) | Change::LabelRemoved(id) => {
            event.action = Some(if matches!(change, Change::LabelAdded(_)) { "add" } else { "remove" });
            event.label_id = Some(id);
        }
        Change::MilestoneSet(id) | Change::MilestoneRemoved(id) => {
            event.kind = EventKind::Milestone;
            event.action = Some(if matches!(change, Change::MilestoneSet(_)) { "add" } else { "remove" });
            event.milestone_id = Some(id);
        }
        Change::IterationSet(id) | Change::IterationRemoved(id) => {
            event.kind = EventKind::Iteration;
            event.action = Some(if matches!(change, Change::IterationSet(_)) { "add" } else { "remove" });
            event.iteration_id = Some(id);
        }
        Change::Weight(weight) => {
            event.kind = EventKind::Weight;
            event.weight = weight;
        }
        Change::Closed | Change::Reopened => {
            event.kind = EventKind::State;
            event.state = Some(if matches!(change, Change::Closed) { "closed" } else { "reopened" });
        }
    }
    db::insert_resource_event(conn, &event).await?;
    Ok(())
}

/// An event with who did it and the label or milestone it names (`None` once deleted).
#[derive(Debug, Clone)]
pub struct ResourceEventView {
    pub event: ResourceEventRow,
    pub user: Option<UserRow>,
    pub label: Option<LabelRow>,
    pub milestone: Option<MilestoneRow>,
    pub iteration: Option<IterationRow>,
}

impl super::Plan<'_> {
    /// One page of an issue's events of a kind, oldest first, and how many there are.
    pub async fn list_resource_events(
        &self,
        access: &ProjectAccess,
        iid: i64,
        kind: EventKind,
        page: Page,
    ) -> CoreResult<(Vec<ResourceEventView>, i64)> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let (rows, total) = db::list_resource_events(&mut conn, issue.issue.id, kind, page).await?;
        Ok((views(&mut conn, access, rows).await?, total))
    }

    /// One event of an issue.
    pub async fn find_resource_event(
        &self,
        access: &ProjectAccess,
        iid: i64,
        kind: EventKind,
        id: i64,
    ) -> CoreResult<ResourceEventView> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let row = db::find_resource_event(&mut conn, issue.issue.id, kind, id)
            .await?
            .ok_or(CoreError::NotFound("resource event"))?;
        views(&mut conn, access, vec![row]).await?.pop().ok_or(CoreError::NotFound("resource event"))
    }
}

async fn views(
    conn: &mut Conn,
    access: &ProjectAccess,
    rows: Vec<ResourceEventRow>,
) -> CoreResult<Vec<ResourceEventView>> {
    let mut people: Vec<UserId> = rows.iter().filter_map(|row| row.user_id).collect();
    people.sort();
    people.dedup();
    let people = users_by_ids(conn, &people).await?;
    let labels = if rows.iter().any(|row| row.label_id.is_some()) {
        labels_db::list_project_labels(conn, access.project().id).await?
    } else {
        Vec::new()
    };
    let mut milestone_ids: Vec<MilestoneId> = rows.iter().filter_map(|row| row.milestone_id).collect();
    milestone_ids.sort();
    milestone_ids.dedup();
    let milestones = milestones_db::milestones_by_ids(conn, &milestone_ids).await?;
    let mut iteration_ids: Vec<IterationId> = rows.iter().filter_map(|row| row.iteration_id).collect();
    iteration_ids.sort();
    iteration_ids.dedup();
    let iterations = iterations_db::iterations_by_ids(conn, &iteration_ids).await?;
    Ok(rows
        .into_iter()
        .map(|event| ResourceEventView {
            user: event.user_id.and_then(|id| people.iter().find(|user| user.id == id).cloned()),
            label: event.label_id.and_then(|id| labels.iter().find(|label| label.id == id).cloned()),
            milestone: event.milestone_id.and_then(|id| milestones.iter().find(|m| m.id == id).cloned()),
            iteration: event.iteration_id.and_then(|id| iterations.iter().find(|it| it.id == id).cloned()),
            event,
        })
        .collect())
}
