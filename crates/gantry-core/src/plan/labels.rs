//! Labels of a project or a group: a name unique within its owner ignoring case (no commas:
//! lists of labels are comma-separated), a colour and a description. A project uses its own
//! labels and those of every group above it; Reporters and above manage them (GitLab's rule).
//!
//! Also as GitLab: a project's label priorities (its "prioritized labels", first first: the
//! labels page lists them before the others), subscriptions (whoever sees a label may subscribe
//! to it, in one project's issues or, from the group, everywhere, and hears of every issue that
//! gets it), and promotion of a project label to its group, which merges the same-named labels
//! of the group's projects into it.

use std::collections::{HashMap, HashSet};

use gantry_db::manage::namespaces::{NamespaceKey, NamespaceKind, NamespaceRow, find_namespace_by_id};
use gantry_db::manage::projects::project_ids_in_subtree;
use gantry_db::plan::labels::{self as db, LabelFields};
pub use gantry_db::plan::labels::{LabelOwner, LabelRow};
use gantry_types::{LabelId, ProjectId};

use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult};

/// The colour a label gets when none is given (GitLab's).
pub const DEFAULT_LABEL_COLOR: &str = "#6699cc";

/// Longest label name and description.
const MAX_TITLE: usize = 255;
const MAX_DESCRIPTION: usize = 10_000;

/// Whose labels an operation is about.
#[derive(Debug, Clone, Copy)]
pub enum LabelScope<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

impl<'a> LabelScope<'a> {
    fn owner(self) -> LabelOwner {
        match self {
            LabelScope::Project(access) => LabelOwner::Project(access.project().id),
            LabelScope::Group(access) => LabelOwner::Group(access.group().id),
        }
    }

    /// Checks that the actor may manage the labels here (Reporters and above).
    pub fn require_manage(self) -> CoreResult<()> {
        match self {
            LabelScope::Project(access) => access.require(ProjectAction::ManageLabels),
            LabelScope::Group(access) => access.require(GroupAction::ManageLabels),
        }
    }

    /// Whether the actor may manage the labels here.
    pub fn can_manage(self) -> bool {
        self.require_manage().is_ok()
    }

    /// The project a subscription made here is for (none from a group: everywhere).
    fn subscription_project(self) -> Option<ProjectId> {
        match self {
            LabelScope::Project(access) => Some(access.project().id),
            LabelScope::Group(_) => None,
        }
    }

    /// Who acts.
    fn actor(self) -> &'a Actor {
        match self {
            LabelScope::Project(access) => access.actor(),
            LabelScope::Group(access) => access.actor(),
        }
    }
}

/// What one person sees of labels beside their rows: the project's priorities (a group's
/// labels have none of their own) and which labels they subscribed to here.
#[derive(Debug, Clone, Default)]
pub struct LabelMarks {
    priorities: HashMap<LabelId, i64>,
    subscribed: HashSet<LabelId>,
}

impl LabelMarks {
    /// The label's priority in the project (lower first), if it has one.
    pub fn priority(&self, id: LabelId) -> Option<i64> {
        self.priorities.get(&id).copied()
    }

    /// Whether the person hears of issues getting this label here.
    pub fn subscribed(&self, id: LabelId) -> bool {
        self.subscribed.contains(&id)
    }
}

/// Most labels one project prioritises (a bound on what the labels page orders).
const MAX_PRIORITIES: usize = 500;

fn too_many_priorities() -> CoreError {
    CoreError::invalid("priority", format!("cannot be set: a project prioritises at most {MAX_PRIORITIES} labels"))
}

/// Where a label moves among the prioritised ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorityStep {
    /// Joins them at the end (no change for one prioritised already).
    Prioritize,
    Up,
    Down,
}

/// A label as asked for: on create, a missing name is refused and a missing colour is the
/// default; on update, what is missing stays.
#[derive(Debug, Clone, Default)]
pub struct LabelInput {
    pub name: Option<String>,
    pub color: Option<String>,
    pub description: Option<String>,
}

