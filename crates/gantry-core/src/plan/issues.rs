//! Issues: numbered per project (`#12`), with a Markdown description, assignees, labels, a due
//! date, a weight, a confidential flag and a lock on their discussion; opened by anyone signed
//! in who sees the project, edited, closed and reopened by Reporters and above and by their
//! author and assignees, deleted by Owners (`policy`'s issue rules). Every change of state,
//! title, description, labels, assignees, milestone, confidentiality, due date, weight or lock
//! leaves a system note in the same transaction.
//!
//! Lists (a project's, a group's, the issues a user may see) take GitLab's filters. A confidential
//! issue shows where the viewer is Reporter or above, or is its author or an assignee; across
//! projects, the Reporter rule is worked out for the group's projects (by the role on the group)
//! and for the projects a user is a member of (at most [`MAX_ROLE_CHECKS`]), never guessed.
//!
//! Long because issues carry many fields, and each change is checked, applied and noted here.

use std::collections::HashMap;

use gantry_db::Conn;
use gantry_db::manage::projects::{ProjectFilter, ProjectKey, list_projects};
use gantry_db::plan::issues::{self as db, AssigneeFilter, IssueFields, IssueFilter, IssueProjects};
pub use gantry_db::plan::issues::{IssueOrder, IssueRow, IterationFilter, MilestoneFilter, WeightFilter};
use gantry_db::plan::iterations::{self as iterations_db, IterationRow};
use gantry_db::plan::labels::{self as labels_db, LabelFields, LabelOwner, LabelRow};
use gantry_db::plan::milestones::{self as milestones_db, MilestoneRow};
use gantry_db::plan::notes::{self as notes_db, NewNote, Noteable};
use gantry_db::plan::todos as todos_db;
use gantry_db::plan::users_by_ids;
use gantry_types::{
    AccessLevel, EpicId, IssueId, IssueState, IterationId, LabelId, MilestoneId, NoteId, ProjectId, UserId,
};

use super::description_versions::{DESCRIPTION_CHANGED, record_description_change};
use super::events::{self, Change};
use super::labels::{DEFAULT_LABEL_COLOR, check_label_name};
use super::notify::IssueEvent;
use super::system_notes as say;
use crate::policy::{GroupAccess, IssueFacts, ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult, Page, SortDirection, UserRow};

/// Longest title, in characters (GitLab's).
pub const MAX_TITLE: usize = 255;
/// Longest description, in bytes (1 MiB).
pub const MAX_DESCRIPTION: usize = 1_048_576;
/// Most projects a cross-project list searches.
const MAX_PROJECTS: i64 = 1000;
/// Most projects whose role a user's list checks for confidential issues.
pub const MAX_ROLE_CHECKS: i64 = 100;

/// An issue with what its pages and the API show with it.
#[derive(Debug, Clone)]
pub struct IssueView {
    pub issue: IssueRow,
    /// The full path of its project (`group/project`).
    pub project_path: String,
    pub author: Option<UserRow>,
    pub closed_by: Option<UserRow>,
    pub assignees: Vec<UserRow>,
    pub assignee_ids: Vec<UserId>,
    pub labels: Vec<LabelRow>,
    pub milestone: Option<MilestoneRow>,
    pub iteration: Option<IterationRow>,
}

impl IssueView {
    /// What the policy's issue rules ask of it.
    pub fn facts(&self) -> IssueFacts<'_> {
        IssueFacts {
            author: self.issue.author_id,
            assignees: &self.assignee_ids,
            confidential: self.issue.confidential,
            discussion_locked: self.issue.discussion_locked,
        }
    }
}

/// Close or reopen (GitLab's `state_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateEvent {
    Close,
    Reopen,
}

impl StateEvent {
    /// Reads GitLab's name (`close`, `reopen`).
    pub fn parse(value: &str) -> Option<StateEvent> {
        match value {
            "close" => Some(StateEvent::Close),
            "reopen" => Some(StateEvent::Reopen),
            _ => None,
        }
    }
}

/// What a create or an update asks for; what is `None` stays (or, on create, is empty).
#[derive(Debug, Clone, Default)]
pub struct IssueChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub confidential: Option<bool>,
    /// `Some(None)` removes it.
    pub due_date: Option<Option<String>>,
    /// `Some(None)` removes it.
    pub weight: Option<Option<i64>>,
    pub discussion_locked: Option<bool>,
    /// The whole set of labels, by name (a missing project label is created for those who may).
    pub labels: Option<Vec<String>>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    /// Labels to add and take off by id (a board's lists; the project's or its groups').
    pub add_label_ids: Vec<LabelId>,
    pub remove_label_ids: Vec<LabelId>,
    /// The whole set of assignees.
    pub assignee_ids: Option<Vec<UserId>>,
    /// The project's or one of its groups' milestones; `Some(None)` takes the issue out.
    pub milestone_id: Option<Option<MilestoneId>>,
    /// An iteration of one of the project's groups; `Some(None)` takes the issue out.
    pub iteration_id: Option<Option<IterationId>>,
    pub state_event: Option<StateEvent>,
    /// A new place in boards, between two issues (GitLab's reorder).
    pub placement: Option<Placement>,
}

/// Most issues one bulk edit changes.
pub const MAX_BULK_ISSUES: usize = 100;

/// What a bulk edit did: the issues it changed and those it could not, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    pub changed: Vec<i64>,
    pub refused: Vec<(i64, String)>,
}

/// Where an issue goes in the order of boards: after one issue and before another (either may
/// be missing: the end or the start of what the viewer sees). Both are issues of the projects
/// `among` (the issue's own project, or a group board's projects).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// The issue that comes just before (GitLab's `move_before_id`).
    pub after: Option<IssueId>,
    /// The issue that comes just after (GitLab's `move_after_id`).
    pub before: Option<IssueId>,
    /// The projects whose issues share the order (empty: the issue's own project).
    pub among: Vec<ProjectId>,
}

