//! Iteration cadences of a group: a first day and a length in weeks. An automatic cadence
//! schedules its iterations itself — every one from its first day to today, and as many
//! upcoming ones as it is told to keep; a manual one holds the iterations people add
//! (`iterations`). A cadence that rolls over moves the open issues of an iteration that ended
//! to the next one. Schedules and roll-overs are kept up when someone looks at a group's
//! iterations and, for every cadence, once an hour by the background worker; each write is
//! idempotent, so servers sharing a database may all do it.

use gantry_db::Conn;
pub use gantry_db::plan::iterations::CadenceRow;
use gantry_db::plan::iterations::{self as db, CadenceFields, IterationFields};
use gantry_types::{CadenceId, NamespaceId};
use jiff::civil::Date;

use super::events::{self, Change};
use super::iterations::{IterationRow, add_days, check_date, check_description, check_title, group_chain};
use crate::policy::{GroupAccess, GroupAction};
use crate::{CoreError, CoreResult};

/// Most weeks an iteration lasts, and most upcoming iterations a cadence keeps (GitLab's).
pub const MAX_WEEKS: i64 = 4;
pub const MAX_IN_ADVANCE: i64 = 10;
/// Most iterations an automatic cadence schedules before today: a first day further back is
/// refused.
const MAX_PAST_ITERATIONS: i64 = 520;
/// Most cadences a group has (each is kept up when the group's iterations are read).
const MAX_CADENCES: usize = 20;

/// A cadence as asked for: on create, what is missing takes GitLab's default (a title and a
/// first day are required); on update, what is missing stays.
#[derive(Debug, Clone, Default)]
pub struct CadenceInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start_date: Option<String>,
    pub duration_in_weeks: Option<i64>,
    pub iterations_in_advance: Option<i64>,
    pub automatic: Option<bool>,
    pub roll_over: Option<bool>,
}

/// The cadence `input` asks for over `current` (none on create), checked.
fn cadence_fields(current: Option<&CadenceRow>, input: &CadenceInput, today: Date) -> CoreResult<CadenceValues> {
    let title = match (&input.title, current) {
        (Some(title), _) => check_title(title)?,
        (None, Some(cadence)) => cadence.title.clone(),
        (None, None) => return Err(CoreError::invalid("title", "can't be blank")),
    };
    let description = match (&input.description, current) {
        (Some(description), _) => check_description(description)?,
        (None, Some(cadence)) => cadence.description.clone(),
        (None, None) => String::new(),
    };
    let start_date = match (&input.start_date, current) {
        (Some(day), _) => check_date("start_date", day)?,
        (None, Some(cadence)) => check_date("start_date", &cadence.start_date)?,
        (None, None) => return Err(CoreError::invalid("start_date", "can't be blank")),
    };
    let duration_in_weeks = input.duration_in_weeks.or(current.map(|c| c.duration_in_weeks)).unwrap_or(2);
    if !(1..=MAX_WEEKS).contains(&duration_in_weeks) {
        return Err(CoreError::invalid("duration_in_weeks", "must be from 1 to 4 weeks"));
    }
    let iterations_in_advance = input.iterations_in_advance.or(current.map(|c| c.iterations_in_advance)).unwrap_or(2);
    if !(1..=MAX_IN_ADVANCE).contains(&iterations_in_advance) {
        return Err(CoreError::invalid("iterations_in_advance", "must be from 1 to 10"));
    }
    let automatic = input.automatic.or(current.map(|c| c.automatic)).unwrap_or(true);
    let roll_over = input.roll_over.or(current.map(|c| c.roll_over)).unwrap_or(false);
    // Checked when the first day is set: a cadence that has run long keeps its first day.
    let new_start = current.is_none_or(|cadence| cadence.start_date != start_date.to_string());
    if automatic && new_start {
        let back = start_date.until(today).map(|span| i64::from(span.get_days())).unwrap_or(0);
        if back > MAX_PAST_ITERATIONS * 7 * duration_in_weeks {
            return Err(CoreError::invalid(
                "start_date",
                format!("is too far in the past: a cadence schedules at most {MAX_PAST_ITERATIONS} past iterations"),
            ));
        }
    }
    Ok(CadenceValues { title, description, start_date, duration_in_weeks, iterations_in_advance, automatic, roll_over })
}

struct CadenceValues {
    title: String,
    description: String,
    start_date: Date,
    duration_in_weeks: i64,
    iterations_in_advance: i64,
    automatic: bool,
    roll_over: bool,
}

