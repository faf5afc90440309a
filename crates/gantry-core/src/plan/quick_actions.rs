//! Quick actions: lines of a comment (or a new issue's description) that start with a command —
//! `/close`, `/label ~bug`, `/assign @ada`, `/estimate 1d 2h`, `/spend 30m` — change the issue
//! instead of being text, as in GitLab. A command line is read outside code blocks only; the
//! rest of the text is kept as it was. An unknown command stays text; a known one with an
//! argument Gantry cannot read (`/weight heavy`) is refused with a sentence, so nothing is
//! half done.

use crate::{CoreError, CoreResult};

/// What the quick actions of one text ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuickActions {
    pub close: bool,
    pub reopen: bool,
    pub title: Option<String>,
    /// Labels to add (`/label`), by name.
    pub add_labels: Vec<String>,
    /// Labels to remove (`/unlabel ~x`).
    pub remove_labels: Vec<String>,
    /// `/unlabel` alone: every label.
    pub remove_all_labels: bool,
    /// `/relabel`: the whole set.
    pub relabel: Option<Vec<String>>,
    /// Usernames to assign (`me` is the actor).
    pub assign: Vec<String>,
    pub unassign: Vec<String>,
    /// `/unassign` alone: everyone.
    pub unassign_all: bool,
    /// `Some(None)` removes it.
    pub due_date: Option<Option<String>>,
    pub weight: Option<Option<i64>>,
    pub confidential: bool,
    pub lock: Option<bool>,
    /// Seconds; `Some(0)` removes the estimate.
    pub estimate: Option<i64>,
    /// Seconds spent (negative takes time off), with the day it was spent on.
    pub spend: Vec<(i64, Option<String>)>,
    pub remove_time_spent: bool,
    pub todo: Option<bool>,
    pub subscribe: Option<bool>,
    /// `/milestone %v1` (by title); `Some(None)` takes the issue out of its milestone.
    pub milestone: Option<Option<String>>,
    /// `/iteration *iteration:12`, `*iteration:"Sprint 4"`, `--current` or `--next`; `Some(None)`
    /// (`/remove_iteration`) takes the issue out of its iteration.
    pub iteration: Option<Option<IterationWanted>>,
}

/// Which iteration `/iteration` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IterationWanted {
    Id(i64),
    Title(String),
    /// The one under way today (of the only cadence that has one).
    Current,
    /// The next one to start.
    Next,
}

fn iteration_wanted(argument: &str) -> Option<IterationWanted> {
    let argument = argument.trim();
    match argument {
        "--current" => return Some(IterationWanted::Current),
        "--next" => return Some(IterationWanted::Next),
        _ => {}
    }
    let reference = argument.strip_prefix("*iteration:")?;
    if let Ok(id) = reference.parse::<i64>() {
        return Some(IterationWanted::Id(id));
    }
    let title = reference.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(reference).trim();
    (!title.is_empty()).then(|| IterationWanted::Title(title.to_owned()))
}

impl QuickActions {
    /// Whether the text had any.
    pub fn is_empty(&self) -> bool {
        *self == QuickActions::default()
    }
}

/// Splits `text` into what stays text and the quick actions in it. `today` (`YYYY-MM-DD`) is
/// what `/due tomorrow` counts from.
pub fn extract(text: &str, today: jiff::civil::Date) -> CoreResult<(String, QuickActions)> {
    let mut kept: Vec<&str> = Vec::new();
    let mut actions = QuickActions::default();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            kept.push(line);
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            kept.push(line);
            continue;
        }
        let Some(command) = line.strip_prefix('/') else {
            kept.push(line);
            continue;
        };
        let (name, argument) = command.split_once(char::is_whitespace).unwrap_or((command, ""));
        if !apply(&mut actions, &name.to_ascii_lowercase(), argument.trim(), today)? {
            kept.push(line);
        }
    }
    let mut rest = kept.join("\n");
    if text.ends_with('\n') && !rest.is_empty() {
        rest.push('\n');
    }
    Ok((rest, actions))
}