/// A label name as stored: trimmed, not empty, at most 255 characters, no commas.
pub fn check_label_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("title", "can't be blank"));
    }
    if name.chars().count() > MAX_TITLE {
        return Err(CoreError::invalid("title", "is too long (maximum is 255 characters)"));
    }
    if name.contains(',') || name.chars().any(char::is_control) {
        return Err(CoreError::invalid("title", "is invalid: a label name holds no commas"));
    }
    Ok(name.to_owned())
}

/// A colour as stored: `#rrggbb` in lowercase, from `#rgb` or `#rrggbb`.
pub fn check_label_color(color: &str) -> CoreResult<String> {
    let color = color.trim();
    let hex = color.strip_prefix('#').unwrap_or("");
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) || !matches!(hex.len(), 3 | 6) {
        return Err(CoreError::invalid("color", "must be a valid color code, such as #6699cc"));
    }
    let hex = hex.to_ascii_lowercase();
    Ok(if hex.len() == 3 {
        format!("#{}", hex.chars().flat_map(|c| [c, c]).collect::<String>())
    } else {
        format!("#{hex}")
    })
}

fn check_description(description: &str) -> CoreResult<String> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(CoreError::invalid("description", "is too long (maximum is 10000 characters)"));
    }
    Ok(description.to_owned())
}

