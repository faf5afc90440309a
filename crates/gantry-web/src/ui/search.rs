//! The search page (`/search?search=…&scope=…`): across the instance, within a group
//! (`group_id`) or a project (`project_id`, `ref`), tabs per scope with their counts — projects,
//! groups, code, issues, epics, comments, wiki pages, commits, users —, matched text marked, code
//! hits linking to their line and the others to the issue, comment, epic or page. Only what the
//! visitor may see is searched: core's searches ask the policy first. Find file is in
//! `find_file.rs`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::code::search::{BlobResult, CommitResult, SearchResults, SearchWithin, search_term};
use gantry_core::manage::accounts::UserFilter;
use gantry_core::manage::groups::{GroupQuery, Lookup};
use gantry_core::manage::members::MembersOf;
use gantry_core::manage::projects::ProjectQuery;
use gantry_core::plan::search::{PlanWithin, TextSearch, excerpt, words_of};
use gantry_core::policy::{GroupAccess, ProjectAccess};
use gantry_core::{NamespaceRow, Page, ProjectRow, SortDirection, UserRow};
use serde::Deserialize;

use super::code::{CommitLine, url_path};
use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::auth::PageActor;

/// Results shown on one page of the search.
const PER_PAGE: usize = 20;
/// Characters of an issue's, comment's, epic's or page's text shown under its title.
const EXCERPT_CHARS: usize = 240;

/// A piece of a line of text, marked when the search matched it.
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

/// `line` cut into pieces around each occurrence of `term`, ignoring ASCII case (as the search
/// matched it).
fn mark_term(line: &str, term: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    if term.is_empty() {
        pieces.push(Piece { text: line.to_owned(), marked: false });
        return pieces;
    }
    let lower_line = line.to_ascii_lowercase();
    let lower_term = term.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower_line[from..].find(&lower_term) {
        let start = from + found;
        let end = start + lower_term.len();
        if start > from {
            pieces.push(Piece { text: line[from..start].to_owned(), marked: false });
        }
        pieces.push(Piece { text: line[start..end].to_owned(), marked: true });
        from = end;
    }
    if from < line.len() {
        pieces.push(Piece { text: line[from..].to_owned(), marked: false });
    }
    pieces
}

/// `text` cut into pieces around each occurrence of any of `words`, ignoring ASCII case (the
/// words of a full-text search: where each starts a word or is one).
fn mark_words(text: &str, words: &[String]) -> Vec<Piece> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<String> = words.iter().map(|word| word.to_ascii_lowercase()).filter(|w| !w.is_empty()).collect();
    let mut pieces = Vec::new();
    let mut from = 0;
    loop {
        let next = words
            .iter()
            .filter_map(|word| lower[from..].find(word.as_str()).map(|at| (from + at, word.len())))
            .min_by_key(|(at, len)| (*at, usize::MAX - len));
        let Some((start, len)) = next else { break };
        if start > from {
            pieces.push(Piece { text: text[from..start].to_owned(), marked: false });
        }
        pieces.push(Piece { text: text[start..start + len].to_owned(), marked: true });
        from = start + len;
    }
    if from < text.len() {
        pieces.push(Piece { text: text[from..].to_owned(), marked: false });
    }
    pieces
}

/// An issue, comment, epic or wiki page a search found.
pub struct PlanHit {
    pub href: String,
    pub title: Vec<Piece>,
    /// Where it is and what it is ("acme/api#12 · closed").
    pub context: String,
    /// The text around the first match, on one line.
    pub excerpt: Vec<Piece>,
}

/// The words of a search, read once: for the excerpts, and as text for marking.
struct SearchWords {
    search: Option<TextSearch>,
    words: Vec<String>,
}

impl PlanHit {
    fn new(href: String, title: &str, context: String, text: &str, found: &SearchWords) -> PlanHit {
        let words = &found.words;
        let excerpt = match &found.search {
            Some(search) => excerpt(text, search, 1).1.join(" "),
            None => String::new(),
        };
        let mut excerpt: String = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        if excerpt.chars().count() > EXCERPT_CHARS {
            excerpt = excerpt.chars().take(EXCERPT_CHARS).collect::<String>() + "…";
        }
        PlanHit { href, title: mark_words(title, words), context, excerpt: mark_words(&excerpt, words) }
    }
}

