//! The one place that decides who may do what. Every core operation on a group or project asks
//! here first; a resource the actor may not see is `NotFound`, one they may see but not change
//! is `Forbidden`.
//!
//! Roles are inherited down the group tree and the highest applicable one wins; a group or
//! project shared with a group gives that group's members (direct or inherited) the lower of
//! their own role there and the share's; the owner of a personal namespace is Owner of its
//! projects; administrators are Owner everywhere. The roles come from gantry-db's role lookups
//! (`members::role_level!` and its kin), which count memberships and shares alike.
//!
//! A CI job's token reads its own project, and another only where that project's job token
//! scope lets the job's project in and the job's user may read it ([`authorize_job_token`]).
//!
//! A request asks once: [`ProjectAccess`] reads the project and the actor's role in one query
//! and answers every later question (`access.can(ProjectAction::PushCode)`) without another.
//!
//! Long because it is the one place rules live: splitting it would scatter them again.

use gantry_db::Conn;
use gantry_db::code::protected_branches::ProtectedBranchRow;
use gantry_db::code::protected_tags::ProtectedTagRow;
use gantry_db::manage::deploy_keys::{DeployKeyRow, list_usable_deploy_keys};
use gantry_db::manage::members::effective_access_level;
use gantry_db::manage::namespaces::{NamespaceKey, NamespaceKind, find_namespace_access};
use gantry_db::manage::projects::{ProjectAccessRow, ProjectKey, find_project_access};
use gantry_types::{AccessLevel, UserId, Visibility};

use crate::{Actor, CoreError, CoreResult, NamespaceRow, ProjectRow, UserRow};

/// Something an actor may do to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    /// See the project and its contents.
    Read,
    /// Clone, fetch and browse the repository: anyone who may see a public or internal
    /// project; Reporters and above of a private one (Guests see only its issues).
    ReadCode,
    /// Push to the repository (protected branches may ask for more).
    PushCode,
    /// Protect and unprotect branches, create and delete branches and tags in the UI and API
    /// the same way pushes do.
    ManageProtectedBranches,
    /// See, add and remove protected-tag rules, and delete protected tags in the UI and API
    /// (no push may).
    ManageProtectedTags,
    /// Change name, description, visibility, default branch.
    Update,
    /// Add, change and remove members.
    ManageMembers,
    /// Archive or unarchive.
    Archive,
    /// Change the URL path.
    ChangePath,
    /// Move to another namespace.
    Transfer,
    /// Delete the project.
    Delete,
    /// See pipelines, jobs and their logs: like reading the code.
    ReadPipelines,
    /// Run, retry, cancel and play pipelines and jobs.
    RunPipelines,
    /// Change CI settings and variables, register and manage the project's runners.
    ManageCi,
    /// Delete pipelines.
    DeletePipelines,
    /// See, add, enable, change and remove the project's deploy keys and deploy tokens.
    ManageDeployCredentials,
    /// See, create, rotate and revoke the project's access tokens (Maintainers, as in GitLab;
    /// a token's role is at most the creator's).
    ManageAccessTokens,
    /// Mark the project as a CI/CD Catalog resource, or remove the mark (Owners, as in
    /// GitLab).
    ManageCatalog,
    /// See the project's issues and their notes: anyone who may see the project (confidential
    /// issues ask [`ProjectAccess::can_read_issue`]).
    ReadIssues,
    /// Open an issue and comment on issues: any signed-in user who may see the project.
    CreateIssue,
    /// Edit, close and reopen any issue and set its labels, assignees, due date, weight,
    /// confidentiality and lock (Reporters, as in GitLab; an issue's author and assignees may
    /// edit, close and reopen it: [`ProjectAccess::can_edit_issue`]).
    UpdateIssues,
    /// See every confidential issue (Reporters, as in GitLab).
    ReadConfidentialIssues,
    /// Create, change and delete the project's labels (Reporters, as in GitLab).
    ManageLabels,
    /// Create, change, close, reopen and delete the project's milestones (Reporters, as in
    /// GitLab).
    ManageMilestones,
    /// Create, rename and delete the project's issue boards and their lists (Reporters, as in
    /// GitLab; moving a card is changing its issue).
    ManageBoards,
    /// Delete issues (Owners, as in GitLab).
    DeleteIssues,
    /// Read the wiki, in the pages and with git: anyone who may see the project (Guests of a
    /// private one too, as in GitLab).
    ReadWiki,
    /// Create, change and delete wiki pages and attachments, and push to the wiki (Developers,
    /// as in GitLab; not in an archived project).
    EditWiki,
}

impl ProjectAction {
    /// The lowest role that may do this (reading also follows visibility).
    pub fn required_level(self) -> AccessLevel {
        match self {
            ProjectAction::Read | ProjectAction::ReadIssues | ProjectAction::CreateIssue | ProjectAction::ReadWiki => {
                AccessLevel::Guest
            }
            ProjectAction::UpdateIssues
            | ProjectAction::ReadConfidentialIssues
            | ProjectAction::ManageLabels
            | ProjectAction::ManageMilestones
            | ProjectAction::ManageBoards => AccessLevel::Reporter,
            ProjectAction::ReadCode | ProjectAction::ReadPipelines => AccessLevel::Reporter,
            ProjectAction::PushCode | ProjectAction::RunPipelines | ProjectAction::EditWiki => AccessLevel::Developer,
            ProjectAction::ManageProtectedBranches
            | ProjectAction::ManageProtectedTags
            | ProjectAction::Update
            | ProjectAction::ManageMembers
            | ProjectAction::Archive
            | ProjectAction::ChangePath
            | ProjectAction::ManageCi
            | ProjectAction::ManageDeployCredentials
            | ProjectAction::ManageAccessTokens => AccessLevel::Maintainer,
            ProjectAction::Transfer
            | ProjectAction::Delete
            | ProjectAction::DeletePipelines
            | ProjectAction::ManageCatalog
            | ProjectAction::DeleteIssues => AccessLevel::Owner,
        }
    }
}

