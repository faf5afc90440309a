//! Burnup and burndown of a timebox — a milestone or an iteration: for each day from its start
//! to its due date (or today, if sooner), how many of its issues it held (its scope) and how
//! many of those were closed, counted and weighed. The issues are those in it now that the
//! viewer may see (so the chart never shows what the lists hide); each one's history is replayed
//! from its resource events — when it was put in the timebox (or another), closed and reopened,
//! and its weight — as of the end of each day (UTC). Issues taken out of it since are not
//! counted on the days they were in it; an issue from before events were kept counts its
//! weight now from its creation.

use std::collections::HashMap;

use gantry_db::plan::events::{self as events_db, EventKind, ResourceEventRow};
use gantry_types::{IssueId, IssueState, IterationId, MilestoneId};
pub use jiff::civil::Date;

use super::issues::{IssueQuery, IssueView, IssuesOf, IterationFilter, MilestoneFilter};
use crate::{CoreResult, Page};

/// Most issues a chart replays, and most days it draws (the last ones).
pub const MAX_ISSUES: i64 = 2_000;
pub const MAX_DAYS: i64 = 366;

/// Which timebox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timebox {
    Milestone(MilestoneId),
    Iteration(IterationId),
}

/// One day of a burnup: the scope and what of it was done by the day's end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BurnupDay {
    pub date: Date,
    pub scope_count: i64,
    pub scope_weight: i64,
    pub completed_count: i64,
    pub completed_weight: i64,
}

/// A timebox's burnup: one entry per day, and the totals as they are now.
#[derive(Debug, Clone, Default)]
pub struct Burnup {
    pub days: Vec<BurnupDay>,
    pub total_count: i64,
    pub total_weight: i64,
    pub completed_count: i64,
    pub completed_weight: i64,
    /// More issues were in it than a chart replays ([`MAX_ISSUES`]).
    pub truncated: bool,
}

/// Where one issue stands at a moment.
#[derive(Debug, Clone, Copy, Default)]
struct Standing {
    in_scope: bool,
    closed: bool,
    weight: i64,
}

/// Replays an issue's events (oldest first) up to each day's end; `view` gives what it is now
/// and the facts events may lack (an issue from before events were kept).
fn replay(
    view: &IssueView,
    events: &[&ResourceEventRow],
    timebox: Timebox,
    days: &[(Date, i64)],
    totals: &mut [BurnupDay],
) {
    let is_ours = |event: &ResourceEventRow| match timebox {
        Timebox::Milestone(id) => event.milestone_id == Some(id),
        Timebox::Iteration(id) => event.iteration_id == Some(id),
    };
    let first_weight = events.iter().find(|e| e.action.is_none() && e.state.is_none()).map(|e| e.weight);
    let had_timebox_event = events.iter().any(|e| e.action.is_some());
    let mut standing = Standing {
        // An issue with no record of joining was in it from its creation.
        in_scope: !had_timebox_event,
        closed: false,
        // Its first recorded weight was set on creation or later; before it, none.
        weight: match first_weight {
            Some(_) => 0,
            None => view.issue.weight.unwrap_or(0),
        },
    };
    // Closed before state events were kept: closed from its closing time.
    let closed_at = view.issue.closed_at.filter(|_| !events.iter().any(|e| e.state.is_some()));
    let mut next = 0;
    for ((_, end), total) in days.iter().zip(totals.iter_mut()) {
        if view.issue.created_at >= *end {
            continue;
        }
        while let Some(event) = events.get(next).filter(|event| event.created_at < *end) {
            match (&event.action, &event.state) {
                (Some(action), _) => standing.in_scope = action == "add" && is_ours(event),
                (None, Some(state)) => standing.closed = state == "closed",
                (None, None) => standing.weight = event.weight.unwrap_or(0),
            }
            next += 1;
        }
        let closed = standing.closed || closed_at.is_some_and(|at| at < *end);
        if standing.in_scope {
            total.scope_count += 1;
            total.scope_weight += standing.weight;
            if closed {
                total.completed_count += 1;
                total.completed_weight += standing.weight;
            }
        }
    }
}

