//! The `award_emoji` table: emoji reactions on issues and notes (GitLab's award emoji), one per
//! person, name and item, with the awarder's account.

use gantry_types::UserId;
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::manage::users::{UserRow, map_user};
use crate::row::{int, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// What a reaction is on: GitLab's name of the kind (`Issue`, `Note`) and the row's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Awardable {
    pub kind: &'static str,
    pub id: i64,
}

/// A stored reaction with its awarder.
#[derive(Debug, Clone)]
pub struct AwardRow {
    pub id: i64,
    pub awardable_type: String,
    pub awardable_id: i64,
    pub name: String,
    pub user: UserRow,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! select_award {
    () => {
        "SELECT a.id AS award_id, a.awardable_type, a.awardable_id, a.name AS award_name, \
         a.created_at AS award_created_at, a.updated_at AS award_updated_at, u.id, u.username, u.email, u.name, \
         u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, u.avatar_digest, u.avatar_name, \
         u.bot_project_id, u.bot_namespace_id FROM award_emoji a JOIN users u ON u.id = a.user_id"
    };
}

fn map_award(row: &AnyRow) -> DbResult<AwardRow> {
    Ok(AwardRow {
        id: int(row, "award_id")?,
        awardable_type: text(row, "awardable_type")?,
        awardable_id: int(row, "awardable_id")?,
        name: text(row, "award_name")?,
        user: map_user(row)?,
        created_at: int(row, "award_created_at")?,
        updated_at: int(row, "award_updated_at")?,
    })
}

/// Stores a reaction; the same person's same emoji on the same item again is
/// [`DbError::Conflict`].
pub async fn insert_award(conn: &mut Conn, on: Awardable, user: UserId, name: &str) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO award_emoji (awardable_type, awardable_id, user_id, name, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(on.kind)
    .bind(on.id)
    .bind(user.0)
    .bind(name)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    int(&row, "id")
}

/// One page of an item's reactions, oldest first, and how many there are.
pub async fn list_awards(conn: &mut Conn, on: Awardable, page: Page) -> DbResult<(Vec<AwardRow>, i64)> {
    let rows = sqlx::query(concat!(
        select_award!(),
        " WHERE a.awardable_type = $1 AND a.awardable_id = $2 ORDER BY a.id LIMIT $3 OFFSET $4"
    ))
    .bind(on.kind)
    .bind(on.id)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM award_emoji WHERE awardable_type = $1 AND awardable_id = $2")
        .bind(on.kind)
        .bind(on.id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_award).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// The reactions of several items of one kind (a page's issue and notes), oldest first.
pub async fn awards_of(conn: &mut Conn, kind: &'static str, ids: &[i64]) -> DbResult<Vec<AwardRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! awards_sql {
        ($engine:tt) => {
            concat!(
                select_award!(),
                " WHERE a.awardable_type = $1 AND a.awardable_id IN ",
                id_set!($engine, "$2"),
                " ORDER BY a.id"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), awards_sql))
        .bind(kind)
        .bind(id_list(ids.iter().copied()))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_award).collect()
}

/// One reaction of an item.
pub async fn find_award(conn: &mut Conn, on: Awardable, id: i64) -> DbResult<Option<AwardRow>> {
    sqlx::query(concat!(select_award!(), " WHERE a.awardable_type = $1 AND a.awardable_id = $2 AND a.id = $3"))
        .bind(on.kind)
        .bind(on.id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_award)
        .transpose()
}

/// Removes a reaction.
pub async fn delete_award(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM award_emoji WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Removes every reaction of an item (it is being deleted).
pub async fn forget_awards(conn: &mut Conn, on: Awardable) -> DbResult<()> {
    sqlx::query("DELETE FROM award_emoji WHERE awardable_type = $1 AND awardable_id = $2")
        .bind(on.kind)
        .bind(on.id)
        .execute(conn)
        .await?;
    Ok(())
}
