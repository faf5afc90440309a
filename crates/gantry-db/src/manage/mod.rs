//! Manage stage: users (their secondary e-mail addresses, statuses and GPG keys), namespaces
//! (users' and groups'), projects and their routes, membership, sharing with groups, personal
//! access tokens, SSH keys, deploy keys and tokens, project topics, avatars, sessions,
//! instance settings and each user's limit on personal projects.

pub mod avatars;
pub mod deploy_keys;
pub mod deploy_tokens;
pub mod emails;
pub mod gpg_keys;
pub mod group_links;
pub mod members;
pub mod namespaces;
pub mod project_limits;
pub mod projects;
pub mod sessions;
pub mod settings;
pub mod ssh_keys;
pub mod tokens;
pub mod topics;
pub mod user_statuses;
pub mod users;

/// Whose eyes a listing is for: decides which private and internal rows are included.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    /// `None` for anonymous visitors.
    pub user_id: Option<i64>,
    /// Administrators see everything.
    pub is_admin: bool,
}

impl Viewer {
    /// A viewer who sees every row (administrators, and members of a group reading what it
    /// holds).
    pub fn everything() -> Viewer {
        Viewer { user_id: None, is_admin: true }
    }

    pub(crate) fn signed_in(&self) -> i64 {
        i64::from(self.user_id.is_some())
    }
    pub(crate) fn admin(&self) -> i64 {
        i64::from(self.is_admin)
    }
    pub(crate) fn user(&self) -> i64 {
        self.user_id.unwrap_or(-1)
    }
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\` escaped (used with
/// `ESCAPE '\'`), lowercased for case-insensitive search.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Sort direction of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

impl SortDirection {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SortDirection::Asc => "asc",
            SortDirection::Desc => "desc",
        }
    }
}
