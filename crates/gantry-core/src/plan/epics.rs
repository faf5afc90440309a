//! Epics of a group (`&3`): numbered per group, with a Markdown description, an author, a state
//! (opened, closed), a confidential flag, the group's labels (and its ancestors'), a start and a
//! due date each either fixed or taken from its issues' milestones, a parent epic (of the group
//! or a group above it, at most [`MAX_DEPTH`] levels, never a cycle), and issues of the group's
//! projects and its subgroups' (an issue is in at most one epic).
//!
//! Who may do what follows the group (GitLab's rules): whoever sees the group sees its epics,
//! but confidential ones only its Reporters and above; Reporters and above create, edit, close
//! and reopen them and put issues and epics in them; Owners delete them. The issues of an epic
//! are listed through the group's issue list, so only those the viewer may see show (no
//! confidential issue they may not read, nothing of a project hidden from them), and its
//! progress counts only those. What epics hold — issues, child epics, progress — is in
//! `epic_tree.rs`.

use gantry_db::Conn;
use gantry_db::plan::epics::{self as db, EpicFields};
pub use gantry_db::plan::epics::{EpicIssueRow, EpicRow};
use gantry_db::plan::labels::{self as labels_db, LabelFields, LabelOwner, LabelRow};
use gantry_db::plan::users_by_ids;
use gantry_types::{EpicId, IssueState, NamespaceId, UserId};

use super::epic_tree::{check_confidential_parent, check_parent};
use super::issues::UserRef;
use super::labels::{DEFAULT_LABEL_COLOR, check_label_name};
use super::milestones::check_milestone_date;
use crate::manage::groups::Lookup;
use crate::policy::{GroupAccess, GroupAction};
use crate::{CoreError, CoreResult, UserRow};

/// Most levels of nested epics, the top one included (GitLab's).
pub const MAX_DEPTH: usize = 7;
/// Most groups below a group whose epics its list shows.
const MAX_GROUPS: i64 = 100;
/// Longest title, in characters (GitLab's).
const MAX_TITLE: usize = 255;
/// Longest description, in bytes (1 MiB).
const MAX_DESCRIPTION: usize = 1_048_576;

/// An epic with its people and labels.
#[derive(Debug, Clone)]
pub struct EpicView {
    pub epic: EpicRow,
    pub author: Option<UserRow>,
    pub closed_by: Option<UserRow>,
    pub labels: Vec<LabelRow>,
}

impl EpicView {
    /// `&3` within its group, `group&3` from elsewhere.
    pub fn reference(&self, from: Option<NamespaceId>) -> String {
        if from == Some(self.epic.group_id) {
            format!("&{}", self.epic.iid)
        } else {
            format!("{}&{}", self.epic.group_path, self.epic.iid)
        }
    }
}

/// Close or reopen an epic (GitLab's `state_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpicStateEvent {
    Close,
    Reopen,
}

impl EpicStateEvent {
    /// Reads GitLab's name.
    pub fn parse(value: &str) -> Option<EpicStateEvent> {
        match value {
            "close" => Some(EpicStateEvent::Close),
            "reopen" => Some(EpicStateEvent::Reopen),
            _ => None,
        }
    }
}

/// An epic as asked for: on create, a missing title is refused; on update, what is missing
/// stays. `Some(None)` removes a fixed date or the parent.
#[derive(Debug, Clone, Default)]
pub struct EpicInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub confidential: Option<bool>,
    pub start_date_is_fixed: Option<bool>,
    pub start_date_fixed: Option<Option<String>>,
    pub due_date_is_fixed: Option<bool>,
    pub due_date_fixed: Option<Option<String>>,
    /// Exactly these labels (names of the group's or its ancestors').
    pub labels: Option<Vec<String>>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    /// The parent epic, by id.
    pub parent_id: Option<Option<EpicId>>,
    pub state_event: Option<EpicStateEvent>,
}

