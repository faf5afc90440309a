//! A group's epics pages (`/{group}/-/epics`): the list (open, closed and all, with a search),
//! the new epic form, an epic's page (its description, state, dates, progress over the issues
//! the visitor may see, its child epics and issues, each added by reference and removed by a
//! button), the edit form, close and reopen, and delete after a page that asks. Reporters and
//! above change epics, Owners delete them; core decides. The roadmap is in `roadmap.rs`.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::manage::groups::Lookup;
use gantry_core::plan::epics::{EpicInput, EpicProgress, EpicQuery, EpicStateEvent, EpicView};
use gantry_core::plan::references::{MAX_REFERENCES, references_in};
use gantry_core::policy::{GroupAccess, GroupAction};
use gantry_core::{CoreError, Page, now_millis};
use gantry_types::{EpicId, IssueState};
use serde::Deserialize;

use super::LabelChip;
use super::issues::{Fields, IssueLine, StateTab};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::markup::render_markdown_with;
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render};

/// Most issues an epic's page lists.
const MAX_ISSUES: i64 = 100;

/// The group the epics pages are of.
pub struct Home {
    pub access: GroupAccess,
    pub crumbs: Vec<Crumb>,
    pub name: String,
    /// `/{group}/-/epics`.
    pub base: String,
    /// `/{group}/-/roadmap`.
    pub roadmap: String,
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
            base: format!("/{}/-/epics", access.group().full_path),
            roadmap: format!("/{}/-/roadmap", access.group().full_path),
            access,
        })
    }

    fn can_manage(&self) -> bool {
        self.access.can(GroupAction::ManageEpics)
    }
}

/// One epic as the pages show it.
pub struct EpicLine {
    pub iid: i64,
    pub id: i64,
    pub title: String,
    pub href: String,
    pub closed: bool,
    pub confidential: bool,
    pub labels: Vec<LabelChip>,
    pub author: String,
    /// `&3`, or `group&3` for another group's.
    pub reference: String,
    pub start_date: String,
    pub due_date: String,
}

impl EpicLine {
    pub(super) fn new(view: &EpicView, home: &Home) -> EpicLine {
        let epic = &view.epic;
        EpicLine {
            iid: epic.iid,
            id: epic.id.0,
            title: epic.title.clone(),
            href: format!("/{}/-/epics/{}", epic.group_path, epic.iid),
            closed: epic.state == IssueState::Closed,
            confidential: epic.confidential,
            labels: view.labels.iter().map(LabelChip::new).collect(),
            author: view.author.as_ref().map(|user| user.name.clone()).unwrap_or_default(),
            reference: view.reference(Some(home.access.group().id)),
            start_date: epic.start_date().unwrap_or_default().to_owned(),
            due_date: epic.due_date().unwrap_or_default().to_owned(),
        }
    }
}

/// What the epic form shows (again, after a refusal).
#[derive(Default)]
pub struct EpicDraft {
    pub title: String,
    pub description: String,
    pub labels: String,
    pub confidential: bool,
    pub start_date: String,
    pub due_date: String,
}

impl EpicDraft {
    fn of(form: &Fields) -> EpicDraft {
        EpicDraft {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            labels: form.get("labels").to_owned(),
            confidential: form.ticked("confidential"),
            start_date: form.get("start_date").to_owned(),
            due_date: form.get("due_date").to_owned(),
        }
    }

    fn from_view(view: &EpicView) -> EpicDraft {
        let epic = &view.epic;
        EpicDraft {
            title: epic.title.clone(),
            description: epic.description.clone(),
            labels: view.labels.iter().map(|l| l.title.clone()).collect::<Vec<_>>().join(", "),
            confidential: epic.confidential,
            start_date: if epic.start_date_is_fixed {
                epic.start_date_fixed.clone().unwrap_or_default()
            } else {
                String::new()
            },
            due_date: if epic.due_date_is_fixed {
                epic.due_date_fixed.clone().unwrap_or_default()
            } else {
                String::new()
            },
        }
    }