/// Something an actor may do to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAction {
    /// See the group, its members, subgroups and (visible) projects.
    Read,
    /// Create a project in the group.
    CreateProject,
    /// Create a subgroup.
    CreateSubgroup,
    /// Add, change and remove members.
    ManageMembers,
    /// Change name, description, visibility, path.
    Update,
    /// Delete the group and everything in it.
    Delete,
    /// Move the group under another group or to the top level (Owners, as in GitLab; the new
    /// parent also needs `CreateSubgroup`).
    Transfer,
    /// See and change the group's protected branches, which apply to every project below it
    /// (Owners, as in GitLab).
    ManageProtectedBranches,
    /// Manage the group's CI/CD variables (Maintainers, as in GitLab).
    ManageCi,
    /// Register, change and remove the group's runners (Owners, as in GitLab).
    ManageRunners,
    /// See the group's deploy tokens (Maintainers, as in GitLab).
    ReadDeployTokens,
    /// Create and revoke the group's deploy tokens (Owners, as in GitLab).
    ManageDeployTokens,
    /// See, create, rotate and revoke the group's access tokens (Owners, as in GitLab).
    ManageAccessTokens,
    /// Create, change and delete the group's labels (Reporters, as in GitLab).
    ManageLabels,
    /// Create, change, close, reopen and delete the group's milestones (Reporters, as in
    /// GitLab).
    ManageMilestones,
    /// Create, change and delete the group's iteration cadences and their iterations
    /// (Reporters, as in GitLab).
    ManageIterations,
    /// Create, rename and delete the group's issue boards and their lists (Reporters, as in
    /// GitLab).
    ManageBoards,
    /// Create, change, close and reopen the group's epics, and put issues and epics in them
    /// (Reporters, as in GitLab).
    ManageEpics,
    /// See the group's confidential epics (Reporters, as in GitLab).
    ReadConfidentialEpics,
    /// Delete the group's epics (Owners, as in GitLab).
    DeleteEpics,
    /// Read the group's wiki, and clone it (whoever sees the group, as in GitLab).
    ReadWiki,
    /// Write, move and delete the group's wiki pages, attach files, and push to the wiki
    /// (Developers, as in GitLab).
    EditWiki,
}

impl GroupAction {
    /// The lowest role that may do this (reading also follows visibility).
    pub fn required_level(self) -> AccessLevel {
        match self {
            GroupAction::Read | GroupAction::ReadWiki => AccessLevel::Guest,
            GroupAction::ManageLabels
            | GroupAction::ManageMilestones
            | GroupAction::ManageIterations
            | GroupAction::ManageBoards
            | GroupAction::ManageEpics
            | GroupAction::ReadConfidentialEpics => AccessLevel::Reporter,
            GroupAction::CreateProject | GroupAction::EditWiki => AccessLevel::Developer,
            GroupAction::CreateSubgroup
            | GroupAction::ManageMembers
            | GroupAction::ManageCi
            | GroupAction::ReadDeployTokens => AccessLevel::Maintainer,
            GroupAction::Update
            | GroupAction::Delete
            | GroupAction::Transfer
            | GroupAction::ManageProtectedBranches
            | GroupAction::ManageRunners
            | GroupAction::ManageDeployTokens
            | GroupAction::ManageAccessTokens
            | GroupAction::DeleteEpics => AccessLevel::Owner,
        }
    }
}

/// Whether visibility alone lets the actor see something.
pub(crate) fn visible_without_membership(actor: &Actor, visibility: Visibility) -> bool {
    match visibility {
        Visibility::Public => true,
        Visibility::Internal => actor.user().is_some(),
        Visibility::Private => false,
    }
}

/// The actor's role on a namespace (for a personal namespace: Owner for its owner, nothing
/// for others; for a group: the highest role held on it or an ancestor).
pub async fn namespace_level(
    conn: &mut Conn,
    actor: &Actor,
    namespace: &NamespaceRow,
) -> CoreResult<Option<AccessLevel>> {
    let Some(user) = actor.user() else { return Ok(None) };
    if user.is_admin || namespace.owner_id == Some(user.id) {
        return Ok(Some(AccessLevel::Owner));
    }
    if namespace.kind == NamespaceKind::User {
        return Ok(None);
    }
    let level = effective_access_level(conn, user.id, namespace.id, None).await?;
    Ok(level.and_then(AccessLevel::from_i64))
}

/// The actor's role on a project (one query; none for anonymous visitors and administrators).
pub async fn project_level(conn: &mut Conn, actor: &Actor, project: &ProjectRow) -> CoreResult<Option<AccessLevel>> {
    let Some(user) = actor.user() else { return Ok(None) };
    if user.is_admin {
        return Ok(Some(AccessLevel::Owner));
    }
    let row = find_project_access(conn, ProjectKey::Id(project.id), Some(user.id))
        .await?
        .ok_or(CoreError::NotFound("project"))?;
    Ok(level_of(user, &row))
}

/// The role a user's row of `find_project_access` gives: Owner for administrators and the
/// owner of the personal namespace, else the highest membership.
fn level_of(user: &gantry_db::manage::users::UserRow, row: &ProjectAccessRow) -> Option<AccessLevel> {
    if user.is_admin || row.namespace.owner_id == Some(user.id) {
        return Some(AccessLevel::Owner);
    }
    row.access_level.and_then(AccessLevel::from_i64)
}

/// Checks that the actor may do `action` to the project; returns their role.
pub async fn authorize_project(
    conn: &mut Conn,
    actor: &Actor,
    project: &ProjectRow,
    action: ProjectAction,
) -> CoreResult<Option<AccessLevel>> {
    let level = project_level(conn, actor, project).await?;
    decide_project(actor, project, level, action)?;
    Ok(level)
}