/// How an epic list is ordered (GitLab's `order_by`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EpicOrder {
    #[default]
    CreatedAt,
    UpdatedAt,
    Title,
    StartDate,
    DueDate,
}

impl EpicOrder {
    /// Reads GitLab's name.
    pub fn parse(value: &str) -> Option<EpicOrder> {
        Some(match value {
            "created_at" => EpicOrder::CreatedAt,
            "updated_at" => EpicOrder::UpdatedAt,
            "title" => EpicOrder::Title,
            "start_date" => EpicOrder::StartDate,
            "end_date" | "due_date" => EpicOrder::DueDate,
            _ => return None,
        })
    }
}

/// The filters of an epic list (GitLab's).
#[derive(Debug, Clone, Default)]
pub struct EpicQuery {
    pub state: Option<IssueState>,
    /// Names every epic carries.
    pub labels: Vec<String>,
    /// Part of the title or description, ignoring case.
    pub search: Option<String>,
    pub author: Option<UserRef>,
    pub confidential: Option<bool>,
    pub iids: Vec<i64>,
    pub order_by: EpicOrder,
    /// Ascending (default descending).
    pub ascending: bool,
    /// The epics of the groups below too (those the viewer may see).
    pub include_descendant_groups: bool,
}

/// An epic's progress over the issues the viewer may see: how many and how much weight are
/// closed of all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpicProgress {
    pub open: i64,
    pub closed: i64,
    pub open_weight: i64,
    pub closed_weight: i64,
}

impl EpicProgress {
    /// Closed issues as a whole percentage of all (0 without issues).
    pub fn percent(&self) -> i64 {
        let total = self.open + self.closed;
        if total == 0 { 0 } else { self.closed * 100 / total }
    }

    /// Closed weight as a whole percentage of all weight (0 without weight).
    pub fn weight_percent(&self) -> i64 {
        let total = self.open_weight + self.closed_weight;
        if total == 0 { 0 } else { self.closed_weight * 100 / total }
    }
}

/// Whether the actor may see this epic of the group `access` is about.
pub fn sees_epic(access: &GroupAccess, epic: &EpicRow) -> bool {
    epic.group_id == access.group().id && (!epic.confidential || access.can(GroupAction::ReadConfidentialEpics))
}

fn check_title(title: &str) -> CoreResult<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(CoreError::invalid("title", "can't be blank"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(CoreError::invalid("title", "is too long (maximum is 255 characters)"));
    }
    if title.chars().any(char::is_control) {
        return Err(CoreError::invalid("title", "is invalid: a title is one line of text"));
    }
    Ok(title.to_owned())
}

fn check_description(description: &str) -> CoreResult<String> {
    if description.len() > MAX_DESCRIPTION {
        return Err(CoreError::invalid("description", "is too long (maximum is 1048576 characters)"));
    }
    Ok(description.replace("\r\n", "\n"))
}

/// Whether the path `inner` is `outer` or below it.
pub(super) fn within(inner: &str, outer: &str) -> bool {
    let (inner, outer) = (inner.to_lowercase(), outer.to_lowercase());
    inner == outer || inner.starts_with(&format!("{outer}/"))
}

/// Whether the epic passes the query's filters (its labels given).
fn matches(view: &EpicView, query: &EpicQuery, author: Option<UserId>) -> bool {
    let epic = &view.epic;
    let search = query.search.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    query.state.is_none_or(|state| epic.state == state)
        && search.is_none_or(|search| {
            epic.title.to_lowercase().contains(&search) || epic.description.to_lowercase().contains(&search)
        })
        && query.confidential.is_none_or(|confidential| epic.confidential == confidential)
        && (query.iids.is_empty() || query.iids.contains(&epic.iid))
        && (query.author.is_none() || (author.is_some() && epic.author_id == author))
        && query
            .labels
            .iter()
            .map(|name| name.trim())
            .filter(|name| !name.is_empty())
            .all(|name| view.labels.iter().any(|label| label.title.eq_ignore_ascii_case(name)))
}

