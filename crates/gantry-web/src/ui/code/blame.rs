//! `/-/blame/:ref/*path`: who last changed each line of a file, in runs of lines per commit.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_git::read::PathObject;
use gantry_git::refs::CommitSummary;

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
    too_large: bool,
    blob_href: String,
}

/// `GET /{project}/-/blame/{ref}/{*path}`: each line with the commit that last changed it.
pub async fn blame(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (at, picker, object) =
        read_for_page(&state, &visitor, &frame, &ref_path, |reader, at| reader.object_at(&at.commit, &at.path)).await?;
    let Some(PathObject::Blob(blob)) = object else { return Err(not_found(&visitor, "file")) };
    let too_large = blob.is_binary() || blob.size > gantry_git::blame::BLAME_LIMIT_BYTES as u64;
    let mut rows = Vec::new();
    if !too_large {
        let blamed = state
            .core
            .code()
            .blame(&visitor.actor, &frame.project, &at.commit, &at.path)
            .await
            .map_err(|e| visitor.error(e))?;
        let text = String::from_utf8_lossy(&blob.data);
        let highlighted = highlight_blob(&blob.id, &at.path, &text);
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
    let page = BlamePage {
        chrome: Chrome::new(&visitor),
        trail: path_crumbs(&project, &at.reference, &at.path),
        name: at.path.rsplit('/').next().unwrap_or(&at.path).to_owned(),
        blob_href: format!("/{project}/-/blob/{}/{}", url_path(&at.reference), url_path(&at.path)),
        picker,
        tab: "code",
        frame,
        rows,
        too_large,
    };
    render(StatusCode::OK, &page)
}
