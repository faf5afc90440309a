//! Project and group wikis, shaped like GitLab's wikis APIs (`/projects/:id/wikis` and
//! `/groups/:id/wikis`: the pages, `with_content` for their Markdown; one page by slug, at a
//! `version`, with `render_html`; create, update — a new title moves the page — and delete;
//! `/wikis/attachments` adds a file). One set of handlers serves both: the route they were
//! reached by says whose wiki it is. Core decides who may.

use axum::Json;
use axum::extract::{MatchedPath, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::Actor;
use gantry_core::plan::wiki::{self, WikiAccess, WikiPage, WikiPageInput, WikiPageSummary};
use gantry_core::policy::{GroupAccess, ProjectAccess};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, ApiUpload};
use crate::auth::ApiActor;
use crate::error::AppError;

/// The project or group whose wiki a route names, with the caller's rights there.
enum WikiOf {
    Project(Box<ProjectAccess>),
    Group(Box<GroupAccess>),
}

impl WikiOf {
    /// The wiki of `/groups/:id/…` or of `/projects/:id/…`, as the route reached says.
    async fn load(state: &AppState, actor: &Actor, route: &MatchedPath, id: &str) -> ApiResult<WikiOf> {
        if route.as_str().starts_with("/api/v4/groups/") {
            Ok(WikiOf::Group(Box::new(lookup_group_access(state, actor, id).await?)))
        } else {
            Ok(WikiOf::Project(Box::new(lookup_access(state, actor, id).await?)))
        }
    }

    fn access(&self) -> WikiAccess<'_> {
        match self {
            WikiOf::Project(access) => access.as_ref().into(),
            WikiOf::Group(access) => access.as_ref().into(),
        }
    }
}