fn sort_epics(epics: &mut [EpicView], order: EpicOrder, ascending: bool) {
    epics.sort_by(|a, b| {
        let (a, b) = (&a.epic, &b.epic);
        let ordering = match order {
            EpicOrder::CreatedAt => a.created_at.cmp(&b.created_at),
            EpicOrder::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            EpicOrder::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            EpicOrder::StartDate => {
                (a.start_date().is_none(), a.start_date()).cmp(&(b.start_date().is_none(), b.start_date()))
            }
            EpicOrder::DueDate => (a.due_date().is_none(), a.due_date()).cmp(&(b.due_date().is_none(), b.due_date())),
        }
        .then(a.id.cmp(&b.id));
        if ascending { ordering } else { ordering.reverse() }
    });
}

/// Rows with their people and labels, in their order.
pub(super) async fn views(conn: &mut Conn, rows: Vec<EpicRow>) -> CoreResult<Vec<EpicView>> {
    let ids: Vec<EpicId> = rows.iter().map(|row| row.id).collect();
    let mut labels = labels_db::labels_of_epics(conn, &ids).await?;
    let mut people: Vec<UserId> = rows.iter().flat_map(|row| [row.author_id, row.closed_by_id]).flatten().collect();
    people.sort();
    people.dedup();
    let people = users_by_ids(conn, &people).await?;
    let person = |id: Option<UserId>| id.and_then(|id| people.iter().find(|user| user.id == id).cloned());
    Ok(rows
        .into_iter()
        .map(|epic| {
            let (own, rest): (Vec<_>, Vec<_>) = labels.drain(..).partition(|(id, _)| *id == epic.id);
            labels = rest;
            EpicView {
                author: person(epic.author_id),
                closed_by: person(epic.closed_by_id),
                labels: own.into_iter().map(|(_, label)| label).collect(),
                epic,
            }
        })
        .collect())
}

pub(super) async fn view(conn: &mut Conn, row: EpicRow) -> CoreResult<EpicView> {
    views(conn, vec![row]).await?.pop().ok_or(CoreError::NotFound("epic"))
}

/// The group's labels (and its ancestors') these names give. An unknown name is made a label
/// of the group when `create` (as GitLab does for the labels an epic is given); refused
/// otherwise.
async fn resolve_labels(
    conn: &mut Conn,
    group: NamespaceId,
    names: &[String],
    create: bool,
) -> CoreResult<Vec<LabelRow>> {
    let names: Vec<&str> = names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut known = labels_db::list_group_labels(conn, group, true).await?;
    let mut found: Vec<LabelRow> = Vec::new();
    for name in names {
        let label = match known.iter().find(|label| label.title.eq_ignore_ascii_case(name)) {
            Some(label) => label.clone(),
            None if create => {
                let title = check_label_name(name)?;
                let fields = LabelFields { title: &title, color: DEFAULT_LABEL_COLOR, description: "" };
                let owner = LabelOwner::Group(group);
                let id = labels_db::insert_label(conn, owner, &fields)
                    .await
                    .map_err(crate::manage::conflict_as("Label already exists"))?;
                let label = labels_db::find_label(conn, owner, id).await?.ok_or(CoreError::NotFound("label"))?;
                known.push(label.clone());
                label
            }
            None => return Err(CoreError::invalid("labels", format!("{name} is not a label of this group"))),
        };
        if !found.iter().any(|l| l.id == label.id) {
            found.push(label);
        }
    }
    Ok(found)
}

