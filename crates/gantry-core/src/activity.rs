//! Activity: what people did — issues opened, closed and reopened, comments, pushes — as
//! GitLab's events, for a project's activity, a person's and `/events`. The events are recorded
//! by gantry-db with the writes themselves; here is who sees which: the projects the actor sees,
//! an event about an issue or a comment only when the actor sees the issue (confidential ones for
//! Reporters and above, their authors and assignees), and a push only where the actor reads the
//! code.

use std::collections::HashMap;

use gantry_db::activity::{ActivityFilter, ActivityRow, list_activity};
use gantry_types::{AccessLevel, ProjectId, UserId};

use crate::plan::issues::visible_projects;
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{Actor, Core, CoreError, CoreResult, Page};

/// Whose events a listing shows.
#[derive(Debug, Clone, Copy)]
pub enum ActivityOf<'a> {
    /// One project's.
    Project(&'a ProjectAccess),
    /// What one person did, in the projects the actor sees.
    User(&'a Actor, UserId),
    /// Everything in the projects the actor sees.
    Visible(&'a Actor),
}

/// GitLab's filters of an event list.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    /// `created`, `closed`, `reopened`, `commented`, `pushed`.
    pub action: Option<String>,
    /// `issue` or `note`.
    pub target_type: Option<String>,
    /// Only before this day, only after this one (GitLab's `YYYY-MM-DD`, both excluded).
    pub before: Option<String>,
    pub after: Option<String>,
    pub ascending: bool,
}

/// The first millisecond of a day given as `YYYY-MM-DD` (UTC).
fn day_start(field: &'static str, day: &str) -> CoreResult<i64> {
    let date: jiff::civil::Date = day
        .trim()
        .parse()
        .map_err(|_| CoreError::invalid(field, format!("must be a date, YYYY-MM-DD, not '{day}'")))?;
    let start = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| CoreError::invalid(field, format!("is out of range: '{day}'")))?;
    Ok(start.timestamp().as_millisecond())
}

/// The actions an event list may be filtered by.
pub const ACTIONS: [&str; 5] = ["created", "closed", "reopened", "commented", "pushed"];
/// The kinds of thing an event list may be filtered by.
pub const TARGET_TYPES: [&str; 2] = ["issue", "note"];

/// An event with the path of its project.
#[derive(Debug, Clone)]
pub struct ActivityView {
    pub event: ActivityRow,
    pub project_path: String,
}

impl ActivityView {
    /// GitLab's `action_name`: "opened", "closed", "reopened", "commented on", "pushed to",
    /// "pushed new", "deleted".
    pub fn action_name(&self) -> &'static str {
        match (self.event.action.as_str(), &self.event.push) {
            ("created", _) => "opened",
            ("closed", _) => "closed",
            ("reopened", _) => "reopened",
            ("commented", _) => "commented on",
            ("pushed", Some((_, old, _))) if old.bytes().all(|b| b == b'0') => "pushed new",
            ("pushed", Some((_, _, new))) if new.bytes().all(|b| b == b'0') => "deleted",
            ("pushed", _) => "pushed to",
            _ => "did something to",
        }
    }
}

impl Core {
    /// One page of the events `of` holds that the actor may see, newest first unless asked.
    pub async fn list_activity(
        &self,
        of: ActivityOf<'_>,
        query: &ActivityQuery,
        page: Page,
    ) -> CoreResult<(Vec<ActivityView>, i64)> {
        if let Some(action) = &query.action
            && !ACTIONS.contains(&action.as_str())
        {
            let known = ACTIONS.join(", ");
            return Err(CoreError::invalid("action", format!("must be one of {known}, not '{action}'")));
        }
        if let Some(kind) = &query.target_type
            && !TARGET_TYPES.contains(&kind.as_str())
        {
            let known = TARGET_TYPES.join(", ");
            return Err(CoreError::invalid("target_type", format!("must be one of {known}, not '{kind}'")));
        }
        let mut conn = self.db.conn().await?;
        let mut paths = HashMap::new();
        let (actor, author, projects, code, confidential) = match of {
            ActivityOf::Project(access) => {
                access.require(ProjectAction::Read)?;
                let project = access.project();
                paths.insert(project.id, project.full_path.clone());
                let code = if access.can(ProjectAction::ReadCode) { vec![project.id.0] } else { Vec::new() };
                let confidential =
                    if access.can(ProjectAction::ReadConfidentialIssues) { vec![project.id.0] } else { Vec::new() };
                (access.actor(), None, vec![project.id.0], code, confidential)
            }
            ActivityOf::User(actor, _) | ActivityOf::Visible(actor) => {
                let listed = visible_projects(&mut conn, actor, None, false).await?;
                let mut code = Vec::new();
                let mut confidential = Vec::new();
                for project in &listed {
                    paths.insert(project.id, project.full_path.clone());
                    if crate::policy::visible_without_membership(actor, project.visibility) {
                        code.push(project.id.0);
                    }
                }
                if actor.user().is_some() && !crate::policy::administers(actor) {
                    for project in visible_projects(&mut conn, actor, None, true).await? {
                        let level = crate::policy::project_level(&mut conn, actor, &project).await?;
                        if level.is_some_and(|level| level >= AccessLevel::Reporter) {
                            confidential.push(project.id.0);
                            code.push(project.id.0);
                        }
                    }
                }
                if crate::policy::administers(actor) {
                    code = listed.iter().map(|p| p.id.0).collect();
                }
                let author = match of {
                    ActivityOf::User(_, user) => Some(user),
                    _ => None,
                };
                (actor, author, listed.iter().map(|p| p.id.0).collect(), code, confidential)
            }
        };
        let filter = ActivityFilter {
            projects: projects.into_iter().map(ProjectId).collect(),
            code_projects: code.into_iter().map(ProjectId).collect(),
            confidential_projects: confidential.into_iter().map(ProjectId).collect(),
            all_confidential: crate::policy::administers(actor),
            viewer: actor.user().map(|user| user.id),
            author,
            action: query.action.clone(),
            target_type: query.target_type.clone(),
            before: query.before.as_deref().map(|day| day_start("before", day)).transpose()?,
            after: query
                .after
                .as_deref()
                .map(|day| Ok::<_, CoreError>(day_start("after", day)? + 86_400_000))
                .transpose()?,
            ascending: query.ascending,
        };
        let (rows, total) = list_activity(&mut conn, &filter, page).await?;
        let views = rows
            .into_iter()
            .map(|event| ActivityView {
                project_path: paths.get(&event.project_id).cloned().unwrap_or_default(),
                event,
            })
            .collect();
        Ok((views, total))
    }
}
