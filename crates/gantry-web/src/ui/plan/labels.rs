//! A project's labels page (`/-/labels`): its own labels and its groups', each a coloured chip
//! with its description; Reporters and above create, edit (`/-/labels/{id}/edit`) and delete
//! (after a page that asks) the project's own.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::plan::labels::{DEFAULT_LABEL_COLOR, LabelInput, LabelScope};
use gantry_core::policy::ProjectAction;
use gantry_types::LabelId;

use super::LabelChip;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, form_error, render};

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

#[derive(Template)]
#[template(path = "projects/labels/index.html")]
struct LabelsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    labels: Vec<LabelChip>,
    can_manage: bool,
    draft: LabelDraft,
    error: Option<String>,
}

async fn labels_page(
    state: &AppState,
    visitor: &PageActor,
    frame: ProjectFrame,
    draft: LabelDraft,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let labels = state.core.plan().list_project_labels(&frame.access).await.map_err(|e| visitor.error(e))?;
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = LabelsPage {
        chrome: Chrome::new(visitor),
        tab: "issues",
        labels: labels.iter().map(LabelChip::new).collect(),
        can_manage: frame.access.can(ProjectAction::ManageLabels),
        draft,
        error,
        frame,
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

fn label_id(visitor: &PageActor, value: &str) -> Result<LabelId, crate::error::PageError> {
    value.parse::<LabelId>().map_err(|_| visitor.error(CoreError::NotFound("label")))
}

/// `GET /{project}/-/labels`
pub async fn list(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    labels_page(&state, &visitor, frame, LabelDraft::default(), None).await
}

/// `POST /{project}/-/labels`: creates a project label.
pub async fn create(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let draft = draft_of(&Fields(form));
    match state.core.plan().create_label(LabelScope::Project(&frame.access), &input_of(&draft)).await {
        Ok(label) => {
            let location = format!("/{}/-/labels", frame.project.full_path);
            see_other_with(&state, &visitor, &location, &Flash::notice(format!("Label {} was created.", label.title)))
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            labels_page(&state, &visitor, frame, draft, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "projects/labels/edit.html")]
struct EditLabelPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    id: i64,
    draft: LabelDraft,
    error: Option<String>,
}

/// `GET /{project}/-/labels/{label_id}/edit`
pub async fn edit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ManageLabels)?;
    let label =
        state.core.plan().find_label(LabelScope::Project(&frame.access), &id).await.map_err(|e| visitor.error(e))?;
    let draft = LabelDraft { title: label.title, color: label.color, description: label.description };
    render(
        StatusCode::OK,
        &EditLabelPage { chrome: Chrome::new(&visitor), tab: "issues", id: label.id.0, draft, error: None, frame },
    )
}

/// `POST /{project}/-/labels/{label_id}/edit`: saves a project label.
pub async fn save(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = label_id(&visitor, &id)?;
    let draft = draft_of(&Fields(form));
    match state.core.plan().update_label(LabelScope::Project(&frame.access), id, &input_of(&draft)).await {
        Ok(label) => {
            let location = format!("/{}/-/labels", frame.project.full_path);
            see_other_with(&state, &visitor, &location, &Flash::notice(format!("Label {} was saved.", label.title)))
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            let (status, message) = form_error(error);
            let page = EditLabelPage {
                chrome: Chrome::new(&visitor),
                tab: "issues",
                id: id.0,
                draft,
                error: Some(message),
                frame,
            };
            render(status, &page)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "projects/labels/delete.html")]
struct DeleteLabelPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    chip: LabelChip,
}

/// `POST /{project}/-/labels/{label_id}/delete`: deletes a project label once confirmed
/// (unconfirmed, it asks on a page of its own).
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = label_id(&visitor, &id)?;
    let scope = LabelScope::Project(&frame.access);
    if Fields(form).get("confirm") != "yes" {
        frame.require(&visitor, ProjectAction::ManageLabels)?;
        let label = state.core.plan().find_label(scope, &id.0.to_string()).await.map_err(|e| visitor.error(e))?;
        let page =
            DeleteLabelPage { chrome: Chrome::new(&visitor), tab: "issues", chip: LabelChip::new(&label), frame };
        return render(StatusCode::OK, &page);
    }
    let label = state.core.plan().delete_label(scope, id).await.map_err(|e| visitor.error(e))?;
    let location = format!("/{}/-/labels", frame.project.full_path);
    see_other_with(&state, &visitor, &location, &Flash::notice(format!("Label {} was deleted.", label.title)))
}