/// The project rule, once the actor's role is known: `NotFound` for those who may not see the
/// project, `Unauthorized` (anonymous) or `Forbidden` for those who see it but may not act, and
/// an archived project's repository and pipelines are read-only.
fn decide_project(
    actor: &Actor,
    project: &ProjectRow,
    level: Option<AccessLevel>,
    action: ProjectAction,
) -> CoreResult<()> {
    let open = visible_without_membership(actor, project.visibility);
    if level.is_none() && !open {
        return Err(CoreError::NotFound("project"));
    }
    let is_read = matches!(action, ProjectAction::Read | ProjectAction::ReadIssues | ProjectAction::ReadWiki)
        || (matches!(action, ProjectAction::ReadCode | ProjectAction::ReadPipelines) && open);
    if action == ProjectAction::CreateIssue {
        // Anyone signed in who sees the project opens issues and comments, as in GitLab.
        actor.require_user()?;
    } else {
        check_level(actor, level, action.required_level(), is_read, "project")?;
    }
    if matches!(action, ProjectAction::PushCode | ProjectAction::RunPipelines) && project.archived {
        return Err(CoreError::Forbidden("this project is archived: its repository is read-only".to_owned()));
    }
    if action == ProjectAction::EditWiki && project.archived {
        return Err(CoreError::Forbidden("this project is archived: its wiki is read-only".to_owned()));
    }
    let plans = [
        ProjectAction::CreateIssue,
        ProjectAction::UpdateIssues,
        ProjectAction::ManageLabels,
        ProjectAction::ManageMilestones,
        ProjectAction::ManageBoards,
    ];
    if plans.contains(&action) && project.archived {
        return Err(CoreError::Forbidden(
            "this project is archived: its issues, labels, milestones and boards are read-only".to_owned(),
        ));
    }
    Ok(())
}

/// The projects among `projects` (ones the actor may see) whose code the actor may read, in
/// their order: public and internal ones by visibility alone, private ones by the actor's role
/// (one query each, so callers bound how many they pass).
pub async fn projects_with_readable_code(
    conn: &mut Conn,
    actor: &Actor,
    projects: Vec<ProjectRow>,
) -> CoreResult<Vec<ProjectRow>> {
    let mut readable = Vec::with_capacity(projects.len());
    for project in projects {
        let level = if visible_without_membership(actor, project.visibility) {
            None
        } else {
            match project_level(conn, actor, &project).await {
                Ok(level) => level,
                Err(CoreError::NotFound(_)) => continue,
                Err(error) => return Err(error),
            }
        };
        if decide_project(actor, &project, level, ProjectAction::ReadCode).is_ok() {
            readable.push(project);
        }
    }
    Ok(readable)
}

/// Who the actor is to one project, read once per request: the project and its namespace,
/// the actor's role (administrators and the owner of a personal namespace are Owner), with
/// visibility and the archived state in the project row. Holding one means the actor may see
/// the project; [`ProjectAccess::can`] and [`ProjectAccess::require`] answer everything else
/// without another query, by the same rules as [`authorize_project`].
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    actor: Actor,
    project: ProjectRow,
    namespace: NamespaceRow,
    level: Option<AccessLevel>,
}

impl ProjectAccess {
    /// Reads the project `key` names and the actor's role on it in one query; `NotFound` when
    /// there is no such project or the actor may not see it.
    pub(crate) async fn load(conn: &mut Conn, actor: &Actor, key: ProjectKey<'_>) -> CoreResult<ProjectAccess> {
        let user = actor.user();
        let row = find_project_access(conn, key, user.map(|u| u.id)).await?.ok_or(CoreError::NotFound("project"))?;
        let level = user.and_then(|user| level_of(user, &row));
        decide_project(actor, &row.project, level, ProjectAction::Read)?;
        Ok(ProjectAccess { actor: actor.clone(), project: row.project, namespace: row.namespace, level })
    }

    /// Whether the actor may do `action` to the project.
    pub fn can(&self, action: ProjectAction) -> bool {
        self.require(action).is_ok()
    }

