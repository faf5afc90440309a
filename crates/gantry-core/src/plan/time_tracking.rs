//! Time tracking and quick actions. An issue has an estimate and the time people logged on it
//! (GitLab's working time: a day is 8 hours, a week 5 days), set by Reporters and above, each
//! change leaving a system note ("changed time estimate to 1d 2h", "added 30m of time spent").
//! A comment's quick actions (`quick_actions`) are carried out here, each by the rules its own
//! operation has — a command the commenter may not use is left undone, as in GitLab — and the
//! comment keeps what is left of its text.

use gantry_db::plan::issues::{self as db, NewTimelog};
use gantry_db::plan::notes::NoteRow;

use super::issues::{IssueChanges, IssueView, StateEvent, add_system_note, load_issue};
use super::quick_actions::{QuickActions, extract, human_duration};
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// The most time one estimate or log may say (ten years of working time).
const MAX_SECONDS: i64 = 10 * 52 * 5 * 8 * 3600;

/// A comment with quick actions: the note (none when the comment was only commands) and what
/// the commands did, in sentences.
#[derive(Debug, Clone)]
pub struct Comment {
    pub note: Option<NoteRow>,
    pub done: Vec<String>,
}

/// Today's date in UTC (what `/due tomorrow` counts from).
pub(crate) fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

fn check_seconds(field: &'static str, seconds: i64) -> CoreResult<i64> {
    if seconds.abs() > MAX_SECONDS {
        return Err(CoreError::invalid(field, "is more than ten years of working time"));
    }
    Ok(seconds)
}

