//! The wiki pages of a project or a group (`/{path}/-/wikis…`): a page with the sidebar (`_sidebar`, or the list of
//! pages), all pages by folder, a new page and the edit form (Markdown, a commit message, and a
//! file to attach, whose link is added to the page), a page's history, what one version
//! changed, an old version, deleting (after a page that asks), and the attachments' bytes with
//! the raw file headers (nothing of a wiki is rendered by the browser as a page of this site).
//!
//! Page paths hold slashes, so one route takes everything under `/-/wikis/`: `-/pages` and
//! `-/new` are the wiki's own pages, `<page>/-/edit`, `/-/history`, `/-/diff` and `/-/delete` a
//! page's, and the rest is a page or an attachment (`-` is never a page or folder name). The
//! forms that write are in `wiki/edit.rs`. A project's pages are framed as the project's; a
//! group's carry the group's trail.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::manage::groups::Lookup;
use gantry_core::plan::references::{Resolutions, references_in};
use gantry_core::plan::wiki::{self, WikiAccess, WikiPage, WikiPageSummary};
use gantry_core::policy::GroupAccess;
use serde::Deserialize;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::markup::links::RepositoryLinks;
use crate::markup::render_markdown_with;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::time_format::ago;
use crate::ui::code::{CommitLine, url_path};
use crate::ui::history::{FileRow, file_rows};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, render};

mod edit;

pub use edit::{group_post, post};

/// Versions a history page shows.
const HISTORY_PAGE: usize = 30;

/// A page in the sidebar's list or the pages page.
pub struct PageLink {
    pub title: String,
    pub href: String,
    /// How deep in folders (for indenting).
    pub depth: usize,
    /// The folder heading shown before this page, when it starts a new folder.
    pub folder: Option<String>,
}

/// The side column: the wiki's `_sidebar` rendered, or the list of its pages.
pub enum Sidebar {
    Custom(String),
    Pages(Vec<PageLink>),
}

/// Whose wiki the pages show.
enum Place {
    /// A project's, framed as its pages.
    Project(Box<ProjectFrame>),
    /// A group's.
    Group(Box<GroupAccess>),
}

/// Where the wiki lives and what the visitor may do there.
pub struct Wiki {
    place: Place,
    /// The project's or group's path.
    pub path: String,
    /// The project's or group's name.
    pub name: String,
    /// The group's trail, for a group's wiki.
    pub crumbs: Vec<Crumb>,
    /// `/<path>/-/wikis`
    pub base: String,
    pub can_edit: bool,
    pub http_url: String,
    pub ssh_url: String,
}

impl Wiki {
    /// A project's wiki, for a visitor who may read it.
    async fn of_project(state: &AppState, visitor: &PageActor, target: ProjectTarget) -> Result<Wiki, PageError> {
        let frame = ProjectFrame::load(state, visitor, target).await?;
        let (path, name) = (frame.project.full_path.clone(), frame.project.name.clone());
        Wiki::new(state, visitor, Place::Project(Box::new(frame)), path, name, Vec::new())
    }

    /// A group's wiki, for a visitor who may read it.
    async fn of_group(state: &AppState, visitor: &PageActor, target: NamespaceTarget) -> Result<Wiki, PageError> {
        let access =
            state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
        let chain = state.core.manage().namespace_chain(access.group().id).await?;
        let (path, name) = (access.group().full_path.clone(), access.group().name.clone());
        Wiki::new(state, visitor, Place::Group(Box::new(access)), path, name, breadcrumbs(&chain, None))
    }

    fn new(
        state: &AppState,
        visitor: &PageActor,
        place: Place,
        path: String,
        name: String,
        crumbs: Vec<Crumb>,
    ) -> Result<Wiki, PageError> {
        let mut wiki = Wiki {
            place,
            base: format!("/{path}/-/wikis"),
            can_edit: false,
            http_url: format!("{}/{path}.wiki.git", state.config.external_url),
            ssh_url: format!("ssh://git@{}/{path}.wiki.git", state.config.ssh_host),
            path,
            name,
            crumbs,
        };
        wiki.access().require_read().map_err(|e| visitor.error(e))?;
        wiki.can_edit = wiki.access().can_edit();
        Ok(wiki)
    }

