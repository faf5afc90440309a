//! The `topics` table and `project_topics`, which projects carry which topic. Topic names are
//! unique ignoring case (`lower(name)`, on both backends), and every lookup by name compares so.

use gantry_types::{ProjectId, TopicId};
use sqlx::any::AnyRow;

use super::avatars::{Avatar, map_avatar};
use super::like_pattern;
use crate::row::{int, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A stored topic with the number of projects carrying it.
#[derive(Debug, Clone)]
pub struct TopicRow {
    pub id: TopicId,
    pub name: String,
    pub title: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Projects carrying the topic, whatever their visibility (as GitLab counts them).
    pub total_projects_count: i64,
    pub avatar: Option<Avatar>,
}

macro_rules! select_topic {
    () => {
        "SELECT t.id, t.name, t.title, t.description, t.created_at, t.updated_at, t.avatar_digest, t.avatar_name, \
         (SELECT COUNT(*) FROM project_topics pt WHERE pt.topic_id = t.id) AS total_projects_count \
         FROM topics t"
    };
}

fn map_topic(row: &AnyRow) -> DbResult<TopicRow> {
    Ok(TopicRow {
        id: TopicId(int(row, "id")?),
        name: text(row, "name")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        total_projects_count: int(row, "total_projects_count")?,
        avatar: map_avatar(row, "avatar_digest", "avatar_name")?,
    })
}

/// Filters of the topic list (GitLab's `GET /topics` parameters).
#[derive(Debug, Clone, Default)]
pub struct TopicFilter {
    /// Part of the name, matched ignoring case.
    pub search: Option<String>,
    /// Only topics no project carries.
    pub without_projects: bool,
}

macro_rules! topic_list_filter {
    () => {
        " WHERE (CAST($1 AS TEXT) IS NULL OR lower(t.name) LIKE $1 ESCAPE '\\') \
           AND (CAST($2 AS BIGINT) = 0 OR NOT EXISTS (SELECT 1 FROM project_topics np WHERE np.topic_id = t.id))"
    };
}

/// One page of topics, those carried by the most projects first, and the total count.
pub async fn list_topics(conn: &mut Conn, filter: &TopicFilter, page: Page) -> DbResult<(Vec<TopicRow>, i64)> {
    let search = filter.search.as_deref().map(like_pattern);
    let without_projects = i64::from(filter.without_projects);
    let rows = sqlx::query(concat!(
        select_topic!(),
        topic_list_filter!(),
        " ORDER BY total_projects_count DESC, t.id ASC LIMIT $3 OFFSET $4"
    ))
    .bind(search.clone())
    .bind(without_projects)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(concat!("SELECT COUNT(*) AS n FROM topics t", topic_list_filter!()))
        .bind(search)
        .bind(without_projects)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_topic).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// Finds a topic by id.
pub async fn find_topic(conn: &mut Conn, id: TopicId) -> DbResult<Option<TopicRow>> {
    sqlx::query(concat!(select_topic!(), " WHERE t.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_topic)
        .transpose()
}

/// Finds a topic by name, ignoring case.
pub async fn find_topic_by_name(conn: &mut Conn, name: &str) -> DbResult<Option<TopicRow>> {
    sqlx::query(concat!(select_topic!(), " WHERE lower(t.name) = lower($1)"))
        .bind(name)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_topic)
        .transpose()
}

/// The columns of a topic written on create and update.
#[derive(Debug, Clone)]
pub struct TopicFields<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
}

/// Inserts a topic; a name already taken (ignoring case) is [`DbError::Conflict`].
pub async fn insert_topic(conn: &mut Conn, topic: &TopicFields<'_>) -> DbResult<TopicId> {
    let row = sqlx::query(
        "INSERT INTO topics (name, title, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(topic.name)
    .bind(topic.title)
    .bind(topic.description)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(TopicId(int(&row, "id")?))
}

/// The topic with this name (ignoring case), inserted with the name as its title when there is
/// none yet; safe when another request inserts it at the same time.
pub async fn find_or_insert_topic(conn: &mut Conn, name: &str) -> DbResult<TopicId> {
    sqlx::query(
        "INSERT INTO topics (name, title, description, created_at, updated_at) VALUES ($1, $2, '', $3, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(name)
    .bind(name)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT id FROM topics WHERE lower(name) = lower($1)").bind(name).fetch_one(conn).await?;
    Ok(TopicId(int(&row, "id")?))
}

/// Writes a topic's columns; a name taken by another topic is [`DbError::Conflict`].
pub async fn update_topic(conn: &mut Conn, id: TopicId, topic: &TopicFields<'_>) -> DbResult<()> {
    sqlx::query("UPDATE topics SET name = $1, title = $2, description = $3, updated_at = $4 WHERE id = $5")
        .bind(topic.name)
        .bind(topic.title)
        .bind(topic.description)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Deletes a topic; projects stop carrying it.
pub async fn delete_topic(conn: &mut Conn, id: TopicId) -> DbResult<()> {
    sqlx::query("DELETE FROM topics WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Gives the projects carrying `source` the topic `target` too (those carrying both keep one
/// row); `source` is left for the caller to delete.
pub async fn copy_topic_projects(conn: &mut Conn, source: TopicId, target: TopicId) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO project_topics (project_id, topic_id) \
         SELECT s.project_id, CAST($2 AS BIGINT) FROM project_topics s WHERE s.topic_id = $1 \
           AND NOT EXISTS (SELECT 1 FROM project_topics t WHERE t.project_id = s.project_id AND t.topic_id = $2)",
    )
    .bind(source.0)
    .bind(target.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// The names of a project's topics, sorted ignoring case.
pub async fn project_topic_names(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT t.name FROM project_topics pt JOIN topics t ON t.id = pt.topic_id \
         WHERE pt.project_id = $1 ORDER BY lower(t.name), t.name",
    )
    .bind(project.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| text(row, "name")).collect()
}

/// Takes every topic off a project.
pub async fn clear_project_topics(conn: &mut Conn, project: ProjectId) -> DbResult<()> {
    sqlx::query("DELETE FROM project_topics WHERE project_id = $1").bind(project.0).execute(conn).await?;
    Ok(())
}

/// Gives a project a topic (nothing happens when it already carries it).
pub async fn add_project_topic(conn: &mut Conn, project: ProjectId, topic: TopicId) -> DbResult<()> {
    sqlx::query("INSERT INTO project_topics (project_id, topic_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(project.0)
        .bind(topic.0)
        .execute(conn)
        .await?;
    Ok(())
}
