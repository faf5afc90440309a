//! Where a problem is and what it is: every error or warning of a CI file names its file, line
//! and column.

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

/// How bad a problem is: an error stops the configuration from running, a warning (GitLab's lint
/// warnings) only tells the author that the file may not do what it seems to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a CI configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub at: Location,
    pub message: String,
    pub severity: Severity,
}

/// GitLab's own words for a CI file that is not a hash (clients match on them).
pub const INVALID_FORMAT: &str = "Invalid configuration format";
/// GitLab's own words for a CI file without a job that can run (only hidden jobs, or none).
pub const NO_VISIBLE_JOB: &str = "jobs config should contain at least one visible job";

impl Diagnostic {
    /// An error.
    pub fn new(at: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic { at, message: message.into(), severity: Severity::Error }
    }

    /// A warning.
    pub fn warning(at: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic { at, message: message.into(), severity: Severity::Warning }
    }

    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    /// The problem as GitLab's lint API words it: GitLab's fixed messages about the CI file as
    /// a whole stand alone, exactly as GitLab gives them (clients compare them); every other
    /// problem keeps the position GitLab would not give. A warning goes in the API's own list of
    /// warnings, so its text does not say it is one.
    pub fn api_text(&self) -> String {
        if [INVALID_FORMAT, NO_VISIBLE_JOB].contains(&self.message.as_str()) {
            self.message.clone()
        } else {
            format!("{}: {}", self.at, self.message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "{}: {}", self.at, self.message),
            Severity::Warning => write!(f, "{}: warning: {}", self.at, self.message),
        }
    }
}

/// Every problem found, in file order; a configuration with any error is not run. While a file
/// is read, warnings are gathered here too; `take_warnings` takes them out before `into_result`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds an error.
    pub fn push(&mut self, at: Location, message: impl Into<String>) {
        self.0.push(Diagnostic::new(at, message));
    }

    /// Adds a warning.
    pub fn warn(&mut self, at: Location, message: impl Into<String>) {
        self.0.push(Diagnostic::warning(at, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| !d.is_warning())
    }

    /// Takes the warnings out, sorted by position.
    pub fn take_warnings(&mut self) -> Vec<Diagnostic> {
        let (mut warnings, errors): (Vec<Diagnostic>, Vec<Diagnostic>) =
            std::mem::take(&mut self.0).into_iter().partition(Diagnostic::is_warning);
        self.0 = errors;
        warnings.sort_by(|a, b| a.at.cmp(&b.at));
        warnings.dedup();
        warnings
    }

    /// Ok when no error was found (warnings left here are dropped); otherwise the errors sorted
    /// by position.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        self.0.retain(|d| !d.is_warning());
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
