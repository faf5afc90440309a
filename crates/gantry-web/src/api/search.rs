//! GitLab's search API: `GET /search` (projects, users, and code and commit messages across the
//! projects whose code the caller may read), `GET /groups/:id/search` (projects, members, code
//! and commits in the group and its subgroups) and `GET /projects/:id/search` (members, and code
//! and commits at `ref`, default the default branch); at every level issues, comments
//! (`notes`) and wiki pages (`wiki_blobs`), and epics across groups, found full-text among
//! what the caller may see. Results are GitLab's shapes with its pagination headers; `search`
//! and `scope` are required. GitLab's scopes for things Gantry does not hold yet (merge
//! requests, milestones, snippets) answer an empty list.

use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use gantry_core::code::search::{BlobResult, CommitResult, SearchResults, SearchWithin, search_term};
use gantry_core::manage::accounts::UserFilter;
use gantry_core::manage::members::MembersOf;
use gantry_core::manage::projects::ProjectQuery;
use gantry_core::plan::search::{FoundComment, FoundWikiPage, PlanWithin, excerpt, words_of};
use gantry_core::plan::wiki::WikiOwner;
use gantry_core::{Actor, Page, UserRow};
use serde::{Deserialize, Serialize};

use super::groups::lookup_group_access;
use super::plan::epics::Epic;
use super::plan::types::{Issue, Note, with_epics};
use super::projects::{lookup_access, project_json};
use super::types::{Commit, User};
use super::{ApiResult, PageParams, PageRequest, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::{AppState, WebConfig};

/// The parameters every search takes.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    search: Option<String>,
    scope: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// What a search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Projects,
    Users,
    Blobs,
    Commits,
    Issues,
    Notes,
    WikiBlobs,
    Epics,
    /// A GitLab scope of things Gantry does not have: always nothing.
    Nothing,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Projects => "projects",
            Scope::Users => "users",
            Scope::Blobs => "blobs",
            Scope::Commits => "commits",
            Scope::Issues => "issues",
            Scope::Notes => "notes",
            Scope::WikiBlobs => "wiki_blobs",
            Scope::Epics => "epics",
            Scope::Nothing => "",
        }
    }
}

/// GitLab's scopes for things Gantry does not hold.
const SCOPES_WITHOUT_DATA: &[&str] = &["merge_requests", "milestones", "snippet_titles"];

/// What a search across projects (the instance's, a group's) answers.
const ACROSS_SCOPES: [Scope; 8] = [
    Scope::Projects,
    Scope::Users,
    Scope::Blobs,
    Scope::Commits,
    Scope::Issues,
    Scope::Notes,
    Scope::WikiBlobs,
    Scope::Epics,
];
/// What a project's search answers.
const PROJECT_SCOPES: [Scope; 6] =
    [Scope::Users, Scope::Blobs, Scope::Commits, Scope::Issues, Scope::Notes, Scope::WikiBlobs];

impl SearchParams {
    /// The scope, if it is one of `allowed` (or one Gantry has nothing for).
    fn scope(&self, allowed: &[Scope]) -> ApiResult<Scope> {
        let name = self.scope.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let name = name.ok_or_else(|| AppError::BadRequest("scope is missing".to_owned()))?;
        let scope = match name {
            "projects" => Some(Scope::Projects),
            "users" => Some(Scope::Users),
            "blobs" => Some(Scope::Blobs),
            "commits" => Some(Scope::Commits),
            "issues" => Some(Scope::Issues),
            "notes" => Some(Scope::Notes),
            "wiki_blobs" => Some(Scope::WikiBlobs),
            "epics" => Some(Scope::Epics),
            other if SCOPES_WITHOUT_DATA.contains(&other) => Some(Scope::Nothing),
            _ => None,
        };
        match scope {
            Some(scope) if scope == Scope::Nothing || allowed.contains(&scope) => Ok(scope),
            _ => {
                let names: Vec<&str> = allowed.iter().map(|scope| scope.name()).collect();
                let message = format!("scope does not have a valid value: give one of {}", names.join(", "));
                Err(AppError::BadRequest(message).into())
            }
        }
    }

    /// The text to look for.
    fn term(&self) -> ApiResult<&str> {
        let text = self.search.as_deref().ok_or_else(|| AppError::BadRequest("search is missing".to_owned()))?;
        Ok(search_term(text)?)
    }
}

/// A match in a file, as GitLab's search answers it.
#[derive(Debug, Serialize)]
pub struct SearchBlob {
    /// The path without its extension.
    pub basename: String,
    /// The matching lines with a few around them, each ending with a newline.
    pub data: String,
    pub path: String,
    /// The path again (GitLab keeps the old name).
    pub filename: String,
    /// GitLab's blob id, given only by its advanced search.
    pub id: Option<String>,
    #[serde(rename = "ref")]
    pub reference: String,
    /// The number of the first line of `data`.
    pub startline: u32,
    /// The project the blob is in; `null` for a page of a group's wiki.
    pub project_id: Option<i64>,
    /// A group wiki's group (GitLab adds it to group wiki pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
}