/// The fixed dates the input leaves, checked: days, the start not after the due date.
fn dates(input: &EpicInput, current: Option<&EpicRow>) -> CoreResult<(bool, Option<String>, bool, Option<String>)> {
    let start_fixed = match &input.start_date_fixed {
        Some(value) => check_milestone_date("start_date_fixed", value.as_deref())?,
        None => current.and_then(|e| e.start_date_fixed.clone()),
    };
    let due_fixed = match &input.due_date_fixed {
        Some(value) => check_milestone_date("due_date_fixed", value.as_deref())?,
        None => current.and_then(|e| e.due_date_fixed.clone()),
    };
    // A fixed date given without saying is fixed, as GitLab's pages do.
    let start_is_fixed = input
        .start_date_is_fixed
        .or_else(|| input.start_date_fixed.as_ref().map(|value| value.is_some()))
        .unwrap_or_else(|| current.is_some_and(|e| e.start_date_is_fixed));
    let due_is_fixed = input
        .due_date_is_fixed
        .or_else(|| input.due_date_fixed.as_ref().map(|value| value.is_some()))
        .unwrap_or_else(|| current.is_some_and(|e| e.due_date_is_fixed));
    if let (true, true, Some(start), Some(due)) = (start_is_fixed, due_is_fixed, &start_fixed, &due_fixed)
        && start > due
    {
        return Err(CoreError::invalid("due_date_fixed", "must be on or after the start date"));
    }
    Ok((start_is_fixed, start_fixed, due_is_fixed, due_fixed))
}