/// Whose issues a list is about.
#[derive(Debug, Clone, Copy)]
pub enum IssuesOf<'a> {
    Project(&'a ProjectAccess),
    /// The group's projects and its subgroups'.
    Group(&'a GroupAccess),
    /// Every project the actor may see.
    Visible(&'a Actor),
}

/// Someone a filter names: by id or username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(UserId),
    Username(String),
}

/// Whom the issues must be assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AssigneeQuery {
    #[default]
    Ignore,
    Nobody,
    Anybody,
    User(UserRef),
}

/// GitLab's `scope`: every issue, those the actor wrote, those assigned to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IssueScope {
    #[default]
    All,
    CreatedByMe,
    AssignedToMe,
}

impl IssueScope {
    /// Reads GitLab's name (`all`, `created_by_me`, `assigned_to_me`; `created-by-me` too).
    pub fn parse(value: &str) -> Option<IssueScope> {
        match value.replace('-', "_").as_str() {
            "all" => Some(IssueScope::All),
            "created_by_me" => Some(IssueScope::CreatedByMe),
            "assigned_to_me" => Some(IssueScope::AssignedToMe),
            _ => None,
        }
    }
}

/// The filters of an issue list (GitLab's parameters).
#[derive(Debug, Clone)]
pub struct IssueQuery {
    pub scope: IssueScope,
    pub state: Option<IssueState>,
    /// Names every issue carries; `None` alone: no labels; `Any` alone: some label.
    pub labels: Vec<String>,
    pub assignee: AssigneeQuery,
    pub milestone: MilestoneFilter,
    pub iteration: IterationFilter,
    pub author: Option<UserRef>,
    pub search: Option<String>,
    pub confidential: Option<bool>,
    pub iids: Vec<i64>,
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    pub updated_after: Option<i64>,
    pub updated_before: Option<i64>,
    pub weight: WeightFilter,
    /// A board list's own conditions (its label, and for the open list the lists' labels,
    /// milestones, people and iterations no issue of it has).
    pub with_label: Option<LabelId>,
    pub without_labels: Vec<LabelId>,
    pub without_milestones: Vec<MilestoneId>,
    pub without_assignees: Vec<UserId>,
    pub without_iterations: Vec<IterationId>,
    /// Only the issues of this epic.
    pub epic: Option<EpicId>,
    pub order_by: IssueOrder,
    pub sort: SortDirection,
    /// Counts stop past this many (`COUNT_LIMIT`; a board column's, less; 0 when the caller
    /// counted already and only the page is wanted).
    pub count_limit: i64,
}

impl Default for IssueQuery {
    fn default() -> IssueQuery {
        IssueQuery {
            scope: IssueScope::All,
            state: None,
            labels: Vec::new(),
            assignee: AssigneeQuery::Ignore,
            milestone: MilestoneFilter::Ignore,
            iteration: IterationFilter::Ignore,
            author: None,
            search: None,
            confidential: None,
            iids: Vec::new(),
            created_after: None,
            created_before: None,
            updated_after: None,
            updated_before: None,
            weight: WeightFilter::Ignore,
            with_label: None,
            without_labels: Vec::new(),
            without_milestones: Vec::new(),
            without_assignees: Vec::new(),
            without_iterations: Vec::new(),
            epic: None,
            order_by: IssueOrder::CreatedAt,
            sort: SortDirection::Desc,
            count_limit: crate::COUNT_LIMIT,
        }
    }
}

/// A title as stored: trimmed, not empty, at most 255 characters.
pub fn check_title(title: &str) -> CoreResult<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(CoreError::invalid("title", "can't be blank"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(CoreError::invalid("title", "is too long (maximum is 255 characters)"));
    }
    Ok(title.to_owned())
}

/// A description as stored: at most 1 MiB.
pub fn check_description(description: &str) -> CoreResult<String> {
    if description.len() > MAX_DESCRIPTION {
        return Err(CoreError::invalid("description", "is too long (maximum is 1048576 characters)"));
    }
    Ok(description.replace("\r\n", "\n"))
}

/// A due date as stored: a calendar day `YYYY-MM-DD`; empty removes it.
pub fn check_due_date(value: Option<&str>) -> CoreResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<jiff::civil::Date>()
            .map(|date| Some(date.to_string()))
            .map_err(|_| CoreError::invalid("due_date", "must be a date such as 2026-12-31")),
    }
}

/// A weight as stored: a whole number from 0.
pub fn check_weight(value: Option<i64>) -> CoreResult<Option<i64>> {
    match value {
        Some(weight) if !(0..=1_000_000).contains(&weight) => {
            Err(CoreError::invalid("weight", "must be a whole number from 0 to 1000000"))
        }
        other => Ok(other),
    }
}

