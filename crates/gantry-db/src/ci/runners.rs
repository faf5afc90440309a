//! The `ci_runners` table: registered runners, their token digests, tags and last contact.

use gantry_types::{NamespaceId, ProjectId, RunnerId, RunnerType, UserId};
use sqlx::any::AnyRow;

use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbResult, now_millis};

/// A runner as stored.
#[derive(Debug, Clone)]
pub struct RunnerRow {
    pub id: RunnerId,
    pub runner_type: RunnerType,
    pub group_id: Option<NamespaceId>,
    pub project_id: Option<ProjectId>,
    pub description: String,
    pub tags: Vec<String>,
    pub run_untagged: bool,
    pub paused: bool,
    pub max_concurrent: i64,
    pub builtin: bool,
    pub contacted_at: Option<i64>,
    pub version: Option<String>,
    pub executor: Option<String>,
    pub platform: Option<String>,
    pub architecture: Option<String>,
    pub ip_address: Option<String>,
    pub created_at: i64,
}

/// Splits the stored comma-separated tag list.
pub fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// Joins tags for storage: sorted, without duplicates.
pub fn join_tags(tags: &[String]) -> String {
    let mut tags: Vec<&str> = tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    tags.sort_unstable();
    tags.dedup();
    tags.join(",")
}

