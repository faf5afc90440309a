//! CI/CD variables of the instance (administrators), groups and projects (Maintainers): key,
//! value, type (variable or file), masked, protected, raw, environment scope. Values are
//! encrypted at rest with the server's [`crate::SecretBox`]; masked values follow GitLab's
//! rules so they can be found in logs; a hidden variable (GitLab's `masked_and_hidden`) is
//! masked and its value is never given back to anyone, only to jobs. Jobs get them after the CI file's own variables, the
//! instance's first and the project's last, so the closest owner wins.

use gantry_db::ci::variables::{self, VariableFields, VariableOwner, VariableRow};
use gantry_db::manage::namespaces;
use gantry_types::{NamespaceId, VariableId};

use crate::policy::{GroupAction, ProjectAccess, ProjectAction, authorize_group, authorize_project};
use crate::{Actor, CoreError, CoreResult, NamespaceRow, ProjectRow};

/// Most characters a value may have.
pub const MAX_VALUE_LENGTH: usize = 10_000;

/// Whose variables.
#[derive(Debug, Clone, Copy)]
pub enum VariableScope<'a> {
    Instance,
    Group(&'a NamespaceRow),
    Project(&'a ProjectRow),
}

impl VariableScope<'_> {
    fn owner(self) -> VariableOwner {
        match self {
            VariableScope::Instance => VariableOwner::Instance,
            VariableScope::Group(group) => VariableOwner::Group(group.id),
            VariableScope::Project(project) => VariableOwner::Project(project.id),
        }
    }
}

/// A variable with its value (empty when it is hidden and read by a person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiVariable {
    pub key: String,
    pub value: String,
    /// Masked, and the value is never shown: people see `value` empty.
    pub hidden: bool,
    /// `env_var` or `file`.
    pub variable_type: String,
    pub masked: bool,
    pub protected: bool,
    pub raw: bool,
    pub environment_scope: String,
    pub description: String,
}

/// What a job's payload and a pipeline's rules take of a variable (`gantry_ci::payload`).
impl From<CiVariable> for gantry_ci::payload::CiCdVariable {
    fn from(variable: CiVariable) -> Self {
        gantry_ci::payload::CiCdVariable {
            file: variable.variable_type == "file",
            key: variable.key,
            value: variable.value,
            masked: variable.masked,
            raw: variable.raw,
        }
    }
}

/// A variable to create, or the new state of one.
#[derive(Debug, Clone, Default)]
pub struct VariableInput {
    pub key: String,
    /// Required for a new variable; `None` keeps a changed variable's value (how a hidden
    /// value, which nobody can read back, is kept).
    pub value: Option<String>,
    /// Hide the value for good (a new variable only: a variable's hiddenness never changes).
    pub hidden: bool,
    pub variable_type: Option<String>,
    pub masked: bool,
    pub protected: bool,
    pub raw: bool,
    pub environment_scope: Option<String>,
    pub description: Option<String>,
}

/// The context a value is sealed with: moving a sealed value to another row breaks it.
fn seal_context(row_owner: VariableOwner, key: &str) -> String {
    match row_owner {
        VariableOwner::Instance => format!("ci_variable:instance:{key}"),
        VariableOwner::Group(id) => format!("ci_variable:group:{id}:{key}"),
        VariableOwner::Project(id) => format!("ci_variable:project:{id}:{key}"),
    }
}

fn owner_of(row: &VariableRow) -> VariableOwner {
    match row.owner_kind.as_str() {
        "group" => VariableOwner::Group(NamespaceId(row.owner_id)),
        "project" => VariableOwner::Project(gantry_types::ProjectId(row.owner_id)),
        _ => VariableOwner::Instance,
    }
}

/// GitLab's rule for values that can be masked: one line, at least 8 characters, from the
/// Base64 alphabet and `@ : . ~ - _`.
pub fn maskable(value: &str) -> Result<(), String> {
    if value.chars().count() < 8 {
        return Err("must be at least 8 characters to be masked".to_owned());
    }
    if let Some(bad) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || "+/=@:.~-_".contains(*c))) {
        return Err(format!(
            "cannot be masked: '{}' is not allowed (use letters, digits and + / = @ : . ~ - _ only)",
            bad.escape_default()
        ));
    }
    Ok(())
}

