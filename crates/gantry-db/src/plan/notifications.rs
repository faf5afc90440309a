//! How much mail each user wants: notification levels (`notification_settings`: one for all of
//! a user's mail, one per group, one per project), a user's own choice on one item
//! (`subscriptions`), and the mails sent about items (`sent_notifications`, whose random keys
//! are the unsubscribe links).

use gantry_types::{NamespaceId, ProjectId, UserId};

use super::notes::Noteable;
use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::row::{flag, int, text};
use crate::{Conn, DbResult, now_millis};

/// What a notification level applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelSource {
    /// All of the user's mail.
    Global,
    /// The projects of a group and its subgroups.
    Group(NamespaceId),
    Project(ProjectId),
}

impl LevelSource {
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            LevelSource::Global => (None, None),
            LevelSource::Group(id) => (None, Some(id.0)),
            LevelSource::Project(id) => (Some(id.0), None),
        }
    }
}

/// The level a user set for `source` (`None`: never set).
pub async fn level(conn: &mut Conn, user: UserId, source: LevelSource) -> DbResult<Option<String>> {
    let (project, namespace) = source.columns();
    let row = sqlx::query(
        "SELECT level FROM notification_settings WHERE user_id = $1 \
         AND ((CAST($2 AS BIGINT) IS NULL AND project_id IS NULL) OR project_id = $2) \
         AND ((CAST($3 AS BIGINT) IS NULL AND namespace_id IS NULL) OR namespace_id = $3)",
    )
    .bind(user.0)
    .bind(project)
    .bind(namespace)
    .fetch_optional(conn)
    .await?;
    row.map(|row| text(&row, "level")).transpose()
}

/// Sets a user's level for `source`.
pub async fn set_level(conn: &mut Conn, user: UserId, source: LevelSource, level: &str) -> DbResult<()> {
    let (project, namespace) = source.columns();
    sqlx::query(
        "DELETE FROM notification_settings WHERE user_id = $1 \
         AND ((CAST($2 AS BIGINT) IS NULL AND project_id IS NULL) OR project_id = $2) \
         AND ((CAST($3 AS BIGINT) IS NULL AND namespace_id IS NULL) OR namespace_id = $3)",
    )
    .bind(user.0)
    .bind(project)
    .bind(namespace)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO notification_settings (user_id, project_id, namespace_id, level) VALUES ($1, $2, $3, $4)")
        .bind(user.0)
        .bind(project)
        .bind(namespace)
        .bind(level)
        .execute(conn)
        .await?;
    Ok(())
}

/// The users who chose `watch` for the project, for one of these groups (its namespace and
/// their ancestors), or for all their mail: those whose mail about the project may be every
/// event (the caller works out each one's level in force).
pub async fn possible_watchers(
    conn: &mut Conn,
    project: ProjectId,
    groups: &[NamespaceId],
    limit: i64,
) -> DbResult<Vec<UserId>> {
    macro_rules! watchers_sql {
        ($engine:tt) => {
            concat!(
                "SELECT DISTINCT user_id FROM notification_settings WHERE level = 'watch' AND (project_id = $1 \
                 OR namespace_id IN ",
                id_set!($engine, "$2"),
                " OR (project_id IS NULL AND namespace_id IS NULL)) ORDER BY user_id LIMIT $3"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), watchers_sql))
        .bind(project.0)
        .bind(id_list(groups.iter().map(|g| g.0)))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok(UserId(int(row, "user_id")?))).collect()
}

/// A user's own choice on an item: `Some(true)` subscribed, `Some(false)` unsubscribed.
pub async fn subscription(conn: &mut Conn, user: UserId, target: Noteable) -> DbResult<Option<bool>> {
    let row =
        sqlx::query("SELECT subscribed FROM subscriptions WHERE target_type = $1 AND target_id = $2 AND user_id = $3")
            .bind(target.kind)
            .bind(target.id)
            .bind(user.0)
            .fetch_optional(conn)
            .await?;
    row.map(|row| flag(&row, "subscribed")).transpose()
}

/// Everyone who made a choice on an item, with it.
pub async fn subscriptions(conn: &mut Conn, target: Noteable) -> DbResult<Vec<(UserId, bool)>> {
    let rows = sqlx::query("SELECT user_id, subscribed FROM subscriptions WHERE target_type = $1 AND target_id = $2")
        .bind(target.kind)
        .bind(target.id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((UserId(int(row, "user_id")?), flag(row, "subscribed")?))).collect()
}

/// Records a user's choice on an item.
pub async fn set_subscription(
    conn: &mut Conn,
    user: UserId,
    project: ProjectId,
    target: Noteable,
    subscribed: bool,
) -> DbResult<()> {
    sqlx::query("DELETE FROM subscriptions WHERE target_type = $1 AND target_id = $2 AND user_id = $3")
        .bind(target.kind)
        .bind(target.id)
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO subscriptions (user_id, project_id, target_type, target_id, subscribed) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user.0)
    .bind(project.0)
    .bind(target.kind)
    .bind(target.id)
    .bind(i64::from(subscribed))
    .execute(conn)
    .await?;
    Ok(())
}

/// A mail sent to a user about an item.
#[derive(Debug, Clone)]
pub struct SentNotification {
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub target_type: String,
    pub target_id: i64,
}

/// Records a mail about to be sent under its random `key`.
pub async fn record_sent(
    conn: &mut Conn,
    key: &str,
    user: UserId,
    project: ProjectId,
    target: Noteable,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO sent_notifications (reply_key, user_id, project_id, target_type, target_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key)
    .bind(user.0)
    .bind(project.0)
    .bind(target.kind)
    .bind(target.id)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The mail a key names.
pub async fn find_sent(conn: &mut Conn, key: &str) -> DbResult<Option<SentNotification>> {
    let row =
        sqlx::query("SELECT user_id, project_id, target_type, target_id FROM sent_notifications WHERE reply_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?;
    row.map(|row| {
        Ok(SentNotification {
            user_id: UserId(int(&row, "user_id")?),
            project_id: ProjectId(int(&row, "project_id")?),
            target_type: text(&row, "target_type")?,
            target_id: int(&row, "target_id")?,
        })
    })
    .transpose()
}
