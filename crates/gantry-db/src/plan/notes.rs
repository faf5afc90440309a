//! The `notes` table: comments and system notes on any noteable (`noteable_type` as GitLab
//! names it — `Issue` now, `MergeRequest` and `Epic` later — and the row's id). Every note is
//! in a discussion (`discussion_id`): one of its own, or a thread's that others reply in.

use gantry_types::{NoteId, ProjectId, UserId};
use sqlx::any::AnyRow;

use super::issue_filter::{
    IssueFilter, bind_filter, issue_filter, issue_scope, issue_sql, issue_text, seen_confidential, visible_issue,
};
use crate::engine::id_set;
use crate::manage::users::{UserRow, map_user};
use crate::row::{flag, int, opt_int, text};
use crate::search::TextSearch;
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// What a note is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noteable {
    /// GitLab's name of the kind: `Issue`.
    pub kind: &'static str,
    pub id: i64,
}

impl Noteable {
    /// An issue's notes.
    pub fn issue(id: gantry_types::IssueId) -> Noteable {
        Noteable { kind: "Issue", id: id.0 }
    }

    /// An epic's notes.
    pub fn epic(id: gantry_types::EpicId) -> Noteable {
        Noteable { kind: "Epic", id: id.0 }
    }
}

/// A stored note with its author's account (`None` once deleted).
#[derive(Debug, Clone)]
pub struct NoteRow {
    pub id: NoteId,
    pub project_id: Option<ProjectId>,
    pub noteable_type: String,
    pub noteable_id: i64,
    pub discussion_id: String,
    pub author_id: Option<UserId>,
    pub author: Option<UserRow>,
    pub body: String,
    pub system: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// In a thread (started as one, or replied to).
    pub thread: bool,
    /// When its thread was resolved, and by whom.
    pub resolved_at: Option<i64>,
    pub resolved_by_id: Option<UserId>,
}

fn map_note(row: &AnyRow) -> DbResult<NoteRow> {
    let author_id = opt_int(row, "note_author_id")?.map(UserId);
    let author = match opt_int(row, "id")? {
        Some(_) => Some(map_user(row)?),
        None => None,
    };
    Ok(NoteRow {
        id: NoteId(int(row, "note_id")?),
        project_id: opt_int(row, "note_project_id")?.map(ProjectId),
        noteable_type: text(row, "noteable_type")?,
        noteable_id: int(row, "noteable_id")?,
        discussion_id: text(row, "discussion_id")?,
        author_id,
        author,
        body: text(row, "body")?,
        system: flag(row, "system")?,
        created_at: int(row, "note_created_at")?,
        updated_at: int(row, "note_updated_at")?,
        thread: flag(row, "thread")?,
        resolved_at: opt_int(row, "resolved_at")?,
        resolved_by_id: opt_int(row, "resolved_by_id")?.map(UserId),
    })
}

macro_rules! note_columns {
    () => {
        "n.id AS note_id, n.project_id AS note_project_id, n.noteable_type, n.noteable_id, n.discussion_id, \
         n.author_id AS note_author_id, n.body, n.system, n.created_at AS note_created_at, \
         n.updated_at AS note_updated_at, n.thread, n.resolved_at, n.resolved_by_id, u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, \
         u.created_at, u.updated_at, u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id"
    };
}

macro_rules! select_note {
    () => {
        concat!("SELECT ", note_columns!(), " FROM notes n LEFT JOIN users u ON u.id = n.author_id")
    };
}

/// A note to store.
#[derive(Debug, Clone)]
pub struct NewNote<'a> {
    pub project_id: Option<ProjectId>,
    pub noteable: Noteable,
    pub discussion_id: &'a str,
    pub author_id: Option<UserId>,
    pub body: &'a str,
    pub system: bool,
    /// Starts or replies to a thread.
    pub thread: bool,
}

/// Stores a note (a comment on an issue with its `commented` event).
pub async fn insert_note(conn: &mut Conn, note: &NewNote<'_>) -> DbResult<NoteId> {
    let row = sqlx::query(
        "INSERT INTO notes (project_id, noteable_type, noteable_id, discussion_id, author_id, body, system, \
         created_at, updated_at, thread, epic_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id",
    )
    .bind(note.project_id.map(|p| p.0))
    .bind(note.noteable.kind)
    .bind(note.noteable.id)
    .bind(note.discussion_id)
    .bind(note.author_id.map(|u| u.0))
    .bind(note.body)
    .bind(i64::from(note.system))
    .bind(now_millis())
    .bind(i64::from(note.thread))
    .bind((note.noteable.kind == "Epic").then_some(note.noteable.id))
    .fetch_one(&mut *conn)
    .await
    .map_err(DbError::classify)?;
    let id = int(&row, "id")?;
    if !note.system && note.noteable.kind == "Issue" {
        crate::activity::record_comment(conn, id, note.noteable.id, note.author_id, now_millis()).await?;
    }
    Ok(NoteId(id))
}