/// Checks a variable's fields (its final `value`, `masked` and `hidden` given); returns the
/// defaults filled in.
fn checked(input: &VariableInput, value: &str, masked: bool) -> CoreResult<(String, String, String)> {
    if !super::jobs::is_variable_key(&input.key) {
        return Err(CoreError::invalid(
            "key",
            "must be 1 to 255 characters of letters, digits and _ (no spaces or other characters)",
        ));
    }
    if value.chars().count() > MAX_VALUE_LENGTH {
        return Err(CoreError::invalid("value", format!("is longer than {MAX_VALUE_LENGTH} characters")));
    }
    let variable_type = input.variable_type.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| "env_var".to_owned());
    if variable_type != "env_var" && variable_type != "file" {
        return Err(CoreError::invalid("variable_type", "must be env_var or file"));
    }
    if masked {
        maskable(value).map_err(|message| CoreError::invalid("value", message))?;
    }
    let scope = input.environment_scope.clone().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let scope = scope.unwrap_or_else(|| "*".to_owned());
    if scope.len() > 255 || scope.chars().any(|c| c.is_control() || c == ',') {
        return Err(CoreError::invalid("environment_scope", "must be an environment name or a pattern with *"));
    }
    let description = input.description.clone().unwrap_or_default();
    if description.len() > 255 {
        return Err(CoreError::invalid("description", "is longer than 255 characters"));
    }
    Ok((variable_type, scope, description))
}

/// Whether an environment scope (`*`, `production`, `review/*`) covers an environment.
pub fn scope_matches(scope: &str, environment: Option<&str>) -> bool {
    if scope == "*" {
        return true;
    }
    let Some(environment) = environment else { return false };
    gantry_git::refcheck::pattern_matches(scope, environment)
}

