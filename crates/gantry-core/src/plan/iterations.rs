//! Iterations: a group's timeboxes, each in a cadence (`cadences`, which schedules an
//! automatic cadence's iterations and rolls issues over). A manual cadence's iterations are
//! added by people with their own dates, which never overlap within the cadence. An iteration
//! is upcoming, current or closed by today's date (UTC).
//!
//! A project's issues go in the iterations of the groups above it (GitLab has no project
//! iterations); Reporters of a group manage its cadences, and whoever sees a group sees them.

use gantry_db::Conn;
use gantry_db::manage::namespaces::{NamespaceKind, namespace_with_ancestors};
use gantry_db::plan::iterations::{self as db, IterationFields, IterationListing};
pub use gantry_db::plan::iterations::{CadenceRow, IterationRow};
use gantry_types::{CadenceId, IterationId, NamespaceId};
use jiff::civil::Date;

pub(super) use super::milestones::{check_description, check_milestone_title as check_title};
use super::quick_actions::IterationWanted;
use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult, Page};

/// Where an iteration is in time, by today's date (GitLab's states and their numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IterationState {
    Upcoming,
    Current,
    Closed,
}

impl IterationState {
    /// GitLab's name.
    pub fn as_str(self) -> &'static str {
        match self {
            IterationState::Upcoming => "upcoming",
            IterationState::Current => "current",
            IterationState::Closed => "closed",
        }
    }

    /// GitLab's number (`state` in its API).
    pub fn code(self) -> i64 {
        match self {
            IterationState::Upcoming => 1,
            IterationState::Current => 2,
            IterationState::Closed => 3,
        }
    }
}

/// The state of an iteration on `today`.
pub fn iteration_state(iteration: &IterationRow, today: &str) -> IterationState {
    if iteration.start_date.as_str() > today {
        IterationState::Upcoming
    } else if iteration.due_date.as_str() >= today {
        IterationState::Current
    } else {
        IterationState::Closed
    }
}

/// Today in UTC, as `YYYY-MM-DD`.
pub fn today() -> String {
    super::time_tracking::today().to_string()
}

/// "Dec 7 – 20, 2026", "Dec 28, 2026 – Jan 10, 2027": an iteration's days.
pub fn iteration_period(iteration: &IterationRow) -> String {
    let (Ok(start), Ok(due)) = (iteration.start_date.parse::<Date>(), iteration.due_date.parse::<Date>()) else {
        return format!("{} – {}", iteration.start_date, iteration.due_date);
    };
    if start.year() != due.year() {
        format!("{} – {}", start.strftime("%b %-d, %Y"), due.strftime("%b %-d, %Y"))
    } else if start.month() != due.month() {
        format!("{} – {}", start.strftime("%b %-d"), due.strftime("%b %-d, %Y"))
    } else {
        format!("{} – {}", start.strftime("%b %-d"), due.strftime("%-d, %Y"))
    }
}

/// What people call an iteration: its title, or its days when it has none.
pub fn iteration_name(iteration: &IterationRow) -> String {
    iteration.title.clone().unwrap_or_else(|| iteration_period(iteration))
}

/// An iteration of a manual cadence as asked for; on update, what is missing stays.
#[derive(Debug, Clone, Default)]
pub struct IterationInput {
    /// `Some(None)` (or empty) removes it.
    pub title: Option<Option<String>>,
    pub description: Option<String>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
}

/// Which iterations a list shows (GitLab's `state`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IterationStateFilter {
    /// Upcoming and current.
    #[default]
    Opened,
    Upcoming,
    Current,
    Closed,
    All,
}

impl IterationStateFilter {
    /// Reads GitLab's name (`started` is its old name of `current`).
    pub fn parse(value: &str) -> Option<IterationStateFilter> {
        match value {
            "opened" => Some(IterationStateFilter::Opened),
            "upcoming" => Some(IterationStateFilter::Upcoming),
            "current" | "started" => Some(IterationStateFilter::Current),
            "closed" => Some(IterationStateFilter::Closed),
            "all" => Some(IterationStateFilter::All),
            _ => None,
        }
    }
}