/// Applies one command; `false` when it is none Gantry knows (the line stays text).
fn apply(actions: &mut QuickActions, name: &str, argument: &str, today: jiff::civil::Date) -> CoreResult<bool> {
    let bad = |message: String| CoreError::invalid("quick action", message);
    match name {
        "close" => actions.close = true,
        "reopen" => actions.reopen = true,
        "title" if !argument.is_empty() => actions.title = Some(argument.to_owned()),
        "title" => return Err(bad("/title needs the new title".into())),
        "label" | "labels" => actions.add_labels.extend(label_names(argument)),
        "unlabel" | "remove_label" if argument.is_empty() => actions.remove_all_labels = true,
        "unlabel" | "remove_label" => actions.remove_labels.extend(label_names(argument)),
        "relabel" => actions.relabel = Some(label_names(argument)),
        "assign" if argument.is_empty() => return Err(bad("/assign needs @usernames (or me)".into())),
        "assign" => actions.assign.extend(usernames(argument)),
        "unassign" if argument.is_empty() => actions.unassign_all = true,
        "unassign" => actions.unassign.extend(usernames(argument)),
        "due" => actions.due_date = Some(Some(due_date(argument, today).map_err(bad)?)),
        "remove_due_date" => actions.due_date = Some(None),
        "weight" => {
            let weight = argument.parse::<i64>().ok().filter(|w| *w >= 0);
            actions.weight =
                Some(Some(weight.ok_or_else(|| bad(format!("/weight needs a whole number, not '{argument}'")))?));
        }
        "clear_weight" | "remove_weight" => actions.weight = Some(None),
        "confidential" => actions.confidential = true,
        "lock" => actions.lock = Some(true),
        "unlock" => actions.lock = Some(false),
        "estimate" | "estimate_time" => {
            let seconds = duration(argument).filter(|s| *s > 0);
            actions.estimate = Some(
                seconds.ok_or_else(|| bad(format!("/estimate needs a time such as 1d 2h 30m, not '{argument}'")))?,
            );
        }
        "remove_estimate" | "remove_time_estimate" => actions.estimate = Some(0),
        "spend" | "spent" | "spend_time" => {
            let mut words: Vec<&str> = argument.split_whitespace().collect();
            let date = match words.last() {
                Some(last) if last.parse::<jiff::civil::Date>().is_ok() => {
                    let date = last.to_string();
                    words.pop();
                    Some(date)
                }
                _ => None,
            };
            let text = words.join(" ");
            let seconds = duration(text.trim_start_matches('-')).filter(|s| *s > 0);
            let seconds =
                seconds.ok_or_else(|| bad(format!("/spend needs a time such as 1h 30m, not '{argument}'")))?;
            actions.spend.push((if text.starts_with('-') { -seconds } else { seconds }, date));
        }
        "remove_time_spent" => actions.remove_time_spent = true,
        "todo" => actions.todo = Some(true),
        "done" => actions.todo = Some(false),
        "milestone" => {
            let title = label_names(&argument.replace('%', "~")).into_iter().next();
            let title = title.ok_or_else(|| bad("/milestone needs a milestone, such as %v1".into()))?;
            actions.milestone = Some(Some(title));
        }
        "remove_milestone" => actions.milestone = Some(None),
        "iteration" => {
            let wanted = iteration_wanted(argument).ok_or_else(|| {
                bad("/iteration needs an iteration, such as *iteration:\"Sprint 4\", --current or --next".into())
            })?;
            actions.iteration = Some(Some(wanted));
        }
        "remove_iteration" => actions.iteration = Some(None),
        "subscribe" => actions.subscribe = Some(true),
        "unsubscribe" => actions.subscribe = Some(false),
        _ => return Ok(false),
    }
    Ok(true)
}

