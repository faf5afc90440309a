//! The one filtered listing behind every issue list — a project's, a group's, a user's, a
//! board's, an epic's, a search's — and its counts: `IssueFilter` and GitLab's filters, the SQL
//! they share (`issue_filter!`, with `visible_issue!`, the confidential rule, which the search
//! of comments reuses), and the text condition of each engine.
//!
//! Which confidential issues a listing shows is decided by core and passed in: those of the
//! projects in `confidential_projects` (where the viewer is Reporter or above), and everywhere
//! those the viewer wrote or is assigned to.

use gantry_types::{EpicId, IssueState, LabelId, MilestoneId, ProjectId, UserId};

use super::id_list;
use super::issues::{IssueRow, map_issue, select_issue};
use crate::manage::SortDirection;
use crate::row::{int, parsed};
use crate::{Conn, DbResult, Page};

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
