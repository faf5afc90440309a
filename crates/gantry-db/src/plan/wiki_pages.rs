//! The `wiki_pages` table: the search index of each project's wiki, the pages of its default
//! branch with their text. The wiki's git repository is the truth; core refreshes these rows
//! after every change to it, reading only the pages whose blob changed.

use gantry_types::ProjectId;

use crate::engine::{by_engine, id_list, id_set};
use crate::row::{int, text};
use crate::search::TextSearch;
use crate::{Conn, DbResult, Page, now_millis};

/// An indexed page.
#[derive(Debug, Clone)]
pub struct WikiPageRow {
    pub project_id: ProjectId,
    /// The path without `.md`.
    pub slug: String,
    pub title: String,
    pub content: String,
    pub updated_at: i64,
}

/// The pages indexed for a project, as `(slug, blob id)`.
pub async fn indexed_wiki_pages(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT slug, blob_id FROM wiki_pages WHERE project_id = $1")
        .bind(project.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((text(row, "slug")?, text(row, "blob_id")?))).collect()
}

/// Indexes a page's text, replacing what was indexed under its slug.
pub async fn put_wiki_page(
    conn: &mut Conn,
    project: ProjectId,
    slug: &str,
    title: &str,
    blob_id: &str,
    content: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO wiki_pages (project_id, slug, title, blob_id, content, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (project_id, slug) DO UPDATE SET title = excluded.title, blob_id = excluded.blob_id, \
         content = excluded.content, updated_at = excluded.updated_at",
    )
    .bind(project.0)
    .bind(slug)
    .bind(title)
    .bind(blob_id)
    .bind(content)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a page out of the index.
pub async fn remove_wiki_page(conn: &mut Conn, project: ProjectId, slug: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM wiki_pages WHERE project_id = $1 AND slug = $2")
        .bind(project.0)
        .bind(slug)
        .execute(conn)
        .await?;
    Ok(())
}

// The pages of the projects `$1` whose words `$2` finds, by path; `$3`, `$4` the page.
macro_rules! search_wiki_sql {
    ($text:tt) => {
        concat!(
            "SELECT w.project_id, w.slug, w.title, w.content, w.updated_at FROM wiki_pages w WHERE w.project_id IN ",
            id_set!($text, "$1"),
            wiki_text!($text),
            " ORDER BY w.updated_at DESC, w.id DESC LIMIT $3 OFFSET $4"
        )
    };
}

macro_rules! count_wiki_sql {
    ($text:tt) => {
        concat!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM wiki_pages w WHERE w.project_id IN ",
            id_set!($text, "$1"),
            wiki_text!($text),
            " LIMIT $3) counted"
        )
    };
}

macro_rules! wiki_text {
    (sqlite) => {
        " AND w.id IN (SELECT rowid FROM wiki_pages_search WHERE wiki_pages_search MATCH $2)"
    };
    (postgres) => {
        " AND w.search_vector @@ to_tsquery('simple', $2)"
    };
}

/// One page of the wiki pages of `projects` whose title or text holds the words, most recently
/// changed first; and how many there are.
pub async fn search_wiki_pages(
    conn: &mut Conn,
    projects: &[ProjectId],
    words: &TextSearch,
    page: Page,
) -> DbResult<(Vec<WikiPageRow>, i64)> {
    if projects.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let backend = crate::engine::backend_of(conn);
    let projects = id_list(projects.iter().map(|p| p.0));
    let rows = sqlx::query(by_engine!(backend, search_wiki_sql))
        .bind(projects.clone())
        .bind(words.query(backend))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *conn)
        .await?;
    let total = sqlx::query(by_engine!(backend, count_wiki_sql))
        .bind(projects)
        .bind(words.query(backend))
        .bind(crate::COUNT_LIMIT + 1)
        .fetch_one(&mut *conn)
        .await?;
    let pages = rows
        .iter()
        .map(|row| {
            Ok(WikiPageRow {
                project_id: ProjectId(int(row, "project_id")?),
                slug: text(row, "slug")?,
                title: text(row, "title")?,
                content: text(row, "content")?,
                updated_at: int(row, "updated_at")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok((pages, int(&total, "n")?))
}

/// Makes the caller's transaction the only one refreshing this project's wiki index until it
/// ends (on SQLite its write transaction already is), so a refresh that read an older tip
/// never writes after one that read a newer.
pub async fn lock_wiki_index(conn: &mut Conn, project: ProjectId) -> DbResult<()> {
    if crate::engine::backend_of(conn) == crate::Backend::Postgres {
        sqlx::query("SELECT id FROM projects WHERE id = $1 FOR NO KEY UPDATE").bind(project.0).execute(conn).await?;
    }
    Ok(())
}
