//! The home page, the dashboard (my projects and groups) and the explore page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_core::manage::groups::GroupQuery;
use gantry_core::manage::projects::ProjectQuery;
use gantry_core::{NamespaceRow, Page, ProjectRow, SortDirection};

use super::{Chrome, PageResult, render, see_other};
use crate::AppState;
use crate::auth::PageActor;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    projects: Vec<ProjectRow>,
    groups: Vec<NamespaceRow>,
}

#[derive(Template)]
#[template(path = "explore.html")]
struct ExplorePage {
    chrome: Chrome,
    projects: Vec<ProjectRow>,
}

const LIST_LIMIT: Page = Page { offset: 0, limit: 100 };

/// `GET /`: the dashboard for signed-in users, the sign-in page for others.
pub async fn home(visitor: PageActor) -> PageResult {
    see_other(if visitor.actor.user().is_some() { "/dashboard" } else { "/users/sign_in" })
}

/// `GET /dashboard`
pub async fn dashboard(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    visitor.require_user()?;
    let actor = &visitor.actor;
    let project_query = ProjectQuery { membership: true, order_by: "updated_at", ..ProjectQuery::default() };
    let (projects, _) = state.core.manage().list_projects(actor, &project_query, None, LIST_LIMIT).await?;
    let group_query = GroupQuery {
        membership: true,
        top_level_only: false,
        search: None,
        order_by: "path",
        sort: SortDirection::Asc,
    };
    let (groups, _) = state.core.manage().list_groups(actor, &group_query, LIST_LIMIT).await?;
    render(StatusCode::OK, &DashboardPage { chrome: Chrome::new(&visitor), projects, groups })
}

/// `GET /explore`: every project the visitor may see.
pub async fn explore(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    let query = ProjectQuery { order_by: "updated_at", ..ProjectQuery::default() };
    let (projects, _) = state.core.manage().list_projects(&visitor.actor, &query, None, LIST_LIMIT).await?;
    render(StatusCode::OK, &ExplorePage { chrome: Chrome::new(&visitor), projects })
}
