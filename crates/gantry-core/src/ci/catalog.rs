//! The CI/CD Catalog: projects their Owners mark as catalog resources, listed for whoever may
//! see them, each with the components its default branch holds under `templates/` (as
//! `include:component` reads them: `templates/<name>.yml` or `templates/<name>/template.yml`),
//! every component's `spec:inputs`, and the project's released versions (tags such as `1.2.0`,
//! newest first). Nothing is copied: components and versions are read from the repository
//! when the catalog is looked at.

use std::cmp::Ordering;
use std::sync::Arc;

use gantry_ci::component::{LATEST, newest_release};
use gantry_ci::yaml::{self, Node};
use gantry_db::ci::catalog;
use gantry_git::GitError;
use gantry_git::read::{EntryKind, PathObject, Reader};

pub use gantry_db::ci::catalog::CatalogResourceRow;

use crate::manage::groups::Lookup;
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult, Page, ProjectRow};

/// The most components one resource shows (GitLab's limit per project is 100).
pub const MAX_COMPONENTS: usize = 100;
/// The most versions one resource lists, newest first.
pub const MAX_VERSIONS: usize = 100;
/// The longest search accepted.
const MAX_SEARCH: usize = 255;

/// One input a component's `spec:inputs` declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInput {
    pub name: String,
    /// `string` unless the header says otherwise.
    pub kind: String,
    /// The default as YAML text; None when the input is required.
    pub default: Option<String>,
    pub description: Option<String>,
    /// The values it may take (`options`), as YAML text.
    pub options: Vec<String>,
    pub regex: Option<String>,
}

/// A component of a catalog resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogComponent {
    pub name: String,
    /// The file it is read from.
    pub path: String,
    pub inputs: Vec<ComponentInput>,
    /// Why its file or header could not be read, when it could not.
    pub error: Option<String>,
}

/// A catalog resource as its page shows it.
#[derive(Debug, Clone)]
pub struct CatalogResource {
    pub project: ProjectRow,
    /// The default branch's commit the components were read at (None for an empty repository).
    pub sha: Option<String>,
    pub components: Vec<CatalogComponent>,
    /// More components than [`MAX_COMPONENTS`] were found.
    pub more_components: bool,
    /// Released versions (tags), newest first, at most [`MAX_VERSIONS`].
    pub versions: Vec<String>,
    /// This server's host as component addresses name it (`gantry.example.com`).
    pub host: String,
}

impl CatalogResource {
    /// The address to include `component` by: at the newest release, or at the default branch
    /// while there is none.
    pub fn address(&self, component: &CatalogComponent) -> String {
        let version = self.versions.first().unwrap_or(&self.project.default_branch);
        format!("{}/{}/{}@{version}", self.host, self.project.full_path, component.name)
    }
}

/// The inputs a component file's `spec:` header declares, in the order written. Err says why
/// the file cannot be read as a CI file.
pub fn component_inputs(path: &str, text: &str) -> Result<Vec<ComponentInput>, String> {
    let file: Arc<str> = Arc::from(path);
    let document = yaml::parse_document(&file, text).map_err(|problem| problem.to_string())?;
    let inputs = document.header.as_ref().and_then(|h| h.get("spec")).and_then(|spec| spec.get("inputs"));
    let Some(entries) = inputs.and_then(Node::as_map) else { return Ok(Vec::new()) };
    Ok(entries
        .iter()
        .map(|(name, input)| ComponentInput {
            name: name.name.clone(),
            kind: input.get("type").and_then(Node::as_str).unwrap_or("string").to_owned(),
            default: input.get("default").map(yaml::to_flow_text),
            description: input.get("description").and_then(Node::as_str).map(str::to_owned),
            options: match input.get("options").map(|o| &o.value) {
                Some(yaml::Value::Seq(items)) => items.iter().map(yaml::to_flow_text).collect(),
                _ => Vec::new(),
            },
            regex: input.get("regex").and_then(Node::as_str).map(str::to_owned),
        })
        .collect())
}

/// Released versions among `tags`, newest first (by semantic version, as `@~latest` picks).
pub fn released_versions(tags: &[String]) -> Vec<String> {
    let is_release = |tag: &str| newest_release([tag], LATEST).is_some();
    let mut versions: Vec<&str> = tags.iter().map(String::as_str).filter(|tag| is_release(tag)).collect();
    versions.sort_by(|a, b| match newest_release([*a, *b], LATEST) {
        _ if a == b => Ordering::Equal,
        Some(newer) if newer == *a => Ordering::Less,
        _ => Ordering::Greater,
    });
    versions.into_iter().take(MAX_VERSIONS).map(str::to_owned).collect()
}

