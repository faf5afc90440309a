//! The one filtered listing behind every issue list — a project's, a group's, a user's, a
//! board's, an epic's, a search's — and its counts: `IssueFilter` and GitLab's filters, the SQL
//! they share (`issue_filter!`, with `visible_issue!`, the confidential rule, which the search
//! of comments reuses), and the text condition of each engine.
//!
//! Which confidential issues a listing shows is decided by core and passed in: those of the
//! projects in `confidential_projects` (where the viewer is Reporter or above), and everywhere
//! those the viewer wrote or is assigned to.

use gantry_types::{EpicId, IssueState, IterationId, LabelId, MilestoneId, ProjectId, UserId};

use super::issues::{IssueRow, issue_columns, map_issue};
use crate::engine::{id_list, id_set};
use crate::manage::SortDirection;
use crate::row::int;
use crate::{Conn, DbResult, Page};

/// Which issues a listing wants: every filter of GitLab's issue lists. Core fills in the scope
/// and the confidential rule; the rest comes from the request.
#[derive(Debug, Clone)]
pub struct IssueFilter {
    /// Whose issues: one project's or those of several.
    pub projects: IssueProjects,
    /// The projects whose confidential issues the viewer sees.
    pub confidential_projects: Vec<ProjectId>,
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
    pub iteration: IterationFilter,
    /// Only issues carrying this label (a board's label list).
    pub with_label: Option<LabelId>,
    /// Only issues carrying none of these labels (a board's open list).
    pub without_labels: Vec<LabelId>,
    /// Only issues in none of these milestones.
    pub without_milestones: Vec<MilestoneId>,
    /// Only issues assigned to none of these people.
    pub without_assignees: Vec<UserId>,
    /// Only issues in none of these iterations.
    pub without_iterations: Vec<IterationId>,
    /// Only the issues of this epic.
    pub epic: Option<EpicId>,
    pub order_by: IssueOrder,
    pub sort: SortDirection,
    /// Counts stop past this many ([`COUNT_LIMIT`], or less where a page shows less: a board
    /// column's count).
    pub count_limit: i64,
}

/// Whose issues a listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueProjects {
    /// One project's (its index serves the listing).
    One(ProjectId),
    /// Those of these projects (a group's, a user's, a search's).
    Many(Vec<ProjectId>),
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

/// Which iteration an issue must be in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IterationFilter {
    #[default]
    Ignore,
    /// In no iteration (GitLab's `None`).
    Nobody,
    /// In some iteration (`Any`).
    Anybody,
    /// In this one.
    Id(IterationId),
}

impl IterationFilter {
    fn code(self) -> i64 {
        match self {
            IterationFilter::Ignore => -1,
            IterationFilter::Nobody => 0,
            IterationFilter::Anybody => -2,
            IterationFilter::Id(id) => id.0,
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
    /// The project's most prioritised label an issue carries first (issues with no
    /// prioritised label last), then newest first; always in that direction, as GitLab's.
    LabelPriority,
    /// Lightest first (ascending) or heaviest first; issues without a weight last.
    Weight,
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
            "label_priority" => IssueOrder::LabelPriority,
            "weight" => IssueOrder::Weight,
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
            IssueOrder::LabelPriority => "label_priority",
            IssueOrder::Weight => "weight",
        }
    }
}

// Which issues `i` a viewer may see, `$1`…`$5`: of one project (`one`: `$1`) or of the projects
// in a list (`many`: `$2`), and confidential ones only where the viewer may see them (or their
// own and assigned ones). The issue filter and the search of comments share it.
macro_rules! visible_issue {
    ($engine:tt, $scope:tt) => {
        concat!(issue_scope!($engine, $scope), " AND ", seen_confidential!($engine))
    };
}

// The confidential rule on the issue `i`, `$3`…`$5`: not confidential, or the viewer sees the
// confidential issues of its project (`$3`) or all of them (`$4`), or wrote it or is assigned
// to it (`$5`). The activity listing shares it.
macro_rules! seen_confidential {
    ($engine:tt) => {
        concat!(
            "(i.confidential = 0 OR CAST($4 AS BIGINT) = 1 OR i.project_id IN ",
            id_set!($engine, "$3"),
            " OR i.author_id = $5 \
                OR EXISTS (SELECT 1 FROM issue_assignees va WHERE va.issue_id = i.id AND va.user_id = $5))"
        )
    };
}
pub(crate) use {seen_confidential, visible_issue};

