//! The wire types of issues, notes, labels and milestones, as GitLab's API returns them (from core's rows;
//! rows never serialise themselves).

use gantry_core::plan::burnup::Burnup;
use gantry_core::plan::issues::IssueView;
use gantry_core::plan::iterations::{CadenceRow, IterationRow, iteration_state};
use gantry_core::plan::labels::{LabelMarks, LabelOwner, LabelRow};
use gantry_core::plan::milestones::{MilestoneOwner, MilestoneRow, milestone_expired};
use gantry_core::plan::notes::NoteRow;
use serde::Serialize;

use crate::WebConfig;
use crate::api::types::User;
use crate::markup::label_text_color;
use crate::time_format::iso8601;

/// GitLab's issue.
#[derive(Debug, Serialize)]
pub struct Issue {
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    pub title: String,
    pub description: String,
    pub state: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<User>,
    pub labels: Vec<String>,
    pub milestone: Option<Milestone>,
    pub iteration: Option<Iteration>,
    pub assignees: Vec<User>,
    pub assignee: Option<User>,
    pub author: Option<User>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub issue_type: &'static str,
    pub user_notes_count: i64,
    pub merge_requests_count: i64,
    pub upvotes: i64,
    pub downvotes: i64,
    pub due_date: Option<String>,
    pub confidential: bool,
    pub discussion_locked: bool,
    pub weight: Option<i64>,
    pub relative_position: Option<i64>,
    pub web_url: String,
    pub references: References,
    pub time_stats: TimeStats,
    pub has_tasks: bool,
    pub task_status: String,
    pub task_completion_status: TaskCompletion,
    pub subscribed: bool,
    pub moved_to_id: Option<i64>,
    pub severity: &'static str,
    /// The issue's epic, when the caller may see it.
    pub epic_iid: Option<i64>,
    pub epic: Option<IssueEpic>,
    #[serde(rename = "_links")]
    pub links: IssueLinks,
}

/// The epic an issue is in, as GitLab's issue names it.
#[derive(Debug, Serialize)]
pub struct IssueEpic {
    pub id: i64,
    pub iid: i64,
    pub title: String,
    pub url: String,
    pub group_id: i64,
}

impl IssueEpic {
    pub fn new(epic: &gantry_core::plan::epics::EpicView) -> IssueEpic {
        let row = &epic.epic;
        IssueEpic {
            id: row.id.0,
            iid: row.iid,
            title: row.title.clone(),
            url: format!("/{}/-/epics/{}", row.group_path, row.iid),
            group_id: row.group_id.0,
        }
    }
}

/// Fills in the epics of issues made from `views` (in the same order) that the actor may see.
pub async fn with_epics(
    state: &crate::AppState,
    actor: &gantry_core::Actor,
    views: &[&IssueView],
    issues: &mut [Issue],
) -> Result<(), gantry_core::CoreError> {
    let ids: Vec<_> = views.iter().map(|view| view.issue.id).collect();
    let epics = state.core.plan().epics_of_issues(actor, &ids).await?;
    for (view, issue) in views.iter().zip(issues.iter_mut()) {
        if let Some(epic) = epics.get(&view.issue.id) {
            issue.epic_iid = Some(epic.epic.iid);
            issue.epic = Some(IssueEpic::new(epic));
        }
    }
    Ok(())
}

/// `#12`, and `group/project#12` from elsewhere.
#[derive(Debug, Serialize)]
pub struct References {
    pub short: String,
    pub relative: String,
    pub full: String,
}

/// Time tracking comes later: nothing estimated, nothing spent.
#[derive(Debug, Serialize)]
pub struct TimeStats {
    pub time_estimate: i64,
    pub total_time_spent: i64,
    pub human_time_estimate: Option<String>,
    pub human_total_time_spent: Option<String>,
}

impl TimeStats {
    pub fn new(issue: &gantry_core::plan::issues::IssueRow) -> TimeStats {
        let human = |seconds: i64| (seconds != 0).then(|| gantry_core::plan::quick_actions::human_duration(seconds));
        TimeStats {
            time_estimate: issue.time_estimate,
            total_time_spent: issue.total_time_spent,
            human_time_estimate: human(issue.time_estimate),
            human_total_time_spent: human(issue.total_time_spent),
        }
    }
}

/// The task list items of the description, and how many are ticked.
#[derive(Debug, Serialize)]
pub struct TaskCompletion {
    pub count: i64,
    pub completed_count: i64,
}

/// Where the issue's resources are.
#[derive(Debug, Serialize)]
pub struct IssueLinks {
    #[serde(rename = "self")]
    pub self_url: String,
    pub notes: String,
    pub award_emoji: String,
    pub project: String,
}

