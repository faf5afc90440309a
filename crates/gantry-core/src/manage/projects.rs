//! Projects: created in a personal namespace or a group, renamed, moved, archived, deleted,
//! given topics.

use gantry_db::Page;
use gantry_db::manage::members::{MemberSource, insert_member};
use gantry_db::manage::namespaces::{self, NamespaceKind, find_namespace_by_id, find_user_namespace};
use gantry_db::manage::projects::{self, NewProject, ProjectFilter, ProjectKey, ProjectUpdate};
use gantry_types::{AccessLevel, FullPath, NamespaceId, PathSegment, ProjectId, Visibility, parse_display_name};

use super::application_settings::check_personal_projects_limit;
use super::conflict_as;
use super::groups::{Lookup, parse_visibility_limit, slug};
use super::topics::{parse_topic_names, set_project_topics};
use crate::code::protected_branches::protect_default_branch;
use crate::policy::{
    GroupAction, ProjectAccess, ProjectAction, authorize_group, authorize_project, max_child_visibility,
    namespace_level,
};
use crate::{Actor, Core, CoreError, CoreResult, NamespaceRow, ProjectRow, SortDirection, UserRow};
use gantry_db::code::push_events;
use gantry_git::{Author, ZERO_OID};

/// What a new project is made of.
#[derive(Debug, Clone, Default)]
pub struct NewProjectInput {
    pub name: String,
    /// Derived from the name when empty.
    pub path: String,
    /// The actor's personal namespace when `None`.
    pub namespace: Option<NamespaceId>,
    pub description: String,
    pub visibility: Option<Visibility>,
    pub default_branch: Option<String>,
    /// Start the repository with a commit holding a README.
    pub initialize_with_readme: bool,
    /// Names of the topics it carries (created when they do not exist yet; at most 100).
    pub topics: Vec<String>,
}

/// Changes to a project; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub path: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
    pub default_branch: Option<String>,
    /// The topics it is to carry instead of its current ones (created when they do not exist
    /// yet; at most 100; an empty list takes them all off).
    pub topics: Option<Vec<String>>,
}

/// Filters of the project list.
#[derive(Debug, Clone)]
pub struct ProjectQuery {
    pub membership: bool,
    pub owned: bool,
    pub search: Option<String>,
    pub visibility: Option<Visibility>,
    pub archived: Option<bool>,
    /// Only projects carrying every one of these topics (at most 100 names).
    pub topics: Vec<String>,
    pub order_by: &'static str,
    pub sort: SortDirection,
}

pub(crate) fn check_branch_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name.chars().any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c));
    if !valid {
        return Err(CoreError::invalid("default_branch", format!("'{name}' is not a valid branch name")));
    }
    Ok(name.to_owned())
}

/// The project a lookup names, by id or by full path; no access check.
pub(crate) async fn project_by_lookup(conn: &mut gantry_db::Conn, lookup: &Lookup) -> CoreResult<Option<ProjectRow>> {
    Ok(match lookup {
        Lookup::Id(id) => projects::find_project_by_id(conn, ProjectId(*id)).await?,
        Lookup::Path(path) => projects::find_project_by_full_path(conn, path).await?,
    })
}

