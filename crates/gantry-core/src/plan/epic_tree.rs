//! What an epic holds: its issues (of the group's projects and its subgroups', or of any
//! other project whose members put them there, as GitLab allows since epics span groups; one
//! epic per issue at most, listed as the viewer may see them, each with its place — GitLab's
//! `epic_issue_id` — and a system note on the issue when it comes and goes), its progress over
//! those, and its child epics (of the group or a subgroup, at most `epics::MAX_DEPTH` levels,
//! no cycle), each added by id or by a reference written on the epic's page.

use std::collections::HashMap;

use gantry_db::Conn;
use gantry_db::manage::projects::ProjectKey;
use gantry_db::plan::epics::{self as db, EpicIssueRow, EpicRow};
use gantry_db::plan::issues as issues_db;
use gantry_types::{EpicId, IssueId, IssueState, NamespaceId};

use super::epics::{EpicInput, EpicProgress, EpicView, MAX_DEPTH, sees_epic, view, views, within};
use super::issues::{IssueQuery, IssueView, IssuesOf, load_issue};
use super::references::{Found, Reference, Resolver, scan};
use crate::manage::groups::Lookup;
use crate::policy::{GroupAccess, GroupAction, ProjectAccess};
use crate::{CoreError, CoreResult, Page};

/// Most issues an epic's progress counts.
const MAX_PROGRESS_ISSUES: i64 = 1000;

/// How many levels an epic's subtree has (itself included), stopping past [`MAX_DEPTH`].
async fn height(conn: &mut Conn, epic: EpicId) -> CoreResult<usize> {
    let mut level = vec![epic];
    let mut height = 0;
    while !level.is_empty() && height <= MAX_DEPTH {
        height += 1;
        let mut next = Vec::new();
        for id in level {
            next.extend(db::child_epics(conn, id).await?.into_iter().map(|child| child.id));
        }
        level = next;
    }
    Ok(height)
}

/// Checks that `child` (of the group `child_group`, or a new epic when `None`) may go under
/// `parent`: the parent's group is the child's or above it, no cycle, at most [`MAX_DEPTH`]
/// levels.
pub(super) async fn check_parent(
    conn: &mut Conn,
    child: Option<&EpicRow>,
    child_group: &str,
    parent: &EpicRow,
) -> CoreResult<()> {
    if !within(child_group, &parent.group_path) {
        return Err(CoreError::invalid(
            "parent_id",
            "is not allowed: the parent epic must be of the child's group or a group above it",
        ));
    }
    let mut depth = 1;
    let mut up = Some(parent.clone());
    while let Some(epic) = up {
        if child.is_some_and(|child| child.id == epic.id) {
            return Err(CoreError::invalid("parent_id", "is not allowed: an epic cannot be its own ancestor"));
        }
        up = match epic.parent_id {
            Some(id) if depth <= MAX_DEPTH => {
                depth += 1;
                db::find_epic_by_id(conn, id).await?
            }
            _ => None,
        };
    }
    let below = match child {
        Some(child) => height(conn, child.id).await?,
        None => 1,
    };
    if depth + below > MAX_DEPTH {
        return Err(CoreError::invalid(
            "parent_id",
            format!("is not allowed: epics nest at most {MAX_DEPTH} levels deep"),
        ));
    }
    Ok(())
}

/// Refuses a non-confidential epic under a confidential one (GitLab's rule: the child would
/// show what the parent hides).
pub(super) fn check_confidential_parent(parent: &EpicRow, confidential: bool) -> CoreResult<()> {
    if parent.confidential && !confidential {
        return Err(CoreError::Refused(
            "A non-confidential epic cannot be assigned to a confidential parent epic".to_owned(),
        ));
    }
    Ok(())
}

