//! A person's own Plan pages: the to-do list (`/dashboard/todos`: pending or done, mark one or
//! all done), their notification levels (`/-/profile/notifications` for all mail; a form on a
//! project's and a group's page), an issue's "Notifications" and "To-do" buttons, and a mail's
//! unsubscribe link (`/-/unsubscribe/<key>`), which works without signing in — the key is what
//! the mail carried — and answers a mail client's one-click POST (RFC 8058) as well.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::plan::notify::NotificationLevel;
use gantry_core::plan::todos::{LevelOf, TodoFilter};
use gantry_types::TodoId;
use serde::Deserialize;

use super::issue_iid;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::time_format::ago;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, render};

/// Most to-dos the page shows at once.
const PAGE_SIZE: i64 = 50;

/// One line of the to-do list.
pub struct TodoLine {
    pub id: i64,
    /// "@ada assigned you", "@bob mentioned you", "You added a to-do".
    pub what: String,
    pub item: String,
    pub href: String,
    pub title: String,
    pub body: String,
    pub when: String,
    pub pending: bool,
}

#[derive(Template)]
#[template(path = "todos.html")]
struct TodosPage {
    chrome: Chrome,
    done: bool,
    todos: Vec<TodoLine>,
    total: i64,
    page: i64,
    pages: i64,
}

/// `?state=done` and `?page=` of the list.
#[derive(Debug, Default, Deserialize)]
pub struct TodoListQuery {
    state: Option<String>,
    page: Option<i64>,
}

/// `GET /dashboard/todos`
pub async fn list(State(state): State<AppState>, visitor: PageActor, Query(query): Query<TodoListQuery>) -> PageResult {
    visitor.require_user()?;
    let done = query.state.as_deref() == Some("done");
    let page = query.page.unwrap_or(1).max(1);
    let filter = TodoFilter { state: Some(if done { "done" } else { "pending" }.to_owned()), ..TodoFilter::default() };
    let window = gantry_core::Page { offset: (page - 1).saturating_mul(PAGE_SIZE), limit: PAGE_SIZE };
    let (views, total) =
        state.core.plan().list_todos(&visitor.actor, &filter, window).await.map_err(|e| visitor.error(e))?;
    let now = gantry_core::now_millis();
    let todos = views
        .iter()
        .map(|view| {
            let author =
                view.todo.author.as_ref().map_or_else(|| "Someone".to_owned(), |user| format!("@{}", user.username));
            let what = match view.todo.action.as_str() {
                "assigned" => format!("{author} assigned you"),
                "mentioned" => format!("{author} mentioned you"),
                "directly_addressed" => format!("{author} addressed you"),
                _ => "You added a to-do".to_owned(),
            };
            TodoLine {
                id: view.todo.id.0,
                what,
                item: format!("{}#{}", view.project_path, view.issue.issue.iid),
                href: format!("/{}/-/issues/{}", view.project_path, view.issue.issue.iid),
                title: view.issue.issue.title.clone(),
                body: view.todo.body.clone(),
                when: ago(view.todo.created_at, now),
                pending: view.todo.state == "pending",
            }
        })
        .collect();
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    render(StatusCode::OK, &TodosPage { chrome: Chrome::new(&visitor), done, todos, total, page, pages })
}

/// `POST /dashboard/todos/{todo_id}/done`
pub async fn mark_done(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let id = id.parse::<i64>().map_err(|_| visitor.error(CoreError::NotFound("to-do")))?;
    state.core.plan().mark_todo_done(&visitor.actor, TodoId(id)).await.map_err(|e| visitor.error(e))?;
    see_other_with(&state, &visitor, "/dashboard/todos", &Flash::notice("The to-do was marked as done."))
}

/// `POST /dashboard/todos/done`: every pending to-do.
pub async fn mark_all_done(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let count = state.core.plan().mark_all_todos_done(&visitor.actor).await.map_err(|e| visitor.error(e))?;
    let message = match count {
        0 => "There was nothing pending.".to_owned(),
        1 => "1 to-do was marked as done.".to_owned(),
        n => format!("{n} to-dos were marked as done."),
    };
    see_other_with(&state, &visitor, "/dashboard/todos", &Flash::notice(message))
}

/// A level choice of the forms.
pub struct LevelChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub chosen: bool,
}

/// The choices of a level form (`global` only for a group or project).
pub fn level_choices(current: NotificationLevel, with_global: bool) -> Vec<LevelChoice> {
    NotificationLevel::ALL
        .iter()
        .filter(|level| with_global || **level != NotificationLevel::Global)
        .map(|level| LevelChoice { value: level.as_str(), label: level.describe(), chosen: *level == current })
        .collect()
}

/// The level choices of a project's or group's page for a signed-in visitor (none for others).
pub async fn level_form(
    state: &AppState,
    visitor: &PageActor,
    of: LevelOf<'_>,
) -> Result<Vec<LevelChoice>, crate::error::PageError> {
    if visitor.actor.user().is_none() {
        return Ok(Vec::new());
    }
    let level = state.core.plan().notification_level(&visitor.actor, of).await.map_err(|e| visitor.error(e))?;
    Ok(level_choices(level, true))
}