impl super::Plan<'_> {
    /// Sets an issue's estimate in seconds (0 removes it; Reporters and above).
    pub async fn set_time_estimate(&self, access: &ProjectAccess, iid: i64, seconds: i64) -> CoreResult<IssueView> {
        let seconds = check_seconds("duration", seconds)?;
        if seconds < 0 {
            return Err(CoreError::invalid("duration", "can't be negative"));
        }
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        access.require(ProjectAction::UpdateIssues)?;
        let actor = access.actor().require_user()?.id;
        if issue.issue.time_estimate != seconds {
            db::set_time_estimate(&mut tx, issue.issue.id, seconds).await?;
            let note = match seconds {
                0 => "removed time estimate".to_owned(),
                _ => format!("changed time estimate to {}", human_duration(seconds)),
            };
            add_system_note(&mut tx, access.project().id, issue.issue.id, actor, &note).await?;
        }
        let after = load_issue(&mut tx, access, iid).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(after)
    }

    /// Logs time spent on an issue (negative takes time off), on a day (`YYYY-MM-DD`) or now.
    pub async fn add_spent_time(
        &self,
        access: &ProjectAccess,
        iid: i64,
        seconds: i64,
        spent_on: Option<&str>,
        summary: &str,
    ) -> CoreResult<IssueView> {
        let seconds = check_seconds("duration", seconds)?;
        if seconds == 0 {
            return Err(CoreError::invalid("duration", "can't be zero"));
        }
        let spent_at = match spent_on {
            Some(day) => {
                let date: jiff::civil::Date = day
                    .parse()
                    .map_err(|_| CoreError::invalid("spent_at", format!("'{day}' is not a date (YYYY-MM-DD)")))?;
                let start = date
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .map_err(|e| CoreError::invalid("spent_at", e.to_string()))?;
                start.timestamp().as_millisecond()
            }
            None => crate::now_millis(),
        };
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        access.require(ProjectAction::UpdateIssues)?;
        let actor = access.actor().require_user()?.id;
        if issue.issue.total_time_spent + seconds < 0 {
            return Err(CoreError::invalid("duration", "would take off more time than was spent"));
        }
        let log = NewTimelog { issue_id: issue.issue.id, user_id: actor, time_spent: seconds, spent_at, summary };
        db::add_timelog(&mut tx, &log).await?;
        let verb = if seconds < 0 { "subtracted" } else { "added" };
        let mut note = format!("{verb} {} of time spent", human_duration(seconds.abs()));
        if let Some(day) = spent_on {
            note.push_str(&format!(" at {day}"));
        }
        add_system_note(&mut tx, access.project().id, issue.issue.id, actor, &note).await?;
        let after = load_issue(&mut tx, access, iid).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(after)
    }

    /// Removes all time logged on an issue.
    pub async fn reset_spent_time(&self, access: &ProjectAccess, iid: i64) -> CoreResult<IssueView> {
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        access.require(ProjectAction::UpdateIssues)?;
        let actor = access.actor().require_user()?.id;
        if issue.issue.total_time_spent != 0 {
            db::remove_timelogs(&mut tx, issue.issue.id).await?;
            add_system_note(&mut tx, access.project().id, issue.issue.id, actor, "removed time spent").await?;
        }
        let after = load_issue(&mut tx, access, iid).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(after)
    }

    /// Comments on an issue, carrying out the comment's quick actions first (a command that
    /// cannot be read refuses the whole comment, so nothing is half done); a comment of
    /// commands only leaves no note.
    pub async fn comment_on_issue(&self, access: &ProjectAccess, iid: i64, body: &str) -> CoreResult<Comment> {
        let (text, actions) = extract(body, today())?;
        if actions.is_empty() {
            return Ok(Comment { note: Some(self.create_issue_note(access, iid, body).await?), done: Vec::new() });
        }
        let issue = self.find_issue(access, iid).await?;
        access.require_comment_on_issue(&issue.facts())?;
        let done = self.apply_quick_actions(access, &issue, &actions).await?;
        let note = match text.trim().is_empty() {
            true => None,
            false => Some(self.create_issue_note(access, iid, &text).await?),
        };
        Ok(Comment { note, done })
    }

    /// Carries out quick actions on an issue; what was done, in sentences.
    pub(crate) async fn apply_quick_actions(
        &self,
        access: &ProjectAccess,
        issue: &IssueView,
        actions: &QuickActions,
    ) -> CoreResult<Vec<String>> {
        let iid = issue.issue.iid;
        let mut done = Vec::new();
        let edits = access.can_edit_issue(&issue.facts());
        let manages = access.can(ProjectAction::UpdateIssues);
        let mut changes = IssueChanges::default();
        if edits {
            if actions.close {
                changes.state_event = Some(StateEvent::Close);
                done.push("Closed this issue.".to_owned());
            } else if actions.reopen {
                changes.state_event = Some(StateEvent::Reopen);
                done.push("Reopened this issue.".to_owned());
            }
            if let Some(title) = &actions.title {
                changes.title = Some(title.clone());
                done.push(format!("Changed the title to \"{title}\"."));
            }
        }
        if manages {
            if let Some(labels) = &actions.relabel {
                changes.labels = Some(labels.clone());
            } else if actions.remove_all_labels {
                changes.labels = Some(Vec::new());
            }
            changes.add_labels = actions.add_labels.clone();
            changes.remove_labels = actions.remove_labels.clone();
            if !actions.add_labels.is_empty() || !actions.remove_labels.is_empty() || changes.labels.is_some() {
                done.push("Changed the labels.".to_owned());
            }
            if !actions.assign.is_empty() || !actions.unassign.is_empty() || actions.unassign_all {
                let me = access.actor().require_user()?.username.clone();
                let named = |names: &[String]| -> Vec<String> {
                    names.iter().map(|name| if name == "me" { me.clone() } else { name.clone() }).collect()
                };
                let adding = self.user_ids_by_usernames(&named(&actions.assign)).await?;
                let removing = self.user_ids_by_usernames(&named(&actions.unassign)).await?;
                let mut ids = if actions.unassign_all { Vec::new() } else { issue.assignee_ids.clone() };
                ids.retain(|id| !removing.contains(id));
                for id in adding {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                changes.assignee_ids = Some(ids);
                done.push("Changed the assignees.".to_owned());
            }
            if let Some(due) = &actions.due_date {
                changes.due_date = Some(due.clone());
                done.push(match due {
                    Some(day) => format!("Set the due date to {day}."),
                    None => "Removed the due date.".to_owned(),
                });
            }
            if let Some(weight) = actions.weight {
                changes.weight = Some(weight);
                done.push(match weight {
                    Some(weight) => format!("Set the weight to {weight}."),
                    None => "Removed the weight.".to_owned(),
                });
            }
            if actions.confidential {
                changes.confidential = Some(true);
                done.push("Made this issue confidential.".to_owned());
            }
            if let Some(wanted) = &actions.milestone {
                changes.milestone_id = Some(match wanted {
                    None => None,
                    Some(title) => {
                        let milestones = self.milestones_for_issues(access).await?;
                        let found =
                            milestones.iter().find(|m| m.title.eq_ignore_ascii_case(title)).ok_or_else(|| {
                                CoreError::invalid(
                                    "quick action",
                                    format!("/milestone: there is no milestone %{title} here"),
                                )
                            })?;
                        Some(found.id)
                    }
                });
                done.push(match wanted {
                    Some(title) => format!("Set the milestone to %{title}."),
                    None => "Removed the milestone.".to_owned(),
                });
            }
            if let Some(wanted) = &actions.iteration {
                let found = match wanted {
                    None => None,
                    Some(wanted) => Some(self.iteration_for_quick_action(access, wanted).await?),
                };
                changes.iteration_id = Some(found.as_ref().map(|iteration| iteration.id));
                done.push(match found {
                    Some(iteration) => {
                        format!("Set the iteration to {}.", super::iterations::iteration_name(&iteration))
                    }
                    None => "Removed the iteration.".to_owned(),
                });
            }
            if let Some(lock) = actions.lock {
                changes.discussion_locked = Some(lock);
                done.push(if lock { "Locked the discussion." } else { "Unlocked the discussion." }.to_owned());
            }
        }
        let changed = changes.state_event.is_some()
            || changes.title.is_some()
            || changes.labels.is_some()
            || !changes.add_labels.is_empty()
            || !changes.remove_labels.is_empty()
            || changes.assignee_ids.is_some()
            || changes.due_date.is_some()
            || changes.weight.is_some()
            || changes.milestone_id.is_some()
            || changes.iteration_id.is_some()
            || changes.confidential.is_some()
            || changes.discussion_locked.is_some();
        if changed {
            self.update_issue(access, iid, &changes).await?;
        }
        if manages {
            if let Some(seconds) = actions.estimate {
                self.set_time_estimate(access, iid, seconds).await?;
                done.push(match seconds {
                    0 => "Removed the time estimate.".to_owned(),
                    _ => format!("Set the time estimate to {}.", human_duration(seconds)),
                });
            }
            if actions.remove_time_spent {
                self.reset_spent_time(access, iid).await?;
                done.push("Removed the time spent.".to_owned());
            }
            for (seconds, day) in &actions.spend {
                self.add_spent_time(access, iid, *seconds, day.as_deref(), "").await?;
                done.push(format!("Added {} of time spent.", human_duration(*seconds)));
            }
        }
        match actions.todo {
            Some(true) => {
                self.add_issue_todo(access, iid).await?;
                done.push("Added a to-do.".to_owned());
            }
            Some(false) => {
                self.mark_issue_todos_done(access, iid).await?;
                done.push("Marked the to-do as done.".to_owned());
            }
            None => {}
        }
        if let Some(subscribed) = actions.subscribe {
            self.subscribe_to_issue(access, iid, subscribed).await?;
            done.push(
                if subscribed { "Subscribed to this issue." } else { "Unsubscribed from this issue." }.to_owned(),
            );
        }
        Ok(done)
    }
}
