//! A project's issue list (`/-/issues`: open, closed and all, search, a label, a milestone and
//! an assignee filter, pages of 20) and the new issue form (`/-/issues/new`, posted to `/-/issues`).

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::plan::issue_templates::DEFAULT_TEMPLATE;
use gantry_core::plan::issues::{
    AssigneeQuery, IssueChanges, IssueOrder, IssueQuery, IssueView, IssuesOf, MilestoneFilter, UserRef,
};
use gantry_core::policy::ProjectAction;
use gantry_core::{CoreError, Page, SortDirection, now_millis};
use gantry_types::IssueState;
use serde::Deserialize;

use super::{LabelChip, LabelChoice, usernames};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, form_error, query_value, render};

/// Issues on one page of the list.
const PER_PAGE: i64 = 20;

/// A form's fields as posted (labels come as several `labels` fields).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or nothing.
    pub fn get(&self, name: &str) -> &str {
        self.find(name).unwrap_or("")
    }

    /// The first value of `name`, when the form has the field.
    pub fn find(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    /// Whether a checkbox `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        matches!(self.get(name), "1" | "on" | "true" | "yes")
    }
}

/// One issue of the list.
pub struct IssueLine {
    pub iid: i64,
    pub title: String,
    pub href: String,
    pub closed: bool,
    pub confidential: bool,
    pub labels: Vec<LabelChip>,
    pub assignees: Vec<String>,
    pub author: String,
    pub comments: i64,
    pub opened_ago: String,
    /// The title of its milestone.
    pub milestone: Option<String>,
    /// `group/project#12`.
    pub reference: String,
}

impl IssueLine {
    pub(super) fn new(view: &IssueView, now: i64) -> IssueLine {
        IssueLine {
            iid: view.issue.iid,
            title: view.issue.title.clone(),
            href: format!("/{}/-/issues/{}", view.project_path, view.issue.iid),
            closed: view.issue.state == IssueState::Closed,
            confidential: view.issue.confidential,
            labels: view.labels.iter().map(LabelChip::new).collect(),
            assignees: view.assignees.iter().map(|user| user.username.clone()).collect(),
            author: view.author.as_ref().map_or_else(|| "a deleted user".to_owned(), |user| user.username.clone()),
            comments: view.issue.user_notes_count,
            opened_ago: ago(view.issue.created_at, now),
            milestone: view.milestone.as_ref().map(|milestone| milestone.title.clone()),
            reference: format!("{}#{}", view.project_path, view.issue.iid),
        }
    }
}

/// A tab of the list: its name, count, link and whether it is shown.
pub struct StateTab {
    pub name: &'static str,
    /// As shown (`count_text`).
    pub count: String,
    pub href: String,
    pub current: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    search: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    milestone: String,
    /// One of [`SORTS`]' keys (GitLab's names); newest first when missing.
    #[serde(default)]
    sort: String,
    page: Option<i64>,
}

/// The issue list's orders: GitLab's key, what the menu says, the order and its direction.
const SORTS: [(&str, &str, IssueOrder, SortDirection); 8] = [
    ("created_date", "Created date", IssueOrder::CreatedAt, SortDirection::Desc),
    ("created_asc", "Oldest created", IssueOrder::CreatedAt, SortDirection::Asc),
    ("updated_desc", "Updated date", IssueOrder::UpdatedAt, SortDirection::Desc),
    ("due_date", "Due date", IssueOrder::DueDate, SortDirection::Asc),
    ("label_priority", "Label priority", IssueOrder::LabelPriority, SortDirection::Desc),
    ("weight", "Weight", IssueOrder::Weight, SortDirection::Asc),
    ("title_asc", "Title", IssueOrder::Title, SortDirection::Asc),
    ("relative_position", "Manual (the boards' order)", IssueOrder::RelativePosition, SortDirection::Asc),
];