/// The end of each day from `start` to `last` (Unix milliseconds, UTC), at most [`MAX_DAYS`]
/// of them (the last ones).
fn day_ends(start: Date, last: Date) -> Vec<(Date, i64)> {
    // A start far back (a milestone of year 1) costs no more than the days drawn.
    let earliest = last.checked_sub(jiff::Span::new().days(MAX_DAYS - 1)).unwrap_or(start);
    let mut days = Vec::new();
    let mut day = start.max(earliest);
    while day <= last {
        let Ok(next) = day.tomorrow() else { break };
        let end = next.to_zoned(jiff::tz::TimeZone::UTC).map(|at| at.timestamp().as_millisecond()).unwrap_or(i64::MAX);
        days.push((day, end));
        day = next;
    }
    days
}

impl super::Plan<'_> {
    /// The burnup of a timebox from `start` to `due` (or today, if sooner), counting the issues
    /// in it now that the viewer of `of` may see.
    pub async fn burnup(&self, of: IssuesOf<'_>, timebox: Timebox, start: Date, due: Date) -> CoreResult<Burnup> {
        let query = match timebox {
            Timebox::Milestone(id) => IssueQuery { milestone: MilestoneFilter::Id(id), ..IssueQuery::default() },
            Timebox::Iteration(id) => IssueQuery { iteration: IterationFilter::Id(id), ..IssueQuery::default() },
        };
        let (views, total) = self.list_issues(of, &query, Page { offset: 0, limit: MAX_ISSUES }).await?;
        let ids: Vec<IssueId> = views.iter().map(|view| view.issue.id).collect();
        let kind = match timebox {
            Timebox::Milestone(_) => EventKind::Milestone,
            Timebox::Iteration(_) => EventKind::Iteration,
        };
        let today = super::time_tracking::today();
        let days = day_ends(start, due.min(today));
        let until = days.last().map_or(i64::MIN, |(_, end)| *end);
        let mut conn = self.db.conn().await?;
        let events = events_db::timebox_events(&mut conn, &ids, kind, until).await?;
        drop(conn);
        let mut by_issue: HashMap<IssueId, Vec<&ResourceEventRow>> = HashMap::new();
        for event in &events {
            by_issue.entry(event.issue_id).or_default().push(event);
        }
        let mut totals: Vec<BurnupDay> =
            days.iter().map(|(date, _)| BurnupDay { date: *date, ..BurnupDay::default() }).collect();
        for view in &views {
            let events = by_issue.get(&view.issue.id).map(Vec::as_slice).unwrap_or_default();
            replay(view, events, timebox, &days, &mut totals);
        }
        let weight = |view: &IssueView| view.issue.weight.unwrap_or(0);
        let closed: Vec<&IssueView> = views.iter().filter(|view| view.issue.state == IssueState::Closed).collect();
        Ok(Burnup {
            days: totals,
            total_count: i64::try_from(views.len()).unwrap_or(i64::MAX),
            total_weight: views.iter().map(weight).sum(),
            completed_count: i64::try_from(closed.len()).unwrap_or(i64::MAX),
            completed_weight: closed.iter().map(|view| weight(view)).sum(),
            truncated: total > MAX_ISSUES,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_run_from_the_start_to_the_last_and_keep_the_latest() {
        let days = day_ends("2026-12-01".parse().unwrap(), "2026-12-03".parse().unwrap());
        let dates: Vec<String> = days.iter().map(|(date, _)| date.to_string()).collect();
        assert_eq!(dates, ["2026-12-01", "2026-12-02", "2026-12-03"]);
        // The end of 2026-12-01 is 2026-12-02T00:00:00Z.
        assert_eq!(days[0].1, 1_796_169_600_000);
        assert!(day_ends("2026-12-03".parse().unwrap(), "2026-12-01".parse().unwrap()).is_empty());
        let long = day_ends("2020-01-01".parse().unwrap(), "2026-12-31".parse().unwrap());
        assert_eq!(long.len(), 366);
        assert_eq!(long.last().unwrap().0.to_string(), "2026-12-31");
        let ancient = day_ends("0001-01-01".parse().unwrap(), "2026-12-31".parse().unwrap());
        assert_eq!((ancient.len(), ancient[0].0.to_string()), (366, "2025-12-31".to_owned()));
    }
}
