//! A project's activity (`/-/activity`): what people did — pushes, issues opened, closed and
//! reopened, comments — newest first, with tabs for each kind and pages of 40; its latest lines
//! are also the overview's Activity card. Only what the visitor may see is listed (core's
//! `activity`: issues they see, pushes where they read the code).

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::activity::{ActivityOf, ActivityQuery, ActivityView};
use gantry_core::policy::ProjectAccess;
use gantry_core::{Page, now_millis};
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;

/// Lines on one page of the activity.
const PER_PAGE: i64 = 40;
/// Characters of a comment shown in its line.
const COMMENT_CHARS: usize = 120;

/// One line of the activity.
pub struct ActivityLine {
    pub who: String,
    /// "pushed to branch", "opened issue", "commented on issue".
    pub action: String,
    /// The branch or tag, or `#12 Title`.
    pub target: String,
    pub href: Option<String>,
    /// The commits a push moved between, or the start of a comment.
    pub detail: String,
    pub when: String,
}

impl ActivityLine {
    fn new(view: &ActivityView, now: i64) -> ActivityLine {
        let event = &view.event;
        let project = &view.project_path;
        let who = event.author.as_ref().map_or_else(|| "A deleted user".to_owned(), |user| user.username.clone());
        let (action, target, href, detail) = match &event.push {
            Some((name, old, new)) => {
                let (kind, short) = match name.strip_prefix("refs/heads/") {
                    Some(branch) => ("branch", branch),
                    None => ("tag", name.strip_prefix("refs/tags/").unwrap_or(name)),
                };
                let zero = |sha: &str| sha.bytes().all(|b| b == b'0');
                let (verb, href, detail) = if zero(old) {
                    ("pushed new", Some(super::tree_href(project, short)), format!("at {}", &new[..new.len().min(8)]))
                } else if zero(new) {
                    ("deleted", None, String::new())
                } else {
                    let moved = format!("{} → {}", &old[..old.len().min(8)], &new[..new.len().min(8)]);
                    ("pushed to", Some(super::tree_href(project, short)), moved)
                };
                (format!("{verb} {kind}"), short.to_owned(), href, detail)
            }
            None => {
                let iid = event.target_iid.unwrap_or_default();
                let title = event.target_title.clone().unwrap_or_default();
                let mut href = format!("/{project}/-/issues/{iid}");
                let detail = match (event.target_type.as_deref(), &event.note_body) {
                    (Some("Note"), Some(body)) => {
                        href.push_str(&format!("#note_{}", event.target_id.unwrap_or_default()));
                        let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
                        if flat.chars().count() > COMMENT_CHARS {
                            format!("{}…", flat.chars().take(COMMENT_CHARS).collect::<String>())
                        } else {
                            flat
                        }
                    }
                    _ => String::new(),
                };
                (format!("{} issue", view.action_name()), format!("#{iid} {title}"), Some(href), detail)
            }
        };
        ActivityLine { who, action, target, href, detail, when: ago(event.created_at, now) }
    }
}

/// The project's latest lines, for the overview.
pub async fn recent(
    state: &AppState,
    visitor: &PageActor,
    access: &ProjectAccess,
) -> Result<Vec<ActivityLine>, PageError> {
    let page = Page { offset: 0, limit: 20 };
    let (events, _) = state
        .core
        .list_activity(ActivityOf::Project(access), &ActivityQuery::default(), page)
        .await
        .map_err(|e| visitor.error(e))?;
    let now = now_millis();
    Ok(events.iter().map(|view| ActivityLine::new(view, now)).collect())
}

/// The tabs of the activity page: GitLab's filters.
const TABS: [(&str, &str, Option<&str>, Option<&str>); 4] = [
    ("all", "All", None, None),
    ("push", "Push events", Some("pushed"), None),
    ("issue", "Issue events", None, Some("issue")),
    ("comments", "Comments", Some("commented"), None),
];

#[derive(Debug, Default, Deserialize)]
pub struct ActivityParams {
    event_filter: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "projects/activity.html")]
struct ActivityPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    /// `(filter, label, href, current)`.
    filters: Vec<(&'static str, &'static str, String, bool)>,
    lines: Vec<ActivityLine>,
    previous_href: Option<String>,
    next_href: Option<String>,
}

/// `GET /{project}/-/activity`
pub async fn project_activity(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(params): Query<ActivityParams>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let chosen = TABS.iter().find(|tab| Some(tab.0) == params.event_filter.as_deref()).unwrap_or(&TABS[0]);
    let number = params.page.as_deref().and_then(|p| p.parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let query = ActivityQuery {
        action: chosen.2.map(str::to_owned),
        target_type: chosen.3.map(str::to_owned),
        ..ActivityQuery::default()
    };
    let page = Page { offset: (number - 1).saturating_mul(PER_PAGE), limit: PER_PAGE };
    let (events, total) = state
        .core
        .list_activity(ActivityOf::Project(&frame.access), &query, page)
        .await
        .map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let base = format!("/{}/-/activity", frame.project.full_path);
    let href = |filter: &str, number: i64| {
        let mut href = format!("{base}?event_filter={filter}");
        if number > 1 {
            href.push_str(&format!("&page={number}"));
        }
        href
    };
    let page = ActivityPage {
        chrome: Chrome::new(&visitor),
        filters: TABS.iter().map(|tab| (tab.0, tab.1, href(tab.0, 1), tab.0 == chosen.0)).collect(),
        lines: events.iter().map(|view| ActivityLine::new(view, now)).collect(),
        previous_href: (number > 1).then(|| href(chosen.0, number - 1)),
        next_href: crate::ui::has_next_page(number, PER_PAGE, total, events.len()).then(|| href(chosen.0, number + 1)),
        tab: "activity",
        frame,
    };
    render(StatusCode::OK, &page)
}
