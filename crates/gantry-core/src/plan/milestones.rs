//! Milestones of a project or a group: a title unique within its owner, a description, a start
//! and a due date (`YYYY-MM-DD`, the start not after the due date) and a state (active or
//! closed). A project's issues go in its own milestones or those of any group above it;
//! Reporters and above manage milestones (GitLab's rule), and whoever may see the issues sees
//! them. A milestone's progress counts only the issues the viewer may see.

use gantry_db::plan::milestones::{self as db, MilestoneFields};
pub use gantry_db::plan::milestones::{MilestoneOwner, MilestoneRow, MilestoneState};
use gantry_types::MilestoneId;

use super::issues::{IssueQuery, IssuesOf, MilestoneFilter};
use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// Longest title (GitLab's) and description.
const MAX_TITLE: usize = 255;
const MAX_DESCRIPTION: usize = 1_048_576;

/// Whose milestones an operation is about.
#[derive(Debug, Clone, Copy)]
pub enum MilestoneScope<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

impl MilestoneScope<'_> {
    fn owner(self) -> MilestoneOwner {
        match self {
            MilestoneScope::Project(access) => MilestoneOwner::Project(access.project().id),
            MilestoneScope::Group(access) => MilestoneOwner::Group(access.group().id),
        }
    }

    fn require_read(self) -> CoreResult<()> {
        match self {
            MilestoneScope::Project(access) => access.require(ProjectAction::ReadIssues),
            MilestoneScope::Group(access) => access.require(GroupAction::Read),
        }
    }

    /// Checks that the actor may manage the milestones here (Reporters and above).
    pub fn require_manage(self) -> CoreResult<()> {
        match self {
            MilestoneScope::Project(access) => access.require(ProjectAction::ManageMilestones),
            MilestoneScope::Group(access) => access.require(GroupAction::ManageMilestones),
        }
    }

    /// Whether the actor may manage the milestones here.
    pub fn can_manage(self) -> bool {
        self.require_manage().is_ok()
    }
}

/// Close or reopen a milestone (GitLab's `state_event`: `close`, `activate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneStateEvent {
    Close,
    Activate,
}

impl MilestoneStateEvent {
    /// Reads GitLab's name.
    pub fn parse(value: &str) -> Option<MilestoneStateEvent> {
        match value {
            "close" => Some(MilestoneStateEvent::Close),
            "activate" => Some(MilestoneStateEvent::Activate),
            _ => None,
        }
    }
}

/// A milestone as asked for: on create, a missing title is refused; on update, what is missing
/// stays. `Some(None)` (or an empty text) removes a date.
#[derive(Debug, Clone, Default)]
pub struct MilestoneInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start_date: Option<Option<String>>,
    pub due_date: Option<Option<String>>,
    pub state_event: Option<MilestoneStateEvent>,
}

/// The filters of a milestone list (GitLab's).
#[derive(Debug, Clone, Default)]
pub struct MilestoneQuery {
    pub state: Option<MilestoneState>,
    /// Exactly this title.
    pub title: Option<String>,
    /// Part of the title or description, ignoring case.
    pub search: Option<String>,
    /// Only these numbers.
    pub iids: Vec<i64>,
    /// A project's list also has its groups' milestones; a group's, its ancestors'.
    pub include_ancestors: bool,
}