impl Issue {
    pub fn new(view: &IssueView, config: &WebConfig) -> Issue {
        let issue = &view.issue;
        let user = |u: &gantry_core::UserRow| User::new(u, config, false);
        let (count, completed_count) = gantry_core::plan::tasks::task_counts(&issue.description);
        let api = format!("{}/api/v4/projects/{}", config.external_url, issue.project_id.0);
        Issue {
            id: issue.id.0,
            iid: issue.iid,
            project_id: issue.project_id.0,
            title: issue.title.clone(),
            description: issue.description.clone(),
            state: issue.state.as_str(),
            created_at: iso8601(issue.created_at),
            updated_at: iso8601(issue.updated_at),
            closed_at: issue.closed_at.map(iso8601),
            closed_by: view.closed_by.as_ref().map(user),
            labels: view.labels.iter().map(|label| label.title.clone()).collect(),
            milestone: view.milestone.as_ref().map(|milestone| Milestone::new(milestone, config)),
            iteration: view.iteration.as_ref().map(|iteration| Iteration::new(iteration, config)),
            assignees: view.assignees.iter().map(user).collect(),
            assignee: view.assignees.first().map(user),
            author: view.author.as_ref().map(user),
            kind: "ISSUE",
            issue_type: "issue",
            user_notes_count: issue.user_notes_count,
            merge_requests_count: 0,
            upvotes: 0,
            downvotes: 0,
            due_date: issue.due_date.clone(),
            confidential: issue.confidential,
            discussion_locked: issue.discussion_locked,
            weight: issue.weight,
            relative_position: issue.relative_position,
            web_url: format!("{}/{}/-/issues/{}", config.external_url, view.project_path, issue.iid),
            references: References {
                short: format!("#{}", issue.iid),
                relative: format!("#{}", issue.iid),
                full: format!("{}#{}", view.project_path, issue.iid),
            },
            time_stats: TimeStats::new(issue),
            has_tasks: count > 0,
            task_status: if count > 0 {
                format!("{completed_count} of {count} checklist items completed")
            } else {
                String::new()
            },
            task_completion_status: TaskCompletion { count, completed_count },
            subscribed: false,
            moved_to_id: None,
            severity: "UNKNOWN",
            epic_iid: None,
            epic: None,
            links: IssueLinks {
                self_url: format!("{api}/issues/{}", issue.iid),
                notes: format!("{api}/issues/{}/notes", issue.iid),
                award_emoji: format!("{api}/issues/{}/award_emoji", issue.iid),
                project: api.clone(),
            },
        }
    }
}

/// GitLab's label.
#[derive(Debug, Serialize)]
pub struct Label {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub text_color: &'static str,
    pub description: Option<String>,
    pub description_html: String,
    pub subscribed: bool,
    pub priority: Option<i64>,
    pub is_project_label: bool,
}

impl Label {
    pub fn new(label: &LabelRow) -> Label {
        Label {
            id: label.id.0,
            name: label.title.clone(),
            color: label.color.clone(),
            text_color: label_text_color(&label.color),
            description: (!label.description.is_empty()).then(|| label.description.clone()),
            description_html: crate::markup::escape(&label.description),
            subscribed: false,
            priority: None,
            is_project_label: matches!(label.owner, LabelOwner::Project(_)),
        }
    }

    /// The label as one person sees it where it is asked for: its priority there and whether
    /// they subscribed to it.
    pub fn marked(label: &LabelRow, marks: &LabelMarks) -> Label {
        Label { subscribed: marks.subscribed(label.id), priority: marks.priority(label.id), ..Label::new(label) }
    }
}

/// GitLab's milestone: a project's carries `project_id`, a group's `group_id`.
#[derive(Debug, Serialize)]
pub struct Milestone {
    pub id: i64,
    pub iid: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub state: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub due_date: Option<String>,
    pub start_date: Option<String>,
    pub expired: bool,
    pub web_url: String,
}

impl Milestone {
    pub fn new(milestone: &MilestoneRow, config: &WebConfig) -> Milestone {
        let (project_id, group_id) = match milestone.owner {
            MilestoneOwner::Project(id) => (Some(id.0), None),
            MilestoneOwner::Group(id) => (None, Some(id.0)),
        };
        Milestone {
            id: milestone.id.0,
            iid: milestone.iid,
            project_id,
            group_id,
            title: milestone.title.clone(),
            description: milestone.description.clone(),
            state: milestone.state.as_str(),
            created_at: iso8601(milestone.created_at),
            updated_at: iso8601(milestone.updated_at),
            due_date: milestone.due_date.clone(),
            start_date: milestone.start_date.clone(),
            expired: milestone_expired(milestone),
            web_url: format!("{}/{}/-/milestones/{}", config.external_url, milestone.owner_path, milestone.iid),
        }
    }
}

