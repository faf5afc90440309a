//! Searching code: file contents (`git grep`) and paths, and commit messages (`git log --grep`), literal
//! and ignoring case, in one project at a ref or across the projects of a group or of the
//! instance whose code the actor may read. Every search is bounded: hits, bytes and time per
//! repository, and how many projects one search reaches (the most recently changed first).

use std::time::Duration;

use gantry_git::read::PathObject;
use gantry_git::refs::CommitSummary;
use gantry_git::search::{BlobHit, Found, SearchLimits};
use gantry_types::NamespaceId;

use crate::manage::projects::ProjectQuery;
use crate::policy::{ProjectAccess, ProjectAction, projects_with_readable_code};
use crate::{Actor, CoreError, CoreResult, Page, ProjectRow, SortDirection};

/// Hits one search keeps (over every project it reaches); past it the search says it is
/// incomplete and counts show "500+".
pub const MAX_SEARCH_RESULTS: usize = 500;
/// Projects a search across a group or the instance reaches, most recently changed first.
pub const MAX_PROJECTS_SEARCHED: usize = 50;
/// Time one repository's search may take.
const REPOSITORY_TIME: Duration = Duration::from_secs(10);
/// Time a search across projects may take in all.
const ACROSS_TIME: Duration = Duration::from_secs(20);
/// Bytes of matched text one search keeps.
const MAX_SEARCH_BYTES: usize = 4 << 20;
/// Files a search finds by their path alone, at most (per repository).
const MAX_NAME_HITS: usize = 20;
/// Lines shown of a file found by its path.
const NAME_HIT_LINES: usize = 3;
/// The longest search text.
pub const MAX_SEARCH_TERM: usize = 1000;

/// Lines of a file around a match, in a project at a ref.
#[derive(Debug, Clone)]
pub struct BlobResult {
    pub project: ProjectRow,
    /// The branch, tag or commit searched (as asked, or the default branch).
    pub reference: String,
    pub hit: BlobHit,
}

/// A commit whose message matched, in a project.
#[derive(Debug, Clone)]
pub struct CommitResult {
    pub project: ProjectRow,
    pub commit: CommitSummary,
}

/// Results of a search, and whether they are all there are (false when a limit stopped it).
#[derive(Debug, Clone)]
pub struct SearchResults<T> {
    pub items: Vec<T>,
    pub complete: bool,
}

/// Where a search across projects looks.
#[derive(Debug, Clone, Copy)]
pub enum SearchWithin {
    /// Every project the actor may read the code of.
    Instance,
    /// The projects of a group and its subgroups (the caller checked the actor may see it).
    Group(NamespaceId),
}

/// The search text, trimmed; refused when empty or too long.
pub fn search_term(text: &str) -> CoreResult<&str> {
    let term = text.trim();
    if term.is_empty() {
        return Err(CoreError::invalid("search", "is missing: give the text to search for"));
    }
    if term.len() > MAX_SEARCH_TERM {
        return Err(CoreError::invalid("search", format!("is too long (at most {MAX_SEARCH_TERM} bytes)")));
    }
    Ok(term)
}

impl<T> SearchResults<T> {
    fn extend(&mut self, more: SearchResults<T>) {
        self.complete &= more.complete;
        self.items.extend(more.items);
    }
}

/// What a search across projects has left: hits and time, shared by the repositories it reaches.
struct Budget {
    deadline: tokio::time::Instant,
}

impl Budget {
    fn new() -> Budget {
        Budget { deadline: tokio::time::Instant::now() + ACROSS_TIME }
    }

    /// The limits of the next repository's search, or `None` (the results marked incomplete)
    /// when the hits or the time ran out.
    fn next<T>(&self, results: &mut SearchResults<T>) -> Option<SearchLimits> {
        let left = MAX_SEARCH_RESULTS.saturating_sub(results.items.len());
        let time = self.deadline.saturating_duration_since(tokio::time::Instant::now()).min(REPOSITORY_TIME);
        if left == 0 || time.is_zero() {
            results.complete = false;
            return None;
        }
        Some(limits(left, time))
    }
}

