//! The `resource_events` table: what changed on an issue, as records (GitLab's resource label,
//! milestone, iteration, weight and state events) — a label added or removed, the milestone set or removed,
//! the weight, the state. Written in the change's transaction beside its system note.

use gantry_types::{IssueId, IterationId, LabelId, MilestoneId, UserId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::row::{int, opt_int, opt_text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// What kind of change an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Label,
    Milestone,
    Iteration,
    Weight,
    State,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Label => "label",
            EventKind::Milestone => "milestone",
            EventKind::Iteration => "iteration",
            EventKind::Weight => "weight",
            EventKind::State => "state",
        }
    }
}

/// An event to store; the fields its kind does not use are `None`.
#[derive(Debug, Clone)]
pub struct NewResourceEvent<'a> {
    pub issue_id: IssueId,
    pub user_id: Option<UserId>,
    pub kind: EventKind,
    /// `add` or `remove` (labels and milestones).
    pub action: Option<&'a str>,
    pub label_id: Option<LabelId>,
    pub milestone_id: Option<MilestoneId>,
    pub iteration_id: Option<IterationId>,
    pub weight: Option<i64>,
    /// `closed` or `reopened`.
    pub state: Option<&'a str>,
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct ResourceEventRow {
    pub id: i64,
    pub issue_id: IssueId,
    pub user_id: Option<UserId>,
    pub action: Option<String>,
    pub label_id: Option<LabelId>,
    pub milestone_id: Option<MilestoneId>,
    pub iteration_id: Option<IterationId>,
    pub weight: Option<i64>,
    pub state: Option<String>,
    pub created_at: i64,
}

fn map_event(row: &AnyRow) -> DbResult<ResourceEventRow> {
    Ok(ResourceEventRow {
        id: int(row, "id")?,
        issue_id: IssueId(int(row, "issue_id")?),
        user_id: opt_int(row, "user_id")?.map(UserId),
        action: opt_text(row, "action")?,
        label_id: opt_int(row, "label_id")?.map(LabelId),
        milestone_id: opt_int(row, "milestone_id")?.map(MilestoneId),
        iteration_id: opt_int(row, "iteration_id")?.map(IterationId),
        weight: opt_int(row, "weight")?,
        state: opt_text(row, "state")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! select_event {
    () => {
        "SELECT id, issue_id, user_id, action, label_id, milestone_id, iteration_id, weight, state, created_at \
         FROM resource_events"
    };
}

/// Stores an event.
pub async fn insert_resource_event(conn: &mut Conn, event: &NewResourceEvent<'_>) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO resource_events (issue_id, user_id, kind, action, label_id, milestone_id, iteration_id, weight, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(event.issue_id.0)
    .bind(event.user_id.map(|id| id.0))
    .bind(event.kind.as_str())
    .bind(event.action)
    .bind(event.label_id.map(|id| id.0))
    .bind(event.milestone_id.map(|id| id.0))
    .bind(event.iteration_id.map(|id| id.0))
    .bind(event.weight)
    .bind(event.state)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    int(&row, "id")
}

/// One page of an issue's events of a kind, oldest first, and how many there are.
pub async fn list_resource_events(
    conn: &mut Conn,
    issue: IssueId,
    kind: EventKind,
    page: Page,
) -> DbResult<(Vec<ResourceEventRow>, i64)> {
    let rows =
        sqlx::query(concat!(select_event!(), " WHERE issue_id = $1 AND kind = $2 ORDER BY id LIMIT $3 OFFSET $4"))
            .bind(issue.0)
            .bind(kind.as_str())
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&mut *conn)
            .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM resource_events WHERE issue_id = $1 AND kind = $2")
        .bind(issue.0)
        .bind(kind.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_event).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// One event of an issue of a kind.
pub async fn find_resource_event(
    conn: &mut Conn,
    issue: IssueId,
    kind: EventKind,
    id: i64,
) -> DbResult<Option<ResourceEventRow>> {
    sqlx::query(concat!(select_event!(), " WHERE issue_id = $1 AND kind = $2 AND id = $3"))
        .bind(issue.0)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_event)
        .transpose()
}

/// The events of these issues before `until` (Unix milliseconds) that a timebox's burnup
/// replays — the timebox (milestone or iteration) set or removed, the state, the weight — oldest
/// first.
pub async fn timebox_events(
    conn: &mut Conn,
    issues: &[IssueId],
    timebox: EventKind,
    until: i64,
) -> DbResult<Vec<ResourceEventRow>> {
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! events_sql {
        ($engine:tt) => {
            concat!(
                select_event!(),
                " WHERE issue_id IN ",
                id_set!($engine, "$1"),
                " AND kind IN ($2, 'state', 'weight') AND created_at < $3 ORDER BY created_at, id"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), events_sql))
        .bind(id_list(issues.iter().map(|id| id.0)))
        .bind(timebox.as_str())
        .bind(until)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_event).collect()
}
