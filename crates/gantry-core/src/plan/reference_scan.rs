//! Finding references in a piece of plain text (a text node of a Markdown document): `#12`,
//! `group/project#12`, `&3`, `group&3`, `@name`, `~label`, `%milestone` and commit ids, each
//! where it may stand as GitLab reads them (not inside a word, a path or an e-mail address).

use super::references::{Found, MAX_REFERENCES, Reference};

/// Whether `c` may be part of a project path, a user name or an unquoted label.
fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether `c` joins words (a reference must not start right after one).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The references in a piece of plain text (a text node of a document), in order.
pub fn scan(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < text.len() && found.len() < MAX_REFERENCES {
        let c = text[at..].chars().next().unwrap_or(' ');
        let before = text[..at].chars().next_back();
        let at_boundary = before.is_none_or(|b| !is_word_char(b) && !matches!(b, '@' | '~' | '%' | '#' | '/' | '&'));
        let next = match c {
            '#' => issue_at(text, at),
            '&' => epic_at(text, at),
            '@' if at_boundary && before != Some('.') => mention_at(text, at),
            '~' if at_boundary => name_at(text, at, Reference::Label),
            '%' if at_boundary => name_at(text, at, Reference::Milestone),
            c if c.is_ascii_hexdigit() && at_boundary => commit_at(text, at),
            _ => None,
        };
        match next {
            Some(reference) => {
                at = reference.range.end;
                found.push(reference);
            }
            None => at += c.len_utf8(),
        }
    }
    found
}

/// `#12` or `project#12` with the `#` at `hash`.
fn issue_at(text: &str, hash: usize) -> Option<Found> {
    let (range, project, iid) = numbered_at(text, hash)?;
    Some(Found { range, reference: Reference::Issue { project, iid } })
}

/// `&3` or `group/subgroup&3` with the `&` at `amp`.
fn epic_at(text: &str, amp: usize) -> Option<Found> {
    let (range, group, iid) = numbered_at(text, amp)?;
    Some(Found { range, reference: Reference::Epic { group, iid } })
}

/// A number after the mark at `mark` (`#`, `&`), with the path written right before the mark
/// when there is one: the whole reference's range, the path and the number.
fn numbered_at(text: &str, mark: usize) -> Option<(std::ops::Range<usize>, Option<String>, i64)> {
    let digits: usize = text[mark + 1..].bytes().take_while(u8::is_ascii_digit).count();
    let end = mark + 1 + digits;
    if digits == 0 || digits > 18 || text[end..].chars().next().is_some_and(is_word_char) {
        return None;
    }
    let number: i64 = text[mark + 1..end].parse().ok()?;
    let mut start = mark;
    for (index, c) in text[..mark].char_indices().rev() {
        if is_path_char(c) || c == '/' {
            start = index;
        } else {
            break;
        }
    }
    let before = text[..start].chars().next_back();
    if before.is_some_and(|b| is_word_char(b) || matches!(b, '@' | '~' | '%' | '#' | '&')) {
        return None;
    }
    let path = &text[start..mark];
    let trimmed = path.trim_start_matches(['.', '-', '/']);
    let start = start + (path.len() - trimmed.len());
    let path = if trimmed.is_empty() {
        None
    } else if trimmed.ends_with(['/', '.']) || trimmed.contains("//") {
        return None;
    } else {
        Some(trimmed.to_owned())
    };
    Some((start..end, path, number))
}

/// `@name` or `@group/subgroup` with the `@` at `at`.
fn mention_at(text: &str, at: usize) -> Option<Found> {
    let rest = &text[at + 1..];
    let mut length = 0;
    for (index, c) in rest.char_indices() {
        if is_path_char(c) || (c == '/' && rest[index + 1..].chars().next().is_some_and(is_path_char)) {
            length = index + c.len_utf8();
        } else {
            break;
        }
    }
    let name = rest[..length].trim_end_matches(['.', '-']);
    if name.is_empty() || name.starts_with(['.', '-']) {
        return None;
    }
    Some(Found { range: at..at + 1 + name.len(), reference: Reference::Mention(name.to_owned()) })
}

