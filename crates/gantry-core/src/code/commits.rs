//! Commits made without a git client (the files and commits API, cherry-picks and reverts):
//! file actions on a branch, or another commit's change applied to it, checked as a push of that
//! branch would be (the role to push code, the branch's protection), written by gantry-git over
//! the branch's tip and recorded as a push, so CI runs for them.

use gantry_git::refs::CommitSummary;
use gantry_git::write::{Applied, ChangeKind, FileAction, Signature, WriteError};
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
    /// Makes the file executable or not (`execute_filemode`).
    Chmod,
}

impl ActionKind {
    /// GitLab's name of the action (`create`, `update`, `delete`, `move`, `chmod`).
    pub fn parse(name: &str) -> Option<ActionKind> {
        Some(match name {
            "create" => ActionKind::Create,
            "update" => ActionKind::Update,
            "delete" => ActionKind::Delete,
            "move" => ActionKind::Move,
            "chmod" => ActionKind::Chmod,
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
    /// Whether the file is executable (required for chmod; create makes a plain file without
    /// it, update keeps the file's mode).
    pub executable: Option<bool>,
    /// The last commit that changed the file as the writer saw it (update, move, delete): the
    /// write is refused when the file has changed since.
    pub last_commit_id: Option<String>,
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
    /// Made by the one-file API (`/repository/files/:path`), whose refusals GitLab words
    /// differently from those of `/repository/commits`.
    pub one_file: bool,
}

/// Why a cherry-pick or revert cannot be made automatically (GitLab's `error_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeFailure {
    /// The change is already there (or undone already): the commit would change nothing.
    Empty,
    /// The change conflicts with the branch.
    Conflict,
}

impl ChangeFailure {
    /// GitLab's `error_code`.
    pub fn code(self) -> &'static str {
        match self {
            ChangeFailure::Empty => "empty",
            ChangeFailure::Conflict => "conflict",
        }
    }

    /// GitLab's message for a failed cherry-pick or revert of a commit.
    pub fn message(self, kind: ChangeKind) -> String {
        let status = match kind {
            ChangeKind::CherryPick => "Commit cherry-pick failed",
            ChangeKind::Revert => "Commit revert failed",
        };
        format!(
            "{status}: Can't perform this action automatically. It may have already been done, or a more recent \
             commit may have updated some of this content. Please perform this action locally."
        )
    }
}

/// A cherry-pick or revert of `commit` onto `branch`.
#[derive(Debug, Clone)]
pub struct CommitChange {
    pub kind: ChangeKind,
    /// The commit whose change is applied (a commit id, branch or tag).
    pub commit: String,
    pub branch: String,
    /// Only find out whether it would succeed.
    pub dry_run: bool,
    /// The new commit's message, instead of GitLab's.
    pub message: Option<String>,
}

/// What a cherry-pick or revert did.
#[derive(Debug, Clone)]
pub enum ChangeOutcome {
    /// The new commit at the branch's tip.
    Committed(Box<CommitSummary>),
    /// A dry run that would succeed.
    WouldSucceed,
    Failed(ChangeFailure),
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
            // GitLab's one-file create and every update need content; a create in a commit of
            // several actions may leave it out (an empty file).
            let needs_content =
                action.kind == ActionKind::Update || (action.kind == ActionKind::Create && commit.one_file);
            if needs_content && action.content.is_none() {
                return Err(CoreError::invalid("content", format!("is missing for {path}")));
            }
            if action.kind == ActionKind::Chmod && action.executable.is_none() {
                return Err(CoreError::invalid("execute_filemode", format!("is missing for {path}")));
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
        if let Some(base) = &base {
            self.check_unchanged_files(project, base, commit, &paths).await?;
        }
        let actions: Vec<FileAction<'_>> = commit
            .actions
            .iter()
            .zip(&paths)
            .map(|(action, (path, previous))| {
                let content = action.content.as_deref().unwrap_or(&[]);
                match action.kind {
                    ActionKind::Create => {
                        FileAction::Create { path, content, executable: action.executable.unwrap_or(false) }
                    }
                    ActionKind::Update => FileAction::Update { path, content, executable: action.executable },
                    ActionKind::Delete => FileAction::Delete { path },
                    ActionKind::Move => FileAction::Move {
                        from: previous.as_deref().unwrap_or(""),
                        to: path,
                        content: action.content.as_deref(),
                    },
                    ActionKind::Chmod => FileAction::Chmod { path, executable: action.executable.unwrap_or(false) },
                }
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
                // GitLab names the file only when a commit has several.
                let named = |text: &str, path: String| {
                    CoreError::Refused(if commit.one_file { text.to_owned() } else { format!("{text}: {path}") })
                };
                match error {
                    WriteError::AlreadyExists(path) => named("A file with this name already exists", path),
                    WriteError::DoesNotExist(path) => named("A file with this name doesn't exist", path),
                    WriteError::FolderExists(path) => named("A folder with this name already exists", path),
                    WriteError::InsideAFile { path, file } => {
                        CoreError::Refused(format!("Cannot make {path}: {file} is a file."))
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

    /// Refuses the commit when a file it updates, moves or deletes with a `last_commit_id` was
    /// changed by a later commit on `base` than that one (GitLab's check against lost edits).
    async fn check_unchanged_files(
        &self,
        project: &crate::ProjectRow,
        base: &str,
        commit: &NewCommit,
        paths: &[(String, Option<String>)],
    ) -> CoreResult<()> {
        let mut checks = Vec::new();
        for (action, (path, previous)) in commit.actions.iter().zip(paths) {
            let expected = action.last_commit_id.as_deref().map(str::trim).filter(|id| !id.is_empty());
            if let (ActionKind::Update | ActionKind::Move | ActionKind::Delete, Some(expected)) =
                (action.kind, expected)
            {
                checks.push((action.kind, previous.clone().unwrap_or_else(|| path.clone()), expected.to_owned()));
            }
        }
        if checks.is_empty() {
            return Ok(());
        }
        let (repos, id, base) = (self.repos.clone(), project.id, base.to_owned());
        let lookups = checks.iter().map(|(_, path, _)| path.clone()).collect::<Vec<_>>();
        let last: Vec<Option<String>> = tokio::task::spawn_blocking(move || {
            let reader = repos.reader(id)?;
            lookups
                .iter()
                .map(|path| Ok(reader.history(&base, Some(path), 0, 1)?.0.into_iter().next().map(|c| c.id)))
                .collect::<Result<Vec<_>, gantry_git::GitError>>()
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        for ((kind, path, expected), last) in checks.iter().zip(last) {
            // A file no commit touched does not exist: the action itself says so.
            let Some(last) = last else { continue };
            if last != *expected {
                return Err(CoreError::Refused(match (commit.one_file, kind) {
                    (true, ActionKind::Delete) => {
                        "You are attempting to delete a file that has been previously updated.".to_owned()
                    }
                    (true, _) => {
                        "You are attempting to update a file that has changed since you started editing it.".to_owned()
                    }
                    (false, _) => format!("The file has changed since you started editing it: {path}"),
                }));
            }
        }
        Ok(())
    }

    /// Cherry-picks a commit onto a branch, or reverts it there, as `actor` (whose `access` the
    /// caller loaded): checked as a push of the branch, written without a working tree and
    /// recorded as a push. A change that cannot be made automatically is an outcome, not an
    /// error: GitLab answers it with its own body.
    pub async fn change_commit(
        &self,
        actor: &Actor,
        access: &ProjectAccess,
        change: &CommitChange,
    ) -> CoreResult<ChangeOutcome> {
        access.require(ProjectAction::PushCode)?;
        let project = access.project();
        let user = actor.require_user()?;
        let branch = change.branch.trim();
        if branch.is_empty() {
            return Err(CoreError::invalid("branch", "is missing"));
        }
        let (policy, _) = self.push_policy_of(project, access.level()).await?;
        if policy.protection(branch).is_some_and(|rule| !rule.push_allowed) {
            return Err(CoreError::Forbidden("You are not allowed to push into this branch".to_owned()));
        }
        let repos = self.repository(project)?;
        let commit =
            repos.resolve_commit(project.id, change.commit.trim()).await?.ok_or(CoreError::NotFound("commit"))?;
        let full_name = format!("refs/heads/{branch}");
        let tip = repos.ref_target(project.id, &full_name).await?.ok_or(CoreError::NotFound("branch"))?;
        let tree = match repos.apply_change(project.id, &tip, &commit, change.kind).await? {
            Applied::Tree(tree) => tree,
            Applied::Empty => return Ok(ChangeOutcome::Failed(ChangeFailure::Empty)),
            Applied::Conflict(_) => return Ok(ChangeOutcome::Failed(ChangeFailure::Conflict)),
        };
        if change.dry_run {
            return Ok(ChangeOutcome::WouldSucceed);
        }
        let (repos_for_read, id, commit_id) = (self.repos.clone(), project.id, commit.clone());
        let original = tokio::task::spawn_blocking(move || repos_for_read.reader(id)?.commit(&commit_id))
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))??;
        let message = match change.message.as_deref().map(str::trim_end).filter(|m| !m.trim().is_empty()) {
            Some(message) => message.to_owned(),
            None => match change.kind {
                ChangeKind::CherryPick => {
                    format!("{}\n\n(cherry picked from commit {})", original.message.trim_end(), original.id)
                }
                ChangeKind::Revert => {
                    format!("Revert \"{}\"\n\nThis reverts commit {}", original.title.trim(), original.id)
                }
            },
        };
        let display = if user.name.is_empty() { &user.username } else { &user.name };
        let committer = Signature { name: display, email: &user.email, time: None };
        // A cherry-pick keeps the commit's author, as git's does; a revert is the actor's own.
        let author = match change.kind {
            ChangeKind::CherryPick => Signature {
                name: &original.author_name,
                email: &original.author_email,
                time: Some(original.authored_date),
            },
            ChangeKind::Revert => committer.clone(),
        };
        let new = repos.write_commit(project.id, &tree, &tip, &format!("{message}\n"), &author, &committer).await?;
        let update = RefUpdate { old: tip, new: new.clone(), name: full_name };
        // The new commit descends from the branch's tip, so this is never a force push.
        policy.check(&update, || true, |_| false).map_err(CoreError::Forbidden)?;
        self.apply_ref_update(actor, project, &update, "branch").await?;
        let (repos_for_read, id) = (self.repos.clone(), project.id);
        let summary = tokio::task::spawn_blocking(move || repos_for_read.reader(id)?.commit(&new))
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))??;
        tracing::info!(project.id = %project.id, branch, kind = ?change.kind, "commit change applied");
        Ok(ChangeOutcome::Committed(Box::new(summary)))
    }
}
