//! The `issues` table (numbered per project through `internal_ids`) and `issue_assignees`, with
//! the one filtered listing every issue list uses: a project's, a group's, a user's.
//!
//! Which confidential issues a listing shows is decided by core and passed in: those of the
//! projects in `confidential_projects` (where the viewer is Reporter or above), and everywhere
//! those the viewer wrote or is assigned to.

use gantry_types::{EpicId, IssueId, IssueState, LabelId, MilestoneId, ProjectId, UserId};
use sqlx::any::AnyRow;

use super::id_list;
use crate::internal_ids::{Numbered, next_internal_id};
use crate::manage::SortDirection;
use crate::manage::users::{UserRow, map_user};
use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// An issue as stored, with the number of people's (not system) notes on it.
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub id: IssueId,
    pub project_id: ProjectId,
    pub iid: i64,
    pub title: String,
    pub description: String,
    pub author_id: Option<UserId>,
    pub state: IssueState,
    pub closed_by_id: Option<UserId>,
    pub closed_at: Option<i64>,
    pub confidential: bool,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub weight: Option<i64>,
    pub discussion_locked: bool,
    pub milestone_id: Option<MilestoneId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub user_notes_count: i64,
    /// Seconds estimated (0: none).
    pub time_estimate: i64,
    /// Seconds spent, summed over its time logs.
    pub total_time_spent: i64,
    /// Its place in boards and lists sorted by hand (GitLab's `relative_position`): lower
    /// comes first.
    pub relative_position: Option<i64>,
}

fn map_issue(row: &AnyRow) -> DbResult<IssueRow> {
    Ok(IssueRow {
        id: IssueId(int(row, "id")?),
        project_id: ProjectId(int(row, "project_id")?),
        iid: int(row, "iid")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        author_id: opt_int(row, "author_id")?.map(UserId),
        state: parsed(row, "state", IssueState::parse)?,
        closed_by_id: opt_int(row, "closed_by_id")?.map(UserId),
        closed_at: opt_int(row, "closed_at")?,
        confidential: flag(row, "confidential")?,
        due_date: opt_text(row, "due_date")?,
        weight: opt_int(row, "weight")?,
        discussion_locked: flag(row, "discussion_locked")?,
        milestone_id: opt_int(row, "milestone_id")?.map(MilestoneId),
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        user_notes_count: int(row, "user_notes_count")?,
        time_estimate: int(row, "time_estimate")?,
        total_time_spent: int(row, "total_time_spent")?,
        relative_position: opt_int(row, "relative_position")?,
    })
}

macro_rules! select_issue {
    () => {
        "SELECT i.id, i.project_id, i.iid, i.title, i.description, i.author_id, i.state, i.closed_by_id, i.closed_at, \
         i.confidential, i.due_date, i.weight, i.discussion_locked, i.milestone_id, i.created_at, i.updated_at, \
         (SELECT COUNT(*) FROM notes n WHERE n.noteable_type = 'Issue' AND n.noteable_id = i.id AND n.system = 0) \
         AS user_notes_count, i.time_estimate, \
         (SELECT CAST(COALESCE(SUM(t.time_spent), 0) AS BIGINT) FROM timelogs t WHERE t.issue_id = i.id) AS total_time_spent, \
         i.relative_position FROM issues i"
    };
}

/// What an issue is made of, on create and on update (validated by core).
#[derive(Debug, Clone)]
pub struct IssueFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub confidential: bool,
    pub due_date: Option<&'a str>,
    pub weight: Option<i64>,
    pub discussion_locked: bool,
}

/// The distance between neighbours' `relative_position` that new issues and spread-out lists
/// leave.
pub const POSITION_GAP: i64 = 512;

/// Stores an issue with the project's next number, after the project's other issues in the
/// order of boards, and its `created` event; call inside a transaction. Returns its id and
/// number.
pub async fn insert_issue(
    conn: &mut Conn,
    project: ProjectId,
    author: UserId,
    fields: &IssueFields<'_>,
) -> DbResult<(IssueId, i64)> {
    let iid = next_internal_id(&mut *conn, project, Numbered::Issues).await?;
    let row = sqlx::query(
        "INSERT INTO issues (project_id, iid, title, description, author_id, state, confidential, due_date, weight, \
         discussion_locked, created_at, updated_at, relative_position) \
         VALUES ($1, $2, $3, $4, $5, 'opened', $6, $7, $8, $9, $10, $10, \
                 (SELECT COALESCE(MAX(p.relative_position), 0) + $11 FROM issues p WHERE p.project_id = $1)) \
         RETURNING id",
    )
    .bind(project.0)
    .bind(iid)
    .bind(fields.title)
    .bind(fields.description)
    .bind(author.0)
    .bind(i64::from(fields.confidential))
    .bind(fields.due_date)
    .bind(fields.weight)
    .bind(i64::from(fields.discussion_locked))
    .bind(now_millis())
    .bind(POSITION_GAP)
    .fetch_one(&mut *conn)
    .await
    .map_err(DbError::classify)?;
    let id = int(&row, "id")?;
    crate::activity::record_issue(conn, id, Some(author), "created", now_millis()).await?;
    Ok((IssueId(id), iid))
}

