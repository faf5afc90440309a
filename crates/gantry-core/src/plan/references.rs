//! References in Markdown, as GitLab reads them — `#12`, `group/project#3`, `&4` and
//! `group&4` (epics), `@user` or
//! `@group`, `%milestone` and `%"two words"`, `~label` and `~"scoped::label"`, commit SHAs —
//! found in the text of the document (never in code, links or images), and resolved for one
//! viewer: a reference they may not see (a confidential issue, a private project) stays plain
//! text. Rendering turns the resolved ones into links with titles (`gantry-web`'s `markup`);
//! an issue naming another leaves a "mentioned in" note on it ([`cross_reference_body`]).

use std::collections::HashMap;
use std::ops::Range;

use comrak::nodes::{AstNode, NodeValue};
use gantry_db::manage::namespaces::NamespaceKey;
use gantry_db::manage::projects::ProjectKey;
use gantry_db::manage::users::find_user_by_username;
use gantry_db::plan::labels as labels_db;
use gantry_types::IssueState;

use super::issues::load_issue;
use crate::policy::{GroupAccess, ProjectAccess, ProjectAction};
use gantry_db::Conn;

use crate::{Actor, CoreError, CoreResult};

/// Most references one text is read for; the rest stay plain text.
pub const MAX_REFERENCES: usize = 100;

/// Most commit ids one text looks up in the repository.
const MAX_COMMITS: usize = 20;

/// The Markdown dialect of every text users write (GitHub's), for parsing and rendering alike.
pub fn markdown_options() -> comrak::Options<'static> {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options.extension.header_id_prefix = Some(String::from("user-content-"));
    options
}

/// A reference as written; a project or group of `None` is the one the text belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// `#12`, `api#12` (a project of the same namespace), `acme/api#12`.
    Issue { project: Option<String>, iid: i64 },
    /// `&3` (an epic of the text's group: a project's namespace, an epic's group), `acme&3`.
    Epic { group: Option<String>, iid: i64 },
    /// `@ada` or `@acme/platform`: a user, else a group.
    Mention(String),
    /// `%v1`, `%"Sprint 3"`.
    Milestone(String),
    /// `~bug`, `~"needs review"`, `~priority::high`.
    Label(String),
    /// 7 to 40 hex digits.
    Commit(String),
}

/// A reference and where it stands in a piece of text (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub range: Range<usize>,
    pub reference: Reference,
}

/// What a resolved reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    Issue,
    Epic,
    User,
    Group,
    Milestone,
    Label,
    Commit,
}

impl ReferenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Issue => "issue",
            ReferenceKind::Epic => "epic",
            ReferenceKind::User => "user",
            ReferenceKind::Group => "group",
            ReferenceKind::Milestone => "milestone",
            ReferenceKind::Label => "label",
            ReferenceKind::Commit => "commit",
        }
    }
}

/// A reference the viewer may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub kind: ReferenceKind,
    /// Where it leads (a path on this server).
    pub href: String,
    /// What a pointer resting on it shows: the issue's or commit's title, the person's name.
    pub title: String,
    /// A closed issue or milestone.
    pub closed: bool,
    /// A label's colour (`#rrggbb`).
    pub color: Option<String>,
}

/// The references of a set of texts a viewer may follow.
pub type Resolutions = HashMap<Reference, Resolved>;

pub use super::reference_scan::scan;

/// Calls `visit` with every text node a reference may stand in: not in code, links, images or
/// raw HTML (those are other nodes, or below a link).
pub fn for_each_text_node<'a>(root: &'a AstNode<'a>, mut visit: impl FnMut(&'a AstNode<'a>)) {
    for node in root.descendants() {
        if !matches!(node.data.borrow().value, NodeValue::Text(_)) {
            continue;
        }
        let in_link = node
            .ancestors()
            .skip(1)
            .any(|up| matches!(up.data.borrow().value, NodeValue::Link(_) | NodeValue::Image(_)));
        if !in_link {
            visit(node);
        }
    }
}

