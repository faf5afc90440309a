//! A group's iteration pages: an iteration's page (`/{group}/-/iterations/{id}`) shows its
//! dates, progress and issues in the group's projects; Reporters edit the group's own and
//! delete a manual cadence's (after a page that asks). The cadences list, where iterations are
//! found and added, is `cadence_pages.rs`; both share this module's group frame (`Home`), lines
//! and forms.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::manage::groups::Lookup;
use gantry_core::plan::burnup::Timebox;
use gantry_core::plan::issues::{IssueQuery, IssuesOf, IterationFilter};
use gantry_core::plan::iterations::{
    IterationInput, IterationRow, IterationScope, iteration_name, iteration_period, iteration_state, today,
};
use gantry_core::policy::{GroupAccess, GroupAction};
use gantry_core::{CoreError, Page, now_millis};
use gantry_types::{CadenceId, IssueState, IterationId};

use super::burnup_chart::BurnupChart;
use super::issues::{Fields, IssueLine};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::markup::render_markdown;
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render};

/// Most issues an iteration's page lists in each state.
const MAX_ISSUES: i64 = 100;

/// The group the pages are on.
pub(super) struct Home {
    pub access: GroupAccess,
    pub crumbs: Vec<Crumb>,
    pub name: String,
    /// `/{group}/-`.
    pub base: String,
}

impl Home {
    pub(super) async fn load(
        state: &AppState,
        visitor: &PageActor,
        target: NamespaceTarget,
    ) -> Result<Home, PageError> {
        let access =
            state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
        let chain = state.core.manage().namespace_chain(access.group().id).await?;
        Ok(Home {
            crumbs: breadcrumbs(&chain, None),
            name: access.group().name.clone(),
            base: format!("/{}/-", access.group().full_path),
            access,
        })
    }

    pub(super) fn can_manage(&self) -> bool {
        self.access.require(GroupAction::ManageIterations).is_ok()
    }
}

/// One iteration as the pages show it.
pub(super) struct IterationLine {
    pub id: i64,
    pub name: String,
    /// Its days, when it has a title (without one, the name is the days).
    pub period: Option<String>,
    pub href: String,
    pub state: &'static str,
}

impl IterationLine {
    pub(super) fn new(iteration: &IterationRow, today: &str) -> IterationLine {
        IterationLine {
            id: iteration.id.0,
            name: iteration_name(iteration),
            period: iteration.title.as_ref().map(|_| iteration_period(iteration)),
            href: format!("/{}/-/iterations/{}", iteration.group_path, iteration.id),
            state: iteration_state(iteration, today).as_str(),
        }
    }
}

/// What the iteration form shows (again, after a refusal).
#[derive(Default)]
pub(super) struct IterationDraft {
    pub title: String,
    pub description: String,
    pub start_date: String,
    pub due_date: String,
}

impl IterationDraft {
    pub(super) fn of(form: &Fields) -> IterationDraft {
        IterationDraft {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            start_date: form.get("start_date").to_owned(),
            due_date: form.get("due_date").to_owned(),
        }
    }

    /// A manual cadence's iteration takes its dates from the form; an automatic one's keeps them.
    pub(super) fn input(&self, dated: bool) -> IterationInput {
        IterationInput {
            title: Some(Some(self.title.clone()).filter(|t| !t.trim().is_empty())),
            description: Some(self.description.clone()),
            start_date: dated.then(|| self.start_date.clone()),
            due_date: dated.then(|| self.due_date.clone()),
        }
    }
}

pub(super) fn cadence_id(visitor: &PageActor, value: &str) -> Result<CadenceId, PageError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(CadenceId)
        .ok_or_else(|| visitor.error(CoreError::NotFound("iteration cadence")))
}

pub(super) fn iteration_id(visitor: &PageActor, value: &str) -> Result<IterationId, PageError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(IterationId)
        .ok_or_else(|| visitor.error(CoreError::NotFound("iteration")))
}

#[derive(Template)]
#[template(path = "iterations/delete.html")]
pub(super) struct DeletePage {
    pub chrome: Chrome,
    pub crumbs: Vec<Crumb>,
    pub name: String,
    /// "iteration cadence Sprints", "iteration Sprint 4".
    pub what: String,
    pub action: String,
    pub back: String,
    pub consequence: &'static str,
}

#[derive(Template)]
#[template(path = "iterations/show.html")]
struct IterationPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    name: String,
    base: String,
    iteration: IterationLine,
    cadence_title: String,
    dates: String,
    description_html: String,
    /// The visitor may edit and delete it here (the group's own).
    can_manage: bool,
    /// A manual cadence's (its dates can change, and it can be deleted).
    manual: bool,
    open: Vec<IssueLine>,
    closed: Vec<IssueLine>,
    open_count: i64,
    closed_count: i64,
    percent: i64,
    burnup: Option<BurnupChart>,
}