impl super::Plan<'_> {
    /// The labels of a project: its own and its groups', by name (anyone who sees the project).
    pub async fn list_project_labels(&self, access: &ProjectAccess) -> CoreResult<Vec<LabelRow>> {
        access.require(ProjectAction::ReadIssues)?;
        let mut conn = self.db.conn().await?;
        Ok(db::list_project_labels(&mut conn, access.project().id).await?)
    }

    /// The labels of a group, and of the groups above it with `with_ancestors`.
    pub async fn list_group_labels(&self, access: &GroupAccess, with_ancestors: bool) -> CoreResult<Vec<LabelRow>> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        Ok(db::list_group_labels(&mut conn, access.group().id, with_ancestors).await?)
    }

    /// A label by id or by name (ignoring case): of a project, its own or its groups' (the
    /// project's first); of a group, its own or its ancestors'.
    pub async fn find_label(&self, scope: LabelScope<'_>, id_or_name: &str) -> CoreResult<LabelRow> {
        let labels = match scope {
            LabelScope::Project(access) => self.list_project_labels(access).await?,
            LabelScope::Group(access) => self.list_group_labels(access, true).await?,
        };
        let by_id = id_or_name.parse::<i64>().ok();
        labels
            .iter()
            .find(|label| Some(label.id.0) == by_id)
            .or_else(|| labels.iter().find(|label| label.title.eq_ignore_ascii_case(id_or_name.trim())))
            .or_else(|| labels.iter().find(|label| label.title.to_lowercase() == id_or_name.trim().to_lowercase()))
            .cloned()
            .ok_or(CoreError::NotFound("label"))
    }

    /// Creates a label (Reporters and above); a name the owner has already is a conflict.
    pub async fn create_label(&self, scope: LabelScope<'_>, input: &LabelInput) -> CoreResult<LabelRow> {
        scope.require_manage()?;
        let title = check_label_name(input.name.as_deref().unwrap_or(""))?;
        let color = check_label_color(input.color.as_deref().unwrap_or(DEFAULT_LABEL_COLOR))?;
        let description = check_description(input.description.as_deref().unwrap_or(""))?;
        let mut conn = self.db.conn().await?;
        let fields = LabelFields { title: &title, color: &color, description: &description };
        let id = db::insert_label(&mut conn, scope.owner(), &fields)
            .await
            .map_err(crate::manage::conflict_as("Label already exists"))?;
        tracing::info!(label.id = %id, label = %title, "label created");
        db::find_label(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("label"))
    }

    /// Changes a label of exactly this owner (a project cannot change its group's labels).
    pub async fn update_label(&self, scope: LabelScope<'_>, id: LabelId, input: &LabelInput) -> CoreResult<LabelRow> {
        scope.require_manage()?;
        let mut conn = self.db.conn().await?;
        let label = db::find_label(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("label"))?;
        let title = match &input.name {
            Some(name) => check_label_name(name)?,
            None => label.title.clone(),
        };
        let color = match &input.color {
            Some(color) => check_label_color(color)?,
            None => label.color.clone(),
        };
        let description = match &input.description {
            Some(description) => check_description(description)?,
            None => label.description.clone(),
        };
        let fields = LabelFields { title: &title, color: &color, description: &description };
        db::update_label(&mut conn, id, &fields).await.map_err(crate::manage::conflict_as("Label already exists"))?;
        db::find_label(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("label"))
    }

    /// The actor's marks on the labels of `scope`: the project's priorities and their own
    /// subscriptions (none for an anonymous visitor).
    pub async fn label_marks(&self, scope: LabelScope<'_>) -> CoreResult<LabelMarks> {
        let mut conn = self.db.conn().await?;
        let priorities = match scope {
            LabelScope::Project(access) => {
                access.require(ProjectAction::ReadIssues)?;
                db::label_priorities(&mut conn, access.project().id).await?.into_iter().collect()
            }
            LabelScope::Group(access) => {
                access.require(GroupAction::Read)?;
                HashMap::new()
            }
        };
        let subscribed = match scope.actor().user() {
            Some(user) => db::subscribed_labels(&mut conn, user.id, scope.subscription_project()).await?,
            None => Vec::new(),
        };
        Ok(LabelMarks { priorities, subscribed: subscribed.into_iter().collect() })
    }

    /// Subscribes the actor to a label they see here (in the project's issues, or from a group
    /// everywhere), or unsubscribes them from it here (in a project that ends a subscription
    /// made from the group too; from the group, every one); whether that changed anything.
    pub async fn subscribe_to_label(&self, scope: LabelScope<'_>, id: LabelId, subscribed: bool) -> CoreResult<bool> {
        let user = scope.actor().require_user()?;
        let label = self.find_label(scope, &id.0.to_string()).await?;
        let mut conn = self.db.conn().await?;
        let changed =
            db::set_label_subscription(&mut conn, label.id, user.id, scope.subscription_project(), subscribed).await?;
        if changed {
            tracing::info!(label.id = %label.id, subscribed, "label subscription changed");
        }
        Ok(changed)
    }

    /// Sets the priority of a label the project uses (Reporters and above); `None` takes it
    /// away. A priority is a number from 0, lower first.
    pub async fn set_label_priority(
        &self,
        access: &ProjectAccess,
        id: LabelId,
        priority: Option<i64>,
    ) -> CoreResult<()> {
        access.require(ProjectAction::ManageLabels)?;
        if priority.is_some_and(|p| p < 0) {
            return Err(CoreError::invalid("priority", "must be greater than or equal to 0"));
        }
        let label = self.find_label(LabelScope::Project(access), &id.0.to_string()).await?;
        let mut tx = self.db.begin().await?;
        let project = access.project().id;
        if priority.is_some() {
            let priorities = db::label_priorities(&mut tx, project).await?;
            if priorities.len() >= MAX_PRIORITIES && !priorities.iter().any(|(l, _)| *l == label.id) {
                return Err(too_many_priorities());
            }
        }
        db::set_label_priority(&mut tx, project, label.id, priority).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(())
    }

    /// Moves a label among the project's prioritised ones: one without a priority joins them
    /// at the end, one with a priority moves a place up or down; the priorities are numbered
    /// again 0, 1, 2… in their new order.
    pub async fn move_label_priority(&self, access: &ProjectAccess, id: LabelId, step: PriorityStep) -> CoreResult<()> {
        access.require(ProjectAction::ManageLabels)?;
        let label = self.find_label(LabelScope::Project(access), &id.0.to_string()).await?;
        let project = access.project().id;
        let mut tx = self.db.begin().await?;
        let mut order: Vec<LabelId> =
            db::label_priorities(&mut tx, project).await?.into_iter().map(|(l, _)| l).collect();
        match (order.iter().position(|l| *l == label.id), step) {
            (None, _) if order.len() >= MAX_PRIORITIES => return Err(too_many_priorities()),
            (None, _) => order.push(label.id),
            (Some(at), PriorityStep::Up) if at > 0 => order.swap(at, at - 1),
            (Some(at), PriorityStep::Down) if at + 1 < order.len() => order.swap(at, at + 1),
            (Some(_), _) => {}
        }
        for (index, label) in order.iter().enumerate() {
            db::set_label_priority(&mut tx, project, *label, Some(i64::try_from(index).unwrap_or(i64::MAX))).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(())
    }

    /// The group the project's labels would be promoted to, when the project is in a group
    /// and the actor manages the labels of both.
    pub async fn label_promotion_group(&self, access: &ProjectAccess) -> CoreResult<Option<NamespaceRow>> {
        if !access.can(ProjectAction::ManageLabels) {
            return Ok(None);
        }
        let mut conn = self.db.conn().await?;
        match GroupAccess::load(&mut conn, access.actor(), NamespaceKey::Id(access.project().namespace_id)).await {
            Ok(group) if group.can(GroupAction::ManageLabels) => Ok(Some(group.into_group())),
            Ok(_) | Err(CoreError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Promotes one of the project's own labels to the group the project is in (GitLab's
    /// promotion; the actor manages the labels of both): see [`db::promote_label`]. Returns
    /// the group label.
    pub async fn promote_label(&self, access: &ProjectAccess, id: LabelId) -> CoreResult<LabelRow> {
        access.require(ProjectAction::ManageLabels)?;
        let project = access.project();
        let mut tx = self.db.begin().await?;
        let label =
            db::find_label(&mut tx, LabelOwner::Project(project.id), id).await?.ok_or(CoreError::NotFound("label"))?;
        let in_group = find_namespace_by_id(&mut tx, project.namespace_id)
            .await?
            .is_some_and(|namespace| namespace.kind == NamespaceKind::Group);
        if !in_group {
            return Err(CoreError::invalid(
                "label",
                "cannot be promoted: the project is not in a group (only a group's projects share labels)",
            ));
        }
        let group = match GroupAccess::load(&mut tx, access.actor(), NamespaceKey::Id(project.namespace_id)).await {
            Ok(group) => group,
            Err(CoreError::NotFound(_)) => {
                return Err(CoreError::Forbidden("promoting a label needs the group's labels to manage".to_owned()));
            }
            Err(error) => return Err(error),
        };
        group.require(GroupAction::ManageLabels)?;
        let projects = project_ids_in_subtree(&mut tx, group.group().id).await?;
        let promoted = db::promote_label(&mut tx, &label, group.group().id, &projects).await?;
        let row = db::find_label(&mut tx, LabelOwner::Group(group.group().id), promoted)
            .await?
            .ok_or(CoreError::NotFound("label"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(label.id = %row.id, label = %row.title, group = %group.group().full_path, "label promoted to its group");
        Ok(row)
    }

    /// Deletes a label of exactly this owner; issues stop carrying it.
    pub async fn delete_label(&self, scope: LabelScope<'_>, id: LabelId) -> CoreResult<LabelRow> {
        scope.require_manage()?;
        let mut conn = self.db.conn().await?;
        let label = db::find_label(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("label"))?;
        db::delete_label(&mut conn, id).await?;
        tracing::info!(label.id = %id, label = %label.title, "label deleted");
        Ok(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stored_as_six_lowercase_hex_digits() {
        assert_eq!(check_label_color("#ABC").unwrap(), "#aabbcc");
        assert_eq!(check_label_color(" #6699CC ").unwrap(), "#6699cc");
        assert!(check_label_color("red").is_err());
        assert!(check_label_color("#12345").is_err());
        assert!(check_label_name("a,b").is_err());
        assert!(check_label_name("  ").is_err());
        assert_eq!(check_label_name(" bug ").unwrap(), "bug");
    }
}