impl super::Plan<'_> {
    /// One page of the issues `of` holds that the query selects and the actor may see, and how
    /// many it selects in all; remembered until the issues change (`remembered_lists`).
    pub async fn list_issues(
        &self,
        of: IssuesOf<'_>,
        query: &IssueQuery,
        page: Page,
    ) -> CoreResult<(Vec<IssueView>, i64)> {
        let mut conn = self.db.conn().await?;
        let Some((filter, paths)) = self.issue_filter(&mut conn, of, query).await? else {
            return Ok((Vec::new(), 0));
        };
        let (rows, total) = self.remembered_issue_rows(&mut conn, &filter, page).await?;
        Ok((views(&mut conn, rows, &paths).await?, total))
    }

    /// How many issues the query selects (its state aside) that the actor may see: open, closed.
    pub async fn count_issues(&self, of: IssuesOf<'_>, query: &IssueQuery) -> CoreResult<(i64, i64)> {
        let mut conn = self.db.conn().await?;
        let Some((filter, _)) = self.issue_filter(&mut conn, of, query).await? else {
            return Ok((0, 0));
        };
        self.remembered_issue_counts(&mut conn, &filter).await
    }

    /// How many open issues of the project the actor may see (the project's Issues tab).
    pub async fn count_open_issues(&self, access: &ProjectAccess) -> CoreResult<i64> {
        Ok(self.count_issues(IssuesOf::Project(access), &IssueQuery::default()).await?.0)
    }

    /// One issue by its number, when the actor may see it.
    pub async fn find_issue(&self, access: &ProjectAccess, iid: i64) -> CoreResult<IssueView> {
        let mut conn = self.db.conn().await?;
        load_issue(&mut conn, access, iid).await
    }

    /// Opens an issue (anyone signed in who sees the project). Labels, assignees, the due date,
    /// the weight and the lock are set only by those who may change any issue (Reporters), as
    /// in GitLab; for others they are left out.
    pub async fn create_issue(&self, access: &ProjectAccess, input: &IssueChanges) -> CoreResult<IssueView> {
        access.require(ProjectAction::CreateIssue)?;
        let author = access.actor().require_user()?.id;
        let title = check_title(input.title.as_deref().unwrap_or(""))?;
        let description = check_description(input.description.as_deref().unwrap_or(""))?;
        // Quick actions in the description are carried out once the issue exists; names they
        // give are checked first, so a wrong one opens nothing.
        let (description, actions) = super::quick_actions::extract(&description, super::time_tracking::today())?;
        let me = access.actor().require_user()?.username.clone();
        let named: Vec<String> = actions
            .assign
            .iter()
            .chain(&actions.unassign)
            .map(|n| if n == "me" { me.clone() } else { n.clone() })
            .collect();
        self.user_ids_by_usernames(&named).await?;
        let manages = access.can(ProjectAction::UpdateIssues);
        let due_date = if manages { check_due_date(input.due_date.clone().flatten().as_deref())? } else { None };
        let weight = if manages { check_weight(input.weight.flatten())? } else { None };
        let mut tx = self.db.begin().await?;
        let label_names: Vec<String> = input.labels.iter().flatten().chain(&input.add_labels).cloned().collect();
        let labels = if manages { resolve_labels(&mut tx, access, &label_names, true).await? } else { Vec::new() };
        let labels = one_per_scope(labels);
        let assignees = match (&input.assignee_ids, manages) {
            (Some(ids), true) => resolve_assignees(&mut tx, access, ids).await?,
            _ => Vec::new(),
        };
        let fields = IssueFields {
            title: &title,
            description: &description,
            confidential: input.confidential.unwrap_or(false),
            due_date: due_date.as_deref(),
            weight,
            discussion_locked: manages && input.discussion_locked.unwrap_or(false),
        };
        let (id, iid) = db::insert_issue(&mut tx, access.project().id, author, &fields).await?;
        if let Some(Some(milestone)) = input.milestone_id.filter(|_| manages) {
            let milestone = resolve_milestone(&mut tx, access, milestone).await?;
            milestones_db::set_issue_milestone(&mut tx, id, Some(milestone.id)).await?;
            events::record(&mut tx, id, author, Change::MilestoneSet(milestone.id)).await?;
        }
        if let Some(Some(iteration)) = input.iteration_id.filter(|_| manages) {
            let iteration = super::iterations::resolve_iteration(&mut tx, access, iteration).await?;
            iterations_db::set_issue_iteration(&mut tx, id, Some(iteration.id)).await?;
            events::record(&mut tx, id, author, Change::IterationSet(iteration.id)).await?;
        }
        for label in &labels {
            labels_db::add_issue_label(&mut tx, id, label.id).await?;
            events::record(&mut tx, id, author, Change::LabelAdded(label.id)).await?;
        }
        if weight.is_some() {
            events::record(&mut tx, id, author, Change::Weight(weight)).await?;
        }
        let assignee_ids: Vec<UserId> = assignees.iter().map(|user| user.id).collect();
        db::set_issue_assignees(&mut tx, id, &assignee_ids).await?;
        let view = load_issue(&mut tx, access, iid).await?;
        let mailed = self.after_issue_change(&mut tx, access, &view, IssueEvent::Opened).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if mailed {
            self.wake_background();
        }
        tracing::info!(project.id = %access.project().id, issue.iid = iid, "issue opened");
        if actions.is_empty() {
            return Ok(view);
        }
        self.apply_quick_actions(access, &view, &actions).await?;
        self.find_issue(access, iid).await
    }

    /// Changes an issue: its title, description and state for those who may edit it (Reporters,
    /// its author and assignees); the rest for those who may change any issue (Reporters; for
    /// others it is left out, as in GitLab). Each change leaves a system note.
    pub async fn update_issue(
        &self,
        access: &ProjectAccess,
        iid: i64,
        changes: &IssueChanges,
    ) -> CoreResult<IssueView> {
        let mut tx = self.db.begin().await?;
        let before = load_issue(&mut tx, access, iid).await?;
        access.require_edit_issue(&before.facts())?;
        let actor = access.actor().require_user()?.id;
        let manages = access.can(ProjectAction::UpdateIssues);
        let issue = &before.issue;
        let mut notes: Vec<String> = Vec::new();

        let title = match &changes.title {
            Some(title) => check_title(title)?,
            None => issue.title.clone(),
        };
        let description = match &changes.description {
            Some(description) => check_description(description)?,
            None => issue.description.clone(),
        };
        let confidential = changes.confidential.filter(|_| manages).unwrap_or(issue.confidential);
        let due_date = match changes.due_date.as_ref().filter(|_| manages) {
            Some(value) => check_due_date(value.as_deref())?,
            None => issue.due_date.clone(),
        };
        let weight = match changes.weight.filter(|_| manages) {
            Some(value) => check_weight(value)?,
            None => issue.weight,
        };
        let discussion_locked = changes.discussion_locked.filter(|_| manages).unwrap_or(issue.discussion_locked);
        if title != issue.title {
            notes.push(say::title_changed(&issue.title, &title));
        }
        if description != issue.description {
            notes.push(DESCRIPTION_CHANGED.to_owned());
        }
        if confidential != issue.confidential {
            notes.push(say::confidentiality_changed(confidential).to_owned());
        }
        if due_date != issue.due_date {
            notes.push(say::due_date_changed(due_date.as_deref()));
        }
        if weight != issue.weight {
            notes.push(say::weight_changed(weight));
            events::record(&mut tx, issue.id, actor, Change::Weight(weight)).await?;
        }
        if discussion_locked != issue.discussion_locked {
            notes.push(say::lock_changed(discussion_locked).to_owned());
        }
        let fields_changed = !notes.is_empty();
        if fields_changed {
            let fields = IssueFields {
                title: &title,
                description: &description,
                confidential,
                due_date: due_date.as_deref(),
                weight,
                discussion_locked,
            };
            db::update_issue(&mut tx, issue.id, &fields).await?;
        }

        let (mut assigned, mut unassigned): (Vec<UserId>, Vec<UserId>) = (Vec::new(), Vec::new());
        if manages {
            if let Some(note) = change_labels(&mut tx, access, &before, changes).await? {
                notes.push(note);
            }
            if let Some(wanted) = changes.milestone_id {
                let wanted = match wanted {
                    Some(id) => Some(resolve_milestone(&mut tx, access, id).await?),
                    None => None,
                };
                if wanted.as_ref().map(|m| m.id) != issue.milestone_id {
                    milestones_db::set_issue_milestone(&mut tx, issue.id, wanted.as_ref().map(|m| m.id)).await?;
                    notes.push(say::milestone_changed(wanted.as_ref()));
                    let change = match (&wanted, issue.milestone_id) {
                        (Some(milestone), _) => Some(Change::MilestoneSet(milestone.id)),
                        (None, Some(old)) => Some(Change::MilestoneRemoved(old)),
                        (None, None) => None,
                    };
                    if let Some(change) = change {
                        events::record(&mut tx, issue.id, actor, change).await?;
                    }
                }
            }
            // The one it is in already is kept as it is (a form sends it back unchanged).
            if let Some(wanted) = changes.iteration_id.filter(|wanted| *wanted != issue.iteration_id) {
                let wanted = match wanted {
                    Some(id) => Some(super::iterations::resolve_iteration(&mut tx, access, id).await?),
                    None => None,
                };
                {
                    iterations_db::set_issue_iteration(&mut tx, issue.id, wanted.as_ref().map(|it| it.id)).await?;
                    notes.push(say::iteration_changed(wanted.as_ref()));
                    let change = match (&wanted, issue.iteration_id) {
                        (Some(iteration), _) => Some(Change::IterationSet(iteration.id)),
                        (None, Some(old)) => Some(Change::IterationRemoved(old)),
                        (None, None) => None,
                    };
                    if let Some(change) = change {
                        events::record(&mut tx, issue.id, actor, change).await?;
                    }
                }
            }
            if let Some(ids) = &changes.assignee_ids {
                let wanted = resolve_assignees(&mut tx, access, ids).await?;
                let added: Vec<String> = wanted
                    .iter()
                    .filter(|user| !before.assignee_ids.contains(&user.id))
                    .map(|user| user.username.clone())
                    .collect();
                let removed: Vec<String> = before
                    .assignees
                    .iter()
                    .filter(|user| !wanted.iter().any(|w| w.id == user.id))
                    .map(|user| user.username.clone())
                    .collect();
                if let Some(note) = say::assignees_changed(&added, &removed) {
                    let ids: Vec<UserId> = wanted.iter().map(|user| user.id).collect();
                    db::set_issue_assignees(&mut tx, issue.id, &ids).await?;
                    notes.push(note);
                    assigned.extend(ids.iter().filter(|id| !before.assignee_ids.contains(id)));
                    unassigned.extend(before.assignee_ids.iter().filter(|id| !ids.contains(id)));
                }
            }
        }
        let state_change = match changes.state_event {
            Some(StateEvent::Close) => Some((IssueState::Closed, "closed")),
            Some(StateEvent::Reopen) => Some((IssueState::Opened, "reopened")),
            None => None,
        };
        let mut state_changed = None;
        if let Some((state, note)) = state_change
            && db::set_issue_state(&mut tx, issue.id, state, Some(actor)).await?
        {
            notes.push(note.to_owned());
            state_changed = Some(state);
            let change = if state == IssueState::Closed { Change::Closed } else { Change::Reopened };
            events::record(&mut tx, issue.id, actor, change).await?;
        }
        if !fields_changed && !notes.is_empty() {
            db::touch_issue(&mut tx, issue.id).await?;
        }
        if let Some(placement) = &changes.placement {
            place_issue(&mut tx, issue, placement).await?;
        }
        for note in &notes {
            let id = add_system_note(&mut tx, access.project().id, issue.id, actor, note).await?;
            if note == DESCRIPTION_CHANGED {
                record_description_change(&mut tx, issue, &description, actor, id).await?;
            }
        }
        let after = load_issue(&mut tx, access, iid).await?;
        let mut events = Vec::new();
        if after.issue.description != issue.description {
            events.push(IssueEvent::DescriptionChanged { before: &issue.description });
        }
        if !assigned.is_empty() || !unassigned.is_empty() {
            events.push(IssueEvent::Reassigned { added: &assigned, removed: &unassigned });
        }
        match state_changed {
            Some(IssueState::Closed) => events.push(IssueEvent::Closed),
            Some(IssueState::Opened) => events.push(IssueEvent::Reopened),
            None => {}
        }
        let labelled: Vec<LabelId> =
            after.labels.iter().map(|l| l.id).filter(|id| !before.labels.iter().any(|l| l.id == *id)).collect();
        if !labelled.is_empty() {
            events.push(IssueEvent::Labelled { added: &labelled });
        }
        let mut mailed = false;
        for event in events {
            mailed |= self.after_issue_change(&mut tx, access, &after, event).await?;
        }
        if !notes.is_empty() {
            // Acting on an issue is doing what one's to-dos on it asked.
            todos_db::mark_todos_done(&mut tx, actor, Some(Noteable::issue(issue.id))).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if mailed {
            self.wake_background();
        }
        if !notes.is_empty() {
            tracing::info!(project.id = %access.project().id, issue.iid = iid, changes = notes.len(), "issue changed");
        }
        Ok(after)
    }

    /// Makes the same change to several issues of the project (the issue list's bulk edit;
    /// Reporters and above, as GitLab's): each is one [`Plan::update_issue`], with its own
    /// checks and system notes. Returns the numbers changed and, for each one refused, why.
    pub async fn bulk_update_issues(
        &self,
        access: &ProjectAccess,
        iids: &[i64],
        changes: &IssueChanges,
    ) -> CoreResult<BulkOutcome> {
        access.require(ProjectAction::UpdateIssues)?;
        if iids.is_empty() {
            return Err(CoreError::invalid("issues", "none chosen: tick the issues to change"));
        }
        if iids.len() > MAX_BULK_ISSUES {
            return Err(CoreError::invalid("issues", format!("are too many: at most {MAX_BULK_ISSUES} at once")));
        }
        let mut outcome = BulkOutcome::default();
        for &iid in iids {
            match self.update_issue(access, iid, changes).await {
                Ok(_) => outcome.changed.push(iid),
                Err(error @ (CoreError::NotFound(_) | CoreError::Forbidden(_) | CoreError::Invalid { .. })) => {
                    outcome.refused.push((iid, error.to_string()));
                }
                Err(error) => return Err(error),
            }
        }
        tracing::info!(project.id = %access.project().id, changed = outcome.changed.len(), "issues changed in bulk");
        Ok(outcome)
    }

    /// Deletes an issue with its notes (Owners, as in GitLab).
    pub async fn delete_issue(&self, access: &ProjectAccess, iid: i64) -> CoreResult<()> {
        let mut tx = self.db.begin().await?;
        let view = load_issue(&mut tx, access, iid).await?;
        access.require(ProjectAction::DeleteIssues)?;
        db::delete_issue(&mut tx, view.issue.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(project.id = %access.project().id, issue.iid = iid, "issue deleted");
        Ok(())
    }

    /// The ids of the accounts these usernames name (forms take usernames); a name that is no
    /// account is refused.
    pub async fn user_ids_by_usernames(&self, names: &[String]) -> CoreResult<Vec<UserId>> {
        let mut conn = self.db.conn().await?;
        let mut ids = Vec::new();
        for name in names.iter().map(|name| name.trim().trim_start_matches('@')).filter(|name| !name.is_empty()) {
            let user = gantry_db::manage::users::find_user_by_username(&mut conn, name)
                .await?
                .ok_or_else(|| CoreError::invalid("assignees", format!("have @{name}, who is no user")))?;
            ids.push(user.id);
        }
        Ok(ids)
    }

    /// The database filter for a list, and the paths of the projects it searches; `None` when
    /// nothing can match (a user the query names does not exist).
    pub(super) async fn issue_filter(
        &self,
        conn: &mut Conn,
        of: IssuesOf<'_>,
        query: &IssueQuery,
    ) -> CoreResult<Option<(IssueFilter, HashMap<ProjectId, String>)>> {
        let actor = match of {
            IssuesOf::Project(access) => access.actor(),
            IssuesOf::Group(access) => access.actor(),
            IssuesOf::Visible(actor) => actor,
        };
        let viewer = actor.user().map(|user| user.id);
        let admin = crate::policy::administers(actor);
        let mut paths = HashMap::new();
        let (projects, confidential_projects) = match of {
            IssuesOf::Project(access) => {
                access.require(ProjectAction::ReadIssues)?;
                let project = access.project();
                paths.insert(project.id, project.full_path.clone());
                check_label_filter(conn, project.id, &query.labels).await?;
                let confidential = access.can(ProjectAction::ReadConfidentialIssues);
                (IssueProjects::One(project.id), if confidential { vec![project.id] } else { Vec::new() })
            }
            IssuesOf::Group(access) => {
                let listed = visible_projects(conn, actor, Some(access.group().id), false).await?;
                let reporter = access.level().is_some_and(|level| level >= AccessLevel::Reporter);
                let ids: Vec<ProjectId> = listed.iter().map(|p| p.id).collect();
                for project in listed {
                    paths.insert(project.id, project.full_path);
                }
                let confidential = if reporter { ids.clone() } else { Vec::new() };
                (IssueProjects::Many(ids), confidential)
            }
            IssuesOf::Visible(actor) => {
                let listed = visible_projects(conn, actor, None, false).await?;
                let ids: Vec<ProjectId> = listed.iter().map(|p| p.id).collect();
                for project in listed {
                    paths.insert(project.id, project.full_path);
                }
                let mut confidential = Vec::new();
                if !admin && actor.user().is_some() {
                    for project in visible_projects(conn, actor, None, true).await? {
                        let level = crate::policy::project_level(conn, actor, &project).await?;
                        if level.is_some_and(|level| level >= AccessLevel::Reporter) {
                            confidential.push(project.id);
                        }
                    }
                }
                (IssueProjects::Many(ids), confidential)
            }
        };
        let (labels, has_labels) = match query.labels.as_slice() {
            [only] if only.eq_ignore_ascii_case("none") => (Vec::new(), Some(false)),
            [only] if only.eq_ignore_ascii_case("any") => (Vec::new(), Some(true)),
            names => (names.to_vec(), None),
        };
        let mut assignee = match &query.assignee {
            AssigneeQuery::Ignore => AssigneeFilter::Ignore,
            AssigneeQuery::Nobody => AssigneeFilter::Nobody,
            AssigneeQuery::Anybody => AssigneeFilter::Anybody,
            AssigneeQuery::User(user) => match resolve_user(conn, user).await? {
                Some(id) => AssigneeFilter::User(id),
                None => return Ok(None),
            },
        };
        let mut author = match &query.author {
            Some(user) => match resolve_user(conn, user).await? {
                Some(id) => Some(id),
                None => return Ok(None),
            },
            None => None,
        };
        match (query.scope, viewer) {
            (IssueScope::CreatedByMe, Some(me)) => author = Some(me),
            (IssueScope::AssignedToMe, Some(me)) => assignee = AssigneeFilter::User(me),
            _ => {}
        }
        let search = match query.search.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => match gantry_db::search::TextSearch::parse(text) {
                Some(search) => Some(search),
                // Nothing but punctuation: no word to find.
                None => return Ok(None),
            },
            None => None,
        };
        let filter = IssueFilter {
            projects,
            confidential_projects,
            all_confidential: admin,
            viewer,
            state: query.state,
            labels,
            has_labels,
            assignee,
            milestone: query.milestone.clone(),
            author,
            search,
            confidential: query.confidential,
            iids: query.iids.clone(),
            created_after: query.created_after,
            created_before: query.created_before,
            updated_after: query.updated_after,
            updated_before: query.updated_before,
            weight: query.weight,
            iteration: query.iteration,
            with_label: query.with_label,
            without_labels: query.without_labels.clone(),
            without_milestones: query.without_milestones.clone(),
            without_assignees: query.without_assignees.clone(),
            without_iterations: query.without_iterations.clone(),
            epic: query.epic,
            order_by: query.order_by,
            sort: query.sort,
            count_limit: query.count_limit,
        };
        Ok(Some((filter, paths)))
    }
}

