//! The web UI: server-rendered pages, one typed template per page, forms protected by CSRF
//! tokens, working without JavaScript.

pub mod access_tokens;
pub mod activity;
pub mod admin;
pub mod artifacts;
pub mod badges;
pub mod catalog;
pub mod ci_lint;
pub mod ci_settings;
pub mod code;
pub mod dashboard;
pub mod deploy_settings;
pub mod find_file;
pub mod flash;
pub mod group_repository;
pub mod groups;
pub mod history;
pub mod jobs;
pub mod log;
pub mod members;
pub mod multipart;
pub mod pipelines;
pub mod plan;
pub mod profile;
pub mod project_frame;
pub mod projects;
pub mod protected_tags;
pub mod repository;
pub mod schedules;
pub mod search;
pub mod sessions;
pub mod test_reports;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use gantry_core::{NamespaceRow, ProjectRow};

use crate::auth::PageActor;
use crate::error::{AppError, PageError};

/// Results of page handlers.
pub type PageResult = Result<Response, PageError>;

/// What every page's frame shows: who is signed in, the CSRF token for its forms.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub username: Option<String>,
    /// The visitor is an administrator (the header links to the admin area).
    pub admin: bool,
    pub csrf: String,
    /// On a project's pages, the project the top bar's search box searches.
    pub search_project: Option<i64>,
    /// What the form before this page did, in a sentence (after its redirect).
    pub notice: Option<String>,
    /// The signed-in user's pending to-dos.
    pub todos: i64,
}

impl Chrome {
    pub fn new(visitor: &PageActor) -> Chrome {
        Chrome {
            username: visitor.actor.user().map(|u| u.username.clone()),
            admin: gantry_core::policy::administers(&visitor.actor),
            csrf: visitor.csrf.clone(),
            search_project: visitor.project.map(|id| id.0),
            notice: visitor.flash.as_ref().and_then(|flash| flash.notice.clone()),
            todos: visitor.pending_todos,
        }
    }
}

/// Renders a page with a status.
pub fn render(status: StatusCode, page: &impl Template) -> PageResult {
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "template failed to render");
        PageError { error: AppError::BadRequest("page failed to render".into()) }
    })?;
    Ok((status, Html(html)).into_response())
}

/// After a successful form post: back to a page (303, so reloading does not post again).
pub fn see_other(location: &str) -> PageResult {
    Ok(Redirect::to(location).into_response())
}

/// The page for paths that lead nowhere.
pub async fn not_found() -> PageError {
    PageError { error: AppError::NotFound }
}

/// One step of a breadcrumb trail.
#[derive(Debug, Clone)]
pub struct Crumb {
    pub name: String,
    pub href: String,
}

/// The trail of groups down to `namespace` (and the project, if any).
pub fn breadcrumbs(chain: &[NamespaceRow], project: Option<&ProjectRow>) -> Vec<Crumb> {
    let mut crumbs: Vec<Crumb> =
        chain.iter().map(|ns| Crumb { name: ns.name.clone(), href: format!("/{}", ns.full_path) }).collect();
    if let Some(project) = project {
        crumbs.push(Crumb { name: project.name.clone(), href: format!("/{}", project.full_path) });
    }
    crumbs
}

/// A form's error shown above it (as a sentence), with the status it answers with.
pub fn form_error(error: gantry_core::CoreError) -> (StatusCode, String) {
    let (status, message) = AppError::Core(error).status_and_message();
    (status, sentence(&message))
}

/// A message as pages show it: a sentence, with a capital letter first and a full stop at the
/// end (core's messages are written lowercase and without one, as the API gives them).
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut sentence: String = first.to_uppercase().chain(chars).collect();
    if !sentence.ends_with(['.', '!', '?', '…']) {
        sentence.push('.');
    }
    sentence
}

/// A value percent-encoded for a URL's query string (`?ref=…`).
pub fn query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Where the files of a branch, tag or commit are: `/{project}/-/tree/{ref}`.
pub fn tree_href(project: &str, reference: &str) -> String {
    format!("/{project}/-/tree/{}", code::url_path(reference))
}

/// Roles for role pickers.
pub fn role_options() -> Vec<(i64, &'static str)> {
    gantry_types::AccessLevel::ALL.iter().map(|l| (l.as_i64(), l.label())).collect()
}

/// A count for people: `10,000+` once a listing stopped counting (it counts up to
/// [`gantry_core::COUNT_LIMIT`]).
pub fn count_text(count: i64) -> String {
    count_text_within(count, gantry_core::COUNT_LIMIT)
}

/// A count for people that stopped past `limit`: `1,000+` then.
pub fn count_text_within(count: i64, limit: i64) -> String {
    if count > limit { format!("{}+", thousands(limit)) } else { count.to_string() }
}

/// Whether a page list has a page after `number` (of `per_page` rows, `shown` of them on this
/// one): the counted total says so, or, past the count's limit, a full page does.
pub fn has_next_page(number: i64, per_page: i64, total: i64, shown: usize) -> bool {
    if total > gantry_core::COUNT_LIMIT {
        i64::try_from(shown).unwrap_or(i64::MAX) >= per_page
    } else {
        number.saturating_mul(per_page) < total
    }
}

/// `12345` as `12,345`.
fn thousands(number: i64) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A size for people: `512 B`, `1.5 KiB`, `12.0 MiB`, `1.2 GiB`.
pub fn human_size(bytes: impl TryInto<u64>) -> String {
    let bytes = bytes.try_into().unwrap_or(0);
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
        _ => format!("{:.1} GiB", bytes as f64 / 1_073_741_824.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_past_the_limit_read_as_more_than_it() {
        assert_eq!(count_text(0), "0");
        assert_eq!(count_text(gantry_core::COUNT_LIMIT), "10000");
        assert_eq!(count_text(gantry_core::COUNT_LIMIT + 1), "10,000+");
        assert_eq!(count_text_within(1_001, 1_000), "1,000+");
        assert!(has_next_page(1, 20, 21, 20) && !has_next_page(2, 20, 40, 20));
        let uncounted = gantry_core::COUNT_LIMIT + 1;
        assert!(has_next_page(900, 20, uncounted, 20) && !has_next_page(900, 20, uncounted, 7));
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
