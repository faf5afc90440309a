//! Cards on a board: a column's page of issues (drawn through the issue listing, so what the
//! viewer may not see never shows) and the move of a card — the change of its issue the two
//! columns mean, and its place between two cards, in one `update_issue` (see `boards`).

use gantry_db::manage::projects::ProjectKey;
use gantry_types::{BoardId, IssueId, IssueState, LabelId, ProjectId, UserId};

use super::boards::{BOARD_COUNT_LIMIT, BoardList, BoardScope, BoardView, CardMove, Column, ListFor, load_board};
use super::issues::{
    AssigneeQuery, IssueChanges, IssueOrder, IssueQuery, IssueView, IterationFilter, MilestoneFilter, Placement,
    StateEvent, UserRef,
};
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult, Page, SortDirection};

impl super::Plan<'_> {
    /// One page of a column's cards that the actor may see, in the board's order, and how many
    /// there are; `filters` are the page's (labels, assignee, milestone, weight, search).
    pub async fn column_issues(
        &self,
        scope: BoardScope<'_>,
        board: &BoardView,
        column: Column,
        filters: &IssueQuery,
        page: Page,
    ) -> CoreResult<(Vec<IssueView>, i64)> {
        let query = column_query(board, column, filters)?;
        self.list_issues(scope.issues_of(), &query, page).await
    }

    /// Moves a card: the change of its issue the columns mean, and its place between two
    /// cards, in one change of the issue (see the module's description).
    pub async fn move_card(&self, scope: BoardScope<'_>, board: BoardId, card: &CardMove) -> CoreResult<IssueView> {
        scope.require_read()?;
        let view = {
            let mut conn = self.db.conn().await?;
            load_board(&mut conn, scope, board).await?
        };
        let list = |column: Column| -> CoreResult<Option<&BoardList>> {
            match column {
                Column::List(id) => view.lists.iter().find(|list| list.list.id == id).map(Some).ok_or_else(|| {
                    CoreError::invalid("to_list_id", format!("is {id}, which is no list of this board"))
                }),
                _ => Ok(None),
            }
        };
        let (from, to) = (list(card.from)?, list(card.to)?);
        let (access, projects) = self.card_access(scope, card.issue).await?;
        let issue = {
            let mut conn = self.db.conn().await?;
            gantry_db::plan::issues::find_issue_by_id(&mut conn, card.issue)
                .await?
                .ok_or(CoreError::NotFound("issue"))?
        };
        let before = self.find_issue(&access, issue.iid).await?;
        let mut changes = IssueChanges {
            placement: Some(Placement { after: card.after, before: card.before, among: projects }),
            ..IssueChanges::default()
        };
        if card.from != card.to {
            match (card.from, card.to) {
                (_, Column::Closed) => {
                    changes.state_event = Some(StateEvent::Close);
                    changes.remove_label_ids = view.lists.iter().filter_map(label_of).collect();
                }
                (Column::Closed, _) => changes.state_event = Some(StateEvent::Reopen),
                _ => {}
            }
            if card.to != Column::Closed {
                if let Some(label) = from.and_then(label_of) {
                    changes.remove_label_ids.push(label);
                }
                if let Some(label) = to.and_then(label_of) {
                    changes.add_label_ids.push(label);
                    changes.remove_label_ids.retain(|id| *id != label);
                }
            }
            match (from.map(|l| l.list.list_for), to.map(|l| l.list.list_for)) {
                (_, Some(ListFor::Milestone(id))) => changes.milestone_id = Some(Some(id)),
                (Some(ListFor::Milestone(_)), None) if card.to == Column::Open => changes.milestone_id = Some(None),
                (_, Some(ListFor::Iteration(id))) => changes.iteration_id = Some(Some(id)),
                (Some(ListFor::Iteration(_)), None) if card.to == Column::Open => changes.iteration_id = Some(None),
                _ => {}
            }
            let leaving = match from.map(|l| l.list.list_for) {
                Some(ListFor::Assignee(user)) if card.to != Column::Closed => Some(user),
                _ => None,
            };
            let joining = match to.map(|l| l.list.list_for) {
                Some(ListFor::Assignee(user)) => Some(user),
                _ => None,
            };
            if leaving.is_some() || joining.is_some() {
                let mut ids: Vec<UserId> =
                    before.assignee_ids.iter().copied().filter(|id| Some(*id) != leaving).collect();
                if let Some(user) = joining.filter(|user| !ids.contains(user)) {
                    ids.push(user);
                }
                changes.assignee_ids = Some(ids);
            }
        }
        access.require_edit_issue(&before.facts())?;
        let changes_fields = !changes.add_label_ids.is_empty()
            || !changes.remove_label_ids.is_empty()
            || changes.milestone_id.is_some()
            || changes.iteration_id.is_some()
            || changes.assignee_ids.is_some();
        if changes_fields {
            access.require(ProjectAction::UpdateIssues)?;
        }
        self.update_issue(&access, issue.iid, &changes).await
    }

    /// Puts an issue between two others of its project in the order of boards (GitLab's
    /// reorder: `after` comes just before it, `before` just after).
    pub async fn reorder_issue(
        &self,
        access: &ProjectAccess,
        iid: i64,
        after: Option<IssueId>,
        before: Option<IssueId>,
    ) -> CoreResult<IssueView> {
        let issue = self.find_issue(access, iid).await?;
        access.require_edit_issue(&issue.facts())?;
        let changes = IssueChanges {
            placement: Some(Placement { after, before, among: vec![access.project().id] }),
            ..IssueChanges::default()
        };
        self.update_issue(access, iid, &changes).await
    }

    /// The actor's access to the project of a card on this board, and the projects whose
    /// issues share the board's order: a project board's own, a group board's projects the
    /// actor sees below the group.
    async fn card_access(&self, scope: BoardScope<'_>, issue: IssueId) -> CoreResult<(ProjectAccess, Vec<ProjectId>)> {
        let mut conn = self.db.conn().await?;
        let row =
            gantry_db::plan::issues::find_issue_by_id(&mut conn, issue).await?.ok_or(CoreError::NotFound("issue"))?;
        match scope {
            BoardScope::Project(access) => {
                if row.project_id != access.project().id {
                    return Err(CoreError::NotFound("issue"));
                }
                Ok((access.clone(), vec![access.project().id]))
            }
            BoardScope::Group(group) => {
                let projects: Vec<ProjectId> =
                    super::issues::visible_projects(&mut conn, group.actor(), Some(group.group().id), false)
                        .await?
                        .into_iter()
                        .map(|project| project.id)
                        .collect();
                if !projects.contains(&row.project_id) {
                    return Err(CoreError::NotFound("issue"));
                }
                let access = ProjectAccess::load(&mut conn, group.actor(), ProjectKey::Id(row.project_id)).await?;
                Ok((access, projects))
            }
        }
    }
}