    /// Who may do what to this wiki.
    fn access(&self) -> WikiAccess<'_> {
        match &self.place {
            Place::Project(frame) => (&frame.access).into(),
            Place::Group(access) => access.as_ref().into(),
        }
    }

    /// Refuses a visitor who may not write the wiki.
    fn require_edit(&self, visitor: &PageActor) -> Result<(), PageError> {
        self.access().require_edit().map_err(|e| visitor.error(e))
    }

    /// The project's frame, for a project's wiki.
    pub fn project(&self) -> Option<&ProjectFrame> {
        match &self.place {
            Place::Project(frame) => Some(frame),
            Place::Group(_) => None,
        }
    }

    /// The URL of a page (or attachment) by its slug.
    pub fn href(&self, slug: &str) -> String {
        format!("{}/{}", self.base, url_path(slug))
    }
}

fn page_links(wiki: &Wiki, pages: &[WikiPageSummary]) -> Vec<PageLink> {
    let mut last_folder = String::new();
    pages
        .iter()
        .filter(|page| !page.is_sidebar())
        .map(|page| {
            let folder = page.folder();
            let heading = (folder != last_folder && !folder.is_empty()).then(|| folder.to_owned());
            last_folder = folder.to_owned();
            PageLink {
                title: page.title.clone(),
                href: wiki.href(&page.slug),
                depth: if folder.is_empty() { 0 } else { 1 },
                folder: heading,
            }
        })
        .collect()
}

/// Renders a page's Markdown: links between pages and to attachments lead into the wiki, and
/// references (`#12`, `@ada`) are resolved for the visitor.
/// A group's wiki resolves references (`group/project#12`, `@ada`) from no project.
async fn render_page(
    state: &AppState,
    visitor: &PageActor,
    wiki: &Wiki,
    text: &str,
    folder: &str,
) -> Result<String, PageError> {
    let references = references_in(text);
    let resolved = if references.is_empty() {
        Resolutions::new()
    } else {
        let project = wiki.project().map(|frame| &frame.access);
        state
            .core
            .plan()
            .resolve_references(wiki.access().actor(), project, &references)
            .await
            .map_err(|e| visitor.error(e))?
    };
    let links = RepositoryLinks::wiki(&wiki.path, folder);
    Ok(render_markdown_with(text, Some(&links), &resolved))
}

async fn sidebar(state: &AppState, visitor: &PageActor, wiki: &Wiki) -> Result<Sidebar, PageError> {
    let plan = state.core.plan();
    if let Some(text) = plan.wiki_sidebar(wiki.access()).await.map_err(|e| visitor.error(e))? {
        return Ok(Sidebar::Custom(render_page(state, visitor, wiki, &text, "").await?));
    }
    let pages = plan.list_wiki_pages(wiki.access()).await.map_err(|e| visitor.error(e))?;
    Ok(Sidebar::Pages(page_links(wiki, &pages)))
}

#[derive(Template)]
#[template(path = "wiki/show.html")]
struct ShowPage {
    chrome: Chrome,
    tab: &'static str,
    wiki: Wiki,
    sidebar: Sidebar,
    slug: String,
    title: String,
    html: String,
    empty: bool,
    /// Who changed it last, and when.
    changed: String,
    /// Shown at an old version: that version's short id.
    old_version: Option<String>,
}

#[derive(Template)]
#[template(path = "wiki/pages.html")]
struct PagesPage {
    chrome: Chrome,
    tab: &'static str,
    wiki: Wiki,
    pages: Vec<PageLink>,
}

/// What the page form shows (again, after a refusal).
#[derive(Default)]
pub struct PageDraft {
    pub title: String,
    pub content: String,
    pub message: String,
    pub last_commit_sha: String,
}

#[derive(Template)]
#[template(path = "wiki/form.html")]
struct FormPage {
    chrome: Chrome,
    tab: &'static str,
    wiki: Wiki,
    /// The page edited; `None` for a new page.
    slug: Option<String>,
    draft: PageDraft,
    error: Option<String>,
    /// A link to a page that does not exist yet led here.
    missing: bool,
    max_attachment: String,
}

#[derive(Template)]
#[template(path = "wiki/history.html")]
struct HistoryPage {
    chrome: Chrome,
    tab: &'static str,
    wiki: Wiki,
    slug: String,
    title: String,
    versions: Vec<CommitLine>,
    next: Option<String>,
    previous: Option<String>,
}

#[derive(Template)]
#[template(path = "wiki/diff.html")]
struct DiffPage {
    chrome: Chrome,
    tab: &'static str,
    wiki: Wiki,
    slug: String,
    title: String,
    version: CommitLine,
    files: Vec<FileRow>,
    additions: usize,
    deletions: usize,
    truncated: bool,
}