/// An issue of the project by number with its people and labels, when the actor may see it.
pub(crate) async fn load_issue(conn: &mut Conn, access: &ProjectAccess, iid: i64) -> CoreResult<IssueView> {
    access.require(ProjectAction::ReadIssues)?;
    let row = db::find_issue(conn, access.project().id, iid).await?.ok_or(CoreError::NotFound("issue"))?;
    let paths = HashMap::from([(access.project().id, access.project().full_path.clone())]);
    let view = views(conn, vec![row], &paths).await?.pop().ok_or(CoreError::NotFound("issue"))?;
    access.require_read_issue(&view.facts())?;
    Ok(view)
}

/// Rows with their people and labels, in their order.
async fn views(conn: &mut Conn, rows: Vec<IssueRow>, paths: &HashMap<ProjectId, String>) -> CoreResult<Vec<IssueView>> {
    let ids: Vec<_> = rows.iter().map(|row| row.id).collect();
    let mut labels = labels_db::labels_of(conn, &ids).await?;
    let mut assignees = db::assignees_of(conn, &ids).await?;
    let mut people: Vec<UserId> = rows.iter().flat_map(|row| [row.author_id, row.closed_by_id]).flatten().collect();
    people.sort();
    people.dedup();
    let people = users_by_ids(conn, &people).await?;
    let mut milestone_ids: Vec<MilestoneId> = rows.iter().filter_map(|row| row.milestone_id).collect();
    milestone_ids.sort();
    milestone_ids.dedup();
    let milestones = milestones_db::milestones_by_ids(conn, &milestone_ids).await?;
    let mut iteration_ids: Vec<IterationId> = rows.iter().filter_map(|row| row.iteration_id).collect();
    iteration_ids.sort();
    iteration_ids.dedup();
    let iterations = iterations_db::iterations_by_ids(conn, &iteration_ids).await?;
    let person = |id: Option<UserId>| id.and_then(|id| people.iter().find(|user| user.id == id).cloned());
    Ok(rows
        .into_iter()
        .map(|issue| {
            let (own_labels, rest): (Vec<_>, Vec<_>) = labels.drain(..).partition(|(id, _)| *id == issue.id);
            labels = rest;
            let (own_assignees, rest): (Vec<_>, Vec<_>) = assignees.drain(..).partition(|(id, _)| *id == issue.id);
            assignees = rest;
            let assignees: Vec<UserRow> = own_assignees.into_iter().map(|(_, user)| user).collect();
            IssueView {
                project_path: paths.get(&issue.project_id).cloned().unwrap_or_default(),
                author: person(issue.author_id),
                closed_by: person(issue.closed_by_id),
                assignee_ids: assignees.iter().map(|user| user.id).collect(),
                assignees,
                labels: own_labels.into_iter().map(|(_, label)| label).collect(),
                milestone: issue.milestone_id.and_then(|id| milestones.iter().find(|m| m.id == id).cloned()),
                iteration: issue.iteration_id.and_then(|id| iterations.iter().find(|it| it.id == id).cloned()),
                issue,
            }
        })
        .collect())
}

