//! `/-/blame/:ref/*path`: who last changed each line of a file, in runs of lines per commit;
//! a binary file or one too large to blame is said to be so.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_git::read::PathObject;
use gantry_git::refs::CommitSummary;
use serde::Deserialize;

use super::blob::{line_count, shown_part};
use super::{CommitLine, PathCrumb, RefPicker, not_found, path_crumbs, read_for_page, url_path};
use crate::AppState;
use crate::auth::PageActor;
use crate::markup::highlight_blob;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, render};

/// A run of lines from one commit on the blame page.
pub struct BlameRow {
    pub commit: Option<CommitLine>,
    pub lines: Vec<(u32, String)>,
}

/// Why a file's lines are not blamed.
pub enum Unblamed {
    Binary,
    TooLarge,
}

#[derive(Template)]
#[template(path = "projects/blame.html")]
struct BlamePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    picker: RefPicker,
    trail: Vec<PathCrumb>,
    name: String,
    rows: Vec<BlameRow>,
    unblamed: Option<Unblamed>,
    blob_href: String,
    raw_href: String,
    show_all_href: String,
    /// How many lines the file has, and how many are shown when it is large.
    lines: usize,
    shown_lines: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BlameQuery {
    /// `?full=1` blames every line of a large file.
    #[serde(default)]
    full: String,
}

/// `GET /{project}/-/blame/{ref}/{*path}`: each line with the commit that last changed it (the
/// first lines of a large file until all are asked for).
pub async fn blame(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    Query(query): Query<BlameQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (at, picker, object) =
        read_for_page(&state, &visitor, &frame, &ref_path, |reader, at| reader.object_at(&at.commit, &at.path)).await?;
    let Some(PathObject::Blob(blob)) = object else { return Err(not_found(&visitor, "file")) };
    let unblamed = if blob.is_binary() {
        Some(Unblamed::Binary)
    } else if !blob.is_complete() || blob.size > gantry_git::blame::BLAME_LIMIT_BYTES as u64 {
        Some(Unblamed::TooLarge)
    } else {
        None
    };
    let text = String::from_utf8_lossy(&blob.data);
    let part = shown_part(&text, query.full == "1");
    let shown_lines = part.map(line_count);
    let mut rows = Vec::new();
    if unblamed.is_none() {
        let blamed = state
            .core
            .code()
            .blame(&visitor.actor, &frame.project, &at.commit, &at.path, shown_lines)
            .await
            .map_err(|e| visitor.error(e))?;
        let highlighted = highlight_blob(&blob.id, &at.path, part.unwrap_or(&text));
        let now = gantry_core::now_millis();
        for range in &blamed.ranges {
            let source = &blamed.commits[range.commit];
            let summary = CommitSummary {
                id: source.id.clone(),
                title: source.summary.clone(),
                author_name: source.author_name.clone(),
                committed_date: source.author_time,
                ..CommitSummary::default()
            };
            let lines = (0..range.lines.len() as u32)
                .map(|i| {
                    let number = range.start + i;
                    let html = highlighted.lines.get(number as usize - 1).cloned().unwrap_or_default();
                    (number, html)
                })
                .collect();
            rows.push(BlameRow { commit: Some(CommitLine::new(&summary, now)), lines });
        }
    }
    let project = frame.project.full_path.clone();
    let (reference, path) = (url_path(&at.reference), url_path(&at.path));
    let page = BlamePage {
        chrome: Chrome::new(&visitor),
        trail: path_crumbs(&project, &at.reference, &at.path),
        name: at.path.rsplit('/').next().unwrap_or(&at.path).to_owned(),
        blob_href: format!("/{project}/-/blob/{reference}/{path}"),
        raw_href: format!("/{project}/-/raw/{reference}/{path}"),
        show_all_href: format!("/{project}/-/blame/{reference}/{path}?full=1"),
        lines: line_count(&text),
        shown_lines: shown_lines.filter(|_| unblamed.is_none()),
        picker,
        tab: "code",
        frame,
        rows,
        unblamed,
    };
    render(StatusCode::OK, &page)
}