    /// Checks that the actor may do `action` to the project: `Unauthorized` for anonymous
    /// visitors and `Forbidden` for others who may not.
    pub fn require(&self, action: ProjectAction) -> CoreResult<()> {
        decide_project(&self.actor, &self.project, self.level, action)
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The project, as read with the role.
    pub fn project(&self) -> &ProjectRow {
        &self.project
    }

    /// The project, for an operation that keeps it.
    pub fn into_project(self) -> ProjectRow {
        self.project
    }

    /// The namespace holding the project.
    pub fn namespace(&self) -> &NamespaceRow {
        &self.namespace
    }

    /// The actor's role (`None`: none, as for anonymous visitors and non-members of a public
    /// or internal project).
    pub fn level(&self) -> Option<AccessLevel> {
        self.level
    }

    /// Whether the actor is an instance administrator.
    pub fn is_admin(&self) -> bool {
        administers(&self.actor)
    }

    /// The highest role the actor may hand on (to an access token's bot): their own;
    /// administrators any.
    pub fn highest_grantable_role(&self) -> Option<AccessLevel> {
        if administers(&self.actor) { Some(AccessLevel::Owner) } else { self.level }
    }

    /// Whether the actor may see this issue: anyone who sees the project sees its issues, a
    /// confidential one only Reporters and above, its author and its assignees (GitLab's rule).
    pub fn can_read_issue(&self, issue: &IssueFacts<'_>) -> bool {
        self.can(ProjectAction::ReadIssues)
            && (!issue.confidential
                || self.can(ProjectAction::ReadConfidentialIssues)
                || self.authored_or_assigned(issue))
    }

    /// Checks [`ProjectAccess::can_read_issue`]: an issue the actor may not see is not found.
    pub fn require_read_issue(&self, issue: &IssueFacts<'_>) -> CoreResult<()> {
        if self.can_read_issue(issue) { Ok(()) } else { Err(CoreError::NotFound("issue")) }
    }

    /// Whether the actor may edit, close and reopen this issue: Reporters and above, its author
    /// and its assignees.
    pub fn can_edit_issue(&self, issue: &IssueFacts<'_>) -> bool {
        self.can_read_issue(issue)
            && (self.can(ProjectAction::UpdateIssues)
                || (self.authored_or_assigned(issue) && self.can(ProjectAction::CreateIssue)))
    }

    /// Checks [`ProjectAccess::can_edit_issue`] (after [`ProjectAccess::require_read_issue`]).
    pub fn require_edit_issue(&self, issue: &IssueFacts<'_>) -> CoreResult<()> {
        self.require_read_issue(issue)?;
        if self.can_edit_issue(issue) {
            return Ok(());
        }
        self.actor.require_user()?;
        self.require(ProjectAction::CreateIssue)?;
        Err(CoreError::Forbidden(
            "you need the Reporter role on this project, or to be the issue's author or assignee, to change it"
                .to_owned(),
        ))
    }

    /// Whether the actor may comment on this issue: anyone signed in who sees it; on a locked
    /// discussion, only those who may change any issue.
    pub fn can_comment_on_issue(&self, issue: &IssueFacts<'_>) -> bool {
        self.can_read_issue(issue)
            && self.can(ProjectAction::CreateIssue)
            && (!issue.discussion_locked || self.can(ProjectAction::UpdateIssues))
    }

    /// Checks [`ProjectAccess::can_comment_on_issue`].
    pub fn require_comment_on_issue(&self, issue: &IssueFacts<'_>) -> CoreResult<()> {
        self.require_read_issue(issue)?;
        self.require(ProjectAction::CreateIssue)?;
        if self.can_comment_on_issue(issue) {
            return Ok(());
        }
        Err(CoreError::Forbidden(
            "this discussion is locked: only project members with the Reporter role can comment".to_owned(),
        ))
    }

    /// Whether the actor may change or delete a note written by `author`: its author, and
    /// administrators.
    pub fn can_change_note(&self, author: Option<UserId>) -> bool {
        self.actor.user().is_some_and(|user| owns_or_administers(user, author))
    }

    fn authored_or_assigned(&self, issue: &IssueFacts<'_>) -> bool {
        self.actor.user().is_some_and(|user| issue.author == Some(user.id) || issue.assignees.contains(&user.id))
    }
}

/// What the issue rules need to know of one issue.
#[derive(Debug, Clone, Copy)]
pub struct IssueFacts<'a> {
    pub author: Option<UserId>,
    pub assignees: &'a [UserId],
    pub confidential: bool,
    pub discussion_locked: bool,
}

/// Checks that the actor may run pipelines on a branch or tag of the project (GitLab's rule):
/// on a protected branch only those who may push or merge to it may, on a protected tag only
/// those who may create it, since their pipelines get the protected CI/CD variables. The most
/// permissive matching rule wins; a level of 0 lets no one; administrators always may.
///
/// Every way a pipeline or job starts on a person's behalf asks here: the API and the "Run
/// pipeline" form, schedules (saved, run by the watchdog, played), retries, manual jobs and
/// trigger tokens.
pub async fn authorize_protected_ref(
    conn: &mut Conn,
    actor: &Actor,
    project: &ProjectRow,
    ref_name: &str,
    is_tag: bool,
) -> CoreResult<()> {
    if administers(actor) {
        return Ok(());
    }
    let (allowed, kind, needs) = if is_tag {
        let matching = protected_tag_rules(conn, project.id, ref_name).await?;
        if matching.is_empty() {
            return Ok(());
        }
        let level = project_level(conn, actor, project).await?;
        (matching.iter().any(|rule| may_create_protected_tag(rule, level)), "tag", "the right to create it")
    } else {
        let matching = protected_branch_rules(conn, project.id, ref_name).await?;
        if matching.is_empty() {
            return Ok(());
        }
        let level = project_level(conn, actor, project).await?;
        (may_push_or_merge_all(&matching, level), "branch", "the right to push or merge to it")
    };
    if allowed {
        return Ok(());
    }
    if actor.user().is_none() {
        return Err(CoreError::Unauthorized);
    }
    Err(CoreError::Forbidden(format!(
        "you are not allowed to run pipelines on the protected {kind} {ref_name}: it needs {needs}"
    )))
}

/// Whether a pipeline's ref is protected: a branch or a tag matching one of the project's
/// protection rules. Protected CI/CD variables reach only such refs, and their caches are
/// kept apart.
pub(crate) async fn ref_is_protected(
    conn: &mut Conn,
    project: gantry_types::ProjectId,
    ref_name: &str,
    is_tag: bool,
) -> CoreResult<bool> {
    Ok(if is_tag {
        !protected_tag_rules(conn, project, ref_name).await?.is_empty()
    } else {
        !protected_branch_rules(conn, project, ref_name).await?.is_empty()
    })
}

/// The protected-branch rules that cover `branch`: the project's own and its groups'.
async fn protected_branch_rules(
    conn: &mut Conn,
    project: gantry_types::ProjectId,
    branch: &str,
) -> CoreResult<Vec<ProtectedBranchRow>> {
    let mut rules = gantry_db::code::protected_branches::list_protected_branches(conn, project).await?;
    rules.retain(|rule| gantry_git::refcheck::pattern_matches(&rule.name, branch));
    Ok(rules)
}

/// The protected-tag rules that cover `tag`.
async fn protected_tag_rules(
    conn: &mut Conn,
    project: gantry_types::ProjectId,
    tag: &str,
) -> CoreResult<Vec<ProtectedTagRow>> {
    let mut rules = gantry_db::code::protected_tags::list_protected_tags(conn, project).await?;
    rules.retain(|rule| gantry_git::refcheck::pattern_matches(&rule.name, tag));
    Ok(rules)
}

/// Whether a role may push or merge to branches under `rule` (0: no one).
fn may_push_or_merge(rule: &ProtectedBranchRow, level: Option<AccessLevel>) -> bool {
    let level = level.map_or(0, AccessLevel::as_i64);
    [rule.push_access_level, rule.merge_access_level].into_iter().any(|needed| needed != 0 && level >= needed)
}

