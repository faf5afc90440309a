//! `@username` mentions in Markdown, as GitLab finds them: after the start of the text or a
//! character that is not part of a name, outside code blocks and code spans; a mention at the
//! very start of the text (before any other word) addresses the user directly.

/// Most mentions one text is read for (the rest are not notified).
pub const MAX_MENTIONS: usize = 50;

/// The users a text mentions, in order, each once (lowercased), and whether each is addressed
/// directly (the text starts with mentions).
pub fn mentions(text: &str) -> Vec<(String, bool)> {
    let mut found: Vec<(String, bool)> = Vec::new();
    let mut leading = true;
    let mut in_fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(fence) = in_fence {
            if trimmed.starts_with(fence) {
                in_fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = Some(&trimmed[..3]);
            leading = false;
            continue;
        }
        if line.starts_with("    ") || line.starts_with('\t') {
            // An indented code block (or a continuation: either way no mention GitLab reads).
            leading = leading && trimmed.is_empty();
            continue;
        }
        scan_line(line, &mut leading, &mut found);
        if found.len() >= MAX_MENTIONS {
            found.truncate(MAX_MENTIONS);
            break;
        }
    }
    found
}

fn scan_line(line: &str, leading: &mut bool, found: &mut Vec<(String, bool)>) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut previous: Option<char> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'`' {
            // A code span: skip to the closing run of the same length.
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            let fence = &line[i..i + run];
            match line[i + run..].find(fence) {
                Some(end) => i += run + end + run,
                None => i += run,
            }
            *leading = false;
            previous = Some('`');
            continue;
        }
        if c == b'@' && previous.is_none_or(|p| !is_name_char(p) && p != '@') {
            let name: String = line[i + 1..].chars().take_while(|&ch| is_name_char(ch)).collect();
            let name = name.trim_end_matches(['.', '-']).to_owned();
            if !name.is_empty() {
                let lower = name.to_lowercase();
                match found.iter_mut().find(|(seen, _)| *seen == lower) {
                    Some(entry) => entry.1 |= *leading,
                    None => found.push((lower, *leading)),
                }
                i += 1 + name.len();
                previous = name.chars().last();
                continue;
            }
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        if !ch.is_whitespace() && !matches!(ch, ',' | ':') {
            *leading = false;
        }
        previous = Some(ch);
        i += ch.len_utf8();
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_are_found_outside_code_and_leading_ones_address_directly() {
        let text = "@Ada @bob, please look.\nThanks @carol and ada@example.com.\n\n`@dave` ``x @erin``\n\
                    ```\n@frank\n```\n    @grace\nLast: (@heidi). @ivan.";
        let found = mentions(text);
        assert_eq!(
            found,
            vec![
                ("ada".to_owned(), true),
                ("bob".to_owned(), true),
                ("carol".to_owned(), false),
                ("heidi".to_owned(), false),
                ("ivan".to_owned(), false),
            ]
        );
        assert!(mentions("no one here; email x@y.z").is_empty());
        assert_eq!(mentions("@a-b.c_d."), vec![("a-b.c_d".to_owned(), true)]);
    }

    #[test]
    fn a_flood_of_mentions_is_cut() {
        let text: String = (0..500).map(|n| format!("@user{n} ")).collect();
        assert_eq!(mentions(&text).len(), super::MAX_MENTIONS);
    }
}