/// The projects an actor may see, below a namespace or anywhere; only those they are a member
/// of with `membership` (at most [`MAX_ROLE_CHECKS`] of those, and [`MAX_PROJECTS`] in all).
pub(crate) async fn visible_projects(
    conn: &mut Conn,
    actor: &Actor,
    namespace: Option<gantry_types::NamespaceId>,
    membership: bool,
) -> CoreResult<Vec<crate::ProjectRow>> {
    let filter = ProjectFilter {
        viewer: actor.viewer(),
        membership,
        owned: false,
        namespace,
        include_subgroups: namespace.is_some(),
        search: None,
        visibility: None,
        archived: None,
        topics: Vec::new(),
        order_by: "updated_at",
        sort: SortDirection::Desc,
    };
    let limit = if membership { MAX_ROLE_CHECKS } else { MAX_PROJECTS };
    Ok(list_projects(conn, &filter, Page { offset: 0, limit }).await?.0)
}

/// A user a filter names, by id or username; `None` when there is no such user.
async fn resolve_user(conn: &mut Conn, user: &UserRef) -> CoreResult<Option<UserId>> {
    Ok(match user {
        UserRef::Id(id) => gantry_db::manage::users::find_user_by_id(conn, *id).await?.map(|user| user.id),
        UserRef::Username(name) => {
            gantry_db::manage::users::find_user_by_username(conn, name.trim()).await?.map(|user| user.id)
        }
    })
}

