//! The numbers things carry within their project (pipeline #12, issue #7, milestone 3; merge
//! requests next) or their group (its milestones): one row per project and kind in
//! `internal_ids` (per group in `namespace_internal_ids`) holds the last number given. Taking
//! the next one is a single upsert, which the database serialises on that row, so two pipelines
//! created at the same moment on PostgreSQL never get the same number (reading `MAX(iid) + 1`
//! did, and one of them failed on the unique index).

use gantry_types::{NamespaceId, ProjectId};

use crate::row::int;
use crate::{Conn, DbResult};

/// What is numbered within a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    Pipelines,
    Issues,
    Milestones,
}

/// The next number of `what` in the project; call inside the transaction that stores it, so a
/// rollback gives the number back. A project numbered before this table existed continues from
/// its highest number.
pub async fn next_internal_id(conn: &mut Conn, project: ProjectId, what: Numbered) -> DbResult<i64> {
    let sql = match what {
        Numbered::Pipelines => concat!(
            "INSERT INTO internal_ids (project_id, usage, last_value) ",
            "VALUES ($1, 'pipelines', (SELECT COALESCE(MAX(iid), 0) + 1 FROM ci_pipelines WHERE project_id = $1)) ",
            "ON CONFLICT (project_id, usage) DO UPDATE SET last_value = internal_ids.last_value + 1 ",
            "RETURNING last_value"
        ),
        Numbered::Issues => concat!(
            "INSERT INTO internal_ids (project_id, usage, last_value) ",
            "VALUES ($1, 'issues', (SELECT COALESCE(MAX(iid), 0) + 1 FROM issues WHERE project_id = $1)) ",
            "ON CONFLICT (project_id, usage) DO UPDATE SET last_value = internal_ids.last_value + 1 ",
            "RETURNING last_value"
        ),
        Numbered::Milestones => concat!(
            "INSERT INTO internal_ids (project_id, usage, last_value) ",
            "VALUES ($1, 'milestones', (SELECT COALESCE(MAX(iid), 0) + 1 FROM milestones WHERE project_id = $1)) ",
            "ON CONFLICT (project_id, usage) DO UPDATE SET last_value = internal_ids.last_value + 1 ",
            "RETURNING last_value"
        ),
    };
    let row = sqlx::query(sql).bind(project.0).fetch_one(conn).await?;
    int(&row, "last_value")
}

/// The next number of `what` in the group (its milestones); call inside the transaction that
/// stores it.
pub async fn next_group_internal_id(conn: &mut Conn, group: NamespaceId, what: Numbered) -> DbResult<i64> {
    let usage = match what {
        Numbered::Pipelines => "pipelines",
        Numbered::Issues => "issues",
        Numbered::Milestones => "milestones",
    };
    next_group_number(conn, group, usage).await
}

/// The next number of the group's things of `usage` (`milestones`, `epics`, `iterations`).
pub(crate) async fn next_group_number(conn: &mut Conn, group: NamespaceId, usage: &str) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO namespace_internal_ids (namespace_id, usage, last_value) VALUES ($1, $2, 1) \
         ON CONFLICT (namespace_id, usage) DO UPDATE SET last_value = namespace_internal_ids.last_value + 1 \
         RETURNING last_value",
    )
    .bind(group.0)
    .bind(usage)
    .fetch_one(conn)
    .await?;
    int(&row, "last_value")
}