/// Whether a role may push or merge to a branch all these `rules` cover: one of the project's
/// own rules allows it (when any covers the branch; the most permissive wins) and every rule of
/// a group above the project does (the stricter wins), as pushes decide.
fn may_push_or_merge_all(rules: &[ProtectedBranchRow], level: Option<AccessLevel>) -> bool {
    let (own, inherited): (Vec<_>, Vec<_>) = rules.iter().partition(|rule| rule.group_id.is_none());
    (own.is_empty() || own.iter().any(|rule| may_push_or_merge(rule, level)))
        && inherited.iter().all(|rule| may_push_or_merge(rule, level))
}

/// Whether a role may create tags under `rule` (0: no one, administrators included).
pub(crate) fn may_create_protected_tag(rule: &ProtectedTagRow, level: Option<AccessLevel>) -> bool {
    let level = level.map_or(0, AccessLevel::as_i64);
    rule.create_access_level != 0 && level >= rule.create_access_level
}

/// Checks that the actor may give variables to the project's pipelines: the project's
/// `ci_pipeline_variables_minimum_override_role` (Maintainer unless changed; "no one" refuses
/// everyone, administrators too, as in GitLab).
pub async fn authorize_pipeline_variables(conn: &mut Conn, actor: &Actor, project: &ProjectRow) -> CoreResult<()> {
    let settings = gantry_db::ci::pipelines::ci_settings(conn, project.id).await?;
    let minimum = PipelineVariablesRole::parse(&settings.pipeline_variables_minimum_role).unwrap_or_default();
    let Some(required) = minimum.required_level() else {
        return Err(CoreError::Forbidden(
            "pipeline variables are turned off in this project; a Maintainer can allow them in Settings > CI/CD"
                .to_owned(),
        ));
    };
    let level = project_level(conn, actor, project).await?;
    if level.is_some_and(|level| level >= required) {
        return Ok(());
    }
    if actor.user().is_none() {
        return Err(CoreError::Unauthorized);
    }
    Err(CoreError::Forbidden(format!(
        "you need the {} role to set pipeline variables in this project",
        required.label()
    )))
}

/// Whether the actor may read the variables of a pipeline schedule owned by `owner`: its owner,
/// Maintainers (who may take it over) and administrators, as in GitLab. `level` is the actor's
/// role on the schedule's project.
pub fn may_read_schedule_variables(actor: &Actor, level: Option<AccessLevel>, owner: Option<UserId>) -> bool {
    let Some(user) = actor.user() else { return false };
    user.is_admin || owner == Some(user.id) || level.is_some_and(|level| level >= AccessLevel::Maintainer)
}

/// Who may give variables to a project's pipelines (API `variables`, the "Run pipeline" form,
/// schedule and trigger variables): GitLab's `ci_pipeline_variables_minimum_override_role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PipelineVariablesRole {
    /// No one, administrators included.
    NoOneAllowed,
    Developer,
    /// The default.
    #[default]
    Maintainer,
    Owner,
}

impl PipelineVariablesRole {
    /// Every value, in the order forms list them.
    pub const ALL: [PipelineVariablesRole; 4] = [
        PipelineVariablesRole::NoOneAllowed,
        PipelineVariablesRole::Developer,
        PipelineVariablesRole::Maintainer,
        PipelineVariablesRole::Owner,
    ];

    /// Reads GitLab's name (`no_one_allowed`, `developer`, `maintainer`, `owner`).
    pub fn parse(value: &str) -> Option<PipelineVariablesRole> {
        PipelineVariablesRole::ALL.into_iter().find(|role| role.as_str() == value)
    }

    /// GitLab's name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineVariablesRole::NoOneAllowed => "no_one_allowed",
            PipelineVariablesRole::Developer => "developer",
            PipelineVariablesRole::Maintainer => "maintainer",
            PipelineVariablesRole::Owner => "owner",
        }
    }

    /// The label forms show.
    pub fn label(self) -> &'static str {
        match self {
            PipelineVariablesRole::NoOneAllowed => "No one allowed",
            PipelineVariablesRole::Developer => "Developer",
            PipelineVariablesRole::Maintainer => "Maintainer",
            PipelineVariablesRole::Owner => "Owner",
        }
    }

    /// The lowest role that may set variables; `None` when no one may.
    pub fn required_level(self) -> Option<AccessLevel> {
        match self {
            PipelineVariablesRole::NoOneAllowed => None,
            PipelineVariablesRole::Developer => Some(AccessLevel::Developer),
            PipelineVariablesRole::Maintainer => Some(AccessLevel::Maintainer),
            PipelineVariablesRole::Owner => Some(AccessLevel::Owner),
        }
    }
}

/// Checks that the actor may do `action` to the group; returns their role.
pub async fn authorize_group(
    conn: &mut Conn,
    actor: &Actor,
    group: &NamespaceRow,
    action: GroupAction,
) -> CoreResult<Option<AccessLevel>> {
    let level = namespace_level(conn, actor, group).await?;
    decide_group(actor, group, level, action)?;
    Ok(level)
}

/// The group rule, once the actor's role is known: `NotFound` for those who may not see the
/// group, `Unauthorized` (anonymous) or `Forbidden` for those who see it but may not act.
fn decide_group(
    actor: &Actor,
    group: &NamespaceRow,
    level: Option<AccessLevel>,
    action: GroupAction,
) -> CoreResult<()> {
    if level.is_none() && !visible_without_membership(actor, group.visibility) {
        return Err(CoreError::NotFound("group"));
    }
    let reading = matches!(action, GroupAction::Read | GroupAction::ReadWiki);
    check_level(actor, level, action.required_level(), reading, "group")
}

/// Who the actor is to one group, read once per request: the group and the actor's role on it
/// or any group above it (administrators are Owner), with its visibility in the row. Holding
/// one means the actor may see the group; [`GroupAccess::can`] and [`GroupAccess::require`]
/// answer everything else without another query, by the same rules as [`authorize_group`].
#[derive(Debug, Clone)]
pub struct GroupAccess {
    actor: Actor,
    group: NamespaceRow,
    level: Option<AccessLevel>,
}