/// A milestone title as stored: trimmed, 1 to 255 characters.
pub fn check_milestone_title(title: &str) -> CoreResult<String> {
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

/// A date as stored: a calendar day `YYYY-MM-DD`; empty is none. A time of day after the day
/// (`2026-12-31T00:00:00Z`, which GitLab's clients send) is dropped, as GitLab does.
pub fn check_milestone_date(field: &'static str, value: Option<&str>) -> CoreResult<Option<String>> {
    let Some(text) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let day = match text.split_once(['T', ' ']) {
        Some((day, time)) if time.parse::<jiff::civil::Time>().is_ok() || text.parse::<jiff::Timestamp>().is_ok() => {
            day
        }
        _ => text,
    };
    day.parse::<jiff::civil::Date>()
        .ok()
        .filter(|date| date.to_string() == day)
        .map(|date| Some(date.to_string()))
        .ok_or_else(|| CoreError::invalid(field, "must be a date such as 2026-12-31 (YYYY-MM-DD)"))
}

/// A description as stored: at most 1 MiB, with Unix line ends.
pub(super) fn check_description(description: &str) -> CoreResult<String> {
    if description.len() > MAX_DESCRIPTION {
        return Err(CoreError::invalid("description", "is too long (maximum is 1048576 characters)"));
    }
    Ok(description.replace("\r\n", "\n"))
}

/// Refuses a start after the due date (dates as `YYYY-MM-DD` sort as text).
fn check_date_order(start: Option<&str>, due: Option<&str>) -> CoreResult<()> {
    match (start, due) {
        (Some(start), Some(due)) if start > due => {
            Err(CoreError::invalid("due_date", "must be on or after the start date"))
        }
        _ => Ok(()),
    }
}

/// Whether a milestone's due date has passed (today in UTC), as GitLab's `expired`.
pub fn milestone_expired(milestone: &MilestoneRow) -> bool {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    milestone.due_date.as_deref().is_some_and(|due| due < today.as_str())
}

/// Whether a milestone passes the query's filters.
fn matches(milestone: &MilestoneRow, query: &MilestoneQuery) -> bool {
    let search = query.search.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    query.state.is_none_or(|state| milestone.state == state)
        && query.title.as_deref().is_none_or(|title| milestone.title == title.trim())
        && search.is_none_or(|search| {
            milestone.title.to_lowercase().contains(&search) || milestone.description.to_lowercase().contains(&search)
        })
        && (query.iids.is_empty() || query.iids.contains(&milestone.iid))
}

/// GitLab's order: by due date (none last), then title.
fn sort_milestones(milestones: &mut [MilestoneRow]) {
    milestones.sort_by(|a, b| {
        (a.due_date.is_none(), &a.due_date, a.title.to_lowercase(), a.id).cmp(&(
            b.due_date.is_none(),
            &b.due_date,
            b.title.to_lowercase(),
            b.id,
        ))
    });
}

impl super::Plan<'_> {
    /// The milestones of a project or a group (with its ancestors' when asked) that the query
    /// selects, by due date then title.
    pub async fn list_milestones(
        &self,
        scope: MilestoneScope<'_>,
        query: &MilestoneQuery,
    ) -> CoreResult<Vec<MilestoneRow>> {
        scope.require_read()?;
        let mut conn = self.db.conn().await?;
        let mut milestones = match scope {
            MilestoneScope::Project(access) => {
                db::list_project_milestones(&mut conn, access.project().id, query.include_ancestors).await?
            }
            MilestoneScope::Group(access) => {
                db::list_group_milestones(&mut conn, access.group().id, query.include_ancestors).await?
            }
        };
        milestones.retain(|milestone| matches(milestone, query));
        sort_milestones(&mut milestones);
        Ok(milestones)
    }

    /// The milestones a project's issues may be in: its own and its groups', open ones first.
    pub async fn milestones_for_issues(&self, access: &ProjectAccess) -> CoreResult<Vec<MilestoneRow>> {
        let query = MilestoneQuery { include_ancestors: true, ..MilestoneQuery::default() };
        let mut milestones = self.list_milestones(MilestoneScope::Project(access), &query).await?;
        milestones.sort_by_key(|milestone| milestone.state == MilestoneState::Closed);
        Ok(milestones)
    }

    /// One milestone of exactly this project or group, by id.
    pub async fn find_milestone(&self, scope: MilestoneScope<'_>, id: MilestoneId) -> CoreResult<MilestoneRow> {
        scope.require_read()?;
        let mut conn = self.db.conn().await?;
        db::find_milestone(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("milestone"))
    }

    /// One milestone of exactly this project or group, by its number (the pages' addresses).
    pub async fn find_milestone_by_iid(&self, scope: MilestoneScope<'_>, iid: i64) -> CoreResult<MilestoneRow> {
        let query = MilestoneQuery { iids: vec![iid], ..MilestoneQuery::default() };
        self.list_milestones(scope, &query).await?.pop().ok_or(CoreError::NotFound("milestone"))
    }

    /// Creates a milestone (Reporters and above); a title the owner has already is a conflict.
    pub async fn create_milestone(
        &self,
        scope: MilestoneScope<'_>,
        input: &MilestoneInput,
    ) -> CoreResult<MilestoneRow> {
        scope.require_manage()?;
        let title = check_milestone_title(input.title.as_deref().unwrap_or(""))?;
        let description = check_description(input.description.as_deref().unwrap_or(""))?;
        let start_date = check_milestone_date("start_date", input.start_date.clone().flatten().as_deref())?;
        let due_date = check_milestone_date("due_date", input.due_date.clone().flatten().as_deref())?;
        check_date_order(start_date.as_deref(), due_date.as_deref())?;
        let fields = MilestoneFields {
            title: &title,
            description: &description,
            start_date: start_date.as_deref(),
            due_date: due_date.as_deref(),
        };
        let mut tx = self.db.begin().await?;
        let id = db::insert_milestone(&mut tx, scope.owner(), &fields)
            .await
            .map_err(crate::manage::conflict_as("Milestone title has already been taken"))?;
        if input.state_event == Some(MilestoneStateEvent::Close) {
            db::update_milestone(&mut tx, id, &fields, MilestoneState::Closed).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(milestone.id = %id, milestone = %title, "milestone created");
        let mut conn = self.db.conn().await?;
        db::find_milestone(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("milestone"))
    }

    /// Changes, closes or reopens a milestone of exactly this owner.
    pub async fn update_milestone(
        &self,
        scope: MilestoneScope<'_>,
        id: MilestoneId,
        input: &MilestoneInput,
    ) -> CoreResult<MilestoneRow> {
        scope.require_manage()?;
        let mut conn = self.db.conn().await?;
        let milestone =
            db::find_milestone(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("milestone"))?;
        let title = match &input.title {
            Some(title) => check_milestone_title(title)?,
            None => milestone.title.clone(),
        };
        let description = match &input.description {
            Some(description) => check_description(description)?,
            None => milestone.description.clone(),
        };
        let start_date = match &input.start_date {
            Some(value) => check_milestone_date("start_date", value.as_deref())?,
            None => milestone.start_date.clone(),
        };
        let due_date = match &input.due_date {
            Some(value) => check_milestone_date("due_date", value.as_deref())?,
            None => milestone.due_date.clone(),
        };
        check_date_order(start_date.as_deref(), due_date.as_deref())?;
        let state = match input.state_event {
            Some(MilestoneStateEvent::Close) => MilestoneState::Closed,
            Some(MilestoneStateEvent::Activate) => MilestoneState::Active,
            None => milestone.state,
        };
        let fields = MilestoneFields {
            title: &title,
            description: &description,
            start_date: start_date.as_deref(),
            due_date: due_date.as_deref(),
        };
        db::update_milestone(&mut conn, id, &fields, state)
            .await
            .map_err(crate::manage::conflict_as("Milestone title has already been taken"))?;
        if state != milestone.state {
            tracing::info!(milestone.id = %id, state = state.as_str(), "milestone state changed");
        }
        db::find_milestone(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("milestone"))
    }

    /// Deletes a milestone of exactly this owner; its issues are in no milestone after.
    pub async fn delete_milestone(&self, scope: MilestoneScope<'_>, id: MilestoneId) -> CoreResult<MilestoneRow> {
        scope.require_manage()?;
        let mut tx = self.db.begin().await?;
        let milestone =
            db::find_milestone(&mut tx, scope.owner(), id).await?.ok_or(CoreError::NotFound("milestone"))?;
        db::delete_milestone(&mut tx, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(milestone.id = %id, milestone = %milestone.title, "milestone deleted");
        Ok(milestone)
    }

    /// Makes a project's milestone its group's (GitLab's promote): the group's projects may use
    /// it after, and the project's issues stay in it. Needs Reporter on the project and on the
    /// group; a project in a user's namespace has no group to promote to.
    pub async fn promote_milestone(&self, access: &ProjectAccess, id: MilestoneId) -> CoreResult<MilestoneRow> {
        access.require(ProjectAction::ManageMilestones)?;
        let namespace = access.namespace();
        if namespace.kind == crate::NamespaceKind::User {
            return Err(CoreError::invalid(
                "milestone",
                "cannot be promoted: the project is in a user's namespace, not in a group",
            ));
        }
        let group = self.group_access(access.actor(), &crate::manage::groups::Lookup::Id(namespace.id.0)).await?;
        group.require(GroupAction::ManageMilestones)?;
        let mut tx = self.db.begin().await?;
        let owner = MilestoneOwner::Project(access.project().id);
        db::find_milestone(&mut tx, owner, id).await?.ok_or(CoreError::NotFound("milestone"))?;
        db::move_milestone_to_group(&mut tx, id, group.group().id)
            .await
            .map_err(crate::manage::conflict_as("Milestone title has already been taken in the group"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(milestone.id = %id, group.id = %group.group().id, "milestone promoted to its group");
        let mut conn = self.db.conn().await?;
        db::find_milestone(&mut conn, MilestoneOwner::Group(group.group().id), id)
            .await?
            .ok_or(CoreError::NotFound("milestone"))
    }

    /// How many issues of the milestone the actor may see: open, closed. A project's milestone
    /// counts the project's issues; a group's, those of the projects below the group.
    pub async fn count_milestone_issues(
        &self,
        scope: MilestoneScope<'_>,
        milestone: &MilestoneRow,
    ) -> CoreResult<(i64, i64)> {
        // Exact, however many: a milestone's progress is their ratio.
        let query =
            IssueQuery { milestone: MilestoneFilter::Id(milestone.id), count_limit: i64::MAX, ..IssueQuery::default() };
        match scope {
            MilestoneScope::Project(access) => self.count_issues(IssuesOf::Project(access), &query).await,
            MilestoneScope::Group(access) => self.count_issues(IssuesOf::Group(access), &query).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_calendar_days_and_the_start_comes_first() {
        assert_eq!(check_milestone_date("due_date", Some(" 2026-12-31 ")).unwrap().as_deref(), Some("2026-12-31"));
        assert_eq!(check_milestone_date("due_date", Some("")).unwrap(), None);
        assert!(check_milestone_date("due_date", Some("2026-02-30")).is_err());
        assert!(check_milestone_date("due_date", Some("31/12/2026")).is_err());
        assert!(check_milestone_date("due_date", Some("2026-1-5")).is_err());
        assert_eq!(
            check_milestone_date("due_date", Some("2020-01-01T00:00:00Z")).unwrap().as_deref(),
            Some("2020-01-01")
        );
        assert!(check_milestone_date("due_date", Some("2020-01-01Tnoon")).is_err());
        assert!(check_date_order(Some("2026-02-01"), Some("2026-01-01")).is_err());
        assert!(check_date_order(Some("2026-01-01"), Some("2026-01-01")).is_ok());
        assert!(check_milestone_title(" ").is_err());
        assert!(check_milestone_title(&"x".repeat(256)).is_err());
        assert_eq!(check_milestone_title(" v1 ").unwrap(), "v1");
    }
}