// The scope: one project (its index serves the listing) or a list of them.
macro_rules! issue_scope {
    ($engine:tt, one) => {
        "i.project_id = $1 AND CAST($2 AS TEXT) IS NULL"
    };
    ($engine:tt, many) => {
        concat!("CAST($1 AS BIGINT) IS NULL AND i.project_id IN ", id_set!($engine, "$2"))
    };
}

// Where the issues `i` are read from (`Driver`): on SQLite a search reads the FTS5 table first,
// so its matches stream newest first (`newest_first!`) and a page stops reading at its end,
// where `i.id IN (matches)` read every match and sorted them all; a board's label list reads
// the label's links first, so a label on few open issues is not looked for among all of them.
macro_rules! issues_from {
    (sqlite, words) => {
        " FROM issues_search CROSS JOIN issues i ON i.id = issues_search.rowid"
    };
    (sqlite, label) => {
        " FROM label_links wl CROSS JOIN issues i ON i.id = wl.issue_id"
    };
    (postgres, label) => {
        " FROM label_links wl JOIN issues i ON i.id = wl.issue_id"
    };
    ($engine:tt, $driver:tt) => {
        " FROM issues i"
    };
}

// Newest first: by creation, or on SQLite with words in the order of the FTS5 table, by id
// (which is creation order but for issues imported with their dates).
macro_rules! newest_first {
    (sqlite, words) => {
        " ORDER BY issues_search.rowid DESC"
    };
    ($engine:tt, $driver:tt) => {
        " ORDER BY i.created_at DESC, i.id DESC"
    };
}

// The text condition on `$12` for each engine (see `search.rs`), and its absence (`$12` NULL);
// read from a label's links, the link's label.
macro_rules! issue_text {
    (sqlite, words) => {
        " AND issues_search MATCH $12"
    };
    (postgres, words) => {
        " AND i.search_vector @@ to_tsquery('simple', $12)"
    };
    ($engine:tt, plain) => {
        " AND CAST($12 AS TEXT) IS NULL"
    };
    ($engine:tt, label) => {
        " AND CAST($12 AS TEXT) IS NULL AND wl.label_id = $22"
    };
}

// The filter, `$1`…`$28`, shared by the listing and its counts (and the search of comments):
// for an engine, a scope (`one`, `many`) and a `Driver` (`plain`, `words`, `label`).
macro_rules! issue_filter {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            " WHERE ",
            visible_issue!($engine, $scope),
            issue_text!($engine, $driver),
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
           AND (CAST($14 AS TEXT) IS NULL OR i.iid IN ",
            id_set!($engine, "$14"),
            ") \
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
                AND xl.label_id IN ",
            id_set!($engine, "$23"),
            ")) \
           AND (CAST($24 AS TEXT) IS NULL OR i.milestone_id IS NULL OR i.milestone_id NOT IN ",
            id_set!($engine, "$24"),
            ") \
           AND (CAST($25 AS TEXT) IS NULL OR NOT EXISTS (SELECT 1 FROM issue_assignees xa WHERE xa.issue_id = i.id \
                AND xa.user_id IN ",
            id_set!($engine, "$25"),
            ")) \
           AND (CAST($26 AS BIGINT) IS NULL \
                OR EXISTS (SELECT 1 FROM epic_issues fe WHERE fe.issue_id = i.id AND fe.epic_id = $26)) \
           AND (CAST($27 AS BIGINT) = -1 \
                OR (CAST($27 AS BIGINT) = 0 AND i.iteration_id IS NULL) \
                OR (CAST($27 AS BIGINT) = -2 AND i.iteration_id IS NOT NULL) \
                OR i.iteration_id = $27) \
           AND (CAST($28 AS TEXT) IS NULL OR i.iteration_id IS NULL OR i.iteration_id NOT IN ",
            id_set!($engine, "$28"),
            ")"
        )
    };
}

pub(crate) use {issue_filter, issue_scope, issue_text};