impl GroupAccess {
    /// Reads the group `key` names and the actor's role on it in one query; `NotFound` when
    /// there is no such group (a user's namespace is none) or the actor may not see it.
    pub(crate) async fn load(conn: &mut Conn, actor: &Actor, key: NamespaceKey<'_>) -> CoreResult<GroupAccess> {
        let user = actor.user();
        let row = find_namespace_access(conn, key, user.map(|u| u.id))
            .await?
            .filter(|row| row.namespace.kind == NamespaceKind::Group)
            .ok_or(CoreError::NotFound("group"))?;
        let level = user.and_then(|user| {
            if user.is_admin || row.namespace.owner_id == Some(user.id) {
                return Some(AccessLevel::Owner);
            }
            row.access_level.and_then(AccessLevel::from_i64)
        });
        decide_group(actor, &row.namespace, level, GroupAction::Read)?;
        Ok(GroupAccess { actor: actor.clone(), group: row.namespace, level })
    }

    /// Whether the actor may do `action` to the group.
    pub fn can(&self, action: GroupAction) -> bool {
        self.require(action).is_ok()
    }

    /// Checks that the actor may do `action` to the group: `Unauthorized` for anonymous
    /// visitors and `Forbidden` for others who may not.
    pub fn require(&self, action: GroupAction) -> CoreResult<()> {
        decide_group(&self.actor, &self.group, self.level, action)
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The group, as read with the role.
    pub fn group(&self) -> &NamespaceRow {
        &self.group
    }

    /// The group, for an operation that keeps it.
    pub fn into_group(self) -> NamespaceRow {
        self.group
    }

    /// Whether the actor may change or delete a note of the group's (an epic's comment) written
    /// by `author`: its author, and administrators.
    pub fn can_change_note(&self, author: Option<UserId>) -> bool {
        self.actor.user().is_some_and(|user| owns_or_administers(user, author))
    }

    /// The actor's role (`None`: none, as for anonymous visitors and non-members of a public
    /// or internal group).
    pub fn level(&self) -> Option<AccessLevel> {
        self.level
    }

    /// Whether the actor is an instance administrator.
    pub fn is_admin(&self) -> bool {
        administers(&self.actor)
    }

    /// The highest role the actor may hand on (to an access token's bot): their own;
    /// administrators any.
    pub fn highest_grantable_role(&self) -> Option<AccessLevel> {
        if administers(&self.actor) { Some(AccessLevel::Owner) } else { self.level }
    }
}

fn check_level(
    actor: &Actor,
    level: Option<AccessLevel>,
    required: AccessLevel,
    is_read: bool,
    what: &str,
) -> CoreResult<()> {
    if is_read || level.is_some_and(|l| l >= required) {
        return Ok(());
    }
    if actor.user().is_none() {
        return Err(CoreError::Unauthorized);
    }
    Err(CoreError::Forbidden(format!("you need the {} role on this {what} to do that", required.label())))
}

/// Checks that the actor is an instance administrator: anonymous visitors are asked to sign in
/// (`Unauthorized`), anyone else is told there is nothing here (`NotFound("page")`, so the
/// instance's administration is not advertised). The one rule of the admin area, users'
/// administration, instance CI/CD variables, every runner, background jobs and repository
/// checks; returns the administrator.
pub fn require_admin(actor: &Actor) -> CoreResult<&UserRow> {
    let user = actor.require_user()?;
    if !user.is_admin {
        return Err(CoreError::NotFound("page"));
    }
    Ok(user)
}

/// Checks that the actor is an instance administrator where GitLab answers others
/// `403 Forbidden` and its clients count on it (GitLab's `authenticated_as_admin!`: a user's
/// memberships): anonymous visitors are asked to sign in. Everything else of the instance's
/// administration hides itself with [`require_admin`].
pub fn require_admin_or_forbid(actor: &Actor) -> CoreResult<&UserRow> {
    let user = actor.require_user()?;
    if !user.is_admin {
        return Err(CoreError::Forbidden("403 Forbidden".to_owned()));
    }
    Ok(user)
}

/// Whether the actor is an instance administrator, who sees every row and may act everywhere
/// (for listings that widen for them and for the links and buttons pages show).
pub fn administers(actor: &Actor) -> bool {
    actor.user().is_some_and(|user| user.is_admin)
}

/// Whether the actor may enable this deploy key on projects they maintain (GitLab's
/// "accessible deploy keys"): administrators any key; others the instance's public keys and
/// the keys enabled on a project where they are Maintainer or above. To anyone else the key
/// is not there.
pub async fn may_use_deploy_key(conn: &mut Conn, actor: &Actor, key: gantry_types::DeployKeyId) -> CoreResult<bool> {
    let Some(user) = actor.user() else { return Ok(false) };
    if user.is_admin {
        return Ok(true);
    }
    let usable = list_usable_deploy_keys(conn, user.id, AccessLevel::Maintainer.as_i64(), Some(key)).await?;
    Ok(!usable.is_empty())
}

/// The deploy keys the actor may enable on projects they maintain, by the rule of
/// [`may_use_deploy_key`].
pub async fn usable_deploy_keys(conn: &mut Conn, actor: &Actor) -> CoreResult<Vec<DeployKeyRow>> {
    let Some(user) = actor.user() else { return Ok(Vec::new()) };
    if user.is_admin {
        let every = gantry_db::Page { offset: 0, limit: i64::MAX };
        return Ok(gantry_db::manage::deploy_keys::list_deploy_keys(conn, false, every).await?.0);
    }
    Ok(list_usable_deploy_keys(conn, user.id, AccessLevel::Maintainer.as_i64(), None).await?)
}

/// Whether `owner`'s token may hold these scopes: `sudo` and `admin_mode` only an
/// administrator's.
pub fn authorize_token_scopes(owner: &UserRow, scopes: &gantry_types::TokenScopes) -> CoreResult<()> {
    let reserved = scopes.as_slice().iter().find(|scope| scope.is_for_administrators());
    match reserved {
        Some(scope) if !owner.is_admin => {
            Err(CoreError::invalid("scopes", format!("{} is for administrators' tokens only", scope.as_str())))
        }
        _ => Ok(()),
    }
}

/// Whether the token's owner may act as another user (GitLab's `sudo`): an administrator
/// whose token has the `sudo` scope.
pub fn authorize_sudo(actor: &Actor, scopes: &gantry_types::TokenScopes) -> CoreResult<()> {
    if !administers(actor) {
        return Err(CoreError::Forbidden("403 Forbidden - Must be admin to use sudo".to_owned()));
    }
    if !scopes.contains(gantry_types::TokenScope::Sudo) {
        return Err(CoreError::Forbidden("403 Forbidden - Private token must have the sudo scope".to_owned()));
    }
    Ok(())
}

/// Who is listing, as the listings' visibility filters in gantry-db take it.
pub(crate) fn viewer(actor: &Actor) -> gantry_db::manage::Viewer {
    gantry_db::manage::Viewer { user_id: actor.user().map(|u| u.id.0), is_admin: administers(actor) }
}

/// Checks that the actor may register an instance runner: administrators. Unlike the rest of
/// the instance's administration this answers `Forbidden` (GitLab's answer to
/// `POST /user/runners` with `instance_type`), anonymous visitors being asked to sign in.
pub fn authorize_instance_runner(actor: &Actor) -> CoreResult<()> {
    actor.require_user()?;
    if !administers(actor) {
        return Err(CoreError::Forbidden("only administrators can create instance runners".to_owned()));
    }
    Ok(())
}

/// Whether `user` may see and act on something `owner` owns (a personal access token, an SSH
/// key, a pipeline schedule): its owner and administrators. Those who may not are told it
/// does not exist.
pub fn owns_or_administers(user: &UserRow, owner: Option<UserId>) -> bool {
    user.is_admin || owner == Some(user.id)
}

/// The most open visibility a child of `parent` may have (a project or subgroup can't be more
/// visible than the group that holds it).
pub fn max_child_visibility(parent: &NamespaceRow) -> Visibility {
    match parent.kind {
        NamespaceKind::User => Visibility::Public,
        NamespaceKind::Group => parent.visibility,
    }
}

/// What a running CI job's token may do to `project` (GitLab's CI/CD job token scope); every
/// path that takes job tokens asks here (git fetches over HTTP, dependencies' artifacts). A
/// token only reads. Its own project it reads whatever the project's visibility, as it always
/// has; another project only when both hold: the user the job runs for may do `action` there
/// (a token never gives more than its user has: `NotFound` where they may not see the project)
/// and that project lets the job's project in (its limit is off, or its allowlist names the
/// job's project or a group holding it: `Forbidden` otherwise, saying who can change that).
/// Returns the role the token acts with.
pub async fn authorize_job_token(
    conn: &mut Conn,
    job_project: gantry_types::ProjectId,
    job_user: Option<UserId>,
    project: &ProjectRow,
    action: ProjectAction,
) -> CoreResult<Option<AccessLevel>> {
    let reads = matches!(
        action,
        ProjectAction::Read | ProjectAction::ReadCode | ProjectAction::ReadPipelines | ProjectAction::ReadWiki
    );
    let only_reads =
        || CoreError::Forbidden("a CI/CD job token only reads: it cannot push or change anything".to_owned());
    if job_project == project.id {
        return if reads { Ok(Some(AccessLevel::Reporter)) } else { Err(only_reads()) };
    }
    let user = match job_user {
        Some(id) => gantry_db::manage::users::find_user_by_id(conn, id).await?.filter(|user| !user.blocked),
        None => None,
    };
    let Some(user) = user else { return Err(CoreError::NotFound("project")) };
    let user = Actor::User(user);
    if !reads {
        // Said only to those who may see the project.
        authorize_project(conn, &user, project, ProjectAction::Read).await?;
        return Err(only_reads());
    }
    let level = authorize_project(conn, &user, project, action).await.map_err(|error| match error {
        CoreError::Forbidden(_) | CoreError::Unauthorized => CoreError::Forbidden(format!(
            "a CI/CD job token gives no more than its user has: the user this job runs for may not read {}",
            project.full_path
        )),
        other => other,
    })?;
    if !gantry_db::ci::job_token_scope::job_token_reaches(conn, project.id, job_project).await? {
        let source = gantry_db::manage::projects::find_project_by_id(conn, job_project)
            .await?
            .map_or_else(|| format!("project {}", job_project.0), |source| source.full_path);
        let target = &project.full_path;
        return Err(CoreError::Forbidden(format!(
            "Authentication by CI/CD job token not allowed from {source} to {target}: a Maintainer of {target} can \
             add {source} to its job token allowlist (Settings > CI/CD > Job token permissions)"
        )));
    }
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_needed_grow_with_the_harm() {
        assert_eq!(ProjectAction::Read.required_level(), AccessLevel::Guest);
        assert!(ProjectAction::Delete.required_level() > ProjectAction::Update.required_level());
        assert!(GroupAction::Delete.required_level() > GroupAction::CreateProject.required_level());
    }

    fn rule(push: i64, merge: i64) -> ProtectedBranchRow {
        ProtectedBranchRow {
            id: 1,
            project_id: gantry_types::ProjectId(1),
            group_id: None,
            name: "main".into(),
            push_access_level: push,
            merge_access_level: merge,
            allow_force_push: false,
            created_at: 0,
        }
    }

    #[test]
    fn protected_branches_run_pipelines_for_those_who_may_push_or_merge() {
        let developer = Some(AccessLevel::Developer);
        let maintainer = Some(AccessLevel::Maintainer);
        assert!(!may_push_or_merge(&rule(40, 40), developer));
        assert!(may_push_or_merge(&rule(40, 40), maintainer));
        assert!(may_push_or_merge(&rule(40, 30), developer), "merging is enough");
        assert!(may_push_or_merge(&rule(30, 0), developer), "pushing is enough");
        assert!(!may_push_or_merge(&rule(0, 0), Some(AccessLevel::Owner)), "0 is no one");
        assert!(!may_push_or_merge(&rule(30, 30), None));
        let group_rule =
            |push, merge| ProtectedBranchRow { group_id: Some(gantry_types::NamespaceId(7)), ..rule(push, merge) };
        assert!(may_push_or_merge_all(&[rule(30, 30)], developer));
        assert!(!may_push_or_merge_all(&[rule(30, 30), group_rule(40, 40)], developer), "the group's rule is stricter");
        assert!(!may_push_or_merge_all(&[group_rule(40, 40)], developer), "a branch only the group protects");
        assert!(!may_push_or_merge_all(&[rule(0, 0), group_rule(40, 40)], maintainer), "no one, by the project");
        assert!(may_push_or_merge_all(&[group_rule(30, 0), group_rule(40, 30)], developer));
    }

    #[test]
    fn protected_tags_are_created_by_their_level_and_no_one_means_no_one() {
        let rule = |level: i64| ProtectedTagRow {
            id: 1,
            project_id: gantry_types::ProjectId(1),
            name: "v*".into(),
            create_access_level: level,
            created_at: 0,
        };
        assert!(!may_create_protected_tag(&rule(40), Some(AccessLevel::Developer)));
        assert!(may_create_protected_tag(&rule(40), Some(AccessLevel::Maintainer)));
        assert!(may_create_protected_tag(&rule(30), Some(AccessLevel::Developer)));
        assert!(!may_create_protected_tag(&rule(30), Some(AccessLevel::Reporter)));
        assert!(!may_create_protected_tag(&rule(0), Some(AccessLevel::Owner)), "0 is no one");
        assert!(!may_create_protected_tag(&rule(30), None));
        assert_eq!(ProjectAction::ManageProtectedTags.required_level(), AccessLevel::Maintainer);
    }

    #[test]
    fn the_pipeline_variables_role_reads_gitlab_names() {
        for role in PipelineVariablesRole::ALL {
            assert_eq!(PipelineVariablesRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(PipelineVariablesRole::default().required_level(), Some(AccessLevel::Maintainer));
        assert_eq!(PipelineVariablesRole::NoOneAllowed.required_level(), None);
        assert_eq!(PipelineVariablesRole::parse("guest"), None);
    }

    #[test]
    fn anonymous_is_asked_to_sign_in_and_members_are_told_the_role() {
        let anonymous = check_level(&Actor::Anonymous, None, AccessLevel::Maintainer, false, "project");
        assert!(matches!(anonymous, Err(CoreError::Unauthorized)));
        let user = gantry_db::manage::users::UserRow {
            id: gantry_types::UserId(1),
            username: "dev".into(),
            email: "dev@example.com".into(),
            name: "Dev".into(),
            password_hash: String::new(),
            is_admin: false,
            state: gantry_db::manage::users::UserState::Active,
            blocked: false,
            pending_approval: false,
            created_at: 0,
            updated_at: 0,
            avatar: None,
            bot_of: None,
        };
        let developer =
            check_level(&Actor::User(user), Some(AccessLevel::Developer), AccessLevel::Maintainer, false, "project");
        assert!(matches!(developer, Err(CoreError::Forbidden(m)) if m.contains("Maintainer")));
    }

    #[test]
    fn project_access_answers_as_authorize_project_does() {
        let project = |visibility, archived| ProjectRow {
            id: gantry_types::ProjectId(1),
            namespace_id: gantry_types::NamespaceId(1),
            path: "api".into(),
            full_path: "acme/api".into(),
            name: "API".into(),
            description: String::new(),
            visibility,
            default_branch: "main".into(),
            archived,
            creator_id: None,
            created_at: 0,
            updated_at: 0,
            pipeline_variables_minimum_role: "maintainer".into(),
            avatar: None,
        };
        let signed_in = Actor::User(gantry_db::manage::users::UserRow {
            id: gantry_types::UserId(2),
            username: "reader".into(),
            email: "reader@example.com".into(),
            name: "Reader".into(),
            password_hash: String::new(),
            is_admin: false,
            state: gantry_db::manage::users::UserState::Active,
            blocked: false,
            pending_approval: false,
            created_at: 0,
            updated_at: 0,
            avatar: None,
            bot_of: None,
        });
        let decide = |actor: &Actor, visibility, archived, level, action| {
            decide_project(actor, &project(visibility, archived), level, action)
        };
        let hidden = decide(&signed_in, Visibility::Private, false, None, ProjectAction::Read);
        assert!(matches!(hidden, Err(CoreError::NotFound("project"))), "a private project is hidden from strangers");
        assert!(decide(&signed_in, Visibility::Internal, false, None, ProjectAction::ReadCode).is_ok());
        let anonymous = decide(&Actor::Anonymous, Visibility::Internal, false, None, ProjectAction::Read);
        assert!(matches!(anonymous, Err(CoreError::NotFound(_))), "internal projects need a signed-in user");
        let asked = decide(&Actor::Anonymous, Visibility::Public, false, None, ProjectAction::PushCode);
        assert!(matches!(asked, Err(CoreError::Unauthorized)));
        let developer = Some(AccessLevel::Developer);
        assert!(decide(&signed_in, Visibility::Private, false, developer, ProjectAction::RunPipelines).is_ok());
        let archived = decide(&signed_in, Visibility::Private, true, developer, ProjectAction::RunPipelines);
        assert!(matches!(archived, Err(CoreError::Forbidden(m)) if m.contains("archived")));
        assert!(decide(&signed_in, Visibility::Private, true, developer, ProjectAction::ReadPipelines).is_ok());
        let below = decide(&signed_in, Visibility::Private, false, developer, ProjectAction::ManageCi);
        assert!(matches!(below, Err(CoreError::Forbidden(_))));
    }
}
