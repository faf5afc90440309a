//! `POST /markdown`, GitLab's Markdown preview for API clients: `text` rendered as the pages
//! render it (GitHub-flavoured, sanitised). With `gfm` the references in it the caller may
//! follow become links with titles, read in `project`'s context when one is named (a project
//! the caller cannot see is not found, as everywhere).

use axum::Json;
use axum::extract::State;
use gantry_core::plan::issues::MAX_DESCRIPTION;
use gantry_core::plan::references::{MAX_REFERENCES, references_in};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::markup::links::RepositoryLinks;
use crate::markup::{render_markdown, render_markdown_with};

#[derive(Debug, Default, Deserialize)]
pub struct MarkdownParams {
    text: Option<String>,
    #[serde(default)]
    gfm: bool,
    /// A project's id or full path: the context of the references.
    project: Option<String>,
}

/// `POST /markdown` (`text`, `gfm`, `project`): `{"html": …}`.
pub async fn render(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(params): ApiInput<MarkdownParams>,
) -> ApiResult<Json<Value>> {
    let text = params.text.ok_or_else(|| AppError::BadRequest("text is missing".to_owned()))?;
    if text.len() > MAX_DESCRIPTION {
        return Err(AppError::BadRequest("text is too long (at most 1 MiB)".to_owned()).into());
    }
    let access = match params.project.as_deref().map(str::trim) {
        Some(project) if !project.is_empty() => Some(lookup_access(&state, &actor, project).await?),
        _ => None,
    };
    let links = access.as_ref().map(|access| RepositoryLinks::notes(&access.project().full_path));
    let html = if params.gfm {
        let mut references = references_in(&text);
        references.truncate(MAX_REFERENCES);
        let resolved = state.core.plan().resolve_references(&actor, access.as_ref(), &references).await?;
        render_markdown_with(&text, links.as_ref(), &resolved)
    } else {
        render_markdown(&text, links.as_ref())
    };
    Ok(Json(json!({ "html": html })))
}
