//! The `ci_pipeline_schedules` table (with their sealed variables) and `ci_triggers` (pipeline
//! trigger tokens, stored as SHA-256 digests).

use gantry_types::{CiStatus, PipelineId, ProjectId, ScheduleId, TriggerId, UserId};
use sqlx::any::AnyRow;

use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbResult, now_millis};

/// One pipeline schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub id: ScheduleId,
    pub project_id: ProjectId,
    pub description: String,
    pub ref_name: String,
    pub cron: String,
    pub cron_timezone: String,
    pub next_run_at: i64,
    pub active: bool,
    pub owner_id: Option<UserId>,
    pub owner_username: Option<String>,
    /// The newest pipeline the schedule started, while it exists.
    pub last_pipeline: Option<LastPipeline>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Values for the CI file's `spec:inputs`: a JSON object.
    pub inputs: String,
}

/// What a schedule's list shows of its newest pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPipeline {
    pub id: PipelineId,
    pub sha: String,
    pub ref_name: String,
    pub status: CiStatus,
}

/// What a schedule says (for creating or changing one).
#[derive(Debug, Clone)]
pub struct ScheduleFields<'a> {
    pub description: &'a str,
    pub ref_name: &'a str,
    pub cron: &'a str,
    pub cron_timezone: &'a str,
    pub next_run_at: i64,
    pub active: bool,
}

macro_rules! select_schedules {
    ($rest:literal) => {
        concat!(
            "SELECT s.id, s.project_id, s.description, s.ref_name, s.cron, s.cron_timezone, s.next_run_at, s.active, \
             s.owner_id, u.username AS owner_username, s.created_at, s.updated_at, s.inputs, \
             lp.id AS last_id, lp.sha AS last_sha, lp.ref_name AS last_ref, lp.status AS last_status \
             FROM ci_pipeline_schedules s LEFT JOIN users u ON u.id = s.owner_id \
             LEFT JOIN ci_pipelines lp ON lp.id = (SELECT MAX(id) FROM ci_pipelines WHERE schedule_id = s.id) ",
            $rest
        )
    };
}

fn map_schedule(row: &AnyRow) -> DbResult<ScheduleRow> {
    Ok(ScheduleRow {
        id: ScheduleId(int(row, "id")?),
        project_id: ProjectId(int(row, "project_id")?),
        description: text(row, "description")?,
        ref_name: text(row, "ref_name")?,
        cron: text(row, "cron")?,
        cron_timezone: text(row, "cron_timezone")?,
        next_run_at: int(row, "next_run_at")?,
        active: flag(row, "active")?,
        owner_id: opt_int(row, "owner_id")?.map(UserId),
        owner_username: opt_text(row, "owner_username")?,
        last_pipeline: match opt_int(row, "last_id")? {
            Some(id) => Some(LastPipeline {
                id: PipelineId(id),
                sha: text(row, "last_sha")?,
                ref_name: text(row, "last_ref")?,
                status: parsed(row, "last_status", CiStatus::parse)?,
            }),
            None => None,
        },
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        inputs: text(row, "inputs")?,
    })
}

/// Stores a new schedule owned by `owner`; its id.
pub async fn create_schedule(
    conn: &mut Conn,
    project: ProjectId,
    owner: UserId,
    fields: &ScheduleFields<'_>,
) -> DbResult<ScheduleId> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO ci_pipeline_schedules (project_id, description, ref_name, cron, cron_timezone, next_run_at, \
         active, owner_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(project.0)
    .bind(fields.description)
    .bind(fields.ref_name)
    .bind(fields.cron)
    .bind(fields.cron_timezone)
    .bind(fields.next_run_at)
    .bind(i64::from(fields.active))
    .bind(owner.0)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(ScheduleId(int(&row, "id")?))
}

