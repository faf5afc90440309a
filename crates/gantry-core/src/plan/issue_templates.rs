//! Issue templates, as GitLab has them: Markdown files on the project's default branch in
//! `.gitlab/issue_templates/` (and Gantry's own `.gantry/issue_templates/`, which wins on a
//! name both have), each a template named by its file name without `.md`. The new issue form
//! offers them and fills the description with the chosen one; a template called `Default`
//! fills it unasked. Whoever may open an issue sees them, the repository's other files or not.

use gantry_git::read::{EntryKind, PathObject};

use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// The folders templates are read from, the later winning on a name both have.
const TEMPLATE_FOLDERS: [&str; 2] = [".gitlab/issue_templates", ".gantry/issue_templates"];
/// The template that fills a new issue's description unasked (GitLab's).
pub const DEFAULT_TEMPLATE: &str = "Default";
/// Most templates offered.
const MAX_TEMPLATES: usize = 200;
/// The largest template read (as an issue's description).
const MAX_TEMPLATE_BYTES: usize = super::issues::MAX_DESCRIPTION;

/// One issue template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueTemplate {
    /// The file name without `.md`.
    pub name: String,
    pub content: String,
}

impl super::Plan<'_> {
    /// The project's issue templates by name, with their Markdown (none while the default
    /// branch has none, or there is no repository yet).
    pub async fn issue_templates(&self, access: &ProjectAccess) -> CoreResult<Vec<IssueTemplate>> {
        access.require(ProjectAction::ReadIssues)?;
        let project = access.project().id;
        if !self.repos.exists(project) {
            return Ok(Vec::new());
        }
        let (repos, branch) = (self.repos.clone(), access.project().default_branch.clone());
        let mut templates = tokio::task::spawn_blocking(move || -> CoreResult<Vec<IssueTemplate>> {
            let reader = repos.reader(project)?;
            let Some(tip) = reader.resolve(&format!("refs/heads/{branch}"))? else { return Ok(Vec::new()) };
            let mut found: Vec<IssueTemplate> = Vec::new();
            for folder in TEMPLATE_FOLDERS {
                let Some(PathObject::Tree(entries)) = reader.object_at(&tip, folder)? else { continue };
                for entry in entries.iter().filter(|e| matches!(e.kind, EntryKind::Blob | EntryKind::Executable)) {
                    let Some(name) = entry.name.strip_suffix(".md").filter(|n| !n.trim().is_empty()) else { continue };
                    let Some(PathObject::Blob(blob)) = reader.object_at(&tip, &format!("{folder}/{}", entry.name))?
                    else {
                        continue;
                    };
                    if !blob.is_complete() || blob.data.len() > MAX_TEMPLATE_BYTES {
                        continue;
                    }
                    let template = IssueTemplate {
                        name: name.to_owned(),
                        content: String::from_utf8_lossy(&blob.data).into_owned(),
                    };
                    if let Some(at) = found.iter().position(|t| t.name == template.name) {
                        found[at] = template;
                    } else if found.len() < MAX_TEMPLATES {
                        found.push(template);
                    }
                }
            }
            Ok(found)
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        templates.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.name.cmp(&b.name)));
        Ok(templates)
    }

    /// One issue template by name (its case as written, or any case when only one matches).
    pub async fn issue_template(&self, access: &ProjectAccess, name: &str) -> CoreResult<IssueTemplate> {
        let templates = self.issue_templates(access).await?;
        let exact = templates.iter().find(|t| t.name == name);
        let folded = || {
            let mut matching = templates.iter().filter(|t| t.name.eq_ignore_ascii_case(name));
            matching.next().filter(|_| matching.next().is_none())
        };
        exact.or_else(folded).cloned().ok_or(CoreError::NotFound("Template"))
    }
}
