//! The labels pages of a project (`/{project}/-/labels`, its own labels and its groups') and of
//! a group (`/{group}/-/labels`, its own and its ancestors'): each a coloured chip with its
//! description. Reporters and above create, edit (`/{id}/edit`) and delete (after a page that
//! asks) the labels of the project or group they are on. On a project's page the labels it
//! prioritised come first, in their order (Reporters prioritise, move up and down, and take the
//! priority away), and a project label can be promoted to the project's group (after a page
//! that says what merges). Whoever is signed in subscribes to a label: from a project for its
//! issues, from a group everywhere. The group's handlers are at the end of this file.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::manage::groups::Lookup;
use gantry_core::plan::labels::{DEFAULT_LABEL_COLOR, LabelInput, LabelOwner, LabelRow, LabelScope, PriorityStep};
use gantry_core::policy::GroupAccess;
use gantry_types::LabelId;

use super::LabelChip;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render};

/// Whose labels pages these are.
enum Place {
    /// A project's, framed as its pages.
    Project(Box<ProjectFrame>),
    /// A group's.
    Group(Box<GroupAccess>),
}

/// Where labels pages are: a project or a group.
pub struct Home {
    place: Place,
    /// The group's trail, for a group's pages.
    pub crumbs: Vec<Crumb>,
    /// The project's or group's name.
    pub name: String,
    /// `/{path}/-/labels`.
    pub base: String,
}

impl Home {
    async fn of_project(state: &AppState, visitor: &PageActor, target: ProjectTarget) -> Result<Home, PageError> {
        let frame = ProjectFrame::load(state, visitor, target).await?;
        let base = format!("/{}/-/labels", frame.project.full_path);
        Ok(Home { name: frame.project.name.clone(), place: Place::Project(Box::new(frame)), crumbs: Vec::new(), base })
    }

    async fn of_group(state: &AppState, visitor: &PageActor, target: NamespaceTarget) -> Result<Home, PageError> {
        let access =
            state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
        let chain = state.core.manage().namespace_chain(access.group().id).await?;
        Ok(Home {
            crumbs: breadcrumbs(&chain, None),
            name: access.group().name.clone(),
            base: format!("/{}/-/labels", access.group().full_path),
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

    fn scope(&self) -> LabelScope<'_> {
        match &self.place {
            Place::Project(frame) => LabelScope::Project(&frame.access),
            Place::Group(access) => LabelScope::Group(access),
        }
    }

    /// Whether the label is this home's own (not a group's above it).
    fn owns(&self, label: &LabelRow) -> bool {
        match (self.scope(), label.owner) {
            (LabelScope::Project(access), LabelOwner::Project(id)) => access.project().id == id,
            (LabelScope::Group(access), LabelOwner::Group(id)) => access.group().id == id,
            _ => false,
        }
    }

    /// The issues carrying a label, where there is a page of them (a project's).
    fn issues_href(&self, label: &LabelRow) -> Option<String> {
        self.project().map(|frame| {
            format!(
                "/{}/-/issues?state=all&label={}",
                frame.project.full_path,
                crate::ui::query_value(label.title.as_str())
            )
        })
    }

    fn tab(&self) -> &'static str {
        "issues"
    }
}

/// What the label form shows (again, after a refusal).
pub struct LabelDraft {
    pub title: String,
    pub color: String,
    pub description: String,
}

impl Default for LabelDraft {
    fn default() -> LabelDraft {
        LabelDraft { title: String::new(), color: DEFAULT_LABEL_COLOR.to_owned(), description: String::new() }
    }
}

/// One label as the labels page lists it.
pub struct LabelLine {
    pub chip: LabelChip,
    /// The home's own label (editable here), not a group's above it.
    pub own: bool,
    pub issues_href: Option<String>,
    pub subscribed: bool,
    /// Among the project's prioritised labels: whether it is the first or the last of them.
    pub first: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "labels/index.html")]
struct LabelsPage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    /// The project's prioritised labels, in their order (none on a group's page).
    prioritized: Vec<LabelLine>,
    others: Vec<LabelLine>,
    can_manage: bool,
    /// Reporters of a project order its labels.
    can_prioritize: bool,
    /// The group the project's own labels may be promoted to.
    promote_to: Option<String>,
    signed_in: bool,
    draft: LabelDraft,
    error: Option<String>,
}