#[derive(Template)]
#[template(path = "wiki/delete.html")]
struct DeletePage {
    chrome: Chrome,
    tab: &'static str,
    wiki: Wiki,
    slug: String,
    title: String,
}

/// What a URL under `/-/wikis/` asks for.
enum Target<'a> {
    Pages,
    New,
    Page(&'a str),
    Edit(&'a str),
    History(&'a str),
    Diff(&'a str),
    Delete(&'a str),
}

fn target(rest: &str) -> Option<Target<'_>> {
    let rest = rest.trim_matches('/');
    match rest {
        "-/pages" => return Some(Target::Pages),
        "-/new" => return Some(Target::New),
        _ => {}
    }
    if let Some((slug, action)) = rest.rsplit_once("/-/") {
        return match action {
            "edit" => Some(Target::Edit(slug)),
            "history" => Some(Target::History(slug)),
            "diff" => Some(Target::Diff(slug)),
            "delete" => Some(Target::Delete(slug)),
            _ => None,
        };
    }
    (!rest.is_empty() && !rest.starts_with("-/")).then_some(Target::Page(rest))
}

#[derive(Debug, Default, Deserialize)]
pub struct WikiQuery {
    #[serde(default)]
    version_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    page: Option<usize>,
}

/// `GET /{project}/-/wikis`: the home page, or the list of pages when there is no home, or
/// the way to write the first page.
pub async fn index(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let wiki = Wiki::of_project(&state, &visitor, target).await?;
    home(&state, &visitor, wiki).await
}

/// `GET /{group}/-/wikis`: as a project's.
pub async fn group_index(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    let wiki = Wiki::of_group(&state, &visitor, target).await?;
    home(&state, &visitor, wiki).await
}

async fn home(state: &AppState, visitor: &PageActor, wiki: Wiki) -> PageResult {
    match state.core.plan().find_wiki_page(wiki.access(), wiki::HOME, None).await {
        Ok(page) => show_page(state, visitor, wiki, page, None).await,
        Err(CoreError::NotFound(_)) => pages(state, visitor, wiki).await,
        Err(error) => Err(visitor.error(error)),
    }
}

/// `GET /{project}/-/wikis/{*rest}`
pub async fn get(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(rest): Path<String>,
    Query(query): Query<WikiQuery>,
) -> PageResult {
    let wiki = Wiki::of_project(&state, &visitor, target).await?;
    get_in(&state, &visitor, wiki, &rest, query).await
}

/// `GET /{group}/-/wikis/{*rest}`: as a project's.
pub async fn group_get(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(rest): Path<String>,
    Query(query): Query<WikiQuery>,
) -> PageResult {
    let wiki = Wiki::of_group(&state, &visitor, target).await?;
    get_in(&state, &visitor, wiki, &rest, query).await
}

async fn get_in(state: &AppState, visitor: &PageActor, wiki: Wiki, rest: &str, query: WikiQuery) -> PageResult {
    let plan = state.core.plan();
    let not_found = || visitor.error(CoreError::NotFound("wiki page"));
    match target(rest).ok_or_else(not_found)? {
        Target::Pages => pages(state, visitor, wiki).await,
        Target::New => {
            wiki.require_edit(visitor)?;
            let draft = PageDraft { title: query.title.unwrap_or_default(), ..PageDraft::default() };
            form(visitor, wiki, None, draft, None, false)
        }
        Target::Page(slug) => {
            match plan.find_wiki_page(wiki.access(), slug, query.version_id.as_deref()).await {
                Ok(page) => {
                    let old = query.version_id.as_deref().filter(|v| !v.is_empty()).map(|_| page.version.id.clone());
                    show_page(state, visitor, wiki, page, old).await
                }
                Err(CoreError::NotFound(_)) if query.version_id.is_none() => {
                    if let Some(blob) = plan.wiki_file(wiki.access(), slug).await.map_err(|e| visitor.error(e))? {
                        return Ok(crate::ui::code::blob::uploaded_file_response(slug, blob.data));
                    }
                    // A link to a page not written yet: who may write it gets the form.
                    if !wiki.can_edit || wiki::slug_for_title(slug).is_err() {
                        return Err(not_found());
                    }
                    let draft = PageDraft { title: slug.replace('-', " "), ..PageDraft::default() };
                    form(visitor, wiki, None, draft, None, true)
                }
                Err(error) => Err(visitor.error(error)),
            }
        }
        Target::Edit(slug) => {
            wiki.require_edit(visitor)?;
            let page = plan.find_wiki_page(wiki.access(), slug, None).await.map_err(|e| visitor.error(e))?;
            let draft = PageDraft {
                title: page.summary.slug.replace('-', " "),
                content: page.content,
                message: String::new(),
                last_commit_sha: page.version.id,
            };
            form(visitor, wiki, Some(page.summary.slug), draft, None, false)
        }
        Target::History(slug) => {
            let skip = query.page.unwrap_or(1).max(1);
            let (page, commits, more) = plan
                .wiki_page_history(wiki.access(), slug, (skip - 1) * HISTORY_PAGE, HISTORY_PAGE)
                .await
                .map_err(|e| visitor.error(e))?;
            let now = gantry_core::now_millis();
            let href = format!("{}/-/history", wiki.href(&page.summary.slug));
            let view = HistoryPage {
                chrome: Chrome::new(visitor),
                tab: "wiki",
                slug: page.summary.slug.clone(),
                title: page.summary.title.clone(),
                versions: commits.iter().map(|c| CommitLine::new(c, now)).collect(),
                next: more.then(|| format!("{href}?page={}", skip + 1)),
                previous: (skip > 1).then(|| format!("{href}?page={}", skip - 1)),
                wiki,
            };
            render(StatusCode::OK, &view)
        }
        Target::Diff(slug) => {
            let version = query.version_id.as_deref().unwrap_or_default();
            let (page, files) =
                plan.wiki_page_diff(wiki.access(), slug, version).await.map_err(|e| visitor.error(e))?;
            let diff = gantry_git::diff::Diff { files, truncated: false };
            let (additions, deletions) = (diff.additions(), diff.deletions());
            let mut files = file_rows(diff, &wiki.path, &page.version.id);
            for file in &mut files {
                file.view_href = None;
            }
            let now = gantry_core::now_millis();
            let view = DiffPage {
                chrome: Chrome::new(visitor),
                tab: "wiki",
                slug: page.summary.slug.clone(),
                title: page.summary.title.clone(),
                version: CommitLine::new(&page.version, now),
                files,
                additions,
                deletions,
                truncated: false,
                wiki,
            };
            render(StatusCode::OK, &view)
        }
        Target::Delete(slug) => {
            wiki.require_edit(visitor)?;
            let page = plan.find_wiki_page(wiki.access(), slug, None).await.map_err(|e| visitor.error(e))?;
            let view = DeletePage {
                chrome: Chrome::new(visitor),
                tab: "wiki",
                slug: page.summary.slug,
                title: page.summary.title,
                wiki,
            };
            render(StatusCode::OK, &view)
        }
    }
}

async fn show_page(
    state: &AppState,
    visitor: &PageActor,
    wiki: Wiki,
    page: WikiPage,
    old_version: Option<String>,
) -> PageResult {
    let html = render_page(state, visitor, &wiki, &page.content, page.summary.folder()).await?;
    let sidebar = sidebar(state, visitor, &wiki).await?;
    let now = gantry_core::now_millis();
    let view = ShowPage {
        chrome: Chrome::new(visitor),
        tab: "wiki",
        sidebar,
        slug: page.summary.slug.clone(),
        title: page.summary.title.clone(),
        empty: page.content.trim().is_empty(),
        html,
        changed: format!(
            "Last edited by {} {}",
            page.version.author_name,
            ago(page.version.committed_date.saturating_mul(1000), now)
        ),
        old_version: old_version.map(|v| v.chars().take(8).collect()),
        wiki,
    };
    render(StatusCode::OK, &view)
}

async fn pages(state: &AppState, visitor: &PageActor, wiki: Wiki) -> PageResult {
    let pages = state.core.plan().list_wiki_pages(wiki.access()).await.map_err(|e| visitor.error(e))?;
    let view = PagesPage { chrome: Chrome::new(visitor), tab: "wiki", pages: page_links(&wiki, &pages), wiki };
    render(StatusCode::OK, &view)
}

fn form(
    visitor: &PageActor,
    wiki: Wiki,
    slug: Option<String>,
    draft: PageDraft,
    failure: Option<(StatusCode, String)>,
    missing: bool,
) -> PageResult {
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None if missing => (StatusCode::NOT_FOUND, None),
        None => (StatusCode::OK, None),
    };
    let view = FormPage {
        chrome: Chrome::new(visitor),
        tab: "wiki",
        wiki,
        slug,
        draft,
        error,
        missing,
        max_attachment: crate::ui::human_size(wiki::MAX_ATTACHMENT_BYTES),
    };
    render(status, &view)
}
