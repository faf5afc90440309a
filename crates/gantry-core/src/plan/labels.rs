//! Labels of a project or a group: a name unique within its owner ignoring case (no commas:
//! lists of labels are comma-separated), a colour and a description. A project uses its own
//! labels and those of every group above it; Reporters and above manage them (GitLab's rule).

use gantry_db::plan::labels::{self as db, LabelFields};
pub use gantry_db::plan::labels::{LabelOwner, LabelRow};
use gantry_types::LabelId;

use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

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

impl LabelScope<'_> {
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