/// `~name`, `~"two words"` (and `%…`) with the sigil at `at`.
fn name_at(text: &str, at: usize, make: fn(String) -> Reference) -> Option<Found> {
    let rest = &text[at + 1..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let close = quoted.find(['"', '\n'])?;
        let name = quoted[..close].trim();
        if quoted[close..].starts_with('\n') || name.is_empty() || name.chars().count() > 255 {
            return None;
        }
        return Some(Found { range: at..at + 1 + 1 + close + 1, reference: make(name.to_owned()) });
    }
    let length: usize =
        rest.chars().take_while(|&c| is_path_char(c) || matches!(c, ':' | '?' | '&')).map(char::len_utf8).sum();
    let name = rest[..length].trim_end_matches(['.', ':', '?', '-', '&']);
    if name.is_empty() {
        return None;
    }
    Some(Found { range: at..at + 1 + name.len(), reference: make(name.to_owned()) })
}

/// A commit id (7 to 40 lowercase hex digits, a word of its own) starting at `at`.
fn commit_at(text: &str, at: usize) -> Option<Found> {
    let length = text[at..].bytes().take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)).count();
    let end = at + length;
    if !(7..=40).contains(&length) || text[end..].chars().next().is_some_and(|c| is_word_char(c) || c == '@') {
        return None;
    }
    Some(Found { range: at..end, reference: Reference::Commit(text[at..end].to_owned()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn references(text: &str) -> Vec<(String, Reference)> {
        scan(text).into_iter().map(|found| (text[found.range].to_owned(), found.reference)).collect()
    }

    fn issue(project: Option<&str>, iid: i64) -> Reference {
        Reference::Issue { project: project.map(str::to_owned), iid }
    }

    #[test]
    fn issues_are_found_with_and_without_projects() {
        assert_eq!(
            references("see #12, acme/api#3 and (api#4). Not a#b, x#5y, &#9 or ##7."),
            vec![
                ("#12".to_owned(), issue(None, 12)),
                ("acme/api#3".to_owned(), issue(Some("acme/api"), 3)),
                ("api#4".to_owned(), issue(Some("api"), 4)),
            ]
        );
        assert_eq!(references("#1"), vec![("#1".to_owned(), issue(None, 1))]);
    }

    #[test]
    fn epics_are_found_with_and_without_groups() {
        let epic = |group: Option<&str>, iid| Reference::Epic { group: group.map(str::to_owned), iid };
        assert_eq!(
            references("see &3, acme/platform&4 and (acme&5). Not a &b, x&5y, &#9 or &&7."),
            vec![
                ("&3".to_owned(), epic(None, 3)),
                ("acme/platform&4".to_owned(), epic(Some("acme/platform"), 4)),
                ("acme&5".to_owned(), epic(Some("acme"), 5)),
            ]
        );
    }

    #[test]
    fn mentions_labels_and_milestones_are_found() {
        assert_eq!(
            references("@ada and @acme/platform. ~bug, ~\"needs review\", ~priority::high: %v1.0 %\"Sprint 3\""),
            vec![
                ("@ada".to_owned(), Reference::Mention("ada".into())),
                ("@acme/platform".to_owned(), Reference::Mention("acme/platform".into())),
                ("~bug".to_owned(), Reference::Label("bug".into())),
                ("~\"needs review\"".to_owned(), Reference::Label("needs review".into())),
                ("~priority::high".to_owned(), Reference::Label("priority::high".into())),
                ("%v1.0".to_owned(), Reference::Milestone("v1.0".into())),
                ("%\"Sprint 3\"".to_owned(), Reference::Milestone("Sprint 3".into())),
            ]
        );
        assert!(references("ada@example.com 50% ~ ~\"open").is_empty());
    }

    #[test]
    fn commits_are_whole_words_of_hex() {
        assert_eq!(
            references("fixed in 1a2b3c4d and deadbeefcafe; not 1a2b3c, g1a2b3c4d or 1a2b3c4dz"),
            vec![
                ("1a2b3c4d".to_owned(), Reference::Commit("1a2b3c4d".into())),
                ("deadbeefcafe".to_owned(), Reference::Commit("deadbeefcafe".into())),
            ]
        );
    }
}