    /// A date left empty is taken from the issues' milestones.
    fn input(&self) -> EpicInput {
        let date = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        EpicInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            confidential: Some(self.confidential),
            start_date_is_fixed: Some(date(&self.start_date).is_some()),
            start_date_fixed: Some(date(&self.start_date)),
            due_date_is_fixed: Some(date(&self.due_date).is_some()),
            due_date_fixed: Some(date(&self.due_date)),
            labels: Some(self.labels.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect()),
            ..EpicInput::default()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EpicListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    search: String,
}

#[derive(Template)]
#[template(path = "epics/index.html")]
struct EpicsPage {
    chrome: Chrome,
    home: Home,
    tabs: Vec<StateTab>,
    shown: &'static str,
    search: String,
    epics: Vec<EpicLine>,
    can_manage: bool,
    draft: EpicDraft,
    error: Option<String>,
}

fn shown_state(value: &str) -> &'static str {
    match value {
        "closed" => "closed",
        "all" => "all",
        _ => "opened",
    }
}

async fn epics_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    query: &EpicListQuery,
    draft: EpicDraft,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let shown = shown_state(&query.state);
    let search = query.search.trim().to_owned();
    let filter = EpicQuery {
        search: Some(search.clone()).filter(|s| !s.is_empty()),
        include_descendant_groups: true,
        ..EpicQuery::default()
    };
    let every = state.core.plan().list_epics(&home.access, &filter).await.map_err(|e| visitor.error(e))?;
    let closed = every.iter().filter(|view| view.epic.state == IssueState::Closed).count();
    let encoded = percent_encoding::utf8_percent_encode(&search, percent_encoding::NON_ALPHANUMERIC).to_string();
    let tabs = [("opened", "Open", every.len() - closed), ("closed", "Closed", closed), ("all", "All", every.len())]
        .into_iter()
        .map(|(key, name, count)| StateTab {
            name,
            count: count.to_string(),
            href: if search.is_empty() {
                format!("{}?state={key}", home.base)
            } else {
                format!("{}?state={key}&search={encoded}", home.base)
            },
            current: key == shown,
        })
        .collect();
    let epics = every
        .iter()
        .filter(|view| match shown {
            "closed" => view.epic.state == IssueState::Closed,
            "all" => true,
            _ => view.epic.state == IssueState::Opened,
        })
        .map(|view| EpicLine::new(view, &home))
        .collect();
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = EpicsPage {
        chrome: Chrome::new(visitor),
        can_manage: home.can_manage(),
        tabs,
        shown,
        search,
        epics,
        draft,
        error,
        home,
    };
    render(status, &page)
}

/// An epic's number from the path; anything else names no epic.
pub(super) fn epic_iid(visitor: &PageActor, value: &str) -> Result<i64, PageError> {
    value.parse::<i64>().ok().filter(|iid| *iid > 0).ok_or_else(|| visitor.error(CoreError::NotFound("epic")))
}

/// A positive id from the path; anything else names nothing.
fn path_id(visitor: &PageActor, value: &str, what: &'static str) -> Result<i64, PageError> {
    value.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| visitor.error(CoreError::NotFound(what)))
}

/// `GET /{group}/-/epics` (`state`: opened, closed or all; `search`)
pub async fn list(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Query(query): Query<EpicListQuery>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    epics_page(&state, &visitor, home, &query, EpicDraft::default(), None).await
}

