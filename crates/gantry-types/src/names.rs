//! Names and paths: the URL segments of users, groups and projects, and e-mail addresses.
//!
//! Paths are ASCII only (letters, digits, `_`, `-`, `.`), which also rules out look-alike
//! (confusable) unicode names. Users and groups share one path space, so the same rules apply
//! to both; top-level paths must also avoid the names the web UI and the API use.

use serde::Serialize;

/// Longest path segment and display name we accept.
pub const MAX_SEGMENT_LEN: usize = 100;
/// Longest e-mail address we accept (the limit of SMTP paths).
pub const MAX_EMAIL_LEN: usize = 254;
/// Deepest group nesting, counting the project.
pub const MAX_DEPTH: usize = 20;

/// Top-level names that would shadow pages or endpoints of Gantry itself.
const RESERVED_TOP_LEVEL: &[&str] = &[
    "-",
    "about",
    "admin",
    "api",
    "assets",
    "dashboard",
    "explore",
    "favicon.ico",
    "groups",
    "health",
    "help",
    "login",
    "logout",
    "metrics",
    "new",
    "oauth",
    "profile",
    "projects",
    "public",
    "readiness",
    "robots.txt",
    "s",
    "search",
    "settings",
    "signup",
    "static",
    "uploads",
    "users",
    "v2",
];

/// Why a name was refused; the text is shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

fn refuse(message: impl Into<String>) -> NameError {
    NameError(message.into())
}

/// One segment of a URL path: a username, a group path or a project path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PathSegment(String);

impl PathSegment {
    /// Validates one segment (not checking top-level reservations; see [`PathSegment::parse_top_level`]).
    pub fn parse(value: &str) -> Result<PathSegment, NameError> {
        if value.is_empty() {
            return Err(refuse("path can't be blank"));
        }
        if value.len() > MAX_SEGMENT_LEN {
            return Err(refuse(format!("path is too long (at most {MAX_SEGMENT_LEN} characters)")));
        }
        if let Some(c) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
            let what = if c.is_ascii() { format!("'{c}'") } else { format!("the non-ASCII character '{c}'") };
            return Err(refuse(format!("path can contain only ASCII letters, digits, '_', '-' and '.', not {what}")));
        }
        let special = |c: char| matches!(c, '_' | '-' | '.');
        if value.starts_with(special) || value.ends_with(special) {
            return Err(refuse("path must start and end with a letter or a digit"));
        }
        if value.contains("..")
            || value.contains("--")
            || value.contains("__")
            || value.contains(".-")
            || value.contains("-.")
        {
            return Err(refuse("path can't contain consecutive special characters"));
        }
        let lower = value.to_ascii_lowercase();
        // `.wiki`: `group/project.wiki.git` is the project's wiki.
        if lower.ends_with(".git") || lower.ends_with(".atom") || lower.ends_with(".wiki") {
            return Err(refuse("path can't end in .git, .atom or .wiki"));
        }
        Ok(PathSegment(value.to_owned()))
    }

    /// Validates a segment that stands at the top of the path space (a username or a
    /// top-level group), where Gantry's own route names are reserved.
    pub fn parse_top_level(value: &str) -> Result<PathSegment, NameError> {
        if RESERVED_TOP_LEVEL.contains(&value.to_ascii_lowercase().as_str()) {
            return Err(refuse(format!("'{value}' is a reserved name, choose another")));
        }
        PathSegment::parse(value)
    }

    /// The segment as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PathSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username: a top-level path segment.
pub type Username = PathSegment;

/// The full path of a namespace or project, such as `acme/platform/api`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FullPath(String);

impl FullPath {
    /// Validates every segment; the first must also avoid the reserved top-level names.
    pub fn parse(value: &str) -> Result<FullPath, NameError> {
        let segments: Vec<&str> = value.split('/').collect();
        if segments.len() > MAX_DEPTH {
            return Err(refuse(format!("path is nested too deeply (at most {MAX_DEPTH} levels)")));
        }
        PathSegment::parse_top_level(segments[0])?;
        for segment in &segments[1..] {
            PathSegment::parse(segment)?;
        }
        Ok(FullPath(value.to_owned()))
    }

    /// Joins a parent path and a child segment.
    pub fn child(parent: &str, segment: &PathSegment) -> FullPath {
        FullPath(format!("{parent}/{segment}"))
    }

    /// A top-level path.
    pub fn top(segment: &PathSegment) -> FullPath {
        FullPath(segment.0.clone())
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FullPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plausible e-mail address (we do not send mail yet, so only the shape is checked).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Checks the shape `local@domain.tld`, without spaces or control characters.
    pub fn parse(value: &str) -> Result<Email, NameError> {
        let value = value.trim();
        let invalid = || refuse(format!("'{value}' is not a valid e-mail address"));
        if value.len() > MAX_EMAIL_LEN || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || local.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        Ok(Email(value.to_owned()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a display name (of a user, group or project): trimmed, not blank, no control
/// characters, at most [`MAX_SEGMENT_LEN`] characters.
pub fn parse_display_name(value: &str) -> Result<String, NameError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(refuse("name can't be blank"));
    }
    if value.chars().count() > MAX_SEGMENT_LEN {
        return Err(refuse(format!("name is too long (at most {MAX_SEGMENT_LEN} characters)")));
    }
    if value.chars().any(char::is_control) {
        return Err(refuse("name can't contain control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for ok in ["acme", "a", "my-project", "lib_v2.0", "A1"] {
            assert!(PathSegment::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(FullPath::parse("acme/platform/api").unwrap().as_str(), "acme/platform/api");
    }

    #[test]
    fn refuses_invalid_reserved_and_confusable_paths() {
        for bad in [
            "",
            "-",
            "-x",
            "x-",
            "a..b",
            "repo.git",
            "feed.atom",
            "docs.wiki",
            "a/b",
            "a b",
            "ﬁle",
            "аcme",
            "a\0b",
            "..",
        ] {
            assert!(PathSegment::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(PathSegment::parse(&"a".repeat(MAX_SEGMENT_LEN + 1)).is_err());
        for reserved in ["api", "Admin", "-", "users"] {
            let err = PathSegment::parse_top_level(reserved).unwrap_err();
            assert!(err.0.contains("reserved") || err.0.contains("letter"), "{err}");
        }
        assert!(PathSegment::parse("api").is_ok(), "reserved only at the top");
        // GitLab has no top-level `user` route, and clients create a user named so.
        assert!(PathSegment::parse_top_level("user").is_ok());
        assert!(FullPath::parse("api/x").is_err());
        assert!(FullPath::parse(&vec!["a"; MAX_DEPTH + 1].join("/")).is_err());
    }

    #[test]
    fn checks_emails_and_display_names() {
        assert!(Email::parse("ada@example.com").is_ok());
        for bad in ["ada", "@example.com", "ada@", "ada@example", "a da@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_display_name("  Platform team ").unwrap(), "Platform team");
        assert!(parse_display_name(" ").is_err());
        assert!(parse_display_name("a\u{7}b").is_err());
    }
}