impl super::Manage<'_> {
    /// Finds any namespace (a user's or a group) by full path, for the page that shows it.
    pub async fn find_namespace(&self, actor: &Actor, path: &str) -> CoreResult<NamespaceRow> {
        let mut conn = self.db.conn().await?;
        let namespace =
            namespaces::find_namespace_by_full_path(&mut conn, path).await?.ok_or(CoreError::NotFound("namespace"))?;
        if namespace.kind == NamespaceKind::Group {
            authorize_group(&mut conn, actor, &namespace, GroupAction::Read).await?;
        }
        Ok(namespace)
    }

    /// What a full path points at.
    pub async fn resolve_path(&self, path: &str) -> CoreResult<Option<namespaces::RouteTarget>> {
        let mut conn = self.db.conn().await?;
        Ok(namespaces::resolve_route(&mut conn, path).await?)
    }

    /// Checks that the actor may create projects in `namespace` (or move one there): in a
    /// user's namespace, within that user's limit on personal projects.
    async fn check_project_namespace(&self, actor: &Actor, namespace: &NamespaceRow) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        match namespace.kind {
            NamespaceKind::Group => {
                authorize_group(&mut conn, actor, namespace, GroupAction::CreateProject).await?;
            }
            NamespaceKind::User => {
                if namespace_level(&mut conn, actor, namespace).await? != Some(AccessLevel::Owner) {
                    return Err(CoreError::NotFound("namespace"));
                }
                if let Some(owner) = namespace.owner_id {
                    check_personal_projects_limit(&mut conn, owner).await?;
                }
            }
        }
        Ok(())
    }

    async fn namespace_or_personal(&self, actor: &Actor, namespace: Option<NamespaceId>) -> CoreResult<NamespaceRow> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let found = match namespace {
            Some(id) => find_namespace_by_id(&mut conn, id).await?,
            None => find_user_namespace(&mut conn, user.id).await?,
        };
        found.ok_or(CoreError::NotFound("namespace"))
    }

    /// Creates a project. In a group the creator needs Developer or more and becomes at least
    /// Maintainer of the new project, as in GitLab.
    pub async fn create_project(&self, actor: &Actor, input: &NewProjectInput) -> CoreResult<ProjectRow> {
        let user = actor.require_user()?;
        let namespace = self.namespace_or_personal(actor, input.namespace).await?;
        self.check_project_namespace(actor, &namespace).await?;
        let name = parse_display_name(&input.name).map_err(|e| CoreError::invalid("name", e.0))?;
        let path_text = if input.path.trim().is_empty() { slug(&name) } else { input.path.trim().to_owned() };
        let path = PathSegment::parse(&path_text).map_err(|e| CoreError::invalid("path", e.0))?;
        let full_path = FullPath::child(&namespace.full_path, &path);
        FullPath::parse(full_path.as_str()).map_err(|e| CoreError::invalid("path", e.0))?;
        let defaults = self.current_application_settings().await?;
        // The instance's default visibility yields to the namespace's limit; a visibility the
        // creator asked for does not.
        let visibility = match input.visibility {
            Some(visibility) => parse_visibility_limit(visibility, max_child_visibility(&namespace), "group")?,
            None => defaults.default_project_visibility.min(max_child_visibility(&namespace)),
        };
        let default_branch = check_branch_name(input.default_branch.as_deref().unwrap_or(defaults.initial_branch()))?;
        let topics = parse_topic_names(&input.topics)?;
        let mut tx = self.db.begin().await?;
        let new = NewProject {
            namespace_id: namespace.id,
            path: path.as_str(),
            full_path: full_path.as_str(),
            name: &name,
            description: input.description.trim(),
            visibility,
            default_branch: &default_branch,
            creator_id: user.id,
        };
        let id = projects::insert_project(&mut tx, &new)
            .await
            .map_err(conflict_as(&format!("path '{full_path}' has already been taken")))?;
        set_project_topics(&mut tx, id, &topics).await?;
        if namespace.kind == NamespaceKind::Group && !crate::policy::administers(actor) {
            let inherited =
                gantry_db::manage::members::effective_access_level(&mut tx, user.id, namespace.id, None).await?;
            if inherited.is_none_or(|level| level < AccessLevel::Maintainer.as_i64()) {
                insert_member(
                    &mut tx,
                    MemberSource::Project(id),
                    user.id,
                    AccessLevel::Maintainer.as_i64(),
                    Some(user.id),
                    None,
                )
                .await?;
            }
        }
        protect_default_branch(&mut tx, id, &default_branch).await?;
        let project = projects::find_project_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("project"))?;
        // The repository is made before the transaction commits, and removed again if anything
        // fails: a project never exists without its repository.
        let committed = async {
            let first_commit = self.create_repository(&project, user, input.initialize_with_readme).await?;
            if let Some(commit) = first_commit {
                // The first commit shows in the activity feed like any push.
                let branch = format!("refs/heads/{}", project.default_branch);
                push_events::insert_push_event(&mut tx, id, Some(user.id), &branch, ZERO_OID, &commit).await?;
            }
            tx.commit().await.map_err(gantry_db::DbError::from)?;
            Ok::<(), CoreError>(())
        }
        .await;
        if let Err(error) = committed {
            if let Err(cleanup) = self.repos.delete(id).await {
                tracing::error!(project.id = %id, error = %cleanup, "cannot remove the repository of a failed create");
            }
            return Err(error);
        }
        tracing::info!(project.id = %id, project.path = %project.full_path, by = %user.id, "project created");
        Ok(project)
    }

    /// Creates the project's repository; returns the id of the README commit, if asked for.
    async fn create_repository(
        &self,
        project: &ProjectRow,
        user: &UserRow,
        with_readme: bool,
    ) -> CoreResult<Option<String>> {
        self.repos.create(project.id, &project.default_branch).await?;
        if !with_readme {
            return Ok(None);
        }
        let mut readme = format!("# {}\n", project.name);
        if !project.description.is_empty() {
            readme.push_str(&format!("\n{}\n", project.description));
        }
        let name = if user.name.is_empty() { &user.username } else { &user.name };
        let author = Author { name, email: &user.email };
        self.repos
            .initial_commit(
                project.id,
                &project.default_branch,
                "README.md",
                readme.as_bytes(),
                "Initial commit\n",
                &author,
            )
            .await
            .map(Some)
            .map_err(CoreError::from)
    }

    /// Writes a project's columns, moving its route when the path or namespace changes, and
    /// its topics when given (already checked), in one transaction.
    async fn write_project(
        &self,
        project: &ProjectRow,
        namespace: &NamespaceRow,
        update: ProjectUpdate<'_>,
        topics: Option<&[String]>,
    ) -> CoreResult<ProjectRow> {
        let path = PathSegment::parse(update.path).map_err(|e| CoreError::invalid("path", e.0))?;
        let full_path = FullPath::child(&namespace.full_path, &path);
        FullPath::parse(full_path.as_str()).map_err(|e| CoreError::invalid("path", e.0))?;
        let mut tx = self.db.begin().await?;
        if full_path.as_str() != project.full_path {
            namespaces::move_routes(&mut tx, &project.full_path, full_path.as_str())
                .await
                .map_err(conflict_as(&format!("path '{full_path}' has already been taken")))?;
        }
        projects::update_project(&mut tx, project.id, &update).await?;
        if let Some(topics) = topics {
            set_project_topics(&mut tx, project.id, topics).await?;
        }
        let updated = projects::find_project_by_id(&mut tx, project.id).await?.ok_or(CoreError::NotFound("project"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(updated)
    }

    /// Changes name, path, description, visibility, default branch or topics. Maintainers may
    /// change all of these.
    pub async fn update_project(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        changes: &ProjectChanges,
    ) -> CoreResult<ProjectRow> {
        self.authorize_project(actor, project, ProjectAction::Update).await?;
        let name = match &changes.name {
            Some(name) => parse_display_name(name).map_err(|e| CoreError::invalid("name", e.0))?,
            None => project.name.clone(),
        };
        let mut conn = self.db.conn().await?;
        let namespace =
            find_namespace_by_id(&mut conn, project.namespace_id).await?.ok_or(CoreError::NotFound("namespace"))?;
        drop(conn);
        let visibility = parse_visibility_limit(
            changes.visibility.unwrap_or(project.visibility),
            max_child_visibility(&namespace),
            "group",
        )?;
        let default_branch = match &changes.default_branch {
            Some(branch) => check_branch_name(branch)?,
            None => project.default_branch.clone(),
        };
        let topics = changes.topics.as_deref().map(parse_topic_names).transpose()?;
        let path = changes.path.as_deref().map_or(project.path.as_str(), str::trim);
        let description = changes.description.as_deref().map_or(project.description.as_str(), str::trim);
        let update = ProjectUpdate {
            namespace_id: project.namespace_id,
            path,
            name: &name,
            description,
            visibility,
            default_branch: &default_branch,
            archived: project.archived,
        };
        let updated = self.write_project(project, &namespace, update, topics.as_deref()).await?;
        if updated.default_branch != project.default_branch {
            self.repos.set_default_branch(project.id, &updated.default_branch).await?;
        }
        tracing::info!(project.id = %project.id, project.path = %updated.full_path, "project updated");
        Ok(updated)
    }

    /// Moves a project to another namespace (Owner of the project, and allowed to create
    /// projects in the target).
    pub async fn transfer_project(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        target: NamespaceId,
    ) -> CoreResult<ProjectRow> {
        self.authorize_project(actor, project, ProjectAction::Transfer).await?;
        let mut conn = self.db.conn().await?;
        let namespace = find_namespace_by_id(&mut conn, target).await?.ok_or(CoreError::NotFound("namespace"))?;
        drop(conn);
        self.check_project_namespace(actor, &namespace).await?;
        if namespace.id == project.namespace_id {
            return Err(CoreError::invalid("namespace", "is the project's current namespace"));
        }
        let visibility = project.visibility.min(max_child_visibility(&namespace));
        let update = ProjectUpdate {
            namespace_id: namespace.id,
            path: &project.path,
            name: &project.name,
            description: &project.description,
            visibility,
            default_branch: &project.default_branch,
            archived: project.archived,
        };
        let updated = self.write_project(project, &namespace, update, None).await?;
        // Its issues keep only the iterations of its new groups.
        let mut conn = self.db.conn().await?;
        let groups: Vec<NamespaceId> = gantry_db::manage::namespaces::namespace_with_ancestors(&mut conn, namespace.id)
            .await?
            .into_iter()
            .map(|group| group.id)
            .collect();
        gantry_db::plan::iterations::clear_unreachable_iterations(&mut conn, Some(project.id), &[], &groups).await?;
        tracing::info!(project.id = %project.id, from = %project.full_path, to = %updated.full_path, "project transferred");
        Ok(updated)
    }

    /// Archives (read-only) or unarchives a project.
    pub async fn set_project_archived(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        archived: bool,
    ) -> CoreResult<ProjectRow> {
        self.authorize_project(actor, project, ProjectAction::Archive).await?;
        let mut conn = self.db.conn().await?;
        let update = ProjectUpdate {
            namespace_id: project.namespace_id,
            path: &project.path,
            name: &project.name,
            description: &project.description,
            visibility: project.visibility,
            default_branch: &project.default_branch,
            archived,
        };
        projects::update_project(&mut conn, project.id, &update).await?;
        Ok(ProjectRow { archived, ..project.clone() })
    }

    /// Deletes a project (Owners).
    pub async fn delete_project(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<()> {
        self.authorize_project(actor, project, ProjectAction::Delete).await?;
        let mut conn = self.db.conn().await?;
        projects::delete_project(&mut conn, project.id).await?;
        self.repos.delete(project.id).await?;
        tracing::info!(project.id = %project.id, project.path = %project.full_path, "project deleted");
        Ok(())
    }

    /// The projects the actor may see, optionally within one namespace.
    pub async fn list_projects(
        &self,
        actor: &Actor,
        query: &ProjectQuery,
        namespace: Option<(NamespaceId, bool)>,
        page: Page,
    ) -> CoreResult<(Vec<ProjectRow>, i64)> {
        if query.topics.len() > super::topics::MAX_PROJECT_TOPICS {
            return Err(CoreError::invalid(
                "topic",
                format!("names too many topics (at most {})", super::topics::MAX_PROJECT_TOPICS),
            ));
        }
        let filter = ProjectFilter {
            viewer: actor.viewer(),
            membership: query.membership && actor.user().is_some(),
            owned: query.owned && actor.user().is_some(),
            namespace: namespace.map(|(id, _)| id),
            include_subgroups: namespace.is_some_and(|(_, sub)| sub),
            search: query.search.clone(),
            visibility: query.visibility,
            archived: query.archived,
            topics: query.topics.clone(),
            order_by: query.order_by,
            sort: query.sort,
        };
        let mut conn = self.db.conn().await?;
        Ok(projects::list_projects(&mut conn, &filter, page).await?)
    }

    /// Namespaces the actor may create projects in: their own, then groups (Developer+).
    pub async fn namespaces_for_new_project(&self, actor: &Actor) -> CoreResult<Vec<NamespaceRow>> {
        let mut namespaces = vec![self.namespace_or_personal(actor, None).await?];
        namespaces.extend(self.groups_for_new_project(actor).await?);
        Ok(namespaces)
    }
}

impl Default for ProjectQuery {
    fn default() -> Self {
        ProjectQuery {
            membership: false,
            owned: false,
            search: None,
            visibility: None,
            archived: None,
            topics: Vec::new(),
            order_by: "created_at",
            sort: SortDirection::Desc,
        }
    }
}

/// Who the actor is to a project or group: every stage asks this first, so it lives on
/// [`Core`] itself.
impl Core {
    /// Finds a project the actor may see, with the actor's role on it.
    pub async fn find_project(&self, actor: &Actor, lookup: &Lookup) -> CoreResult<(ProjectRow, Option<AccessLevel>)> {
        let access = self.project_access(actor, lookup).await?;
        let level = access.level();
        Ok((access.into_project(), level))
    }

    /// Who the actor is to the project a lookup names, read in one query (`NotFound` when
    /// they may not see it): what a request asks once and hands to every operation after.
    pub async fn project_access(&self, actor: &Actor, lookup: &Lookup) -> CoreResult<ProjectAccess> {
        let mut conn = self.db.conn().await?;
        let key = match lookup {
            Lookup::Id(id) => ProjectKey::Id(ProjectId(*id)),
            Lookup::Path(path) => ProjectKey::FullPath(path),
        };
        ProjectAccess::load(&mut conn, actor, key).await
    }

    /// [`Core::project_access`] for a project row at hand (read again with the role).
    pub async fn access_to_project(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<ProjectAccess> {
        let mut conn = self.db.conn().await?;
        ProjectAccess::load(&mut conn, actor, ProjectKey::Id(project.id)).await
    }

    /// Finds a project the actor may see together with its namespace and the actor's role, in
    /// one query (the API's `GET /projects/:id`).
    pub async fn find_project_with_namespace(
        &self,
        actor: &Actor,
        lookup: &Lookup,
    ) -> CoreResult<(ProjectRow, NamespaceRow, Option<AccessLevel>)> {
        let access = self.project_access(actor, lookup).await?;
        let (level, namespace) = (access.level(), access.namespace().clone());
        Ok((access.into_project(), namespace, level))
    }

    /// Checks that the actor may do `action` to the project.
    pub async fn authorize_project(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        action: ProjectAction,
    ) -> CoreResult<Option<AccessLevel>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, action).await
    }
}
