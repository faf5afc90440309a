//! The CI/CD Catalog: Explore → CI/CD Catalog lists the catalog resources the visitor may see
//! (found by name, a page at a time), a resource's page shows its components with their
//! inputs, its released versions and the line that includes each component, and a project's
//! Owners mark it as a catalog resource in its general settings.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::Page;
use gantry_core::ci::catalog::{CatalogResource, CatalogResourceRow};
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;

/// Resources on one page of the catalog.
const PAGE_SIZE: i64 = 20;

#[derive(Debug, Default, Deserialize)]
pub struct CatalogQuery {
    #[serde(default)]
    search: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "explore/catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    explore_tab: &'static str,
    resources: Vec<CatalogResourceRow>,
    total: i64,
    search: String,
    /// `search=…`, for the pager's links.
    search_query: String,
    page: i64,
    has_next: bool,
}

/// `GET /explore/catalog[?search=…&page=N]`: the catalog resources the visitor may see.
pub async fn explore_catalog(
    State(state): State<AppState>,
    visitor: PageActor,
    Query(query): Query<CatalogQuery>,
) -> PageResult {
    let page = query.page.unwrap_or(1).clamp(1, i64::MAX / PAGE_SIZE);
    let window = Page { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
    let (resources, total) = state
        .core
        .ci()
        .list_catalog_resources(&visitor.actor, Some(&query.search), window)
        .await
        .map_err(|e| visitor.error(e))?;
    let view = CatalogPage {
        chrome: Chrome::new(&visitor),
        explore_tab: "catalog",
        resources,
        total,
        search_query: serde_urlencoded::to_string([("search", query.search.trim())]).unwrap_or_default(),
        search: query.search.trim().to_owned(),
        page,
        has_next: page * PAGE_SIZE < total,
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "explore/catalog_resource.html")]
struct ResourcePage {
    chrome: Chrome,
    explore_tab: &'static str,
    resource: CatalogResource,
    /// The include line of each component, in the components' order.
    usages: Vec<String>,
}

/// `GET /explore/catalog/{*path}`: a catalog resource (the project at that full path).
pub async fn catalog_resource(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(path): Path<String>,
) -> PageResult {
    let path = path.trim_matches('/');
    let resource = state.core.ci().catalog_resource(&visitor.actor, path).await.map_err(|e| visitor.error(e))?;
    let usages = resource
        .components
        .iter()
        .map(|component| format!("include:\n  - component: {}", resource.address(component)))
        .collect();
    render(StatusCode::OK, &ResourcePage { chrome: Chrome::new(&visitor), explore_tab: "catalog", resource, usages })
}

#[derive(Debug, Deserialize)]
pub struct CatalogSettingForm {
    /// `1` to make the project a catalog resource; absent (an unchecked box) to stop.
    #[serde(default)]
    ci_cd_catalog: String,
}

/// `POST /{project}/-/settings/catalog`: marks the project as a CI/CD Catalog resource, or
/// removes the mark (Owners).
pub async fn save_catalog_setting(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<CatalogSettingForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let resource = matches!(form.ci_cd_catalog.as_str(), "1" | "true" | "on");
    state.core.ci().set_catalog_resource(&frame.access, resource).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings#ci-cd-catalog", frame.project.full_path))
}
