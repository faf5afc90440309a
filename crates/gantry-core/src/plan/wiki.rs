//! A wiki, a project's or a group's: Markdown pages in the wiki's repository (`<id>.wiki.git`
//! beside a project's code; a group's under `@groups/`), one file per page on the branch `main`,
//! as GitLab keeps them — the page
//! `docs/Getting-started` is the file `docs/Getting-started.md`, titled "Getting started". Git
//! is the record: a page's history is the commits that touched its file, a version is a
//! commit, and the wiki is cloned and pushed with git under the project's or group's rights
//! (see `code::git_access`). Attachments are files under `uploads/<random>/`; `_sidebar` is the
//! page shown beside every other.
//!
//! Whoever may see the project or group reads its wiki (GitLab lets Guests read it); Developers
//! and above write it, and not in an archived project. Every write is one commit made without a working
//! tree, and the branch moves by compare-and-swap: two saves at once never lose one another —
//! the second is made again on top of the first, or refused when both changed the same page.

pub use super::wiki_access::{WikiAccess, wiki_repo};
pub use gantry_db::plan::wiki_pages::WikiOwner;
use gantry_git::read::PathObject;
use gantry_git::refs::CommitSummary;
use gantry_git::write::{FileAction, WriteError};
use gantry_git::{Author, ZERO_OID};

use crate::{CoreError, CoreResult};

/// The branch holding the pages.
pub const WIKI_BRANCH: &str = "main";
/// The page a wiki opens on (GitLab's).
pub const HOME: &str = "home";
/// The page shown beside every other when it exists (GitLab's).
pub const SIDEBAR: &str = "_sidebar";
/// The folder attachments go into.
pub const UPLOADS: &str = "uploads";
/// The largest page (bytes of Markdown).
pub const MAX_PAGE_BYTES: usize = 1 << 20;
/// The largest attachment.
pub const MAX_ATTACHMENT_BYTES: usize = 10 << 20;
/// Most pages a listing reads; a wiki with more lists the first ones.
pub(super) const MAX_LISTED: usize = 5_000;
/// Longest title, and longest folder or page name in a path.
const MAX_TITLE: usize = 255;
/// How many times a save is made again on a branch that moved meanwhile.
const SAVE_ATTEMPTS: usize = 3;
/// The file endings of Markdown pages, the first being the one new pages get.
const PAGE_ENDINGS: [&str; 2] = [".md", ".markdown"];
/// Attachments shown as images in pages.
const IMAGE_ENDINGS: [&str; 7] = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg"];
/// Characters a title may not hold: they mean something in URLs, paths or Markdown links.
const FORBIDDEN_IN_TITLE: &[char] = &['\\', '#', '?', '%', ':', '*', '"', '<', '>', '|', '[', ']'];

/// A page as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiPageSummary {
    /// Its path without the file ending, dashes for spaces (`docs/Getting-started`).
    pub slug: String,
    /// Its name: the last part of the slug, spaces for dashes (`Getting started`).
    pub title: String,
    /// The file in the wiki repository.
    pub path: String,
}

impl WikiPageSummary {
    /// The page a file of the wiki repository is, if it is one (Markdown, not an attachment).
    pub fn from_path(path: &str) -> Option<WikiPageSummary> {
        let slug = PAGE_ENDINGS.iter().find_map(|ending| path.strip_suffix(ending))?;
        if slug.is_empty() || slug.starts_with("uploads/") || slug.split('/').any(str::is_empty) {
            return None;
        }
        Some(WikiPageSummary { slug: slug.to_owned(), title: title_of(slug), path: path.to_owned() })
    }

    /// The folder the page is in, `""` at the top.
    pub fn folder(&self) -> &str {
        self.slug.rsplit_once('/').map_or("", |(folder, _)| folder)
    }

    /// Whether this is the sidebar rather than a page of its own.
    pub fn is_sidebar(&self) -> bool {
        self.slug == SIDEBAR
    }
}

