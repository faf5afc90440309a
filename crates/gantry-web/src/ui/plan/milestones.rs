//! The milestones pages of a project (`/{project}/-/milestones`, with its groups' milestones)
//! and of a group (`/{group}/-/milestones`): open, closed and all, each with its progress (the
//! closed issues among those the visitor may see, as a bar); a milestone's page with its issues;
//! Reporters and above create, edit (`/{iid}/edit`), close, reopen and delete (after a page that
//! asks) the milestones of the project or group they are on. Both kinds share the templates
//! under `milestones/`, framed as a project page or a group page; the group's handlers are in
//! `group_milestones.rs`, the project's here.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::manage::groups::Lookup;
use gantry_core::plan::burnup::Timebox;
use gantry_core::plan::issues::{IssueQuery, IssuesOf, MilestoneFilter};
use gantry_core::plan::milestones::{
    MilestoneInput, MilestoneOwner, MilestoneQuery, MilestoneRow, MilestoneScope, MilestoneState, MilestoneStateEvent,
    milestone_expired,
};
use gantry_core::policy::GroupAccess;
use gantry_core::{CoreError, Page, now_millis};
use serde::Deserialize;

use super::burnup_chart::BurnupChart;
use super::issues::{Fields, IssueLine, StateTab};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::markup::render_markdown;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render};

/// Most issues a milestone's page lists.
const MAX_ISSUES: i64 = 100;

/// Whose milestone pages these are.
enum Place {
    /// A project's, framed as its pages.
    Project(Box<ProjectFrame>),
    /// A group's.
    Group(Box<GroupAccess>),
}

/// Where milestone pages are: a project (framed as its pages) or a group.
pub struct Home {
    place: Place,
    /// The group's trail, for a group's pages.
    pub crumbs: Vec<Crumb>,
    /// The group's name, for a group's pages.
    pub name: String,
    /// `/{path}/-/milestones`.
    pub base: String,
}

impl Home {
    async fn of_project(state: &AppState, visitor: &PageActor, target: ProjectTarget) -> Result<Home, PageError> {
        let frame = ProjectFrame::load(state, visitor, target).await?;
        let base = format!("/{}/-/milestones", frame.project.full_path);
        Ok(Home { name: frame.project.name.clone(), place: Place::Project(Box::new(frame)), crumbs: Vec::new(), base })
    }

    pub(super) async fn of_group(
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
            base: format!("/{}/-/milestones", access.group().full_path),
            place: Place::Group(Box::new(access)),
        })
    }

    /// The project's frame, for a project's pages.
    pub fn project(&self) -> Option<&ProjectFrame> {
        match &self.place {
            Place::Project(frame) => Some(frame),
            Place::Group(_) => None,
        }
    }

    fn scope(&self) -> MilestoneScope<'_> {
        match &self.place {
            Place::Project(frame) => MilestoneScope::Project(&frame.access),
            Place::Group(access) => MilestoneScope::Group(access),
        }
    }

    fn issues_of(&self) -> IssuesOf<'_> {
        match self.scope() {
            MilestoneScope::Project(access) => IssuesOf::Project(access),
            MilestoneScope::Group(access) => IssuesOf::Group(access),
        }
    }

    /// Whether the milestone is this home's own (not a group's above the project).
    fn owns(&self, milestone: &MilestoneRow) -> bool {
        match (self.scope(), milestone.owner) {
            (MilestoneScope::Project(access), MilestoneOwner::Project(id)) => access.project().id == id,
            (MilestoneScope::Group(access), MilestoneOwner::Group(id)) => access.group().id == id,
            _ => false,
        }
    }

    fn tab(&self) -> &'static str {
        "issues"
    }
}

/// One milestone as the pages show it.
pub struct MilestoneLine {
    pub iid: i64,
    pub title: String,
    pub href: String,
    pub closed: bool,
    pub expired: bool,
    pub dates: String,
    pub description_html: String,
    /// A group's milestone seen from a project.
    pub inherited: bool,
    /// The visitor may edit, close, reopen and delete it here.
    pub can_manage: bool,
    pub open_issues: i64,
    pub closed_issues: i64,
    pub percent: i64,
}

async fn line(state: &AppState, home: &Home, milestone: &MilestoneRow) -> Result<MilestoneLine, CoreError> {
    let (open_issues, closed_issues) = state.core.plan().count_milestone_issues(home.scope(), milestone).await?;
    let total = open_issues + closed_issues;
    let dates = match (&milestone.start_date, &milestone.due_date) {
        (Some(start), Some(due)) => format!("{start} – {due}"),
        (Some(start), None) => format!("from {start}"),
        (None, Some(due)) => format!("due {due}"),
        (None, None) => String::new(),
    };
    Ok(MilestoneLine {
        iid: milestone.iid,
        title: milestone.title.clone(),
        href: format!("/{}/-/milestones/{}", milestone.owner_path, milestone.iid),
        closed: milestone.state == MilestoneState::Closed,
        expired: milestone.state == MilestoneState::Active && milestone_expired(milestone),
        dates,
        description_html: render_markdown(&milestone.description, None),
        inherited: !home.owns(milestone),
        can_manage: home.owns(milestone) && home.scope().can_manage(),
        open_issues,
        closed_issues,
        percent: if total > 0 { closed_issues * 100 / total } else { 0 },
    })
}

