//! Where repositories live and their whole-repository operations: create (empty or with a
//! first commit), delete, default branch.

use std::path::{Path, PathBuf};

use gantry_types::{NamespaceId, ProjectId};

use sha2::{Digest, Sha256};

use crate::ZERO_OID;
use crate::command::{GitError, git, run, run_text};

/// Settings written into every new repository. Housekeeping is Gantry's job, so git's own
/// automatic gc is off; bitmaps make clones cheap.
const REPOSITORY_CONFIG: &str = "[gc]\n\tauto = 0\n[receive]\n\tadvertisePushOptions = true\n\
[uploadpack]\n\tallowFilter = true\n[repack]\n\twriteBitmaps = true\n";

/// Which repository: a project's code, its wiki (`<id>.wiki.git`, beside the code), or a
/// group's wiki (under `@groups/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoId {
    Project(ProjectId),
    Wiki(ProjectId),
    GroupWiki(NamespaceId),
}

impl From<ProjectId> for RepoId {
    fn from(id: ProjectId) -> RepoId {
        RepoId::Project(id)
    }
}

impl std::fmt::Display for RepoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepoId::Project(id) => write!(f, "{id}"),
            RepoId::Wiki(id) => write!(f, "{id}.wiki"),
            RepoId::GroupWiki(id) => write!(f, "group-{id}.wiki"),
        }
    }
}

/// The repositories of one Gantry instance, under `<data dir>/repositories`.
#[derive(Debug, Clone)]
pub struct Repositories {
    root: PathBuf,
    git: PathBuf,
    hooks: PathBuf,
    scratch: PathBuf,
    /// Repositories opened for reading, kept open between requests (see `read.rs`).
    pub(crate) open: std::sync::Arc<crate::read::OpenRepositories>,
}

/// Who made a commit that Gantry writes itself.
#[derive(Debug, Clone)]
pub struct Author<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

impl Repositories {
    /// Repositories stored under `data_dir`; `git` is the git program to run. The hooks that
    /// receive-pack runs live in `<data dir>/hooks` (see [`crate::hooks::install`]).
    pub fn new(data_dir: &Path, git: impl Into<PathBuf>) -> Repositories {
        Repositories {
            root: data_dir.join("repositories"),
            git: git.into(),
            hooks: data_dir.join("hooks"),
            scratch: data_dir.join("tmp"),
            open: std::sync::Arc::default(),
        }
    }

    /// A fresh path for a short-lived file (such as a push's report), in `<data dir>/tmp`.
    pub fn scratch_file(&self, prefix: &str) -> Result<PathBuf, GitError> {
        std::fs::create_dir_all(&self.scratch)?;
        let mut bytes = [0u8; 12];
        getrandom::fill(&mut bytes).map_err(|e| GitError::Io(std::io::Error::other(e)))?;
        Ok(self.scratch.join(format!("{prefix}-{}", hex::encode(bytes))))
    }

    /// The short-lived files whose names start with `prefix` and a dash, as [`scratch_file`]
    /// made them (none when the folder does not exist yet).
    ///
    /// [`scratch_file`]: Repositories::scratch_file
    pub fn scratch_files(&self, prefix: &str) -> Result<Vec<PathBuf>, GitError> {
        let entries = match std::fs::read_dir(&self.scratch) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        };
        let start = format!("{prefix}-");
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_str().is_some_and(|name| name.starts_with(&start)) {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
    }

    /// The git program.
    pub fn git_program(&self) -> &Path {
        &self.git
    }

    /// The folder of Gantry's receive-pack hooks.
    /// The data directory the repositories live in.
    pub fn data_dir(&self) -> &Path {
        self.root.parent().unwrap_or(&self.root)
    }

    pub fn hooks_dir(&self) -> &Path {
        &self.hooks
    }

    /// The bare repository of a project: `repositories/ab/cd/<id>.git`, where `abcd` starts
    /// the SHA-256 of the project's id, to spread repositories over folders; its wiki's is
    /// `<id>.wiki.git` beside it. A group's wiki is `@groups/ab/cd/group-<id>.wiki.git`, spread
    /// the same way by the group's id.
    pub fn path(&self, id: impl Into<RepoId>) -> PathBuf {
        let id: RepoId = id.into();
        let (root, owner) = match id {
            RepoId::Project(project) | RepoId::Wiki(project) => (self.root.clone(), project.0),
            RepoId::GroupWiki(group) => (self.root.join("@groups"), group.0),
        };
        let hash = hex::encode(Sha256::digest(owner.to_string().as_bytes()));
        root.join(&hash[..2]).join(&hash[2..4]).join(format!("{id}.git"))
    }

    /// Whether the project's repository exists on disk.
    pub fn exists(&self, id: impl Into<RepoId>) -> bool {
        let id: RepoId = id.into();
        self.path(id).join("HEAD").is_file()
    }

    /// Creates an empty bare repository whose HEAD names `default_branch`. A folder left at
    /// that place by an interrupted earlier attempt is replaced: ids are never reused, so it
    /// belongs to no live project.
    pub async fn create(&self, id: impl Into<RepoId>, default_branch: &str) -> Result<(), GitError> {
        let id: RepoId = id.into();
        self.open.forget(id);
        let path = self.path(id);
        let parent = path.parent().expect("repositories have a parent folder");
        tokio::fs::create_dir_all(parent).await?;
        let staging = parent.join(format!(".{id}.git.new"));
        remove_if_present(&staging).await?;
        let mut init = tokio::process::Command::new(&self.git);
        crate::command::hermetic(&mut init);
        init.args(["init", "--bare", "--quiet", "--template="])
            .arg(format!("--initial-branch={default_branch}"))
            .arg(&staging);
        run(init, None).await?;
        let mut config = tokio::fs::read_to_string(staging.join("config")).await?;
        config.push_str(REPOSITORY_CONFIG);
        tokio::fs::write(staging.join("config"), config).await?;
        remove_if_present(&path).await?;
        tokio::fs::rename(&staging, &path).await?;
        Ok(())
    }