/// One line of a code hit.
pub struct LineView {
    pub number: u32,
    pub href: String,
    pub pieces: Vec<Piece>,
}

/// A code hit: a file and the lines around the match.
pub struct BlobView {
    /// The project's path, when the search spans projects.
    pub project: Option<String>,
    pub path: String,
    /// The file at the first matching line.
    pub href: String,
    pub lines: Vec<LineView>,
}

impl BlobView {
    fn new(result: &BlobResult, term: &str, show_project: bool) -> BlobView {
        let project = &result.project.full_path;
        let base = format!("/{project}/-/blob/{}/{}", url_path(&result.reference), url_path(&result.hit.path));
        let lower = term.to_ascii_lowercase();
        let mut first_match = None;
        let lines = result
            .hit
            .lines
            .iter()
            .enumerate()
            .map(|(offset, text)| {
                let number = result.hit.startline + offset as u32;
                if first_match.is_none() && text.to_ascii_lowercase().contains(&lower) {
                    first_match = Some(number);
                }
                LineView { number, href: format!("{base}#L{number}"), pieces: mark_term(text, term) }
            })
            .collect();
        BlobView {
            project: show_project.then(|| project.clone()),
            path: result.hit.path.clone(),
            href: format!("{base}#L{}", first_match.unwrap_or(result.hit.startline)),
            lines,
        }
    }
}

/// A commit whose message matched.
pub struct CommitView {
    pub project: Option<String>,
    pub href: String,
    pub line: CommitLine,
    pub title: Vec<Piece>,
}

/// A user found by name.
pub struct UserView {
    pub username: String,
    pub name: String,
}

