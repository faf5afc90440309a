//! Wire types of the v4 API, shaped like GitLab's so its clients work. Built from core rows;
//! rows themselves never reach the wire.

use gantry_core::code::branches::{BranchView, TagView};
use gantry_core::code::protected_branches::{ProtectedBranchRow, rule_level_label};
use gantry_core::code::protected_tags::ProtectedTagRow;
use gantry_core::manage::avatars::Avatar;
use gantry_core::manage::members::EffectiveMember;
use gantry_core::manage::ssh_keys::SshKeyRow;
use gantry_core::manage::tokens::format_expiry_date;
use gantry_core::manage::topics::TopicRow;
use gantry_core::{MemberRow, NamespaceKind, NamespaceRow, ProjectRow, TokenRow, UserRow};
use gantry_git::refs::CommitSummary;
use gantry_types::AccessLevel;
use serde::Serialize;

use crate::WebConfig;
use crate::time_format::iso8601;

/// A user as everyone may see them.
#[derive(Debug, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub state: &'static str,
    pub locked: bool,
    pub avatar_url: Option<String>,
    pub web_url: String,
    pub created_at: String,
    /// A project's or group's bot (behind an access token).
    pub bot: bool,
    /// Only for the user themselves and administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
}

impl User {
    /// `private` adds the e-mail and admin flag (for the user themselves or an administrator).
    pub fn new(user: &UserRow, config: &WebConfig, private: bool) -> User {
        User {
            id: user.id.0,
            username: user.username.clone(),
            name: user.name.clone(),
            state: user_state(user),
            locked: false,
            avatar_url: avatar_url(config, "user", user.id.0, user.avatar.as_ref()),
            web_url: format!("{}/{}", config.external_url, user.username),
            created_at: iso8601(user.created_at),
            bot: user.bot_of.is_some(),
            email: private.then(|| user.email.clone()),
            is_admin: private.then_some(user.is_admin),
        }
    }
}

/// Where an avatar is served (GitLab's paths: `model` is `user`, `group`, `project` or
/// `projects/topic`); `None` without one.
pub fn avatar_url(config: &WebConfig, model: &str, id: i64, avatar: Option<&Avatar>) -> Option<String> {
    avatar.map(|avatar| format!("{}/uploads/-/system/{model}/avatar/{id}/{}", config.external_url, avatar.filename))
}

/// GitLab's name of a user's state.
fn user_state(user: &UserRow) -> &'static str {
    user.state.as_str()
}

/// A group.
#[derive(Debug, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub full_name: String,
    pub full_path: String,
    pub description: String,
    pub visibility: &'static str,
    pub parent_id: Option<i64>,
    pub web_url: String,
    pub avatar_url: Option<String>,
    pub created_at: String,
}

impl Group {
    pub fn new(group: &NamespaceRow, config: &WebConfig) -> Group {
        Group {
            id: group.id.0,
            name: group.name.clone(),
            path: group.path.clone(),
            full_name: group.full_path.replace('/', " / "),
            full_path: group.full_path.clone(),
            description: group.description.clone(),
            visibility: group.visibility.as_str(),
            parent_id: group.parent_id.map(|id| id.0),
            web_url: format!("{}/groups/{}", config.external_url, group.full_path),
            avatar_url: avatar_url(config, "group", group.id.0, group.avatar.as_ref()),
            created_at: iso8601(group.created_at),
        }
    }
}

/// The namespace embedded in a project.
#[derive(Debug, Serialize)]
pub struct Namespace {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub kind: &'static str,
    pub full_path: String,
    pub parent_id: Option<i64>,
    pub web_url: String,
}

impl Namespace {
    pub fn new(namespace: &NamespaceRow, config: &WebConfig) -> Namespace {
        Namespace {
            id: namespace.id.0,
            name: namespace.name.clone(),
            path: namespace.path.clone(),
            kind: match namespace.kind {
                NamespaceKind::User => "user",
                NamespaceKind::Group => "group",
            },
            full_path: namespace.full_path.clone(),
            parent_id: namespace.parent_id.map(|id| id.0),
            web_url: format!("{}/{}", config.external_url, namespace.full_path),
        }
    }
}

/// The caller's access to a project, as GitLab reports it.
#[derive(Debug, Serialize)]
pub struct Permissions {
    pub project_access: Option<AccessInfo>,
    pub group_access: Option<AccessInfo>,
}

#[derive(Debug, Serialize)]
pub struct AccessInfo {
    pub access_level: i64,
    pub notification_level: i64,
}

/// A project.
#[derive(Debug, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    pub description: String,
    pub visibility: &'static str,
    pub default_branch: String,
    pub archived: bool,
    pub empty_repo: bool,
    pub created_at: String,
    pub last_activity_at: String,
    pub creator_id: Option<i64>,
    pub web_url: String,
    pub http_url_to_repo: String,
    pub ssh_url_to_repo: String,
    pub readme_url: Option<String>,
    pub avatar_url: Option<String>,
    pub namespace: Namespace,
    pub permissions: Permissions,
    /// The names of the project's topics, sorted.
    pub topics: Vec<String>,
    /// The same names under their deprecated name (GitLab still answers both).
    pub tag_list: Vec<String>,
    /// Who may set pipeline variables; shown to those who manage the project's CI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_pipeline_variables_minimum_override_role: Option<&'static str>,
}

