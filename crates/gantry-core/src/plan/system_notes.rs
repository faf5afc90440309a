//! The system notes an issue's changes leave, in GitLab's words ("closed", "added ~bug label",
//! "assigned to @ada", "changed title from **x** to **y**"): Markdown, rendered like comments.

use gantry_db::plan::iterations::IterationRow;
use gantry_db::plan::labels::LabelRow;
use gantry_db::plan::milestones::MilestoneRow;

/// A label as a reference: `~bug`, or `~"needs review"` when the name is not one word.
pub(crate) fn label_reference(label: &LabelRow) -> String {
    let simple = label.title.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'));
    if simple { format!("~{}", label.title) } else { format!("~\"{}\"", label.title.replace('"', "")) }
}

/// "added ~a ~b labels", "removed ~c label", "added ~a label and removed ~c label".
pub(crate) fn labels_changed(added: &[LabelRow], removed: &[LabelRow]) -> Option<String> {
    let part = |verb: &str, labels: &[LabelRow]| -> Option<String> {
        if labels.is_empty() {
            return None;
        }
        let references: Vec<String> = labels.iter().map(label_reference).collect();
        let noun = if labels.len() == 1 { "label" } else { "labels" };
        Some(format!("{verb} {} {noun}", references.join(" ")))
    };
    join_parts(part("added", added), part("removed", removed))
}

/// "assigned to @ada", "unassigned @bob", "assigned to @ada and unassigned @bob".
pub(crate) fn assignees_changed(added: &[String], removed: &[String]) -> Option<String> {
    let mentions = |names: &[String]| names.iter().map(|name| format!("@{name}")).collect::<Vec<_>>();
    let assigned = (!added.is_empty()).then(|| format!("assigned to {}", and_list(&mentions(added))));
    let unassigned = (!removed.is_empty()).then(|| format!("unassigned {}", and_list(&mentions(removed))));
    join_parts(assigned, unassigned)
}

/// "changed milestone to %v1" (`%"two words"` when not one word), "removed milestone".
pub(crate) fn milestone_changed(new: Option<&MilestoneRow>) -> String {
    match new {
        Some(milestone) => {
            let title = &milestone.title;
            let simple = title.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if simple {
                format!("changed milestone to %{title}")
            } else {
                format!("changed milestone to %\"{}\"", title.replace('"', ""))
            }
        }
        None => "removed milestone".to_owned(),
    }
}

/// "changed iteration to **Sprint 4**" (an iteration without a title by its dates), "removed
/// iteration".
pub(crate) fn iteration_changed(new: Option<&IterationRow>) -> String {
    match new {
        Some(iteration) => {
            format!("changed iteration to **{}**", escape_emphasis(&super::iterations::iteration_name(iteration)))
        }
        None => "removed iteration".to_owned(),
    }
}

/// "changed title from **old** to **new**".
pub(crate) fn title_changed(old: &str, new: &str) -> String {
    format!("changed title from **{}** to **{}**", escape_emphasis(old), escape_emphasis(new))
}

/// "changed due date to December 31, 2026", "removed due date".
pub(crate) fn due_date_changed(new: Option<&str>) -> String {
    match new.and_then(|date| date.parse::<jiff::civil::Date>().ok()) {
        Some(date) => format!("changed due date to {}", date.strftime("%B %-d, %Y")),
        None => "removed due date".to_owned(),
    }
}

/// "changed weight to **3**", "removed the weight".
pub(crate) fn weight_changed(new: Option<i64>) -> String {
    match new {
        Some(weight) => format!("changed weight to **{weight}**"),
        None => "removed the weight".to_owned(),
    }
}

/// "made the issue confidential", "made the issue visible to everyone".
pub(crate) fn confidentiality_changed(confidential: bool) -> &'static str {
    if confidential { "made the issue confidential" } else { "made the issue visible to everyone" }
}

/// "locked the discussion in this issue", "unlocked the discussion in this issue".
pub(crate) fn lock_changed(locked: bool) -> &'static str {
    if locked { "locked the discussion in this issue" } else { "unlocked the discussion in this issue" }
}

fn join_parts(first: Option<String>, second: Option<String>) -> Option<String> {
    match (first, second) {
        (Some(a), Some(b)) => Some(format!("{a} and {b}")),
        (a, b) => a.or(b),
    }
}

/// `a`, `a and b`, `a, b, and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// A title inside `**…**`: its own asterisks and underscores escaped so they stay text.
fn escape_emphasis(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '_' | '\\' | '`' | '[' | ']' | '<' | '>') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(title: &str) -> LabelRow {
        LabelRow {
            id: gantry_types::LabelId(1),
            owner: gantry_db::plan::labels::LabelOwner::Project(gantry_types::ProjectId(1)),
            title: title.into(),
            color: "#6699cc".into(),
            description: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn notes_read_as_gitlab_words_them() {
        assert_eq!(labels_changed(&[label("bug")], &[]).unwrap(), "added ~bug label");
        assert_eq!(labels_changed(&[label("a"), label("b c")], &[]).unwrap(), "added ~a ~\"b c\" labels");
        assert_eq!(labels_changed(&[label("a")], &[label("b")]).unwrap(), "added ~a label and removed ~b label");
        assert_eq!(labels_changed(&[], &[]), None);
        assert_eq!(assignees_changed(&["ada".into()], &[]).unwrap(), "assigned to @ada");
        assert_eq!(
            assignees_changed(&["ada".into(), "bo".into()], &["cy".into()]).unwrap(),
            "assigned to @ada and @bo and unassigned @cy"
        );
        assert_eq!(title_changed("x", "y*"), "changed title from **x** to **y\\***");
        assert_eq!(due_date_changed(Some("2026-12-31")), "changed due date to December 31, 2026");
        assert_eq!(due_date_changed(None), "removed due date");
        assert_eq!(weight_changed(Some(3)), "changed weight to **3**");
    }
}
