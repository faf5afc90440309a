//! The `wiki_pages` table: the search index of each wiki — a project's or a group's — the pages
//! of its default branch with their text. The wiki's git repository is the truth; core
//! refreshes these rows after every change to it, reading only the pages whose blob changed.

use gantry_types::{NamespaceId, ProjectId};

use crate::engine::{by_engine, id_list, id_set};
use crate::row::{int, opt_int, text};
use crate::search::TextSearch;
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// Whose wiki: a project's or a group's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WikiOwner {
    Project(ProjectId),
    Group(NamespaceId),
}

impl WikiOwner {
    /// The owner's id as `(project_id, group_id)`, one of them `None`, for the two columns.
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            WikiOwner::Project(id) => (Some(id.0), None),
            WikiOwner::Group(id) => (None, Some(id.0)),
        }
    }
}

impl std::fmt::Display for WikiOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WikiOwner::Project(id) => write!(f, "project {id}"),
            WikiOwner::Group(id) => write!(f, "group {id}"),
        }
    }
}

/// An indexed page.
#[derive(Debug, Clone)]
pub struct WikiPageRow {
    pub owner: WikiOwner,
    /// The path without `.md`.
    pub slug: String,
    pub title: String,
    pub content: String,
    pub updated_at: i64,
}

/// The pages indexed for a wiki, as `(slug, blob id)`.
pub async fn indexed_wiki_pages(conn: &mut Conn, owner: WikiOwner) -> DbResult<Vec<(String, String)>> {
    let (project, group) = owner.columns();
    let rows = sqlx::query("SELECT slug, blob_id FROM wiki_pages WHERE (project_id = $1 OR group_id = $2)")
        .bind(project)
        .bind(group)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((text(row, "slug")?, text(row, "blob_id")?))).collect()
}

// `$1` the project, `$2` the group (one of them NULL); the argument is the owner's column.
macro_rules! put_wiki_page_sql {
    ($owner:literal) => {
        concat!(
            "INSERT INTO wiki_pages (project_id, group_id, slug, title, blob_id, content, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (",
            $owner,
            ", slug) DO UPDATE SET title = excluded.title, blob_id = excluded.blob_id, ",
            "content = excluded.content, updated_at = excluded.updated_at"
        )
    };
}

/// Indexes a page's text, replacing what was indexed under its slug.
pub async fn put_wiki_page(
    conn: &mut Conn,
    owner: WikiOwner,
    slug: &str,
    title: &str,
    blob_id: &str,
    content: &str,
) -> DbResult<()> {
    let (project, group) = owner.columns();
    let sql = match owner {
        WikiOwner::Project(_) => put_wiki_page_sql!("project_id"),
        WikiOwner::Group(_) => put_wiki_page_sql!("group_id"),
    };
    sqlx::query(sql)
        .bind(project)
        .bind(group)
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
pub async fn remove_wiki_page(conn: &mut Conn, owner: WikiOwner, slug: &str) -> DbResult<()> {
    let (project, group) = owner.columns();
    sqlx::query("DELETE FROM wiki_pages WHERE (project_id = $1 OR group_id = $2) AND slug = $3")
        .bind(project)
        .bind(group)
        .bind(slug)
        .execute(conn)
        .await?;
    Ok(())
}

// The pages of the projects `$1` and groups `$5` whose words `$2` finds, by path; `$3`, `$4`
// the page (the count's groups are `$4`).
macro_rules! search_wiki_sql {
    ($text:tt) => {
        concat!(
            "SELECT w.project_id, w.group_id, w.slug, w.title, w.content, w.updated_at FROM wiki_pages w WHERE ",
            wiki_owners!($text, "$5"),
            wiki_text!($text),
            " ORDER BY w.updated_at DESC, w.id DESC LIMIT $3 OFFSET $4"
        )
    };
}

macro_rules! count_wiki_sql {
    ($text:tt) => {
        concat!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM wiki_pages w WHERE ",
            wiki_owners!($text, "$4"),
            wiki_text!($text),
            " LIMIT $3) counted"
        )
    };
}

// `$1` the projects, the second argument the groups' parameter.
macro_rules! wiki_owners {
    ($text:tt, $groups:literal) => {
        concat!("(w.project_id IN ", id_set!($text, "$1"), " OR w.group_id IN ", id_set!($text, $groups), ")")
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

/// One page of the wiki pages of `projects` and `groups` whose title or text holds the words,
/// most recently changed first; and how many there are.
pub async fn search_wiki_pages(
    conn: &mut Conn,
    projects: &[ProjectId],
    groups: &[NamespaceId],
    words: &TextSearch,
    page: Page,
) -> DbResult<(Vec<WikiPageRow>, i64)> {
    if projects.is_empty() && groups.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let backend = crate::engine::backend_of(conn);
    let projects = id_list(projects.iter().map(|p| p.0));
    let groups = id_list(groups.iter().map(|g| g.0));
    let rows = sqlx::query(by_engine!(backend, search_wiki_sql))
        .bind(projects.clone())
        .bind(words.query(backend))
        .bind(page.limit)
        .bind(page.offset)
        .bind(groups.clone())
        .fetch_all(&mut *conn)
        .await?;
    let total = sqlx::query(by_engine!(backend, count_wiki_sql))
        .bind(projects)
        .bind(words.query(backend))
        .bind(crate::COUNT_LIMIT + 1)
        .bind(groups)
        .fetch_one(&mut *conn)
        .await?;
    let pages = rows
        .iter()
        .map(|row| {
            let owner = match (opt_int(row, "project_id")?, opt_int(row, "group_id")?) {
                (Some(project), _) => WikiOwner::Project(ProjectId(project)),
                (None, Some(group)) => WikiOwner::Group(NamespaceId(group)),
                (None, None) => {
                    return Err(DbError::Corrupt { column: "wiki_pages.project_id", value: "NULL".to_owned() });
                }
            };
            Ok(WikiPageRow {
                owner,
                slug: text(row, "slug")?,
                title: text(row, "title")?,
                content: text(row, "content")?,
                updated_at: int(row, "updated_at")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok((pages, int(&total, "n")?))
}

/// Makes the caller's transaction the only one refreshing this wiki's index until it ends (on
/// SQLite its write transaction already is), so a refresh that read an older tip never writes
/// after one that read a newer.
pub async fn lock_wiki_index(conn: &mut Conn, owner: WikiOwner) -> DbResult<()> {
    if crate::engine::backend_of(conn) == crate::Backend::Postgres {
        let sql = match owner {
            WikiOwner::Project(_) => "SELECT id FROM projects WHERE id = $1 FOR NO KEY UPDATE",
            WikiOwner::Group(_) => "SELECT id FROM namespaces WHERE id = $1 FOR NO KEY UPDATE",
        };
        let (WikiOwner::Project(ProjectId(id)) | WikiOwner::Group(NamespaceId(id))) = owner;
        sqlx::query(sql).bind(id).execute(conn).await?;
    }
    Ok(())
}
