//! An issue's page (`/-/issues/{iid}`): the rendered description, its state, the sidebar
//! (labels, milestone, iteration, assignees, due date, weight, confidentiality; its form is in
//! `issue_sidebar.rs`), comments and system notes in time order with the comment form, and the forms that
//! close, reopen, edit (`/edit`), delete (Owners, after a page that asks) and change or delete
//! one's own comments.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::plan::award_emoji::AwardRow;
use gantry_core::plan::issues::{IssueChanges, IssueView, StateEvent};
use gantry_core::plan::notes::{NoteOrder, NoteRow, discussions};
use gantry_core::plan::references::{MAX_REFERENCES, Resolutions, references_in};
use gantry_core::policy::ProjectAction;
use gantry_core::{CoreError, Page, now_millis};
use gantry_types::{IssueState, NoteId};

use super::issue_links::LinkLine;
use super::issues::Fields;
use super::reactions::Reactions;
use super::{LabelChip, LabelChoice, issue_iid};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::markup::links::RepositoryLinks;
use crate::markup::render_markdown_with;
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, form_error, render};

/// Most notes the page shows (the oldest first).
const MAX_NOTES: i64 = 1000;

/// One note of the page.
pub struct NoteLine {
    pub id: i64,
    pub author: String,
    pub system: bool,
    pub body: String,
    pub html: String,
    pub when: String,
    pub edited: bool,
    /// The visitor may edit and delete it (its author).
    pub can_change: bool,
    pub reactions: Reactions,
    /// A reply in a thread (shown under its first note).
    pub reply: bool,
    /// The last note of a thread: the reply form and the resolve button follow it.
    pub thread_end: Option<ThreadEnd>,
    /// A "changed the description" note's link to what changed.
    pub compare_href: Option<String>,
}

/// What follows a thread's last note.
pub struct ThreadEnd {
    pub discussion_id: String,
    pub resolved: bool,
    /// The visitor may resolve or reopen it (who may edit the issue, or started the thread).
    pub can_resolve: bool,
}

#[derive(Template)]
#[template(path = "projects/issues/show.html")]
struct IssuePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    iid: i64,
    title: String,
    description_html: String,
    closed: bool,
    confidential: bool,
    locked: bool,
    author: String,
    opened_ago: String,
    closed_by: Option<String>,
    labels: Vec<LabelChip>,
    choices: Vec<LabelChoice>,
    /// Its milestone's title and address.
    milestone: Option<(String, String)>,
    /// Its epic's title and address, when the visitor may see the epic.
    epic: Option<(String, String)>,
    /// The milestones the sidebar offers: id, title, chosen.
    milestone_choices: Vec<(i64, String, bool)>,
    /// Its iteration's name and address.
    iteration: Option<(String, String)>,
    /// The iterations the sidebar offers (its own, the current and upcoming ones of the
    /// project's groups): id, name, chosen; empty when the project is in no group.
    iteration_choices: Vec<(i64, String, bool)>,
    assignees: Vec<String>,
    due_date: String,
    weight: String,
    notes: Vec<NoteLine>,
    can_edit: bool,
    can_manage: bool,
    can_comment: bool,
    can_delete: bool,
    comment: String,
    error: Option<String>,
    /// The visitor has a pending to-do on it.
    has_todo: bool,
    /// The visitor gets mail about it.
    subscribed: bool,
    /// The description's digest, which ticking a task box names.
    digest: String,
    /// Time tracking, in GitLab's words (`1d 2h`; empty when none).
    estimate: String,
    spent: String,
    reactions: Reactions,
    links: Vec<LinkLine>,
}

pub(super) fn href(frame: &ProjectFrame, iid: i64) -> String {
    format!("/{}/-/issues/{iid}", frame.project.full_path)
}

