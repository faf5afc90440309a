//! Groups: nested namespaces that hold projects and subgroups and pass their members' roles
//! down the tree; moved under another group or to the top level by a transfer.

use gantry_db::Page;
use gantry_db::manage::Viewer;
use gantry_db::manage::members::{MemberSource, insert_member};
use gantry_db::manage::namespaces::{
    self, GroupFilter, NamespaceKey, NamespaceKind, NamespaceUpdate, NewNamespace, find_namespace_by_id,
};
use gantry_types::{AccessLevel, FullPath, NamespaceId, PathSegment, Visibility, parse_display_name};

use super::conflict_as;
use crate::policy::{GroupAccess, GroupAction, authorize_group};
use crate::{Actor, Core, CoreError, CoreResult, NamespaceRow, ProjectRow, SortDirection};

/// How a request names a group or project: GitLab's `:id` is a number or a full path.
#[derive(Debug, Clone)]
pub enum Lookup {
    Id(i64),
    Path(String),
}

impl Lookup {
    /// Numeric text is an id, anything else a path.
    pub fn parse(value: &str) -> Lookup {
        match value.parse::<i64>() {
            Ok(id) => Lookup::Id(id),
            Err(_) => Lookup::Path(value.trim_matches('/').to_owned()),
        }
    }
}

/// What a new group is made of.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub name: String,
    pub path: String,
    pub description: String,
    pub visibility: Option<Visibility>,
    pub parent: Option<NamespaceId>,
}

/// Changes to a group; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub path: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
}

/// Filters of the group list.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    pub membership: bool,
    pub top_level_only: bool,
    pub search: Option<String>,
    pub order_by: &'static str,
    pub sort: SortDirection,
}

impl GroupQuery {
    /// Every group the actor sees (top-level and below), by name.
    pub fn all_by_name() -> GroupQuery {
        GroupQuery {
            membership: false,
            top_level_only: false,
            search: None,
            order_by: "name",
            sort: SortDirection::Asc,
        }
    }
}

/// More of the API's filters of a group list (GitLab's `skip_groups`, `visibility`).
#[derive(Debug, Clone, Default)]
pub struct GroupFilters {
    pub skip_groups: Vec<NamespaceId>,
    pub visibility: Option<Visibility>,
}