#[derive(Template)]
#[template(path = "profile/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    email: String,
    choices: Vec<LevelChoice>,
    mail_on: bool,
}

/// `GET /-/profile/notifications`
pub async fn settings(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    let user = visitor.require_user()?;
    let level = state
        .core
        .plan()
        .notification_level(&visitor.actor, LevelOf::Everything)
        .await
        .map_err(|e| visitor.error(e))?;
    let page = NotificationsPage {
        chrome: Chrome::new(&visitor),
        email: user.email.clone(),
        choices: level_choices(level, false),
        mail_on: state.core.sends_mail(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /-/profile/notifications` (`level`)
pub async fn save_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let level = Fields(form).get("level").to_owned();
    let level = state
        .core
        .plan()
        .set_notification_level(&visitor.actor, LevelOf::Everything, &level)
        .await
        .map_err(|e| visitor.error(e))?;
    let message = format!("Your notification level is now: {}.", level.describe());
    see_other_with(&state, &visitor, "/-/profile/notifications", &Flash::notice(message))
}

/// `POST /{project}/-/notifications` (`level`): the visitor's level for the project.
pub async fn save_project_level(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let level = Fields(form).get("level").to_owned();
    let level = state
        .core
        .plan()
        .set_notification_level(&visitor.actor, LevelOf::Project(&frame.access), &level)
        .await
        .map_err(|e| visitor.error(e))?;
    let location = format!("/{}", frame.project.full_path);
    let message = format!("Notifications for this project: {}.", level.describe());
    see_other_with(&state, &visitor, &location, &Flash::notice(message))
}

/// `POST /groups/{group}/-/notifications` (`level`): the visitor's level for the group.
pub async fn save_group_level(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let lookup = gantry_core::manage::groups::Lookup::Id(id.0);
    let access = state.core.group_access(&visitor.actor, &lookup).await.map_err(|e| visitor.error(e))?;
    let level = Fields(form).get("level").to_owned();
    let level = state
        .core
        .plan()
        .set_notification_level(&visitor.actor, LevelOf::Group(&access), &level)
        .await
        .map_err(|e| visitor.error(e))?;
    let location = format!("/{}", access.group().full_path);
    let message = format!("Notifications for this group: {}.", level.describe());
    see_other_with(&state, &visitor, &location, &Flash::notice(message))
}

/// `POST /{project}/-/issues/{iid}/subscription` (`subscribed=yes|no`): the visitor's own
/// choice of mail about the issue.
pub async fn save_subscription(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let subscribed = Fields(form).get("subscribed") == "yes";
    let outcome = state.core.plan().subscribe_to_issue(&frame.access, iid, subscribed).await.map(|_| {
        if subscribed { "You will get mail about this issue." } else { "You will get no more mail about this issue." }
            .to_owned()
    });
    super::issue::after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}

/// `POST /{project}/-/issues/{iid}/todo` (`done=yes` marks the visitor's to-dos on it done;
/// otherwise adds one).
pub async fn save_todo(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let plan = state.core.plan();
    let outcome = if Fields(form).get("done") == "yes" {
        plan.mark_issue_todos_done(&frame.access, iid).await.map(|_| "Marked as done.".to_owned())
    } else {
        plan.add_issue_todo(&frame.access, iid).await.map(|_| "Added to your to-do list.".to_owned())
    };
    super::issue::after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    chrome: Chrome,
    key: String,
    item: String,
    unsubscribed: bool,
}

/// `GET /-/unsubscribe/{key}`: what the link stops, with the button that stops it (a GET
/// never changes anything: mail scanners follow links).
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(key): Path<String>,
) -> PageResult {
    let view = state.core.plan().unsubscribe_link(&key).await.map_err(|e| visitor.error(e))?;
    let page = UnsubscribePage { chrome: Chrome::new(&visitor), key, item: view.item, unsubscribed: view.unsubscribed };
    render(StatusCode::OK, &page)
}

/// What the unsubscribe form (or a mail client's one-click POST) sends.
#[derive(Debug, Default, Deserialize)]
pub struct UnsubscribeForm {
    /// `yes` to get mail again.
    #[serde(default)]
    resubscribe: String,
}

/// `POST /-/unsubscribe/{key}`: no more mail about the link's item (or, with
/// `resubscribe=yes`, mail again). No CSRF token: the key is the credential, and mail clients
/// post here without cookies.
pub async fn unsubscribe(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(key): Path<String>,
    Form(form): Form<UnsubscribeForm>,
) -> PageResult {
    let subscribed = form.resubscribe == "yes";
    state.core.plan().follow_unsubscribe_link(&key, subscribed).await.map_err(|e| visitor.error(e))?;
    let message = if subscribed { "You will get mail about it again." } else { "You will get no more mail about it." };
    see_other_with(&state, &visitor, &format!("/-/unsubscribe/{key}"), &Flash::notice(message))
}