// The listing newest first, the order most lists ask for, which the index on `(project_id,
// created_at, id)` serves by reading one page of rows; `$29`, `$30` the limit and offset.
macro_rules! newest_issues_sql {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            issue_columns!(),
            issues_from!($engine, $driver),
            issue_filter!($engine, $scope, $driver),
            newest_first!($engine, $driver),
            " LIMIT $29 OFFSET $30"
        )
    };
}

// The listing in the order of boards (lowest `relative_position` first, unplaced issues last,
// oldest first among equals), which the index on `(project_id, relative_position, id)` serves;
// `$29`, `$30` the limit and offset.
macro_rules! placed_issues_sql {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            issue_columns!(),
            issues_from!($engine, $driver),
            issue_filter!($engine, $scope, $driver),
            " ORDER BY i.relative_position ASC NULLS LAST, i.id ASC LIMIT $29 OFFSET $30"
        )
    };
}

// The listing in any other order, `$29`…`$32` after the filter: order, direction, limit, offset.
macro_rules! ordered_issues_sql {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            issue_columns!(),
            issues_from!($engine, $driver),
            issue_filter!($engine, $scope, $driver),
            " ORDER BY CASE WHEN $29 = 'due_date' AND i.due_date IS NULL THEN 1 ELSE 0 END ASC, \
               CASE WHEN $29 = 'relative_position' AND i.relative_position IS NULL THEN 1 ELSE 0 END ASC, \
               CASE WHEN $29 = 'weight' AND i.weight IS NULL THEN 1 ELSE 0 END ASC, \
               CASE WHEN $29 = 'label_priority' THEN COALESCE((SELECT MIN(lp.priority) FROM label_links pl \
                 JOIN label_priorities lp ON lp.label_id = pl.label_id AND lp.project_id = i.project_id \
                 WHERE pl.issue_id = i.id), 9223372036854775807) END ASC, \
               CASE WHEN $30 = 'asc' AND $29 = 'weight' THEN i.weight END ASC, \
               CASE WHEN $30 = 'desc' AND $29 = 'weight' THEN i.weight END DESC, \
               CASE WHEN $30 = 'asc' AND $29 = 'relative_position' THEN i.relative_position END ASC, \
               CASE WHEN $30 = 'desc' AND $29 = 'relative_position' THEN i.relative_position END DESC, \
               CASE WHEN $30 = 'asc' THEN (CASE $29 WHEN 'title' THEN lower(i.title) WHEN 'due_date' THEN i.due_date ELSE NULL END) END ASC, \
               CASE WHEN $30 = 'desc' THEN (CASE $29 WHEN 'title' THEN lower(i.title) WHEN 'due_date' THEN i.due_date ELSE NULL END) END DESC, \
               CASE WHEN $30 = 'asc' THEN (CASE $29 WHEN 'updated_at' THEN i.updated_at ELSE i.created_at END) END ASC, \
               CASE WHEN $30 = 'desc' THEN (CASE $29 WHEN 'updated_at' THEN i.updated_at ELSE i.created_at END) END DESC, \
               CASE WHEN $30 = 'asc' THEN i.id END ASC, i.id DESC LIMIT $31 OFFSET $32"
        )
    };
}

// How many issues the filter selects, counted up to `$29` (the filter's `count_limit + 1`).
macro_rules! count_issues_sql {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one",
            issues_from!($engine, $driver),
            issue_filter!($engine, $scope, $driver),
            " LIMIT $29) counted"
        )
    };
}

// The form of `$sql` for the connection's engine, the filter's scope and the `Driver`.
macro_rules! issue_sql {
    ($conn:expr, $filter:expr, $driver:expr, $sql:ident) => {{
        use crate::plan::issue_filter::Driver;
        let one = matches!($filter.projects, crate::plan::issues::IssueProjects::One(_));
        match (crate::engine::backend_of($conn), one, $driver) {
            (crate::Backend::Sqlite, true, Driver::Plain) => $sql!(sqlite, one, plain),
            (crate::Backend::Sqlite, true, Driver::Words) => $sql!(sqlite, one, words),
            (crate::Backend::Sqlite, true, Driver::Label) => $sql!(sqlite, one, label),
            (crate::Backend::Sqlite, false, Driver::Plain) => $sql!(sqlite, many, plain),
            (crate::Backend::Sqlite, false, Driver::Words) => $sql!(sqlite, many, words),
            (crate::Backend::Sqlite, false, Driver::Label) => $sql!(sqlite, many, label),
            (crate::Backend::Postgres, true, Driver::Plain) => $sql!(postgres, one, plain),
            (crate::Backend::Postgres, true, Driver::Words) => $sql!(postgres, one, words),
            (crate::Backend::Postgres, true, Driver::Label) => $sql!(postgres, one, label),
            (crate::Backend::Postgres, false, Driver::Plain) => $sql!(postgres, many, plain),
            (crate::Backend::Postgres, false, Driver::Words) => $sql!(postgres, many, words),
            (crate::Backend::Postgres, false, Driver::Label) => $sql!(postgres, many, label),
        }
    }};
}
pub(crate) use issue_sql;