/// A page, as GitLab shows it (`content` only when asked for, in lists).
#[derive(Debug, Serialize)]
pub struct WikiPageJson {
    pub format: &'static str,
    pub slug: String,
    pub title: String,
    pub encoding: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl WikiPageJson {
    fn summary(page: &WikiPageSummary, content: Option<String>) -> WikiPageJson {
        WikiPageJson {
            format: "markdown",
            slug: page.slug.clone(),
            title: page.title.clone(),
            encoding: "UTF-8",
            content,
        }
    }

    fn page(page: WikiPage, render_html: bool) -> WikiPageJson {
        let content = if render_html { crate::markup::render_markdown(&page.content, None) } else { page.content };
        WikiPageJson::summary(&page.summary, Some(content))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    with_content: Option<String>,
}

/// A boolean query parameter as clients send it (`true`, `True`, `1`).
fn flag(value: Option<&str>) -> bool {
    value.map(str::trim).is_some_and(|v| ["true", "1", "yes"].iter().any(|t| v.eq_ignore_ascii_case(t)))
}

/// `GET /projects/:id/wikis` and `/groups/:id/wikis` (`with_content`): the pages, the sidebar included.
pub async fn list_wiki_pages(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    route: MatchedPath,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<WikiPageJson>>> {
    let wiki = WikiOf::load(&state, &actor, &route, &id).await?;
    let access = wiki.access();
    let plan = state.core.plan();
    let listed = if flag(query.with_content.as_deref()) {
        let pages = plan.list_wiki_pages_with_content(access).await?;
        pages.into_iter().map(|(page, content)| WikiPageJson::summary(&page, Some(content))).collect()
    } else {
        plan.list_wiki_pages(access).await?.iter().map(|page| WikiPageJson::summary(page, None)).collect()
    };
    Ok(Json(listed))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    render_html: Option<String>,
}

/// `GET /projects/:id/wikis/:slug` and the group's (`version`, `render_html`)
pub async fn get_wiki_page(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    route: MatchedPath,
    Path((id, slug)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<WikiPageJson>> {
    let wiki = WikiOf::load(&state, &actor, &route, &id).await?;
    let access = wiki.access();
    let page = state.core.plan().find_wiki_page(access, &slug, query.version.as_deref()).await?;
    Ok(Json(WikiPageJson::page(page, flag(query.render_html.as_deref()))))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageInput {
    title: Option<String>,
    content: Option<String>,
    format: Option<String>,
    message: Option<String>,
    last_commit_sha: Option<String>,
}

impl PageInput {
    fn into_core(self) -> WikiPageInput {
        WikiPageInput {
            title: self.title,
            content: self.content,
            format: self.format,
            message: self.message,
            last_commit_sha: self.last_commit_sha,
        }
    }
}

/// `POST /projects/:id/wikis` and the group's (`title`, `content`, `format`)
pub async fn create_wiki_page(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    route: MatchedPath,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<PageInput>,
) -> ApiResult<Response> {
    let wiki = WikiOf::load(&state, &actor, &route, &id).await?;
    let access = wiki.access();
    access.require_edit()?;
    if input.content.is_none() {
        return Err(AppError::BadRequest("content is missing".to_owned()).into());
    }
    let page = state.core.plan().create_wiki_page(access, &input.into_core()).await?;
    Ok((StatusCode::CREATED, Json(WikiPageJson::page(page, false))).into_response())
}

/// `PUT /projects/:id/wikis/:slug` and the group's (`title`, `content`, `format`; at least one)
pub async fn update_wiki_page(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    route: MatchedPath,
    Path((id, slug)): Path<(String, String)>,
    ApiInput(input): ApiInput<PageInput>,
) -> ApiResult<Json<WikiPageJson>> {
    let wiki = WikiOf::load(&state, &actor, &route, &id).await?;
    let access = wiki.access();
    access.require_edit()?;
    if input.title.is_none() && input.content.is_none() && input.format.is_none() {
        return Err(AppError::BadRequest(
            "content, title, format are missing, at least one parameter must be provided".to_owned(),
        )
        .into());
    }
    let page = state.core.plan().update_wiki_page(access, &slug, &input.into_core()).await?;
    Ok(Json(WikiPageJson::page(page, false)))
}

/// `DELETE /projects/:id/wikis/:slug` and the group's: 204.
pub async fn delete_wiki_page(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    route: MatchedPath,
    Path((id, slug)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let wiki = WikiOf::load(&state, &actor, &route, &id).await?;
    let access = wiki.access();
    state.core.plan().delete_wiki_page(access, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
pub struct AttachmentInput {
    #[serde(default)]
    branch: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AttachmentLink {
    pub url: String,
    pub markdown: String,
}

#[derive(Debug, Serialize)]
pub struct AttachmentJson {
    pub file_name: String,
    pub file_path: String,
    pub branch: String,
    pub link: AttachmentLink,
}

/// `POST /projects/:id/wikis/attachments` and the group's (a multipart `file`; `branch` must be the wiki's).
pub async fn upload_wiki_attachment(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    route: MatchedPath,
    Path(id): Path<String>,
    ApiUpload(input, mut uploads): ApiUpload<AttachmentInput>,
) -> ApiResult<Response> {
    let wiki = WikiOf::load(&state, &actor, &route, &id).await?;
    let access = wiki.access();
    access.require_edit()?;
    if let Some(branch) = input.branch.as_deref().map(str::trim).filter(|b| !b.is_empty() && *b != wiki::WIKI_BRANCH) {
        return Err(AppError::BadRequest(format!(
            "branch '{branch}' is not the wiki's: attachments go on {}",
            wiki::WIKI_BRANCH
        ))
        .into());
    }
    let Some(file) = uploads.take("file") else {
        return Err(AppError::BadRequest("file is missing: send it as a file in a multipart form".to_owned()).into());
    };
    let attachment = state.core.plan().upload_wiki_attachment(access, &file.filename, &file.bytes).await?;
    let markdown = wiki::attachment_markdown(&attachment.file_name, &attachment.file_path);
    let json = AttachmentJson {
        link: AttachmentLink { url: attachment.file_path.clone(), markdown },
        file_name: attachment.file_name,
        file_path: attachment.file_path,
        branch: attachment.branch,
    };
    Ok((StatusCode::CREATED, Json(json)).into_response())
}