/// A choice of the sort menu.
pub struct SortChoice {
    pub key: &'static str,
    pub name: &'static str,
    pub chosen: bool,
}

impl ListQuery {
    /// The list's address with this state and page, keeping the filters.
    fn href(&self, base: &str, state: &str, page: i64) -> String {
        let mut href = format!("{base}?state={state}");
        let filters = [
            ("search", &self.search),
            ("label", &self.label),
            ("milestone", &self.milestone),
            ("assignee", &self.assignee),
            ("sort", &self.sort),
        ];
        for (name, value) in filters {
            if !value.trim().is_empty() {
                href.push_str(&format!("&{name}={}", query_value(value.trim())));
            }
        }
        if page > 1 {
            href.push_str(&format!("&page={page}"));
        }
        href
    }
}

#[derive(Template)]
#[template(path = "projects/issues/index.html")]
struct IssuesPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    tabs: Vec<StateTab>,
    state: String,
    search: String,
    label: String,
    assignee: String,
    milestone: String,
    labels: Vec<LabelChip>,
    /// The titles the milestone filter offers.
    milestones: Vec<String>,
    sorts: Vec<SortChoice>,
    /// Reporters change the ticked issues at once (the bulk edit form).
    can_bulk: bool,
    /// The milestones the bulk edit offers, by id.
    milestone_choices: Vec<(i64, String)>,
    /// Where the bulk edit comes back to: this very list.
    here: String,
    issues: Vec<IssueLine>,
    prev_href: Option<String>,
    next_href: Option<String>,
    can_create: bool,
    error: Option<String>,
}