fn limits(max_hits: usize, time: Duration) -> SearchLimits {
    SearchLimits { max_hits, max_bytes: MAX_SEARCH_BYTES, time }
}

impl super::Code<'_> {
    /// The files of the project at `reference` (default: the default branch) whose lines contain
    /// `term`; an unknown ref or an empty repository finds nothing, and so does a visitor who
    /// sees the project but not its code (a Guest of a private project, as in GitLab).
    pub async fn search_blobs(
        &self,
        access: &ProjectAccess,
        reference: Option<&str>,
        term: &str,
    ) -> CoreResult<SearchResults<BlobResult>> {
        let term = search_term(term)?;
        if !access.can(ProjectAction::ReadCode) {
            return Ok(SearchResults { items: Vec::new(), complete: true });
        }
        let project = access.project();
        let Some((reference, commit)) = self.search_commit(project, reference).await? else {
            return Ok(SearchResults { items: Vec::new(), complete: true });
        };
        let found = self.grep_files(project, &commit, term, limits(MAX_SEARCH_RESULTS, REPOSITORY_TIME)).await?;
        Ok(blob_results(project, &reference, found))
    }

    /// The commits reachable from `reference` (default: the default branch) whose message
    /// contains `term`, newest first; nothing, as [`Self::search_blobs`], for those who may not
    /// read the code.
    pub async fn search_commits(
        &self,
        access: &ProjectAccess,
        reference: Option<&str>,
        term: &str,
    ) -> CoreResult<SearchResults<CommitResult>> {
        let term = search_term(term)?;
        if !access.can(ProjectAction::ReadCode) {
            return Ok(SearchResults { items: Vec::new(), complete: true });
        }
        let project = access.project();
        let Some((_, commit)) = self.search_commit(project, reference).await? else {
            return Ok(SearchResults { items: Vec::new(), complete: true });
        };
        let found = self
            .repos
            .grep_commit_messages(project.id, &commit, term, limits(MAX_SEARCH_RESULTS, REPOSITORY_TIME))
            .await?;
        self.commit_results(project, found).await
    }

    /// [`Self::search_blobs`] at the default branch of each project `within` whose code the
    /// actor may read (at most [`MAX_PROJECTS_SEARCHED`], most recently changed first).
    pub async fn search_blobs_across(
        &self,
        actor: &Actor,
        within: SearchWithin,
        term: &str,
    ) -> CoreResult<SearchResults<BlobResult>> {
        let term = search_term(term)?;
        let (mut results, budget) = (SearchResults { items: Vec::new(), complete: true }, Budget::new());
        for project in self.searchable_projects(actor, within).await? {
            let Some(limits) = budget.next(&mut results) else { break };
            let Some((reference, commit)) = self.search_commit(&project, None).await? else { continue };
            let found = self.grep_files(&project, &commit, term, limits).await?;
            results.extend(blob_results(&project, &reference, found));
        }
        Ok(results)
    }

    /// [`Self::search_commits`] over the default branch of each project `within` whose code
    /// the actor may read, as [`Self::search_blobs_across`] chooses them.
    pub async fn search_commits_across(
        &self,
        actor: &Actor,
        within: SearchWithin,
        term: &str,
    ) -> CoreResult<SearchResults<CommitResult>> {
        let term = search_term(term)?;
        let (mut results, budget) = (SearchResults { items: Vec::new(), complete: true }, Budget::new());
        for project in self.searchable_projects(actor, within).await? {
            let Some(limits) = budget.next(&mut results) else { break };
            let Some((_, commit)) = self.search_commit(&project, None).await? else { continue };
            let found = self.repos.grep_commit_messages(project.id, &commit, term, limits).await?;
            results.extend(self.commit_results(&project, found).await?);
        }
        Ok(results)
    }

    /// The files at `commit` whose lines contain `term` (`git grep`), then, as GitLab's search,
    /// those whose path does and whose lines do not, each shown by its first lines (at most
    /// [`MAX_NAME_HITS`] of them, within the limit of hits).
    async fn grep_files(
        &self,
        project: &ProjectRow,
        commit: &str,
        term: &str,
        limits: SearchLimits,
    ) -> CoreResult<Found<BlobHit>> {
        let mut found = self.repos.grep_blobs(project.id, commit, term, limits).await?;
        let room = limits.max_hits.saturating_sub(found.hits.len()).min(MAX_NAME_HITS);
        if room == 0 {
            return Ok(found);
        }
        let (repos, listings, id) = (self.repos.clone(), self.path_listings.clone(), project.id);
        let (commit, needle) = (commit.to_owned(), term.to_lowercase());
        let matched: std::collections::HashSet<String> = found.hits.iter().map(|hit| hit.path.clone()).collect();
        let named = tokio::task::spawn_blocking(move || -> Result<(Vec<BlobHit>, bool), gantry_git::GitError> {
            let reader = repos.reader(id)?;
            let listing = listings.listing_of(&reader, id, &commit)?;
            let mut hits = Vec::new();
            let names = listing.paths.iter().filter(|path| path.to_lowercase().contains(&needle));
            for path in names.filter(|path| !matched.contains(*path)) {
                if hits.len() == room {
                    return Ok((hits, false));
                }
                let Some(PathObject::Blob(blob)) = reader.object_at(&commit, path)? else { continue };
                if blob.is_binary() {
                    continue;
                }
                let text = String::from_utf8_lossy(&blob.data);
                let lines = text.lines().take(NAME_HIT_LINES).map(str::to_owned).collect();
                hits.push(BlobHit { path: path.clone(), startline: 1, lines });
            }
            Ok((hits, true))
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        found.complete &= named.1;
        found.hits.extend(named.0);
        Ok(found)
    }

    /// The projects a search across projects reaches: those `within` the actor may see, most
    /// recently changed first, at most [`MAX_PROJECTS_SEARCHED`], less those whose code the
    /// actor may not read.
    async fn searchable_projects(&self, actor: &Actor, within: SearchWithin) -> CoreResult<Vec<ProjectRow>> {
        let query = ProjectQuery { order_by: "updated_at", sort: SortDirection::Desc, ..ProjectQuery::default() };
        let namespace = match within {
            SearchWithin::Instance => None,
            SearchWithin::Group(id) => Some((id, true)),
        };
        let page = Page { offset: 0, limit: MAX_PROJECTS_SEARCHED as i64 };
        let (projects, _) = self.manage().list_projects(actor, &query, namespace, page).await?;
        let mut conn = self.db.conn().await?;
        projects_with_readable_code(&mut conn, actor, projects).await
    }

    /// The ref name and commit a search of `project` runs at; `None` for an unknown ref or an
    /// empty repository.
    async fn search_commit(
        &self,
        project: &ProjectRow,
        reference: Option<&str>,
    ) -> CoreResult<Option<(String, String)>> {
        let reference = reference.map(str::trim).filter(|r| !r.is_empty()).unwrap_or(&project.default_branch);
        let reference = reference.to_owned();
        let repos = self.repos.clone();
        let id = project.id;
        let asked = reference.clone();
        let commit = tokio::task::spawn_blocking(move || match repos.reader(id) {
            Ok(reader) => reader.resolve(&asked),
            Err(gantry_git::GitError::Missing) => Ok(None),
            Err(error) => Err(error),
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        Ok(commit.map(|commit| (reference, commit)))
    }

    /// The summaries of the commits a message search found.
    async fn commit_results(
        &self,
        project: &ProjectRow,
        found: Found<String>,
    ) -> CoreResult<SearchResults<CommitResult>> {
        let repos = self.repos.clone();
        let id = project.id;
        let complete = found.complete;
        let commits = tokio::task::spawn_blocking(move || {
            let reader = repos.reader(id)?;
            found.hits.iter().map(|commit| reader.commit(commit)).collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        let items = commits.into_iter().map(|commit| CommitResult { project: project.clone(), commit }).collect();
        Ok(SearchResults { items, complete })
    }
}

fn blob_results(project: &ProjectRow, reference: &str, found: Found<BlobHit>) -> SearchResults<BlobResult> {
    let items = found
        .hits
        .into_iter()
        .map(|hit| BlobResult { project: project.clone(), reference: reference.to_owned(), hit })
        .collect();
    SearchResults { items, complete: found.complete }
}