impl super::Ci<'_> {
    async fn authorize_variables(&self, actor: &Actor, scope: VariableScope<'_>) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        match scope {
            VariableScope::Instance => {
                crate::policy::require_admin(actor)?;
            }
            VariableScope::Group(group) => {
                authorize_group(&mut conn, actor, group, GroupAction::ManageCi).await?;
            }
            VariableScope::Project(project) => {
                authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
            }
        }
        Ok(())
    }

    /// A variable with its value, for jobs and masking only.
    fn open_variable(&self, row: &VariableRow) -> CoreResult<CiVariable> {
        let value = self
            .secrets
            .open(&seal_context(owner_of(row), &row.key), &row.value_sealed)
            .map_err(|error| CoreError::Internal(Box::new(error)))?;
        Ok(CiVariable {
            key: row.key.clone(),
            value,
            hidden: row.hidden,
            variable_type: row.variable_type.clone(),
            masked: row.masked,
            protected: row.protected,
            raw: row.raw,
            environment_scope: row.environment_scope.clone(),
            description: row.description.clone(),
        })
    }

    /// A variable as people see it: a hidden one's value is never opened.
    fn shown_variable(&self, row: &VariableRow) -> CoreResult<CiVariable> {
        if !row.hidden {
            return self.open_variable(row);
        }
        Ok(CiVariable {
            key: row.key.clone(),
            value: String::new(),
            hidden: true,
            variable_type: row.variable_type.clone(),
            masked: true,
            protected: row.protected,
            raw: row.raw,
            environment_scope: row.environment_scope.clone(),
            description: row.description.clone(),
        })
    }

    /// The variables of the instance, a group or a project.
    pub async fn list_ci_variables(&self, actor: &Actor, scope: VariableScope<'_>) -> CoreResult<Vec<CiVariable>> {
        self.authorize_variables(actor, scope).await?;
        let mut conn = self.db.conn().await?;
        let rows = variables::list_variables(&mut conn, scope.owner()).await?;
        rows.iter().map(|row| self.shown_variable(row)).collect()
    }

    /// A project's variables, for an actor whose access is at hand (Maintainers).
    pub async fn list_project_ci_variables(&self, access: &ProjectAccess) -> CoreResult<Vec<CiVariable>> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        let owner = VariableScope::Project(access.project()).owner();
        let rows = variables::list_variables(&mut conn, owner).await?;
        rows.iter().map(|row| self.shown_variable(row)).collect()
    }

    async fn variable_row(
        &self,
        scope: VariableScope<'_>,
        key: &str,
        environment_scope: Option<&str>,
    ) -> CoreResult<VariableRow> {
        let mut conn = self.db.conn().await?;
        let rows = variables::list_variables(&mut conn, scope.owner()).await?;
        let mut matching =
            rows.into_iter().filter(|r| r.key == key && environment_scope.is_none_or(|s| r.environment_scope == s));
        let first = matching.next().ok_or(CoreError::NotFound("variable"))?;
        if matching.next().is_some() {
            return Err(CoreError::Conflict(format!(
                "'{key}' exists for several environment scopes: name one with filter[environment_scope]"
            )));
        }
        Ok(first)
    }

    /// One variable by key (and environment scope, when several share the key).
    pub async fn ci_variable(
        &self,
        actor: &Actor,
        scope: VariableScope<'_>,
        key: &str,
        environment_scope: Option<&str>,
    ) -> CoreResult<CiVariable> {
        self.authorize_variables(actor, scope).await?;
        let row = self.variable_row(scope, key, environment_scope).await?;
        self.shown_variable(&row)
    }

    /// Creates a variable; the same key and environment scope twice is a conflict.
    pub async fn create_ci_variable(
        &self,
        actor: &Actor,
        scope: VariableScope<'_>,
        input: &VariableInput,
    ) -> CoreResult<CiVariable> {
        self.authorize_variables(actor, scope).await?;
        let value = input.value.as_deref().ok_or_else(|| CoreError::invalid("value", "is missing"))?;
        self.store_variable(scope, None, input, value, input.hidden).await
    }

    /// Replaces a variable (found by key and, when given, its current environment scope).
    pub async fn update_ci_variable(
        &self,
        actor: &Actor,
        scope: VariableScope<'_>,
        key: &str,
        environment_scope: Option<&str>,
        input: &VariableInput,
    ) -> CoreResult<CiVariable> {
        self.authorize_variables(actor, scope).await?;
        let row = self.variable_row(scope, key, environment_scope).await?;
        // A value nobody can read back is kept unless a new one is given (the key may change
        // too, and the seal is bound to it, so the old value is opened and sealed again).
        let kept;
        let value = match input.value.as_deref() {
            Some(value) => value,
            None => {
                kept = self.open_variable(&row)?.value;
                &kept
            }
        };
        self.store_variable(scope, Some(row.id), input, value, row.hidden).await
    }

    /// Checks and seals `input` with `value`, then inserts it or replaces the row `existing`.
    /// A hidden variable is masked whatever the input says.
    async fn store_variable(
        &self,
        scope: VariableScope<'_>,
        existing: Option<VariableId>,
        input: &VariableInput,
        value: &str,
        hidden: bool,
    ) -> CoreResult<CiVariable> {
        let masked = input.masked || hidden;
        let (variable_type, environment_scope, description) = checked(input, value, masked)?;
        let owner = scope.owner();
        let sealed = self.secrets.seal(&seal_context(owner, &input.key), value);
        let fields = VariableFields {
            key: &input.key,
            value_sealed: &sealed,
            variable_type: &variable_type,
            masked,
            hidden,
            protected: input.protected,
            raw: input.raw,
            environment_scope: &environment_scope,
            description: &description,
        };
        let mut conn = self.db.conn().await?;
        let stored = match existing {
            None => variables::insert_variable(&mut conn, owner, &fields).await.map(|_| ()),
            Some(id) => variables::update_variable(&mut conn, id, &fields).await.map(|_| ()),
        };
        match stored {
            Ok(()) => {}
            Err(gantry_db::DbError::Conflict(_)) => {
                return Err(CoreError::Conflict(format!(
                    "(key) {} has already been taken for environment scope {environment_scope}",
                    input.key
                )));
            }
            Err(error) => return Err(error.into()),
        }
        Ok(CiVariable {
            key: input.key.clone(),
            value: if hidden { String::new() } else { value.to_owned() },
            hidden,
            variable_type,
            masked,
            protected: input.protected,
            raw: input.raw,
            environment_scope,
            description,
        })
    }

    /// Deletes a variable.
    pub async fn delete_ci_variable(
        &self,
        actor: &Actor,
        scope: VariableScope<'_>,
        key: &str,
        environment_scope: Option<&str>,
    ) -> CoreResult<()> {
        self.authorize_variables(actor, scope).await?;
        let row = self.variable_row(scope, key, environment_scope).await?;
        let mut conn = self.db.conn().await?;
        variables::delete_variable(&mut conn, row.id).await?;
        Ok(())
    }

    /// The CI/CD variables a job of `project` gets, in precedence order (later wins): the
    /// instance's, each group's from the top down, the project's. Protected ones only on
    /// protected refs; environment-scoped ones only for matching environments (`*` ones first,
    /// so a specific scope wins over `*`).
    pub(crate) async fn variables_for_job(
        &self,
        project: &ProjectRow,
        protected_ref: bool,
        environment: Option<&str>,
    ) -> CoreResult<Vec<CiVariable>> {
        let mut conn = self.db.conn().await?;
        let chain = namespaces::namespace_with_ancestors(&mut conn, project.namespace_id).await?;
        let groups: Vec<NamespaceId> =
            chain.iter().filter(|n| n.kind == crate::NamespaceKind::Group).map(|n| n.id).collect();
        let rows = variables::variables_for_job(&mut conn, &groups, project.id).await?;
        drop(conn);
        // Instance first, then groups from the root down (the chain's order), then the project;
        // within each, `*` before specific scopes.
        let rank = |row: &VariableRow| -> (usize, bool) {
            let level = match row.owner_kind.as_str() {
                "instance" => 0,
                "group" => {
                    // The chain starts at the top-level group.
                    let depth = chain.iter().position(|n| n.id.0 == row.owner_id).unwrap_or(0);
                    1 + depth
                }
                _ => chain.len() + 2,
            };
            (level, row.environment_scope != "*")
        };
        let mut rows: Vec<&VariableRow> = rows
            .iter()
            .filter(|r| !r.protected || protected_ref)
            .filter(|r| scope_matches(&r.environment_scope, environment))
            .collect();
        rows.sort_by_key(|r| rank(r));
        rows.into_iter().map(|row| self.open_variable(row)).collect()
    }
}