impl SearchBlob {
    fn new(result: &BlobResult) -> SearchBlob {
        let path = &result.hit.path;
        let name_start = path.rfind('/').map_or(0, |slash| slash + 1);
        let basename = match path[name_start..].rfind('.') {
            Some(dot) if dot > 0 => path[..name_start + dot].to_owned(),
            _ => path.clone(),
        };
        SearchBlob {
            basename,
            data: result.hit.data(),
            path: path.clone(),
            filename: path.clone(),
            id: None,
            reference: result.reference.clone(),
            startline: result.hit.startline,
            project_id: Some(result.project.id.0),
            group_id: None,
        }
    }
}

impl SearchBlob {
    /// A wiki page, as GitLab's `wiki_blobs` scope answers it: the lines around the first match.
    fn wiki(found: &FoundWikiPage, term: &str) -> SearchBlob {
        let path = format!("{}.md", found.slug);
        let (startline, lines) = match words_of(term) {
            Some(words) => excerpt(&found.content, &words, 2),
            None => (1, Vec::new()),
        };
        let data = lines.iter().map(|line| format!("{line}\n")).collect();
        SearchBlob {
            basename: found.slug.clone(),
            data,
            filename: path.clone(),
            path,
            id: None,
            reference: gantry_core::plan::wiki::WIKI_BRANCH.to_owned(),
            startline: u32::try_from(startline).unwrap_or(u32::MAX),
            project_id: match found.owner {
                WikiOwner::Project(project) => Some(project.0),
                WikiOwner::Group(_) => None,
            },
            group_id: match found.owner {
                WikiOwner::Project(_) => None,
                WikiOwner::Group(group) => Some(group.0),
            },
        }
    }
}

/// A commit whose message matched: the commits API's commit, with its project.
#[derive(Debug, Serialize)]
pub struct SearchCommit {
    #[serde(flatten)]
    pub commit: Commit,
    pub project_id: i64,
}

impl SearchCommit {
    fn new(result: &CommitResult, config: &WebConfig) -> SearchCommit {
        SearchCommit { commit: Commit::new(&result.commit, &result.project, config), project_id: result.project.id.0 }
    }
}

/// `GET /search`: projects and users by name, code and commit messages across the projects
/// whose code the caller may read (at most 50, most recently changed first).
pub async fn search_instance(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(params): Query<SearchParams>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let scope = params.scope(&ACROSS_SCOPES)?;
    let term = params.term()?;
    if let Some(response) = plan_scope(&state, &uri, scope, PlanWithin::Instance(&actor), term, page).await? {
        return Ok(response);
    }
    across(&state, &actor, &uri, scope, SearchWithin::Instance, term, page).await
}

/// `GET /groups/:id/search`: projects, code and commit messages in the group and its subgroups;
/// users among the group's members (direct and inherited).
pub async fn search_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(params): Query<SearchParams>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let page = page.resolve()?;
    let scope = params.scope(&ACROSS_SCOPES)?;
    let term = params.term()?;
    if let Some(response) = plan_scope(&state, &uri, scope, PlanWithin::Group(&access), term, page).await? {
        return Ok(response);
    }
    if scope == Scope::Users {
        let members = state.core.manage().search_members(MembersOf::Group(&access), term).await?;
        return Ok(users_page(&state, &actor, &uri, members, page));
    }
    across(&state, &actor, &uri, scope, SearchWithin::Group(access.group().id), term, page).await
}

/// `GET /projects/:id/search`: code and commit messages at `ref` (default: the default branch);
/// users among the project's members (direct and inherited).
pub async fn search_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(params): Query<SearchParams>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let page = page.resolve()?;
    let scope = params.scope(&PROJECT_SCOPES)?;
    let term = params.term()?;
    if let Some(response) = plan_scope(&state, &uri, scope, PlanWithin::Project(&access), term, page).await? {
        return Ok(response);
    }
    if scope == Scope::Users {
        let members = state.core.manage().search_members(MembersOf::Project(&access), term).await?;
        return Ok(users_page(&state, &actor, &uri, members, page));
    }
    let reference = params.reference.as_deref();
    let code = state.core.code();
    match scope {
        Scope::Blobs => {
            let found = code.search_blobs(&access, reference, term).await?;
            Ok(page_of(&state, &uri, found, page, SearchBlob::new))
        }
        Scope::Commits => {
            let found = code.search_commits(&access, reference, term).await?;
            Ok(page_of(&state, &uri, found, page, |c| SearchCommit::new(c, &state.config)))
        }
        _ => Ok(paginated(&state.config.external_url, &uri, Vec::<SearchBlob>::new(), 0, page)),
    }
}