/// The components under `templates/` at `sha`, by name.
fn read_components(reader: &Reader, sha: &str) -> Result<(Vec<CatalogComponent>, bool), GitError> {
    let Some(PathObject::Tree(entries)) = reader.object_at(sha, "templates")? else {
        return Ok((Vec::new(), false));
    };
    let mut components = Vec::new();
    for entry in &entries {
        let (name, path) = match entry.kind {
            EntryKind::Blob | EntryKind::Executable => match entry.name.strip_suffix(".yml") {
                Some(name) if !name.is_empty() => (name.to_owned(), format!("templates/{}", entry.name)),
                _ => continue,
            },
            EntryKind::Tree => (entry.name.clone(), format!("templates/{}/template.yml", entry.name)),
            EntryKind::Symlink | EntryKind::Submodule => continue,
        };
        let blob = match reader.object_at(sha, &path)? {
            Some(PathObject::Blob(blob)) if blob.kind != EntryKind::Symlink => blob,
            // A directory without `template.yml` holds no component.
            _ => continue,
        };
        if components.len() == MAX_COMPONENTS {
            return Ok((components, true));
        }
        let read = if !blob.is_complete() || blob.size > yaml::MAX_FILE_BYTES as u64 {
            Err(format!("the file is {} bytes; the limit is {}", blob.size, yaml::MAX_FILE_BYTES))
        } else {
            match std::str::from_utf8(&blob.data) {
                Ok(text) => component_inputs(&path, text),
                Err(_) => Err("the file is not UTF-8 text".to_owned()),
            }
        };
        let (inputs, error) = match read {
            Ok(inputs) => (inputs, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        components.push(CatalogComponent { name, path, inputs, error });
    }
    components.sort_by(|a, b| a.name.cmp(&b.name));
    components.dedup_by(|a, b| a.name == b.name);
    Ok((components, false))
}

impl super::Ci<'_> {
    /// Whether the project is a catalog resource.
    pub async fn is_catalog_resource(&self, access: &ProjectAccess) -> CoreResult<bool> {
        access.require(ProjectAction::Read)?;
        let mut conn = self.db.conn().await?;
        Ok(catalog::is_catalog_resource(&mut conn, access.project().id).await?)
    }

    /// Marks the project as a catalog resource, or removes the mark (Owners).
    pub async fn set_catalog_resource(&self, access: &ProjectAccess, resource: bool) -> CoreResult<()> {
        access.require(ProjectAction::ManageCatalog)?;
        let mut conn = self.db.conn().await?;
        Ok(catalog::set_catalog_resource(&mut conn, access.project().id, resource).await?)
    }

    /// One page of the catalog resources the actor may see, by name; `search` is matched in
    /// their names and paths.
    pub async fn list_catalog_resources(
        &self,
        actor: &Actor,
        search: Option<&str>,
        page: Page,
    ) -> CoreResult<(Vec<CatalogResourceRow>, i64)> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.len() > MAX_SEARCH) {
            return Err(CoreError::invalid("search", format!("is longer than {MAX_SEARCH} characters")));
        }
        let mut conn = self.db.conn().await?;
        Ok(catalog::list_catalog_resources(&mut conn, &actor.viewer(), search, page).await?)
    }

    /// The catalog resource at `full_path`, with its components and versions, for those who
    /// may read its code; a project that is not a catalog resource is not found.
    pub async fn catalog_resource(&self, actor: &Actor, full_path: &str) -> CoreResult<CatalogResource> {
        let access = self.project_access(actor, &Lookup::Path(full_path.to_owned())).await?;
        access.require(ProjectAction::ReadCode)?;
        let project = access.project().clone();
        {
            let mut conn = self.db.conn().await?;
            if !catalog::is_catalog_resource(&mut conn, project.id).await? {
                return Err(CoreError::NotFound("catalog resource"));
            }
        }
        let repos = self.repos.clone();
        let (id, branch) = (project.id, project.default_branch.clone());
        let (sha, components, more_components, tags) = tokio::task::spawn_blocking(move || {
            let reader = repos.reader(id)?;
            let tags = reader.tag_names()?;
            let Some(sha) = reader.resolve(&format!("refs/heads/{branch}"))? else {
                return Ok::<_, GitError>((None, Vec::new(), false, tags));
            };
            let (components, more) = read_components(&reader, &sha)?;
            Ok((Some(sha), components, more, tags))
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        Ok(CatalogResource {
            project,
            sha,
            components,
            more_components,
            versions: released_versions(&tags),
            host: super::create::server_host(&self.ci.settings.external_url),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_read_from_the_spec_header() {
        let text = "spec:\n  inputs:\n    stage:\n      default: test\n      description: The stage to run in\n    \
                    jobs:\n      type: number\n      default: 2\n    env:\n      options: [dev, prod]\n      \
                    regex: ^[a-z]+$\n    flag:\n      type: boolean\n      default: false\n---\nbuild:\n  script: make\n";
        let inputs = component_inputs("templates/build.yml", text).unwrap();
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["stage", "jobs", "env", "flag"]);
        assert_eq!(inputs[0].default.as_deref(), Some("test"));
        assert_eq!(inputs[0].description.as_deref(), Some("The stage to run in"));
        assert_eq!((inputs[1].kind.as_str(), inputs[1].default.as_deref()), ("number", Some("2")));
        assert_eq!((inputs[2].kind.as_str(), inputs[2].default.as_deref()), ("string", None));
        assert_eq!(inputs[2].options, ["dev", "prod"]);
        assert_eq!(inputs[2].regex.as_deref(), Some("^[a-z]+$"));
        assert_eq!(inputs[3].default.as_deref(), Some("false"));
    }

    #[test]
    fn a_file_without_a_header_has_no_inputs_and_a_broken_one_says_why() {
        assert_eq!(component_inputs("t.yml", "build:\n  script: make\n").unwrap(), Vec::new());
        let error = component_inputs("t.yml", "spec:\n  inputs: [\n---\nx: 1\n").unwrap_err();
        assert!(error.contains("t.yml"), "{error}");
    }

    #[test]
    fn versions_are_releases_newest_first() {
        let tags: Vec<String> = ["v1.2.0", "1.2.0", "v2.0.0", "latest", "1.10.0", "2.1.0-rc.1", "0.9.1"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(released_versions(&tags), ["v2.0.0", "1.10.0", "1.2.0", "v1.2.0", "0.9.1"]);
        assert!(released_versions(&["main".to_owned()]).is_empty());
    }
}
