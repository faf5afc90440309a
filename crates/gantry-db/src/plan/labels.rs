//! The `labels` table (a project's or a group's; names unique within their owner ignoring
//! case) and `label_links`, which issues and epics carry which label. A project uses its own labels and
//! those of every group above it; a group those of itself and its ancestors. Also a project's
//! label priorities (`label_priorities`), people's subscriptions to labels
//! (`label_subscriptions`) and the promotion of a project label to its group.

use gantry_types::{EpicId, IssueId, LabelId, NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::row::{int, opt_int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// Whose a label is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOwner {
    Project(ProjectId),
    Group(NamespaceId),
}

/// A stored label.
#[derive(Debug, Clone)]
pub struct LabelRow {
    pub id: LabelId,
    pub owner: LabelOwner,
    pub title: String,
    /// `#rrggbb`.
    pub color: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_label(row: &AnyRow) -> DbResult<LabelRow> {
    let owner = match (opt_int(row, "project_id")?, opt_int(row, "namespace_id")?) {
        (Some(project), _) => LabelOwner::Project(ProjectId(project)),
        (None, Some(group)) => LabelOwner::Group(NamespaceId(group)),
        (None, None) => return Err(DbError::Corrupt { column: "labels.owner", value: String::new() }),
    };
    Ok(LabelRow {
        id: LabelId(int(row, "id")?),
        owner,
        title: text(row, "title")?,
        color: text(row, "color")?,
        description: text(row, "description")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! label_columns {
    () => {
        "l.id, l.project_id, l.namespace_id, l.title, l.color, l.description, l.created_at, l.updated_at"
    };
}

// The labels a project (`$1`) may use: its own and its groups'.
macro_rules! project_labels {
    () => {
        concat!(
            "WITH RECURSIVE chain(id) AS ( \
                 SELECT namespace_id FROM projects WHERE id = $1 \
                 UNION SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL) \
             SELECT ",
            label_columns!(),
            " FROM labels l WHERE (l.project_id = $1 OR l.namespace_id IN (SELECT id FROM chain))"
        )
    };
}

// The labels of a group (`$1`) and, when `$2` is 1, of its ancestors.
macro_rules! group_labels {
    () => {
        concat!(
            "WITH RECURSIVE chain(id) AS ( \
                 SELECT CAST($1 AS BIGINT) \
                 UNION SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id \
                 WHERE n.parent_id IS NOT NULL AND CAST($2 AS BIGINT) = 1) \
             SELECT ",
            label_columns!(),
            " FROM labels l WHERE l.namespace_id IN (SELECT id FROM chain)"
        )
    };
}

/// The labels a project may use (its own and its groups'), by name (a project's label before
/// a group's of the same name).
pub async fn list_project_labels(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<LabelRow>> {
    let rows = sqlx::query(concat!(project_labels!(), " ORDER BY lower(l.title), l.project_id IS NULL, l.id"))
        .bind(project.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_label).collect()
}

/// A label the project may use, by id.
pub async fn find_project_label(conn: &mut Conn, project: ProjectId, id: LabelId) -> DbResult<Option<LabelRow>> {
    sqlx::query(concat!(project_labels!(), " AND l.id = $2"))
        .bind(project.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_label)
        .transpose()
}

/// The labels of a group, and of its ancestors with `with_ancestors`, by name.
pub async fn list_group_labels(conn: &mut Conn, group: NamespaceId, with_ancestors: bool) -> DbResult<Vec<LabelRow>> {
    let rows = sqlx::query(concat!(group_labels!(), " ORDER BY lower(l.title), l.id"))
        .bind(group.0)
        .bind(i64::from(with_ancestors))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_label).collect()
}

/// One label of exactly this owner, by id.
pub async fn find_label(conn: &mut Conn, owner: LabelOwner, id: LabelId) -> DbResult<Option<LabelRow>> {
    let (project, group) = owner_ids(owner);
    sqlx::query(concat!(
        "SELECT ",
        label_columns!(),
        " FROM labels l WHERE l.id = $1 AND (l.project_id = $2 OR l.namespace_id = $3)"
    ))
    .bind(id.0)
    .bind(project)
    .bind(group)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(map_label)
    .transpose()
}

/// One label of exactly this owner, by name ignoring case.
pub async fn find_label_by_title(conn: &mut Conn, owner: LabelOwner, title: &str) -> DbResult<Option<LabelRow>> {
    let (project, group) = owner_ids(owner);
    sqlx::query(concat!(
        "SELECT ",
        label_columns!(),
        " FROM labels l WHERE lower(l.title) = lower($1) AND (l.project_id = $2 OR l.namespace_id = $3)"
    ))
    .bind(title)
    .bind(project)
    .bind(group)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(map_label)
    .transpose()
}

fn owner_ids(owner: LabelOwner) -> (Option<i64>, Option<i64>) {
    match owner {
        LabelOwner::Project(id) => (Some(id.0), None),
        LabelOwner::Group(id) => (None, Some(id.0)),
    }
}

/// A label's columns (validated by core).
#[derive(Debug, Clone)]
pub struct LabelFields<'a> {
    pub title: &'a str,
    pub color: &'a str,
    pub description: &'a str,
}

/// Stores a label; a name its owner already has (ignoring case) is [`DbError::Conflict`].
pub async fn insert_label(conn: &mut Conn, owner: LabelOwner, fields: &LabelFields<'_>) -> DbResult<LabelId> {
    let (project, group) = owner_ids(owner);
    let row = sqlx::query(
        "INSERT INTO labels (project_id, namespace_id, title, color, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(project)
    .bind(group)
    .bind(fields.title)
    .bind(fields.color)
    .bind(fields.description)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(LabelId(int(&row, "id")?))
}

/// Writes a label's columns; a name taken by another label of the owner is a conflict.
pub async fn update_label(conn: &mut Conn, id: LabelId, fields: &LabelFields<'_>) -> DbResult<()> {
    sqlx::query("UPDATE labels SET title = $1, color = $2, description = $3, updated_at = $4 WHERE id = $5")
        .bind(fields.title)
        .bind(fields.color)
        .bind(fields.description)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Deletes a label; issues stop carrying it.
pub async fn delete_label(conn: &mut Conn, id: LabelId) -> DbResult<()> {
    sqlx::query("DELETE FROM labels WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Puts a label on an issue; false when it carried it already.
pub async fn add_issue_label(conn: &mut Conn, issue: IssueId, label: LabelId) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO label_links (label_id, issue_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(label.0)
    .bind(issue.0)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Takes a label off an issue; false when it did not carry it.
pub async fn remove_issue_label(conn: &mut Conn, issue: IssueId, label: LabelId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM label_links WHERE issue_id = $1 AND label_id = $2")
        .bind(issue.0)
        .bind(label.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The labels these issues carry, as `(issue, label)` pairs by label name.
pub async fn labels_of(conn: &mut Conn, issues: &[IssueId]) -> DbResult<Vec<(IssueId, LabelRow)>> {
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! labels_sql {
        ($engine:tt) => {
            concat!(
                "SELECT ll.issue_id, ",
                label_columns!(),
                " FROM label_links ll JOIN labels l ON l.id = ll.label_id WHERE ll.issue_id IN ",
                id_set!($engine, "$1"),
                " ORDER BY lower(l.title), l.id"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), labels_sql))
        .bind(id_list(issues.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((IssueId(int(row, "issue_id")?), map_label(row)?))).collect()
}

/// Puts a label on an epic; false when it carried it already.
pub async fn add_epic_label(conn: &mut Conn, epic: EpicId, label: LabelId) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO label_links (label_id, epic_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(label.0)
    .bind(epic.0)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Takes a label off an epic; false when it did not carry it.
pub async fn remove_epic_label(conn: &mut Conn, epic: EpicId, label: LabelId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM label_links WHERE epic_id = $1 AND label_id = $2")
        .bind(epic.0)
        .bind(label.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The labels these epics carry, as `(epic, label)` pairs by label name.
pub async fn labels_of_epics(conn: &mut Conn, epics: &[EpicId]) -> DbResult<Vec<(EpicId, LabelRow)>> {
    if epics.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! labels_sql {
        ($engine:tt) => {
            concat!(
                "SELECT ll.epic_id, ",
                label_columns!(),
                " FROM label_links ll JOIN labels l ON l.id = ll.label_id WHERE ll.epic_id IN ",
                id_set!($engine, "$1"),
                " ORDER BY lower(l.title), l.id"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), labels_sql))
        .bind(id_list(epics.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((EpicId(int(row, "epic_id")?), map_label(row)?))).collect()
}

/// A project's label priorities, as `(label, priority)`, first first.
pub async fn label_priorities(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<(LabelId, i64)>> {
    let rows = sqlx::query(
        "SELECT label_id, priority FROM label_priorities WHERE project_id = $1 ORDER BY priority, label_id",
    )
    .bind(project.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((LabelId(int(row, "label_id")?), int(row, "priority")?))).collect()
}

/// Sets a label's priority in a project (`None` takes it away).
pub async fn set_label_priority(
    conn: &mut Conn,
    project: ProjectId,
    label: LabelId,
    priority: Option<i64>,
) -> DbResult<()> {
    sqlx::query("DELETE FROM label_priorities WHERE project_id = $1 AND label_id = $2")
        .bind(project.0)
        .bind(label.0)
        .execute(&mut *conn)
        .await?;
    if let Some(priority) = priority {
        sqlx::query("INSERT INTO label_priorities (project_id, label_id, priority) VALUES ($1, $2, $3)")
            .bind(project.0)
            .bind(label.0)
            .bind(priority)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The labels a user subscribed to as they apply in a project (subscribed there or
/// everywhere), or, with no project, everywhere.
pub async fn subscribed_labels(conn: &mut Conn, user: UserId, project: Option<ProjectId>) -> DbResult<Vec<LabelId>> {
    let rows = sqlx::query(
        "SELECT DISTINCT label_id FROM label_subscriptions \
         WHERE user_id = $1 AND (project_id IS NULL OR project_id = $2) ORDER BY label_id",
    )
    .bind(user.0)
    .bind(project.map(|p| p.0))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(LabelId(int(row, "label_id")?))).collect()
}

/// Subscribes a user to a label in one project (or everywhere), or takes away their
/// subscriptions to it that reach there: in a project, that project's and the one made
/// everywhere; everywhere, every one of theirs. Whether anything changed (subscribing where a
/// subscription already reaches changes nothing).
pub async fn set_label_subscription(
    conn: &mut Conn,
    label: LabelId,
    user: UserId,
    project: Option<ProjectId>,
    subscribed: bool,
) -> DbResult<bool> {
    let done = if subscribed {
        if subscribed_labels(conn, user, project).await?.contains(&label) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO label_subscriptions (label_id, user_id, project_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(label.0)
        .bind(user.0)
        .bind(project.map(|p| p.0))
        .bind(now_millis())
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "DELETE FROM label_subscriptions WHERE label_id = $1 AND user_id = $2 \
             AND (project_id IS NULL OR project_id = $3 OR CAST($3 AS BIGINT) IS NULL)",
        )
        .bind(label.0)
        .bind(user.0)
        .bind(project.map(|p| p.0))
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() > 0)
}

/// Who subscribed to any of these labels in a project's issues (there or everywhere), at most
/// `limit`, by id.
pub async fn label_subscribers(
    conn: &mut Conn,
    project: ProjectId,
    labels: &[LabelId],
    limit: i64,
) -> DbResult<Vec<UserId>> {
    if labels.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! subscribers_sql {
        ($engine:tt) => {
            concat!(
                "SELECT DISTINCT user_id FROM label_subscriptions WHERE label_id IN ",
                id_set!($engine, "$1"),
                " AND (project_id IS NULL OR project_id = $2) ORDER BY user_id LIMIT $3"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), subscribers_sql))
        .bind(id_list(labels.iter().map(|id| id.0)))
        .bind(project.0)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok(UserId(int(row, "user_id")?))).collect()
}

/// Makes a project label its group's (GitLab's promotion): the group's label of the same name
/// when it has one, else the label itself becomes the group's (keeping its id); then every
/// project label of that name in `projects` (the group's, subgroups' included) is merged into
/// it — the issues carrying it, board lists, priorities and subscriptions move over, the
/// history of label events follows — and deleted. Returns the group label's id. Run it in a
/// transaction.
pub async fn promote_label(
    conn: &mut Conn,
    label: &LabelRow,
    group: NamespaceId,
    projects: &[ProjectId],
) -> DbResult<LabelId> {
    let target = match find_label_by_title(conn, LabelOwner::Group(group), &label.title).await? {
        Some(existing) => existing.id,
        None => {
            sqlx::query("UPDATE labels SET project_id = NULL, namespace_id = $1, updated_at = $2 WHERE id = $3")
                .bind(group.0)
                .bind(now_millis())
                .bind(label.id.0)
                .execute(&mut *conn)
                .await
                .map_err(DbError::classify)?;
            label.id
        }
    };
    macro_rules! namesakes_sql {
        ($engine:tt) => {
            concat!(
                "SELECT id FROM labels WHERE project_id IN ",
                id_set!($engine, "$1"),
                " AND lower(title) = lower($2) AND id <> $3 ORDER BY id"
            )
        };
    }
    let namesakes = sqlx::query(by_engine!(backend_of(conn), namesakes_sql))
        .bind(id_list(projects.iter().map(|id| id.0)))
        .bind(&label.title)
        .bind(target.0)
        .fetch_all(&mut *conn)
        .await?;
    let moves = [
        "UPDATE label_links SET label_id = $1 WHERE label_id = $2 AND issue_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM label_links o WHERE o.label_id = $1 AND o.issue_id = label_links.issue_id)",
        "UPDATE board_lists SET label_id = $1 WHERE label_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM board_lists o WHERE o.label_id = $1 AND o.board_id = board_lists.board_id)",
        "UPDATE label_priorities SET label_id = $1 WHERE label_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM label_priorities o WHERE o.label_id = $1 \
         AND o.project_id = label_priorities.project_id)",
        "UPDATE label_subscriptions SET label_id = $1 WHERE label_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM label_subscriptions o WHERE o.label_id = $1 \
         AND o.user_id = label_subscriptions.user_id \
         AND COALESCE(o.project_id, 0) = COALESCE(label_subscriptions.project_id, 0))",
        "UPDATE resource_events SET label_id = $1 WHERE label_id = $2",
        "DELETE FROM labels WHERE id = $2",
    ];
    for row in &namesakes {
        let merged = int(row, "id")?;
        for sql in moves {
            sqlx::query(sql).bind(target.0).bind(merged).execute(&mut *conn).await?;
        }
    }
    Ok(target)
}
