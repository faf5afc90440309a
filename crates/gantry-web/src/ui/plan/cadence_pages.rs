//! A group's iteration cadences page (`/{group}/-/cadences`): its cadences and those of the
//! groups above it, each with its current and upcoming iterations and, folded, its past ones.
//! Reporters create, edit and delete the group's own cadences (each delete after a page that
//! asks) and add iterations to a manual one; a refused form is shown again with what was typed.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::plan::cadences::CadenceInput;
use gantry_core::plan::iterations::{CadenceRow, IterationState, iteration_name, today};
use gantry_core::policy::GroupAction;

use super::issues::Fields;
use super::iterations::{DeletePage, Home, IterationDraft, IterationLine, cadence_id};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::markup::render_markdown;
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::{Chrome, Crumb, PageResult, form_error, render};

/// One cadence on the list, with its iterations.
struct CadenceCard {
    id: i64,
    title: String,
    description_html: String,
    /// "Every 2 weeks, scheduled automatically, 3 ahead", and so on.
    summary: String,
    /// A cadence of a group above this one.
    inherited: bool,
    /// The visitor may edit it and add iterations (a manual one's) here.
    can_manage: bool,
    automatic: bool,
    opened: Vec<IterationLine>,
    /// Past iterations, the latest first.
    closed: Vec<IterationLine>,
    /// What its "Add an iteration" form shows, and whether it was just refused.
    iteration_draft: IterationDraft,
    refused: bool,
}

/// What the cadence form shows (again, after a refusal).
pub struct CadenceDraft {
    title: String,
    description: String,
    start_date: String,
    duration_in_weeks: i64,
    iterations_in_advance: i64,
    automatic: bool,
    roll_over: bool,
}

impl Default for CadenceDraft {
    fn default() -> CadenceDraft {
        CadenceDraft {
            title: String::new(),
            description: String::new(),
            start_date: today(),
            duration_in_weeks: 2,
            iterations_in_advance: 2,
            automatic: true,
            roll_over: false,
        }
    }
}

impl CadenceDraft {
    fn of(form: &Fields) -> CadenceDraft {
        CadenceDraft {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            start_date: form.get("start_date").to_owned(),
            duration_in_weeks: form.get("duration_in_weeks").trim().parse().unwrap_or(0),
            iterations_in_advance: form.get("iterations_in_advance").trim().parse().unwrap_or(0),
            automatic: form.ticked("automatic"),
            roll_over: form.ticked("roll_over"),
        }
    }

    fn of_cadence(cadence: &CadenceRow) -> CadenceDraft {
        CadenceDraft {
            title: cadence.title.clone(),
            description: cadence.description.clone(),
            start_date: cadence.start_date.clone(),
            duration_in_weeks: cadence.duration_in_weeks,
            iterations_in_advance: cadence.iterations_in_advance,
            automatic: cadence.automatic,
            roll_over: cadence.roll_over,
        }
    }

    fn input(&self) -> CadenceInput {
        CadenceInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            start_date: Some(self.start_date.clone()),
            duration_in_weeks: Some(self.duration_in_weeks),
            iterations_in_advance: Some(self.iterations_in_advance),
            automatic: Some(self.automatic),
            roll_over: Some(self.roll_over),
        }
    }
}

fn summary(cadence: &CadenceRow) -> String {
    let every = match cadence.duration_in_weeks {
        1 => "Every week".to_owned(),
        weeks => format!("Every {weeks} weeks"),
    };
    let how = if cadence.automatic {
        format!("scheduled automatically, {} ahead", cadence.iterations_in_advance)
    } else {
        "iterations added by hand".to_owned()
    };
    let roll = if cadence.roll_over { ", open issues roll over" } else { "" };
    format!("{every} from {}, {how}{roll}", cadence.start_date)
}

#[derive(Template)]
#[template(path = "iterations/index.html")]
struct CadencesPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    name: String,
    base: String,
    cadences: Vec<CadenceCard>,
    can_manage: bool,
    draft: CadenceDraft,
    error: Option<String>,
}

async fn cadences_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    draft: CadenceDraft,
    mut iteration_draft: Option<(i64, IterationDraft)>,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let plan = state.core.plan();
    let cadences = plan.list_cadences(&home.access, true).await.map_err(|e| visitor.error(e))?;
    let today = today();
    let can_manage = home.can_manage();
    let mut cards = Vec::new();
    for cadence in &cadences {
        let iterations = plan.cadence_iterations(&home.access, cadence).await.map_err(|e| visitor.error(e))?;
        let (mut closed, opened): (Vec<IterationLine>, Vec<IterationLine>) = iterations
            .iter()
            .map(|it| IterationLine::new(it, &today))
            .partition(|line| line.state == IterationState::Closed.as_str());
        closed.reverse();
        let own = cadence.group_id == home.access.group().id;
        let refused = iteration_draft.as_ref().is_some_and(|(id, _)| *id == cadence.id.0);
        let iteration_draft = if refused {
            iteration_draft.take().map(|(_, draft)| draft).unwrap_or_default()
        } else {
            IterationDraft::default()
        };
        cards.push(CadenceCard {
            id: cadence.id.0,
            title: cadence.title.clone(),
            description_html: render_markdown(&cadence.description, None),
            summary: summary(cadence),
            inherited: !own,
            can_manage: own && can_manage,
            automatic: cadence.automatic,
            opened,
            closed,
            iteration_draft,
            refused,
        });
    }
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = CadencesPage {
        chrome: Chrome::new(visitor),
        crumbs: home.crumbs,
        name: home.name,
        base: home.base,
        cadences: cards,
        can_manage,
        draft,
        error,
    };
    render(status, &page)
}