/// What a listing's rows are read from first: the issues, the search's matches, or a board
/// label list's links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    Plain,
    Words,
    Label,
}

impl Driver {
    pub(crate) fn of(filter: &IssueFilter) -> Driver {
        if filter.search.is_some() {
            Driver::Words
        } else if filter.with_label.is_some() {
            Driver::Label
        } else {
            Driver::Plain
        }
    }
}

/// One page of the issues a filter selects, and how many it selects in all (counted up to the
/// filter's `count_limit + 1`).
pub async fn list_issues(conn: &mut Conn, filter: &IssueFilter, page: Page) -> DbResult<(Vec<IssueRow>, i64)> {
    let state = filter.state.map(IssueState::as_str);
    let backend = crate::engine::backend_of(conn);
    // Counted first: a listing past its end (often an empty board column, whose search for
    // a first row reads the whole project) then asks nothing more.
    let total = count(conn, filter, state).await?;
    if total <= filter.count_limit && page.offset >= total {
        return Ok((Vec::new(), total));
    }
    // A label's links drive the count; they drive the page only when there are few (their
    // rows are sorted), else the board order's index finds the label's issues soon enough.
    let driver = match Driver::of(filter) {
        Driver::Label if total > filter.count_limit => Driver::Plain,
        driver => driver,
    };
    let rows = match (filter.order_by, filter.sort) {
        (IssueOrder::CreatedAt, SortDirection::Desc) => {
            bind_filter(sqlx::query(issue_sql!(conn, filter, driver, newest_issues_sql)), filter, state, backend)
        }
        (IssueOrder::RelativePosition, SortDirection::Asc) => {
            bind_filter(sqlx::query(issue_sql!(conn, filter, driver, placed_issues_sql)), filter, state, backend)
        }
        _ => bind_filter(sqlx::query(issue_sql!(conn, filter, driver, ordered_issues_sql)), filter, state, backend)
            .bind(filter.order_by.as_str())
            .bind(filter.sort.as_str()),
    }
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows.iter().map(map_issue).collect::<DbResult<_>>()?, total))
}

/// How many issues the filter selects in each state (its own `state` ignored): open, closed;
/// each counted up to the filter's `count_limit + 1`.
pub async fn count_issues_by_state(conn: &mut Conn, filter: &IssueFilter) -> DbResult<(i64, i64)> {
    let opened = count(conn, filter, Some(IssueState::Opened.as_str())).await?;
    let closed = count(conn, filter, Some(IssueState::Closed.as_str())).await?;
    Ok((opened, closed))
}

async fn count(conn: &mut Conn, filter: &IssueFilter, state: Option<&'static str>) -> DbResult<i64> {
    let backend = crate::engine::backend_of(conn);
    let row = bind_filter(
        sqlx::query(issue_sql!(conn, filter, Driver::of(filter), count_issues_sql)),
        filter,
        state,
        backend,
    )
    .bind(filter.count_limit.saturating_add(1))
    .fetch_one(conn)
    .await?;
    int(&row, "n")
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
    let (project, projects) = match &filter.projects {
        IssueProjects::One(project) => (Some(project.0), None),
        IssueProjects::Many(projects) => (None, Some(id_list(projects.iter().map(|p| p.0)))),
    };
    query
        .bind(project)
        .bind(projects)
        .bind(id_list(filter.confidential_projects.iter().map(|p| p.0)))
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
        .bind(filter.iteration.code())
        .bind((!filter.without_iterations.is_empty()).then(|| id_list(filter.without_iterations.iter().map(|id| id.0))))
}