async fn issue_page(
    state: &AppState,
    visitor: &PageActor,
    frame: ProjectFrame,
    iid: i64,
    comment: String,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let plan = state.core.plan();
    let view = plan.find_issue(&frame.access, iid).await.map_err(|e| visitor.error(e))?;
    let every = Page { offset: 0, limit: MAX_NOTES };
    let (notes, _) =
        plan.list_issue_notes(&frame.access, iid, NoteOrder::default(), every).await.map_err(|e| visitor.error(e))?;
    let can_manage = frame.access.can(ProjectAction::UpdateIssues);
    let choices = if can_manage {
        let labels = plan.list_project_labels(&frame.access).await.map_err(|e| visitor.error(e))?;
        labels
            .iter()
            .map(|label| LabelChoice {
                chosen: view.labels.iter().any(|l| l.id == label.id),
                chip: LabelChip::new(label),
            })
            .collect()
    } else {
        Vec::new()
    };
    let has_todo = !plan.issue_todos(&frame.access, &view).await.map_err(|e| visitor.error(e))?.is_empty();
    let subscribed = plan.issue_subscribed(&frame.access, &view).await.map_err(|e| visitor.error(e))?;
    let milestone_choices = if can_manage {
        let milestones = plan.milestones_for_issues(&frame.access).await.map_err(|e| visitor.error(e))?;
        let chosen = view.milestone.as_ref().map(|m| m.id);
        milestones.into_iter().map(|m| (m.id.0, m.title, Some(m.id) == chosen)).collect()
    } else {
        Vec::new()
    };
    let milestone =
        view.milestone.as_ref().map(|m| (m.title.clone(), format!("/{}/-/milestones/{}", m.owner_path, m.iid)));
    let (iteration, iteration_choices) =
        super::issue_sidebar::iterations(state, &frame, &view, can_manage).await.map_err(|e| visitor.error(e))?;
    let epic = plan.epic_of_issue(&frame.access, view.issue.id).await.map_err(|e| visitor.error(e))?.map(|epic| {
        (
            format!("{} ({})", epic.epic.title, epic.reference(None)),
            format!("/{}/-/epics/{}", epic.epic.group_path, epic.epic.iid),
        )
    });
    let mut references = references_in(&view.issue.description);
    for note in &notes {
        for reference in references_in(&note.body) {
            if references.len() < MAX_REFERENCES && !references.contains(&reference) {
                references.push(reference);
            }
        }
    }
    let resolved = plan
        .resolve_references(frame.access.actor(), Some(&frame.access), &references)
        .await
        .map_err(|e| visitor.error(e))?;
    let note_ids: Vec<NoteId> = notes.iter().filter(|note| !note.system).map(|note| note.id).collect();
    let (issue_awards, note_awards) =
        plan.issue_page_awards(&frame.access, iid, &note_ids).await.map_err(|e| visitor.error(e))?;
    let links = super::issue_links::link_lines(&state.core, &frame, &view).await.map_err(|e| visitor.error(e))?;
    let versions = plan.description_versions_by_note(&frame.access, &view).await.map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let facts = view.facts();
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = IssuePage {
        chrome: Chrome::new(visitor),
        tab: "issues",
        iid,
        title: view.issue.title.clone(),
        description_html: render_markdown_with(
            &view.issue.description,
            Some(&RepositoryLinks::notes(&frame.project.full_path)),
            &resolved,
        ),
        closed: view.issue.state == IssueState::Closed,
        confidential: view.issue.confidential,
        locked: view.issue.discussion_locked,
        author: username(view.author.as_ref()),
        opened_ago: ago(view.issue.created_at, now),
        closed_by: view.issue.closed_at.map(|_| username(view.closed_by.as_ref())),
        labels: view.labels.iter().map(LabelChip::new).collect(),
        choices,
        milestone,
        epic,
        milestone_choices,
        iteration,
        iteration_choices,
        assignees: view.assignees.iter().map(|user| user.username.clone()).collect(),
        due_date: view.issue.due_date.clone().unwrap_or_default(),
        weight: view.issue.weight.map(|w| w.to_string()).unwrap_or_default(),
        notes: discussions(notes)
            .iter()
            .flat_map(|discussion| {
                let last = discussion.notes.len() - 1;
                discussion
                    .notes
                    .iter()
                    .enumerate()
                    .map(|(at, note)| {
                        let awards: Vec<&AwardRow> =
                            note_awards.iter().filter(|a| a.awardable_id == note.id.0).collect();
                        let reactions = Reactions::new(&frame, visitor, iid, Some(note.id.0), &awards);
                        let mut line = note_line(&frame, note, &resolved, reactions, now);
                        line.reply = at > 0;
                        line.compare_href = versions
                            .get(&note.id)
                            .map(|version| format!("{}/descriptions/{version}/diff", href(&frame, iid)));
                        if at == last && !discussion.individual_note {
                            let me = visitor.actor.user().map(|user| user.id);
                            let started_it = me.is_some() && discussion.notes[0].author_id == me;
                            line.thread_end = Some(ThreadEnd {
                                discussion_id: discussion.id.clone(),
                                resolved: discussion.resolved(),
                                can_resolve: started_it || frame.access.can_edit_issue(&facts),
                            });
                        }
                        line
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
        links,
        reactions: Reactions::new(&frame, visitor, iid, None, &issue_awards.iter().collect::<Vec<_>>()),
        can_edit: frame.access.can_edit_issue(&facts),
        can_manage,
        can_comment: frame.access.can_comment_on_issue(&facts),
        can_delete: frame.access.can(ProjectAction::DeleteIssues),
        comment,
        error,
        has_todo,
        subscribed,
        digest: gantry_core::plan::tasks::description_digest(&view.issue.description),
        estimate: human_time(view.issue.time_estimate),
        spent: human_time(view.issue.total_time_spent),
        frame,
    };
    render(status, &page)
}

fn human_time(seconds: i64) -> String {
    if seconds == 0 { String::new() } else { gantry_core::plan::quick_actions::human_duration(seconds) }
}

fn username(user: Option<&gantry_core::UserRow>) -> String {
    user.map_or_else(|| "a deleted user".to_owned(), |user| user.username.clone())
}

fn note_line(
    frame: &ProjectFrame,
    note: &NoteRow,
    references: &Resolutions,
    reactions: Reactions,
    now: i64,
) -> NoteLine {
    NoteLine {
        id: note.id.0,
        author: username(note.author.as_ref()),
        system: note.system,
        body: note.body.clone(),
        html: render_markdown_with(&note.body, Some(&RepositoryLinks::notes(&frame.project.full_path)), references),
        when: ago(note.created_at, now),
        edited: note.updated_at > note.created_at + 1000,
        can_change: !note.system && frame.access.can_change_note(note.author_id),
        reactions,
        reply: false,
        thread_end: None,
        compare_href: None,
    }
}

/// `GET /{project}/-/issues/{iid}`
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    issue_page(&state, &visitor, frame, iid, String::new(), None).await
}

/// After a change: back to the issue with a notice, or the issue again with the refusal.
pub(super) async fn after_change(
    state: &AppState,
    visitor: &PageActor,
    frame: ProjectFrame,
    iid: i64,
    outcome: Result<String, CoreError>,
    comment: String,
) -> PageResult {
    match outcome {
        Ok(notice) => see_other_with(state, visitor, &href(&frame, iid), &Flash::notice(notice)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            issue_page(state, visitor, frame, iid, comment, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/issues/{iid}/close`
pub async fn close(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    change_state(&state, &visitor, target, &iid, StateEvent::Close).await
}

/// `POST /{project}/-/issues/{iid}/reopen`
pub async fn reopen(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    change_state(&state, &visitor, target, &iid, StateEvent::Reopen).await
}

async fn change_state(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    iid: &str,
    event: StateEvent,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let iid = issue_iid(iid).map_err(|e| visitor.error(e))?;
    let changes = IssueChanges { state_event: Some(event), ..IssueChanges::default() };
    let verb = if event == StateEvent::Close { "closed" } else { "reopened" };
    let outcome =
        state.core.plan().update_issue(&frame.access, iid, &changes).await.map(|_| format!("Issue #{iid} was {verb}."));
    after_change(state, visitor, frame, iid, outcome, String::new()).await
}

#[derive(Template)]
#[template(path = "projects/issues/edit.html")]
struct EditIssuePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    iid: i64,
    title: String,
    description: String,
    error: Option<String>,
}

fn edit_page(
    visitor: &PageActor,
    frame: ProjectFrame,
    view: &IssueView,
    title: String,
    description: String,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    frame.access.require_edit_issue(&view.facts()).map_err(|e| visitor.error(e))?;
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = EditIssuePage {
        chrome: Chrome::new(visitor),
        tab: "issues",
        iid: view.issue.iid,
        title,
        description,
        error,
        frame,
    };
    render(status, &page)
}

/// `GET /{project}/-/issues/{iid}/edit`: the title and description form.
pub async fn edit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let view = state.core.plan().find_issue(&frame.access, iid).await.map_err(|e| visitor.error(e))?;
    let (title, description) = (view.issue.title.clone(), view.issue.description.clone());
    edit_page(&visitor, frame, &view, title, description, None)
}

/// `POST /{project}/-/issues/{iid}/edit`: saves the title and description.
pub async fn save_edit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let form = Fields(form);
    let changes = IssueChanges {
        title: Some(form.get("title").to_owned()),
        description: Some(form.get("description").to_owned()),
        ..IssueChanges::default()
    };
    match state.core.plan().update_issue(&frame.access, iid, &changes).await {
        Ok(_) => {
            see_other_with(&state, &visitor, &href(&frame, iid), &Flash::notice(format!("Issue #{iid} was saved.")))
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            let view = state.core.plan().find_issue(&frame.access, iid).await.map_err(|e| visitor.error(e))?;
            let (title, description) = (form.get("title").to_owned(), form.get("description").to_owned());
            edit_page(&visitor, frame, &view, title, description, Some(form_error(error)))
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "projects/issues/delete.html")]
struct DeleteIssuePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    iid: i64,
    title: String,
}

/// `POST /{project}/-/issues/{iid}/delete`: deletes the issue once confirmed (unconfirmed, it
/// asks on a page of its own), then says so on the list (Owners).
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let form = Fields(form);
    if form.get("confirm") != "yes" {
        let view = state.core.plan().find_issue(&frame.access, iid).await.map_err(|e| visitor.error(e))?;
        frame.require(&visitor, ProjectAction::DeleteIssues)?;
        let page =
            DeleteIssuePage { chrome: Chrome::new(&visitor), tab: "issues", iid, title: view.issue.title, frame };
        return render(StatusCode::OK, &page);
    }
    state.core.plan().delete_issue(&frame.access, iid).await.map_err(|e| visitor.error(e))?;
    let location = format!("/{}/-/issues", frame.project.full_path);
    see_other_with(&state, &visitor, &location, &Flash::notice(format!("Issue #{iid} was deleted.")))
}

/// `POST /{project}/-/issues/{iid}/notes`: comments.
pub async fn comment(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let form = Fields(form);
    let body = form.get("body").to_owned();
    if form.get("thread") == "yes" {
        let started = state.core.plan().start_issue_thread(&frame.access, iid, &body).await;
        let outcome = started.map(|_| "Your thread was started.".to_owned());
        return after_change(&state, &visitor, frame, iid, outcome, body).await;
    }
    let outcome = state.core.plan().comment_on_issue(&frame.access, iid, &body).await.map(|comment| {
        match (comment.note.is_some(), comment.done.join(" ")) {
            (true, done) if done.is_empty() => "Your comment was added.".to_owned(),
            (true, done) => format!("Your comment was added. {done}"),
            (false, done) => done,
        }
    });
    after_change(&state, &visitor, frame, iid, outcome, body).await
}

/// `POST /{project}/-/issues/{iid}/notes/{note_id}/edit`: changes one's comment.
pub async fn edit_note(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, note)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let note = note.parse::<NoteId>().map_err(|_| visitor.error(CoreError::NotFound("note")))?;
    let body = Fields(form).get("body").to_owned();
    let outcome = state
        .core
        .plan()
        .update_issue_note(&frame.access, iid, note, &body)
        .await
        .map(|_| "Your comment was saved.".to_owned());
    after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}

/// `POST /{project}/-/issues/{iid}/notes/{note_id}/delete`: deletes one's comment.
pub async fn delete_note(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, note)): Path<(String, String)>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let note = note.parse::<NoteId>().map_err(|_| visitor.error(CoreError::NotFound("note")))?;
    let outcome = state
        .core
        .plan()
        .delete_issue_note(&frame.access, iid, note)
        .await
        .map(|()| "The comment was deleted.".to_owned());
    after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}

/// `POST /{project}/-/issues/{iid}/tasks` (`index`, `checked=yes|no`, `digest`): ticks a task
/// box of the description (the page's script posts it when a box is clicked).
pub async fn set_task(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let fields = Fields(form);
    let checked = fields.get("checked") == "yes";
    let outcome = state
        .core
        .plan()
        .set_issue_task(&frame.access, iid, fields.get("index"), checked, fields.get("digest"))
        .await
        .map(|_| if checked { "The task was ticked." } else { "The task was unticked." }.to_owned());
    after_change(&state, &visitor, frame, iid, outcome, String::new()).await
}