impl super::Plan<'_> {
    /// One page of the epic's issues the viewer may see (wherever their projects are), each
    /// with its place in the epic (GitLab's `epic_issue_id`), and how many there are.
    pub async fn epic_issues(
        &self,
        access: &GroupAccess,
        epic: &EpicRow,
        page: Page,
    ) -> CoreResult<(Vec<(EpicIssueRow, IssueView)>, i64)> {
        if !sees_epic(access, epic) {
            return Err(CoreError::NotFound("epic"));
        }
        let query = IssueQuery {
            epic: Some(epic.id),
            order_by: gantry_db::plan::issues::IssueOrder::CreatedAt,
            sort: crate::SortDirection::Asc,
            ..IssueQuery::default()
        };
        let (issues, total) = self.list_issues(IssuesOf::Visible(access.actor()), &query, page).await?;
        let mut conn = self.db.conn().await?;
        let ids: Vec<IssueId> = issues.iter().map(|view| view.issue.id).collect();
        let places: HashMap<IssueId, EpicIssueRow> =
            db::epic_issues_of_issues(&mut conn, &ids).await?.into_iter().map(|row| (row.issue_id, row)).collect();
        let listed =
            issues.into_iter().filter_map(|view| places.get(&view.issue.id).map(|place| (*place, view))).collect();
        Ok((listed, total))
    }

    /// How much of the epic is done, over the issues the viewer may see.
    pub async fn epic_progress(&self, access: &GroupAccess, epic: &EpicRow) -> CoreResult<EpicProgress> {
        let (issues, _) = self.epic_issues(access, epic, Page { offset: 0, limit: MAX_PROGRESS_ISSUES }).await?;
        let mut progress = EpicProgress::default();
        for (_, view) in issues {
            let weight = view.issue.weight.unwrap_or(0);
            if view.issue.state == IssueState::Closed {
                progress.closed += 1;
                progress.closed_weight += weight;
            } else {
                progress.open += 1;
                progress.open_weight += weight;
            }
        }
        Ok(progress)
    }

    /// The issue (by id) the viewer may see, with the access to its project; to be `added`,
    /// refused when its project is outside the group and its subgroups and the actor is no
    /// member of it (taking one out needs no more than seeing it).
    async fn issue_for_epic(
        &self,
        conn: &mut Conn,
        access: &GroupAccess,
        issue: IssueId,
        added: bool,
    ) -> CoreResult<(ProjectAccess, IssueView)> {
        let row = issues_db::find_issue_by_id(conn, issue).await?.ok_or(CoreError::NotFound("issue"))?;
        let project =
            match crate::policy::ProjectAccess::load(conn, access.actor(), ProjectKey::Id(row.project_id)).await {
                Ok(project) => project,
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Err(CoreError::NotFound("issue")),
                Err(error) => return Err(error),
            };
        let view = load_issue(conn, &project, row.iid).await.map_err(|_| CoreError::NotFound("issue"))?;
        if added && !within(&project.project().full_path, &access.group().full_path) && project.level().is_none() {
            return Err(CoreError::Refused(
                "Issue cannot be added to the epic: its project is outside the epic's group and you are not a member \
                 of it"
                    .to_owned(),
            ));
        }
        Ok((project, view))
    }

    /// Puts an issue (by id) in an epic of the group, taking it out of any other (Reporters on
    /// the group who may see the issue). A confidential epic takes only confidential issues.
    pub async fn add_epic_issue(
        &self,
        access: &GroupAccess,
        iid: i64,
        issue: IssueId,
    ) -> CoreResult<(EpicIssueRow, IssueView, EpicView)> {
        let epic = self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let user = access.actor().require_user()?.id;
        let mut conn = self.db.conn().await?;
        let (project, view) = self.issue_for_epic(&mut conn, access, issue, true).await?;
        if epic.epic.confidential && !view.issue.confidential {
            return Err(CoreError::Refused(
                "Cannot assign a confidential epic to a non-confidential issue. Make the issue confidential and try again"
                    .to_owned(),
            ));
        }
        drop(conn);
        let mut tx = self.db.begin().await?;
        let place = db::add_epic_issue(&mut tx, epic.epic.id, view.issue.id).await?;
        let from = Some(project.namespace().id);
        let body = format!("added to epic {}", epic.reference(from));
        super::issues::add_system_note(&mut tx, project.project().id, view.issue.id, user, &body).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(epic.id = %epic.epic.id, issue.id = %view.issue.id, "issue added to epic");
        Ok((place, view, epic))
    }

    /// Takes an issue out of an epic of the group, by its place (`epic_issue_id`).
    pub async fn remove_epic_issue(
        &self,
        access: &GroupAccess,
        iid: i64,
        epic_issue: i64,
    ) -> CoreResult<(EpicIssueRow, IssueView, EpicView)> {
        let epic = self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let user = access.actor().require_user()?.id;
        let mut conn = self.db.conn().await?;
        let place = db::find_epic_issue(&mut conn, epic_issue)
            .await?
            .filter(|place| place.epic_id == epic.epic.id)
            .ok_or(CoreError::NotFound("epic issue"))?;
        let (project, view) = self.issue_for_epic(&mut conn, access, place.issue_id, false).await?;
        drop(conn);
        let mut tx = self.db.begin().await?;
        db::remove_epic_issue(&mut tx, place.id).await?;
        let body = format!("removed from epic {}", epic.reference(Some(project.namespace().id)));
        super::issues::add_system_note(&mut tx, project.project().id, view.issue.id, user, &body).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok((place, view, epic))
    }

    /// The epic an issue is in, by its place, when the viewer may see it (the issue page's
    /// sidebar).
    pub async fn epic_of_issue(&self, access: &ProjectAccess, issue: IssueId) -> CoreResult<Option<EpicView>> {
        let mut conn = self.db.conn().await?;
        let Some(place) = db::epic_issues_of_issues(&mut conn, &[issue]).await?.pop() else { return Ok(None) };
        let Some(row) = db::find_epic_by_id(&mut conn, place.epic_id).await? else { return Ok(None) };
        drop(conn);
        let group = match self.group_access(access.actor(), &Lookup::Id(row.group_id.0)).await {
            Ok(group) => group,
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        if !sees_epic(&group, &row) {
            return Ok(None);
        }
        let mut conn = self.db.conn().await?;
        Ok(Some(view(&mut conn, row).await?))
    }

    /// The parent of an epic, when the viewer may see it (it may be of a group above, which
    /// they may not).
    pub async fn parent_epic(&self, access: &GroupAccess, epic: &EpicRow) -> CoreResult<Option<EpicView>> {
        let Some(parent) = epic.parent_id else { return Ok(None) };
        let mut conn = self.db.conn().await?;
        match self.epic_by_id(&mut conn, access, parent).await {
            Ok((_, row)) => Ok(Some(view(&mut conn, row).await?)),
            Err(CoreError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Leaves out of these epics the parents the viewer may not see (for what they are shown).
    pub async fn hide_unseen_parents(&self, access: &GroupAccess, epics: &mut [EpicView]) -> CoreResult<()> {
        let mut seen: HashMap<EpicId, bool> = HashMap::new();
        for epic in epics.iter_mut() {
            let Some(parent) = epic.epic.parent_id else { continue };
            let visible = match seen.get(&parent) {
                Some(visible) => *visible,
                None => {
                    let visible = self.parent_epic(access, &epic.epic).await?.is_some();
                    seen.insert(parent, visible);
                    visible
                }
            };
            if !visible {
                epic.epic.parent_id = None;
                epic.epic.parent_iid = None;
            }
        }
        Ok(())
    }

    /// The epics these issues are in that the actor may see, by issue (the API's `epic` of an
    /// issue); an epic hidden from the actor is left out.
    pub async fn epics_of_issues(
        &self,
        actor: &crate::Actor,
        issues: &[IssueId],
    ) -> CoreResult<HashMap<IssueId, EpicView>> {
        let mut conn = self.db.conn().await?;
        let places = db::epic_issues_of_issues(&mut conn, issues).await?;
        let mut rows: HashMap<EpicId, EpicRow> = HashMap::new();
        for place in &places {
            if let std::collections::hash_map::Entry::Vacant(slot) = rows.entry(place.epic_id)
                && let Some(row) = db::find_epic_by_id(&mut conn, place.epic_id).await?
            {
                slot.insert(row);
            }
        }
        drop(conn);
        let mut groups: HashMap<NamespaceId, Option<GroupAccess>> = HashMap::new();
        let mut seen: Vec<EpicRow> = Vec::new();
        for row in rows.into_values() {
            if let std::collections::hash_map::Entry::Vacant(slot) = groups.entry(row.group_id) {
                slot.insert(match self.group_access(actor, &Lookup::Id(row.group_id.0)).await {
                    Ok(group) => Some(group),
                    Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => None,
                    Err(error) => return Err(error),
                });
            }
            if groups.get(&row.group_id).and_then(Option::as_ref).is_some_and(|group| sees_epic(group, &row)) {
                seen.push(row);
            }
        }
        let mut conn = self.db.conn().await?;
        let epics = views(&mut conn, seen).await?;
        Ok(places
            .into_iter()
            .filter_map(|place| {
                epics.iter().find(|epic| epic.epic.id == place.epic_id).map(|epic| (place.issue_id, epic.clone()))
            })
            .collect())
    }

    /// The epics right below one that the viewer may see (of the group or its subgroups).
    pub async fn child_epics(&self, access: &GroupAccess, epic: &EpicRow) -> CoreResult<Vec<EpicView>> {
        if !sees_epic(access, epic) {
            return Err(CoreError::NotFound("epic"));
        }
        let mut conn = self.db.conn().await?;
        let rows = db::child_epics(&mut conn, epic.id).await?;
        let mut groups: HashMap<NamespaceId, Option<GroupAccess>> = HashMap::new();
        let mut shown = Vec::new();
        for row in rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = groups.entry(row.group_id) {
                let group = if row.group_id == access.group().id {
                    Some(access.clone())
                } else {
                    match self.group_access(access.actor(), &Lookup::Id(row.group_id.0)).await {
                        Ok(group) => Some(group),
                        Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => None,
                        Err(error) => return Err(error),
                    }
                };
                slot.insert(group);
            }
            if groups.get(&row.group_id).and_then(Option::as_ref).is_some_and(|group| sees_epic(group, &row)) {
                shown.push(row);
            }
        }
        views(&mut conn, shown).await
    }

    /// Puts an epic (by id, of the group or a subgroup) under one of the group's (Reporters on
    /// both groups), within [`MAX_DEPTH`] levels and without a cycle.
    pub async fn add_child_epic(&self, access: &GroupAccess, iid: i64, child: EpicId) -> CoreResult<EpicView> {
        let parent = self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let mut conn = self.db.conn().await?;
        let (child_group, child) = self.epic_by_id(&mut conn, access, child).await?;
        child_group.require(GroupAction::ManageEpics)?;
        check_parent(&mut conn, Some(&child), &child.group_path, &parent.epic).await?;
        check_confidential_parent(&parent.epic, child.confidential)?;
        db::set_epic_parent(&mut conn, child.id, Some(parent.epic.id)).await?;
        let row = db::find_epic_by_id(&mut conn, child.id).await?.ok_or(CoreError::NotFound("epic"))?;
        view(&mut conn, row).await
    }

    /// Opens a new epic in the group under one of its epics (GitLab's "create and assign a
    /// child epic").
    pub async fn create_child_epic(&self, access: &GroupAccess, iid: i64, input: &EpicInput) -> CoreResult<EpicView> {
        let parent = self.find_epic(access, iid).await?;
        let input = EpicInput { parent_id: Some(Some(parent.epic.id)), ..input.clone() };
        self.create_epic(access, &input).await
    }

    /// Takes an epic (by id) from under one of the group's; it goes to the top.
    pub async fn remove_child_epic(&self, access: &GroupAccess, iid: i64, child: EpicId) -> CoreResult<EpicView> {
        let parent = self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let mut conn = self.db.conn().await?;
        let (_, child) = self.epic_by_id(&mut conn, access, child).await?;
        if child.parent_id != Some(parent.epic.id) {
            return Err(CoreError::NotFound("epic"));
        }
        db::set_epic_parent(&mut conn, child.id, None).await?;
        let row = db::find_epic_by_id(&mut conn, child.id).await?.ok_or(CoreError::NotFound("epic"))?;
        view(&mut conn, row).await
    }

    /// Puts the issue a reference names (`group/project#12`, as the epic's page takes it) in
    /// an epic of the group.
    pub async fn add_epic_issue_by_reference(
        &self,
        access: &GroupAccess,
        iid: i64,
        written: &str,
    ) -> CoreResult<(EpicIssueRow, IssueView, EpicView)> {
        self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let written = written.trim();
        let found = scan(written);
        let (project, issue_iid) = match found.as_slice() {
            [Found { range, reference: Reference::Issue { project, iid } }] if *range == (0..written.len()) => {
                (project.clone(), *iid)
            }
            _ => {
                return Err(CoreError::invalid(
                    "issue",
                    "must be written as group/project#12 (the issue's project and number)",
                ));
            }
        };
        let Some(project) = project.filter(|path| path.contains('/')) else {
            return Err(CoreError::invalid("issue", "must name its project: group/project#12"));
        };
        let mut conn = self.db.conn().await?;
        let mut resolver = Resolver::new(access.actor(), None);
        let (_, view) =
            resolver.issue(&mut conn, Some(&project), issue_iid).await?.ok_or(CoreError::NotFound("issue"))?;
        drop(conn);
        self.add_epic_issue(access, iid, view.issue.id).await
    }

    /// Puts the epic a reference names (`&5` of the group, `group/sub&5`) under an epic of the
    /// group.
    pub async fn add_child_epic_by_reference(
        &self,
        access: &GroupAccess,
        iid: i64,
        written: &str,
    ) -> CoreResult<EpicView> {
        self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let written = written.trim();
        let found = scan(written);
        let (group, child_iid) = match found.as_slice() {
            [Found { range, reference: Reference::Epic { group, iid } }] if *range == (0..written.len()) => {
                (group.clone().unwrap_or_else(|| access.group().full_path.clone()), *iid)
            }
            _ => return Err(CoreError::invalid("epic", "must be written as &5 or group/subgroup&5")),
        };
        let child =
            self.epic_for_reference(access.actor(), &group, child_iid).await?.ok_or(CoreError::NotFound("epic"))?;
        self.add_child_epic(access, iid, child.epic.id).await
    }

    /// The epic a reference names (`&3` in the group `group_path`), when the actor may see it.
    pub(crate) async fn epic_for_reference(
        &self,
        actor: &crate::Actor,
        group_path: &str,
        iid: i64,
    ) -> CoreResult<Option<EpicView>> {
        let group = match self.group_access(actor, &Lookup::Path(group_path.to_owned())).await {
            Ok(group) => group,
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        match self.find_epic(&group, iid).await {
            Ok(epic) => Ok(Some(epic)),
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }
}
