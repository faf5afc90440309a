//! Commits made without a git client (the files and commits API): file actions on a branch,
//! checked as a push of that branch would be (the role to push code, the branch's protection),
//! written by gantry-git over the branch's tip and recorded as a push, so CI runs for them.

use gantry_git::write::{FileAction, WriteError};
use gantry_git::{Author, ZERO_OID, refcheck::RefUpdate};

use crate::policy::{ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult};

/// The most actions one commit may carry, and the most bytes of content in all.
pub const MAX_ACTIONS: usize = 1000;
pub const MAX_CONTENT_BYTES: usize = 50 << 20;

/// What an action does to its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Create,
    Update,
    Delete,
    Move,
}

impl ActionKind {
    /// GitLab's name of the action (`create`, `update`, `delete`, `move`).
    pub fn parse(name: &str) -> Option<ActionKind> {
        Some(match name {
            "create" => ActionKind::Create,
            "update" => ActionKind::Update,
            "delete" => ActionKind::Delete,
            "move" => ActionKind::Move,
            _ => return None,
        })
    }
}

/// One file action of a commit.
#[derive(Debug, Clone)]
pub struct CommitAction {
    pub kind: ActionKind,
    pub file_path: String,
    /// The file's old path (a move).
    pub previous_path: Option<String>,
    /// The new content (create, update, and optionally move).
    pub content: Option<Vec<u8>>,
}

/// A commit to make on `branch`.
#[derive(Debug, Clone)]
pub struct NewCommit {
    pub branch: String,
    /// Where a branch that does not exist yet starts (a branch or commit).
    pub start_branch: Option<String>,
    pub message: String,
    pub actions: Vec<CommitAction>,
    /// Who the commit names as its author, when not the actor.
    pub author_name: Option<String>,
    pub author_email: Option<String>,
}

/// A path inside the repository: relative, without `.` or `..` parts or a `.git` folder.
fn checked_path(field: &'static str, path: &str) -> CoreResult<String> {
    let path = path.trim_matches('/');
    let bad = path.is_empty()
        || path.len() > 4096
        || path.contains(['\0', '\n', '\r', '\\'])
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == ".." || part.eq_ignore_ascii_case(".git"));
    if bad {
        return Err(CoreError::invalid(field, format!("'{path}' is not a valid file path")));
    }
    Ok(path.to_owned())
}

impl super::Code<'_> {
    /// Commits `commit`'s actions on its branch (creating the branch from `start_branch`, or
    /// in an empty repository) as `actor`, whose `access` to the project the caller loaded,
    /// and returns the new commit's id.
    pub async fn commit_files(&self, actor: &Actor, access: &ProjectAccess, commit: &NewCommit) -> CoreResult<String> {
        access.require(ProjectAction::PushCode)?;
        let project = access.project();
        let user = actor.require_user()?;
        let (policy, _) = self.push_policy_of(project, access.level()).await?;
        let branch = commit.branch.trim();
        if branch.is_empty() {
            return Err(CoreError::invalid("branch", "is missing"));
        }
        if !gantry_git::refs::is_valid_ref_name(branch) {
            return Err(CoreError::invalid("branch", format!("'{branch}' is not a valid branch name")));
        }
        if commit.message.trim().is_empty() {
            return Err(CoreError::invalid("commit_message", "is missing"));
        }
        if commit.actions.is_empty() || commit.actions.len() > MAX_ACTIONS {
            return Err(CoreError::invalid("actions", format!("must hold 1 to {MAX_ACTIONS} actions")));
        }
        let total: usize = commit.actions.iter().map(|a| a.content.as_ref().map_or(0, Vec::len)).sum();
        if total > MAX_CONTENT_BYTES {
            return Err(CoreError::invalid(
                "content",
                format!("is larger than {} MiB in all", MAX_CONTENT_BYTES >> 20),
            ));
        }
        let mut paths = Vec::with_capacity(commit.actions.len());
        for action in &commit.actions {
            let path = checked_path("file_path", &action.file_path)?;
            let previous = match (action.kind, &action.previous_path) {
                (ActionKind::Move, Some(previous)) => Some(checked_path("previous_path", previous)?),
                (ActionKind::Move, None) => return Err(CoreError::invalid("previous_path", "is missing for a move")),
                _ => None,
            };
            if matches!(action.kind, ActionKind::Create | ActionKind::Update) && action.content.is_none() {
                return Err(CoreError::invalid("content", format!("is missing for {path}")));
            }
            paths.push((path, previous));
        }
        let repos = self.repository(project)?;
        let full_name = format!("refs/heads/{branch}");
        let tip = repos.ref_target(project.id, &full_name).await?;
        let base = match (&tip, commit.start_branch.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
            (Some(tip), _) => Some(tip.clone()),
            (None, Some(start)) => Some(repos.resolve_commit(project.id, start).await?.ok_or_else(|| {
                CoreError::invalid("start_branch", format!("'{start}' is not a branch, tag or commit"))
            })?),
            (None, None) if repos.is_empty(project.id) => None,
            (None, None) => {
                return Err(CoreError::invalid(
                    "branch",
                    format!("'{branch}' does not exist: name a start_branch to create it from"),
                ));
            }
        };
        let actions: Vec<FileAction<'_>> = commit
            .actions
            .iter()
            .zip(&paths)
            .map(|(action, (path, previous))| match action.kind {
                ActionKind::Create => FileAction::Create { path, content: action.content.as_deref().unwrap_or(&[]) },
                ActionKind::Update => FileAction::Update { path, content: action.content.as_deref().unwrap_or(&[]) },
                ActionKind::Delete => FileAction::Delete { path },
                ActionKind::Move => FileAction::Move {
                    from: previous.as_deref().unwrap_or(""),
                    to: path,
                    content: action.content.as_deref(),
                },
            })
            .collect();
        let name = commit.author_name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(if user.name.is_empty() {
            &user.username
        } else {
            &user.name
        });
        let email = commit.author_email.as_deref().filter(|e| !e.trim().is_empty()).unwrap_or(&user.email);
        let author = Author { name, email };
        let mut message = commit.message.trim_end().to_owned();
        message.push('\n');
        let new =
            repos.commit_actions(project.id, base.as_deref(), &actions, &message, &author).await.map_err(|error| {
                match error {
                    WriteError::AlreadyExists(_) => {
                        CoreError::invalid("file_path", "A file with this name already exists")
                    }
                    WriteError::DoesNotExist(_) => {
                        CoreError::invalid("file_path", "A file with this name doesn't exist")
                    }
                    WriteError::Git(error) => error.into(),
                }
            })?;
        let update = RefUpdate { old: tip.unwrap_or_else(|| ZERO_OID.to_owned()), new: new.clone(), name: full_name };
        // The new commit descends from the branch's tip, so this is never a force push.
        policy.check(&update, || true, |_| false).map_err(CoreError::Forbidden)?;
        self.apply_ref_update(actor, project, &update, "branch").await?;
        Ok(new)
    }
}