impl Project {
    /// The wire form of a project; `topics` are its topic names, sorted.
    pub fn new(
        project: &ProjectRow,
        namespace: &NamespaceRow,
        level: Option<AccessLevel>,
        empty_repo: bool,
        topics: Vec<String>,
        config: &WebConfig,
    ) -> Project {
        Project {
            id: project.id.0,
            name: project.name.clone(),
            name_with_namespace: format!("{} / {}", namespace.full_path.replace('/', " / "), project.name),
            path: project.path.clone(),
            path_with_namespace: project.full_path.clone(),
            description: project.description.clone(),
            visibility: project.visibility.as_str(),
            default_branch: project.default_branch.clone(),
            archived: project.archived,
            empty_repo,
            created_at: iso8601(project.created_at),
            last_activity_at: iso8601(project.updated_at),
            creator_id: project.creator_id.map(|id| id.0),
            web_url: format!("{}/{}", config.external_url, project.full_path),
            http_url_to_repo: format!("{}/{}.git", config.external_url, project.full_path),
            ssh_url_to_repo: format!("ssh://git@{}/{}.git", config.ssh_host, project.full_path),
            readme_url: None,
            avatar_url: avatar_url(config, "project", project.id.0, project.avatar.as_ref()),
            namespace: Namespace::new(namespace, config),
            permissions: Permissions {
                project_access: level.map(|l| AccessInfo { access_level: l.as_i64(), notification_level: 3 }),
                group_access: None,
            },
            tag_list: topics.clone(),
            topics,
            ci_pipeline_variables_minimum_override_role: None,
        }
    }
}

/// A member of a group or project.
#[derive(Debug, Serialize)]
pub struct Member {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub state: &'static str,
    pub avatar_url: Option<String>,
    pub web_url: String,
    pub access_level: i64,
    pub created_at: String,
    pub expires_at: Option<String>,
}

impl Member {
    pub fn new(member: &MemberRow, level: i64, config: &WebConfig) -> Member {
        Member {
            id: member.user.id.0,
            username: member.user.username.clone(),
            name: member.user.name.clone(),
            state: user_state(&member.user),
            avatar_url: avatar_url(config, "user", member.user.id.0, member.user.avatar.as_ref()),
            web_url: format!("{}/{}", config.external_url, member.user.username),
            access_level: level,
            created_at: iso8601(member.created_at),
            expires_at: member.expires_at.map(format_expiry_date),
        }
    }

    pub fn effective(member: &EffectiveMember, config: &WebConfig) -> Member {
        Member::new(&member.member, member.level.as_i64(), config)
    }
}