/// `POST /{group}/-/epics`: opens an epic.
pub async fn create(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    home.access.require(GroupAction::ManageEpics).map_err(|e| visitor.error(e))?;
    let draft = EpicDraft::of(&Fields(form));
    match state.core.plan().create_epic(&home.access, &draft.input()).await {
        Ok(epic) => {
            let notice = Flash::notice(format!("Epic &{} was created.", epic.epic.iid));
            see_other_with(&state, &visitor, &format!("{}/{}", home.base, epic.epic.iid), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_) | CoreError::Conflict(_))) => {
            epics_page(&state, &visitor, home, &EpicListQuery::default(), draft, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "epics/show.html")]
struct EpicPage {
    chrome: Chrome,
    home: Home,
    epic: EpicLine,
    description_html: String,
    description_empty: bool,
    start_source: &'static str,
    due_source: &'static str,
    parent: Option<EpicLine>,
    progress: EpicProgress,
    children: Vec<EpicLine>,
    issues: Vec<(i64, IssueLine)>,
    can_manage: bool,
    can_delete: bool,
    notes: Vec<super::epic_notes::EpicNoteLine>,
    /// Signed in: the visitor may comment (whoever sees the epic).
    can_comment: bool,
    error: Option<String>,
}

pub(super) async fn epic_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    iid: i64,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let plan = state.core.plan();
    let view = plan.find_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    let (issues, _) = plan
        .epic_issues(&home.access, &view.epic, Page { offset: 0, limit: MAX_ISSUES })
        .await
        .map_err(|e| visitor.error(e))?;
    let progress = plan.epic_progress(&home.access, &view.epic).await.map_err(|e| visitor.error(e))?;
    let children = plan.child_epics(&home.access, &view.epic).await.map_err(|e| visitor.error(e))?;
    let parent = plan.parent_epic(&home.access, &view.epic).await.map_err(|e| visitor.error(e))?;
    let discussions = plan.list_epic_discussions(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    let mut references: Vec<_> = references_in(&view.epic.description).into_iter().take(MAX_REFERENCES).collect();
    for note in discussions.iter().flat_map(|discussion| &discussion.notes) {
        for reference in references_in(&note.body) {
            if references.len() < MAX_REFERENCES && !references.contains(&reference) {
                references.push(reference);
            }
        }
    }
    let resolved = plan
        .resolve_group_references(home.access.actor(), &home.access, &references)
        .await
        .map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = EpicPage {
        chrome: Chrome::new(visitor),
        epic: EpicLine::new(&view, &home),
        description_html: render_markdown_with(&view.epic.description, None, &resolved),
        description_empty: view.epic.description.trim().is_empty(),
        start_source: if view.epic.start_date_is_fixed { "fixed" } else { "from milestones" },
        due_source: if view.epic.due_date_is_fixed { "fixed" } else { "from milestones" },
        parent: parent.as_ref().map(|p| EpicLine::new(p, &home)),
        progress,
        children: children.iter().map(|child| EpicLine::new(child, &home)).collect(),
        issues: issues.iter().map(|(place, issue)| (place.id, IssueLine::new(issue, now))).collect(),
        can_manage: home.can_manage(),
        can_delete: home.access.can(GroupAction::DeleteEpics),
        notes: super::epic_notes::note_lines(visitor, &home.access, &discussions, &resolved),
        can_comment: visitor.actor.user().is_some(),
        error,
        home,
    };
    render(status, &page)
}

/// `GET /{group}/-/epics/{iid}`
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    epic_page(&state, &visitor, home, iid, None).await
}

#[derive(Template)]
#[template(path = "epics/edit.html")]
struct EditEpicPage {
    chrome: Chrome,
    home: Home,
    iid: i64,
    draft: EpicDraft,
    error: Option<String>,
}

/// `GET /{group}/-/epics/{iid}/edit`
pub async fn edit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let view = state.core.plan().find_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    home.access.require(GroupAction::ManageEpics).map_err(|e| visitor.error(e))?;
    let page =
        EditEpicPage { chrome: Chrome::new(&visitor), iid, draft: EpicDraft::from_view(&view), error: None, home };
    render(StatusCode::OK, &page)
}