/// Refuses a label filter naming a label the project cannot have: a clear error rather than an
/// empty list for a misspelt name.
async fn check_label_filter(conn: &mut Conn, project: ProjectId, names: &[String]) -> CoreResult<()> {
    if matches!(names, [only] if only.eq_ignore_ascii_case("none") || only.eq_ignore_ascii_case("any")) {
        return Ok(());
    }
    let names: Vec<&str> = names.iter().map(|name| name.trim()).filter(|name| !name.is_empty()).collect();
    if names.is_empty() {
        return Ok(());
    }
    let known = labels_db::list_project_labels(conn, project).await?;
    for name in names {
        if !known.iter().any(|label| label.title.to_lowercase() == name.to_lowercase()) {
            return Err(CoreError::invalid(
                "labels",
                format!("has {name}, which is not a label of this project or its groups"),
            ));
        }
    }
    Ok(())
}

/// The project's labels these names mean (its own before its groups'), made as project labels
/// when missing and `create` is allowed; a name that is no label is refused otherwise.
async fn resolve_labels(
    conn: &mut Conn,
    access: &ProjectAccess,
    names: &[String],
    create: bool,
) -> CoreResult<Vec<LabelRow>> {
    let project = access.project().id;
    let mut known = labels_db::list_project_labels(conn, project).await?;
    let mut found: Vec<LabelRow> = Vec::new();
    for name in names.iter().map(|name| name.trim()).filter(|name| !name.is_empty()) {
        let existing = known.iter().find(|label| label.title.to_lowercase() == name.to_lowercase()).cloned();
        let label = match existing {
            Some(label) => label,
            None if create && access.can(ProjectAction::ManageLabels) => {
                let title = check_label_name(name)?;
                let fields = LabelFields { title: &title, color: DEFAULT_LABEL_COLOR, description: "" };
                let owner = LabelOwner::Project(project);
                let id = labels_db::insert_label(conn, owner, &fields)
                    .await
                    .map_err(crate::manage::conflict_as("Label already exists"))?;
                let label = labels_db::find_label(conn, owner, id).await?.ok_or(CoreError::NotFound("label"))?;
                known.push(label.clone());
                label
            }
            None => {
                return Err(CoreError::invalid("labels", format!("has {name}, which is not a label of this project")));
            }
        };
        if !found.iter().any(|f| f.id == label.id) {
            found.push(label);
        }
    }
    Ok(found)
}