    /// Deletes the repository (a missing one is not an error); a project's goes with its
    /// wiki's.
    pub async fn delete(&self, id: impl Into<RepoId>) -> Result<(), GitError> {
        let id: RepoId = id.into();
        if let RepoId::Project(project) = id {
            self.delete_one(RepoId::Wiki(project)).await?;
        }
        self.delete_one(id).await
    }

    async fn delete_one(&self, id: RepoId) -> Result<(), GitError> {
        self.open.forget(id);
        let path = self.path(id);
        let doomed = path.with_extension("git.deleted");
        match tokio::fs::rename(&path, &doomed).await {
            Ok(()) => Ok(tokio::fs::remove_dir_all(&doomed).await?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Points HEAD at `branch` (which need not exist yet).
    pub async fn set_default_branch(&self, id: impl Into<RepoId>, branch: &str) -> Result<(), GitError> {
        let id: RepoId = id.into();
        let mut command = git(&self.git, &self.existing(id)?);
        command.args(["symbolic-ref", "HEAD"]).arg(format!("refs/heads/{branch}"));
        run(command, None).await.map(drop)
    }

    /// Whether the repository has no branches and no tags yet (a missing repository counts as
    /// empty). Read from the ref files directly, without running git: Gantry creates every
    /// repository with git's default `files` ref storage, loose refs plus `packed-refs`.
    pub fn is_empty(&self, id: impl Into<RepoId>) -> bool {
        let id: RepoId = id.into();
        let path = self.path(id);
        let loose = ["refs/heads", "refs/tags"].iter().any(|dir| holds_a_file(&path.join(dir)));
        let packed = || {
            std::fs::read_to_string(path.join("packed-refs")).is_ok_and(|refs| {
                refs.lines().any(|line| line.contains(" refs/heads/") || line.contains(" refs/tags/"))
            })
        };
        !loose && !packed()
    }

    /// Writes a first commit holding one file on `branch` of an empty repository.
    pub async fn initial_commit(
        &self,
        id: impl Into<RepoId>,
        branch: &str,
        file_name: &str,
        content: &[u8],
        message: &str,
        author: &Author<'_>,
    ) -> Result<String, GitError> {
        let id: RepoId = id.into();
        let repo = self.existing(id)?;
        let mut hash = git(&self.git, &repo);
        hash.args(["hash-object", "-w", "--stdin"]);
        let blob = run_text(hash, Some(content)).await?;
        let mut mktree = git(&self.git, &repo);
        mktree.arg("mktree");
        let tree = run_text(mktree, Some(format!("100644 blob {blob}\t{file_name}\n").as_bytes())).await?;
        let mut commit = git(&self.git, &repo);
        commit
            .args(["commit-tree", &tree])
            .env("GIT_AUTHOR_NAME", author.name)
            .env("GIT_AUTHOR_EMAIL", author.email)
            .env("GIT_COMMITTER_NAME", author.name)
            .env("GIT_COMMITTER_EMAIL", author.email);
        let commit = run_text(commit, Some(message.as_bytes())).await?;
        let mut update = git(&self.git, &repo);
        update.args(["update-ref", &format!("refs/heads/{branch}"), &commit, ZERO_OID]);
        run(update, None).await?;
        Ok(commit)
    }

    /// The path of a repository that must exist.
    pub fn existing(&self, id: impl Into<RepoId>) -> Result<PathBuf, GitError> {
        let id: RepoId = id.into();
        let path = self.path(id);
        if path.join("HEAD").is_file() { Ok(path) } else { Err(GitError::Missing) }
    }
}

/// Whether `dir` or a folder below it holds a file.
fn holds_a_file(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|entry| match entry.file_type() {
        Ok(kind) if kind.is_dir() => holds_a_file(&entry.path()),
        Ok(_) => true,
        Err(_) => false,
    })
}

async fn remove_if_present(path: &Path) -> Result<(), GitError> {
    match tokio::fs::remove_dir_all(path).await {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn creates_fills_and_deletes_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(7);
        assert!(repos.path(id).ends_with("7.git"));
        repos.create(id, "trunk").await.unwrap();
        assert!(repos.exists(id));
        assert!(repos.is_empty(id));
        let author = Author { name: "Ada", email: "ada@example.com" };
        let commit = repos.initial_commit(id, "trunk", "README.md", b"# Hello\n", "Add README", &author).await.unwrap();
        assert_eq!(commit.len(), 40);
        assert!(!repos.is_empty(id));
        let mut pack = git(repos.git_program(), &repos.path(id));
        pack.args(["pack-refs", "--all"]);
        run(pack, None).await.unwrap();
        assert!(!repos.is_empty(id), "packed refs count too");
        let mut show = git(repos.git_program(), &repos.path(id));
        show.args(["show", "HEAD:README.md"]);
        assert_eq!(run_text(show, None).await.unwrap(), "# Hello");
        repos.maintain(id).await.unwrap();
        assert!(
            repos.path(id).join("objects/info/commit-graphs").exists()
                || repos.path(id).join("objects/info/commit-graph").exists()
        );
        assert!(repos.fsck(id).await.unwrap().0, "a fresh repository is sound");
        repos.create(ProjectId(8), "main").await.unwrap();
        repos.delete(id).await.unwrap();
        assert!(!repos.exists(id));
        repos.delete(id).await.unwrap();
        assert!(repos.exists(ProjectId(8)), "other repositories stay");
    }
}