/// Writes an issue's fields and its time of change.
pub async fn update_issue(conn: &mut Conn, id: IssueId, fields: &IssueFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE issues SET title = $1, description = $2, confidential = $3, due_date = $4, weight = $5, \
         discussion_locked = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(fields.title)
    .bind(fields.description)
    .bind(i64::from(fields.confidential))
    .bind(fields.due_date)
    .bind(fields.weight)
    .bind(i64::from(fields.discussion_locked))
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens or closes an issue as `by` (kept as who closed it, with the time, when closing), with
/// its `closed` or `reopened` event; false when it was already in that state.
pub async fn set_issue_state(conn: &mut Conn, id: IssueId, state: IssueState, by: Option<UserId>) -> DbResult<bool> {
    let now = now_millis();
    let closed = state == IssueState::Closed;
    let done = sqlx::query(
        "UPDATE issues SET state = $1, closed_by_id = $2, closed_at = $3, updated_at = $4 WHERE id = $5 AND state <> $1",
    )
    .bind(state.as_str())
    .bind(if closed { by.map(|u| u.0) } else { None })
    .bind(closed.then_some(now))
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let action = if closed { "closed" } else { "reopened" };
    crate::activity::record_issue(conn, id.0, by, action, now).await?;
    Ok(true)
}

/// Marks an issue changed now (a label or assignee came or went).
pub async fn touch_issue(conn: &mut Conn, id: IssueId) -> DbResult<()> {
    sqlx::query("UPDATE issues SET updated_at = $1 WHERE id = $2").bind(now_millis()).bind(id.0).execute(conn).await?;
    Ok(())
}

/// Deletes an issue with its notes (its assignees and label links go with it).
pub async fn delete_issue(conn: &mut Conn, id: IssueId) -> DbResult<()> {
    super::todos::forget_target(conn, super::notes::Noteable::issue(id)).await?;
    super::award_emoji::forget_awards(conn, super::award_emoji::Awardable { kind: "Issue", id: id.0 }).await?;
    sqlx::query(
        "DELETE FROM award_emoji WHERE awardable_type = 'Note' AND awardable_id IN \
         (SELECT id FROM notes WHERE noteable_type = 'Issue' AND noteable_id = $1)",
    )
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM notes WHERE noteable_type = 'Issue' AND noteable_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM issues WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// One issue by its row id.
pub async fn find_issue_by_id(conn: &mut Conn, id: IssueId) -> DbResult<Option<IssueRow>> {
    sqlx::query(concat!(select_issue!(), " WHERE i.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_issue)
        .transpose()
}

/// One issue of a project by its number.
pub async fn find_issue(conn: &mut Conn, project: ProjectId, iid: i64) -> DbResult<Option<IssueRow>> {
    sqlx::query(concat!(select_issue!(), " WHERE i.project_id = $1 AND i.iid = $2"))
        .bind(project.0)
        .bind(iid)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_issue)
        .transpose()
}

/// Replaces an issue's assignees.
pub async fn set_issue_assignees(conn: &mut Conn, id: IssueId, users: &[UserId]) -> DbResult<()> {
    sqlx::query("DELETE FROM issue_assignees WHERE issue_id = $1").bind(id.0).execute(&mut *conn).await?;
    for user in users {
        sqlx::query("INSERT INTO issue_assignees (issue_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The assignees of these issues, as `(issue, user)` pairs ordered by username.
pub async fn assignees_of(conn: &mut Conn, issues: &[IssueId]) -> DbResult<Vec<(IssueId, UserRow)>> {
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT a.issue_id, u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, \
         u.updated_at, u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id \
         FROM issue_assignees a JOIN users u ON u.id = a.user_id \
         WHERE CAST($1 AS TEXT) LIKE ('%,' || CAST(a.issue_id AS TEXT) || ',%') ORDER BY u.username",
    )
    .bind(id_list(issues.iter().map(|id| id.0)))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((IssueId(int(row, "issue_id")?), map_user(row)?))).collect()
}

/// Which issues a listing wants: every filter of GitLab's issue lists. Core fills in the scope
/// and the confidential rule; the rest comes from the request.
#[derive(Debug, Clone)]
pub struct IssueFilter {
    /// One project (its index serves the listing)…
    pub project: Option<ProjectId>,
    /// …or the projects in this list (`id_list`), for a group's or a user's issues.
    pub projects: Option<String>,
    /// The projects whose confidential issues the viewer sees (`id_list`).
    pub confidential_projects: String,
    /// Every confidential issue (administrators).
    pub all_confidential: bool,
    /// Who looks (their own and assigned confidential issues show); `None` when anonymous.
    pub viewer: Option<UserId>,
    pub state: Option<IssueState>,
    /// Label names every issue must carry (compared ignoring case; no commas in names).
    pub labels: Vec<String>,
    /// Labels at all: `Some(false)` for none (`None`), `Some(true)` for any (`Any`).
    pub has_labels: Option<bool>,
    pub assignee: AssigneeFilter,
    pub milestone: MilestoneFilter,
    pub author: Option<UserId>,
    /// Words of the title or description (full-text, `search.rs`).
    pub search: Option<crate::search::TextSearch>,
    pub confidential: Option<bool>,
    /// Only these numbers.
    pub iids: Vec<i64>,
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    pub updated_after: Option<i64>,
    pub updated_before: Option<i64>,
    pub weight: WeightFilter,
    /// Only issues carrying this label (a board's label list).
    pub with_label: Option<LabelId>,
    /// Only issues carrying none of these labels (a board's open list).
    pub without_labels: Vec<LabelId>,
    /// Only issues in none of these milestones.
    pub without_milestones: Vec<MilestoneId>,
    /// Only issues assigned to none of these people.
    pub without_assignees: Vec<UserId>,
    /// Only the issues of this epic.
    pub epic: Option<EpicId>,
    pub order_by: IssueOrder,
    pub sort: SortDirection,
}

/// Who an issue must be assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Ignore,
    Nobody,
    Anybody,
    User(UserId),
}

impl AssigneeFilter {
    fn code(self) -> i64 {
        match self {
            AssigneeFilter::Ignore => -1,
            AssigneeFilter::Nobody => 0,
            AssigneeFilter::Anybody => -2,
            AssigneeFilter::User(id) => id.0,
        }
    }
}

/// Which milestone an issue must be in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneFilter {
    Ignore,
    /// In no milestone (GitLab's `None`).
    Nobody,
    /// In some milestone (`Any`).
    Anybody,
    /// In this one.
    Id(MilestoneId),
    /// In one of this title (a project's or a group's, so across projects the same name).
    Title(String),
}

impl MilestoneFilter {
    fn code(&self) -> i64 {
        match self {
            MilestoneFilter::Ignore | MilestoneFilter::Title(_) => -1,
            MilestoneFilter::Nobody => 0,
            MilestoneFilter::Anybody => -2,
            MilestoneFilter::Id(id) => id.0,
        }
    }

    fn title(&self) -> Option<String> {
        match self {
            MilestoneFilter::Title(title) => Some(title.clone()),
            _ => None,
        }
    }
}

/// What weight an issue must have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WeightFilter {
    #[default]
    Ignore,
    /// No weight (GitLab's `None`).
    Nobody,
    /// Some weight (`Any`).
    Anybody,
    Is(i64),
}

impl WeightFilter {
    fn code(self) -> i64 {
        match self {
            WeightFilter::Ignore => -1,
            WeightFilter::Anybody => -2,
            WeightFilter::Nobody => -3,
            WeightFilter::Is(weight) => weight,
        }
    }
}

/// The orders of an issue list (GitLab's `order_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOrder {
    CreatedAt,
    UpdatedAt,
    Title,
    DueDate,
    /// The order of boards (lowest `relative_position` first).
    RelativePosition,
}

