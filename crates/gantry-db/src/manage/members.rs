//! The `members` table: a user's role on a group (namespace) or a project; and the SQL every
//! role lookup shares (`role_ctes!`, `role_level!`, `reach_ctes!`), which also counts the roles
//! that sharing gives (a group or project shared with a group: see `group_links`).

use gantry_types::{NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use super::users::{UserRow, map_user};
use crate::row::{int, opt_int, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// What a membership is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSource {
    Namespace(NamespaceId),
    Project(ProjectId),
}

impl MemberSource {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            MemberSource::Namespace(id) => (Some(id.0), None),
            MemberSource::Project(id) => (None, Some(id.0)),
        }
    }
}

/// A membership together with the member's account.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub user: UserRow,
    pub access_level: i64,
    pub source: MemberSource,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

fn map_member(row: &AnyRow) -> DbResult<MemberRow> {
    let source = match (opt_int(row, "m_namespace_id")?, opt_int(row, "m_project_id")?) {
        (Some(id), _) => MemberSource::Namespace(NamespaceId(id)),
        (None, Some(id)) => MemberSource::Project(ProjectId(id)),
        (None, None) => return Err(DbError::Corrupt { column: "members.source", value: String::new() }),
    };
    Ok(MemberRow {
        user: map_user(row)?,
        access_level: int(row, "access_level")?,
        source,
        created_at: int(row, "m_created_at")?,
        expires_at: opt_int(row, "expires_at")?,
    })
}

// The member's account columns (read by `map_user`), then the membership's but its role.
macro_rules! member_columns {
    () => {
        "u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, \
         u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id, \
         m.namespace_id AS m_namespace_id, m.project_id AS m_project_id, m.created_at AS m_created_at, m.expires_at"
    };
}

macro_rules! select_member {
    () => {
        concat!("SELECT ", member_columns!(), ", m.access_level FROM members m JOIN users u ON u.id = m.user_id")
    };
}

// What a role lookup adds to its `WITH RECURSIVE` list, after `chain(id)` (the namespace asked
// about and its ancestors) and `target(id)` (the project asked about, or no row), with the
// moment in `$3`: `shares`, the unexpired links sharing any of them with a group, and
// `invited`, each link's invited group and that group's ancestors, whose members the link
// reaches (direct and inherited members of the invited group, as in GitLab; sharing does not
// chain through the invited group's own links).
macro_rules! role_ctes {
    () => {
        ", shares(group_access, id) AS ( \
             SELECT l.group_access, l.shared_with_group_id FROM group_group_links l \
             WHERE l.shared_group_id IN (SELECT id FROM chain) AND (l.expires_at IS NULL OR l.expires_at > $3) \
             UNION ALL SELECT l.group_access, l.group_id FROM project_group_links l \
             WHERE l.project_id IN (SELECT id FROM target) AND (l.expires_at IS NULL OR l.expires_at > $3)), \
         invited(group_access, id) AS ( \
             SELECT group_access, id FROM shares \
             UNION ALL SELECT i.group_access, n.parent_id FROM namespaces n JOIN invited i ON n.id = i.id \
             WHERE n.parent_id IS NOT NULL) "
    };
}
pub(crate) use role_ctes;

// The highest role user `$2` holds through `role_ctes!`: an unexpired membership of the
// project or of a namespace of the chain, or one of an invited group capped at the link's
// `group_access` (the lower of the two wins).
macro_rules! role_level {
    () => {
        "(SELECT MAX(g.level) FROM ( \
             SELECT m.access_level AS level FROM members m \
             WHERE m.user_id = $2 AND (m.namespace_id IN (SELECT id FROM chain) OR m.project_id IN (SELECT id FROM target)) \
               AND (m.expires_at IS NULL OR m.expires_at > $3) \
             UNION ALL SELECT CASE WHEN i.group_access < m.access_level THEN i.group_access ELSE m.access_level END \
             FROM invited i JOIN members m ON m.namespace_id = i.id \
             WHERE m.user_id = $2 AND (m.expires_at IS NULL OR m.expires_at > $3)) g)"
    };
}
pub(crate) use role_level;