impl super::Ci<'_> {
    /// The keys of the protected variables a job of the project could get (the instance's, its
    /// groups', its own): pipeline variables may not take these names.
    pub(crate) async fn protected_variable_keys(
        &self,
        project: &ProjectRow,
    ) -> CoreResult<std::collections::BTreeSet<String>> {
        let mut conn = self.db.conn().await?;
        let chain = namespaces::namespace_with_ancestors(&mut conn, project.namespace_id).await?;
        let groups: Vec<NamespaceId> =
            chain.iter().filter(|n| n.kind == crate::NamespaceKind::Group).map(|n| n.id).collect();
        let rows = variables::variables_for_job(&mut conn, &groups, project.id).await?;
        Ok(rows.into_iter().filter(|row| row.protected).map(|row| row.key).collect())
    }

    /// Every variable a job of the project could get, whatever its environment (for masking).
    pub(crate) async fn all_scoped_variables(&self, project: &ProjectRow) -> CoreResult<Vec<CiVariable>> {
        let mut conn = self.db.conn().await?;
        let chain = namespaces::namespace_with_ancestors(&mut conn, project.namespace_id).await?;
        let groups: Vec<NamespaceId> = chain.iter().map(|n| n.id).collect();
        let rows = variables::variables_for_job(&mut conn, &groups, project.id).await?;
        rows.iter().map(|row| self.open_variable(row)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_follow_gitlab_rules() {
        assert!(maskable("abcd1234").is_ok());
        assert!(maskable("aGVsbG8gd29ybGQ=@:.~-_+/").is_ok());
        assert!(maskable("short").unwrap_err().contains("at least 8"));
        assert!(maskable("has a space").unwrap_err().contains("' '"));
        assert!(maskable("two\nlines!").is_err());
    }

    #[test]
    fn environment_scopes_match_names_and_patterns() {
        assert!(scope_matches("*", None));
        assert!(scope_matches("production", Some("production")));
        assert!(!scope_matches("production", None));
        assert!(scope_matches("review/*", Some("review/feature-1")));
        assert!(!scope_matches("review/*", Some("staging")));
    }
}