impl super::Plan<'_> {
    /// The group's epics the viewer may see that the query selects (with those of the groups
    /// below it when asked), in its order.
    pub async fn list_epics(&self, access: &GroupAccess, query: &EpicQuery) -> CoreResult<Vec<EpicView>> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        let author = match &query.author {
            Some(UserRef::Id(id)) => Some(*id),
            Some(UserRef::Username(name)) => {
                gantry_db::manage::users::find_user_by_username(&mut conn, name.trim()).await?.map(|user| user.id)
            }
            None => None,
        };
        let mut groups = vec![access.clone()];
        if query.include_descendant_groups {
            drop(conn);
            groups.extend(self.descendant_groups(access).await?);
            conn = self.db.conn().await?;
        }
        let ids: Vec<NamespaceId> = groups.iter().map(|group| group.group().id).collect();
        let mut rows = db::list_epics(&mut conn, &ids).await?;
        rows.retain(|epic| {
            groups.iter().find(|group| group.group().id == epic.group_id).is_some_and(|group| sees_epic(group, epic))
        });
        let mut epics = views(&mut conn, rows).await?;
        epics.retain(|view| matches(view, query, author));
        sort_epics(&mut epics, query.order_by, query.ascending);
        Ok(epics)
    }

    /// The groups below one that the viewer may see (at most [`MAX_GROUPS`]), each with the
    /// viewer's access to it.
    pub(super) async fn descendant_groups(&self, access: &GroupAccess) -> CoreResult<Vec<GroupAccess>> {
        use crate::manage::groups::{GroupFilters, GroupQuery, GroupScope};
        let query = GroupQuery::all_by_name();
        let page = crate::Page { offset: 0, limit: MAX_GROUPS };
        let scope = GroupScope::Descendants(access);
        let (below, _) =
            self.manage().list_groups_in(access.actor(), scope, &query, &GroupFilters::default(), page).await?;
        let mut groups = Vec::new();
        for group in below {
            match self.group_access(access.actor(), &Lookup::Id(group.id.0)).await {
                Ok(group) => groups.push(group),
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(groups)
    }

    /// One epic of the group by its number, when the viewer may see it.
    pub async fn find_epic(&self, access: &GroupAccess, iid: i64) -> CoreResult<EpicView> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        let row = db::find_epic(&mut conn, access.group().id, iid)
            .await?
            .filter(|epic| sees_epic(access, epic))
            .ok_or(CoreError::NotFound("epic"))?;
        view(&mut conn, row).await
    }

    /// An epic the viewer may see, by id, with the viewer's access to its group.
    pub(super) async fn epic_by_id(
        &self,
        conn: &mut Conn,
        access: &GroupAccess,
        id: EpicId,
    ) -> CoreResult<(GroupAccess, EpicRow)> {
        let row = db::find_epic_by_id(conn, id).await?.ok_or(CoreError::NotFound("epic"))?;
        let group = if row.group_id == access.group().id {
            access.clone()
        } else {
            match self.group_access(access.actor(), &Lookup::Id(row.group_id.0)).await {
                Ok(group) => group,
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Err(CoreError::NotFound("epic")),
                Err(error) => return Err(error),
            }
        };
        if !sees_epic(&group, &row) {
            return Err(CoreError::NotFound("epic"));
        }
        Ok((group, row))
    }

    /// Opens an epic in the group (Reporters and above).
    pub async fn create_epic(&self, access: &GroupAccess, input: &EpicInput) -> CoreResult<EpicView> {
        access.require(GroupAction::ManageEpics)?;
        let user = access.actor().require_user()?.id;
        let title = check_title(input.title.as_deref().unwrap_or(""))?;
        let description = check_description(input.description.as_deref().unwrap_or(""))?;
        let (start_date_is_fixed, start_fixed, due_date_is_fixed, due_fixed) = dates(input, None)?;
        let mut conn = self.db.conn().await?;
        let mut names = input.labels.clone().unwrap_or_default();
        names.extend(input.add_labels.iter().cloned());
        let labels = resolve_labels(&mut conn, access.group().id, &names, true).await?;
        let parent = match input.parent_id.flatten() {
            Some(id) => {
                let (parent_group, parent) = self.epic_by_id(&mut conn, access, id).await?;
                parent_group.require(GroupAction::ManageEpics)?;
                check_parent(&mut conn, None, &access.group().full_path, &parent).await?;
                check_confidential_parent(&parent, input.confidential.unwrap_or(false))?;
                Some(parent.id)
            }
            None => None,
        };
        drop(conn);
        let fields = EpicFields {
            title: &title,
            description: &description,
            confidential: input.confidential.unwrap_or(false),
            start_date_is_fixed,
            start_date_fixed: start_fixed.as_deref(),
            due_date_is_fixed,
            due_date_fixed: due_fixed.as_deref(),
        };
        let mut tx = self.db.begin().await?;
        let id = db::insert_epic(&mut tx, access.group().id, user, &fields).await?;
        for label in &labels {
            labels_db::add_epic_label(&mut tx, id, label.id).await?;
        }
        if parent.is_some() {
            db::set_epic_parent(&mut tx, id, parent).await?;
        }
        if input.state_event == Some(EpicStateEvent::Close) {
            db::set_epic_state(&mut tx, id, IssueState::Closed, Some(user)).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(epic.id = %id, group.id = %access.group().id, "epic created");
        let mut conn = self.db.conn().await?;
        let row = db::find_epic_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("epic"))?;
        view(&mut conn, row).await
    }

    /// Changes, closes or reopens an epic of the group (Reporters and above).
    pub async fn update_epic(&self, access: &GroupAccess, iid: i64, input: &EpicInput) -> CoreResult<EpicView> {
        let current = self.find_epic(access, iid).await?;
        access.require(GroupAction::ManageEpics)?;
        let user = access.actor().require_user()?.id;
        let epic = &current.epic;
        let title = match &input.title {
            Some(title) => check_title(title)?,
            None => epic.title.clone(),
        };
        let description = match &input.description {
            Some(description) => check_description(description)?,
            None => epic.description.clone(),
        };
        let (start_date_is_fixed, start_fixed, due_date_is_fixed, due_fixed) = dates(input, Some(epic))?;
        let mut conn = self.db.conn().await?;
        let mut labels: Vec<LabelRow> = match &input.labels {
            Some(names) => resolve_labels(&mut conn, access.group().id, names, true).await?,
            None => current.labels.clone(),
        };
        for label in resolve_labels(&mut conn, access.group().id, &input.add_labels, true).await? {
            if !labels.iter().any(|l| l.id == label.id) {
                labels.push(label);
            }
        }
        let removed = resolve_labels(&mut conn, access.group().id, &input.remove_labels, false).await?;
        labels.retain(|label| !removed.iter().any(|r| r.id == label.id));
        let parent = match input.parent_id {
            Some(Some(id)) => {
                let (parent_group, parent) = self.epic_by_id(&mut conn, access, id).await?;
                parent_group.require(GroupAction::ManageEpics)?;
                check_parent(&mut conn, Some(epic), &access.group().full_path, &parent).await?;
                check_confidential_parent(&parent, input.confidential.unwrap_or(epic.confidential))?;
                Some(Some(parent.id))
            }
            Some(None) => Some(None),
            None => None,
        };
        let confidential = input.confidential.unwrap_or(epic.confidential);
        if confidential && !epic.confidential {
            match db::holds_public_items(&mut conn, epic.id).await? {
                (true, _) => {
                    return Err(CoreError::Refused(
                        "Cannot make the epic confidential if it contains non-confidential issues".to_owned(),
                    ));
                }
                (_, true) => {
                    return Err(CoreError::Refused(
                        "Cannot make the epic confidential if it contains non-confidential child epics".to_owned(),
                    ));
                }
                _ => {}
            }
        }
        if !confidential
            && parent.is_none()
            && let Some(parent) = epic.parent_id
        {
            let parent = db::find_epic_by_id(&mut conn, parent).await?.ok_or(CoreError::NotFound("epic"))?;
            check_confidential_parent(&parent, confidential)?;
        }
        drop(conn);
        let fields = EpicFields {
            title: &title,
            description: &description,
            confidential: input.confidential.unwrap_or(epic.confidential),
            start_date_is_fixed,
            start_date_fixed: start_fixed.as_deref(),
            due_date_is_fixed,
            due_date_fixed: due_fixed.as_deref(),
        };
        let mut tx = self.db.begin().await?;
        db::update_epic(&mut tx, epic.id, &fields).await?;
        for label in &current.labels {
            if !labels.iter().any(|l| l.id == label.id) {
                labels_db::remove_epic_label(&mut tx, epic.id, label.id).await?;
            }
        }
        for label in &labels {
            labels_db::add_epic_label(&mut tx, epic.id, label.id).await?;
        }
        if let Some(parent) = parent {
            db::set_epic_parent(&mut tx, epic.id, parent).await?;
        }
        match input.state_event {
            Some(EpicStateEvent::Close) if epic.state == IssueState::Opened => {
                db::set_epic_state(&mut tx, epic.id, IssueState::Closed, Some(user)).await?;
            }
            Some(EpicStateEvent::Reopen) if epic.state == IssueState::Closed => {
                db::set_epic_state(&mut tx, epic.id, IssueState::Opened, None).await?;
            }
            _ => {}
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        let mut conn = self.db.conn().await?;
        let row = db::find_epic_by_id(&mut conn, epic.id).await?.ok_or(CoreError::NotFound("epic"))?;
        view(&mut conn, row).await
    }

    /// Deletes an epic of the group (Owners): its child epics go to the top, its issues are in
    /// no epic after.
    pub async fn delete_epic(&self, access: &GroupAccess, iid: i64) -> CoreResult<EpicView> {
        let epic = self.find_epic(access, iid).await?;
        access.require(GroupAction::DeleteEpics)?;
        let mut tx = self.db.begin().await?;
        db::delete_epic(&mut tx, epic.epic.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(epic.id = %epic.epic.id, "epic deleted");
        Ok(epic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_contain_their_subgroups_only() {
        assert!(within("acme", "acme"));
        assert!(within("Acme/Platform", "acme"));
        assert!(!within("acme-two", "acme"));
        assert!(!within("acme", "acme/platform"));
    }

    #[test]
    fn progress_is_a_whole_percentage() {
        let progress = EpicProgress { open: 2, closed: 1, open_weight: 3, closed_weight: 1 };
        assert_eq!(progress.percent(), 33);
        assert_eq!(progress.weight_percent(), 25);
        assert_eq!(EpicProgress::default().percent(), 0);
    }
}
