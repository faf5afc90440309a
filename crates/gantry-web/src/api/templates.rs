//! GitLab's file template API: `/templates/:type` (`gitlab_ci_ymls`, `gitignores`,
//! `dockerfiles`, `licenses`) and one template by key, for anyone; and the same per project
//! (`/projects/:id/templates/:type`) for those who may see the project, where the type `issues`
//! is the project's own issue templates (from its repository). The catalogue is
//! `gantry_core::file_templates`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use gantry_core::file_templates::{self, License, TemplateName, TemplateType};
use gantry_core::{Actor, CoreError};
use serde::{Deserialize, Serialize};

use super::projects::{lookup_access, lookup_project};
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// A template in a list (GitLab's `TemplatesList`).
#[derive(Debug, Serialize)]
pub struct TemplateListItem {
    pub key: &'static str,
    pub name: &'static str,
}

/// One template with its text (GitLab's `Template`).
#[derive(Debug, Serialize)]
pub struct Template {
    pub name: &'static str,
    pub content: &'static str,
}

/// A license (GitLab's `License`): its metadata and its text.
#[derive(Debug, Serialize)]
pub struct LicenseJson {
    pub key: &'static str,
    pub name: &'static str,
    pub nickname: Option<&'static str>,
    pub popular: bool,
    pub html_url: String,
    pub source_url: String,
    pub description: &'static str,
    pub conditions: &'static [&'static str],
    pub permissions: &'static [&'static str],
    pub limitations: &'static [&'static str],
    pub content: String,
}

impl LicenseJson {
    fn new(license: &License, content: String) -> LicenseJson {
        LicenseJson {
            key: license.key,
            name: license.name,
            nickname: license.nickname,
            popular: license.popular,
            html_url: license.html_url(),
            source_url: license.source_url(),
            description: license.description,
            conditions: license.conditions,
            permissions: license.permissions,
            limitations: license.limitations,
            content,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Licenses only: just the popular ones.
    popular: Option<bool>,
    #[serde(flatten)]
    page: PageParams,
}

/// `project` and `fullname`: what a license's placeholders are filled with.
#[derive(Debug, Deserialize)]
pub struct LicenseQuery {
    project: Option<String>,
    fullname: Option<String>,
}

fn template_type(name: &str) -> ApiResult<TemplateType> {
    TemplateType::from_api_name(name)
        .ok_or_else(|| AppError::BadRequest("type does not have a valid value".into()).into())
}

fn page_of<T: Serialize>(state: &AppState, uri: &Uri, items: Vec<T>, page: &PageParams) -> ApiResult<Response> {
    let page = page.resolve()?;
    let total = items.len();
    let start = usize::try_from(page.db().offset).unwrap_or(usize::MAX).min(total);
    let end = start.saturating_add(usize::try_from(page.per_page).unwrap_or(0)).min(total);
    let items: Vec<T> = items.into_iter().skip(start).take(end - start).collect();
    Ok(paginated(&state.config.external_url, uri, items, i64::try_from(total).unwrap_or(i64::MAX), page))
}

fn list_items(names: Vec<TemplateName>) -> Vec<TemplateListItem> {
    names.into_iter().map(|n| TemplateListItem { key: n.key, name: n.name }).collect()
}

/// One template of `kind` by key, as GitLab answers it (a license filled in, `fullname`
/// defaulting to the signed-in user's name); a 404 names `not_found`.
fn one(
    actor: &Actor,
    kind: TemplateType,
    key: &str,
    query: &LicenseQuery,
    not_found: &'static str,
) -> ApiResult<Response> {
    let not_found = || AppError::Core(CoreError::NotFound(not_found));
    if kind == TemplateType::License {
        let license = file_templates::license(key).ok_or_else(not_found)?;
        let fullname = query.fullname.as_deref().filter(|f| !f.is_empty()).or(actor.user().map(|u| u.name.as_str()));
        let content = license.filled_this_year(query.project.as_deref(), fullname);
        return Ok(Json(LicenseJson::new(license, content)).into_response());
    }
    let template = file_templates::find(kind, key).ok_or_else(not_found)?;
    Ok(Json(Template { name: template.key, content: template.content }).into_response())
}

/// `GET /templates/:type` (`page`, `per_page`; `popular` for licenses): the templates of a
/// type; licenses with their metadata and text.
pub async fn list(
    State(state): State<AppState>,
    ApiActor(_): ApiActor,
    Path(kind): Path<String>,
    OriginalUri(uri): OriginalUri,
    ApiInput(query): ApiInput<ListQuery>,
) -> ApiResult<Response> {
    let kind = template_type(&kind)?;
    if kind == TemplateType::License {
        let licenses: Vec<LicenseJson> = file_templates::licenses(query.popular.unwrap_or(false))
            .into_iter()
            .map(|license| LicenseJson::new(license, license.content.to_owned()))
            .collect();
        return page_of(&state, &uri, licenses, &query.page);
    }
    page_of(&state, &uri, list_items(file_templates::names(kind)), &query.page)
}

/// `GET /templates/:type/:key` (`project`, `fullname` for licenses): one template.
pub async fn get(
    ApiActor(actor): ApiActor,
    Path((kind, key)): Path<(String, String)>,
    ApiInput(query): ApiInput<LicenseQuery>,
) -> ApiResult<Response> {
    let kind = template_type(&kind)?;
    one(&actor, kind, &key, &query, kind.singular())
}

/// `GET /projects/:id/templates/:type` (`page`, `per_page`): the templates a project may use,
/// by key and name.
pub async fn project_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, kind)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    ApiInput(query): ApiInput<ListQuery>,
) -> ApiResult<Response> {
    if kind == ISSUES {
        let access = lookup_access(&state, &actor, &id).await?;
        let templates = state.core.plan().issue_templates(&access).await?;
        let items: Vec<IssueTemplateItem> =
            templates.into_iter().map(|t| IssueTemplateItem { key: t.name.clone(), name: t.name }).collect();
        return page_of(&state, &uri, items, &query.page);
    }
    lookup_project(&state, &actor, &id).await?;
    let kind = template_type(&kind)?;
    page_of(&state, &uri, list_items(file_templates::names(kind)), &query.page)
}

/// The type of a project's issue templates.
const ISSUES: &str = "issues";

/// A project's issue template in a list.
#[derive(Debug, Serialize)]
pub struct IssueTemplateItem {
    pub key: String,
    pub name: String,
}

/// `GET /projects/:id/templates/:type/:name` (`project`, `fullname` for licenses): one template
/// for a project.
pub async fn project_get(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, kind, key)): Path<(String, String, String)>,
    ApiInput(query): ApiInput<LicenseQuery>,
) -> ApiResult<Response> {
    if kind == ISSUES {
        let access = lookup_access(&state, &actor, &id).await?;
        let template = state.core.plan().issue_template(&access, &key).await?;
        return Ok(Json(serde_json::json!({"name": template.name, "content": template.content})).into_response());
    }
    lookup_project(&state, &actor, &id).await?;
    one(&actor, template_type(&kind)?, &key, &query, "Template")
}