/// The label a list is for.
fn label_of(list: &BoardList) -> Option<LabelId> {
    match list.list.list_for {
        ListFor::Label(id) => Some(id),
        _ => None,
    }
}

/// The issue query of a column: the page's filters with the column's own conditions, in the
/// board's order.
fn column_query(board: &BoardView, column: Column, filters: &IssueQuery) -> CoreResult<IssueQuery> {
    let mut query = IssueQuery {
        order_by: IssueOrder::RelativePosition,
        sort: SortDirection::Asc,
        state: Some(IssueState::Opened),
        count_limit: BOARD_COUNT_LIMIT,
        ..filters.clone()
    };
    match column {
        Column::Open => {
            for list in &board.lists {
                match list.list.list_for {
                    ListFor::Label(id) => query.without_labels.push(id),
                    ListFor::Milestone(id) => query.without_milestones.push(id),
                    ListFor::Assignee(id) => query.without_assignees.push(id),
                    ListFor::Iteration(id) => query.without_iterations.push(id),
                }
            }
        }
        Column::Closed => query.state = Some(IssueState::Closed),
        Column::List(id) => {
            let list = board.lists.iter().find(|list| list.list.id == id).ok_or(CoreError::NotFound("list"))?;
            match list.list.list_for {
                ListFor::Label(id) => query.with_label = Some(id),
                ListFor::Milestone(id) => query.milestone = MilestoneFilter::Id(id),
                ListFor::Assignee(id) => query.assignee = AssigneeQuery::User(UserRef::Id(id)),
                ListFor::Iteration(id) => query.iteration = IterationFilter::Id(id),
            }
        }
    }
    Ok(query)
}
