//! Where a problem is and what it is: every error of a CI file names its file, line and column.

use std::fmt;
use std::sync::Arc;

/// A position in a CI file (line and column from 1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The start of a file, for problems with the file as a whole.
    pub fn file(file: &str) -> Location {
        Location { file: file.into(), line: 1, column: 1 }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem found in a CI configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub at: Location,
    pub message: String,
}

/// GitLab's own words for a CI file that is not a hash (clients match on them).
pub const INVALID_FORMAT: &str = "Invalid configuration format";
/// GitLab's own words for a CI file without a job that can run (only hidden jobs, or none).
pub const NO_VISIBLE_JOB: &str = "jobs config should contain at least one visible job";

impl Diagnostic {
    pub fn new(at: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic { at, message: message.into() }
    }

    /// The problem as GitLab's lint API words it: GitLab's fixed messages about the CI file as
    /// a whole stand alone, exactly as GitLab gives them (clients compare them); every other
    /// problem keeps the position GitLab would not give.
    pub fn api_text(&self) -> String {
        if [INVALID_FORMAT, NO_VISIBLE_JOB].contains(&self.message.as_str()) {
            self.message.clone()
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Every problem found, in file order; a configuration with any is not run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, at: Location, message: impl Into<String>) {
        self.0.push(Diagnostic::new(at, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when nothing was found; otherwise the problems sorted by position.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            return Ok(value);
        }
        self.0.sort_by(|a, b| a.at.cmp(&b.at));
        self.0.dedup();
        Err(self)
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Diagnostics {
        Diagnostics(vec![diagnostic])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, diagnostic) in self.0.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