/// The results of the tab shown.
pub enum Results {
    Blobs(Vec<BlobView>),
    Commits(Vec<CommitView>),
    Projects(Vec<ProjectRow>),
    Groups(Vec<NamespaceRow>),
    Users(Vec<UserView>),
    /// Issues, comments, epics or wiki pages, and what the tab calls them.
    Plan(Vec<PlanHit>, &'static str),
}

/// A tab of the search page: a scope and how many it found.
pub struct Tab {
    pub scope: &'static str,
    pub label: &'static str,
    pub href: String,
    pub count: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    term: String,
    /// What the search is limited to ("Project acme/api"), if anything.
    within: Option<String>,
    /// The form's hidden fields that keep the search where it is.
    hidden: Vec<(&'static str, String)>,
    everywhere_href: Option<String>,
    error: Option<String>,
    tabs: Vec<Tab>,
    results: Option<Results>,
    /// Said under the results when a limit cut the search short.
    capped: Option<String>,
    previous_href: Option<String>,
    next_href: Option<String>,
}

/// The search page's parameters (GitLab's names).
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    search: String,
    scope: Option<String>,
    project_id: Option<String>,
    group_id: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    page: Option<String>,
}

/// Where a search page looks.
enum Within {
    Instance,
    Group(Box<GroupAccess>),
    Project(Box<ProjectAccess>),
}

/// A count for a tab: "500+" when the search stopped at its limit.
fn count_label<T>(results: &SearchResults<T>) -> String {
    if results.complete { results.items.len().to_string() } else { format!("{}+", results.items.len()) }
}

/// `GET /search`: the search page.
pub async fn search(State(state): State<AppState>, visitor: PageActor, Query(query): Query<SearchQuery>) -> PageResult {
    let within = if let Some(id) = query.project_id.as_deref().and_then(|id| id.trim().parse::<i64>().ok()) {
        Within::Project(Box::new(
            state.core.project_access(&visitor.actor, &Lookup::Id(id)).await.map_err(|e| visitor.error(e))?,
        ))
    } else if let Some(id) = query.group_id.as_deref().and_then(|id| id.trim().parse::<i64>().ok()) {
        Within::Group(Box::new(
            state.core.group_access(&visitor.actor, &Lookup::Id(id)).await.map_err(|e| visitor.error(e))?,
        ))
    } else {
        Within::Instance
    };
    let reference = query.reference.clone().filter(|r| !r.trim().is_empty());
    let mut hidden = Vec::new();
    let (label, everywhere) = match &within {
        Within::Instance => (None, false),
        Within::Group(access) => {
            hidden.push(("group_id", access.group().id.0.to_string()));
            (Some(format!("group {}", access.group().full_path)), true)
        }
        Within::Project(access) => {
            hidden.push(("project_id", access.project().id.0.to_string()));
            if let Some(reference) = &reference {
                hidden.push(("ref", reference.clone()));
            }
            (Some(format!("project {}", access.project().full_path)), true)
        }
    };
    let term = query.search.trim().to_owned();
    let mut page = SearchPage {
        chrome: Chrome::new(&visitor),
        everywhere_href: everywhere.then(|| search_href(&[("search", term.clone())])),
        term: term.clone(),
        within: label,
        hidden,
        error: None,
        tabs: Vec::new(),
        results: None,
        capped: None,
        previous_href: None,
        next_href: None,
    };
    if term.is_empty() {
        return render(StatusCode::OK, &page);
    }
    if let Err(error) = search_term(&term) {
        page.error = Some(crate::error::AppError::from(error).status_and_message().1);
        return render(StatusCode::BAD_REQUEST, &page);
    }
    let number = query.page.as_deref().and_then(|p| p.parse::<usize>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let found = run_search(&state, &visitor, &within, reference.as_deref(), &term, query.scope.as_deref(), number)
        .await
        .map_err(|e| visitor.error(e))?;
    let scope_href = |scope: &str, number: usize| {
        let mut pairs = vec![("search", term.clone()), ("scope", scope.to_owned())];
        pairs.extend(page.hidden.iter().map(|(name, value)| (*name, value.clone())));
        if number > 1 {
            pairs.push(("page", number.to_string()));
        }
        search_href(&pairs)
    };
    page.tabs = found
        .counts
        .iter()
        .map(|(scope, label, count)| Tab {
            scope,
            label,
            href: scope_href(scope, 1),
            count: count.clone(),
            current: *scope == found.scope,
        })
        .collect();
    page.previous_href = (number > 1).then(|| scope_href(found.scope, number - 1));
    page.next_href = found.more.then(|| scope_href(found.scope, number + 1));
    page.capped = found.capped;
    page.results = Some(found.results);
    render(StatusCode::OK, &page)
}

/// What one search page found: the tab shown, its results, every tab's count.
struct Found {
    scope: &'static str,
    results: Results,
    counts: Vec<(&'static str, &'static str, String)>,
    more: bool,
    capped: Option<String>,
}

/// The visible slice of a search's results for page `number`, whether more follow.
fn slice<T>(items: &[T], number: usize) -> (&[T], bool) {
    let start = (number - 1).saturating_mul(PER_PAGE).min(items.len());
    let end = start.saturating_add(PER_PAGE).min(items.len());
    (&items[start..end], end < items.len())
}

fn capped_note<T>(results: &SearchResults<T>, what: &str) -> Option<String> {
    (!results.complete).then(|| {
        format!(
            "The search stopped at {} {what}; make the search text more precise to see the rest.",
            results.items.len()
        )
    })
}

async fn run_search(
    state: &AppState,
    visitor: &PageActor,
    within: &Within,
    reference: Option<&str>,
    term: &str,
    asked: Option<&str>,
    number: usize,
) -> gantry_core::CoreResult<Found> {
    let code = state.core.code();
    let actor = &visitor.actor;
    let (blobs, commits, spans_projects) = match within {
        Within::Project(access) => (
            code.search_blobs(access, reference, term).await?,
            code.search_commits(access, reference, term).await?,
            false,
        ),
        Within::Group(access) => {
            let id = SearchWithin::Group(access.group().id);
            (code.search_blobs_across(actor, id, term).await?, code.search_commits_across(actor, id, term).await?, true)
        }
        Within::Instance => (
            code.search_blobs_across(actor, SearchWithin::Instance, term).await?,
            code.search_commits_across(actor, SearchWithin::Instance, term).await?,
            true,
        ),
    };
    let mut counts = Vec::new();
    let shown_more = |total: i64, shown: usize| {
        crate::ui::has_next_page(i64::try_from(number).unwrap_or(i64::MAX), PER_PAGE as i64, total, shown)
    };
    let db_page = Page { offset: ((number - 1) * PER_PAGE) as i64, limit: PER_PAGE as i64 };
    let namespace = match within {
        Within::Instance => None,
        Within::Group(access) => Some((access.group().id, true)),
        Within::Project(_) => None,
    };
    let mut projects = None;
    let mut groups = None;
    let mut users = None;
    if !matches!(within, Within::Project(_)) {
        let query = ProjectQuery { search: Some(term.to_owned()), ..ProjectQuery::default() };
        let found = state.core.manage().list_projects(actor, &query, namespace, db_page).await?;
        counts.push(("projects", "Projects", found.1.to_string()));
        projects = Some(found);
    }
    if matches!(within, Within::Instance) {
        let query = GroupQuery {
            membership: false,
            top_level_only: false,
            search: Some(term.to_owned()),
            order_by: "name",
            sort: SortDirection::Asc,
        };
        let found = state.core.manage().list_groups(actor, &query, db_page).await?;
        counts.push(("groups", "Groups", found.1.to_string()));
        groups = Some(found);
    }
    counts.push(("blobs", "Code", count_label(&blobs)));
    let plan_within = match within {
        Within::Instance => PlanWithin::Instance(actor),
        Within::Group(access) => PlanWithin::Group(access),
        Within::Project(access) => PlanWithin::Project(access),
    };
    let search = words_of(term);
    let words = SearchWords {
        words: search.as_ref().map(|search| search.words().map(str::to_owned).collect()).unwrap_or_default(),
        search,
    };
    let plan = state.core.plan();
    let (issues, total) = plan.search_issues(plan_within, term, db_page).await?;
    counts.push(("issues", "Issues", crate::ui::count_text(total)));
    let issues: Vec<PlanHit> = issues
        .iter()
        .map(|view| {
            let issue = &view.issue;
            let mut context = format!("{}#{} · {}", view.project_path, issue.iid, issue.state.as_str());
            if issue.confidential {
                context.push_str(" · confidential");
            }
            let href = format!("/{}/-/issues/{}", view.project_path, issue.iid);
            PlanHit::new(href, &issue.title, context, &issue.description, &words)
        })
        .collect();
    let more = shown_more(total, issues.len());
    let issues = (issues, more);
    let mut epics = None;
    if !matches!(within, Within::Project(_)) {
        let (found, total) = plan.search_epics(plan_within, term, db_page).await?;
        counts.push(("epics", "Epics", crate::ui::count_text(total)));
        let hits = found.iter().map(|view| {
            let epic = &view.epic;
            let mut context = format!("{}&{} · {}", epic.group_path, epic.iid, epic.state.as_str());
            if epic.confidential {
                context.push_str(" · confidential");
            }
            let href = format!("/{}/-/epics/{}", epic.group_path, epic.iid);
            PlanHit::new(href, &epic.title, context, &epic.description, &words)
        });
        epics = Some((hits.collect::<Vec<_>>(), shown_more(total, found.len())));
    }
    let (found, total) = plan.search_comments(plan_within, term, db_page).await?;
    counts.push(("notes", "Comments", crate::ui::count_text(total)));
    let comments: Vec<PlanHit> = found
        .iter()
        .map(|found| {
            let author =
                found.note.author.as_ref().map_or_else(|| "A deleted user".to_owned(), |u| format!("@{}", u.username));
            let context = format!("{}#{} · {author}", found.project_path, found.issue_iid);
            let href = format!("/{}/-/issues/{}#note_{}", found.project_path, found.issue_iid, found.note.id.0);
            PlanHit::new(href, &found.issue_title, context, &found.note.body, &words)
        })
        .collect();
    let more = shown_more(total, comments.len());
    let comments = (comments, more);
    let (found, total) = plan.search_wiki(plan_within, term, db_page).await?;
    counts.push(("wiki_blobs", "Wiki", crate::ui::count_text(total)));
    let wiki: Vec<PlanHit> = found
        .iter()
        .map(|page| {
            let href = format!("/{}/-/wikis/{}", page.owner_path, url_path(&page.slug));
            let context = format!("{} · wiki · {}", page.owner_path, page.slug);
            PlanHit::new(href, &page.title, context, &page.content, &words)
        })
        .collect();
    let more = shown_more(total, wiki.len());
    let wiki = (wiki, more);
    counts.push(("commits", "Commits", count_label(&commits)));
    // People: anyone for signed-in visitors of the instance search; the members within a
    // group or project.
    let members = match within {
        Within::Instance => None,
        Within::Group(access) => Some(state.core.manage().search_members(MembersOf::Group(access), term).await?),
        Within::Project(access) => Some(state.core.manage().search_members(MembersOf::Project(access), term).await?),
    };
    if let Some(members) = members {
        let total = i64::try_from(members.len()).unwrap_or(i64::MAX);
        let (shown, _) = slice(&members, number);
        counts.push(("users", "Users", total.to_string()));
        users = Some((shown.to_vec(), total));
    } else if actor.user().is_some() {
        let filter = UserFilter { search: Some(term.to_owned()), ..UserFilter::default() };
        let found = state.core.manage().list_users(actor, filter, db_page).await?;
        counts.push(("users", "Users", found.1.to_string()));
        users = Some(found);
    }
    let default = counts.first().map_or("blobs", |(scope, _, _)| *scope);
    let scope = counts.iter().map(|(scope, _, _)| *scope).find(|scope| Some(*scope) == asked).unwrap_or(default);
    let (results, more, capped) = match scope {
        "projects" => {
            let (rows, total) = projects.unwrap_or_default();
            let more = shown_more(total, rows.len());
            (Results::Projects(rows), more, None)
        }
        "groups" => {
            let (rows, total) = groups.unwrap_or_default();
            let more = shown_more(total, rows.len());
            (Results::Groups(rows), more, None)
        }
        "users" => {
            let (rows, total) = users.unwrap_or_default();
            let more = shown_more(total, rows.len());
            let views =
                rows.iter().map(|user: &UserRow| UserView { username: user.username.clone(), name: user.name.clone() });
            (Results::Users(views.collect()), more, None)
        }
        "issues" => (Results::Plan(issues.0, "issue"), issues.1, None),
        "epics" => {
            let (hits, more) = epics.unwrap_or_default();
            (Results::Plan(hits, "epic"), more, None)
        }
        "notes" => (Results::Plan(comments.0, "comment"), comments.1, None),
        "wiki_blobs" => (Results::Plan(wiki.0, "wiki page"), wiki.1, None),
        "commits" => {
            let (shown, more) = slice(&commits.items, number);
            let now = gantry_core::now_millis();
            let views = shown.iter().map(|result: &CommitResult| CommitView {
                project: spans_projects.then(|| result.project.full_path.clone()),
                href: format!("/{}/-/commit/{}", result.project.full_path, result.commit.id),
                title: mark_term(&result.commit.title, term),
                line: CommitLine::new(&result.commit, now),
            });
            (Results::Commits(views.collect()), more, capped_note(&commits, "commits"))
        }
        _ => {
            let (shown, more) = slice(&blobs.items, number);
            let views = shown.iter().map(|result| BlobView::new(result, term, spans_projects));
            (Results::Blobs(views.collect()), more, capped_note(&blobs, "matches"))
        }
    };
    Ok(Found { scope, results, counts, more, capped })
}

/// `/search?…` with these parameters.
fn search_href(pairs: &[(&str, String)]) -> String {
    format!("/search?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn shown(pieces: &[Piece]) -> String {
        pieces.iter().map(|p| if p.marked { format!("[{}]", p.text) } else { p.text.clone() }).collect()
    }

    #[test]
    fn marks_each_word() {
        let words = ["dep".to_owned(), "run".to_owned()];
        assert_eq!(shown(&mark_words("Deploy the RUNNER, deploy!", &words)), "[Dep]loy the [RUN]NER, [dep]loy!");
        assert_eq!(shown(&mark_words("nothing here", &words)), "nothing here");
    }

    #[test]
    fn marks_every_occurrence_ignoring_case() {
        assert_eq!(shown(&mark_term("Needle, needle and NEEDLE.", "needle")), "[Needle], [needle] and [NEEDLE].");
        assert_eq!(shown(&mark_term("héllo", "LLO")), "hé[llo]");
    }
}