// What a listing for user `$user` at moment `$now` starts its `WITH RECURSIVE` list with:
// `member_of(id, level)`, the groups the user holds an unexpired role in and everything below
// them; `reach(id, level)`, those and the groups shared with any of them (capped at the link's
// role) with everything below; `shared_projects(id, level)`, the projects shared with them.
// The same roles as `role_level!`, seen from the user instead of from one group or project.
macro_rules! reach_ctes {
    ($user:literal, $now:literal) => {
        concat!(
            "member_of(id, level) AS ( \
                 SELECT namespace_id, access_level FROM members WHERE user_id = ", $user, " \
                     AND namespace_id IS NOT NULL AND (expires_at IS NULL OR expires_at > ", $now, ") \
                 UNION SELECT n.id, o.level FROM namespaces n JOIN member_of o ON n.parent_id = o.id), \
             reach_roots(id, level) AS ( \
                 SELECT id, level FROM member_of \
                 UNION SELECT l.shared_group_id, CASE WHEN l.group_access < o.level THEN l.group_access ELSE o.level END \
                 FROM group_group_links l JOIN member_of o ON o.id = l.shared_with_group_id \
                 WHERE l.expires_at IS NULL OR l.expires_at > ", $now, "), \
             reach(id, level) AS ( \
                 SELECT id, level FROM reach_roots \
                 UNION SELECT n.id, x.level FROM namespaces n JOIN reach x ON n.parent_id = x.id), \
             shared_projects(id, level) AS ( \
                 SELECT l.project_id, CASE WHEN l.group_access < o.level THEN l.group_access ELSE o.level END \
                 FROM project_group_links l JOIN member_of o ON o.id = l.group_id \
                 WHERE l.expires_at IS NULL OR l.expires_at > ", $now, ") "
        )
    };
}
pub(crate) use reach_ctes;