/// The references of a Markdown document, each once, in order.
pub fn references_in(markdown: &str) -> Vec<Reference> {
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, markdown, &markdown_options());
    let mut references: Vec<Reference> = Vec::new();
    for_each_text_node(root, |node| {
        if let NodeValue::Text(text) = &node.data.borrow().value {
            for found in scan(text) {
                if references.len() < MAX_REFERENCES && !references.contains(&found.reference) {
                    references.push(found.reference);
                }
            }
        }
    });
    references
}

/// The note an issue gets when another text names it: "mentioned in #5" (the same project)
/// or "mentioned in acme/api#5".
pub(crate) fn cross_reference_body(source_project: &str, source_iid: i64, target_project: &str) -> String {
    if source_project.eq_ignore_ascii_case(target_project) {
        format!("mentioned in #{source_iid}")
    } else {
        format!("mentioned in {source_project}#{source_iid}")
    }
}

/// The issue a "mentioned in" note names, if `body` is one.
pub(crate) fn cross_reference_source(body: &str) -> Option<Reference> {
    let rest = body.strip_prefix("mentioned in ")?;
    match scan(rest).into_iter().next() {
        Some(Found { range, reference: reference @ Reference::Issue { .. } }) if range == (0..rest.len()) => {
            Some(reference)
        }
        _ => None,
    }
}

/// The full path of the project a reference writes as `written` in a text of the project
/// `context`: a path with a `/` as it is, a bare name in the context's namespace.
pub(crate) fn project_path(written: &str, context: &str) -> String {
    if written.contains('/') {
        return written.to_owned();
    }
    let namespace = context.rsplit_once('/').map_or("", |(namespace, _)| namespace);
    format!("{namespace}/{written}")
}