/// Where an automatic cadence's schedule stands: the first day of the next iteration to make
/// and how many upcoming ones it has.
fn schedule_state(cadence: &CadenceRow, existing: &[IterationRow], today: &str) -> CoreResult<(Date, i64)> {
    let next = match existing.last() {
        Some(last) => add_days(check_date("due_date", &last.due_date)?, 1)?,
        None => check_date("start_date", &cadence.start_date)?,
    };
    let upcoming = existing.iter().filter(|it| it.start_date.as_str() > today).count();
    Ok((next, i64::try_from(upcoming).unwrap_or(i64::MAX)))
}

/// Whether an automatic cadence lacks an iteration for today or an upcoming one.
fn behind(cadence: &CadenceRow, next: Date, upcoming: i64, today: Date) -> bool {
    cadence.automatic && (next <= today || upcoming < cadence.iterations_in_advance)
}

/// Schedules an automatic cadence's iterations up to today and its upcoming ones; call inside
/// a transaction (it takes the cadence's row first, so two servers take turns).
async fn schedule(conn: &mut Conn, cadence: &CadenceRow, today: Date) -> CoreResult<()> {
    if !cadence.automatic {
        return Ok(());
    }
    db::lock_cadence(conn, cadence.id).await?;
    // As it is now that it is ours: someone may have changed it since it was read.
    let Some(cadence) = db::find_cadence(conn, cadence.id).await? else { return Ok(()) };
    let cadence = &cadence;
    let existing = db::cadence_iterations(conn, cadence.id).await?;
    let length = 7 * cadence.duration_in_weeks;
    let today_text = today.to_string();
    let (mut next, mut upcoming) = schedule_state(cadence, &existing, &today_text)?;
    let mut added = 0;
    while behind(cadence, next, upcoming, today) && added <= MAX_PAST_ITERATIONS {
        let due = add_days(next, length - 1)?;
        let (start_text, due_text) = (next.to_string(), due.to_string());
        let fields = IterationFields { title: None, description: "", start_date: &start_text, due_date: &due_text };
        // Scheduled after it ended (a cadence that starts in the past): nothing to roll over.
        db::insert_iteration(conn, cadence, &fields, due < today).await?;
        if next > today {
            upcoming += 1;
        }
        added += 1;
        next = add_days(due, 1)?;
    }
    if added > 0 {
        db::renumber(conn, cadence.id).await?;
    }
    Ok(())
}