/// A search across projects (the instance's or a group's).
async fn across(
    state: &AppState,
    actor: &Actor,
    uri: &Uri,
    scope: Scope,
    within: SearchWithin,
    term: &str,
    page: PageRequest,
) -> ApiResult<Response> {
    let external = &state.config.external_url;
    match scope {
        Scope::Projects => {
            let query = ProjectQuery { search: Some(term.to_owned()), ..ProjectQuery::default() };
            let namespace = match within {
                SearchWithin::Instance => None,
                SearchWithin::Group(id) => Some((id, true)),
            };
            let (projects, total) = state.core.manage().list_projects(actor, &query, namespace, page.db()).await?;
            let mut items = Vec::with_capacity(projects.len());
            for project in &projects {
                items.push(project_json(state, actor, project).await?);
            }
            Ok(paginated(external, uri, items, total, page))
        }
        Scope::Users => {
            let filter = UserFilter { search: Some(term.to_owned()), ..UserFilter::default() };
            let (users, total) = state.core.manage().list_users(actor, filter, page.db()).await?;
            let admin = gantry_core::policy::administers(actor);
            let items = users.iter().map(|user| User::new(user, &state.config, admin)).collect();
            Ok(paginated(external, uri, items, total, page))
        }
        Scope::Blobs => {
            let found = state.core.code().search_blobs_across(actor, within, term).await?;
            Ok(page_of(state, uri, found, page, SearchBlob::new))
        }
        Scope::Commits => {
            let found = state.core.code().search_commits_across(actor, within, term).await?;
            Ok(page_of(state, uri, found, page, |c| SearchCommit::new(c, &state.config)))
        }
        Scope::Nothing | Scope::Issues | Scope::Notes | Scope::WikiBlobs | Scope::Epics => {
            Ok(paginated(external, uri, Vec::<SearchBlob>::new(), 0, page))
        }
    }
}

/// A search of what Plan holds, when the scope is one; `None` for the other scopes.
async fn plan_scope(
    state: &AppState,
    uri: &Uri,
    scope: Scope,
    within: PlanWithin<'_>,
    term: &str,
    page: PageRequest,
) -> ApiResult<Option<Response>> {
    let plan = state.core.plan();
    let external = &state.config.external_url;
    let response = match scope {
        Scope::Issues => {
            let (issues, total) = plan.search_issues(within, term, page.db()).await?;
            let mut items: Vec<Issue> = issues.iter().map(|view| Issue::new(view, &state.config)).collect();
            with_epics(state, within.actor(), &issues.iter().collect::<Vec<_>>(), &mut items).await?;
            paginated(external, uri, items, total, page)
        }
        Scope::Notes => {
            let (comments, total) = plan.search_comments(within, term, page.db()).await?;
            let items: Vec<Note> = comments
                .iter()
                .map(|found: &FoundComment| Note::new(&found.note, found.issue_iid, &state.config))
                .collect();
            paginated(external, uri, items, total, page)
        }
        Scope::WikiBlobs => {
            let (pages, total) = plan.search_wiki(within, term, page.db()).await?;
            let items: Vec<SearchBlob> = pages.iter().map(|found| SearchBlob::wiki(found, term)).collect();
            paginated(external, uri, items, total, page)
        }
        Scope::Epics => {
            let (epics, total) = plan.search_epics(within, term, page.db()).await?;
            let items: Vec<Epic> = epics.iter().map(|view| Epic::new(view, &state.config)).collect();
            paginated(external, uri, items, total, page)
        }
        _ => return Ok(None),
    };
    Ok(Some(response))
}

/// A page of the users a search found whole.
fn users_page(state: &AppState, actor: &Actor, uri: &Uri, users: Vec<UserRow>, page: PageRequest) -> Response {
    let admin = gantry_core::policy::administers(actor);
    let found = SearchResults { items: users, complete: true };
    page_of(state, uri, found, page, |user| User::new(user, &state.config, admin))
}

/// One page of results found whole, with the pagination headers.
fn page_of<T, J: Serialize>(
    state: &AppState,
    uri: &Uri,
    found: SearchResults<T>,
    page: PageRequest,
    shape: impl Fn(&T) -> J,
) -> Response {
    let Page { offset, limit } = page.db();
    let total = i64::try_from(found.items.len()).unwrap_or(i64::MAX);
    let items: Vec<J> = found
        .items
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(shape)
        .collect();
    paginated(&state.config.external_url, uri, items, total, page)
}