/// The scope of a scoped label (`priority` of `priority::high`, `team::api` of
/// `team::api::lead`: all before the last `::`), as GitLab reads it.
pub fn label_scope(title: &str) -> Option<&str> {
    title.rsplit_once("::").map(|(scope, _)| scope).filter(|scope| !scope.is_empty())
}

/// `labels` with at most one label of each scope: the last one given wins (GitLab's rule, so
/// adding `priority::high` takes `priority::low` off).
fn one_per_scope(labels: Vec<LabelRow>) -> Vec<LabelRow> {
    let mut kept: Vec<LabelRow> = Vec::with_capacity(labels.len());
    for label in labels.into_iter().rev() {
        let scope = label_scope(&label.title).map(str::to_lowercase);
        let taken = scope.as_ref().is_some_and(|scope| {
            kept.iter().any(|k| label_scope(&k.title).map(str::to_lowercase).as_ref() == Some(scope))
        });
        if !taken {
            kept.push(label);
        }
    }
    kept.reverse();
    kept
}

/// Applies `labels`, `add_labels` and `remove_labels`; the system note, when anything changed.
async fn change_labels(
    conn: &mut Conn,
    access: &ProjectAccess,
    before: &IssueView,
    changes: &IssueChanges,
) -> CoreResult<Option<String>> {
    if changes.labels.is_none()
        && changes.add_labels.is_empty()
        && changes.remove_labels.is_empty()
        && changes.add_label_ids.is_empty()
        && changes.remove_label_ids.is_empty()
    {
        return Ok(None);
    }
    let mut wanted: Vec<LabelRow> = match &changes.labels {
        Some(names) => resolve_labels(conn, access, names, true).await?,
        None => before.labels.clone(),
    };
    for label in resolve_labels(conn, access, &changes.add_labels, true).await? {
        if !wanted.iter().any(|w| w.id == label.id) {
            wanted.push(label);
        }
    }
    if !changes.add_label_ids.is_empty() {
        let usable = labels_db::list_project_labels(conn, access.project().id).await?;
        for id in &changes.add_label_ids {
            let label = usable.iter().find(|label| label.id == *id).ok_or_else(|| {
                CoreError::invalid("label_id", format!("is {id}, which is not a label of this project or its groups"))
            })?;
            if !wanted.iter().any(|w| w.id == label.id) {
                wanted.push(label.clone());
            }
        }
    }
    let mut wanted = one_per_scope(wanted);
    let removing: Vec<String> = changes.remove_labels.iter().map(|name| name.trim().to_lowercase()).collect();
    wanted.retain(|label| {
        !removing.contains(&label.title.to_lowercase()) && !changes.remove_label_ids.contains(&label.id)
    });
    let added: Vec<LabelRow> =
        wanted.iter().filter(|label| !before.labels.iter().any(|b| b.id == label.id)).cloned().collect();
    let removed: Vec<LabelRow> =
        before.labels.iter().filter(|label| !wanted.iter().any(|w| w.id == label.id)).cloned().collect();
    let actor = access.actor().require_user()?.id;
    for label in &added {
        labels_db::add_issue_label(conn, before.issue.id, label.id).await?;
        events::record(conn, before.issue.id, actor, Change::LabelAdded(label.id)).await?;
    }
    for label in &removed {
        labels_db::remove_issue_label(conn, before.issue.id, label.id).await?;
        events::record(conn, before.issue.id, actor, Change::LabelRemoved(label.id)).await?;
    }
    Ok(say::labels_changed(&added, &removed))
}