/// The groups a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum GroupScope<'a> {
    /// Every group the actor may see.
    All,
    /// The direct subgroups of a group.
    Subgroups(&'a GroupAccess),
    /// Every group below a group, at any depth.
    Descendants(&'a GroupAccess),
}

pub(crate) fn parse_visibility_limit(requested: Visibility, limit: Visibility, what: &str) -> CoreResult<Visibility> {
    if requested > limit {
        return Err(CoreError::invalid(
            "visibility_level",
            format!("{requested} is not allowed: the {what} that holds it is {limit}"),
        ));
    }
    Ok(requested)
}

impl super::Manage<'_> {
    /// The group and its ancestors, top-level first (for breadcrumbs).
    pub async fn namespace_chain(&self, namespace: NamespaceId) -> CoreResult<Vec<NamespaceRow>> {
        let mut conn = self.db.conn().await?;
        Ok(namespaces::namespace_with_ancestors(&mut conn, namespace).await?)
    }

    /// The namespace holding a project (anyone who may see the project may see its name).
    pub async fn project_namespace(&self, project: &ProjectRow) -> CoreResult<NamespaceRow> {
        let mut conn = self.db.conn().await?;
        find_namespace_by_id(&mut conn, project.namespace_id).await?.ok_or(CoreError::NotFound("namespace"))
    }

    /// Creates a group (or a subgroup of `parent`); the creator becomes its Owner.
    pub async fn create_group(&self, actor: &Actor, input: &NewGroup) -> CoreResult<NamespaceRow> {
        let user = actor.require_user()?;
        if user.bot_of.is_some() {
            return Err(CoreError::Forbidden("a project or group bot cannot create groups".into()));
        }
        let name = parse_display_name(&input.name).map_err(|e| CoreError::invalid("name", e.0))?;
        let path_text = if input.path.trim().is_empty() { slug(&name) } else { input.path.trim().to_owned() };
        let mut conn = self.db.conn().await?;
        let (full_path, path, limit) = match input.parent {
            Some(parent_id) => {
                let parent = find_namespace_by_id(&mut conn, parent_id)
                    .await?
                    .filter(|ns| ns.kind == NamespaceKind::Group)
                    .ok_or(CoreError::NotFound("parent group"))?;
                authorize_group(&mut conn, actor, &parent, GroupAction::CreateSubgroup).await?;
                let path = PathSegment::parse(&path_text).map_err(|e| CoreError::invalid("path", e.0))?;
                (FullPath::child(&parent.full_path, &path), path, parent.visibility)
            }
            None => {
                let path = PathSegment::parse_top_level(&path_text).map_err(|e| CoreError::invalid("path", e.0))?;
                (FullPath::top(&path), path, Visibility::Public)
            }
        };
        drop(conn);
        FullPath::parse(full_path.as_str()).map_err(|e| CoreError::invalid("path", e.0))?;
        let visibility =
            parse_visibility_limit(input.visibility.unwrap_or(Visibility::Private), limit, "parent group")?;
        let mut tx = self.db.begin().await?;
        let new = NewNamespace {
            kind: NamespaceKind::Group,
            parent_id: input.parent,
            owner_id: None,
            path: path.as_str(),
            full_path: full_path.as_str(),
            name: &name,
            description: input.description.trim(),
            visibility,
        };
        let id = namespaces::insert_namespace(&mut tx, &new)
            .await
            .map_err(conflict_as(&format!("path '{full_path}' has already been taken")))?;
        insert_member(&mut tx, MemberSource::Namespace(id), user.id, AccessLevel::Owner.as_i64(), Some(user.id), None)
            .await?;
        let group = find_namespace_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("group"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(group.id = %id, group.path = %group.full_path, by = %user.id, "group created");
        Ok(group)
    }

    /// Changes a group's name, path, description or visibility (Owners).
    pub async fn update_group(
        &self,
        actor: &Actor,
        group: &NamespaceRow,
        changes: &GroupChanges,
    ) -> CoreResult<NamespaceRow> {
        let mut conn = self.db.conn().await?;
        authorize_group(&mut conn, actor, group, GroupAction::Update).await?;
        let name = match &changes.name {
            Some(name) => parse_display_name(name).map_err(|e| CoreError::invalid("name", e.0))?,
            None => group.name.clone(),
        };
        let parent = match group.parent_id {
            Some(id) => find_namespace_by_id(&mut conn, id).await?,
            None => None,
        };
        drop(conn);
        let path = match &changes.path {
            Some(path) if parent.is_some() => PathSegment::parse(path.trim()),
            Some(path) => PathSegment::parse_top_level(path.trim()),
            None => PathSegment::parse(&group.path),
        }
        .map_err(|e| CoreError::invalid("path", e.0))?;
        let limit = parent.as_ref().map_or(Visibility::Public, |p| p.visibility);
        let visibility = parse_visibility_limit(changes.visibility.unwrap_or(group.visibility), limit, "parent group")?;
        if visibility < group.visibility {
            let mut conn = self.db.conn().await?;
            let children = namespaces::child_visibilities(&mut conn, group.id).await?;
            if let Some(most_visible) = children.into_iter().filter(|v| *v > visibility).max() {
                return Err(CoreError::invalid(
                    "visibility",
                    format!(
                        "cannot be {visibility}: a subgroup or project in this group is {most_visible}; \
                         lower theirs first"
                    ),
                ));
            }
        }
        let full_path = match &parent {
            Some(parent) => FullPath::child(&parent.full_path, &path),
            None => FullPath::top(&path),
        };
        let description = changes.description.as_deref().map_or(group.description.clone(), |d| d.trim().to_owned());
        let mut tx = self.db.begin().await?;
        if full_path.as_str() != group.full_path {
            namespaces::move_routes(&mut tx, &group.full_path, full_path.as_str())
                .await
                .map_err(conflict_as(&format!("path '{full_path}' has already been taken")))?;
        }
        let update = NamespaceUpdate {
            parent_id: group.parent_id,
            path: path.as_str(),
            name: &name,
            description: &description,
            visibility,
        };
        namespaces::update_namespace(&mut tx, group.id, &update).await?;
        let updated = find_namespace_by_id(&mut tx, group.id).await?.ok_or(CoreError::NotFound("group"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(updated)
    }

    /// Deletes a group with its subgroups and projects (Owners).
    pub async fn delete_group(&self, actor: &Actor, group: &NamespaceRow) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_group(&mut conn, actor, group, GroupAction::Delete).await?;
        drop(conn);
        let mut tx = self.db.begin().await?;
        let projects = gantry_db::manage::projects::project_ids_in_subtree(&mut tx, group.id).await?;
        let groups = namespaces::namespace_ids_in_subtree(&mut tx, group.id).await?;
        namespaces::delete_namespace(&mut tx, group.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        for project in projects {
            self.repos.delete(project).await?;
        }
        for group in groups {
            self.repos.delete(gantry_git::RepoId::GroupWiki(group)).await?;
        }
        tracing::info!(group.id = %group.id, group.path = %group.full_path, "group deleted");
        Ok(())
    }

    /// The groups the actor may see.
    pub async fn list_groups(
        &self,
        actor: &Actor,
        query: &GroupQuery,
        page: Page,
    ) -> CoreResult<(Vec<NamespaceRow>, i64)> {
        self.list_groups_in(actor, GroupScope::All, query, &GroupFilters::default(), page).await
    }

    /// The direct subgroups of a group that the actor may see: members of the group see its
    /// private subgroups too (their role is inherited).
    pub async fn list_subgroups(&self, access: &GroupAccess, page: Page) -> CoreResult<(Vec<NamespaceRow>, i64)> {
        let query = GroupQuery::all_by_name();
        self.list_groups_in(access.actor(), GroupScope::Subgroups(access), &query, &GroupFilters::default(), page).await
    }

    /// The groups of `scope` the actor may see, filtered: below a group, those who hold a role
    /// on it see every group there (their role is inherited), others the ones visible to them.
    pub async fn list_groups_in(
        &self,
        actor: &Actor,
        scope: GroupScope<'_>,
        query: &GroupQuery,
        filters: &GroupFilters,
        page: Page,
    ) -> CoreResult<(Vec<NamespaceRow>, i64)> {
        let (parent, subtree, viewer, membership) = match scope {
            GroupScope::All => (query.top_level_only.then_some(None), false, actor.viewer(), query.membership),
            GroupScope::Subgroups(access) | GroupScope::Descendants(access) => {
                access.require(GroupAction::Read)?;
                let below = (Some(Some(access.group().id)), matches!(scope, GroupScope::Descendants(_)));
                match access.level() {
                    // A role on the group is a role on everything below it.
                    Some(_) => (below.0, below.1, Viewer::everything(), false),
                    None => (below.0, below.1, actor.viewer(), query.membership),
                }
            }
        };
        let filter = GroupFilter {
            viewer,
            membership: membership && actor.user().is_some(),
            parent,
            subtree,
            search: query.search.clone(),
            skip: filters.skip_groups.clone(),
            visibility: filters.visibility,
            order_by: query.order_by,
            sort: query.sort,
        };
        let mut conn = self.db.conn().await?;
        Ok(namespaces::list_groups(&mut conn, &filter, page).await?)
    }

    /// Moves a group under `new_parent`, or to the top level without one (GitLab's checks: Owner
    /// of the group; the right to create subgroups in the new parent, which may be neither the
    /// group nor one below it; no group or project there with the same path). Its subgroups
    /// and projects move with it, their paths too; the repositories stay where they are (they
    /// live by project id). Under a less visible parent, whatever is more visible is lowered
    /// to the parent's visibility.
    pub async fn transfer_group(
        &self,
        access: &GroupAccess,
        new_parent: Option<NamespaceId>,
    ) -> CoreResult<NamespaceRow> {
        access.require(GroupAction::Transfer)?;
        let (actor, group) = (access.actor(), access.group());
        let failed = |why: &str| CoreError::invalid("Transfer", format!("failed: {why}"));
        let (parent, full_path) = match new_parent {
            Some(parent_id) => {
                let mut conn = self.db.conn().await?;
                let parent = GroupAccess::load(&mut conn, actor, NamespaceKey::Id(parent_id)).await?;
                if group.parent_id == Some(parent_id) {
                    return Err(failed("Group is already associated to the parent group."));
                }
                parent.require(GroupAction::CreateSubgroup)?;
                if namespaces::namespace_in_subtree(&mut conn, group.id, parent_id).await? {
                    return Err(failed("Cannot transfer group to one of its subgroup."));
                }
                let path = PathSegment::parse(&group.path).map_err(|e| CoreError::invalid("path", e.0))?;
                let full_path = FullPath::child(&parent.group().full_path, &path);
                (Some(parent.into_group()), full_path)
            }
            None => {
                if group.parent_id.is_none() {
                    return Err(failed("Group is already a root group."));
                }
                actor.require_user()?;
                let path = PathSegment::parse_top_level(&group.path).map_err(|e| CoreError::invalid("path", e.0))?;
                (None, FullPath::top(&path))
            }
        };
        FullPath::parse(full_path.as_str()).map_err(|e| CoreError::invalid("path", e.0))?;
        let visibility = parent.as_ref().map_or(group.visibility, |p| group.visibility.min(p.visibility));
        let mut tx = self.db.begin().await?;
        namespaces::move_routes(&mut tx, &group.full_path, full_path.as_str()).await.map_err(|error| match error {
            gantry_db::DbError::Conflict(_) => {
                failed("The parent group already has a subgroup or a project with the same path.")
            }
            other => CoreError::from(other),
        })?;
        namespaces::set_namespace_parent(&mut tx, group.id, parent.as_ref().map(|p| p.id), visibility).await?;
        if visibility < group.visibility {
            namespaces::cap_subtree_visibility(&mut tx, group.id, visibility).await?;
        }
        if parent.is_none()
            && gantry_db::manage::members::count_owners(&mut tx, group.id, AccessLevel::Owner.as_i64()).await? == 0
        {
            // Its Owners were those of its old parent: whoever moved it keeps it, as in GitLab.
            let user = actor.require_user()?;
            insert_member(
                &mut tx,
                MemberSource::Namespace(group.id),
                user.id,
                AccessLevel::Owner.as_i64(),
                Some(user.id),
                None,
            )
            .await?;
        }
        let moved = find_namespace_by_id(&mut tx, group.id).await?.ok_or(CoreError::NotFound("group"))?;
        // Its projects' issues keep only the iterations of the groups now above them.
        let subtree = namespaces::namespace_ids_in_subtree(&mut tx, group.id).await?;
        let mut allowed: Vec<NamespaceId> =
            namespaces::namespace_with_ancestors(&mut tx, group.id).await?.into_iter().map(|ns| ns.id).collect();
        allowed.extend(subtree.iter().copied());
        gantry_db::plan::iterations::clear_unreachable_iterations(&mut tx, None, &subtree, &allowed).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(group.id = %group.id, from = %group.full_path, to = %moved.full_path, "group transferred");
        Ok(moved)
    }

    /// The groups a group could move under (its transfer form's choices): those where the actor
    /// may create subgroups, but for the group itself, the groups below it and its parent.
    pub async fn transfer_targets(&self, access: &GroupAccess) -> CoreResult<Vec<NamespaceRow>> {
        access.require(GroupAction::Transfer)?;
        let actor = access.actor();
        let mut conn = self.db.conn().await?;
        let candidates: Vec<NamespaceRow> = if crate::policy::administers(actor) {
            let filter = GroupFilter {
                viewer: Viewer::everything(),
                membership: false,
                parent: None,
                subtree: false,
                search: None,
                skip: Vec::new(),
                visibility: None,
                order_by: "path",
                sort: SortDirection::Asc,
            };
            namespaces::list_groups(&mut conn, &filter, Page { offset: 0, limit: 1000 }).await?.0
        } else {
            let user = actor.require_user()?;
            namespaces::groups_with_access(&mut conn, user.id)
                .await?
                .into_iter()
                .filter(|(_, level)| *level >= GroupAction::CreateSubgroup.required_level().as_i64())
                .map(|(group, _)| group)
                .collect()
        };
        let group = access.group();
        let below = format!("{}/", group.full_path);
        Ok(candidates
            .into_iter()
            .filter(|candidate| {
                candidate.id != group.id
                    && Some(candidate.id) != group.parent_id
                    && !candidate.full_path.starts_with(&below)
            })
            .collect())
    }

    /// Groups in which the actor may create projects (Developer or more), for the new-project
    /// form.
    pub async fn groups_for_new_project(&self, actor: &Actor) -> CoreResult<Vec<NamespaceRow>> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let groups = namespaces::groups_with_access(&mut conn, user.id).await?;
        Ok(groups
            .into_iter()
            .filter(|(_, level)| *level >= AccessLevel::Developer.as_i64())
            .map(|(group, _)| group)
            .collect())
    }
}

/// Derives a URL path from a display name: lowercase ASCII letters and digits, other runs
/// turned into single dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c| matches!(c, '-' | '_' | '.'));
    trimmed.chars().take(gantry_types::MAX_SEGMENT_LEN).collect()
}

/// Who the actor is to a project or group: every stage asks this first, so it lives on
/// [`Core`] itself.
impl Core {
    /// Finds a group the actor may see.
    pub async fn find_group(&self, actor: &Actor, lookup: &Lookup) -> CoreResult<(NamespaceRow, Option<AccessLevel>)> {
        let access = self.group_access(actor, lookup).await?;
        let level = access.level();
        Ok((access.into_group(), level))
    }

    /// Who the actor is to the group a lookup names, read in one query (`NotFound` when they
    /// may not see it): what a request asks once and hands to every operation after.
    pub async fn group_access(&self, actor: &Actor, lookup: &Lookup) -> CoreResult<GroupAccess> {
        let mut conn = self.db.conn().await?;
        let key = match lookup {
            Lookup::Id(id) => NamespaceKey::Id(NamespaceId(*id)),
            Lookup::Path(path) => NamespaceKey::FullPath(path),
        };
        GroupAccess::load(&mut conn, actor, key).await
    }

    /// Checks that the actor may do `action` to the group.
    pub async fn authorize_group(
        &self,
        actor: &Actor,
        group: &NamespaceRow,
        action: GroupAction,
    ) -> CoreResult<Option<AccessLevel>> {
        let mut conn = self.db.conn().await?;
        authorize_group(&mut conn, actor, group, action).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_paths() {
        assert_eq!(slug("Platform Team"), "platform-team");
        assert_eq!(slug("  API (v2)!"), "api-v2");
        assert_eq!(slug("Ünïcode"), "n-code");
        assert!(matches!(Lookup::parse("12"), Lookup::Id(12)));
        assert!(matches!(Lookup::parse("acme/api"), Lookup::Path(p) if p == "acme/api"));
    }
}