pub async fn update_schedule(conn: &mut Conn, id: ScheduleId, fields: &ScheduleFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE ci_pipeline_schedules SET description = $1, ref_name = $2, cron = $3, cron_timezone = $4, \
         next_run_at = $5, active = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(fields.description)
    .bind(fields.ref_name)
    .bind(fields.cron)
    .bind(fields.cron_timezone)
    .bind(fields.next_run_at)
    .bind(i64::from(fields.active))
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a schedule's input values (a JSON object).
pub async fn set_schedule_inputs(conn: &mut Conn, id: ScheduleId, inputs: &str) -> DbResult<()> {
    sqlx::query("UPDATE ci_pipeline_schedules SET inputs = $1, updated_at = $2 WHERE id = $3")
        .bind(inputs)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_schedule_owner(conn: &mut Conn, id: ScheduleId, owner: UserId) -> DbResult<()> {
    sqlx::query("UPDATE ci_pipeline_schedules SET owner_id = $1, updated_at = $2 WHERE id = $3")
        .bind(owner.0)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_schedule(conn: &mut Conn, id: ScheduleId) -> DbResult<()> {
    sqlx::query("DELETE FROM ci_pipeline_schedules WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

pub async fn get_schedule(conn: &mut Conn, id: ScheduleId) -> DbResult<Option<ScheduleRow>> {
    let row = sqlx::query(select_schedules!("WHERE s.id = $1")).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(map_schedule).transpose()
}

/// A project's schedules; `active` filters by state.
pub async fn project_schedules(
    conn: &mut Conn,
    project: ProjectId,
    active: Option<bool>,
) -> DbResult<Vec<ScheduleRow>> {
    let rows = sqlx::query(select_schedules!("WHERE s.project_id = $1 AND ($2 < 0 OR s.active = $2) ORDER BY s.id"))
        .bind(project.0)
        .bind(active.map_or(-1, i64::from))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_schedule).collect()
}

/// Active schedules whose next run is at or before `now`.
pub async fn due_schedules(conn: &mut Conn, now: i64) -> DbResult<Vec<ScheduleRow>> {
    let rows =
        sqlx::query(select_schedules!("WHERE s.active = 1 AND s.next_run_at <= $1 ORDER BY s.next_run_at LIMIT 100"))
            .bind(now)
            .fetch_all(conn)
            .await?;
    rows.iter().map(map_schedule).collect()
}

/// Moves a due schedule's next run from `due` to `next`; false when another server did first.
pub async fn claim_run(conn: &mut Conn, id: ScheduleId, due: i64, next: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE ci_pipeline_schedules SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3 AND active = 1",
    )
    .bind(next)
    .bind(id.0)
    .bind(due)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deactivates a schedule; false when it was not active.
pub async fn deactivate_schedule(conn: &mut Conn, id: ScheduleId) -> DbResult<bool> {
    let done = sqlx::query("UPDATE ci_pipeline_schedules SET active = 0, updated_at = $1 WHERE id = $2 AND active = 1")
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deactivates every active schedule `owner` owns; how many.
pub async fn deactivate_owner_schedules(conn: &mut Conn, owner: UserId) -> DbResult<u64> {
    let done =
        sqlx::query("UPDATE ci_pipeline_schedules SET active = 0, updated_at = $1 WHERE owner_id = $2 AND active = 1")
            .bind(now_millis())
            .bind(owner.0)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// A schedule's variables as `(key, sealed value, variable type)`.
pub async fn schedule_variables(conn: &mut Conn, id: ScheduleId) -> DbResult<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT key, value_sealed, variable_type FROM ci_pipeline_schedule_variables WHERE schedule_id = $1 ORDER BY key",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((text(row, "key")?, text(row, "value_sealed")?, text(row, "variable_type")?))).collect()
}

/// Sets a schedule variable; `false` when `must_exist` and it does not, or when it exists and
/// `must_exist` is false (a create of a key already there).
pub async fn put_schedule_variable(
    conn: &mut Conn,
    id: ScheduleId,
    key: &str,
    sealed: &str,
    variable_type: &str,
    must_exist: bool,
) -> DbResult<bool> {
    let done = if must_exist {
        sqlx::query(
            "UPDATE ci_pipeline_schedule_variables SET value_sealed = $1, variable_type = $2 \
             WHERE schedule_id = $3 AND key = $4",
        )
        .bind(sealed)
        .bind(variable_type)
        .bind(id.0)
        .bind(key)
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "INSERT INTO ci_pipeline_schedule_variables (schedule_id, key, value_sealed, variable_type) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (schedule_id, key) DO NOTHING",
        )
        .bind(id.0)
        .bind(key)
        .bind(sealed)
        .bind(variable_type)
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

pub async fn delete_schedule_variable(conn: &mut Conn, id: ScheduleId, key: &str) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM ci_pipeline_schedule_variables WHERE schedule_id = $1 AND key = $2")
        .bind(id.0)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One pipeline trigger token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRow {
    pub id: TriggerId,
    pub project_id: ProjectId,
    pub description: String,
    pub token_start: String,
    pub owner_id: Option<UserId>,
    pub owner_username: Option<String>,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

macro_rules! select_triggers {
    ($rest:literal) => {
        concat!(
            "SELECT t.id, t.project_id, t.description, t.token_start, t.owner_id, u.username AS owner_username, \
             t.last_used_at, t.created_at FROM ci_triggers t LEFT JOIN users u ON u.id = t.owner_id ",
            $rest
        )
    };
}

fn map_trigger(row: &AnyRow) -> DbResult<TriggerRow> {
    Ok(TriggerRow {
        id: TriggerId(int(row, "id")?),
        project_id: ProjectId(int(row, "project_id")?),
        description: text(row, "description")?,
        token_start: text(row, "token_start")?,
        owner_id: opt_int(row, "owner_id")?.map(UserId),
        owner_username: opt_text(row, "owner_username")?,
        last_used_at: opt_int(row, "last_used_at")?,
        created_at: int(row, "created_at")?,
    })
}

pub async fn create_trigger(
    conn: &mut Conn,
    project: ProjectId,
    owner: UserId,
    description: &str,
    digest: &str,
    token_start: &str,
) -> DbResult<TriggerId> {
    let row = sqlx::query(
        "INSERT INTO ci_triggers (project_id, description, token_digest, token_start, owner_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(project.0)
    .bind(description)
    .bind(digest)
    .bind(token_start)
    .bind(owner.0)
    .bind(now_millis())
    .fetch_one(conn)
    .await?;
    Ok(TriggerId(int(&row, "id")?))
}

pub async fn project_triggers(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<TriggerRow>> {
    let rows =
        sqlx::query(select_triggers!("WHERE t.project_id = $1 ORDER BY t.id")).bind(project.0).fetch_all(conn).await?;
    rows.iter().map(map_trigger).collect()
}

pub async fn get_trigger(conn: &mut Conn, id: TriggerId) -> DbResult<Option<TriggerRow>> {
    let row = sqlx::query(select_triggers!("WHERE t.id = $1")).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(map_trigger).transpose()
}

/// The trigger holding this token digest.
pub async fn find_trigger_by_digest(conn: &mut Conn, digest: &str) -> DbResult<Option<TriggerRow>> {
    let row = sqlx::query(select_triggers!("WHERE t.token_digest = $1")).bind(digest).fetch_optional(conn).await?;
    row.as_ref().map(map_trigger).transpose()
}

/// Records that a trigger started a pipeline now.
pub async fn mark_trigger_used(conn: &mut Conn, id: TriggerId) -> DbResult<()> {
    sqlx::query("UPDATE ci_triggers SET last_used_at = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_trigger(conn: &mut Conn, id: TriggerId, description: &str) -> DbResult<()> {
    sqlx::query("UPDATE ci_triggers SET description = $1 WHERE id = $2")
        .bind(description)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_trigger(conn: &mut Conn, id: TriggerId) -> DbResult<()> {
    sqlx::query("DELETE FROM ci_triggers WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}