/// `GET /{group}/-/iterations/{iteration_id}`: its dates, progress and issues.
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let plan = state.core.plan();
    let scope = IterationScope::Group(&home.access);
    let iteration = plan.find_iteration(scope, iteration_id(&visitor, &id)?).await.map_err(|e| visitor.error(e))?;
    let manual = !plan.cadence_of(&home.access, &iteration).await.map_err(|e| visitor.error(e))?.automatic;
    let now = now_millis();
    let mut lists = Vec::new();
    for wanted in [IssueState::Opened, IssueState::Closed] {
        let query =
            IssueQuery { iteration: IterationFilter::Id(iteration.id), state: Some(wanted), ..IssueQuery::default() };
        let page = Page { offset: 0, limit: MAX_ISSUES };
        let (views, total) =
            plan.list_issues(IssuesOf::Group(&home.access), &query, page).await.map_err(|e| visitor.error(e))?;
        lists.push((views.iter().map(|view| IssueLine::new(view, now)).collect::<Vec<_>>(), total));
    }
    let (closed, closed_count) = lists.pop().unwrap_or_default();
    let (open, open_count) = lists.pop().unwrap_or_default();
    let total = open_count + closed_count;
    let burnup = match (iteration.start_date.parse(), iteration.due_date.parse()) {
        (Ok(start), Ok(due)) => {
            let timebox = Timebox::Iteration(iteration.id);
            let burnup =
                plan.burnup(IssuesOf::Group(&home.access), timebox, start, due).await.map_err(|e| visitor.error(e))?;
            Some(BurnupChart::new(burnup, start, due))
        }
        _ => None,
    };
    let page = IterationPage {
        chrome: Chrome::new(&visitor),
        iteration: IterationLine::new(&iteration, &today()),
        cadence_title: iteration.cadence_title.clone(),
        dates: iteration_period(&iteration),
        description_html: render_markdown(&iteration.description, None),
        can_manage: iteration.group_id == home.access.group().id && home.can_manage(),
        manual,
        open,
        closed,
        open_count,
        closed_count,
        percent: if total > 0 { closed_count * 100 / total } else { 0 },
        burnup,
        crumbs: home.crumbs,
        name: home.name,
        base: home.base,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "iterations/edit_iteration.html")]
struct EditIterationPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    name: String,
    base: String,
    id: i64,
    manual: bool,
    draft: IterationDraft,
    error: Option<String>,
}

/// The group's own iteration by the path's id, and whether its cadence is manual.
async fn own_iteration(
    state: &AppState,
    visitor: &PageActor,
    home: &Home,
    id: &str,
) -> Result<(IterationRow, bool), PageError> {
    home.access.require(GroupAction::ManageIterations).map_err(|e| visitor.error(e))?;
    let plan = state.core.plan();
    let iteration = plan
        .find_iteration(IterationScope::Group(&home.access), iteration_id(visitor, id)?)
        .await
        .map_err(|e| visitor.error(e))?;
    if iteration.group_id != home.access.group().id {
        return Err(visitor.error(CoreError::NotFound("iteration")));
    }
    let manual = !plan.cadence_of(&home.access, &iteration).await.map_err(|e| visitor.error(e))?.automatic;
    Ok((iteration, manual))
}

/// `GET /{group}/-/iterations/{iteration_id}/edit`
pub async fn edit_iteration(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let (iteration, manual) = own_iteration(&state, &visitor, &home, &id).await?;
    let draft = IterationDraft {
        title: iteration.title.clone().unwrap_or_default(),
        description: iteration.description.clone(),
        start_date: iteration.start_date.clone(),
        due_date: iteration.due_date.clone(),
    };
    let page = EditIterationPage {
        chrome: Chrome::new(&visitor),
        id: iteration.id.0,
        manual,
        draft,
        error: None,
        crumbs: home.crumbs,
        name: home.name,
        base: home.base,
    };
    render(StatusCode::OK, &page)
}

/// `POST /{group}/-/iterations/{iteration_id}/edit`
pub async fn save_iteration(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let (iteration, manual) = own_iteration(&state, &visitor, &home, &id).await?;
    let draft = IterationDraft::of(&Fields(form));
    match state.core.plan().update_iteration(&home.access, iteration.id, &draft.input(manual)).await {
        Ok(saved) => {
            let notice = Flash::notice(format!("Iteration {} was saved.", iteration_name(&saved)));
            see_other_with(&state, &visitor, &format!("{}/iterations/{}", home.base, saved.id), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_))) => {
            let (status, message) = form_error(error);
            let page = EditIterationPage {
                chrome: Chrome::new(&visitor),
                id: iteration.id.0,
                manual,
                draft,
                error: Some(message),
                crumbs: home.crumbs,
                name: home.name,
                base: home.base,
            };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{group}/-/iterations/{iteration_id}/delete`: deletes a manual cadence's iteration
/// once confirmed (unconfirmed, it asks on a page of its own).
pub async fn delete_iteration(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let (iteration, _) = own_iteration(&state, &visitor, &home, &id).await?;
    if Fields(form).get("confirm") != "yes" {
        let page = DeletePage {
            chrome: Chrome::new(&visitor),
            what: format!("iteration {}", iteration_name(&iteration)),
            action: format!("{}/iterations/{}/delete", home.base, iteration.id),
            back: format!("{}/iterations/{}", home.base, iteration.id),
            consequence: "Its issues stay, in no iteration.",
            crumbs: home.crumbs,
            name: home.name,
        };
        return render(StatusCode::OK, &page);
    }
    state.core.plan().delete_iteration(&home.access, iteration.id).await.map_err(|e| visitor.error(e))?;
    let notice = Flash::notice(format!("Iteration {} was deleted.", iteration_name(&iteration)));
    see_other_with(&state, &visitor, &format!("{}/cadences", home.base), &notice)
}