/// The filters of an iteration list (GitLab's).
#[derive(Debug, Clone, Default)]
pub struct IterationQuery {
    pub state: IterationStateFilter,
    pub search: Option<String>,
    /// With the iterations of the groups above (GitLab's default).
    pub include_ancestors: bool,
    /// With the iterations of the groups below.
    pub include_descendants: bool,
    pub cadence: Option<CadenceId>,
    pub updated_after: Option<i64>,
    pub updated_before: Option<i64>,
}

/// Whose iterations a list is about: a group's, or those a project's issues may use.
#[derive(Debug, Clone, Copy)]
pub enum IterationScope<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

pub(super) fn check_date(field: &'static str, value: &str) -> CoreResult<Date> {
    super::milestones::check_milestone_date(field, Some(value))?
        .and_then(|day| day.parse::<Date>().ok())
        .ok_or_else(|| CoreError::invalid(field, "can't be blank"))
}

pub(super) fn days(count: i64) -> jiff::Span {
    jiff::Span::new().days(count)
}

pub(super) fn add_days(date: Date, count: i64) -> CoreResult<Date> {
    date.checked_add(days(count)).map_err(|_| CoreError::invalid("start_date", "is out of range"))
}

/// The groups whose iterations a project's issues may use: those above it (none for a
/// project in a user's namespace).
pub(crate) async fn project_groups(conn: &mut Conn, access: &ProjectAccess) -> CoreResult<Vec<NamespaceId>> {
    Ok(namespace_with_ancestors(conn, access.project().namespace_id)
        .await?
        .into_iter()
        .filter(|namespace| namespace.kind == NamespaceKind::Group)
        .map(|namespace| namespace.id)
        .collect())
}

/// An iteration a project's issues may be in; any other is refused as a bad value.
pub(crate) async fn resolve_iteration(
    conn: &mut Conn,
    access: &ProjectAccess,
    id: IterationId,
) -> CoreResult<IterationRow> {
    let groups = project_groups(conn, access).await?;
    db::find_iteration(conn, id).await?.filter(|iteration| groups.contains(&iteration.group_id)).ok_or_else(|| {
        CoreError::invalid("iteration_id", format!("is {id}, which is not an iteration of this project's groups"))
    })
}