/// GitLab's iteration (of a group's cadence; `state` 1 upcoming, 2 current, 3 closed), with the
/// cadence it belongs to.
#[derive(Debug, Serialize)]
pub struct Iteration {
    pub id: i64,
    pub iid: i64,
    pub sequence: i64,
    pub group_id: i64,
    pub iteration_cadence_id: i64,
    /// `None` for an automatic cadence's iterations, as in GitLab.
    pub title: Option<String>,
    pub description: Option<String>,
    pub state: i64,
    pub created_at: String,
    pub updated_at: String,
    pub start_date: String,
    pub due_date: String,
    pub web_url: String,
}

impl Iteration {
    pub fn new(iteration: &IterationRow, config: &WebConfig) -> Iteration {
        let state = iteration_state(iteration, &gantry_core::plan::iterations::today());
        Iteration {
            id: iteration.id.0,
            iid: iteration.iid,
            sequence: iteration.sequence,
            group_id: iteration.group_id.0,
            iteration_cadence_id: iteration.cadence_id.0,
            title: iteration.title.clone(),
            description: iteration.title.as_ref().map(|_| iteration.description.clone()),
            state: state.code(),
            created_at: iso8601(iteration.created_at),
            updated_at: iso8601(iteration.updated_at),
            start_date: iteration.start_date.clone(),
            due_date: iteration.due_date.clone(),
            web_url: format!("{}/{}/-/iterations/{}", config.external_url, iteration.group_path, iteration.id),
        }
    }
}

/// A timebox's burnup and burndown, in the shape of GitLab's GraphQL `TimeboxReport` (snake
/// case): its totals now and one entry per day from its start.
pub fn burnup_json(burnup: &Burnup, start: &str, due: &str) -> serde_json::Value {
    let days: Vec<serde_json::Value> = burnup
        .days
        .iter()
        .map(|day| {
            serde_json::json!({
                "date": day.date.to_string(),
                "scope_count": day.scope_count,
                "scope_weight": day.scope_weight,
                "completed_count": day.completed_count,
                "completed_weight": day.completed_weight,
            })
        })
        .collect();
    serde_json::json!({
        "start_date": start,
        "due_date": due,
        "stats": {
            "total": {"count": burnup.total_count, "weight": burnup.total_weight},
            "complete": {"count": burnup.completed_count, "weight": burnup.completed_weight},
            "incomplete": {
                "count": burnup.total_count - burnup.completed_count,
                "weight": burnup.total_weight - burnup.completed_weight,
            },
        },
        "truncated": burnup.truncated,
        "burnup_time_series": days,
    })
}

/// A group's iteration cadence (Gantry's own shape of GitLab's GraphQL `IterationCadence`).
#[derive(Debug, Serialize)]
pub struct Cadence {
    pub id: i64,
    pub group_id: i64,
    pub title: String,
    pub description: String,
    pub start_date: String,
    pub duration_in_weeks: i64,
    pub iterations_in_advance: i64,
    pub automatic: bool,
    pub roll_over: bool,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
}

impl Cadence {
    pub fn new(cadence: &CadenceRow, config: &WebConfig) -> Cadence {
        Cadence {
            id: cadence.id.0,
            group_id: cadence.group_id.0,
            title: cadence.title.clone(),
            description: cadence.description.clone(),
            start_date: cadence.start_date.clone(),
            duration_in_weeks: cadence.duration_in_weeks,
            iterations_in_advance: cadence.iterations_in_advance,
            automatic: cadence.automatic,
            roll_over: cadence.roll_over,
            created_at: iso8601(cadence.created_at),
            updated_at: iso8601(cadence.updated_at),
            web_url: format!("{}/{}/-/cadences#cadence-{}", config.external_url, cadence.group_path, cadence.id),
        }
    }
}

/// GitLab's note.
#[derive(Debug, Serialize)]
pub struct Note {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    pub body: String,
    pub attachment: Option<String>,
    pub author: Option<User>,
    pub created_at: String,
    pub updated_at: String,
    pub system: bool,
    pub noteable_id: i64,
    pub noteable_type: String,
    pub noteable_iid: i64,
    pub project_id: Option<i64>,
    pub resolvable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    pub confidential: bool,
    pub internal: bool,
}

impl Note {
    /// A note of the issue numbered `iid`.
    pub fn new(note: &NoteRow, iid: i64, config: &WebConfig) -> Note {
        Note {
            id: note.id.0,
            kind: note.thread.then_some("DiscussionNote"),
            body: note.body.clone(),
            attachment: None,
            author: note.author.as_ref().map(|user| User::new(user, config, false)),
            created_at: iso8601(note.created_at),
            updated_at: iso8601(note.updated_at),
            system: note.system,
            noteable_id: note.noteable_id,
            noteable_type: note.noteable_type.clone(),
            noteable_iid: iid,
            project_id: note.project_id.map(|id| id.0),
            resolvable: note.thread && !note.system,
            resolved: (note.thread && !note.system).then_some(note.resolved_at.is_some()),
            resolved_at: note.resolved_at.map(iso8601),
            confidential: false,
            internal: false,
        }
    }
}
