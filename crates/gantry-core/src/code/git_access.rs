//! Who may use a repository over git's transports, HTTP and SSH alike, and what a push leaves
//! behind. The transports authenticate (Basic credentials, SSH keys), ask [`Core::git_access`]
//! for a permit, run git with it, and hand the updates git reported to [`Core::finish_push`].
//! Besides people (passwords, personal access tokens, SSH keys) and CI jobs, machines come with
//! deploy keys (SSH: fetch where enabled, push where allowed to) and deploy tokens (HTTP:
//! fetch only).

use gantry_db::code::{protected_branches, protected_tags, push_events};
use gantry_db::manage::{deploy_keys, projects};
use gantry_git::RepoId;
use gantry_git::refcheck::{PushPolicy, RefUpdate};
use gantry_git::transport::PushSetup;
use gantry_types::JobId;
use gantry_types::{TokenScope, TokenScopes};

use super::protected_branches::push_policy;
use crate::background::{PushedRef, Work};
use crate::manage::deploy_keys::DeployKeyRow;
use crate::manage::deploy_tokens::{DEPLOY_TOKEN_PREFIX, DeployTokenRow, deploy_token_scopes};
use crate::manage::tokens::TokenProblem;
use crate::plan::wiki::WikiOwner;
use crate::policy::{GroupAction, ProjectAction, authorize_job_token, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow, UserRow};

/// The largest pack a push may send (bytes).
pub const MAX_PUSH_BYTES: u64 = 2 << 30;

/// What a git client wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitOperation {
    /// Clone or fetch.
    Fetch,
    /// Push.
    Push,
}

/// How a git client proved who it is.
#[derive(Debug, Clone)]
pub enum GitCredential {
    Anonymous,
    /// A password or an SSH key: the user's full rights.
    User(UserRow),
    /// A personal access token: the user's rights, within the token's scopes.
    Token(UserRow, TokenScopes),
    /// A running CI job's token (`gitlab-ci-token`): fetches from the job's own project, and
    /// from others as far as their job token scope and the job's user allow
    /// (`policy::authorize_job_token`).
    Job {
        job_id: JobId,
        project: gantry_types::ProjectId,
        /// The user the job runs for.
        user: Option<gantry_types::UserId>,
    },
    /// A deploy key (SSH): fetches from the projects it is enabled on, pushes where it may
    /// (never to protected branches or tags: it holds no role).
    DeployKey(DeployKeyRow),
    /// A deploy token (HTTP): fetches, with `read_repository`, from its project or from every
    /// project below its group; never pushes.
    DeployToken(DeployTokenRow),
}

impl GitCredential {
    fn actor(&self) -> Actor {
        match self {
            GitCredential::Anonymous
            | GitCredential::Job { .. }
            | GitCredential::DeployKey(_)
            | GitCredential::DeployToken(_) => Actor::Anonymous,
            GitCredential::User(user) | GitCredential::Token(user, _) => Actor::User(user.clone()),
        }
    }
}

/// Leave to run git for one request.
#[derive(Debug, Clone)]
pub struct GitPermit {
    /// The project whose code or wiki this is; `None` for a group's wiki.
    pub project: Option<ProjectRow>,
    /// The project's code, its wiki (`group/project.wiki.git`), or a group's wiki
    /// (`group.wiki.git`).
    pub repo: RepoId,
    pub actor: Actor,
    /// For pushes: the policy the hooks apply and where they report.
    pub push: Option<PushSetup>,
}