impl super::Plan<'_> {
    /// Schedules the automatic cadences of these groups and rolls over what ended.
    pub(super) async fn keep_up_groups(&self, groups: &[NamespaceId]) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let cadences = db::list_cadences(&mut conn, groups).await?;
        drop(conn);
        for cadence in cadences.iter().filter(|cadence| cadence.automatic || cadence.roll_over) {
            self.keep_up(cadence).await?;
        }
        Ok(())
    }

    /// Every cadence's schedule and roll-overs, brought up to today (the background worker's
    /// hourly pass).
    pub async fn keep_up_all_cadences(&self) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let cadences = db::cadences_to_keep_up(&mut conn).await?;
        drop(conn);
        for cadence in &cadences {
            // One cadence that cannot be kept up does not hold up the others.
            if let Err(error) = self.keep_up(cadence).await {
                tracing::error!(cadence.id = %cadence.id, error = %error, "cannot keep an iteration cadence up to date");
            }
        }
        Ok(())
    }

    /// Schedules a cadence and rolls over what ended — writing only when something is due, so
    /// reading a group's iterations costs no write once they are up to date.
    async fn keep_up(&self, cadence: &CadenceRow) -> CoreResult<()> {
        let today = super::time_tracking::today();
        let today_text = today.to_string();
        let mut conn = self.db.conn().await?;
        let existing = db::cadence_iterations(&mut conn, cadence.id).await?;
        drop(conn);
        let (next, upcoming) = schedule_state(cadence, &existing, &today_text)?;
        if behind(cadence, next, upcoming, today) {
            let mut tx = self.db.begin().await?;
            schedule(&mut tx, cadence, today).await?;
            tx.commit().await.map_err(gantry_db::DbError::from)?;
        }
        if cadence.roll_over {
            self.roll_over(cadence, &today_text).await?;
        }
        Ok(())
    }

    /// Moves the open issues of each ended iteration to the cadence's next one, once.
    async fn roll_over(&self, cadence: &CadenceRow, today: &str) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let ended = db::ended_not_rolled_over(&mut conn, cadence.id, today).await?;
        if ended.is_empty() {
            return Ok(());
        }
        let all = db::cadence_iterations(&mut conn, cadence.id).await?;
        drop(conn);
        for iteration in ended {
            let next = all.iter().find(|it| it.start_date > iteration.due_date && it.due_date.as_str() >= today);
            let mut tx = self.db.begin().await?;
            if !db::mark_rolled_over(&mut tx, iteration.id).await? {
                continue;
            }
            if let Some(next) = next {
                let issues = db::open_issues_in(&mut tx, iteration.id).await?;
                let note = super::system_notes::iteration_changed(Some(next));
                for &(issue, project) in &issues {
                    // Someone may have moved or closed it since the list was read.
                    if db::roll_issue_over(&mut tx, issue, iteration.id, next.id).await? {
                        events::record_by(&mut tx, issue, None, Change::IterationSet(next.id)).await?;
                        super::issues::add_system_note_by(&mut tx, project, issue, None, &note).await?;
                    }
                }
                tracing::info!(iteration.id = %iteration.id, next = %next.id, issues = issues.len(), "iteration rolled over");
            }
            tx.commit().await.map_err(gantry_db::DbError::from)?;
        }
        Ok(())
    }

    /// The cadences of a group (and, when asked, of the groups above it), by title, with their
    /// schedules kept up.
    pub async fn list_cadences(&self, access: &GroupAccess, include_ancestors: bool) -> CoreResult<Vec<CadenceRow>> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        let groups = group_chain(&mut conn, access.group().id, include_ancestors).await?;
        drop(conn);
        self.keep_up_groups(&groups).await?;
        let mut conn = self.db.conn().await?;
        Ok(db::list_cadences(&mut conn, &groups).await?)
    }

    /// The iterations of a cadence the group sees (its own or one above it), by start date;
    /// call after [`list_cadences`](Self::list_cadences), which keeps them up.
    pub async fn cadence_iterations(
        &self,
        access: &GroupAccess,
        cadence: &CadenceRow,
    ) -> CoreResult<Vec<IterationRow>> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        let groups = group_chain(&mut conn, access.group().id, true).await?;
        if !groups.contains(&cadence.group_id) {
            return Err(CoreError::NotFound("iteration cadence"));
        }
        Ok(db::cadence_iterations(&mut conn, cadence.id).await?)
    }

    /// The cadence of an iteration the group sees.
    pub async fn cadence_of(&self, access: &GroupAccess, iteration: &IterationRow) -> CoreResult<CadenceRow> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        let groups = group_chain(&mut conn, access.group().id, true).await?;
        db::find_cadence(&mut conn, iteration.cadence_id)
            .await?
            .filter(|cadence| groups.contains(&cadence.group_id))
            .ok_or(CoreError::NotFound("iteration cadence"))
    }

    /// One of the group's own cadences.
    pub async fn find_cadence(&self, access: &GroupAccess, id: CadenceId) -> CoreResult<CadenceRow> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        db::find_cadence(&mut conn, id)
            .await?
            .filter(|cadence| cadence.group_id == access.group().id)
            .ok_or(CoreError::NotFound("iteration cadence"))
    }

    /// Creates a cadence (Reporters and above) and, when automatic, its first iterations.
    pub async fn create_cadence(&self, access: &GroupAccess, input: &CadenceInput) -> CoreResult<CadenceRow> {
        access.require(GroupAction::ManageIterations)?;
        let today = super::time_tracking::today();
        let values = cadence_fields(None, input, today)?;
        let mut conn = self.db.conn().await?;
        if db::list_cadences(&mut conn, &[access.group().id]).await?.len() >= MAX_CADENCES {
            return Err(CoreError::Refused(format!(
                "A group has at most {MAX_CADENCES} iteration cadences: delete one you no longer use first"
            )));
        }
        drop(conn);
        let start = values.start_date.to_string();
        let fields = CadenceFields {
            title: &values.title,
            description: &values.description,
            start_date: &start,
            duration_in_weeks: values.duration_in_weeks,
            iterations_in_advance: values.iterations_in_advance,
            automatic: values.automatic,
            roll_over: values.roll_over,
        };
        let mut tx = self.db.begin().await?;
        let id = db::insert_cadence(&mut tx, access.group().id, &fields)
            .await
            .map_err(crate::manage::conflict_as("Iteration cadence title has already been taken"))?;
        let cadence = db::find_cadence(&mut tx, id).await?.ok_or(CoreError::NotFound("iteration cadence"))?;
        schedule(&mut tx, &cadence, today).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(cadence.id = %id, cadence = %values.title, "iteration cadence created");
        Ok(cadence)
    }

    /// Changes a cadence of the group. An automatic cadence's first day cannot move once an
    /// iteration started; a new length re-dates the iterations that have not started.
    pub async fn update_cadence(
        &self,
        access: &GroupAccess,
        id: CadenceId,
        input: &CadenceInput,
    ) -> CoreResult<CadenceRow> {
        access.require(GroupAction::ManageIterations)?;
        let cadence = self.find_cadence(access, id).await?;
        let today = super::time_tracking::today();
        let today_text = today.to_string();
        let values = cadence_fields(Some(&cadence), input, today)?;
        let start = values.start_date.to_string();
        let mut tx = self.db.begin().await?;
        db::lock_cadence(&mut tx, id).await?;
        let iterations = db::cadence_iterations(&mut tx, id).await?;
        if values.automatic != cadence.automatic && !iterations.is_empty() {
            return Err(CoreError::invalid(
                "automatic",
                "cannot change once the cadence has iterations: create another cadence instead",
            ));
        }
        let started: Vec<&IterationRow> =
            iterations.iter().filter(|it| it.start_date.as_str() <= today_text.as_str()).collect();
        if values.automatic && start != cadence.start_date && !started.is_empty() {
            return Err(CoreError::invalid("start_date", "cannot change once an iteration of the cadence has started"));
        }
        let fields = CadenceFields {
            title: &values.title,
            description: &values.description,
            start_date: &start,
            duration_in_weeks: values.duration_in_weeks,
            iterations_in_advance: values.iterations_in_advance,
            automatic: values.automatic,
            roll_over: values.roll_over,
        };
        db::update_cadence(&mut tx, id, &fields)
            .await
            .map_err(crate::manage::conflict_as("Iteration cadence title has already been taken"))?;
        let redate =
            values.automatic && (values.duration_in_weeks != cadence.duration_in_weeks || start != cadence.start_date);
        if redate {
            let upcoming: Vec<&IterationRow> =
                iterations.iter().filter(|it| it.start_date.as_str() > today_text.as_str()).collect();
            // Out of the way first: the new dates may be ones the old iterations hold.
            for (place, iteration) in upcoming.iter().enumerate() {
                let parked = format!("9999-{place:06}");
                db::move_iteration(&mut tx, iteration.id, &parked, &parked).await?;
            }
            let mut next = match started.last() {
                Some(last) => add_days(check_date("due_date", &last.due_date)?, 1)?,
                None => values.start_date,
            };
            for iteration in upcoming {
                let due = add_days(next, 7 * values.duration_in_weeks - 1)?;
                db::move_iteration(&mut tx, iteration.id, &next.to_string(), &due.to_string()).await?;
                next = add_days(due, 1)?;
            }
        }
        if values.roll_over && !cadence.roll_over {
            db::mark_ended_rolled_over(&mut tx, id, &today_text).await?;
        }
        let updated = db::find_cadence(&mut tx, id).await?.ok_or(CoreError::NotFound("iteration cadence"))?;
        schedule(&mut tx, &updated, today).await?;
        db::renumber(&mut tx, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(updated)
    }

    /// Deletes a cadence of the group with its iterations; their issues are in none after.
    pub async fn delete_cadence(&self, access: &GroupAccess, id: CadenceId) -> CoreResult<CadenceRow> {
        access.require(GroupAction::ManageIterations)?;
        let cadence = self.find_cadence(access, id).await?;
        let mut tx = self.db.begin().await?;
        db::delete_cadence(&mut tx, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(cadence.id = %id, "iteration cadence deleted");
        Ok(cadence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cadence_is_checked() {
        let today: Date = "2026-12-07".parse().unwrap();
        let input = |weeks, advance, start: &str| CadenceInput {
            title: Some("Sprints".into()),
            start_date: Some(start.into()),
            duration_in_weeks: Some(weeks),
            iterations_in_advance: Some(advance),
            ..CadenceInput::default()
        };
        assert!(cadence_fields(None, &input(2, 3, "2026-12-07"), today).is_ok());
        assert!(cadence_fields(None, &input(5, 3, "2026-12-07"), today).is_err());
        assert!(cadence_fields(None, &input(2, 11, "2026-12-07"), today).is_err());
        assert!(cadence_fields(None, &input(1, 2, "1990-01-01"), today).is_err());
        assert!(cadence_fields(None, &CadenceInput::default(), today).is_err());
    }
}
