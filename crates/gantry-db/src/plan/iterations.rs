//! The `iteration_cadences` and `iterations` tables (a group's timeboxes: a cadence is a series
//! of iterations of one length, each iteration numbered per group) and the column that puts an
//! issue in one. Core decides the dates and who may change them; this module stores, lists and
//! moves them.

use gantry_types::{CadenceId, IssueId, IterationId, NamespaceId, ProjectId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::internal_ids::next_group_number;
use crate::row::{flag, int, opt_text, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A stored cadence, with its group's full path.
#[derive(Debug, Clone)]
pub struct CadenceRow {
    pub id: CadenceId,
    pub group_id: NamespaceId,
    pub group_path: String,
    pub title: String,
    pub description: String,
    /// `YYYY-MM-DD`: the first iteration's start.
    pub start_date: String,
    pub duration_in_weeks: i64,
    pub iterations_in_advance: i64,
    pub automatic: bool,
    pub roll_over: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_cadence(row: &AnyRow) -> DbResult<CadenceRow> {
    Ok(CadenceRow {
        id: CadenceId(int(row, "id")?),
        group_id: NamespaceId(int(row, "group_id")?),
        group_path: opt_text(row, "group_path")?.unwrap_or_default(),
        title: text(row, "title")?,
        description: text(row, "description")?,
        start_date: text(row, "start_date")?,
        duration_in_weeks: int(row, "duration_in_weeks")?,
        iterations_in_advance: int(row, "iterations_in_advance")?,
        automatic: flag(row, "automatic")?,
        roll_over: flag(row, "roll_over")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_cadence {
    () => {
        "SELECT c.id, c.group_id, c.title, c.description, c.start_date, c.duration_in_weeks, \
         c.iterations_in_advance, c.automatic, c.roll_over, c.created_at, c.updated_at, \
         (SELECT r.path FROM routes r WHERE r.namespace_id = c.group_id) AS group_path \
         FROM iteration_cadences c"
    };
}

/// A stored iteration, with its cadence's title and its group's full path.
#[derive(Debug, Clone)]
pub struct IterationRow {
    pub id: IterationId,
    pub cadence_id: CadenceId,
    pub cadence_title: String,
    pub group_id: NamespaceId,
    pub group_path: String,
    pub iid: i64,
    pub sequence: i64,
    /// `None` for an automatic cadence's iterations (named by their dates).
    pub title: Option<String>,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`, the last day in it.
    pub due_date: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_iteration(row: &AnyRow) -> DbResult<IterationRow> {
    Ok(IterationRow {
        id: IterationId(int(row, "id")?),
        cadence_id: CadenceId(int(row, "cadence_id")?),
        cadence_title: text(row, "cadence_title")?,
        group_id: NamespaceId(int(row, "group_id")?),
        group_path: opt_text(row, "group_path")?.unwrap_or_default(),
        iid: int(row, "iid")?,
        sequence: int(row, "sequence")?,
        title: opt_text(row, "title")?,
        description: text(row, "description")?,
        start_date: text(row, "start_date")?,
        due_date: text(row, "due_date")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_iteration {
    () => {
        "SELECT it.id, it.cadence_id, c.title AS cadence_title, it.group_id, it.iid, it.sequence, it.title, \
         it.description, it.start_date, it.due_date, it.created_at, it.updated_at, \
         (SELECT r.path FROM routes r WHERE r.namespace_id = it.group_id) AS group_path \
         FROM iterations it JOIN iteration_cadences c ON c.id = it.cadence_id"
    };
}

/// A cadence's columns (validated by core).
#[derive(Debug, Clone)]
pub struct CadenceFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub start_date: &'a str,
    pub duration_in_weeks: i64,
    pub iterations_in_advance: i64,
    pub automatic: bool,
    pub roll_over: bool,
}

/// The cadences of these groups, by title.
pub async fn list_cadences(conn: &mut Conn, groups: &[NamespaceId]) -> DbResult<Vec<CadenceRow>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! cadences_sql {
        ($engine:tt) => {
            concat!(
                select_cadence!(),
                " WHERE c.group_id IN ",
                id_set!($engine, "$1"),
                " ORDER BY lower(c.title), c.id"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), cadences_sql))
        .bind(id_list(groups.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_cadence).collect()
}

/// Every automatic cadence and every cadence that rolls over (those the hourly pass keeps up).
pub async fn cadences_to_keep_up(conn: &mut Conn) -> DbResult<Vec<CadenceRow>> {
    let rows = sqlx::query(concat!(select_cadence!(), " WHERE c.automatic = 1 OR c.roll_over = 1 ORDER BY c.id"))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_cadence).collect()
}

/// One cadence by id.
pub async fn find_cadence(conn: &mut Conn, id: CadenceId) -> DbResult<Option<CadenceRow>> {
    sqlx::query(concat!(select_cadence!(), " WHERE c.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_cadence)
        .transpose()
}

/// Stores a cadence; a title the group's cadences have already is [`DbError::Conflict`].
pub async fn insert_cadence(conn: &mut Conn, group: NamespaceId, fields: &CadenceFields<'_>) -> DbResult<CadenceId> {
    let row = sqlx::query(
        "INSERT INTO iteration_cadences (group_id, title, description, start_date, duration_in_weeks, \
         iterations_in_advance, automatic, roll_over, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(group.0)
    .bind(fields.title)
    .bind(fields.description)
    .bind(fields.start_date)
    .bind(fields.duration_in_weeks)
    .bind(fields.iterations_in_advance)
    .bind(i64::from(fields.automatic))
    .bind(i64::from(fields.roll_over))
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(CadenceId(int(&row, "id")?))
}

/// Writes a cadence's columns; a title taken by another of the group's cadences is a conflict.
pub async fn update_cadence(conn: &mut Conn, id: CadenceId, fields: &CadenceFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE iteration_cadences SET title = $1, description = $2, start_date = $3, duration_in_weeks = $4, \
         iterations_in_advance = $5, automatic = $6, roll_over = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(fields.title)
    .bind(fields.description)
    .bind(fields.start_date)
    .bind(fields.duration_in_weeks)
    .bind(fields.iterations_in_advance)
    .bind(i64::from(fields.automatic))
    .bind(i64::from(fields.roll_over))
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Deletes a cadence and its iterations; their issues are in no iteration after.
pub async fn delete_cadence(conn: &mut Conn, id: CadenceId) -> DbResult<()> {
    sqlx::query(
        "UPDATE issues SET iteration_id = NULL WHERE iteration_id IN (SELECT id FROM iterations WHERE cadence_id = $1)",
    )
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM iterations WHERE cadence_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM iteration_cadences WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Which iterations a listing wants.
#[derive(Debug, Clone, Default)]
pub struct IterationListing {
    /// The groups whose iterations (none: every group's is not offered; an empty list is empty).
    pub groups: Vec<NamespaceId>,
    pub cadence: Option<CadenceId>,
    /// Only those whose last day is on or after this day (`YYYY-MM-DD`).
    pub due_from: Option<String>,
    /// Only those whose last day is before this day.
    pub due_before: Option<String>,
    /// Only those that start after this day.
    pub start_after: Option<String>,
    /// Only those that started on or before this day.
    pub start_until: Option<String>,
    /// Part of the title (or, for those without, of the cadence's title), ignoring case.
    pub search: Option<String>,
    pub updated_after: Option<i64>,
    pub updated_before: Option<i64>,
}

// The listing's condition; `$1` the groups, `$2`…`$10` the rest of `IterationListing`.
macro_rules! iteration_filter {
    ($engine:tt) => {
        concat!(
            " WHERE it.group_id IN ",
            id_set!($engine, "$1"),
            " AND (CAST($2 AS BIGINT) IS NULL OR it.cadence_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR it.due_date >= $3) \
             AND (CAST($4 AS TEXT) IS NULL OR it.due_date < $4) \
             AND (CAST($5 AS TEXT) IS NULL OR it.start_date > $5) \
             AND (CAST($6 AS TEXT) IS NULL OR it.start_date <= $6) \
             AND (CAST($7 AS TEXT) IS NULL \
                  OR lower(COALESCE(it.title, c.title)) LIKE '%' || lower(CAST($7 AS TEXT)) || '%' ESCAPE '\\') \
             AND (CAST($8 AS BIGINT) IS NULL OR it.updated_at >= $8) \
             AND (CAST($9 AS BIGINT) IS NULL OR it.updated_at <= $9)"
        )
    };
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of the iterations a listing wants, by start date (then cadence), and how many.
pub async fn list_iterations(
    conn: &mut Conn,
    listing: &IterationListing,
    page: Page,
) -> DbResult<(Vec<IterationRow>, i64)> {
    if listing.groups.is_empty() {
        return Ok((Vec::new(), 0));
    }
    macro_rules! page_sql {
        ($engine:tt) => {
            concat!(
                select_iteration!(),
                iteration_filter!($engine),
                " ORDER BY it.start_date, lower(c.title), it.id LIMIT $10 OFFSET $11"
            )
        };
    }
    macro_rules! count_sql {
        ($engine:tt) => {
            concat!(
                "SELECT COUNT(*) AS n FROM iterations it JOIN iteration_cadences c ON c.id = it.cadence_id",
                iteration_filter!($engine)
            )
        };
    }
    let backend = backend_of(conn);
    let groups = id_list(listing.groups.iter().map(|id| id.0));
    let search = listing.search.as_deref().map(like_escaped);
    macro_rules! bound {
        ($sql:expr) => {
            sqlx::query($sql)
                .bind(groups.clone())
                .bind(listing.cadence.map(|id| id.0))
                .bind(listing.due_from.clone())
                .bind(listing.due_before.clone())
                .bind(listing.start_after.clone())
                .bind(listing.start_until.clone())
                .bind(search.clone())
                .bind(listing.updated_after)
                .bind(listing.updated_before)
        };
    }
    let rows = bound!(by_engine!(backend, page_sql)).bind(page.limit).bind(page.offset).fetch_all(&mut *conn).await?;
    let total = bound!(by_engine!(backend, count_sql)).fetch_one(&mut *conn).await?;
    Ok((rows.iter().map(map_iteration).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// A cadence's iterations by start date.
pub async fn cadence_iterations(conn: &mut Conn, cadence: CadenceId) -> DbResult<Vec<IterationRow>> {
    let rows = sqlx::query(concat!(select_iteration!(), " WHERE it.cadence_id = $1 ORDER BY it.start_date"))
        .bind(cadence.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_iteration).collect()
}

/// One iteration by id.
pub async fn find_iteration(conn: &mut Conn, id: IterationId) -> DbResult<Option<IterationRow>> {
    sqlx::query(concat!(select_iteration!(), " WHERE it.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_iteration)
        .transpose()
}

/// The iterations with these ids (issues' iterations), in no particular order.
pub async fn iterations_by_ids(conn: &mut Conn, ids: &[IterationId]) -> DbResult<Vec<IterationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! iterations_sql {
        ($engine:tt) => {
            concat!(select_iteration!(), " WHERE it.id IN ", id_set!($engine, "$1"))
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), iterations_sql))
        .bind(id_list(ids.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_iteration).collect()
}

/// An iteration's columns (validated by core).
#[derive(Debug, Clone)]
pub struct IterationFields<'a> {
    pub title: Option<&'a str>,
    pub description: &'a str,
    pub start_date: &'a str,
    pub due_date: &'a str,
}

/// Stores an iteration of a cadence with its group's next number, unless the cadence has one
/// starting that day already (`None`: two servers scheduling at once); `rolled_over` for one
/// that must never roll over (scheduled after it ended). Call inside a transaction, then
/// [`renumber`].
pub async fn insert_iteration(
    conn: &mut Conn,
    cadence: &CadenceRow,
    fields: &IterationFields<'_>,
    rolled_over: bool,
) -> DbResult<Option<IterationId>> {
    let taken = sqlx::query("SELECT id FROM iterations WHERE cadence_id = $1 AND start_date = $2")
        .bind(cadence.id.0)
        .bind(fields.start_date)
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let iid = next_group_number(&mut *conn, cadence.group_id, "iterations").await?;
    let row = sqlx::query(
        "INSERT INTO iterations (cadence_id, group_id, iid, sequence, title, description, start_date, due_date, \
         rolled_over, created_at, updated_at) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $9, $8, $8) \
         ON CONFLICT (cadence_id, start_date) DO NOTHING RETURNING id",
    )
    .bind(cadence.id.0)
    .bind(cadence.group_id.0)
    .bind(iid)
    .bind(fields.title)
    .bind(fields.description)
    .bind(fields.start_date)
    .bind(fields.due_date)
    .bind(now_millis())
    .bind(i64::from(rolled_over))
    .fetch_optional(conn)
    .await
    .map_err(DbError::classify)?;
    row.map(|row| int(&row, "id").map(IterationId)).transpose()
}

/// Writes an iteration's columns; call inside a transaction, then [`renumber`].
pub async fn update_iteration(conn: &mut Conn, id: IterationId, fields: &IterationFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE iterations SET title = $1, description = $2, start_date = $3, due_date = $4, updated_at = $5 \
         WHERE id = $6",
    )
    .bind(fields.title)
    .bind(fields.description)
    .bind(fields.start_date)
    .bind(fields.due_date)
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Deletes an iteration; its issues are in no iteration after. Call inside a transaction, then
/// [`renumber`].
pub async fn delete_iteration(conn: &mut Conn, id: IterationId) -> DbResult<()> {
    sqlx::query("UPDATE issues SET iteration_id = NULL WHERE iteration_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM iterations WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Numbers a cadence's iterations 1, 2, … by start date.
pub async fn renumber(conn: &mut Conn, cadence: CadenceId) -> DbResult<()> {
    let rows = sqlx::query("SELECT id, sequence FROM iterations WHERE cadence_id = $1 ORDER BY start_date")
        .bind(cadence.0)
        .fetch_all(&mut *conn)
        .await?;
    for (place, row) in (1_i64..).zip(&rows) {
        if int(row, "sequence")? != place {
            sqlx::query("UPDATE iterations SET sequence = $1 WHERE id = $2")
                .bind(place)
                .bind(int(row, "id")?)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Whether another iteration of the cadence (than `except`) shares a day with `start`…`due`.
pub async fn overlaps(
    conn: &mut Conn,
    cadence: CadenceId,
    start: &str,
    due: &str,
    except: Option<IterationId>,
) -> DbResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM iterations WHERE cadence_id = $1 AND start_date <= $2 AND due_date >= $3 \
         AND (CAST($4 AS BIGINT) IS NULL OR id <> $4)",
    )
    .bind(cadence.0)
    .bind(due)
    .bind(start)
    .bind(except.map(|id| id.0))
    .fetch_one(conn)
    .await?;
    Ok(int(&row, "n")? > 0)
}

/// Re-dates an iteration that has not started (an automatic cadence's length changed).
pub async fn move_iteration(conn: &mut Conn, id: IterationId, start: &str, due: &str) -> DbResult<()> {
    sqlx::query("UPDATE iterations SET start_date = $1, due_date = $2, updated_at = $3 WHERE id = $4")
        .bind(start)
        .bind(due)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Puts an issue in an iteration, or in none.
pub async fn set_issue_iteration(conn: &mut Conn, issue: IssueId, iteration: Option<IterationId>) -> DbResult<()> {
    sqlx::query("UPDATE issues SET iteration_id = $1, updated_at = $2 WHERE id = $3")
        .bind(iteration.map(|id| id.0))
        .bind(now_millis())
        .bind(issue.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// The iterations of a cadence that ended before `today` and have not rolled over yet, oldest
/// first.
pub async fn ended_not_rolled_over(conn: &mut Conn, cadence: CadenceId, today: &str) -> DbResult<Vec<IterationRow>> {
    let rows = sqlx::query(concat!(
        select_iteration!(),
        " WHERE it.cadence_id = $1 AND it.due_date < $2 AND it.rolled_over = 0 ORDER BY it.start_date"
    ))
    .bind(cadence.0)
    .bind(today)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_iteration).collect()
}

/// Marks an iteration rolled over; `false` when another server did it first (call inside the
/// transaction that moves its issues).
pub async fn mark_rolled_over(conn: &mut Conn, id: IterationId) -> DbResult<bool> {
    let done = sqlx::query("UPDATE iterations SET rolled_over = 1 WHERE id = $1 AND rolled_over = 0")
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves an open issue from one iteration to another (a roll-over); `false` when it is no longer
/// open in `from` (someone changed it meanwhile), and nothing changes.
pub async fn roll_issue_over(conn: &mut Conn, issue: IssueId, from: IterationId, to: IterationId) -> DbResult<bool> {
    let moved = sqlx::query(
        "UPDATE issues SET iteration_id = $1, updated_at = $2 WHERE id = $3 AND iteration_id = $4 AND state = 'opened'",
    )
    .bind(to.0)
    .bind(now_millis())
    .bind(issue.0)
    .bind(from.0)
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Marks every iteration of a cadence that ended before `today` as rolled over (roll-over was
/// just turned on: it moves issues from now on, not out of the past).
pub async fn mark_ended_rolled_over(conn: &mut Conn, cadence: CadenceId, today: &str) -> DbResult<()> {
    sqlx::query("UPDATE iterations SET rolled_over = 1 WHERE cadence_id = $1 AND due_date < $2")
        .bind(cadence.0)
        .bind(today)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the cadence's row for the rest of the transaction, so two servers scheduling or
/// re-dating one cadence at once take turns.
pub async fn lock_cadence(conn: &mut Conn, cadence: CadenceId) -> DbResult<()> {
    sqlx::query("UPDATE iteration_cadences SET updated_at = updated_at WHERE id = $1")
        .bind(cadence.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes issues out of the iterations of groups they can no longer use, after a transfer: the
/// issues of `project` or of the projects in `namespaces`, whose iteration's group is not one
/// of `allowed`.
pub async fn clear_unreachable_iterations(
    conn: &mut Conn,
    project: Option<ProjectId>,
    namespaces: &[NamespaceId],
    allowed: &[NamespaceId],
) -> DbResult<u64> {
    macro_rules! clear_sql {
        ($engine:tt) => {
            concat!(
                "UPDATE issues SET iteration_id = NULL WHERE iteration_id IS NOT NULL \
                 AND (project_id = $1 OR project_id IN (SELECT p.id FROM projects p WHERE p.namespace_id IN ",
                id_set!($engine, "$2"),
                ")) AND iteration_id NOT IN (SELECT it.id FROM iterations it WHERE it.group_id IN ",
                id_set!($engine, "$3"),
                ")"
            )
        };
    }
    let cleared = sqlx::query(by_engine!(backend_of(conn), clear_sql))
        .bind(project.map(|id| id.0))
        .bind(id_list(namespaces.iter().map(|id| id.0)))
        .bind(id_list(allowed.iter().map(|id| id.0)))
        .execute(conn)
        .await?;
    Ok(cleared.rows_affected())
}

/// The open issues in an iteration, with their projects.
pub async fn open_issues_in(conn: &mut Conn, iteration: IterationId) -> DbResult<Vec<(IssueId, ProjectId)>> {
    let rows =
        sqlx::query("SELECT id, project_id FROM issues WHERE iteration_id = $1 AND state = 'opened' ORDER BY id")
            .bind(iteration.0)
            .fetch_all(conn)
            .await?;
    rows.iter().map(|row| Ok((IssueId(int(row, "id")?), ProjectId(int(row, "project_id")?)))).collect()
}