/// A personal access token (without its secret, except right after creation).
#[derive(Debug, Serialize)]
pub struct PersonalAccessToken {
    pub id: i64,
    pub name: String,
    pub revoked: bool,
    pub created_at: String,
    pub scopes: Vec<String>,
    pub user_id: i64,
    pub last_used_at: Option<String>,
    pub active: bool,
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl PersonalAccessToken {
    pub fn new(token: &TokenRow, secret: Option<String>) -> PersonalAccessToken {
        let expired = token.expires_at.is_some_and(|at| at <= gantry_core::now_millis());
        PersonalAccessToken {
            id: token.id.0,
            name: token.name.clone(),
            revoked: token.revoked,
            created_at: iso8601(token.created_at),
            scopes: token.scopes.split(',').map(str::to_owned).collect(),
            user_id: token.user_id.0,
            last_used_at: token.last_used_at.map(iso8601),
            active: !token.revoked && !expired,
            expires_at: token.expires_at.map(format_expiry_date),
            token: secret,
        }
    }
}

/// A commit as branch and tag listings show it.
#[derive(Debug, Clone, Serialize)]
pub struct Commit {
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub message: String,
    pub parent_ids: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: String,
    pub created_at: String,
    pub web_url: String,
}

impl Commit {
    pub fn new(commit: &CommitSummary, project: &ProjectRow, config: &WebConfig) -> Commit {
        Commit {
            id: commit.id.clone(),
            short_id: commit.id.chars().take(8).collect(),
            title: commit.title.clone(),
            message: commit.message.clone(),
            parent_ids: commit.parent_ids.clone(),
            author_name: commit.author_name.clone(),
            author_email: commit.author_email.clone(),
            authored_date: iso8601(commit.authored_date.saturating_mul(1000)),
            committer_name: commit.committer_name.clone(),
            committer_email: commit.committer_email.clone(),
            committed_date: iso8601(commit.committed_date.saturating_mul(1000)),
            created_at: iso8601(commit.committed_date.saturating_mul(1000)),
            web_url: format!("{}/{}/-/commit/{}", config.external_url, project.full_path, commit.id),
        }
    }
}

/// A branch with its tip and protection.
#[derive(Debug, Serialize)]
pub struct Branch {
    pub name: String,
    pub commit: Commit,
    pub merged: bool,
    pub protected: bool,
    pub developers_can_push: bool,
    pub developers_can_merge: bool,
    pub can_push: bool,
    pub default: bool,
    pub web_url: String,
}

impl Branch {
    pub fn new(view: &BranchView, project: &ProjectRow, config: &WebConfig) -> Branch {
        Branch {
            name: view.branch.name.clone(),
            commit: Commit::new(&view.branch.commit, project, config),
            merged: false,
            protected: view.protected,
            developers_can_push: view.developers_can_push,
            developers_can_merge: view.developers_can_merge,
            can_push: view.can_push,
            default: view.default,
            web_url: format!("{}/{}/-/tree/{}", config.external_url, project.full_path, view.branch.name),
        }
    }
}

/// A tag with the commit it points at.
#[derive(Debug, Serialize)]
pub struct Tag {
    pub name: String,
    pub message: Option<String>,
    pub target: String,
    pub commit: Commit,
    pub release: Option<()>,
    pub protected: bool,
    pub created_at: Option<String>,
}

impl Tag {
    pub fn new(view: &TagView, project: &ProjectRow, config: &WebConfig) -> Tag {
        let tag = &view.tag;
        Tag {
            name: tag.name.clone(),
            message: (!tag.message.is_empty()).then(|| tag.message.clone()),
            target: tag.target.clone(),
            commit: Commit::new(&tag.commit, project, config),
            release: None,
            protected: view.protected,
            created_at: None,
        }
    }
}

/// One access level of a protected branch or tag.
#[derive(Debug, Serialize)]
pub struct BranchAccessLevel {
    pub id: i64,
    pub access_level: i64,
    pub access_level_description: &'static str,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
}

/// A protected branch rule.
#[derive(Debug, Serialize)]
pub struct ProtectedBranch {
    pub id: i64,
    pub name: String,
    pub push_access_levels: Vec<BranchAccessLevel>,
    pub merge_access_levels: Vec<BranchAccessLevel>,
    pub allow_force_push: bool,
    pub code_owner_approval_required: bool,
}

impl ProtectedBranch {
    pub fn new(rule: &ProtectedBranchRow) -> ProtectedBranch {
        let level = |access_level: i64| BranchAccessLevel {
            id: rule.id,
            access_level,
            access_level_description: rule_level_label(access_level),
            user_id: None,
            group_id: None,
        };
        ProtectedBranch {
            id: rule.id,
            name: rule.name.clone(),
            push_access_levels: vec![level(rule.push_access_level)],
            merge_access_levels: vec![level(rule.merge_access_level)],
            allow_force_push: rule.allow_force_push,
            code_owner_approval_required: false,
        }
    }
}

/// A protected tag rule: who may create matching tags.
#[derive(Debug, Serialize)]
pub struct ProtectedTag {
    pub name: String,
    pub create_access_levels: Vec<BranchAccessLevel>,
}

impl ProtectedTag {
    pub fn new(rule: &ProtectedTagRow) -> ProtectedTag {
        ProtectedTag {
            name: rule.name.clone(),
            create_access_levels: vec![BranchAccessLevel {
                id: rule.id,
                access_level: rule.create_access_level,
                access_level_description: rule_level_label(rule.create_access_level),
                user_id: None,
                group_id: None,
            }],
        }
    }
}

/// An SSH public key.
#[derive(Debug, Serialize)]
pub struct SshKey {
    pub id: i64,
    pub title: String,
    pub key: String,
    pub fingerprint: String,
    pub usage_type: &'static str,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl SshKey {
    pub fn new(key: &SshKeyRow) -> SshKey {
        SshKey {
            id: key.id,
            title: key.title.clone(),
            key: key.public_key.clone(),
            fingerprint: key.fingerprint.clone(),
            usage_type: "auth",
            created_at: iso8601(key.created_at),
            expires_at: key.expires_at.map(iso8601),
            last_used_at: key.last_used_at.map(iso8601),
        }
    }
}

/// A project topic.
#[derive(Debug, Serialize)]
pub struct Topic {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub description: String,
    pub total_projects_count: i64,
    /// Gantry has no organisations: always `null`.
    pub organization_id: Option<i64>,
    pub avatar_url: Option<String>,
}

impl Topic {
    pub fn new(topic: &TopicRow, config: &WebConfig) -> Topic {
        Topic {
            id: topic.id.0,
            name: topic.name.clone(),
            title: topic.title.clone(),
            description: topic.description.clone(),
            total_projects_count: topic.total_projects_count,
            organization_id: None,
            avatar_url: avatar_url(config, "projects/topic", topic.id.0, topic.avatar.as_ref()),
        }
    }
}