/// One note of a noteable.
pub async fn find_note(conn: &mut Conn, noteable: Noteable, id: NoteId) -> DbResult<Option<NoteRow>> {
    sqlx::query(concat!(select_note!(), " WHERE n.noteable_type = $1 AND n.noteable_id = $2 AND n.id = $3"))
        .bind(noteable.kind)
        .bind(noteable.id)
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_note)
        .transpose()
}

/// One page of a noteable's notes, oldest first unless `newest_first`, ordered by creation or
/// (`by_update`) by last change; and how many there are.
pub async fn list_notes(
    conn: &mut Conn,
    noteable: Noteable,
    by_update: bool,
    newest_first: bool,
    page: Page,
) -> DbResult<(Vec<NoteRow>, i64)> {
    let rows = sqlx::query(concat!(
        select_note!(),
        " WHERE n.noteable_type = $1 AND n.noteable_id = $2 \
         ORDER BY CASE WHEN $3 = 1 THEN (CASE WHEN $4 = 1 THEN n.updated_at ELSE n.created_at END) END DESC, \
                  CASE WHEN $3 = 0 THEN (CASE WHEN $4 = 1 THEN n.updated_at ELSE n.created_at END) END ASC, \
                  CASE WHEN $3 = 1 THEN n.id END DESC, n.id ASC LIMIT $5 OFFSET $6"
    ))
    .bind(noteable.kind)
    .bind(noteable.id)
    .bind(i64::from(newest_first))
    .bind(i64::from(by_update))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM notes WHERE noteable_type = $1 AND noteable_id = $2")
        .bind(noteable.kind)
        .bind(noteable.id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_note).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// Changes a note's text.
pub async fn update_note_body(conn: &mut Conn, id: NoteId, body: &str) -> DbResult<()> {
    sqlx::query("UPDATE notes SET body = $1, updated_at = $2 WHERE id = $3")
        .bind(body)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a note with its reactions.
pub async fn delete_note(conn: &mut Conn, id: NoteId) -> DbResult<()> {
    super::award_emoji::forget_awards(conn, super::award_emoji::Awardable { kind: "Note", id: id.0 }).await?;
    sqlx::query("DELETE FROM notes WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Who commented on a noteable (system notes aside), first comment first.
pub async fn commenters(conn: &mut Conn, noteable: Noteable) -> DbResult<Vec<UserId>> {
    let rows = sqlx::query(
        "SELECT author_id, MIN(id) AS first FROM notes WHERE noteable_type = $1 AND noteable_id = $2 AND system = 0 \
         AND author_id IS NOT NULL GROUP BY author_id ORDER BY first",
    )
    .bind(noteable.kind)
    .bind(noteable.id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(UserId(int(row, "author_id")?))).collect()
}

/// Whether a noteable already has a system note saying `body` (a cross reference is left once).
pub async fn has_system_note(conn: &mut Conn, noteable: Noteable, body: &str) -> DbResult<bool> {
    let found = sqlx::query(
        "SELECT 1 AS found FROM notes WHERE noteable_type = $1 AND noteable_id = $2 AND system = 1 AND body = $3 \
         LIMIT 1",
    )
    .bind(noteable.kind)
    .bind(noteable.id)
    .bind(body)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The notes of one discussion of a noteable, oldest first.
pub async fn discussion_notes(conn: &mut Conn, noteable: Noteable, discussion: &str) -> DbResult<Vec<NoteRow>> {
    let rows = sqlx::query(concat!(
        select_note!(),
        " WHERE n.noteable_type = $1 AND n.noteable_id = $2 AND n.discussion_id = $3 ORDER BY n.id"
    ))
    .bind(noteable.kind)
    .bind(noteable.id)
    .bind(discussion)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_note).collect()
}

/// Makes a discussion a thread (a comment replied to becomes one).
pub async fn make_thread(conn: &mut Conn, noteable: Noteable, discussion: &str) -> DbResult<()> {
    sqlx::query("UPDATE notes SET thread = 1 WHERE noteable_type = $1 AND noteable_id = $2 AND discussion_id = $3")
        .bind(noteable.kind)
        .bind(noteable.id)
        .bind(discussion)
        .execute(conn)
        .await?;
    Ok(())
}

/// Resolves a thread (by `by`), or reopens it (`None`).
pub async fn set_resolved(conn: &mut Conn, noteable: Noteable, discussion: &str, by: Option<UserId>) -> DbResult<()> {
    sqlx::query(
        "UPDATE notes SET resolved_at = $1, resolved_by_id = $2 \
         WHERE noteable_type = $3 AND noteable_id = $4 AND discussion_id = $5 AND system = 0",
    )
    .bind(by.map(|_| now_millis()))
    .bind(by.map(|id| id.0))
    .bind(noteable.kind)
    .bind(noteable.id)
    .bind(discussion)
    .execute(conn)
    .await?;
    Ok(())
}

/// A comment a search found, with the issue it is on.
#[derive(Debug, Clone)]
pub struct FoundNote {
    pub note: NoteRow,
    pub issue_id: gantry_types::IssueId,
    pub issue_iid: i64,
    pub issue_title: String,
}

// The search of comments on the issues `$1`…`$28` select (their own text condition unused),
// the words in `$29`, newest first, `$30` and `$31` the page.
macro_rules! search_notes_sql {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            "SELECT ",
            note_columns!(),
            ", i.id AS issue_id, i.iid AS issue_iid, i.title AS issue_title",
            notes_from!($engine),
            " LEFT JOIN users u ON u.id = n.author_id \
             JOIN issues i ON n.noteable_type = 'Issue' AND i.id = n.noteable_id",
            issue_filter!($engine, $scope, $driver),
            " AND n.system = 0",
            note_text!($engine),
            notes_newest_first!($engine),
            " LIMIT $30 OFFSET $31"
        )
    };
}

// How many comments the search finds, up to `COUNT_LIMIT + 1` (`$30`).
macro_rules! count_notes_sql {
    ($engine:tt, $scope:tt, $driver:tt) => {
        concat!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one",
            notes_from!($engine),
            " JOIN issues i ON n.noteable_type = 'Issue' AND i.id = n.noteable_id",
            issue_filter!($engine, $scope, $driver),
            " AND n.system = 0",
            note_text!($engine),
            " LIMIT $30) counted"
        )
    };
}

// On SQLite the FTS5 table is read first, newest first, so a page stops reading at its end
// (see `issues_from!`).
macro_rules! notes_from {
    (sqlite) => {
        " FROM notes_search CROSS JOIN notes n ON n.id = notes_search.rowid"
    };
    (postgres) => {
        " FROM notes n"
    };
}

macro_rules! notes_newest_first {
    (sqlite) => {
        " ORDER BY notes_search.rowid DESC"
    };
    (postgres) => {
        " ORDER BY n.created_at DESC, n.id DESC"
    };
}

macro_rules! note_text {
    (sqlite) => {
        " AND notes_search MATCH $29"
    };
    (postgres) => {
        " AND n.search_vector @@ to_tsquery('simple', $29)"
    };
}

/// One page of the comments people wrote (not system notes) on the issues `issues` selects
/// (its text search aside) whose words `words` finds, newest first; and how many there are.
pub async fn search_issue_notes(
    conn: &mut Conn,
    issues: &IssueFilter,
    words: &TextSearch,
    page: Page,
) -> DbResult<(Vec<FoundNote>, i64)> {
    let backend = crate::engine::backend_of(conn);
    let unsearched = IssueFilter { search: None, ..issues.clone() };
    let rows = bind_filter(
        sqlx::query(issue_sql!(conn, unsearched, Driver::Plain, search_notes_sql)),
        &unsearched,
        issues_state(issues),
        backend,
    )
    .bind(words.query(backend))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = bind_filter(
        sqlx::query(issue_sql!(conn, unsearched, Driver::Plain, count_notes_sql)),
        &unsearched,
        issues_state(issues),
        backend,
    )
    .bind(words.query(backend))
    .bind(crate::COUNT_LIMIT + 1)
    .fetch_one(&mut *conn)
    .await?;
    let found = rows
        .iter()
        .map(|row| {
            Ok(FoundNote {
                note: map_note(row)?,
                issue_id: gantry_types::IssueId(int(row, "issue_id")?),
                issue_iid: int(row, "issue_iid")?,
                issue_title: text(row, "issue_title")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok((found, int(&total, "n")?))
}

fn issues_state(issues: &IssueFilter) -> Option<&'static str> {
    issues.state.map(gantry_types::IssueState::as_str)
}