/// `GET /{project}/-/issues` (`state`: opened, closed or all; `search`, `label`, `assignee`,
/// `milestone`, `sort`, `page`)
pub async fn list(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(params): Query<ListQuery>,
) -> PageResult {
    let mut frame = ProjectFrame::load_uncounted(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ReadIssues)?;
    let shown = match params.state.as_str() {
        "closed" => "closed",
        "all" => "all",
        _ => "opened",
    };
    let sort = SORTS.iter().find(|(key, ..)| *key == params.sort.trim()).unwrap_or(&SORTS[0]);
    let mut query = IssueQuery {
        order_by: sort.2,
        sort: sort.3,
        search: Some(params.search.trim().to_owned()).filter(|s| !s.is_empty()),
        labels: Some(params.label.trim().to_owned()).filter(|s| !s.is_empty()).into_iter().collect(),
        ..IssueQuery::default()
    };
    query.assignee = match params.assignee.trim().trim_start_matches('@') {
        "" => AssigneeQuery::Ignore,
        name if name.eq_ignore_ascii_case("none") => AssigneeQuery::Nobody,
        name if name.eq_ignore_ascii_case("any") => AssigneeQuery::Anybody,
        name => AssigneeQuery::User(UserRef::Username(name.to_owned())),
    };
    query.milestone = match params.milestone.trim() {
        "" => MilestoneFilter::Ignore,
        title if title.eq_ignore_ascii_case("none") => MilestoneFilter::Nobody,
        title if title.eq_ignore_ascii_case("any") => MilestoneFilter::Anybody,
        title => MilestoneFilter::Title(title.to_owned()),
    };
    let plan = state.core.plan();
    let labels = plan.list_project_labels(&frame.access).await.map_err(|e| visitor.error(e))?;
    let milestone_rows = plan.milestones_for_issues(&frame.access).await.map_err(|e| visitor.error(e))?;
    let mut milestones: Vec<String> = milestone_rows.iter().map(|milestone| milestone.title.clone()).collect();
    milestones.dedup();
    let can_bulk = frame.access.can(ProjectAction::UpdateIssues);
    let base = format!("/{}/-/issues", frame.project.full_path);
    let page_number = params.page.unwrap_or(1).max(1);
    let counted = plan.count_issues(IssuesOf::Project(&frame.access), &query).await;
    let (counts, error) = match counted {
        Ok(counts) => (counts, None),
        Err(error @ CoreError::Invalid { .. }) => ((0, 0), Some(form_error(error).1)),
        Err(error) => return Err(visitor.error(error)),
    };
    // Unfiltered, the Open tab's count is the header's too.
    let unfiltered = query.search.is_none()
        && query.labels.is_empty()
        && matches!(query.assignee, AssigneeQuery::Ignore)
        && matches!(query.milestone, MilestoneFilter::Ignore);
    let open_issues = if unfiltered && error.is_none() {
        counts.0
    } else {
        plan.count_open_issues(&frame.access).await.map_err(|e| visitor.error(e))?
    };
    frame.set_open_issues(open_issues);
    query.state = IssueState::parse(shown);
    // The tabs hold the counts: the listing itself need not count again.
    query.count_limit = 0;
    let total = match query.state {
        Some(IssueState::Opened) => counts.0,
        Some(IssueState::Closed) => counts.1,
        None => counts.0 + counts.1,
    };
    let mut issues = Vec::new();
    if error.is_none() {
        let page = Page { offset: (page_number - 1) * PER_PAGE, limit: PER_PAGE };
        let (views, _) =
            plan.list_issues(IssuesOf::Project(&frame.access), &query, page).await.map_err(|e| visitor.error(e))?;
        let now = now_millis();
        issues = views.iter().map(|view| IssueLine::new(view, now)).collect();
    }
    // Two exact counts add up exactly, past the limit too; one that stopped makes the sum stop.
    let all = if counts.0.max(counts.1) > gantry_core::COUNT_LIMIT {
        crate::ui::count_text(counts.0.max(counts.1))
    } else {
        (counts.0 + counts.1).to_string()
    };
    let tabs = [
        ("opened", "Open", crate::ui::count_text(counts.0)),
        ("closed", "Closed", crate::ui::count_text(counts.1)),
        ("all", "All", all),
    ]
    .into_iter()
    .map(|(key, name, count)| StateTab { name, count, href: params.href(&base, key, 1), current: key == shown })
    .collect();
    let has_next = crate::ui::has_next_page(page_number, PER_PAGE, total, issues.len());
    let page = IssuesPage {
        chrome: Chrome::new(&visitor),
        tab: "issues",
        tabs,
        state: shown.to_owned(),
        search: params.search.clone(),
        label: params.label.clone(),
        assignee: params.assignee.clone(),
        milestone: params.milestone.clone(),
        labels: labels.iter().map(LabelChip::new).collect(),
        milestones,
        sorts: SORTS.iter().map(|(key, name, ..)| SortChoice { key, name, chosen: *key == sort.0 }).collect(),
        can_bulk,
        milestone_choices: milestone_rows.iter().map(|m| (m.id.0, m.title.clone())).collect(),
        here: params.href(&base, shown, page_number),
        issues,
        prev_href: (page_number > 1).then(|| params.href(&base, shown, page_number - 1)),
        next_href: has_next.then(|| params.href(&base, shown, page_number + 1)),
        can_create: frame.access.can(ProjectAction::CreateIssue),
        error: error.clone(),
        frame,
    };
    render(if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }, &page)
}

/// What the new issue form shows (again, after a refusal).
#[derive(Default)]
pub struct IssueDraft {
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
    pub assignees: String,
    pub confidential: bool,
    pub due_date: String,
    pub weight: String,
    /// The issue template it started from.
    pub template: String,
}

#[derive(Template)]
#[template(path = "projects/issues/new.html")]
struct NewIssuePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    draft: IssueDraft,
    labels: Vec<LabelChoice>,
    /// The project's issue templates, by name.
    templates: Vec<String>,
    /// The visitor may set labels, assignees, the due date and the weight (Reporters).
    can_manage: bool,
    error: Option<String>,
}