impl super::Code<'_> {
    /// Checks git's Basic credentials: a personal access token as the password (any
    /// username), a deploy token with its user name, or the username (or e-mail) and password.
    pub async fn authenticate_git(&self, login: &str, secret: &str, client: &str) -> CoreResult<GitCredential> {
        if secret.starts_with(DEPLOY_TOKEN_PREFIX) {
            return match self.manage().authenticate_deploy_token(login, secret).await? {
                Some(token) => Ok(GitCredential::DeployToken(token)),
                None => Err(CoreError::Unauthorized),
            };
        }
        if secret.starts_with(crate::ci::JOB_TOKEN_PREFIX) {
            let job = self.ci().authenticate_job_token(secret).await?;
            return Ok(GitCredential::Job { job_id: job.id, project: job.project_id, user: job.user_id });
        }
        if secret.starts_with(crate::manage::tokens::TOKEN_PREFIX) {
            return match self.manage().authenticate_token(secret).await? {
                Ok((user, token)) => {
                    let scopes = TokenScopes::parse_list(&token.scopes)
                        .map_err(|_| CoreError::Forbidden("the token has no valid scopes".to_owned()))?;
                    Ok(GitCredential::Token(user, scopes))
                }
                Err(TokenProblem::UserBlocked) => Err(CoreError::Forbidden("your account has been blocked".to_owned())),
                Err(_) => Err(CoreError::Unauthorized),
            };
        }
        match self.manage().check_password(login, secret, client).await {
            Ok(user) => Ok(GitCredential::User(user)),
            Err(CoreError::Invalid { .. }) => Err(CoreError::Unauthorized),
            Err(other) => Err(other),
        }
    }

    /// Decides whether `credential` may fetch from or push to the project at `full_path`.
    pub async fn git_access(
        &self,
        credential: &GitCredential,
        full_path: &str,
        operation: GitOperation,
    ) -> CoreResult<GitPermit> {
        if let GitCredential::Token(_, scopes) = credential {
            let allowed = scopes.contains(TokenScope::Api)
                || scopes.contains(TokenScope::WriteRepository)
                || (operation == GitOperation::Fetch && scopes.contains(TokenScope::ReadRepository));
            if !allowed {
                let needed = if operation == GitOperation::Push { "write_repository" } else { "read_repository" };
                return Err(CoreError::Forbidden(format!("this token needs the {needed} scope")));
            }
        }
        let code_path = full_path.strip_suffix(".wiki").unwrap_or(full_path);
        gantry_types::FullPath::parse(code_path).map_err(|_| CoreError::NotFound("project"))?;
        let actor = credential.actor();
        let mut conn = self.db.conn().await?;
        // `group/project.wiki` is the project's wiki, `group.wiki` the group's: no project or
        // group path ends in `.wiki`, and no project has a group's path.
        let (project, wiki) = match projects::find_project_by_full_path(&mut conn, full_path).await? {
            Some(project) => (project, false),
            None => {
                let code = full_path.strip_suffix(".wiki").ok_or(CoreError::NotFound("project"))?;
                match projects::find_project_by_full_path(&mut conn, code).await? {
                    Some(project) => (project, true),
                    None => {
                        drop(conn);
                        return self.group_wiki_access(credential, code, operation).await;
                    }
                }
            }
        };
        let action = match (operation, wiki) {
            (GitOperation::Fetch, false) => ProjectAction::ReadCode,
            (GitOperation::Push, false) => ProjectAction::PushCode,
            (GitOperation::Fetch, true) => ProjectAction::ReadWiki,
            (GitOperation::Push, true) => ProjectAction::EditWiki,
        };
        if wiki && matches!(credential, GitCredential::DeployKey(_)) {
            return Err(CoreError::Forbidden("a deploy key reaches a project's code, not its wiki".to_owned()));
        }
        let level = match credential {
            // A job reads its own project's code, whatever the project's visibility, and other
            // projects' as their job token scope and the job's user allow; it never pushes.
            GitCredential::Job { project: job_project, user, .. } => {
                authorize_job_token(&mut conn, *job_project, *user, &project, action).await?
            }
            GitCredential::DeployToken(token) => {
                if !self.manage().deploy_token_covers(token, &project).await? {
                    return Err(CoreError::NotFound("project"));
                }
                if operation != GitOperation::Fetch {
                    return Err(CoreError::Forbidden(
                        "a deploy token cannot push: use a deploy key with write access or a personal access token"
                            .to_owned(),
                    ));
                }
                if !deploy_token_scopes(token).contains(&gantry_types::DeployTokenScope::ReadRepository) {
                    return Err(CoreError::Forbidden("this deploy token needs the read_repository scope".to_owned()));
                }
                Some(gantry_types::AccessLevel::Reporter)
            }
            GitCredential::DeployKey(key) => {
                let (_, link) = deploy_keys::find_project_deploy_key(&mut conn, project.id, key.id)
                    .await?
                    .ok_or(CoreError::NotFound("project"))?;
                if operation == GitOperation::Push {
                    if !link.can_push {
                        return Err(CoreError::Forbidden(
                            "this deploy key has no write access to this project: a Maintainer can grant it in the \
                             project's deploy keys"
                                .to_owned(),
                        ));
                    }
                    if project.archived {
                        return Err(CoreError::Forbidden(
                            "this project is archived: its repository is read-only".to_owned(),
                        ));
                    }
                }
                // No role: the push policy keeps protected branches and tags closed to it.
                None
            }
            _ => authorize_project(&mut conn, &actor, &project, action).await?,
        };
        let push = match operation {
            GitOperation::Fetch => None,
            GitOperation::Push if wiki => Some(wiki_push_setup(self.repos.scratch_file(WIKI_PUSH_REPORT)?)),
            GitOperation::Push => {
                let rules = protected_branches::list_protected_branches(&mut conn, project.id).await?;
                let tag_rules = protected_tags::list_protected_tags(&mut conn, project.id).await?;
                Some(PushSetup {
                    policy: push_policy(&project, &rules, &tag_rules, level),
                    report_file: self.repos.scratch_file(&push_report_prefix(
                        &self.identity,
                        project.id,
                        actor.user().map(|u| u.id),
                    ))?,
                    max_pack_bytes: MAX_PUSH_BYTES,
                })
            }
        };
        drop(conn);
        if wiki {
            self.plan().ensure_wiki(WikiOwner::Project(project.id)).await?;
            return Ok(GitPermit { repo: RepoId::Wiki(project.id), project: Some(project), actor, push });
        }
        if !self.repos.exists(project.id) {
            tracing::error!(project.id = %project.id, "the project's repository is missing");
            return Err(CoreError::from(gantry_git::GitError::Missing));
        }
        Ok(GitPermit { repo: RepoId::Project(project.id), project: Some(project), actor, push })
    }

    /// [`Code::git_access`] to the wiki of the group at `group_path`: people only, by their role
    /// in the group (whoever sees the group clones it, Developers push), as on the group's
    /// wiki pages. Jobs, deploy keys and deploy tokens reach projects, not groups: to them a
    /// group's wiki is not there.
    async fn group_wiki_access(
        &self,
        credential: &GitCredential,
        group_path: &str,
        operation: GitOperation,
    ) -> CoreResult<GitPermit> {
        match credential {
            GitCredential::Anonymous | GitCredential::User(_) | GitCredential::Token(..) => {}
            // As for a project they do not reach: whether something is there stays unsaid.
            GitCredential::Job { .. } | GitCredential::DeployKey(_) | GitCredential::DeployToken(_) => {
                return Err(CoreError::NotFound("project"));
            }
        }
        let actor = credential.actor();
        let access = self
            .group_access(&actor, &crate::manage::groups::Lookup::Path(group_path.to_owned()))
            .await
            .map_err(|error| match error {
                CoreError::NotFound(_) => CoreError::NotFound("project"),
                other => other,
            })?;
        let push = match operation {
            GitOperation::Fetch => {
                access.require(GroupAction::ReadWiki)?;
                None
            }
            GitOperation::Push => {
                access.require(GroupAction::EditWiki)?;
                Some(wiki_push_setup(self.repos.scratch_file(WIKI_PUSH_REPORT)?))
            }
        };
        let group = access.group().id;
        self.plan().ensure_wiki(WikiOwner::Group(group)).await?;
        Ok(GitPermit { repo: RepoId::GroupWiki(group), project: None, actor, push })
    }

    /// The project's recent ref changes, newest first (anyone who may see the project).
    pub async fn list_push_events(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        page: gantry_db::Page,
    ) -> CoreResult<(Vec<push_events::PushEventRow>, i64)> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::Read).await?;
        Ok(push_events::list_push_events(&mut conn, project.id, page).await?)
    }

    /// After a push's git process ended (whether or not its client is still there): reads what
    /// its post-receive hook reported, records it, and then removes the report. Failures are
    /// logged (the push itself has happened); a report left behind is recorded at the next
    /// start ([`Core::record_leftover_pushes`]).
    pub async fn finish_push(&self, permit: &GitPermit, git_succeeded: bool) {
        let Some(push) = &permit.push else { return };
        // A wiki's pages are read from git itself: only its search index follows.
        let wiki = match permit.repo {
            RepoId::Project(project) => Err(project),
            RepoId::Wiki(project) => Ok(WikiOwner::Project(project)),
            RepoId::GroupWiki(group) => Ok(WikiOwner::Group(group)),
        };
        let project = match wiki {
            Err(project) => project,
            Ok(owner) => {
                let _ = tokio::fs::remove_file(&push.report_file).await;
                tracing::info!(wiki = %owner, succeeded = git_succeeded, "wiki pushed");
                self.queue_wiki_index(owner).await;
                return;
            }
        };
        let report = tokio::fs::read_to_string(&push.report_file).await.unwrap_or_default();
        let report = gantry_git::hooks::read_report(&report);
        if !git_succeeded && report.updates.is_empty() {
            let _ = tokio::fs::remove_file(&push.report_file).await;
            return;
        }
        let user = permit.actor.user().map(|u| u.id);
        match self.record_push(project, user, &report.updates, &report.options).await {
            Ok(()) => {
                let _ = tokio::fs::remove_file(&push.report_file).await;
            }
            Err(error) => tracing::error!(error = %error, project.id = %project, "cannot record a push"),
        }
    }

    /// Records the pushes whose reports this server left behind when it stopped (killed, say,
    /// between git's ref updates and the record); run at start, before taking pushes. Each
    /// report is recorded once, as the push of the user who made it, and then removed. The
    /// reports of other servers sharing the data directory are theirs: they may be recording
    /// them right now ([`Core::record_orphaned_pushes`] takes those of servers gone for good).
    pub async fn record_leftover_pushes(&self) -> CoreResult<usize> {
        let mut recorded = 0;
        for file in self.repos.scratch_files(&format!("{PUSH_REPORT}-{}", server_tag(&self.identity)))? {
            recorded += usize::from(self.record_push_report(&file).await?);
        }
        Ok(recorded)
    }

    /// Records the reports other servers left behind longer ago than `age`: a live server
    /// records its push within seconds of git's end, so these belong to a server that died and
    /// has not come back. Each is first renamed to this server's name, which only one server can
    /// do, so two never record the same push; were this one to die meanwhile, its next start
    /// records it.
    pub async fn record_orphaned_pushes(&self, age: std::time::Duration) -> CoreResult<usize> {
        let mine = format!("{PUSH_REPORT}-{}-", server_tag(&self.identity));
        let cutoff = std::time::SystemTime::now().checked_sub(age).unwrap_or(std::time::UNIX_EPOCH);
        let mut recorded = 0;
        for file in self.repos.scratch_files(PUSH_REPORT)? {
            let Some(name) = file.file_name().and_then(|name| name.to_str()) else { continue };
            let Some((_, rest)) = name.strip_prefix("push-").and_then(|rest| rest.split_once('-')) else { continue };
            let old = std::fs::metadata(&file).and_then(|m| m.modified()).is_ok_and(|modified| modified < cutoff);
            if name.starts_with(&mine) || !old || parse_push_report_name(name).is_none() {
                continue;
            }
            let claimed = file.with_file_name(format!("{mine}{rest}"));
            if tokio::fs::rename(&file, &claimed).await.is_err() {
                continue; // another server took it first
            }
            tracing::warn!(report = name, "a push left unrecorded by a server that did not come back is recorded");
            recorded += usize::from(self.record_push_report(&claimed).await?);
        }
        Ok(recorded)
    }

    /// Records the push one report file describes (if its project still exists), then removes
    /// the file; whether a push was recorded.
    async fn record_push_report(&self, file: &std::path::Path) -> CoreResult<bool> {
        let name = file.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let Some((project, user)) = parse_push_report_name(name) else { return Ok(false) };
        let report = tokio::fs::read_to_string(file).await.unwrap_or_default();
        let report = gantry_git::hooks::read_report(&report);
        let mut conn = self.db.conn().await?;
        let exists = gantry_db::manage::projects::find_project_by_id(&mut conn, project).await?.is_some();
        drop(conn);
        let recorded = exists && !report.updates.is_empty();
        if recorded {
            self.record_push(project, user, &report.updates, &report.options).await?;
            tracing::info!(project.id = %project, "a push left unrecorded by a stopped server is recorded");
        }
        tokio::fs::remove_file(file).await.map_err(|error| CoreError::Internal(error.into()))?;
        Ok(recorded)
    }

    /// Records the ref updates a push made (as its post-receive hook reported them), with the
    /// push options the client sent, and queues in the same transaction what follows a push:
    /// its pipelines and the repository's maintenance.
    pub(crate) async fn record_push(
        &self,
        project: gantry_types::ProjectId,
        user: Option<gantry_types::UserId>,
        updates: &[RefUpdate],
        options: &[String],
    ) -> CoreResult<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let mut refs = Vec::with_capacity(updates.len());
        for update in updates {
            let event =
                push_events::insert_push_event(&mut tx, project, user, &update.name, &update.old, &update.new).await?;
            refs.push(PushedRef { event, name: update.name.clone(), old: update.old.clone(), new: update.new.clone() });
        }
        self.enqueue(&mut tx, &Work::IssuesFromPush { project, user, refs: refs.clone() }).await?;
        self.enqueue(&mut tx, &Work::PipelinesForPush { project, user, refs, options: options.to_vec() }).await?;
        self.enqueue(&mut tx, &Work::MaintainRepository { project }).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        self.wake_background();
        tracing::info!(project.id = %project, refs = updates.len(), "push recorded");
        Ok(())
    }
}