/// Finds what references lead to, for one viewer, remembering the projects already read.
pub(crate) struct Resolver<'a> {
    actor: &'a Actor,
    /// The project the text belongs to, if any.
    context: Option<&'a ProjectAccess>,
    /// Projects by lowercased path: `None` when the viewer may not see them (or no such one).
    projects: HashMap<String, Option<ProjectAccess>>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(actor: &'a Actor, context: Option<&'a ProjectAccess>) -> Resolver<'a> {
        Resolver { actor, context, projects: HashMap::new() }
    }

    /// The project `written` names (relative to the context's namespace when it has no `/`).
    async fn project(&mut self, conn: &mut Conn, written: Option<&str>) -> CoreResult<Option<&ProjectAccess>> {
        let Some(written) = written else { return Ok(self.context) };
        let path = match (written.contains('/'), self.context) {
            (true, _) => written.to_owned(),
            (false, Some(context)) => project_path(written, &context.project().full_path),
            (false, None) => return Ok(None),
        };
        let key = path.to_lowercase();
        if self.context.is_some_and(|context| context.project().full_path.to_lowercase() == key) {
            return Ok(self.context);
        }
        if !self.projects.contains_key(&key) {
            let access = match ProjectAccess::load(conn, self.actor, ProjectKey::FullPath(&path)).await {
                Ok(access) => Some(access),
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => None,
                Err(error) => return Err(error),
            };
            self.projects.insert(key.clone(), access);
        }
        Ok(self.projects.get(&key).and_then(Option::as_ref))
    }

    /// The issue `reference` names, with its project's path, if the viewer may see it.
    pub(crate) async fn issue(
        &mut self,
        conn: &mut Conn,
        project: Option<&str>,
        iid: i64,
    ) -> CoreResult<Option<(ProjectAccess, super::issues::IssueView)>> {
        let Some(access) = self.project(conn, project).await? else { return Ok(None) };
        let access = access.clone();
        match load_issue(conn, &access, iid).await {
            Ok(view) => Ok(Some((access, view))),
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether the viewer may see the issue a reference names.
    pub(crate) async fn sees_issue(&mut self, conn: &mut Conn, reference: &Reference) -> CoreResult<bool> {
        match reference {
            Reference::Issue { project, iid } => Ok(self.issue(conn, project.as_deref(), *iid).await?.is_some()),
            _ => Ok(false),
        }
    }
}

/// Leaves "mentioned in" notes on the issues `text` names that `before` did not, when the
/// actor may see them (in the change's transaction): each issue once per source.
pub(crate) async fn leave_cross_references(
    conn: &mut Conn,
    access: &ProjectAccess,
    source: &super::issues::IssueView,
    text: &str,
    before: &str,
) -> CoreResult<()> {
    let named_before = references_in(before);
    let actor = access.actor();
    let Some(user) = actor.user() else { return Ok(()) };
    let mut resolver = Resolver::new(actor, Some(access));
    for reference in references_in(text).into_iter().filter(|reference| !named_before.contains(reference)) {
        let Reference::Issue { project, iid } = &reference else { continue };
        let Some((target, view)) = resolver.issue(conn, project.as_deref(), *iid).await? else { continue };
        if view.issue.id == source.issue.id {
            continue;
        }
        let source_path = &access.project().full_path;
        let body = cross_reference_body(source_path, source.issue.iid, &target.project().full_path);
        let noteable = gantry_db::plan::notes::Noteable::issue(view.issue.id);
        if !gantry_db::plan::notes::has_system_note(conn, noteable, &body).await? {
            super::issues::add_system_note(conn, target.project().id, view.issue.id, user.id, &body).await?;
        }
    }
    Ok(())
}

impl super::Plan<'_> {
    /// What `references` lead to for the actor, in texts of the project `context` (or of none):
    /// those they may not follow are left out.
    pub async fn resolve_references(
        &self,
        actor: &Actor,
        context: Option<&ProjectAccess>,
        references: &[Reference],
    ) -> CoreResult<Resolutions> {
        let group = context.map(|access| access.namespace().full_path.clone());
        self.resolve_references_at(actor, context, group.as_deref(), references).await
    }

    /// What `references` lead to for the actor in texts of a group (an epic's description):
    /// `&3` is an epic of that group; issues need their project's path.
    pub async fn resolve_group_references(
        &self,
        actor: &Actor,
        group: &GroupAccess,
        references: &[Reference],
    ) -> CoreResult<Resolutions> {
        self.resolve_references_at(actor, None, Some(&group.group().full_path), references).await
    }

    async fn resolve_references_at(
        &self,
        actor: &Actor,
        context: Option<&ProjectAccess>,
        group: Option<&str>,
        references: &[Reference],
    ) -> CoreResult<Resolutions> {
        let mut resolved = Resolutions::new();
        if references.is_empty() {
            return Ok(resolved);
        }
        let mut conn = self.db.conn().await?;
        let mut resolver = Resolver::new(actor, context);
        let sees_issues = context.is_some_and(|access| access.can(ProjectAction::ReadIssues));
        let mut labels = None;
        let mut milestones = None;
        let mut commits = Vec::new();
        for reference in references.iter().take(MAX_REFERENCES) {
            let found = match reference {
                Reference::Issue { project, iid } => {
                    resolver.issue(&mut conn, project.as_deref(), *iid).await?.map(|(access, view)| Resolved {
                        kind: ReferenceKind::Issue,
                        href: format!("/{}/-/issues/{iid}", access.project().full_path),
                        title: view.issue.title.clone(),
                        closed: view.issue.state == IssueState::Closed,
                        color: None,
                    })
                }
                Reference::Epic { group: written, iid } => {
                    let Some(path) = written.as_deref().or(group) else { continue };
                    drop(conn);
                    let epic = self.epic_for_reference(actor, path, *iid).await?;
                    conn = self.db.conn().await?;
                    epic.map(|view| Resolved {
                        kind: ReferenceKind::Epic,
                        href: format!("/{}/-/epics/{iid}", view.epic.group_path),
                        title: view.epic.title.clone(),
                        closed: view.epic.state == IssueState::Closed,
                        color: None,
                    })
                }
                Reference::Mention(name) => self.resolve_mention(&mut conn, actor, name).await?,
                Reference::Label(title) => {
                    let Some(access) = context.filter(|_| sees_issues) else { continue };
                    if labels.is_none() {
                        labels = Some(labels_db::list_project_labels(&mut conn, access.project().id).await?);
                    }
                    labels.iter().flatten().find(|label| label.title.eq_ignore_ascii_case(title)).map(|label| {
                        Resolved {
                            kind: ReferenceKind::Label,
                            href: format!(
                                "/{}/-/issues?label={}",
                                access.project().full_path,
                                percent_encoding::utf8_percent_encode(&label.title, percent_encoding::NON_ALPHANUMERIC)
                            ),
                            title: label.description.clone(),
                            closed: false,
                            color: Some(label.color.clone()),
                        }
                    })
                }
                Reference::Milestone(title) => {
                    let Some(access) = context.filter(|_| sees_issues) else { continue };
                    if milestones.is_none() {
                        drop(conn);
                        milestones = Some(self.milestones_for_issues(access).await?);
                        conn = self.db.conn().await?;
                    }
                    milestones.iter().flatten().find(|milestone| milestone.title == *title).map(|milestone| Resolved {
                        kind: ReferenceKind::Milestone,
                        href: format!("/{}/-/milestones/{}", milestone.owner_path, milestone.iid),
                        title: milestone.title.clone(),
                        closed: milestone.state == gantry_db::plan::milestones::MilestoneState::Closed,
                        color: None,
                    })
                }
                Reference::Commit(sha) => {
                    if commits.len() < MAX_COMMITS {
                        commits.push(sha.clone());
                    }
                    continue;
                }
            };
            if let Some(found) = found {
                resolved.insert(reference.clone(), found);
            }
        }
        drop(conn);
        if let Some(access) = context.filter(|access| !commits.is_empty() && access.can(ProjectAction::ReadCode)) {
            let project = access.project().clone();
            let path = project.full_path.clone();
            let code = self.code();
            let read = code.read_repository(actor, &project, move |reader| {
                let mut found = Vec::new();
                for sha in commits {
                    if let Some(id) = reader.resolve(&sha)?.filter(|id| id.starts_with(&sha)) {
                        found.push((sha, id.clone(), reader.commit(&id)?.title));
                    }
                }
                Ok(found)
            });
            // A project without a repository (or with a broken one) has no commits to name.
            for (sha, id, title) in read.await.unwrap_or_default() {
                let resolution = Resolved {
                    kind: ReferenceKind::Commit,
                    href: format!("/{path}/-/commit/{id}"),
                    title,
                    closed: false,
                    color: None,
                };
                resolved.insert(Reference::Commit(sha), resolution);
            }
        }
        Ok(resolved)
    }

    /// `@name`: a user, else a group the actor may see.
    async fn resolve_mention(&self, conn: &mut Conn, actor: &Actor, name: &str) -> CoreResult<Option<Resolved>> {
        if !name.contains('/')
            && let Some(user) = find_user_by_username(conn, name).await?
        {
            return Ok(Some(Resolved {
                kind: ReferenceKind::User,
                href: format!("/{}", user.username),
                title: user.name,
                closed: false,
                color: None,
            }));
        }
        match GroupAccess::load(conn, actor, NamespaceKey::FullPath(name)).await {
            Ok(group) => Ok(Some(Resolved {
                kind: ReferenceKind::Group,
                href: format!("/{}", group.group().full_path),
                title: group.group().name.clone(),
                closed: false,
                color: None,
            })),
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(project: Option<&str>, iid: i64) -> Reference {
        Reference::Issue { project: project.map(str::to_owned), iid }
    }

    #[test]
    fn code_links_and_html_are_not_read() {
        let text = "#1 `#2` [#3](https://x.test) <a>#4</a>\n\n```\n#5\n```\n\n    #6\n\n**#7** <https://x.test/#8>";
        assert_eq!(references_in(text), vec![issue(None, 1), issue(None, 4), issue(None, 7)]);
    }

    #[test]
    fn cross_reference_notes_name_their_source() {
        assert_eq!(cross_reference_body("acme/api", 5, "acme/api"), "mentioned in #5");
        let body = cross_reference_body("acme/api", 5, "acme/web");
        assert_eq!(body, "mentioned in acme/api#5");
        assert_eq!(cross_reference_source(&body), Some(issue(Some("acme/api"), 5)));
        assert_eq!(cross_reference_source("mentioned in #5 and #6"), None);
        assert_eq!(cross_reference_source("closed"), None);
    }
}