async fn labels_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    draft: LabelDraft,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let plan = state.core.plan();
    let labels = match home.scope() {
        LabelScope::Project(access) => plan.list_project_labels(access).await,
        LabelScope::Group(access) => plan.list_group_labels(access, true).await,
    }
    .map_err(|e| visitor.error(e))?;
    let marks = plan.label_marks(home.scope()).await.map_err(|e| visitor.error(e))?;
    let promote_to = match home.project() {
        Some(frame) => plan.label_promotion_group(&frame.access).await?.map(|group| group.name),
        None => None,
    };
    let line = |label: &LabelRow| LabelLine {
        chip: LabelChip::new(label),
        own: home.owns(label),
        issues_href: home.issues_href(label),
        subscribed: marks.subscribed(label.id),
        first: false,
        last: false,
    };
    let mut prioritized: Vec<(i64, LabelLine)> =
        labels.iter().filter_map(|label| marks.priority(label.id).map(|p| (p, line(label)))).collect();
    prioritized.sort_by_key(|(priority, line)| (*priority, line.chip.id));
    let mut prioritized: Vec<LabelLine> = prioritized.into_iter().map(|(_, line)| line).collect();
    let count = prioritized.len();
    for (index, line) in prioritized.iter_mut().enumerate() {
        line.first = index == 0;
        line.last = index + 1 == count;
    }
    let others = labels.iter().filter(|label| marks.priority(label.id).is_none()).map(line).collect();
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = LabelsPage {
        chrome: Chrome::new(visitor),
        tab: home.tab(),
        prioritized,
        others,
        can_manage: home.scope().can_manage(),
        can_prioritize: home.project().is_some() && home.scope().can_manage(),
        promote_to,
        signed_in: visitor.actor.user().is_some(),
        draft,
        error,
        home,
    };
    render(status, &page)
}

fn draft_of(form: &Fields) -> LabelDraft {
    LabelDraft {
        title: form.get("title").to_owned(),
        color: form.get("color").to_owned(),
        description: form.get("description").to_owned(),
    }
}

fn input_of(draft: &LabelDraft) -> LabelInput {
    LabelInput {
        name: Some(draft.title.clone()),
        color: Some(draft.color.clone()),
        description: Some(draft.description.clone()),
    }
}

fn label_id(visitor: &PageActor, value: &str) -> Result<LabelId, PageError> {
    value.parse::<LabelId>().map_err(|_| visitor.error(CoreError::NotFound("label")))
}

async fn list(state: &AppState, visitor: &PageActor, home: Home) -> PageResult {
    labels_page(state, visitor, home, LabelDraft::default(), None).await
}

async fn create(state: &AppState, visitor: &PageActor, home: Home, form: Fields) -> PageResult {
    let draft = draft_of(&form);
    match state.core.plan().create_label(home.scope(), &input_of(&draft)).await {
        Ok(label) => {
            let notice = Flash::notice(format!("Label {} was created.", label.title));
            see_other_with(state, visitor, &home.base, &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            labels_page(state, visitor, home, draft, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "labels/edit.html")]
struct EditLabelPage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    id: i64,
    draft: LabelDraft,
    error: Option<String>,
}

/// A label of exactly this home (a project's page edits no group label).
async fn own_label(state: &AppState, visitor: &PageActor, home: &Home, id: &str) -> Result<LabelRow, PageError> {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let label = state.core.plan().find_label(home.scope(), id).await.map_err(|e| visitor.error(e))?;
    if !home.owns(&label) {
        return Err(visitor.error(CoreError::NotFound("label")));
    }
    Ok(label)
}

async fn edit(state: &AppState, visitor: &PageActor, home: Home, id: &str) -> PageResult {
    let label = own_label(state, visitor, &home, id).await?;
    let draft = LabelDraft { title: label.title, color: label.color, description: label.description };
    let page =
        EditLabelPage { chrome: Chrome::new(visitor), tab: home.tab(), id: label.id.0, draft, error: None, home };
    render(StatusCode::OK, &page)
}

async fn save(state: &AppState, visitor: &PageActor, home: Home, id: &str, form: Fields) -> PageResult {
    let id = label_id(visitor, id)?;
    let draft = draft_of(&form);
    match state.core.plan().update_label(home.scope(), id, &input_of(&draft)).await {
        Ok(label) => {
            let notice = Flash::notice(format!("Label {} was saved.", label.title));
            see_other_with(state, visitor, &home.base, &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            let (status, message) = form_error(error);
            let page = EditLabelPage {
                chrome: Chrome::new(visitor),
                tab: home.tab(),
                id: id.0,
                draft,
                error: Some(message),
                home,
            };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// The page that asks before a label is deleted or promoted.
#[derive(Template)]
#[template(path = "labels/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    chip: LabelChip,
    /// `delete` or `promote`.
    action: &'static str,
    /// The group a promotion moves the label to.
    group: String,
}

async fn delete(state: &AppState, visitor: &PageActor, home: Home, id: &str, form: Fields) -> PageResult {
    if form.get("confirm") != "yes" {
        let label = own_label(state, visitor, &home, id).await?;
        let page = ConfirmPage {
            chrome: Chrome::new(visitor),
            tab: home.tab(),
            chip: LabelChip::new(&label),
            action: "delete",
            group: String::new(),
            home,
        };
        return render(StatusCode::OK, &page);
    }
    let id = label_id(visitor, id)?;
    let label = state.core.plan().delete_label(home.scope(), id).await.map_err(|e| visitor.error(e))?;
    see_other_with(state, visitor, &home.base, &Flash::notice(format!("Label {} was deleted.", label.title)))
}

async fn subscription(state: &AppState, visitor: &PageActor, home: Home, id: &str, form: Fields) -> PageResult {
    let id = label_id(visitor, id)?;
    let subscribed = form.get("subscribed") == "yes";
    state.core.plan().subscribe_to_label(home.scope(), id, subscribed).await.map_err(|e| visitor.error(e))?;
    let notice = if subscribed {
        match home.project() {
            Some(_) => "Subscribed: you will get mail when an issue of this project gets the label.",
            None => "Subscribed: you will get mail when an issue anywhere gets the label.",
        }
    } else {
        "Unsubscribed from the label."
    };
    see_other_with(state, visitor, &home.base, &Flash::notice(notice))
}

/// `GET /{project}/-/labels`
pub async fn list_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    list(&state, &visitor, home).await
}

/// `POST /{project}/-/labels`: creates a project label.
pub async fn create_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    create(&state, &visitor, home, Fields(form)).await
}

/// `GET /{project}/-/labels/{label_id}/edit`
pub async fn edit_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    edit(&state, &visitor, home, &id).await
}

/// `POST /{project}/-/labels/{label_id}/edit`: saves a project label.
pub async fn save_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    save(&state, &visitor, home, &id, Fields(form)).await
}

/// `POST /{project}/-/labels/{label_id}/delete`: deletes a project label once confirmed
/// (unconfirmed, it asks on a page of its own).
pub async fn delete_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    delete(&state, &visitor, home, &id, Fields(form)).await
}