/// How a push to a wiki is checked: a wiki has no protected branches; its branch `main` is
/// never deleted by a push.
fn wiki_push_setup(report_file: std::path::PathBuf) -> PushSetup {
    PushSetup {
        policy: PushPolicy {
            default_branch: crate::plan::wiki::WIKI_BRANCH.to_owned(),
            protected: Vec::new(),
            protected_tags: Vec::new(),
            group_protected: Vec::new(),
        },
        report_file,
        max_pack_bytes: MAX_PUSH_BYTES,
    }
}

/// The name a wiki push's report starts with (removed once git ends; never recorded).
const WIKI_PUSH_REPORT: &str = "wikipush";

/// The name a push's report starts with; the rest says whose push it is (see
/// [`push_report_prefix`]).
const PUSH_REPORT: &str = "push";

/// `push-<server>-<project id>-<user id, 0 for none>`: a report left behind says which server
/// took the push and whose push it was.
fn push_report_prefix(identity: &str, project: gantry_types::ProjectId, user: Option<gantry_types::UserId>) -> String {
    format!("{PUSH_REPORT}-{}-{}-{}", server_tag(identity), project.0, user.map_or(0, |user| user.0))
}

/// A short name of the server for file names: eight hex digits of its identity's digest.
fn server_tag(identity: &str) -> String {
    crate::secret::digest(identity)[..8].to_owned()
}