/// Adds a membership; an existing one for the same user and source is [`DbError::Conflict`].
pub async fn insert_member(
    conn: &mut Conn,
    source: MemberSource,
    user: UserId,
    access_level: i64,
    created_by: Option<UserId>,
    expires_at: Option<i64>,
) -> DbResult<()> {
    let (namespace_id, project_id) = source.ids();
    sqlx::query(
        "INSERT INTO members (namespace_id, project_id, user_id, access_level, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(namespace_id)
    .bind(project_id)
    .bind(user.0)
    .bind(access_level)
    .bind(created_by.map(|id| id.0))
    .bind(now_millis())
    .bind(expires_at)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Changes a member's role and expiry; false when there was no such membership.
pub async fn update_member(
    conn: &mut Conn,
    source: MemberSource,
    user: UserId,
    access_level: i64,
    expires_at: Option<i64>,
) -> DbResult<bool> {
    let (namespace_id, project_id) = source.ids();
    let result = sqlx::query(
        "UPDATE members SET access_level = $1, expires_at = $2 \
         WHERE user_id = $3 AND (namespace_id = $4 OR project_id = $5)",
    )
    .bind(access_level)
    .bind(expires_at)
    .bind(user.0)
    .bind(namespace_id)
    .bind(project_id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Removes a membership; false when there was none.
pub async fn delete_member(conn: &mut Conn, source: MemberSource, user: UserId) -> DbResult<bool> {
    let (namespace_id, project_id) = source.ids();
    let result = sqlx::query("DELETE FROM members WHERE user_id = $1 AND (namespace_id = $2 OR project_id = $3)")
        .bind(user.0)
        .bind(namespace_id)
        .bind(project_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// The direct members of a group or project, by username.
pub async fn list_direct_members(conn: &mut Conn, source: MemberSource) -> DbResult<Vec<MemberRow>> {
    let (namespace_id, project_id) = source.ids();
    let rows = sqlx::query(concat!(
        select_member!(),
        " WHERE (m.namespace_id = $1 OR m.project_id = $2) ORDER BY u.username_lower"
    ))
    .bind(namespace_id)
    .bind(project_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_member).collect()
}

/// Direct, inherited and shared memberships that apply to a group (`namespace`) or to a
/// project in `namespace` (`project`): the memberships of the project itself and of every
/// ancestor group, and those of the groups it or they are shared with (their role capped at the
/// link's, and their source the invited group). Unexpired ones only. One user may appear
/// several times, the highest role first; callers keep the highest.
pub async fn list_applicable_members(
    conn: &mut Conn,
    namespace: NamespaceId,
    project: Option<ProjectId>,
) -> DbResult<Vec<MemberRow>> {
    let rows = sqlx::query(concat!(
        "WITH RECURSIVE chain(id) AS ( \
             SELECT CAST($1 AS BIGINT) \
             UNION ALL SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL), \
         target(id) AS (SELECT CAST($2 AS BIGINT) WHERE CAST($2 AS BIGINT) IS NOT NULL)",
        role_ctes!(),
        "SELECT * FROM ( \
             SELECT ",
        member_columns!(),
        ", m.access_level FROM members m JOIN users u ON u.id = m.user_id \
             WHERE (m.namespace_id IN (SELECT id FROM chain) OR m.project_id IN (SELECT id FROM target)) \
               AND (m.expires_at IS NULL OR m.expires_at > $3) \
             UNION ALL SELECT ",
        member_columns!(),
        ", CASE WHEN i.group_access < m.access_level THEN i.group_access ELSE m.access_level END AS access_level \
             FROM invited i JOIN members m ON m.namespace_id = i.id JOIN users u ON u.id = m.user_id \
             WHERE m.expires_at IS NULL OR m.expires_at > $3) x \
         ORDER BY lower(x.username), x.access_level DESC"
    ))
    .bind(namespace.0)
    .bind(project.map(|id| id.0))
    .bind(now_millis())
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_member).collect()
}

/// The highest role `user` holds on the namespace or on a project in it (directly, through
/// any ancestor group of `namespace`, or through a group any of them is shared with), ignoring
/// expired memberships and links; `None` when they hold none.
pub async fn effective_access_level(
    conn: &mut Conn,
    user: UserId,
    namespace: NamespaceId,
    project: Option<ProjectId>,
) -> DbResult<Option<i64>> {
    crate::stats::authorisation_query();
    let row = sqlx::query(concat!(
        "WITH RECURSIVE chain(id) AS ( \
             SELECT CAST($1 AS BIGINT) \
             UNION ALL SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL), \
         target(id) AS (SELECT CAST($4 AS BIGINT) WHERE CAST($4 AS BIGINT) IS NOT NULL)",
        role_ctes!(),
        "SELECT ",
        role_level!(),
        " AS level"
    ))
    .bind(namespace.0)
    .bind(user.0)
    .bind(now_millis())
    .bind(project.map(|id| id.0))
    .fetch_one(conn)
    .await?;
    opt_int(&row, "level")
}

/// One of a user's direct memberships, with the name of what it is on.
#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub source: MemberSource,
    /// The group's or project's name.
    pub source_name: String,
    pub access_level: i64,
}

/// Which of a user's memberships [`list_user_memberships`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipKind {
    All,
    Projects,
    Namespaces,
}

/// One page of a user's direct memberships (of groups and projects, expired ones included, as
/// GitLab lists them), oldest first, and their count.
pub async fn list_user_memberships(
    conn: &mut Conn,
    user: UserId,
    kind: MembershipKind,
    page: Page,
) -> DbResult<(Vec<MembershipRow>, i64)> {
    let (namespaces, projects) = match kind {
        MembershipKind::All => (1_i64, 1_i64),
        MembershipKind::Projects => (0, 1),
        MembershipKind::Namespaces => (1, 0),
    };
    let rows = sqlx::query(
        "SELECT m.namespace_id AS m_namespace_id, m.project_id AS m_project_id, m.access_level, \
                COALESCE(n.name, p.name) AS source_name \
         FROM members m LEFT JOIN namespaces n ON n.id = m.namespace_id LEFT JOIN projects p ON p.id = m.project_id \
         WHERE m.user_id = $1 \
           AND ((m.namespace_id IS NOT NULL AND CAST($2 AS BIGINT) = 1) OR (m.project_id IS NOT NULL AND CAST($3 AS BIGINT) = 1)) \
         ORDER BY m.id LIMIT $4 OFFSET $5",
    )
    .bind(user.0)
    .bind(namespaces)
    .bind(projects)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(
        "SELECT COUNT(*) AS n FROM members m WHERE m.user_id = $1 \
           AND ((m.namespace_id IS NOT NULL AND CAST($2 AS BIGINT) = 1) OR (m.project_id IS NOT NULL AND CAST($3 AS BIGINT) = 1))",
    )
    .bind(user.0)
    .bind(namespaces)
    .bind(projects)
    .fetch_one(&mut *conn)
    .await?;
    let memberships = rows
        .iter()
        .map(|row| {
            let source = match (opt_int(row, "m_namespace_id")?, opt_int(row, "m_project_id")?) {
                (Some(id), _) => MemberSource::Namespace(NamespaceId(id)),
                (None, Some(id)) => MemberSource::Project(ProjectId(id)),
                (None, None) => return Err(DbError::Corrupt { column: "members.source", value: String::new() }),
            };
            Ok(MembershipRow {
                source,
                source_name: text(row, "source_name")?,
                access_level: int(row, "access_level")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok((memberships, int(&total, "n")?))
}

/// How many members of a group hold the Owner role (a group must keep one).
pub async fn count_owners(conn: &mut Conn, namespace: NamespaceId, owner_level: i64) -> DbResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM members WHERE namespace_id = $1 AND access_level >= $2")
        .bind(namespace.0)
        .bind(owner_level)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}