/// What the milestone form shows (again, after a refusal).
#[derive(Default)]
pub struct MilestoneDraft {
    pub title: String,
    pub description: String,
    pub start_date: String,
    pub due_date: String,
}

impl MilestoneDraft {
    fn of(form: &Fields) -> MilestoneDraft {
        MilestoneDraft {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            start_date: form.get("start_date").to_owned(),
            due_date: form.get("due_date").to_owned(),
        }
    }

    fn input(&self) -> MilestoneInput {
        MilestoneInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            start_date: Some(Some(self.start_date.clone())),
            due_date: Some(Some(self.due_date.clone())),
            state_event: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MilestoneListQuery {
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "milestones/index.html")]
struct MilestonesPage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    tabs: Vec<StateTab>,
    milestones: Vec<MilestoneLine>,
    can_manage: bool,
    draft: MilestoneDraft,
    error: Option<String>,
}

async fn milestones_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    shown: &str,
    draft: MilestoneDraft,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let include_ancestors = home.project().is_some();
    let query = MilestoneQuery { include_ancestors, ..MilestoneQuery::default() };
    let every = state.core.plan().list_milestones(home.scope(), &query).await.map_err(|e| visitor.error(e))?;
    let closed = every.iter().filter(|m| m.state == MilestoneState::Closed).count();
    let counts = [("opened", "Open", every.len() - closed), ("closed", "Closed", closed), ("all", "All", every.len())];
    let tabs = counts
        .into_iter()
        .map(|(key, name, count)| StateTab {
            name,
            count: count.to_string(),
            href: format!("{}?state={key}", home.base),
            current: key == shown,
        })
        .collect();
    let mut milestones = Vec::new();
    for milestone in every.iter().filter(|m| match shown {
        "closed" => m.state == MilestoneState::Closed,
        "all" => true,
        _ => m.state == MilestoneState::Active,
    }) {
        milestones.push(line(state, &home, milestone).await.map_err(|e| visitor.error(e))?);
    }
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = MilestonesPage {
        chrome: Chrome::new(visitor),
        tab: home.tab(),
        tabs,
        milestones,
        can_manage: home.scope().can_manage(),
        draft,
        error,
        home,
    };
    render(status, &page)
}

fn shown_state(value: &str) -> &'static str {
    match value {
        "closed" => "closed",
        "all" => "all",
        _ => "opened",
    }
}

pub(super) async fn list(state: &AppState, visitor: &PageActor, home: Home, query: &MilestoneListQuery) -> PageResult {
    milestones_page(state, visitor, home, shown_state(&query.state), MilestoneDraft::default(), None).await
}

