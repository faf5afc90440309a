//! Commits Gantry writes for a person (the files and commits API): file actions applied to a
//! base commit's tree in an index of their own, then one commit. The ref is not moved here:
//! the caller checks its push policy first and moves it with a compare-and-swap.

use gantry_types::ProjectId;

use crate::command::{GitError, git, run, run_text};
use crate::storage::{Author, Repositories};

/// One change to a file.
#[derive(Debug, Clone)]
pub enum FileAction<'a> {
    /// A new file; it must not exist.
    Create { path: &'a str, content: &'a [u8] },
    /// New content for a file that exists.
    Update { path: &'a str, content: &'a [u8] },
    /// Removes a file that exists.
    Delete { path: &'a str },
    /// Renames a file that exists (to a path that does not), with new content if given.
    Move { from: &'a str, to: &'a str, content: Option<&'a [u8]> },
}

/// Why file actions could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a file with this name already exists: {0}")]
    AlreadyExists(String),
    #[error("a file with this name doesn't exist: {0}")]
    DoesNotExist(String),
    #[error(transparent)]
    Git(#[from] GitError),
}

impl Repositories {
    /// Writes a commit of `actions` over `base` (a commit id; `None` for the first commit of
    /// an empty repository) and returns its id.
    pub async fn commit_actions(
        &self,
        id: ProjectId,
        base: Option<&str>,
        actions: &[FileAction<'_>],
        message: &str,
        author: &Author<'_>,
    ) -> Result<String, WriteError> {
        let repo = self.existing(id)?;
        let index = self.scratch_file("index")?;
        let result = async {
            let with_index = |args: &[&str]| {
                let mut command = git(self.git_program(), &repo);
                command.args(args).env("GIT_INDEX_FILE", &index);
                command
            };
            match base {
                Some(base) => run(with_index(&["read-tree", &format!("{base}^{{tree}}")]), None).await?,
                None => run(with_index(&["read-tree", "--empty"]), None).await?,
            };
            for action in actions {
                match action {
                    FileAction::Create { path, content } => {
                        if tracked(&with_index, path).await? {
                            return Err(WriteError::AlreadyExists((*path).to_owned()));
                        }
                        add(&with_index, path, content).await?;
                    }
                    FileAction::Update { path, content } => {
                        if !tracked(&with_index, path).await? {
                            return Err(WriteError::DoesNotExist((*path).to_owned()));
                        }
                        add(&with_index, path, content).await?;
                    }
                    FileAction::Delete { path } => {
                        if !tracked(&with_index, path).await? {
                            return Err(WriteError::DoesNotExist((*path).to_owned()));
                        }
                        remove(&with_index, path).await?;
                    }
                    FileAction::Move { from, to, content } => {
                        if !tracked(&with_index, from).await? {
                            return Err(WriteError::DoesNotExist((*from).to_owned()));
                        }
                        if tracked(&with_index, to).await? {
                            return Err(WriteError::AlreadyExists((*to).to_owned()));
                        }
                        // The entry moves as it is (its blob and mode) unless new content is given.
                        let staged = run_text(with_index(&["ls-files", "--stage", "--", from]), None).await?;
                        let (mode, blob) = staged
                            .split_whitespace()
                            .next()
                            .zip(staged.split_whitespace().nth(1))
                            .ok_or_else(|| WriteError::DoesNotExist((*from).to_owned()))?;
                        let (mode, blob) = (mode.to_owned(), blob.to_owned());
                        remove(&with_index, from).await?;
                        match content {
                            Some(content) => add(&with_index, to, content).await?,
                            None => {
                                let entry = format!("{mode},{blob},{to}");
                                run(with_index(&["update-index", "--add", "--cacheinfo", &entry]), None).await?;
                            }
                        }
                    }
                }
            }
            let tree = run_text(with_index(&["write-tree"]), None).await?;
            let mut commit = git(self.git_program(), &repo);
            commit.args(["commit-tree", &tree]);
            if let Some(base) = base {
                commit.args(["-p", base]);
            }
            commit
                .env("GIT_AUTHOR_NAME", author.name)
                .env("GIT_AUTHOR_EMAIL", author.email)
                .env("GIT_COMMITTER_NAME", author.name)
                .env("GIT_COMMITTER_EMAIL", author.email);
            Ok(run_text(commit, Some(message.as_bytes())).await?)
        }
        .await;
        let _ = std::fs::remove_file(&index);
        result
    }
}

/// Whether the index holds a file at exactly `path`.
async fn tracked(with_index: &impl Fn(&[&str]) -> tokio::process::Command, path: &str) -> Result<bool, GitError> {
    let listed = run(with_index(&["ls-files", "--cached", "-z", "--", path]), None).await?;
    Ok(listed.split(|b| *b == 0).any(|entry| entry == path.as_bytes()))
}

/// Takes `path` out of the index (`--index-info` with mode 0: a bare repository has no work
/// tree for `--force-remove` to look at).
async fn remove(with_index: &impl Fn(&[&str]) -> tokio::process::Command, path: &str) -> Result<(), GitError> {
    let line = format!("0 {}\t{path}\n", crate::ZERO_OID);
    run(with_index(&["update-index", "--index-info"]), Some(line.as_bytes())).await?;
    Ok(())
}

/// Stores `content` as a blob and puts it at `path` in the index (a regular file).
async fn add(
    with_index: &impl Fn(&[&str]) -> tokio::process::Command,
    path: &str,
    content: &[u8],
) -> Result<(), GitError> {
    let blob = run_text(with_index(&["hash-object", "-w", "--stdin"]), Some(content)).await?;
    run(with_index(&["update-index", "--add", "--cacheinfo", &format!("100644,{blob},{path}")]), None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn actions_make_one_commit_over_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(1);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let first = repos
            .commit_actions(id, None, &[FileAction::Create { path: "README.md", content: b"hi\n" }], "First\n", &ada)
            .await
            .unwrap();
        let actions = [
            FileAction::Create { path: "src/lib.rs", content: b"fn f() {}\n" },
            FileAction::Move { from: "README.md", to: "docs/README.md", content: None },
        ];
        let second = repos.commit_actions(id, Some(&first), &actions, "Second\n", &ada).await.unwrap();
        assert_ne!(first, second);
        let again = [FileAction::Create { path: "src/lib.rs", content: b"" }];
        assert!(matches!(
            repos.commit_actions(id, Some(&second), &again, "x\n", &ada).await,
            Err(WriteError::AlreadyExists(_))
        ));
        let missing = [FileAction::Delete { path: "README.md" }];
        assert!(matches!(
            repos.commit_actions(id, Some(&second), &missing, "x\n", &ada).await,
            Err(WriteError::DoesNotExist(_))
        ));
    }
}