impl IssueOrder {
    /// Reads GitLab's name.
    pub fn parse(value: &str) -> Option<IssueOrder> {
        Some(match value {
            "created_at" => IssueOrder::CreatedAt,
            "updated_at" => IssueOrder::UpdatedAt,
            "title" => IssueOrder::Title,
            "due_date" => IssueOrder::DueDate,
            "relative_position" => IssueOrder::RelativePosition,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            IssueOrder::CreatedAt => "created_at",
            IssueOrder::UpdatedAt => "updated_at",
            IssueOrder::Title => "title",
            IssueOrder::DueDate => "due_date",
            IssueOrder::RelativePosition => "relative_position",
        }
    }
}

// Which issues `i` a viewer may see, `$1`…`$5`: of one project or of the projects in a list,
// and confidential ones only where the viewer may see them (or their own and assigned ones).
// The issue filter and the search of comments share it.
macro_rules! visible_issue {
    () => {
        "(CAST($1 AS BIGINT) IS NULL OR i.project_id = $1) \
           AND (CAST($2 AS TEXT) IS NULL OR CAST($2 AS TEXT) LIKE ('%,' || CAST(i.project_id AS TEXT) || ',%')) \
           AND (i.confidential = 0 OR CAST($4 AS BIGINT) = 1 \
                OR CAST($3 AS TEXT) LIKE ('%,' || CAST(i.project_id AS TEXT) || ',%') \
                OR i.author_id = $5 \
                OR EXISTS (SELECT 1 FROM issue_assignees va WHERE va.issue_id = i.id AND va.user_id = $5))"
    };
}
pub(crate) use visible_issue;

// The text condition on `$12` for each engine (see `search.rs`), and its absence (`$12` NULL).
macro_rules! issue_text {
    (sqlite) => {
        " AND i.id IN (SELECT rowid FROM issues_search WHERE issues_search MATCH $12)"
    };
    (postgres) => {
        " AND search_document(i.title || ' ' || i.description) @@ to_tsquery('simple', $12)"
    };
    (none) => {
        " AND CAST($12 AS TEXT) IS NULL"
    };
}

// The filter, `$1`…`$26`, shared by the listing and its counts (and the search of comments),
// with one of `issue_text!`.
macro_rules! issue_filter {
    ($text:tt) => {
        concat!(
            " WHERE ",
            visible_issue!(),
            issue_text!($text),
            " AND (CAST($6 AS TEXT) IS NULL OR i.state = $6) \
           AND (CAST($7 AS TEXT) IS NULL OR CAST($8 AS BIGINT) = ( \
                SELECT COUNT(DISTINCT lower(fl.title)) FROM label_links fll JOIN labels fl ON fl.id = fll.label_id \
                WHERE fll.issue_id = i.id \
                  AND lower(CAST($7 AS TEXT)) LIKE ('%,' || replace(replace(replace(lower(fl.title), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ',%') ESCAPE '\\')) \
           AND (CAST($9 AS BIGINT) < 0 \
                OR (CAST($9 AS BIGINT) = 0 AND NOT EXISTS (SELECT 1 FROM label_links hl WHERE hl.issue_id = i.id)) \
                OR (CAST($9 AS BIGINT) = 1 AND EXISTS (SELECT 1 FROM label_links hl WHERE hl.issue_id = i.id))) \
           AND (CAST($10 AS BIGINT) = -1 \
                OR (CAST($10 AS BIGINT) = 0 AND NOT EXISTS (SELECT 1 FROM issue_assignees fa WHERE fa.issue_id = i.id)) \
                OR (CAST($10 AS BIGINT) = -2 AND EXISTS (SELECT 1 FROM issue_assignees fa WHERE fa.issue_id = i.id)) \
                OR EXISTS (SELECT 1 FROM issue_assignees fa WHERE fa.issue_id = i.id AND fa.user_id = $10)) \
           AND (CAST($11 AS BIGINT) IS NULL OR i.author_id = $11) \
           AND (CAST($13 AS BIGINT) < 0 OR i.confidential = $13) \
           AND (CAST($14 AS TEXT) IS NULL OR CAST($14 AS TEXT) LIKE ('%,' || CAST(i.iid AS TEXT) || ',%')) \
           AND (CAST($15 AS BIGINT) IS NULL OR i.created_at >= $15) \
           AND (CAST($16 AS BIGINT) IS NULL OR i.created_at <= $16) \
           AND (CAST($17 AS BIGINT) IS NULL OR i.updated_at >= $17) \
           AND (CAST($18 AS BIGINT) IS NULL OR i.updated_at <= $18) \
           AND (CAST($19 AS BIGINT) = -1 \
                OR (CAST($19 AS BIGINT) = 0 AND i.milestone_id IS NULL) \
                OR (CAST($19 AS BIGINT) = -2 AND i.milestone_id IS NOT NULL) \
                OR i.milestone_id = $19) \
           AND (CAST($20 AS TEXT) IS NULL \
                OR EXISTS (SELECT 1 FROM milestones fm WHERE fm.id = i.milestone_id AND fm.title = $20)) \
           AND (CAST($21 AS BIGINT) = -1 \
                OR (CAST($21 AS BIGINT) = -2 AND i.weight IS NOT NULL) \
                OR (CAST($21 AS BIGINT) = -3 AND i.weight IS NULL) \
                OR i.weight = $21) \
           AND (CAST($22 AS BIGINT) IS NULL \
                OR EXISTS (SELECT 1 FROM label_links wl WHERE wl.issue_id = i.id AND wl.label_id = $22)) \
           AND (CAST($23 AS TEXT) IS NULL OR NOT EXISTS (SELECT 1 FROM label_links xl WHERE xl.issue_id = i.id \
                AND CAST($23 AS TEXT) LIKE ('%,' || CAST(xl.label_id AS TEXT) || ',%'))) \
           AND (CAST($24 AS TEXT) IS NULL OR i.milestone_id IS NULL \
                OR CAST($24 AS TEXT) NOT LIKE ('%,' || CAST(i.milestone_id AS TEXT) || ',%')) \
           AND (CAST($25 AS TEXT) IS NULL OR NOT EXISTS (SELECT 1 FROM issue_assignees xa WHERE xa.issue_id = i.id \
                AND CAST($25 AS TEXT) LIKE ('%,' || CAST(xa.user_id AS TEXT) || ',%'))) \
           AND (CAST($26 AS BIGINT) IS NULL \
                OR EXISTS (SELECT 1 FROM epic_issues fe WHERE fe.issue_id = i.id AND fe.epic_id = $26))"
        )
    };
}

pub(crate) use {issue_filter, issue_text};

// The listing, `$27`…`$30` after the filter: order, direction, limit, offset.
macro_rules! list_issues_sql {
    ($text:tt) => {
        concat!(
            select_issue!(),
            issue_filter!($text),
            " ORDER BY CASE WHEN $27 = 'due_date' AND i.due_date IS NULL THEN 1 ELSE 0 END ASC, \
               CASE WHEN $27 = 'relative_position' AND i.relative_position IS NULL THEN 1 ELSE 0 END ASC, \
               CASE WHEN $28 = 'asc' AND $27 = 'relative_position' THEN i.relative_position END ASC, \
               CASE WHEN $28 = 'desc' AND $27 = 'relative_position' THEN i.relative_position END DESC, \
               CASE WHEN $28 = 'asc' THEN (CASE $27 WHEN 'title' THEN lower(i.title) WHEN 'due_date' THEN i.due_date ELSE NULL END) END ASC, \
               CASE WHEN $28 = 'desc' THEN (CASE $27 WHEN 'title' THEN lower(i.title) WHEN 'due_date' THEN i.due_date ELSE NULL END) END DESC, \
               CASE WHEN $28 = 'asc' THEN (CASE $27 WHEN 'updated_at' THEN i.updated_at ELSE i.created_at END) END ASC, \
               CASE WHEN $28 = 'desc' THEN (CASE $27 WHEN 'updated_at' THEN i.updated_at ELSE i.created_at END) END DESC, \
               CASE WHEN $28 = 'asc' THEN i.id END ASC, i.id DESC LIMIT $29 OFFSET $30"
        )
    };
}

macro_rules! count_issues_sql {
    ($text:tt) => {
        concat!("SELECT COUNT(*) AS n FROM issues i", issue_filter!($text))
    };
}

macro_rules! count_issues_by_state_sql {
    ($text:tt) => {
        concat!("SELECT i.state, COUNT(*) AS n FROM issues i", issue_filter!($text), " GROUP BY i.state")
    };
}

// One of a query's three forms (`$sql!(sqlite|postgres|none)`): with the text condition of the
// connection's engine when the filter searches text, without one otherwise.
macro_rules! with_text {
    ($conn:expr, $search:expr, $sql:ident) => {
        if $search.is_some() { crate::search::by_engine!(crate::search::backend_of($conn), $sql) } else { $sql!(none) }
    };
}

/// One page of the issues a filter selects, and how many it selects in all.
pub async fn list_issues(conn: &mut Conn, filter: &IssueFilter, page: Page) -> DbResult<(Vec<IssueRow>, i64)> {
    let state = filter.state.map(IssueState::as_str);
    let backend = crate::search::backend_of(conn);
    let rows = bind_filter(sqlx::query(with_text!(conn, filter.search, list_issues_sql)), filter, state, backend)
        .bind(filter.order_by.as_str())
        .bind(filter.sort.as_str())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *conn)
        .await?;
    let total = bind_filter(sqlx::query(with_text!(conn, filter.search, count_issues_sql)), filter, state, backend)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_issue).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// How many issues the filter selects in each state (its own `state` ignored): open, closed.