async fn new_issue_page(
    state: &AppState,
    visitor: &PageActor,
    frame: ProjectFrame,
    draft: IssueDraft,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    frame.require(visitor, ProjectAction::CreateIssue)?;
    let labels = state.core.plan().list_project_labels(&frame.access).await.map_err(|e| visitor.error(e))?;
    let templates = state.core.plan().issue_templates(&frame.access).await.map_err(|e| visitor.error(e))?;
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = NewIssuePage {
        chrome: Chrome::new(visitor),
        tab: "issues",
        labels: labels
            .iter()
            .map(|label| LabelChoice { chosen: draft.labels.contains(&label.title), chip: LabelChip::new(label) })
            .collect(),
        draft,
        templates: templates.into_iter().map(|template| template.name).collect(),
        can_manage: frame.access.can(ProjectAction::UpdateIssues),
        error,
        frame,
    };
    render(status, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewIssueQuery {
    /// The issue template to start from (GitLab's parameter); `Default` when there is one.
    issuable_template: Option<String>,
}

/// `GET /{project}/-/issues/new` (`issuable_template`: the template whose text the description
/// starts with)
pub async fn new_issue(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<NewIssueQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::CreateIssue)?;
    let plan = state.core.plan();
    // Asked for by name, none ("No template"), or `Default` when the project has one.
    let (name, asked) = match query.issuable_template.as_deref().map(str::trim) {
        Some("") => return new_issue_page(&state, &visitor, frame, IssueDraft::default(), None).await,
        Some(name) => (name, true),
        None => (DEFAULT_TEMPLATE, false),
    };
    let template = match plan.issue_template(&frame.access, name).await {
        Ok(template) => template,
        Err(CoreError::NotFound(_)) if !asked => {
            return new_issue_page(&state, &visitor, frame, IssueDraft::default(), None).await;
        }
        Err(CoreError::NotFound(_)) => {
            let failure = (StatusCode::NOT_FOUND, format!("There is no issue template called {name}."));
            return new_issue_page(&state, &visitor, frame, IssueDraft::default(), Some(failure)).await;
        }
        Err(error) => return Err(visitor.error(error)),
    };
    let draft = IssueDraft { description: template.content, template: template.name, ..IssueDraft::default() };
    new_issue_page(&state, &visitor, frame, draft, None).await
}

/// `POST /{project}/-/issues`: opens the issue and shows it.
pub async fn create_issue(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let form = Fields(form);
    let draft = IssueDraft {
        title: form.get("title").to_owned(),
        description: form.get("description").to_owned(),
        labels: form.all("labels"),
        assignees: form.get("assignees").to_owned(),
        confidential: form.ticked("confidential"),
        due_date: form.get("due_date").to_owned(),
        template: form.get("issuable_template").to_owned(),
        weight: form.get("weight").to_owned(),
    };
    let created = async {
        let weight = match draft.weight.trim() {
            "" => None,
            text => {
                Some(text.parse::<i64>().map_err(|_| CoreError::invalid_input("weight", "must be a whole number"))?)
            }
        };
        let assignee_ids = state.core.plan().user_ids_by_usernames(&usernames(&draft.assignees)).await?;
        let changes = IssueChanges {
            title: Some(draft.title.clone()),
            description: Some(draft.description.clone()),
            confidential: Some(draft.confidential),
            due_date: Some(Some(draft.due_date.clone()).filter(|d| !d.trim().is_empty())),
            weight: Some(weight),
            labels: Some(draft.labels.clone()),
            assignee_ids: Some(assignee_ids),
            ..IssueChanges::default()
        };
        state.core.plan().create_issue(&frame.access, &changes).await
    }
    .await;
    match created {
        Ok(view) => {
            let location = format!("/{}/-/issues/{}", frame.project.full_path, view.issue.iid);
            let notice = Flash::notice(format!("Issue #{} was opened.", view.issue.iid));
            see_other_with(&state, &visitor, &location, &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            new_issue_page(&state, &visitor, frame, draft, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}
