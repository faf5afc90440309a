//! Full-text search, one meaning on both engines: what a person types becomes words (runs of
//! letters and digits; everything else splits them), each whitespace-separated part or quoted
//! part is a phrase of its words, every phrase must be present, and the last word of a phrase
//! matches as a prefix when it is at least [`PREFIX_LENGTH`] characters long (`deploy` finds
//! "deployment"). SQLite answers through its FTS5 tables, PostgreSQL through GIN indexes on
//! stored `search_vector` columns, each row's `search_document(…)` (both kept by the database:
//! migrations 0040 and 0042); case is folded by the engine itself, so
//! the query and the stored text always fold alike. The queries built here hold only letters and
//! digits between the engines' own quotes: nothing a person types reaches either query syntax.

use crate::Backend;

/// The shortest last word of a phrase that matches as a prefix (shorter ones match whole).
pub const PREFIX_LENGTH: usize = 3;
/// Phrases one search keeps; the rest are ignored.
const MAX_PHRASES: usize = 16;
/// Words one phrase keeps.
const MAX_WORDS: usize = 16;
/// Characters one word keeps (longer words are cut: a prefix of them still matches).
const MAX_WORD_CHARS: usize = 100;

/// A search text read into phrases of words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSearch {
    phrases: Vec<Vec<String>>,
}

impl TextSearch {
    /// Reads what a person typed; `None` when it holds no letter or digit (nothing to look for).
    pub fn parse(text: &str) -> Option<TextSearch> {
        let mut phrases = Vec::new();
        let mut quoted = false;
        for part in text.split('"') {
            if quoted {
                phrases.push(words(part));
            } else {
                phrases.extend(part.split_whitespace().map(words));
            }
            quoted = !quoted;
        }
        phrases.retain(|phrase| !phrase.is_empty());
        phrases.truncate(MAX_PHRASES);
        (!phrases.is_empty()).then_some(TextSearch { phrases })
    }

    /// Every word, in order (for marking matches in the text shown).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.phrases.iter().flatten().map(String::as_str)
    }

    /// The query in `backend`'s syntax: an FTS5 `MATCH` expression or a `to_tsquery` text.
    pub fn query(&self, backend: Backend) -> String {
        let phrases = self.phrases.iter().map(|phrase| {
            let last = phrase.last().map(String::as_str).unwrap_or_default();
            let prefix = last.chars().count() >= PREFIX_LENGTH;
            match backend {
                Backend::Sqlite => format!("\"{}\"{}", phrase.join(" "), if prefix { "*" } else { "" }),
                Backend::Postgres => {
                    let quoted: Vec<String> = phrase.iter().map(|word| format!("'{word}'")).collect();
                    format!("({}{})", quoted.join(" <-> "), if prefix { ":*" } else { "" })
                }
            }
        });
        let joiner = match backend {
            Backend::Sqlite => " AND ",
            Backend::Postgres => " & ",
        };
        phrases.collect::<Vec<_>>().join(joiner)
    }
}

/// The words of one part of a search text.
fn words(part: &str) -> Vec<String> {
    let mut words: Vec<String> = part
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().take(MAX_WORD_CHARS).collect())
        .collect();
    words.truncate(MAX_WORDS);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_phrases_of_words() {
        let search = TextSearch::parse(r#"deploy foo_bar.baz "self-hosted runner" v1 <script>"#).unwrap();
        assert_eq!(
            search.query(Backend::Sqlite),
            r#""deploy"* AND "foo bar baz"* AND "self hosted runner"* AND "v1" AND "script"*"#
        );
        assert_eq!(
            search.query(Backend::Postgres),
            "('deploy':*) & ('foo' <-> 'bar' <-> 'baz':*) & ('self' <-> 'hosted' <-> 'runner':*) & ('v1') & ('script':*)"
        );
        assert_eq!(search.words().collect::<Vec<_>>()[..3], ["deploy", "foo", "bar"]);
    }

    #[test]
    fn keeps_nothing_of_the_engines_syntax() {
        for text in ["' OR 1=1 --", "a:* | !b", "NEAR(x y)", "\"\"\"", "é*"] {
            if let Some(search) = TextSearch::parse(text) {
                for backend in [Backend::Sqlite, Backend::Postgres] {
                    let query = search.query(backend);
                    let stripped: String = query
                        .replace(" AND ", " ")
                        .replace(" & ", " ")
                        .replace(" <-> ", " ")
                        .replace(":*", "")
                        .chars()
                        .filter(|c| !matches!(c, '"' | '\'' | '(' | ')' | '*' | ' '))
                        .collect();
                    assert!(stripped.chars().all(char::is_alphanumeric), "{text} gave {query}");
                }
            }
        }
        assert_eq!(TextSearch::parse("  -- !! "), None);
        assert_eq!(TextSearch::parse(""), None);
    }
}