/// `~bug ~"needs review" plain` → `bug`, `needs review`, `plain`.
fn label_names(argument: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = argument.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('~').unwrap_or(rest);
        if let Some(quoted) = rest.strip_prefix('"') {
            let (name, after) = quoted.split_once('"').unwrap_or((quoted, ""));
            names.push(name.to_owned());
            rest = after.trim_start();
        } else {
            let (name, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            names.push(name.trim_end_matches(',').to_owned());
            rest = after.trim_start();
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

/// `@ada, @bob me` → `ada`, `bob`, `me`.
fn usernames(argument: &str) -> Vec<String> {
    argument
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|word| word.trim_start_matches('@'))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A due date: `2026-12-31`, `today`, `tomorrow`, `in 3 days`, `in 2 weeks`.
fn due_date(argument: &str, today: jiff::civil::Date) -> Result<String, String> {
    let lower = argument.trim().to_ascii_lowercase();
    let days = match lower.as_str() {
        "today" => Some(0),
        "tomorrow" => Some(1),
        other => other.strip_prefix("in ").and_then(|rest| {
            let (count, unit) = rest.split_once(' ')?;
            let count: i64 = count.parse().ok()?;
            match unit.trim_end_matches('s') {
                "day" => Some(count),
                "week" => Some(count * 7),
                _ => None,
            }
        }),
    };
    if let Some(days) = days.filter(|d| (0..=3660).contains(d)) {
        return today.checked_add(jiff::Span::new().days(days)).map(|d| d.to_string()).map_err(|e| e.to_string());
    }
    lower
        .parse::<jiff::civil::Date>()
        .map(|date| date.to_string())
        .map_err(|_| format!("/due needs a date such as 2026-12-31, tomorrow or in 3 days, not '{argument}'"))
}

/// GitLab's durations: `1mo 2w 3d 4h 5m 6s` (spaces optional: `3h30m`) (a month is 4 weeks, a week 5 days, a day 8
/// hours, as GitLab counts working time); a bare number is hours. `None` when unreadable.
pub fn duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(hours) = text.parse::<i64>() {
        return hours.checked_mul(3600);
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let count: i64 = rest[..digits].parse().ok()?;
        let after = &rest[digits..];
        let letters = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let unit_seconds = match &after[..letters] {
            "mo" => 4 * 5 * 8 * 3600,
            "w" => 5 * 8 * 3600,
            "d" => 8 * 3600,
            "h" => 3600,
            "m" => 60,
            "s" => 1,
            _ => return None,
        };
        total = total.checked_add(count.checked_mul(unit_seconds)?)?;
        rest = after[letters..].trim_start();
    }
    Some(total)
}

/// GitLab's human form of a duration: `1d 2h 30m` (working days of 8 hours, weeks of 5 days).
pub fn human_duration(seconds: i64) -> String {
    if seconds == 0 {
        return "0h".to_owned();
    }
    let sign = if seconds < 0 { "-" } else { "" };
    let mut rest = seconds.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in
        [("mo", 4 * 5 * 8 * 3600), ("w", 5 * 8 * 3600), ("d", 8 * 3600), ("h", 3600), ("m", 60), ("s", 1)]
    {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    format!("{sign}{}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::{IterationWanted, duration, extract, human_duration};

    fn today() -> jiff::civil::Date {
        "2026-12-06".parse().unwrap()
    }

    #[test]
    fn commands_become_actions_and_the_rest_stays_text() {
        let text = "Looks done.\n/close\n/label ~bug ~\"needs review\"\n/assign @ada me\n/estimate 1d 2h\n/spend 30m 2026-12-01\n\
                    ```\n/close\n```\n/unknown stays\n";
        let (rest, actions) = extract(text, today()).unwrap();
        assert_eq!(rest, "Looks done.\n```\n/close\n```\n/unknown stays\n");
        assert!(actions.close && !actions.reopen);
        assert_eq!(actions.add_labels, vec!["bug", "needs review"]);
        assert_eq!(actions.assign, vec!["ada", "me"]);
        assert_eq!(actions.estimate, Some(10 * 3600));
        assert_eq!(actions.spend, vec![(1800, Some("2026-12-01".to_owned()))]);
        let (rest, actions) = extract("/due tomorrow\n/weight 3\n/unlabel\n/spend -1h", today()).unwrap();
        assert_eq!(rest, "");
        assert_eq!(actions.due_date, Some(Some("2026-12-07".to_owned())));
        assert_eq!(actions.weight, Some(Some(3)));
        assert!(actions.remove_all_labels);
        assert_eq!(actions.spend, vec![(-3600, None)]);
        assert!(extract("just text", today()).unwrap().1.is_empty());
        let (_, actions) = extract("/milestone %\"Q1 2027\"", today()).unwrap();
        assert_eq!(actions.milestone, Some(Some("Q1 2027".to_owned())));
        let (_, actions) = extract("/iteration *iteration:\"Sprint 4\"", today()).unwrap();
        assert_eq!(actions.iteration, Some(Some(IterationWanted::Title("Sprint 4".to_owned()))));
        let (_, actions) = extract("/iteration *iteration:12", today()).unwrap();
        assert_eq!(actions.iteration, Some(Some(IterationWanted::Id(12))));
        let (_, actions) = extract("/iteration --next", today()).unwrap();
        assert_eq!(actions.iteration, Some(Some(IterationWanted::Next)));
        let (_, actions) = extract("/remove_iteration", today()).unwrap();
        assert_eq!(actions.iteration, Some(None));
        assert!(extract("/iteration soon", today()).is_err());
    }

    #[test]
    fn unreadable_arguments_are_refused_with_a_sentence() {
        for (text, words) in [
            ("/weight heavy", "/weight needs a whole number"),
            ("/estimate soon", "/estimate needs a time"),
            ("/due someday", "/due needs a date"),
            ("/assign", "/assign needs @usernames"),
        ] {
            let error = extract(text, today()).unwrap_err().to_string();
            assert!(error.contains(words), "{text}: {error}");
        }
    }

    #[test]
    fn durations_count_working_time_as_gitlab_does() {
        assert_eq!(duration("1w 2d 3h 4m"), Some(5 * 8 * 3600 + 2 * 8 * 3600 + 3 * 3600 + 4 * 60));
        assert_eq!(duration("2"), Some(7200));
        assert_eq!(duration("3h30m"), Some(3 * 3600 + 1800));
        assert_eq!(duration("1x"), None);
        assert_eq!(human_duration(10 * 3600 + 1800), "1d 2h 30m");
        assert_eq!(human_duration(-3600), "-1h");
    }
}