/// The project and user of a report's file name (`push-<server>-12-3-<random>`).
fn parse_push_report_name(name: &str) -> Option<(gantry_types::ProjectId, Option<gantry_types::UserId>)> {
    let (_server, rest) = name.strip_prefix("push-")?.split_once('-')?;
    let mut parts = rest.splitn(3, '-');
    let project = parts.next()?.parse().ok()?;
    let user: i64 = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((gantry_types::ProjectId(project), (user != 0).then_some(gantry_types::UserId(user))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reports_name_says_whose_push_it_is() {
        let name = format!(
            "{}-00ff",
            push_report_prefix("host 127.0.0.1:3000", gantry_types::ProjectId(12), Some(gantry_types::UserId(3)))
        );
        assert!(name.starts_with(&format!("push-{}-12-3-", server_tag("host 127.0.0.1:3000"))), "{name}");
        assert_eq!(parse_push_report_name(&name), Some((gantry_types::ProjectId(12), Some(gantry_types::UserId(3)))));
        let anonymous = format!("{}-00ff", push_report_prefix("local", gantry_types::ProjectId(4), None));
        assert_eq!(parse_push_report_name(&anonymous), Some((gantry_types::ProjectId(4), None)));
        assert_ne!(server_tag("host 127.0.0.1:3000"), server_tag("host 127.0.0.1:3001"));
        for wrong in ["push-abc", "push-1-2", "push-0a0b-1-2", "push-0a0b--1-x", "other-0a-1-2-x"] {
            assert_eq!(parse_push_report_name(wrong), None, "{wrong}");
        }
    }
}