/// The title a slug shows: its last part with spaces for dashes.
pub fn title_of(slug: &str) -> String {
    slug.rsplit('/').next().unwrap_or(slug).replace('-', " ")
}

/// A page at one version.
#[derive(Debug, Clone)]
pub struct WikiPage {
    pub summary: WikiPageSummary,
    pub content: String,
    /// The commit this version of the page is from: the last one that changed it, or the one
    /// asked for.
    pub version: CommitSummary,
}

/// A page to write. On create the title is required; on update what is missing stays. The
/// title is the page's whole path (`docs/Getting started`): a new one moves the page.
#[derive(Debug, Clone, Default)]
pub struct WikiPageInput {
    pub title: Option<String>,
    pub content: Option<String>,
    /// Only `markdown` (GitLab's default) is written.
    pub format: Option<String>,
    pub message: Option<String>,
    /// The version the writer started from (GitLab's `last_commit_sha`): when the page changed
    /// since, the update is refused instead of undoing that change. Without it, the version
    /// read when the update starts.
    pub last_commit_sha: Option<String>,
}

/// A file attached to the wiki.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiAttachment {
    pub file_name: String,
    /// In the wiki repository, from its root (`uploads/<random>/<file name>`).
    pub file_path: String,
    pub branch: String,
    pub commit: String,
}

/// The Markdown `[name](path)` (`![name](path)` for an image) that shows an attachment.
pub fn attachment_markdown(file_name: &str, file_path: &str) -> String {
    let escaped = file_name.replace('\\', "\\\\").replace('[', "\\[").replace(']', "\\]");
    let lower = file_name.to_ascii_lowercase();
    let image = IMAGE_ENDINGS.iter().any(|ending| lower.ends_with(ending));
    format!("{}[{escaped}]({file_path})", if image { "!" } else { "" })
}

/// The slug of a title: its parts trimmed, spaces made dashes. Refuses what cannot be a page's
/// path, saying why.
pub fn slug_for_title(title: &str) -> CoreResult<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(CoreError::invalid("title", "can't be blank"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(CoreError::invalid("title", format!("is too long (at most {MAX_TITLE} characters)")));
    }
    if let Some(c) = title.chars().find(|c| c.is_control() || FORBIDDEN_IN_TITLE.contains(c)) {
        let shown = if c.is_control() { "control characters".to_owned() } else { format!("'{c}'") };
        return Err(CoreError::invalid("title", format!("can't contain {shown}")));
    }
    let mut parts = Vec::new();
    for part in title.split('/') {
        let part = part.trim();
        if part.is_empty() {
            return Err(CoreError::invalid("title", "can't have an empty folder name (two slashes, or one at an end)"));
        }
        if part.starts_with('.') || part == "-" {
            return Err(CoreError::invalid("title", format!("'{part}' can't be a page or folder name")));
        }
        parts.push(part.split_whitespace().collect::<Vec<_>>().join("-"));
    }
    let slug = parts.join("/");
    if slug == UPLOADS || slug.starts_with("uploads/") {
        return Err(CoreError::invalid("title", "can't start with uploads/: attachments are kept there"));
    }
    if slug.starts_with('_') && slug != SIDEBAR {
        return Err(CoreError::invalid("title", "can't start with '_' (only _sidebar may)"));
    }
    Ok(slug)
}

/// Whether `slug` (from a URL) could name a page: what [`slug_for_title`] makes, read back.
fn checked_slug(slug: &str) -> CoreResult<&str> {
    let slug = slug.trim_matches('/');
    let bad = slug.is_empty()
        || slug.len() > 4 * MAX_TITLE
        || slug.chars().any(|c| c.is_control() || c == '\\')
        || slug.split('/').any(|part| part.is_empty() || part.starts_with('.') || part == "-");
    if bad { Err(CoreError::NotFound("wiki page")) } else { Ok(slug) }
}