/// `GET /{group}/-/cadences`
pub async fn index(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    cadences_page(&state, &visitor, home, CadenceDraft::default(), None, None).await
}

/// `POST /{group}/-/cadences`: creates a cadence.
pub async fn create_cadence(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let draft = CadenceDraft::of(&Fields(form));
    match state.core.plan().create_cadence(&home.access, &draft.input()).await {
        Ok(cadence) => {
            let notice = Flash::notice(format!("Iteration cadence {} was created.", cadence.title));
            see_other_with(&state, &visitor, &format!("{}/cadences", home.base), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            cadences_page(&state, &visitor, home, draft, None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "iterations/edit_cadence.html")]
struct EditCadencePage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    name: String,
    base: String,
    id: i64,
    draft: CadenceDraft,
    /// Whether it has iterations (then it stays automatic or manual).
    scheduled: bool,
    error: Option<String>,
}

async fn edit_cadence_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    cadence: &CadenceRow,
    draft: CadenceDraft,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let iterations = state.core.plan().cadence_iterations(&home.access, cadence).await.map_err(|e| visitor.error(e))?;
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = EditCadencePage {
        chrome: Chrome::new(visitor),
        crumbs: home.crumbs,
        name: home.name,
        base: home.base,
        id: cadence.id.0,
        draft,
        scheduled: !iterations.is_empty(),
        error,
    };
    render(status, &page)
}

/// `GET /{group}/-/cadences/{cadence_id}/edit`
pub async fn edit_cadence(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    home.access.require(GroupAction::ManageIterations).map_err(|e| visitor.error(e))?;
    let cadence =
        state.core.plan().find_cadence(&home.access, cadence_id(&visitor, &id)?).await.map_err(|e| visitor.error(e))?;
    edit_cadence_page(&state, &visitor, home, &cadence, CadenceDraft::of_cadence(&cadence), None).await
}

/// `POST /{group}/-/cadences/{cadence_id}/edit`
pub async fn save_cadence(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let id = cadence_id(&visitor, &id)?;
    let cadence = state.core.plan().find_cadence(&home.access, id).await.map_err(|e| visitor.error(e))?;
    let draft = CadenceDraft::of(&Fields(form));
    match state.core.plan().update_cadence(&home.access, id, &draft.input()).await {
        Ok(saved) => {
            let notice = Flash::notice(format!("Iteration cadence {} was saved.", saved.title));
            see_other_with(&state, &visitor, &format!("{}/cadences", home.base), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            edit_cadence_page(&state, &visitor, home, &cadence, draft, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{group}/-/cadences/{cadence_id}/delete`: deletes once confirmed (unconfirmed, it asks
/// on a page of its own).
pub async fn delete_cadence(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    home.access.require(GroupAction::ManageIterations).map_err(|e| visitor.error(e))?;
    let id = cadence_id(&visitor, &id)?;
    let cadence = state.core.plan().find_cadence(&home.access, id).await.map_err(|e| visitor.error(e))?;
    if Fields(form).get("confirm") != "yes" {
        let page = DeletePage {
            chrome: Chrome::new(&visitor),
            what: format!("iteration cadence {}", cadence.title),
            action: format!("{}/cadences/{id}/delete", home.base),
            back: format!("{}/cadences", home.base),
            consequence: "Its iterations are deleted with it; their issues stay, in no iteration.",
            crumbs: home.crumbs,
            name: home.name,
        };
        return render(StatusCode::OK, &page);
    }
    state.core.plan().delete_cadence(&home.access, id).await.map_err(|e| visitor.error(e))?;
    let notice = Flash::notice(format!("Iteration cadence {} was deleted.", cadence.title));
    see_other_with(&state, &visitor, &format!("{}/cadences", home.base), &notice)
}

/// `POST /{group}/-/cadences/{cadence_id}/iterations`: adds an iteration to a manual cadence.
pub async fn create_iteration(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let id = cadence_id(&visitor, &id)?;
    let draft = IterationDraft::of(&Fields(form));
    match state.core.plan().create_iteration(&home.access, id, &draft.input(true)).await {
        Ok(iteration) => {
            let notice = Flash::notice(format!("Iteration {} was created.", iteration_name(&iteration)));
            see_other_with(&state, &visitor, &format!("{}/iterations/{}", home.base, iteration.id), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_))) => {
            let failure = Some(form_error(error));
            cadences_page(&state, &visitor, home, CadenceDraft::default(), Some((id.0, draft)), failure).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}