pub async fn count_issues_by_state(conn: &mut Conn, filter: &IssueFilter) -> DbResult<(i64, i64)> {
    let backend = crate::search::backend_of(conn);
    let sql = with_text!(conn, filter.search, count_issues_by_state_sql);
    let rows = bind_filter(sqlx::query(sql), filter, None, backend).fetch_all(conn).await?;
    let (mut opened, mut closed) = (0, 0);
    for row in &rows {
        match parsed(row, "state", IssueState::parse)? {
            IssueState::Opened => opened = int(row, "n")?,
            IssueState::Closed => closed = int(row, "n")?,
        }
    }
    Ok((opened, closed))
}

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

pub(crate) fn bind_filter<'q>(
    query: AnyQuery<'q>,
    filter: &IssueFilter,
    state: Option<&'static str>,
    backend: crate::Backend,
) -> AnyQuery<'q> {
    let mut labels: Vec<String> = filter.labels.iter().map(|name| name.trim().to_lowercase()).collect();
    labels.retain(|name| !name.is_empty());
    labels.sort();
    labels.dedup();
    let label_count = i64::try_from(labels.len()).unwrap_or(i64::MAX);
    let label_list = (!labels.is_empty()).then(|| format!(",{},", labels.join(",")));
    let iids = (!filter.iids.is_empty()).then(|| id_list(filter.iids.iter().copied()));
    query
        .bind(filter.project.map(|p| p.0))
        .bind(filter.projects.clone())
        .bind(filter.confidential_projects.clone())
        .bind(i64::from(filter.all_confidential))
        .bind(filter.viewer.map_or(-1, |u| u.0))
        .bind(state)
        .bind(label_list)
        .bind(label_count)
        .bind(filter.has_labels.map_or(-1, i64::from))
        .bind(filter.assignee.code())
        .bind(filter.author.map(|u| u.0))
        .bind(filter.search.as_ref().map(|search| search.query(backend)))
        .bind(filter.confidential.map_or(-1, i64::from))
        .bind(iids)
        .bind(filter.created_after)
        .bind(filter.created_before)
        .bind(filter.updated_after)
        .bind(filter.updated_before)
        .bind(filter.milestone.code())
        .bind(filter.milestone.title())
        .bind(filter.weight.code())
        .bind(filter.with_label.map(|id| id.0))
        .bind((!filter.without_labels.is_empty()).then(|| id_list(filter.without_labels.iter().map(|id| id.0))))
        .bind((!filter.without_milestones.is_empty()).then(|| id_list(filter.without_milestones.iter().map(|id| id.0))))
        .bind((!filter.without_assignees.is_empty()).then(|| id_list(filter.without_assignees.iter().map(|id| id.0))))
        .bind(filter.epic.map(|id| id.0))
}

/// Sets an issue's time estimate, in seconds (0 removes it).
pub async fn set_time_estimate(conn: &mut Conn, id: IssueId, seconds: i64) -> DbResult<()> {
    sqlx::query("UPDATE issues SET time_estimate = $1, updated_at = $2 WHERE id = $3")
        .bind(seconds)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Time spent on an issue, to log.
#[derive(Debug, Clone)]
pub struct NewTimelog<'a> {
    pub issue_id: IssueId,
    pub user_id: UserId,
    /// Seconds; negative takes time off.
    pub time_spent: i64,
    pub spent_at: i64,
    pub summary: &'a str,
}

/// Logs time spent on an issue.
pub async fn add_timelog(conn: &mut Conn, log: &NewTimelog<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO timelogs (issue_id, user_id, time_spent, spent_at, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(log.issue_id.0)
    .bind(log.user_id.0)
    .bind(log.time_spent)
    .bind(log.spent_at)
    .bind(log.summary)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes every time log of an issue.
pub async fn remove_timelogs(conn: &mut Conn, id: IssueId) -> DbResult<()> {
    sqlx::query("DELETE FROM timelogs WHERE issue_id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}