impl super::Plan<'_> {
    /// Adds an iteration to a manual cadence of the group.
    pub async fn create_iteration(
        &self,
        access: &GroupAccess,
        cadence: CadenceId,
        input: &IterationInput,
    ) -> CoreResult<IterationRow> {
        access.require(GroupAction::ManageIterations)?;
        let cadence = self.find_cadence(access, cadence).await?;
        if cadence.automatic {
            return Err(CoreError::Refused(
                "This cadence schedules its iterations itself: add iterations to a manual cadence".to_owned(),
            ));
        }
        let title = input.title.clone().flatten().map(|title| check_title(&title)).transpose()?;
        let description = check_description(input.description.as_deref().unwrap_or(""))?;
        let start = check_date("start_date", input.start_date.as_deref().unwrap_or(""))?.to_string();
        let due = check_date("due_date", input.due_date.as_deref().unwrap_or(""))?.to_string();
        if start > due {
            return Err(CoreError::invalid("due_date", "must be on or after the start date"));
        }
        let mut tx = self.db.begin().await?;
        if db::overlaps(&mut tx, cadence.id, &start, &due, None).await? {
            return Err(CoreError::invalid("start_date", "overlaps another iteration of the cadence"));
        }
        let fields =
            IterationFields { title: title.as_deref(), description: &description, start_date: &start, due_date: &due };
        let id = db::insert_iteration(&mut tx, &cadence, &fields, false)
            .await?
            .ok_or_else(|| CoreError::invalid("start_date", "overlaps another iteration of the cadence"))?;
        db::renumber(&mut tx, cadence.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(iteration.id = %id, cadence.id = %cadence.id, "iteration created");
        let mut conn = self.db.conn().await?;
        db::find_iteration(&mut conn, id).await?.ok_or(CoreError::NotFound("iteration"))
    }

    /// One iteration a group (or its subgroups and projects) uses: the group's or one above it.
    pub async fn find_iteration(&self, scope: IterationScope<'_>, id: IterationId) -> CoreResult<IterationRow> {
        let mut conn = self.db.conn().await?;
        let groups = match scope {
            IterationScope::Group(access) => {
                access.require(GroupAction::Read)?;
                group_chain(&mut conn, access.group().id, true).await?
            }
            IterationScope::Project(access) => {
                access.require(ProjectAction::ReadIssues)?;
                project_groups(&mut conn, access).await?
            }
        };
        db::find_iteration(&mut conn, id)
            .await?
            .filter(|iteration| groups.contains(&iteration.group_id))
            .ok_or(CoreError::NotFound("iteration"))
    }

    /// Changes an iteration of the group: any iteration's title and description, a manual
    /// cadence's dates.
    pub async fn update_iteration(
        &self,
        access: &GroupAccess,
        id: IterationId,
        input: &IterationInput,
    ) -> CoreResult<IterationRow> {
        access.require(GroupAction::ManageIterations)?;
        let iteration = self.own_iteration(access, id).await?;
        let cadence = self.find_cadence(access, iteration.cadence_id).await?;
        let title = match &input.title {
            Some(Some(title)) if !title.trim().is_empty() => Some(check_title(title)?),
            Some(_) => None,
            None => iteration.title.clone(),
        };
        let description = match &input.description {
            Some(description) => check_description(description)?,
            None => iteration.description.clone(),
        };
        let moves = input.start_date.is_some() || input.due_date.is_some();
        if moves && cadence.automatic {
            return Err(CoreError::Refused(
                "This cadence schedules its iterations itself: change its first day or length instead".to_owned(),
            ));
        }
        let start = match &input.start_date {
            Some(day) => check_date("start_date", day)?.to_string(),
            None => iteration.start_date.clone(),
        };
        let due = match &input.due_date {
            Some(day) => check_date("due_date", day)?.to_string(),
            None => iteration.due_date.clone(),
        };
        if start > due {
            return Err(CoreError::invalid("due_date", "must be on or after the start date"));
        }
        let mut tx = self.db.begin().await?;
        if db::overlaps(&mut tx, cadence.id, &start, &due, Some(id)).await? {
            return Err(CoreError::invalid("start_date", "overlaps another iteration of the cadence"));
        }
        let fields =
            IterationFields { title: title.as_deref(), description: &description, start_date: &start, due_date: &due };
        db::update_iteration(&mut tx, id, &fields).await?;
        db::renumber(&mut tx, cadence.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        let mut conn = self.db.conn().await?;
        db::find_iteration(&mut conn, id).await?.ok_or(CoreError::NotFound("iteration"))
    }

    /// Deletes an iteration of a manual cadence of the group; its issues are in none after.
    pub async fn delete_iteration(&self, access: &GroupAccess, id: IterationId) -> CoreResult<IterationRow> {
        access.require(GroupAction::ManageIterations)?;
        let iteration = self.own_iteration(access, id).await?;
        let cadence = self.find_cadence(access, iteration.cadence_id).await?;
        if cadence.automatic {
            return Err(CoreError::Refused(
                "This cadence schedules its iterations itself: its iterations cannot be deleted".to_owned(),
            ));
        }
        let mut tx = self.db.begin().await?;
        db::delete_iteration(&mut tx, id).await?;
        db::renumber(&mut tx, cadence.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(iteration.id = %id, "iteration deleted");
        Ok(iteration)
    }

    async fn own_iteration(&self, access: &GroupAccess, id: IterationId) -> CoreResult<IterationRow> {
        let mut conn = self.db.conn().await?;
        db::find_iteration(&mut conn, id)
            .await?
            .filter(|iteration| iteration.group_id == access.group().id)
            .ok_or(CoreError::NotFound("iteration"))
    }

    /// One page of the iterations of a group or of a project's groups that the query selects,
    /// by start date, and how many there are.
    pub async fn list_iterations(
        &self,
        scope: IterationScope<'_>,
        query: &IterationQuery,
        page: Page,
    ) -> CoreResult<(Vec<IterationRow>, i64)> {
        let mut conn = self.db.conn().await?;
        let mut groups = match scope {
            IterationScope::Group(access) => {
                access.require(GroupAction::Read)?;
                let mut groups = group_chain(&mut conn, access.group().id, query.include_ancestors).await?;
                if query.include_descendants {
                    let below =
                        gantry_db::manage::namespaces::namespace_ids_in_subtree(&mut conn, access.group().id).await?;
                    groups.extend(self.readable_groups(access, below).await?);
                }
                groups
            }
            IterationScope::Project(access) => {
                access.require(ProjectAction::ReadIssues)?;
                let groups = project_groups(&mut conn, access).await?;
                if query.include_ancestors {
                    groups
                } else {
                    groups.into_iter().filter(|id| *id == access.project().namespace_id).collect()
                }
            }
        };
        groups.sort();
        groups.dedup();
        drop(conn);
        self.keep_up_groups(&groups).await?;
        let today = today();
        let mut listing = IterationListing {
            groups,
            cadence: query.cadence,
            search: query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            updated_after: query.updated_after,
            updated_before: query.updated_before,
            ..IterationListing::default()
        };
        match query.state {
            IterationStateFilter::Opened => listing.due_from = Some(today),
            IterationStateFilter::Upcoming => listing.start_after = Some(today),
            IterationStateFilter::Current => {
                listing.start_until = Some(today.clone());
                listing.due_from = Some(today);
            }
            IterationStateFilter::Closed => listing.due_before = Some(today),
            IterationStateFilter::All => {}
        }
        let mut conn = self.db.conn().await?;
        Ok(db::list_iterations(&mut conn, &listing, page).await?)
    }

    /// The iterations an issue of the project may go in now: the current and upcoming ones of
    /// its groups, by start date (at most 100).
    pub async fn iterations_for_issues(&self, access: &ProjectAccess) -> CoreResult<Vec<IterationRow>> {
        let query = IterationQuery { include_ancestors: true, ..IterationQuery::default() };
        let (iterations, _) =
            self.list_iterations(IterationScope::Project(access), &query, Page { limit: 100, offset: 0 }).await?;
        Ok(iterations)
    }

    /// The iteration `/iteration` names, among those the project's issues may use.
    pub(crate) async fn iteration_for_quick_action(
        &self,
        access: &ProjectAccess,
        wanted: &IterationWanted,
    ) -> CoreResult<IterationRow> {
        let refused = |message: String| CoreError::invalid("quick action", message);
        if let IterationWanted::Id(id) = wanted {
            let mut conn = self.db.conn().await?;
            return resolve_iteration(&mut conn, access, IterationId(*id))
                .await
                .map_err(|_| refused(format!("/iteration: there is no iteration {id} here")));
        }
        let state = match wanted {
            IterationWanted::Current => IterationStateFilter::Current,
            IterationWanted::Next => IterationStateFilter::Upcoming,
            IterationWanted::Id(_) | IterationWanted::Title(_) => IterationStateFilter::All,
        };
        let query = IterationQuery { state, include_ancestors: true, ..IterationQuery::default() };
        let (iterations, _) =
            self.list_iterations(IterationScope::Project(access), &query, Page { limit: 1000, offset: 0 }).await?;
        let mut found: Vec<IterationRow> = match wanted {
            IterationWanted::Id(_) => Vec::new(),
            IterationWanted::Title(title) => iterations
                .into_iter()
                .filter(|it| it.title.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(title)))
                .collect(),
            IterationWanted::Current | IterationWanted::Next => {
                // The first of each cadence (the list is by start date).
                let mut seen = Vec::new();
                iterations
                    .into_iter()
                    .filter(|it| {
                        let first = !seen.contains(&it.cadence_id);
                        seen.push(it.cadence_id);
                        first
                    })
                    .collect()
            }
        };
        match (found.len(), wanted) {
            (1, _) => Ok(found.remove(0)),
            (0, IterationWanted::Title(title)) => {
                Err(refused(format!("/iteration: there is no iteration \"{title}\" here")))
            }
            (0, IterationWanted::Current) => Err(refused("/iteration: no iteration is under way today".into())),
            (0, IterationWanted::Next) => Err(refused("/iteration: no iteration is coming up".into())),
            (_, IterationWanted::Title(title)) => Err(refused(format!(
                "/iteration: several iterations are called \"{title}\": name one by its id, *iteration:<id>"
            ))),
            _ => Err(refused(
                "/iteration: several cadences have one: name the iteration by its id, *iteration:<id>".into(),
            )),
        }
    }

    /// The groups among `ids` (below `access`'s group) the actor may see.
    async fn readable_groups(&self, access: &GroupAccess, ids: Vec<NamespaceId>) -> CoreResult<Vec<NamespaceId>> {
        let mut readable = Vec::new();
        for id in ids.into_iter().take(100) {
            if id == access.group().id {
                readable.push(id);
                continue;
            }
            let mut conn = self.db.conn().await?;
            if GroupAccess::load(&mut conn, access.actor(), gantry_db::manage::namespaces::NamespaceKey::Id(id))
                .await
                .is_ok()
            {
                readable.push(id);
            }
        }
        Ok(readable)
    }
}

/// A group and, when asked, the groups above it.
pub(super) async fn group_chain(
    conn: &mut Conn,
    group: NamespaceId,
    with_ancestors: bool,
) -> CoreResult<Vec<NamespaceId>> {
    if !with_ancestors {
        return Ok(vec![group]);
    }
    Ok(namespace_with_ancestors(conn, group).await?.into_iter().map(|namespace| namespace.id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iteration(start: &str, due: &str) -> IterationRow {
        IterationRow {
            id: IterationId(1),
            cadence_id: CadenceId(1),
            cadence_title: "Sprints".into(),
            group_id: NamespaceId(1),
            group_path: "team".into(),
            iid: 1,
            sequence: 1,
            title: None,
            description: String::new(),
            start_date: start.into(),
            due_date: due.into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn an_iteration_is_named_by_its_days_when_it_has_no_title() {
        assert_eq!(iteration_name(&iteration("2026-12-07", "2026-12-20")), "Dec 7 – 20, 2026");
        assert_eq!(iteration_name(&iteration("2026-11-30", "2026-12-13")), "Nov 30 – Dec 13, 2026");
        assert_eq!(iteration_name(&iteration("2026-12-28", "2027-01-10")), "Dec 28, 2026 – Jan 10, 2027");
        let titled = IterationRow { title: Some("Sprint 4".into()), ..iteration("2026-12-07", "2026-12-20") };
        assert_eq!(iteration_name(&titled), "Sprint 4");
    }

    #[test]
    fn the_state_follows_the_days() {
        let it = iteration("2026-12-07", "2026-12-20");
        assert_eq!(iteration_state(&it, "2026-12-06"), IterationState::Upcoming);
        assert_eq!(iteration_state(&it, "2026-12-07"), IterationState::Current);
        assert_eq!(iteration_state(&it, "2026-12-20"), IterationState::Current);
        assert_eq!(iteration_state(&it, "2026-12-21"), IterationState::Closed);
    }
}