/// `POST /{project}/-/labels/{label_id}/subscription` (`subscribed`: yes or no)
pub async fn subscription_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    subscription(&state, &visitor, home, &id, Fields(form)).await
}

/// `POST /{project}/-/labels/{label_id}/priority` (`step`: prioritize, up, down or remove)
pub async fn priority(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    let Some(frame) = home.project() else { return Err(visitor.error(CoreError::NotFound("project"))) };
    let id = label_id(&visitor, &id)?;
    let plan = state.core.plan();
    let done = match Fields(form).get("step") {
        "up" => plan.move_label_priority(&frame.access, id, PriorityStep::Up).await,
        "down" => plan.move_label_priority(&frame.access, id, PriorityStep::Down).await,
        "prioritize" => plan.move_label_priority(&frame.access, id, PriorityStep::Prioritize).await,
        "remove" => plan.set_label_priority(&frame.access, id, None).await,
        _ => Err(CoreError::invalid_input("step", "must be prioritize, up, down or remove")),
    };
    match done {
        Ok(()) => see_other_with(&state, &visitor, &home.base, &Flash::notice("Label priorities were saved.")),
        Err(error @ CoreError::Invalid { .. }) => {
            let failure = form_error(error);
            labels_page(&state, &visitor, home, LabelDraft::default(), Some(failure)).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/labels/{label_id}/promote`: makes a project label its group's once
/// confirmed (unconfirmed, a page says what will merge).
pub async fn promote(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_project(&state, &visitor, target).await?;
    let Some(frame) = home.project() else { return Err(visitor.error(CoreError::NotFound("project"))) };
    let plan = state.core.plan();
    if Fields(form).get("confirm") != "yes" {
        let label = own_label(&state, &visitor, &home, &id).await?;
        let group = plan.label_promotion_group(&frame.access).await?.ok_or_else(|| {
            visitor
                .error(CoreError::invalid_input("label", "cannot be promoted: you manage no group's labels above it"))
        })?;
        let page = ConfirmPage {
            chrome: Chrome::new(&visitor),
            tab: home.tab(),
            chip: LabelChip::new(&label),
            action: "promote",
            group: group.name,
            home,
        };
        return render(StatusCode::OK, &page);
    }
    let id = label_id(&visitor, &id)?;
    match plan.promote_label(&frame.access, id).await {
        Ok(label) => {
            let notice = Flash::notice(format!("Label {} is now a group label.", label.title));
            see_other_with(&state, &visitor, &home.base, &notice)
        }
        Err(error @ CoreError::Invalid { .. }) => {
            labels_page(&state, &visitor, home, LabelDraft::default(), Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `GET /{group}/-/labels`
pub async fn list_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    list(&state, &visitor, home).await
}

/// `POST /{group}/-/labels`: creates a group label.
pub async fn create_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    create(&state, &visitor, home, Fields(form)).await
}

/// `GET /{group}/-/labels/{label_id}/edit`
pub async fn edit_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    edit(&state, &visitor, home, &id).await
}

/// `POST /{group}/-/labels/{label_id}/edit`: saves a group label.
pub async fn save_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    save(&state, &visitor, home, &id, Fields(form)).await
}

/// `POST /{group}/-/labels/{label_id}/delete`: deletes a group label once confirmed.
pub async fn delete_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    delete(&state, &visitor, home, &id, Fields(form)).await
}

/// `POST /{group}/-/labels/{label_id}/subscription` (`subscribed`: yes or no)
pub async fn subscription_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    subscription(&state, &visitor, home, &id, Fields(form)).await
}
