//! Commits Gantry writes for a person (the files and commits API, cherry-picks and reverts):
//! file actions applied to a base commit's tree in an index of their own, or a commit's change
//! applied onto another commit by a merge of trees (`git merge-tree`, no working tree), then one
//! commit. The ref is not moved here: the caller checks its push policy first and moves it with a
//! compare-and-swap.

use crate::RepoId;

use crate::command::{GitError, git, run, run_answer, run_text};
use crate::storage::{Author, Repositories};

/// The tree with nothing in it (SHA-1 repositories), which git knows without storing it.
pub const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// Which way a commit's change is applied onto another commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The change the commit made (against its first parent), again.
    CherryPick,
    /// The opposite of the change the commit made.
    Revert,
}

/// What applying a change onto a commit gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The tree of the result.
    Tree(String),
    /// The result is the commit's own tree: the change is there already (or undone already).
    Empty,
    /// The change conflicts with the commit in these files.
    Conflict(Vec<String>),
}

/// Who a written commit names, and when (Unix seconds; `None`: now).
#[derive(Debug, Clone)]
pub struct Signature<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub time: Option<i64>,
}

/// One change to a file.
#[derive(Debug, Clone)]
pub enum FileAction<'a> {
    /// A new file, executable or not; it must not exist.
    Create { path: &'a str, content: &'a [u8], executable: bool },
    /// New content for a file that exists; its mode stays unless `executable` is given.
    Update { path: &'a str, content: &'a [u8], executable: Option<bool> },
    /// Removes a file that exists.
    Delete { path: &'a str },
    /// Renames a file that exists (to a path that does not), with new content if given.
    Move { from: &'a str, to: &'a str, content: Option<&'a [u8]> },
    /// Makes a file that exists executable, or not.
    Chmod { path: &'a str, executable: bool },
}

/// The index mode of a regular file.
fn file_mode(executable: bool) -> &'static str {
    if executable { "100755" } else { "100644" }
}

/// Why file actions could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a file with this name already exists: {0}")]
    AlreadyExists(String),
    #[error("a file with this name doesn't exist: {0}")]
    DoesNotExist(String),
    /// The path is a folder already.
    #[error("a folder with this name already exists: {0}")]
    FolderExists(String),
    /// A folder of the path is a file (`file` of `path`).
    #[error("{file} is a file, so {path} cannot be made inside it")]
    InsideAFile { path: String, file: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl Repositories {
    /// Writes a commit of `actions` over `base` (a commit id; `None` for the first commit of
    /// an empty repository) and returns its id.
    pub async fn commit_actions(
        &self,
        id: impl Into<RepoId>,
        base: Option<&str>,
        actions: &[FileAction<'_>],
        message: &str,
        author: &Author<'_>,
    ) -> Result<String, WriteError> {
        let id: RepoId = id.into();
        let repo = self.existing(id)?;
        let index = self.scratch_file("index")?;
        let result = async {
            let with_index = |args: &[&str]| {
                let mut command = git(self.git_program(), &repo);
                // Paths are files, never patterns or magic (`:wq` is a file name).
                command.args(args).env("GIT_INDEX_FILE", &index).env("GIT_LITERAL_PATHSPECS", "1");
                command
            };
            match base {
                Some(base) => run(with_index(&["read-tree", &format!("{base}^{{tree}}")]), None).await?,
                None => run(with_index(&["read-tree", "--empty"]), None).await?,
            };
            for action in actions {
                match action {
                    FileAction::Create { path, content, executable } => {
                        if staged(&with_index, path).await?.is_some() {
                            return Err(WriteError::AlreadyExists((*path).to_owned()));
                        }
                        check_room_for(&with_index, path).await?;
                        add(&with_index, path, content, file_mode(*executable)).await?;
                    }
                    FileAction::Update { path, content, executable } => {
                        let Some((mode, _)) = staged(&with_index, path).await? else {
                            return Err(WriteError::DoesNotExist((*path).to_owned()));
                        };
                        let mode = executable.map_or(mode, |executable| file_mode(executable).to_owned());
                        add(&with_index, path, content, &mode).await?;
                    }
                    FileAction::Delete { path } => {
                        if staged(&with_index, path).await?.is_none() {
                            return Err(WriteError::DoesNotExist((*path).to_owned()));
                        }
                        remove(&with_index, path).await?;
                    }
                    FileAction::Move { from, to, content } => {
                        // The entry moves as it is (its blob and mode) unless new content is given.
                        let Some((mode, blob)) = staged(&with_index, from).await? else {
                            return Err(WriteError::DoesNotExist((*from).to_owned()));
                        };
                        if staged(&with_index, to).await?.is_some() {
                            return Err(WriteError::AlreadyExists((*to).to_owned()));
                        }
                        remove(&with_index, from).await?;
                        check_room_for(&with_index, to).await?;
                        match content {
                            Some(content) => add(&with_index, to, content, &mode).await?,
                            None => place(&with_index, to, &mode, &blob).await?,
                        }
                    }
                    FileAction::Chmod { path, executable } => {
                        let Some((_, blob)) = staged(&with_index, path).await? else {
                            return Err(WriteError::DoesNotExist((*path).to_owned()));
                        };
                        place(&with_index, path, file_mode(*executable), &blob).await?;
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

fn is_object_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Repositories {
    /// Applies `commit`'s change (against its first parent; everything, for a root commit) onto
    /// `onto`, or its opposite, as a three-way merge of trees: nothing is checked out and no ref
    /// moves. Both are full commit ids.
    pub async fn apply_change(
        &self,
        id: impl Into<RepoId>,
        onto: &str,
        commit: &str,
        kind: ChangeKind,
    ) -> Result<Applied, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(onto) || !is_object_id(commit) {
            return Err(GitError::Read("a change is applied between two commit ids".to_owned()));
        }
        let repo = self.existing(id)?;
        let mut parent = git(self.git_program(), &repo);
        parent.args(["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{commit}^1")]);
        let (has_parent, parent) = run_answer(parent, None).await?;
        let parent =
            if has_parent { String::from_utf8_lossy(&parent).trim().to_owned() } else { EMPTY_TREE.to_owned() };
        let (base, theirs) = match kind {
            ChangeKind::CherryPick => (parent.as_str(), commit),
            ChangeKind::Revert => (commit, parent.as_str()),
        };
        let mut merge = git(self.git_program(), &repo);
        merge
            .args(["-c", "core.quotePath=false", "merge-tree", "--write-tree", "--no-messages", "--name-only"])
            .arg(format!("--merge-base={base}"))
            .args([onto, theirs]);
        let (clean, output) = run_answer(merge, None).await?;
        let output = String::from_utf8_lossy(&output);
        let mut lines = output.lines();
        let tree = lines.next().unwrap_or_default().trim().to_owned();
        if !clean {
            let mut files: Vec<String> = lines.take_while(|l| !l.is_empty()).map(str::to_owned).collect();
            files.dedup();
            return Ok(Applied::Conflict(files));
        }
        if !is_object_id(&tree) {
            return Err(GitError::Read(format!("git merge-tree gave no tree: {output}")));
        }
        let mut onto_tree = git(self.git_program(), &repo);
        onto_tree.args(["rev-parse", "--verify", "--end-of-options", &format!("{onto}^{{tree}}")]);
        if run_text(onto_tree, None).await? == tree {
            return Ok(Applied::Empty);
        }
        Ok(Applied::Tree(tree))
    }

    /// Writes a commit of `tree` on `parent` and returns its id.
    pub async fn write_commit(
        &self,
        id: impl Into<RepoId>,
        tree: &str,
        parent: &str,
        message: &str,
        author: &Signature<'_>,
        committer: &Signature<'_>,
    ) -> Result<String, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(tree) || !is_object_id(parent) {
            return Err(GitError::Read("a commit is written of a tree and a parent id".to_owned()));
        }
        let mut commit = git(self.git_program(), &self.existing(id)?);
        commit
            .args(["commit-tree", tree, "-p", parent])
            .env("GIT_AUTHOR_NAME", author.name)
            .env("GIT_AUTHOR_EMAIL", author.email)
            .env("GIT_COMMITTER_NAME", committer.name)
            .env("GIT_COMMITTER_EMAIL", committer.email);
        if let Some(time) = author.time {
            commit.env("GIT_AUTHOR_DATE", format!("@{time} +0000"));
        }
        if let Some(time) = committer.time {
            commit.env("GIT_COMMITTER_DATE", format!("@{time} +0000"));
        }
        run_text(commit, Some(message.as_bytes())).await
    }
}

/// The mode and blob of the index's entry at exactly `path`, if it has one.
async fn staged(
    with_index: &impl Fn(&[&str]) -> tokio::process::Command,
    path: &str,
) -> Result<Option<(String, String)>, GitError> {
    let listed = run(with_index(&["ls-files", "--stage", "-z", "--", path]), None).await?;
    Ok(listed.split(|b| *b == 0).find_map(|entry| {
        // `<mode> <blob> <stage>\t<path>`
        let entry = std::str::from_utf8(entry).ok()?;
        let (info, name) = entry.split_once('\t')?;
        let mut fields = info.split_whitespace();
        let (mode, blob) = (fields.next()?, fields.next()?);
        (name == path).then(|| (mode.to_owned(), blob.to_owned()))
    }))
}

/// Checks that a new file can go at `path`: no folder there, and no folder on the way that
/// is a file (git would refuse both with a message about its index).
async fn check_room_for(
    with_index: &impl Fn(&[&str]) -> tokio::process::Command,
    path: &str,
) -> Result<(), WriteError> {
    for (end, _) in path.match_indices('/') {
        let folder = &path[..end];
        if staged(with_index, folder).await?.is_some() {
            return Err(WriteError::InsideAFile { path: path.to_owned(), file: folder.to_owned() });
        }
    }
    let inside = format!("{path}/");
    let listed = run(with_index(&["ls-files", "-z", "--", &inside]), None).await?;
    if listed.split(|b| *b == 0).any(|name| name.starts_with(inside.as_bytes())) {
        return Err(WriteError::FolderExists(path.to_owned()));
    }
    Ok(())
}

/// Takes `path` out of the index (`--index-info` with mode 0: a bare repository has no work
/// tree for `--force-remove` to look at).
async fn remove(with_index: &impl Fn(&[&str]) -> tokio::process::Command, path: &str) -> Result<(), GitError> {
    let line = format!("0 {}\t{path}\n", crate::ZERO_OID);
    run(with_index(&["update-index", "--index-info"]), Some(line.as_bytes())).await?;
    Ok(())
}

/// Puts the blob `blob` at `path` in the index with `mode`.
async fn place(
    with_index: &impl Fn(&[&str]) -> tokio::process::Command,
    path: &str,
    mode: &str,
    blob: &str,
) -> Result<(), GitError> {
    run(with_index(&["update-index", "--add", "--cacheinfo", &format!("{mode},{blob},{path}")]), None).await?;
    Ok(())
}

/// Stores `content` as a blob and puts it at `path` in the index with `mode`.
async fn add(
    with_index: &impl Fn(&[&str]) -> tokio::process::Command,
    path: &str,
    content: &[u8],
    mode: &str,
) -> Result<(), GitError> {
    let blob = run_text(with_index(&["hash-object", "-w", "--stdin"]), Some(content)).await?;
    place(with_index, path, mode, &blob).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_types::ProjectId;

    #[tokio::test]
    async fn actions_make_one_commit_over_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(1);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let first = repos
            .commit_actions(
                id,
                None,
                &[FileAction::Create { path: "README.md", content: b"hi\n", executable: false }],
                "First\n",
                &ada,
            )
            .await
            .unwrap();
        let actions = [
            FileAction::Create { path: "src/lib.rs", content: b"fn f() {}\n", executable: false },
            FileAction::Move { from: "README.md", to: "docs/README.md", content: None },
        ];
        let second = repos.commit_actions(id, Some(&first), &actions, "Second\n", &ada).await.unwrap();
        assert_ne!(first, second);
        let again = [FileAction::Create { path: "src/lib.rs", content: b"", executable: true }];
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

    #[tokio::test]
    async fn a_new_file_never_lands_inside_a_file_or_over_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(3);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let create = |path| FileAction::Create { path, content: b"x\n", executable: false };
        let base =
            repos.commit_actions(id, None, &[create("README.md"), create("src/lib.rs")], "Base\n", &ada).await.unwrap();
        let inside = repos.commit_actions(id, Some(&base), &[create("README.md/logo.png")], "x\n", &ada).await;
        assert!(matches!(&inside, Err(WriteError::InsideAFile { file, .. }) if file == "README.md"), "{inside:?}");
        let over = repos.commit_actions(id, Some(&base), &[create("src")], "x\n", &ada).await;
        assert!(matches!(&over, Err(WriteError::FolderExists(path)) if path == "src"), "{over:?}");
        let moved = [FileAction::Move { from: "README.md", to: "src", content: None }];
        let over = repos.commit_actions(id, Some(&base), &moved, "x\n", &ada).await;
        assert!(matches!(over, Err(WriteError::FolderExists(_))));
        // A sibling whose name starts with the folder's is no folder of it.
        repos
            .commit_actions(id, Some(&base), &[create("src.txt"), create("src/deep/a.rs")], "x\n", &ada)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn changes_are_picked_and_reverted_by_merging_trees() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(2);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let create = |path, content| FileAction::Create { path, content, executable: false };
        let base = repos.commit_actions(id, None, &[create("a.txt", b"one\n")], "Base\n", &ada).await.unwrap();
        let change = [FileAction::Update { path: "a.txt", content: b"two\n", executable: None }];
        let changed = repos.commit_actions(id, Some(&base), &change, "Change\n", &ada).await.unwrap();
        let side = repos.commit_actions(id, Some(&base), &[create("b.txt", b"b\n")], "Side\n", &ada).await.unwrap();

        // The change lands on the side line; again, it changes nothing.
        let Applied::Tree(tree) = repos.apply_change(id, &side, &changed, ChangeKind::CherryPick).await.unwrap() else {
            panic!("a clean pick")
        };
        let me = Signature { name: "Me", email: "me@example.com", time: None };
        let original = Signature { name: "Ada", email: "ada@example.com", time: Some(1_700_000_000) };
        let picked = repos.write_commit(id, &tree, &side, "Change\n", &original, &me).await.unwrap();
        let reader = repos.reader(id).unwrap();
        let summary = reader.commit(&picked).unwrap();
        assert_eq!((summary.author_name.as_str(), summary.committer_name.as_str()), ("Ada", "Me"));
        assert_eq!(summary.authored_date, 1_700_000_000);
        assert_eq!(repos.apply_change(id, &picked, &changed, ChangeKind::CherryPick).await.unwrap(), Applied::Empty);

        // Reverting it on the picked line undoes it; a conflicting content is refused.
        let Applied::Tree(reverted) = repos.apply_change(id, &picked, &changed, ChangeKind::Revert).await.unwrap()
        else {
            panic!("a clean revert")
        };
        let reverted = repos.write_commit(id, &reverted, &picked, "Revert\n", &me, &me).await.unwrap();
        let Some(crate::read::PathObject::Blob(blob)) = reader.object_at(&reverted, "a.txt").unwrap() else { panic!() };
        assert_eq!(blob.data, b"one\n");
        let other = [FileAction::Update { path: "a.txt", content: b"three\n", executable: Some(true) }];
        let conflicting = repos.commit_actions(id, Some(&base), &other, "Other\n", &ada).await.unwrap();
        assert_eq!(
            repos.apply_change(id, &conflicting, &changed, ChangeKind::CherryPick).await.unwrap(),
            Applied::Conflict(vec!["a.txt".to_owned()])
        );
        let Some(crate::read::PathObject::Blob(blob)) = reader.object_at(&conflicting, "a.txt").unwrap() else {
            panic!()
        };
        assert_eq!(blob.kind, crate::read::EntryKind::Executable);
        let plain = [FileAction::Chmod { path: "a.txt", executable: false }];
        let plain = repos.commit_actions(id, Some(&conflicting), &plain, "Plain\n", &ada).await.unwrap();
        let Some(crate::read::PathObject::Blob(blob)) = reader.object_at(&plain, "a.txt").unwrap() else { panic!() };
        assert_eq!((blob.kind, blob.data.as_slice()), (crate::read::EntryKind::Blob, &b"three\n"[..]));
    }
}