/// `POST /{group}/-/epics/{iid}/edit`
pub async fn save(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    state.core.plan().find_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    home.access.require(GroupAction::ManageEpics).map_err(|e| visitor.error(e))?;
    let draft = EpicDraft::of(&Fields(form));
    match state.core.plan().update_epic(&home.access, iid, &draft.input()).await {
        Ok(_) => {
            see_other_with(&state, &visitor, &format!("{}/{iid}", home.base), &Flash::notice("The epic was saved."))
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_) | CoreError::Conflict(_))) => {
            let (status, message) = form_error(error);
            let page = EditEpicPage { chrome: Chrome::new(&visitor), iid, draft, error: Some(message), home };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

async fn change_state(
    state: &AppState,
    visitor: &PageActor,
    target: NamespaceTarget,
    iid: &str,
    event: EpicStateEvent,
) -> PageResult {
    let home = Home::load(state, visitor, target).await?;
    let iid = epic_iid(visitor, iid)?;
    let input = EpicInput { state_event: Some(event), ..EpicInput::default() };
    state.core.plan().update_epic(&home.access, iid, &input).await.map_err(|e| visitor.error(e))?;
    let verb = if event == EpicStateEvent::Close { "closed" } else { "reopened" };
    see_other_with(state, visitor, &format!("{}/{iid}", home.base), &Flash::notice(format!("Epic &{iid} was {verb}.")))
}

/// `POST /{group}/-/epics/{iid}/close`
pub async fn close(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    change_state(&state, &visitor, target, &iid, EpicStateEvent::Close).await
}

/// `POST /{group}/-/epics/{iid}/reopen`
pub async fn reopen(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    change_state(&state, &visitor, target, &iid, EpicStateEvent::Reopen).await
}

#[derive(Template)]
#[template(path = "epics/delete.html")]
struct DeleteEpicPage {
    chrome: Chrome,
    home: Home,
    epic: EpicLine,
}

/// `POST /{group}/-/epics/{iid}/delete`: deletes once confirmed (unconfirmed, it asks on a page
/// of its own).
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let view = state.core.plan().find_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    home.access.require(GroupAction::DeleteEpics).map_err(|e| visitor.error(e))?;
    if Fields(form).get("confirm") != "yes" {
        let page = DeleteEpicPage { chrome: Chrome::new(&visitor), epic: EpicLine::new(&view, &home), home };
        return render(StatusCode::OK, &page);
    }
    state.core.plan().delete_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    see_other_with(&state, &visitor, &home.base, &Flash::notice(format!("Epic &{iid} was deleted.")))
}

/// What a form on the epic's page did: back to the page with a notice, or the page again with
/// the refusal.
async fn after_change<T>(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    iid: i64,
    outcome: Result<T, CoreError>,
    notice: &str,
) -> PageResult {
    match outcome {
        Ok(_) => see_other_with(state, visitor, &format!("{}/{iid}", home.base), &Flash::notice(notice)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_) | CoreError::Conflict(_))) => {
            epic_page(state, visitor, home, iid, Some(form_error(error))).await
        }
        Err(CoreError::NotFound(what)) if what == "issue" || what == "epic" => {
            let message = format!("No {what} of that reference that you may see.");
            epic_page(state, visitor, home, iid, Some((StatusCode::NOT_FOUND, message))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{group}/-/epics/{iid}/issues` (`issue`: `group/project#12`)
pub async fn add_issue(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let plan = state.core.plan();
    plan.find_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    home.access.require(GroupAction::ManageEpics).map_err(|e| visitor.error(e))?;
    let outcome = plan.add_epic_issue_by_reference(&home.access, iid, Fields(form).get("issue")).await;
    after_change(&state, &visitor, home, iid, outcome, "The issue was added to the epic.").await
}

/// `POST /{group}/-/epics/{iid}/issues/{epic_issue_id}/remove`
pub async fn remove_issue(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, place)): Path<(String, String)>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let place = path_id(&visitor, &place, "epic issue")?;
    state.core.plan().remove_epic_issue(&home.access, iid, place).await.map_err(|e| visitor.error(e))?;
    see_other_with(
        &state,
        &visitor,
        &format!("{}/{iid}", home.base),
        &Flash::notice("The issue was removed from the epic."),
    )
}

/// `POST /{group}/-/epics/{iid}/epics` (`epic`: `&5` or `group/subgroup&5`)
pub async fn add_child(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let plan = state.core.plan();
    plan.find_epic(&home.access, iid).await.map_err(|e| visitor.error(e))?;
    home.access.require(GroupAction::ManageEpics).map_err(|e| visitor.error(e))?;
    let outcome = plan.add_child_epic_by_reference(&home.access, iid, Fields(form).get("epic")).await;
    after_change(&state, &visitor, home, iid, outcome, "The child epic was added.").await
}

/// `POST /{group}/-/epics/{iid}/epics/{child_epic_id}/remove`
pub async fn remove_child(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, child)): Path<(String, String)>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let child = EpicId(path_id(&visitor, &child, "epic")?);
    state.core.plan().remove_child_epic(&home.access, iid, child).await.map_err(|e| visitor.error(e))?;
    see_other_with(&state, &visitor, &format!("{}/{iid}", home.base), &Flash::notice("The child epic was removed."))
}