fn map_runner(row: &AnyRow) -> DbResult<RunnerRow> {
    Ok(RunnerRow {
        id: RunnerId(int(row, "id")?),
        runner_type: parsed(row, "runner_type", RunnerType::parse)?,
        group_id: opt_int(row, "group_id")?.map(NamespaceId),
        project_id: opt_int(row, "project_id")?.map(ProjectId),
        description: text(row, "description")?,
        tags: split_tags(&text(row, "tags")?),
        run_untagged: flag(row, "run_untagged")?,
        paused: flag(row, "paused")?,
        max_concurrent: int(row, "max_concurrent")?,
        builtin: flag(row, "builtin")?,
        contacted_at: opt_int(row, "contacted_at")?,
        version: opt_text(row, "version")?,
        executor: opt_text(row, "executor")?,
        platform: opt_text(row, "platform")?,
        architecture: opt_text(row, "architecture")?,
        ip_address: opt_text(row, "ip_address")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! select_runners {
    ($rest:literal) => {
        concat!(
            "SELECT id, runner_type, group_id, project_id, description, tags, run_untagged, paused, \
             max_concurrent, builtin, contacted_at, version, executor, platform, architecture, ip_address, \
             created_at FROM ci_runners ",
            $rest
        )
    };
}

/// A runner to register.
#[derive(Debug, Clone)]
pub struct NewRunner<'a> {
    pub runner_type: RunnerType,
    pub group_id: Option<NamespaceId>,
    pub project_id: Option<ProjectId>,
    pub description: &'a str,
    pub token_digest: &'a str,
    pub tags: &'a [String],
    pub run_untagged: bool,
    pub paused: bool,
    pub max_concurrent: i64,
    pub builtin: bool,
    pub creator: Option<UserId>,
}

/// Stores a runner and returns its id.
pub async fn insert_runner(conn: &mut Conn, runner: &NewRunner<'_>) -> DbResult<RunnerId> {
    let row = sqlx::query(
        "INSERT INTO ci_runners (runner_type, group_id, project_id, description, token_digest, tags, \
         run_untagged, paused, max_concurrent, builtin, creator_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(runner.runner_type.as_str())
    .bind(runner.group_id.map(|g| g.0))
    .bind(runner.project_id.map(|p| p.0))
    .bind(runner.description)
    .bind(runner.token_digest)
    .bind(join_tags(runner.tags))
    .bind(i64::from(runner.run_untagged))
    .bind(i64::from(runner.paused))
    .bind(runner.max_concurrent)
    .bind(i64::from(runner.builtin))
    .bind(runner.creator.map(|u| u.0))
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(crate::DbError::classify)?;
    Ok(RunnerId(int(&row, "id")?))
}

/// The runner holding this token digest.
pub async fn runner_by_token_digest(conn: &mut Conn, digest: &str) -> DbResult<Option<RunnerRow>> {
    let row = sqlx::query(select_runners!("WHERE token_digest = $1")).bind(digest).fetch_optional(conn).await?;
    row.as_ref().map(map_runner).transpose()
}

/// One runner by id.
pub async fn get_runner(conn: &mut Conn, id: RunnerId) -> DbResult<Option<RunnerRow>> {
    let row = sqlx::query(select_runners!("WHERE id = $1")).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(map_runner).transpose()
}

/// Every runner, oldest first.
pub async fn list_runners(conn: &mut Conn) -> DbResult<Vec<RunnerRow>> {
    let rows = sqlx::query(select_runners!("ORDER BY id")).fetch_all(conn).await?;
    rows.iter().map(map_runner).collect()
}

/// The project and group runners `user` manages, oldest first, in one query: project runners
/// of projects where the user's highest unexpired role (on the project or any group above it)
/// is at least `project_level` or whose personal namespace is theirs; group runners of groups
/// where their role (on the group or above) is at least `group_level` or that they own.
pub async fn runners_managed_by(
    conn: &mut Conn,
    user: UserId,
    project_level: i64,
    group_level: i64,
) -> DbResult<Vec<RunnerRow>> {
    crate::stats::authorisation_query();
    let rows = sqlx::query(concat!(
        "WITH RECURSIVE \
         project_groups(id) AS ( \
             SELECT namespace_id FROM members WHERE user_id = $1 AND namespace_id IS NOT NULL \
                 AND access_level >= $2 AND (expires_at IS NULL OR expires_at > $4) \
             UNION SELECT n.id FROM namespaces n JOIN project_groups g ON n.parent_id = g.id), \
         runner_groups(id) AS ( \
             SELECT namespace_id FROM members WHERE user_id = $1 AND namespace_id IS NOT NULL \
                 AND access_level >= $3 AND (expires_at IS NULL OR expires_at > $4) \
             UNION SELECT n.id FROM namespaces n JOIN runner_groups g ON n.parent_id = g.id) ",
        select_runners!(
            "WHERE (runner_type = 'project_type' AND project_id IN ( \
                 SELECT p.id FROM projects p WHERE p.namespace_id IN (SELECT id FROM project_groups) \
                     OR p.namespace_id IN (SELECT o.id FROM namespaces o WHERE o.owner_id = $1) \
                     OR p.id IN (SELECT m.project_id FROM members m WHERE m.user_id = $1 \
                         AND m.project_id IS NOT NULL AND m.access_level >= $2 \
                         AND (m.expires_at IS NULL OR m.expires_at > $4)))) \
             OR (runner_type = 'group_type' AND (group_id IN (SELECT id FROM runner_groups) \
                 OR group_id IN (SELECT o.id FROM namespaces o WHERE o.owner_id = $1))) \
             ORDER BY id"
        )
    ))
    .bind(user.0)
    .bind(project_level)
    .bind(group_level)
    .bind(now_millis())
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_runner).collect()
}

/// The built-in runner, if `gantry serve` registered one.
pub async fn builtin_runner(conn: &mut Conn) -> DbResult<Option<RunnerRow>> {
    let row = sqlx::query(select_runners!("WHERE builtin = 1 ORDER BY id LIMIT 1")).fetch_optional(conn).await?;
    row.as_ref().map(map_runner).transpose()
}

/// Gives a runner a new token (the built-in runner gets a fresh one at each start).
pub async fn set_runner_token(conn: &mut Conn, id: RunnerId, digest: &str) -> DbResult<()> {
    sqlx::query("UPDATE ci_runners SET token_digest = $1 WHERE id = $2").bind(digest).bind(id.0).execute(conn).await?;
    Ok(())
}

/// What a runner said about itself when it last asked for work.
#[derive(Debug, Clone, Default)]
pub struct RunnerContact<'a> {
    pub version: &'a str,
    pub executor: &'a str,
    pub platform: &'a str,
    pub architecture: &'a str,
    pub ip_address: &'a str,
}

/// Records a runner's contact.
pub async fn touch_runner(conn: &mut Conn, id: RunnerId, contact: &RunnerContact<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE ci_runners SET contacted_at = $1, version = $2, executor = $3, platform = $4, architecture = $5, \
         ip_address = $6 WHERE id = $7",
    )
    .bind(now_millis())
    .bind(contact.version)
    .bind(contact.executor)
    .bind(contact.platform)
    .bind(contact.architecture)
    .bind(contact.ip_address)
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// The settings a runner's owner may change.
#[derive(Debug, Clone)]
pub struct RunnerSettings<'a> {
    pub description: &'a str,
    pub tags: &'a [String],
    pub run_untagged: bool,
    pub paused: bool,
    pub max_concurrent: i64,
}

/// Changes a runner's settings.
pub async fn update_runner(conn: &mut Conn, id: RunnerId, settings: &RunnerSettings<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE ci_runners SET description = $1, tags = $2, run_untagged = $3, paused = $4, max_concurrent = $5 \
         WHERE id = $6",
    )
    .bind(settings.description)
    .bind(join_tags(settings.tags))
    .bind(i64::from(settings.run_untagged))
    .bind(i64::from(settings.paused))
    .bind(settings.max_concurrent)
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a runner (its jobs keep their history; the link is cleared).
pub async fn delete_runner(conn: &mut Conn, id: RunnerId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM ci_runners WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}
