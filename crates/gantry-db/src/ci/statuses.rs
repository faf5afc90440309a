//! The `ci_commit_statuses` table: statuses of commits reported by systems outside Gantry.

use gantry_types::{CiStatus, CommitStatusId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbResult, now_millis};

#[derive(Debug, Clone, PartialEq)]
pub struct CommitStatusRow {
    pub id: CommitStatusId,
    pub project_id: ProjectId,
    pub sha: String,
    pub ref_name: String,
    pub name: String,
    pub status: CiStatus,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub coverage: Option<f64>,
    pub author_id: Option<UserId>,
    pub author_username: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// A status to record.
#[derive(Debug, Clone)]
pub struct NewCommitStatus<'a> {
    pub sha: &'a str,
    pub ref_name: &'a str,
    pub name: &'a str,
    pub status: CiStatus,
    pub target_url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub coverage: Option<f64>,
}

macro_rules! select_statuses {
    ($rest:literal) => {
        concat!(
            "SELECT s.id, s.project_id, s.sha, s.ref_name, s.name, s.status, s.target_url, s.description, s.coverage, \
             s.author_id, u.username AS author_username, s.created_at, s.updated_at, s.started_at, s.finished_at \
             FROM ci_commit_statuses s LEFT JOIN users u ON u.id = s.author_id ",
            $rest
        )
    };
}

fn map_status(row: &AnyRow) -> DbResult<CommitStatusRow> {
    Ok(CommitStatusRow {
        id: CommitStatusId(int(row, "id")?),
        project_id: ProjectId(int(row, "project_id")?),
        sha: text(row, "sha")?,
        ref_name: text(row, "ref_name")?,
        name: text(row, "name")?,
        status: parsed(row, "status", CiStatus::parse)?,
        target_url: opt_text(row, "target_url")?,
        description: opt_text(row, "description")?,
        coverage: sqlx::Row::try_get::<Option<f64>, _>(row, "coverage")?,
        author_id: opt_int(row, "author_id")?.map(UserId),
        author_username: opt_text(row, "author_username")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        started_at: opt_int(row, "started_at")?,
        finished_at: opt_int(row, "finished_at")?,
    })
}

/// Records a status (replacing the one of the same commit, ref and name); started and finished
/// times follow the status.
pub async fn put_status(
    conn: &mut Conn,
    project: ProjectId,
    author: Option<UserId>,
    new: &NewCommitStatus<'_>,
) -> DbResult<CommitStatusRow> {
    let now = now_millis();
    let running =
        (new.status == CiStatus::Running || new.status.is_finished() && new.status != CiStatus::Skipped).then_some(now);
    let finished = new.status.is_finished().then_some(now);
    let row = sqlx::query(
        "INSERT INTO ci_commit_statuses (project_id, sha, ref_name, name, status, target_url, description, coverage, \
         author_id, created_at, updated_at, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE PRECISION), $9, $10, $10, $11, $12) \
         ON CONFLICT (project_id, sha, ref_name, name) DO UPDATE SET status = excluded.status, \
         target_url = COALESCE(excluded.target_url, ci_commit_statuses.target_url), \
         description = COALESCE(excluded.description, ci_commit_statuses.description), \
         coverage = COALESCE(excluded.coverage, ci_commit_statuses.coverage), author_id = excluded.author_id, \
         updated_at = excluded.updated_at, \
         started_at = COALESCE(ci_commit_statuses.started_at, excluded.started_at), \
         finished_at = excluded.finished_at \
         RETURNING id",
    )
    .bind(project.0)
    .bind(new.sha)
    .bind(new.ref_name)
    .bind(new.name)
    .bind(new.status.as_str())
    .bind(new.target_url)
    .bind(new.description)
    // As text: the Any driver binds a missing f64 as a NULL of another type, and PostgreSQL's
    // cached statement then refuses a later float's binary form ("incorrect binary data format").
    .bind(new.coverage.map(|coverage| coverage.to_string()))
    .bind(author.map(|a| a.0))
    .bind(now)
    .bind(running)
    .bind(finished)
    .fetch_one(&mut *conn)
    .await?;
    let id = int(&row, "id")?;
    let row = sqlx::query(select_statuses!("WHERE s.id = $1")).bind(id).fetch_one(conn).await?;
    map_status(&row)
}

/// The statuses of a commit, optionally of one ref and name, newest first.
pub async fn commit_statuses(
    conn: &mut Conn,
    project: ProjectId,
    sha: &str,
    ref_name: Option<&str>,
    name: Option<&str>,
) -> DbResult<Vec<CommitStatusRow>> {
    let rows = sqlx::query(select_statuses!(
        "WHERE s.project_id = $1 AND s.sha = $2 AND ($3 = '' OR s.ref_name = $3) AND ($4 = '' OR s.name = $4) \
         ORDER BY s.updated_at DESC, s.id DESC"
    ))
    .bind(project.0)
    .bind(sha)
    .bind(ref_name.unwrap_or(""))
    .bind(name.unwrap_or(""))
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_status).collect()
}
