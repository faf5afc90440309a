//! Dotenv reports (`artifacts:reports:dotenv`): `KEY=VALUE` lines a job writes to pass variables
//! to later jobs, read with GitLab's rules and limits.

use std::fmt;

/// GitLab's limit on the size of a dotenv report.
pub const MAX_BYTES: usize = 5 * 1024;
/// GitLab's limit on the number of variables in a dotenv report.
pub const MAX_VARIABLES: usize = 150;

/// Why a dotenv report was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    /// The line (from 1) at fault, when one is.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "dotenv report, line {line}: {}", self.message),
            None => write!(f, "dotenv report: {}", self.message),
        }
    }
}

impl std::error::Error for DotenvError {}

/// Parses a dotenv report as GitLab does: one `KEY=VALUE` per line (LF or CRLF); blank lines and
/// lines starting with `#` are skipped; the key is ASCII letters, digits and `_`; the value is
/// trimmed and loses one pair of matching surrounding quotes (`'…'` or `"…"`); there are no
/// multi-line values and no `export`. A later duplicate replaces the earlier value in its place.
pub fn parse(text: &[u8]) -> Result<Vec<(String, String)>, DotenvError> {
    let whole = |message: String| DotenvError { line: None, message };
    if text.len() > MAX_BYTES {
        return Err(whole(format!("larger than {MAX_BYTES} bytes: pass fewer or shorter variables")));
    }
    let text = std::str::from_utf8(text).map_err(|_| whole("not UTF-8: write the file as UTF-8".to_owned()))?;
    let mut variables: Vec<(String, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let at_line = |message: String| DotenvError { line: Some(index + 1), message };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(at_line("expected KEY=VALUE".to_owned()));
        };
        let key = key.trim();
        if key.starts_with("export ") {
            return Err(at_line(format!("`{key}`: remove `export`, write KEY=VALUE")));
        }
        if key.is_empty() || !key.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_') {
            return Err(at_line(format!("`{key}` is not a variable name: use letters, digits and `_`")));
        }
        let value = unquote(value.trim()).to_owned();
        match variables.iter_mut().find(|(known, _)| known == key) {
            Some((_, earlier)) => *earlier = value,
            None => variables.push((key.to_owned(), value)),
        }
    }
    if variables.len() > MAX_VARIABLES {
        return Err(whole(format!("more than {MAX_VARIABLES} variables: pass fewer")));
    }
    Ok(variables)
}

/// The value without one pair of matching surrounding quotes.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text.as_bytes()).unwrap()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
    }

    #[test]
    fn pairs_are_read_in_order() {
        let text = "IMAGE_TAG=v1.2.3\nDEPLOY_URL=https://example.com/a?b=c\nEMPTY=\n";
        assert_eq!(
            pairs(text),
            owned(&[("IMAGE_TAG", "v1.2.3"), ("DEPLOY_URL", "https://example.com/a?b=c"), ("EMPTY", "")])
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = "# built by CI\n\n   \nA=1\n  # indented comment\nB = 2 \n";
        assert_eq!(pairs(text), owned(&[("A", "1"), ("B", "2")]));
    }

    #[test]
    fn one_pair_of_matching_quotes_is_removed() {
        let text = "A=\"quoted value\"\nB='single'\nC=\"'both'\"\nD=\"unbalanced'\nE=\"\"\nF=\"\nG=a \"b\" c\n";
        let want = [
            ("A", "quoted value"),
            ("B", "single"),
            ("C", "'both'"),
            ("D", "\"unbalanced'"),
            ("E", ""),
            ("F", "\""),
            ("G", "a \"b\" c"),
        ];
        assert_eq!(pairs(text), owned(&want));
    }

    #[test]
    fn a_bad_key_names_its_line() {
        let error = parse(b"OK=1\n\nMY-KEY=2\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("`MY-KEY`"), "{error}");
        assert_eq!(
            error.to_string(),
            "dotenv report, line 3: `MY-KEY` is not a variable name: use letters, digits and `_`"
        );
        assert_eq!(parse(b"=value").unwrap_err().line, Some(1));
        assert_eq!(parse(b"A=1\nno equals sign").unwrap_err().line, Some(2));
        assert_eq!(parse(b"A=\"multi\nline\"").unwrap_err().line, Some(2));
    }

    #[test]
    fn export_is_refused() {
        let error = parse(b"export A=1").unwrap_err();
        assert_eq!(error.line, Some(1));
        assert!(error.message.contains("remove `export`"), "{error}");
    }

    #[test]
    fn a_report_over_the_size_limit_is_refused() {
        let text = format!("A={}", "x".repeat(MAX_BYTES));
        let error = parse(text.as_bytes()).unwrap_err();
        assert_eq!(error.line, None);
        assert!(error.message.contains("larger than 5120 bytes"), "{error}");
        assert_eq!(pairs(&format!("A={}", "x".repeat(MAX_BYTES - 2)))[0].1.len(), MAX_BYTES - 2);
    }

    #[test]
    fn a_report_over_the_variable_limit_is_refused() {
        let text: String = (0..=MAX_VARIABLES).map(|n| format!("V{n}=1\n")).collect();
        assert!(parse(text.as_bytes()).unwrap_err().message.contains("more than 150 variables"));
        let at_limit: String = (0..MAX_VARIABLES).map(|n| format!("V{n}=1\n")).collect();
        assert_eq!(pairs(&at_limit).len(), MAX_VARIABLES);
        // Duplicates count once.
        let repeated: String = (0..=MAX_VARIABLES).map(|_| "SAME=1\n").collect();
        assert_eq!(pairs(&repeated).len(), 1);
    }

    #[test]
    fn crlf_line_endings_are_accepted() {
        assert_eq!(pairs("A=1\r\nB=\"two\"\r\n\r\n# c\r\n"), owned(&[("A", "1"), ("B", "two")]));
    }

    #[test]
    fn a_later_duplicate_replaces_the_value_in_place() {
        assert_eq!(pairs("A=1\nB=2\nA=3\n"), owned(&[("A", "3"), ("B", "2")]));
    }

    #[test]
    fn text_that_is_not_utf8_is_refused() {
        let error = parse(b"A=\xff\xfe").unwrap_err();
        assert_eq!((error.line, error.message.as_str()), (None, "not UTF-8: write the file as UTF-8"));
    }
}