/// A file name for an attachment: its last part, with characters that would break a path or a
/// Markdown link made underscores.
pub(crate) fn attachment_name(file_name: &str) -> CoreResult<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_control() || FORBIDDEN_IN_TITLE.contains(&c) || c == '(' || c == ')' { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        return Err(CoreError::invalid("file", "needs a file name"));
    }
    if cleaned.chars().count() > MAX_TITLE {
        return Err(CoreError::invalid("file", format!("name is too long (at most {MAX_TITLE} characters)")));
    }
    Ok(cleaned)
}

fn check_format(format: Option<&str>) -> CoreResult<()> {
    match format.map(str::trim) {
        None | Some("" | "markdown") => Ok(()),
        Some(other) => {
            Err(CoreError::invalid("format", format!("'{other}' is not supported: Gantry's wiki pages are markdown")))
        }
    }
}

fn check_content(content: &str) -> CoreResult<()> {
    if content.len() > MAX_PAGE_BYTES {
        return Err(CoreError::invalid("content", format!("is larger than {} MiB", MAX_PAGE_BYTES >> 20)));
    }
    Ok(())
}

fn blocking_error(error: tokio::task::JoinError) -> CoreError {
    CoreError::Internal(Box::new(error))
}

/// One write of the wiki, made against the branch's tip.
enum Change<'a> {
    Create { path: String, content: &'a str },
    Update { from: String, to: String, content: &'a str },
    Delete { path: String },
    Attach { path: String, data: &'a [u8] },
}

impl super::Plan<'_> {
    /// Creates the wiki's repository if it has none yet (a clone of a new wiki gets an empty
    /// repository, as from GitLab).
    pub async fn ensure_wiki(&self, owner: WikiOwner) -> CoreResult<()> {
        let wiki = wiki_repo(owner);
        if !self.repos.exists(wiki) {
            self.repos.create(wiki, WIKI_BRANCH).await?;
        }
        Ok(())
    }

    /// The tip of the wiki's branch, `None` while the wiki has no page (or no repository).
    async fn wiki_tip(&self, wiki: WikiAccess<'_>) -> CoreResult<Option<String>> {
        let wiki = wiki.repo();
        if !self.repos.exists(wiki) {
            return Ok(None);
        }
        Ok(self.repos.ref_target(wiki, &format!("refs/heads/{WIKI_BRANCH}")).await?)
    }

    /// The wiki's pages in path order (the sidebar included; attachments are not pages).
    pub async fn list_wiki_pages(&self, access: impl Into<WikiAccess<'_>>) -> CoreResult<Vec<WikiPageSummary>> {
        let access: WikiAccess<'_> = access.into();
        Ok(self.walk_wiki_pages(access, false).await?.into_iter().map(|(page, _)| page).collect())
    }

    /// [`Plan::list_wiki_pages`] with each page's Markdown, read in the same walk of the tree.
    pub async fn list_wiki_pages_with_content(
        &self,
        access: impl Into<WikiAccess<'_>>,
    ) -> CoreResult<Vec<(WikiPageSummary, String)>> {
        let access: WikiAccess<'_> = access.into();
        let pages = self.walk_wiki_pages(access, true).await?;
        Ok(pages.into_iter().map(|(page, content)| (page, content.unwrap_or_default())).collect())
    }

    async fn walk_wiki_pages(
        &self,
        access: WikiAccess<'_>,
        with_content: bool,
    ) -> CoreResult<Vec<(WikiPageSummary, Option<String>)>> {
        access.require_read()?;
        let Some(tip) = self.wiki_tip(access).await? else { return Ok(Vec::new()) };
        let (repos, wiki) = (self.repos.clone(), access.repo());
        let mut pages = tokio::task::spawn_blocking(move || -> CoreResult<Vec<(WikiPageSummary, Option<String>)>> {
            let reader = repos.reader(wiki)?;
            let walk = reader.files_within(&tip, MAX_LISTED * 4, 8 << 20)?;
            let mut pages = Vec::new();
            for file in &walk.files {
                let Some(page) = WikiPageSummary::from_path(&file.path) else { continue };
                let content = if with_content {
                    let (_, bytes) = reader.blob_if_small(&file.id, MAX_PAGE_BYTES as u64)?;
                    Some(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default())
                } else {
                    None
                };
                pages.push((page, content));
                if pages.len() == MAX_LISTED {
                    break;
                }
            }
            Ok(pages)
        })
        .await
        .map_err(blocking_error)??;
        pages.sort_by(|(a, _), (b, _)| a.slug.to_lowercase().cmp(&b.slug.to_lowercase()).then(a.slug.cmp(&b.slug)));
        Ok(pages)
    }

    /// A page, at its latest version or at `version` (a commit id from its history).
    pub async fn find_wiki_page(
        &self,
        access: impl Into<WikiAccess<'_>>,
        slug: &str,
        version: Option<&str>,
    ) -> CoreResult<WikiPage> {
        let access: WikiAccess<'_> = access.into();
        access.require_read()?;
        let slug = checked_slug(slug)?.to_owned();
        let Some(tip) = self.wiki_tip(access).await? else { return Err(CoreError::NotFound("wiki page")) };
        let version = version.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        if version.as_deref().is_some_and(|v| !(7..=40).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(CoreError::NotFound("wiki page version"));
        }
        let (repos, wiki) = (self.repos.clone(), access.repo());
        tokio::task::spawn_blocking(move || -> CoreResult<WikiPage> {
            let reader = repos.reader(wiki)?;
            let at = match &version {
                // A version is a commit of the branch's history, never any object of the store.
                Some(version) => {
                    let commit = reader.resolve(version)?.ok_or(CoreError::NotFound("wiki page version"))?;
                    if !reader.history(&tip, None, 0, usize::MAX)?.0.iter().any(|c| c.id == commit) {
                        return Err(CoreError::NotFound("wiki page version"));
                    }
                    commit
                }
                None => tip,
            };
            for ending in PAGE_ENDINGS {
                let path = format!("{slug}{ending}");
                let Some(PathObject::Blob(blob)) = reader.object_at(&at, &path)? else { continue };
                let summary = WikiPageSummary::from_path(&path).ok_or(CoreError::NotFound("wiki page"))?;
                let content = String::from_utf8_lossy(&blob.data).into_owned();
                let changed = reader.history(&at, Some(&path), 0, 1)?.0.into_iter().next();
                let version = changed.unwrap_or_else(|| reader.commit(&at).unwrap_or_default());
                return Ok(WikiPage { summary, content, version });
            }
            Err(CoreError::NotFound("wiki page"))
        })
        .await
        .map_err(blocking_error)?
    }

    /// The sidebar's Markdown, when the wiki has one.
    pub async fn wiki_sidebar(&self, access: impl Into<WikiAccess<'_>>) -> CoreResult<Option<String>> {
        let access: WikiAccess<'_> = access.into();
        match self.find_wiki_page(access, SIDEBAR, None).await {
            Ok(page) => Ok(Some(page.content)),
            Err(CoreError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The versions of a page, newest first: `skip` and at most `limit` of them, and whether
    /// more follow.
    pub async fn wiki_page_history(
        &self,
        access: impl Into<WikiAccess<'_>>,
        slug: &str,
        skip: usize,
        limit: usize,
    ) -> CoreResult<(WikiPage, Vec<CommitSummary>, bool)> {
        let access: WikiAccess<'_> = access.into();
        let page = self.find_wiki_page(access, slug, None).await?;
        let tip = self.wiki_tip(access).await?.ok_or(CoreError::NotFound("wiki page"))?;
        let (repos, wiki, path) = (self.repos.clone(), access.repo(), page.summary.path.clone());
        let (commits, more) =
            tokio::task::spawn_blocking(move || repos.reader(wiki)?.history(&tip, Some(&path), skip, limit))
                .await
                .map_err(blocking_error)??;
        Ok((page, commits, more))
    }

    /// What one version of a page changed in it (against the version before).
    pub async fn wiki_page_diff(
        &self,
        access: impl Into<WikiAccess<'_>>,
        slug: &str,
        version: &str,
    ) -> CoreResult<(WikiPage, Vec<gantry_git::diff::FileDiff>)> {
        let access: WikiAccess<'_> = access.into();
        let page = self.find_wiki_page(access, slug, Some(version)).await?;
        let wiki = access.repo();
        let diff = self.repos.commit_diff(wiki, &page.version.id).await?;
        let path = &page.summary.path;
        let files = diff.files.into_iter().filter(|f| &f.new_path == path || &f.old_path == path).collect();
        Ok((page, files))
    }

    /// A file of the wiki that is not a page (an attachment), at the branch's tip: its bytes
    /// when it is small enough to load, `None` when there is no such file.
    pub async fn wiki_file(
        &self,
        access: impl Into<WikiAccess<'_>>,
        path: &str,
    ) -> CoreResult<Option<gantry_git::read::Blob>> {
        let access: WikiAccess<'_> = access.into();
        access.require_read()?;
        let path = checked_slug(path).map_err(|_| CoreError::NotFound("file"))?.to_owned();
        if WikiPageSummary::from_path(&path).is_some() {
            return Ok(None);
        }
        let Some(tip) = self.wiki_tip(access).await? else { return Ok(None) };
        let (repos, wiki) = (self.repos.clone(), access.repo());
        let found = tokio::task::spawn_blocking(move || repos.reader(wiki)?.object_at(&tip, &path))
            .await
            .map_err(blocking_error)??;
        Ok(match found {
            Some(PathObject::Blob(blob)) if blob.is_complete() => Some(blob),
            _ => None,
        })
    }

    /// Writes a new page as the actor.
    pub async fn create_wiki_page(
        &self,
        access: impl Into<WikiAccess<'_>>,
        input: &WikiPageInput,
    ) -> CoreResult<WikiPage> {
        let access: WikiAccess<'_> = access.into();
        access.require_edit()?;
        check_format(input.format.as_deref())?;
        let slug = slug_for_title(input.title.as_deref().unwrap_or_default())?;
        let content = input.content.as_deref().unwrap_or_default();
        check_content(content)?;
        let title = title_of(&slug);
        let message = self.wiki_message(access, input.message.as_deref(), "created page", &title)?;
        let path = format!("{slug}{}", PAGE_ENDINGS[0]);
        self.write_wiki(access, &message, Change::Create { path, content }, None).await?;
        self.find_wiki_page(access, &slug, None).await
    }

    /// Changes a page's content, title (which moves it) or both.
    pub async fn update_wiki_page(
        &self,
        access: impl Into<WikiAccess<'_>>,
        slug: &str,
        input: &WikiPageInput,
    ) -> CoreResult<WikiPage> {
        let access: WikiAccess<'_> = access.into();
        access.require_edit()?;
        check_format(input.format.as_deref())?;
        let page = self.find_wiki_page(access, slug, None).await?;
        let new_slug = match input.title.as_deref() {
            Some(title) => slug_for_title(title)?,
            None => page.summary.slug.clone(),
        };
        let content = input.content.as_deref().unwrap_or(&page.content);
        check_content(content)?;
        let message = self.wiki_message(access, input.message.as_deref(), "updated page", &title_of(&new_slug))?;
        let from = page.summary.path.clone();
        let ending = PAGE_ENDINGS.iter().find(|e| from.ends_with(*e)).copied().unwrap_or(PAGE_ENDINGS[0]);
        let to = format!("{new_slug}{ending}");
        let version = input.last_commit_sha.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let version = version.unwrap_or(&page.version.id).to_owned();
        let unchanged = Some((page.summary.path.as_str(), version.as_str()));
        self.write_wiki(access, &message, Change::Update { from, to, content }, unchanged).await?;
        self.find_wiki_page(access, &new_slug, None).await
    }

    /// Deletes a page (its history stays in the repository).
    pub async fn delete_wiki_page(&self, access: impl Into<WikiAccess<'_>>, slug: &str) -> CoreResult<WikiPageSummary> {
        let access: WikiAccess<'_> = access.into();
        access.require_edit()?;
        let page = self.find_wiki_page(access, slug, None).await?;
        let message = self.wiki_message(access, None, "deleted page", &page.summary.title)?;
        let unchanged = Some((page.summary.path.as_str(), page.version.id.as_str()));
        self.write_wiki(access, &message, Change::Delete { path: page.summary.path.clone() }, unchanged).await?;
        Ok(page.summary)
    }

    /// Adds a file to the wiki under `uploads/<random>/`, to be linked from pages.
    pub async fn upload_wiki_attachment(
        &self,
        access: impl Into<WikiAccess<'_>>,
        file_name: &str,
        data: &[u8],
    ) -> CoreResult<WikiAttachment> {
        let access: WikiAccess<'_> = access.into();
        access.require_edit()?;
        let file_name = attachment_name(file_name)?;
        if data.len() > MAX_ATTACHMENT_BYTES {
            return Err(CoreError::invalid("file", format!("is larger than {} MiB", MAX_ATTACHMENT_BYTES >> 20)));
        }
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|error| CoreError::Internal(Box::new(std::io::Error::other(error))))?;
        let file_path = format!("{UPLOADS}/{}/{file_name}", hex::encode(random));
        let message = self.wiki_message(access, None, "uploaded wiki file", &file_name)?;
        let commit = self.write_wiki(access, &message, Change::Attach { path: file_path.clone(), data }, None).await?;
        Ok(WikiAttachment { file_name, file_path, branch: WIKI_BRANCH.to_owned(), commit })
    }

    /// The commit message: the one given, or GitLab's (`ada created page: Home`).
    fn wiki_message(&self, access: WikiAccess<'_>, given: Option<&str>, did: &str, what: &str) -> CoreResult<String> {
        let user = access.actor().require_user()?;
        let given = given.map(str::trim).filter(|m| !m.is_empty());
        let mut message = given.map_or_else(|| format!("{} {did}: {what}", user.username), str::to_owned);
        message.push('\n');
        Ok(message)
    }

    /// Makes one commit of `change` on the branch's tip and moves the branch to it, again on the
    /// new tip when another write moved it meanwhile. Returns the commit.
    /// `unchanged` is a page's file and the version it was read at: when another write changed
    /// that file since, nothing is written and the writer is told.
    async fn write_wiki(
        &self,
        access: WikiAccess<'_>,
        message: &str,
        change: Change<'_>,
        unchanged: Option<(&str, &str)>,
    ) -> CoreResult<String> {
        if let WikiAccess::Project(project) = access
            && project.project().archived
        {
            return Err(CoreError::Forbidden("this project is archived: its wiki is read-only".to_owned()));
        }
        let user = access.actor().require_user()?;
        let author =
            Author { name: if user.name.is_empty() { &user.username } else { &user.name }, email: &user.email };
        let owner = access.owner();
        self.ensure_wiki(owner).await?;
        let wiki = access.repo();
        let branch = format!("refs/heads/{WIKI_BRANCH}");
        let actions = match &change {
            Change::Create { path, content } => {
                vec![FileAction::Create { path, content: content.as_bytes(), executable: false }]
            }
            Change::Update { from, to, content } if from == to => {
                vec![FileAction::Update { path: to, content: content.as_bytes(), executable: None }]
            }
            Change::Update { from, to, content } => {
                vec![FileAction::Move { from, to, content: Some(content.as_bytes()) }]
            }
            Change::Delete { path } => vec![FileAction::Delete { path }],
            Change::Attach { path, data } => vec![FileAction::Create { path, content: data, executable: false }],
        };
        for _ in 0..SAVE_ATTEMPTS {
            let tip = self.repos.ref_target(wiki, &branch).await?;
            if let (Some((path, version)), Some(tip)) = (unchanged, &tip) {
                let (repos, tip, path) = (self.repos.clone(), tip.clone(), path.to_owned());
                let last = tokio::task::spawn_blocking(move || repos.reader(wiki)?.history(&tip, Some(&path), 0, 1))
                    .await
                    .map_err(blocking_error)??;
                if last.0.first().is_none_or(|commit| !commit.id.starts_with(version)) {
                    return Err(CoreError::Conflict(
                        "someone changed this page while you were editing it: look at its latest version and make \
                         your change again"
                            .to_owned(),
                    ));
                }
            }
            let commit =
                self.repos.commit_actions(wiki, tip.as_deref(), &actions, message, &author).await.map_err(|error| {
                    match error {
                        WriteError::AlreadyExists(_) | WriteError::FolderExists(_) => {
                            CoreError::Refused("Duplicate page: a page with that title already exists".to_owned())
                        }
                        WriteError::DoesNotExist(_) => CoreError::NotFound("wiki page"),
                        WriteError::InsideAFile { file, .. } => {
                            CoreError::Refused(format!("{file} is a page, so it cannot also be a folder"))
                        }
                        WriteError::Git(error) => error.into(),
                    }
                })?;
            let old = tip.as_deref().unwrap_or(ZERO_OID);
            if self.repos.update_ref(wiki, &branch, old, &commit).await? {
                tracing::info!(wiki = %owner, commit = %commit, "wiki changed");
                self.index_wiki_after_save(owner).await;
                return Ok(commit);
            }
        }
        Err(CoreError::Conflict("the wiki is being changed by someone else right now; try again".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_make_slugs_and_slugs_read_back_as_titles() {
        assert_eq!(slug_for_title("  Getting  started ").unwrap(), "Getting-started");
        assert_eq!(slug_for_title("docs / Deploy on Tuesday").unwrap(), "docs/Deploy-on-Tuesday");
        assert_eq!(slug_for_title("_sidebar").unwrap(), "_sidebar");
        assert_eq!(slug_for_title("Café ünïcode").unwrap(), "Café-ünïcode");
        for bad in ["", "a//b", "/a", "../etc", ".git/config", "a/-/b", "uploads/x", "_hidden", "a?b", "a%2e", "x\ny"] {
            assert!(slug_for_title(bad).is_err(), "{bad:?} was taken");
        }
        let page = WikiPageSummary::from_path("docs/Getting-started.md").unwrap();
        assert_eq!(
            (page.slug.as_str(), page.title.as_str(), page.folder()),
            ("docs/Getting-started", "Getting started", "docs")
        );
        assert!(WikiPageSummary::from_path("uploads/ab/notes.md").is_none());
        assert!(WikiPageSummary::from_path("picture.png").is_none());
        assert!(WikiPageSummary::from_path("old.markdown").is_some());
    }

    #[test]
    fn attachment_names_are_cleaned() {
        assert_eq!(attachment_name("C:\\Users\\ada\\shot (1).png").unwrap(), "shot _1_.png");
        assert_eq!(attachment_name("../../.hidden").unwrap(), "hidden");
        assert!(attachment_name("dir/").is_err());
        assert_eq!(attachment_markdown("a].png", "uploads/x/a].png"), "![a\\].png](uploads/x/a].png)");
        assert_eq!(attachment_markdown("notes.txt", "uploads/x/notes.txt"), "[notes.txt](uploads/x/notes.txt)");
    }
}