/// Gives an issue its place between two others (GitLab's relative positioning): a number
/// between theirs; when they have no gap left, the issues from the later one on move up first.
/// One neighbour alone places it just after (or before) that one, before the next (or after
/// the previous) issue of the same projects.
async fn place_issue(conn: &mut Conn, issue: &IssueRow, placement: &Placement) -> CoreResult<()> {
    let among = if placement.among.is_empty() { vec![issue.project_id] } else { placement.among.clone() };
    let after = neighbour(conn, issue, &among, "move_before_id", placement.after).await?;
    let before = neighbour(conn, issue, &among, "move_after_id", placement.before).await?;
    let (after, mut before) = match (after, before) {
        (None, None) => return Ok(()),
        (Some(a), Some(b)) if a >= b => {
            return Err(CoreError::invalid(
                "move_before_id",
                "names an issue that comes after the one move_after_id names: the issue before must come first",
            ));
        }
        (Some(a), None) => {
            (Some(a), gantry_db::plan::boards::neighbour_position(conn, &among, a, false, issue.id).await?)
        }
        (None, Some(b)) => {
            (gantry_db::plan::boards::neighbour_position(conn, &among, b, true, issue.id).await?, Some(b))
        }
        both => both,
    };
    let position = match (after, before.as_mut()) {
        (Some(a), Some(b)) => {
            if *b - a < 2 {
                gantry_db::plan::boards::shift_positions(conn, &among, *b, db::POSITION_GAP, issue.id).await?;
                *b += db::POSITION_GAP;
            }
            a + (*b - a) / 2
        }
        (Some(a), None) => a + db::POSITION_GAP,
        (None, Some(b)) => *b - db::POSITION_GAP,
        (None, None) => return Ok(()),
    };
    gantry_db::plan::boards::set_relative_position(conn, issue.id, position).await?;
    Ok(())
}

/// The position of a neighbour a placement names: another issue of the projects `among`.
async fn neighbour(
    conn: &mut Conn,
    issue: &IssueRow,
    among: &[ProjectId],
    field: &'static str,
    id: Option<IssueId>,
) -> CoreResult<Option<i64>> {
    let Some(id) = id else { return Ok(None) };
    let row = db::find_issue_by_id(conn, id)
        .await?
        .filter(|row| among.contains(&row.project_id) && row.id != issue.id)
        .ok_or_else(|| {
            CoreError::invalid(field, format!("is {id}, which is no other issue of this board or project"))
        })?;
    Ok(row.relative_position)
}

/// A milestone the project's issues may be in (its own or a group's above it); any other is
/// refused.
async fn resolve_milestone(conn: &mut Conn, access: &ProjectAccess, id: MilestoneId) -> CoreResult<MilestoneRow> {
    milestones_db::list_project_milestones(conn, access.project().id, true)
        .await?
        .into_iter()
        .find(|milestone| milestone.id == id)
        .ok_or_else(|| {
            CoreError::invalid(
                "milestone_id",
                format!("is {id}, which is not a milestone of this project or its groups"),
            )
        })
}

/// The accounts these ids name, each one who may see the project (`0` means nobody, as in
/// GitLab); anyone else is refused.
async fn resolve_assignees(conn: &mut Conn, access: &ProjectAccess, ids: &[UserId]) -> CoreResult<Vec<UserRow>> {
    let mut users: Vec<UserRow> = Vec::new();
    for id in ids.iter().filter(|id| id.0 > 0) {
        if users.iter().any(|user| user.id == *id) {
            continue;
        }
        let user = gantry_db::manage::users::find_user_by_id(conn, *id)
            .await?
            .filter(|user| !user.blocked)
            .ok_or_else(|| CoreError::invalid("assignee_ids", format!("has {id}, which is no active user")))?;
        let assignee = Actor::User(user.clone());
        if ProjectAccess::load(conn, &assignee, ProjectKey::Id(access.project().id)).await.is_err() {
            return Err(CoreError::invalid(
                "assignee_ids",
                format!("has @{}, who cannot see this project", user.username),
            ));
        }
        users.push(user);
    }
    Ok(users)
}

/// Leaves a system note on an issue, in a discussion of its own.
pub(crate) async fn add_system_note(
    conn: &mut Conn,
    project: ProjectId,
    issue: gantry_types::IssueId,
    actor: UserId,
    body: &str,
) -> CoreResult<NoteId> {
    add_system_note_by(conn, project, issue, Some(actor), body).await
}

/// Leaves a system note on an issue by `actor`, or by Gantry itself (`None`: an iteration's
/// roll-over).
pub(crate) async fn add_system_note_by(
    conn: &mut Conn,
    project: ProjectId,
    issue: gantry_types::IssueId,
    actor: Option<UserId>,
    body: &str,
) -> CoreResult<NoteId> {
    let discussion = crate::secret::random_hex(20);
    let note = NewNote {
        project_id: Some(project),
        noteable: Noteable::issue(issue),
        discussion_id: &discussion,
        author_id: actor,
        body,
        system: true,
        thread: false,
    };
    Ok(notes_db::insert_note(conn, &note).await?)
}
