//! The `note_versions` table: each text a comment has had, oldest first, with who wrote it and
//! when. Core keeps it; nothing here decides who may read it.

use gantry_types::{NoteId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, text};
use crate::{Conn, DbResult};

/// One version of a comment's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVersionRow {
    pub id: i64,
    pub note_id: NoteId,
    pub body: String,
    pub author_id: Option<UserId>,
    pub created_at: i64,
}

fn map_version(row: &AnyRow) -> DbResult<NoteVersionRow> {
    Ok(NoteVersionRow {
        id: int(row, "id")?,
        note_id: NoteId(int(row, "note_id")?),
        body: text(row, "body")?,
        author_id: opt_int(row, "author_id")?.map(UserId),
        created_at: int(row, "created_at")?,
    })
}

/// Stores a version of a comment.
pub async fn insert_note_version(
    conn: &mut Conn,
    note: NoteId,
    body: &str,
    author: Option<UserId>,
    created_at: i64,
) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO note_versions (note_id, body, author_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(note.0)
    .bind(body)
    .bind(author.map(|u| u.0))
    .bind(created_at)
    .fetch_one(conn)
    .await?;
    int(&row, "id")
}

/// Whether the comment has any version stored (it was edited before).
pub async fn has_note_versions(conn: &mut Conn, note: NoteId) -> DbResult<bool> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM note_versions WHERE note_id = $1 LIMIT 1) v")
            .bind(note.0)
            .fetch_one(conn)
            .await?;
    Ok(int(&row, "n")? > 0)
}

/// The comment's versions, newest first: at most `limit`, after `skip`; and how many it has.
pub async fn note_versions(
    conn: &mut Conn,
    note: NoteId,
    limit: i64,
    skip: i64,
) -> DbResult<(Vec<NoteVersionRow>, i64)> {
    let rows = sqlx::query(
        "SELECT id, note_id, body, author_id, created_at FROM note_versions WHERE note_id = $1 \
         ORDER BY id DESC LIMIT $2 OFFSET $3",
    )
    .bind(note.0)
    .bind(limit)
    .bind(skip)
    .fetch_all(&mut *conn)
    .await?;
    let count = sqlx::query("SELECT COUNT(*) AS n FROM note_versions WHERE note_id = $1")
        .bind(note.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_version).collect::<DbResult<_>>()?, int(&count, "n")?))
}
