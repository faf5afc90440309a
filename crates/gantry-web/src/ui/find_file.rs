//! Find file (`/-/find_file/:ref`): a page that works without JavaScript (its form sends `?q=`
//! and the page lists the best matches) and `/-/files/:ref?q=…`, the best matches as JSON, which
//! the page's script (`assets/find.js`) asks for as the person types.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::code::find_file::{FileMatch, MAX_FILE_MATCHES};
use gantry_core::manage::groups::Lookup;
use gantry_core::policy::ProjectAction;
use serde::{Deserialize, Serialize};

use super::code::url_path;
use super::project_frame::ProjectFrame;
use super::search::Piece;
use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;

/// Matches the find file page shows.
const FILES_SHOWN: usize = 50;

/// `path` cut into pieces, the characters at `positions` marked.
fn mark_positions(path: &str, positions: &[usize]) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    for (index, c) in path.chars().enumerate() {
        let marked = positions.contains(&index);
        match pieces.last_mut() {
            Some(piece) if piece.marked == marked => piece.text.push(c),
            _ => pieces.push(Piece { text: c.to_string(), marked }),
        }
    }
    pieces
}

/// A path that matched, as the find file page and its script show it.
#[derive(Debug, Serialize)]
pub struct FoundFile {
    pub path: String,
    /// The file's page.
    pub href: String,
    /// The character positions the letters typed matched, to mark.
    pub positions: Vec<usize>,
}

/// The find file script's answer.
#[derive(Debug, Serialize)]
pub struct FoundFiles {
    pub files: Vec<FoundFile>,
    /// How many paths matched in all.
    pub total: usize,
    /// False when the tree was too large to list whole.
    pub complete: bool,
}

fn found_file(project: &str, reference: &str, found: FileMatch) -> FoundFile {
    FoundFile {
        href: format!("/{project}/-/blob/{}/{}", url_path(reference), url_path(&found.path)),
        path: found.path,
        positions: found.positions,
    }
}

/// A path as the page lists it.
pub struct FileRow {
    pub href: String,
    pub pieces: Vec<Piece>,
}

#[derive(Template)]
#[template(path = "projects/find_file.html")]
struct FindFilePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    reference: String,
    query: String,
    files: Vec<FileRow>,
    total: usize,
    complete: bool,
    /// Where the script asks for matches.
    matches_href: String,
    /// Where Esc goes: the tree at the ref.
    tree_href: String,
}

/// The find file parameters: the letters typed.
#[derive(Debug, Default, Deserialize)]
pub struct FindFileQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

/// `GET /{project}/-/find_file/{*reference}`: the find file page; without JavaScript its form
/// sends `?q=` and the page lists the best matches.
pub async fn find_file(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(reference): Path<String>,
    Query(query): Query<FindFileQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ReadCode)?;
    let found = state
        .core
        .code()
        .find_files(&frame.access, &reference, &query.q, FILES_SHOWN)
        .await
        .map_err(|e| visitor.error(e))?
        .ok_or_else(|| super::code::not_found(&visitor, "ref"))?;
    let project = frame.project.full_path.clone();
    let files = found
        .matches
        .into_iter()
        .map(|found| {
            let file = found_file(&project, &reference, found);
            FileRow { pieces: mark_positions(&file.path, &file.positions), href: file.href }
        })
        .collect();
    let page = FindFilePage {
        chrome: Chrome::new(&visitor),
        matches_href: format!("/{project}/-/files/{}", url_path(&reference)),
        tree_href: format!("/{project}/-/tree/{}", url_path(&reference)),
        tab: "code",
        frame,
        query: query.q,
        files,
        total: found.total,
        complete: found.complete,
        reference,
    };
    render(StatusCode::OK, &page)
}

/// `GET /{project}/-/files/{*reference}?q=…&limit=…`: the paths at the ref that best match, as
/// JSON (the find file page asks as the person types).
pub async fn find_file_matches(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(reference): Path<String>,
    Query(query): Query<FindFileQuery>,
) -> Result<axum::Json<FoundFiles>, PageError> {
    let access =
        state.core.project_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
    let limit = query.limit.unwrap_or(FILES_SHOWN).min(MAX_FILE_MATCHES);
    let found = state
        .core
        .code()
        .find_files(&access, &reference, &query.q, limit)
        .await
        .map_err(|e| visitor.error(e))?
        .ok_or_else(|| super::code::not_found(&visitor, "ref"))?;
    let project = &access.project().full_path;
    Ok(axum::Json(FoundFiles {
        files: found.matches.into_iter().map(|found| found_file(project, &reference, found)).collect(),
        total: found.total,
        complete: found.complete,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::search::tests::shown;

    #[test]
    fn marks_the_letters_typed() {
        assert_eq!(shown(&mark_positions("src/main.rs", &[4, 5, 6, 7])), "src/[main].rs");
        assert_eq!(shown(&mark_positions("ab", &[])), "ab");
    }
}