pub(super) async fn create(state: &AppState, visitor: &PageActor, home: Home, form: Fields) -> PageResult {
    let draft = MilestoneDraft::of(&form);
    match state.core.plan().create_milestone(home.scope(), &draft.input()).await {
        Ok(milestone) => {
            let notice = Flash::notice(format!("Milestone {} was created.", milestone.title));
            see_other_with(state, visitor, &format!("{}/{}", home.base, milestone.iid), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            milestones_page(state, visitor, home, "opened", draft, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// A milestone's number from the path; anything else names no milestone.
fn milestone_iid(visitor: &PageActor, value: &str) -> Result<i64, PageError> {
    value.parse::<i64>().ok().filter(|iid| *iid > 0).ok_or_else(|| visitor.error(CoreError::NotFound("milestone")))
}

async fn own_milestone(
    state: &AppState,
    visitor: &PageActor,
    home: &Home,
    iid: &str,
) -> Result<MilestoneRow, PageError> {
    let iid = milestone_iid(visitor, iid)?;
    state.core.plan().find_milestone_by_iid(home.scope(), iid).await.map_err(|e| visitor.error(e))
}

#[derive(Template)]
#[template(path = "milestones/show.html")]
struct MilestonePage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    milestone: MilestoneLine,
    description_empty: bool,
    open: Vec<IssueLine>,
    closed: Vec<IssueLine>,
    /// Its burndown and burnup, when it has a start and a due date.
    burnup: Option<BurnupChart>,
}

pub(super) async fn show(state: &AppState, visitor: &PageActor, home: Home, iid: &str) -> PageResult {
    let milestone = own_milestone(state, visitor, &home, iid).await?;
    let query = IssueQuery { milestone: MilestoneFilter::Id(milestone.id), ..IssueQuery::default() };
    let page = Page { offset: 0, limit: MAX_ISSUES };
    let (views, _) =
        state.core.plan().list_issues(home.issues_of(), &query, page).await.map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let (closed, open): (Vec<IssueLine>, Vec<IssueLine>) =
        views.iter().map(|view| IssueLine::new(view, now)).partition(|issue| issue.closed);
    let line = line(state, &home, &milestone).await.map_err(|e| visitor.error(e))?;
    let dates = milestone.start_date.as_deref().zip(milestone.due_date.as_deref());
    let burnup = match dates.and_then(|(start, due)| start.parse().ok().zip(due.parse().ok())) {
        Some((start, due)) => {
            let timebox = Timebox::Milestone(milestone.id);
            let burnup =
                state.core.plan().burnup(home.issues_of(), timebox, start, due).await.map_err(|e| visitor.error(e))?;
            Some(BurnupChart::new(burnup, start, due))
        }
        None => None,
    };
    let page = MilestonePage {
        chrome: Chrome::new(visitor),
        tab: home.tab(),
        description_empty: milestone.description.trim().is_empty(),
        milestone: line,
        open,
        closed,
        burnup,
        home,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "milestones/edit.html")]
struct EditMilestonePage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    iid: i64,
    draft: MilestoneDraft,
    error: Option<String>,
}

pub(super) async fn edit(state: &AppState, visitor: &PageActor, home: Home, iid: &str) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let milestone = own_milestone(state, visitor, &home, iid).await?;
    let draft = MilestoneDraft {
        title: milestone.title,
        description: milestone.description,
        start_date: milestone.start_date.unwrap_or_default(),
        due_date: milestone.due_date.unwrap_or_default(),
    };
    let page = EditMilestonePage {
        chrome: Chrome::new(visitor),
        tab: home.tab(),
        iid: milestone.iid,
        draft,
        error: None,
        home,
    };
    render(StatusCode::OK, &page)
}

pub(super) async fn save(state: &AppState, visitor: &PageActor, home: Home, iid: &str, form: Fields) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let milestone = own_milestone(state, visitor, &home, iid).await?;
    let draft = MilestoneDraft::of(&form);
    match state.core.plan().update_milestone(home.scope(), milestone.id, &draft.input()).await {
        Ok(saved) => {
            let notice = Flash::notice(format!("Milestone {} was saved.", saved.title));
            see_other_with(state, visitor, &format!("{}/{}", home.base, saved.iid), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            let (status, message) = form_error(error);
            let page = EditMilestonePage {
                chrome: Chrome::new(visitor),
                tab: home.tab(),
                iid: milestone.iid,
                draft,
                error: Some(message),
                home,
            };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

pub(super) async fn change_state(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    iid: &str,
    event: MilestoneStateEvent,
) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let milestone = own_milestone(state, visitor, &home, iid).await?;
    let input = MilestoneInput { state_event: Some(event), ..MilestoneInput::default() };
    let saved =
        state.core.plan().update_milestone(home.scope(), milestone.id, &input).await.map_err(|e| visitor.error(e))?;
    let verb = if event == MilestoneStateEvent::Close { "closed" } else { "reopened" };
    let notice = Flash::notice(format!("Milestone {} was {verb}.", saved.title));
    see_other_with(state, visitor, &format!("{}/{}", home.base, saved.iid), &notice)
}

#[derive(Template)]
#[template(path = "milestones/delete.html")]
struct DeleteMilestonePage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    milestone: MilestoneLine,
}

pub(super) async fn delete(state: &AppState, visitor: &PageActor, home: Home, iid: &str, form: Fields) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let milestone = own_milestone(state, visitor, &home, iid).await?;
    if form.get("confirm") != "yes" {
        let line = line(state, &home, &milestone).await.map_err(|e| visitor.error(e))?;
        let page = DeleteMilestonePage { chrome: Chrome::new(visitor), tab: home.tab(), milestone: line, home };
        return render(StatusCode::OK, &page);
    }
    let deleted = state.core.plan().delete_milestone(home.scope(), milestone.id).await.map_err(|e| visitor.error(e))?;
    let notice = Flash::notice(format!("Milestone {} was deleted.", deleted.title));
    see_other_with(state, visitor, &home.base, &notice)
}

/// `GET /{project}/-/milestones` (`state`: opened, closed or all)
pub async fn list_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<MilestoneListQuery>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    list(&state, &visitor, home, &query).await
}

/// `POST /{project}/-/milestones`: creates a project milestone.
pub async fn create_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    create(&state, &visitor, home, Fields(form)).await
}

/// `GET /{project}/-/milestones/{iid}`
pub async fn show_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    show(&state, &visitor, home, &iid).await
}

/// `GET /{project}/-/milestones/{iid}/edit`
pub async fn edit_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    edit(&state, &visitor, home, &iid).await
}

/// `POST /{project}/-/milestones/{iid}/edit`
pub async fn save_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    save(&state, &visitor, home, &iid, Fields(form)).await
}

/// `POST /{project}/-/milestones/{iid}/close`
pub async fn close_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    change_state(&state, &visitor, home, &iid, MilestoneStateEvent::Close).await
}

/// `POST /{project}/-/milestones/{iid}/reopen`
pub async fn reopen_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    change_state(&state, &visitor, home, &iid, MilestoneStateEvent::Activate).await
}

/// `POST /{project}/-/milestones/{iid}/delete`: deletes once confirmed (unconfirmed, it asks on
/// a page of its own).
pub async fn delete_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    delete(&state, &visitor, home, &iid, Fields(form)).await
}
