//! Reading a repository in-process with gix (no process per page): resolving revisions and
//! `ref/path` URLs, commits, trees with the last commit of each entry, blobs, and history
//! (optionally of one path). Everything here is blocking: call it from a blocking task.
//! Walking history (by path, between refs, the last commit of each entry) is in `read/history.rs`;
//! walking a whole tree's files (bounded) is in `read/walk.rs`.

use std::collections::HashMap;

use crate::RepoId;
use gix::bstr::ByteSlice;

use crate::command::GitError;
use crate::refs::CommitSummary;
use crate::storage::Repositories;

mod history;
mod walk;

pub use history::{LogOrder, LogQuery};
pub use walk::{FileWalk, PathWalk, TreeFile};

/// What kind of thing a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Tree,
    Blob,
    Executable,
    Symlink,
    /// A submodule: a commit of another repository.
    Submodule,
}

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub name: String,
    pub kind: EntryKind,
    pub id: String,
}

/// A file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub id: String,
    pub kind: EntryKind,
    /// Its size in bytes.
    pub size: u64,
    /// Its content when it is at most [`LOADED_LIMIT`] bytes; empty otherwise (read a larger
    /// blob with `Repositories::spawn_cat_blob`, a piece at a time).
    pub data: Vec<u8>,
}

/// Blobs up to this size are read into memory; larger ones are streamed, so that a request for
/// a huge file costs no more memory than one for a small one.
pub const LOADED_LIMIT: u64 = 4 << 20;

impl Blob {
    /// Whether `data` holds the whole content.
    pub fn is_complete(&self) -> bool {
        self.data.len() as u64 == self.size
    }

    /// Whether the content looks binary (a NUL byte in its first 8000 bytes, as git decides).
    pub fn is_binary(&self) -> bool {
        looks_binary(&self.data)
    }
}

/// Whether bytes look binary: a NUL byte in the first 8000, as git decides.
pub fn looks_binary(data: &[u8]) -> bool {
    data.iter().take(8000).any(|b| *b == 0)
}

/// What a path in a commit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathObject {
    /// A directory, its entries sorted directories first, then by name.
    Tree(Vec<TreeEntry>),
    Blob(Blob),
    /// A submodule at this commit id.
    Submodule(String),
}

/// How a commit is signed (read from its `gpgsig` header; Gantry does not verify signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    Pgp,
    Ssh,
    X509,
}

/// A `ref/path` URL resolved: the ref as written, the commit it names, the path inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefPath {
    pub reference: String,
    pub commit: String,
    pub path: String,
}

/// An open repository for one request. When dropped, its handle goes back to a small cache on
/// its thread, so the next request on that thread finds the objects it decoded (a file's delta
/// chain, the trees of a commit) already in the handle's object cache.
pub struct Reader {
    repo: Option<gix::Repository>,
    /// The project and the generation of [`OpenRepositories`] the handle belongs to.
    owner: (RepoId, u64),
}

/// Handles kept per thread, most recently used last.
const WARM_PER_THREAD: usize = 2;
/// Bytes of decoded objects each handle keeps.
const OBJECT_CACHE_BYTES: usize = 1024 * 1024;

thread_local! {
    static WARM: std::cell::RefCell<Vec<((RepoId, u64), gix::Repository)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(repo) = self.repo.take() {
            let owner = self.owner;
            let _ = WARM.try_with(|warm| {
                let mut warm = warm.borrow_mut();
                warm.retain(|(o, _)| o.0 != owner.0);
                if warm.len() >= WARM_PER_THREAD {
                    warm.remove(0);
                }
                warm.push((owner, repo));
            });
        }
    }
}

fn read_error(error: impl std::fmt::Display) -> GitError {
    GitError::Read(error.to_string())
}

/// Repositories opened once and shared by the requests reading them: opening reads the
/// configuration and the pack indexes, which costs more than most pages. New pushes are seen
/// (refs are read from disk each time; the object store looks for new packs when an object
/// is missing). At most `OPEN_LIMIT` are kept; then the set starts afresh.
#[derive(Default)]
pub struct OpenRepositories {
    repos: std::sync::Mutex<HashMap<RepoId, gix::ThreadSafeRepository>>,
    /// Bumped whenever a repository is forgotten, so no thread reuses a stale handle.
    generation: std::sync::atomic::AtomicU64,
}

const OPEN_LIMIT: usize = 256;

impl std::fmt::Debug for OpenRepositories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.repos.lock().map(|repos| repos.len()).unwrap_or(0);
        f.debug_struct("OpenRepositories").field("open", &count).finish()
    }
}

impl OpenRepositories {
    /// Drops an open repository (it was deleted, or its id is being reused).
    pub(crate) fn forget(&self, id: RepoId) {
        if let Ok(mut repos) = self.repos.lock() {
            repos.remove(&id);
        }
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn get(&self, id: RepoId, path: &std::path::Path) -> Result<gix::ThreadSafeRepository, GitError> {
        if let Some(repo) = self.repos.lock().ok().and_then(|repos| repos.get(&id).cloned()) {
            return Ok(repo);
        }
        let repo = gix::ThreadSafeRepository::open_opts(path, gix::open::Options::isolated()).map_err(read_error)?;
        if let Ok(mut repos) = self.repos.lock() {
            if repos.len() >= OPEN_LIMIT {
                repos.clear();
            }
            repos.insert(id, repo.clone());
        }
        Ok(repo)
    }
}

impl Repositories {
    /// Opens the project's repository for reading (no system or user git configuration).
    pub fn reader(&self, id: impl Into<RepoId>) -> Result<Reader, GitError> {
        let id: RepoId = id.into();
        let path = self.existing(id)?;
        let owner = (id, self.open.generation.load(std::sync::atomic::Ordering::SeqCst));
        let warm = WARM.try_with(|warm| {
            let mut warm = warm.borrow_mut();
            let found = warm.iter().position(|(o, _)| *o == owner);
            found.map(|index| warm.remove(index).1)
        });
        let repo = match warm.ok().flatten() {
            Some(repo) => repo,
            None => {
                let mut repo = self.open.get(id, &path)?.to_thread_local();
                repo.object_cache_size(OBJECT_CACHE_BYTES);
                repo
            }
        };
        Ok(Reader { repo: Some(repo), owner })
    }
}

impl Reader {
    fn repo(&self) -> &gix::Repository {
        self.repo.as_ref().expect("a reader has its repository until dropped")
    }

    /// The commit a revision names (branch, tag, full or short id, `main~2`), if any. A name
    /// is a branch first, then a tag, then a commit id (git's own order puts tags first, so a
    /// tag named like a branch would stand in for it).
    pub fn resolve(&self, revision: &str) -> Result<Option<String>, GitError> {
        if revision.is_empty() || revision.starts_with('-') || revision.contains(['\0', '\n', ':']) {
            return Ok(None);
        }
        for candidate in crate::refs::candidates(revision) {
            let spec = format!("{candidate}^{{commit}}");
            if let Ok(id) = self.repo().rev_parse_single(spec.as_str()) {
                return Ok(Some(id.detach().to_string()));
            }
        }
        Ok(None)
    }

    /// Splits `feature/login/src/main.rs` into the longest existing branch (or else tag, or else
    /// commit id) and the path after it: a tag `main/scripts` never stands in for the files of
    /// branch `main`.
    pub fn resolve_ref_path(&self, ref_and_path: &str) -> Result<Option<RefPath>, GitError> {
        let segments: Vec<&str> = ref_and_path.split('/').filter(|s| !s.is_empty()).collect();
        for kind in ["refs/heads", "refs/tags"] {
            for take in (1..=segments.len()).rev() {
                let reference = segments[..take].join("/");
                let full = format!("{kind}/{reference}");
                // An exact lookup: most candidates are not refs, and rev-parse is slower to say so.
                let Ok(Some(mut found)) = self.repo().try_find_reference(full.as_str()) else { continue };
                if let Ok(commit) = found.peel_to_commit() {
                    let commit = commit.id().detach().to_string();
                    return Ok(Some(RefPath { reference, commit, path: segments[take..].join("/") }));
                }
            }
        }
        let first = segments.first().copied().unwrap_or_default();
        if (7..=40).contains(&first.len())
            && first.bytes().all(|b| b.is_ascii_hexdigit())
            && let Some(commit) = self.resolve(first)?
        {
            return Ok(Some(RefPath { reference: first.to_owned(), commit, path: segments[1..].join("/") }));
        }
        Ok(None)
    }

    /// A commit's summary.
    pub fn commit(&self, id: &str) -> Result<CommitSummary, GitError> {
        let oid = gix::ObjectId::from_hex(id.as_bytes()).map_err(read_error)?;
        let commit = self.repo().find_commit(oid).map_err(read_error)?;
        summary(&commit)
    }

    /// How the commit is signed, if it is.
    pub fn commit_signature(&self, id: &str) -> Result<Option<SignatureKind>, GitError> {
        let oid = gix::ObjectId::from_hex(id.as_bytes()).map_err(read_error)?;
        let commit = self.repo().find_commit(oid).map_err(read_error)?;
        let decoded = commit.decode().map_err(read_error)?;
        let signature = decoded
            .extra_headers
            .iter()
            .find(|(name, _)| *name == "gpgsig" || *name == "gpgsig-sha256")
            .map(|(_, value)| value.to_str_lossy().into_owned());
        Ok(signature.map(|text| {
            if text.contains("BEGIN SSH SIGNATURE") {
                SignatureKind::Ssh
            } else if text.contains("BEGIN SIGNED MESSAGE") {
                SignatureKind::X509
            } else {
                SignatureKind::Pgp
            }
        }))
    }

    /// The commits every branch and tag point at (tags peeled), without repeats.
    pub fn branch_and_tag_tips(&self) -> Result<Vec<String>, GitError> {
        let platform = self.repo().references().map_err(read_error)?;
        let mut tips = Vec::new();
        for prefix in ["refs/heads/", "refs/tags/"] {
            for reference in platform.prefixed(prefix).map_err(read_error)? {
                let mut reference = reference.map_err(read_error)?;
                // A tag of something other than a commit (a tree, a blob) has no history.
                if let Ok(commit) = reference.peel_to_commit() {
                    tips.push(commit.id().detach().to_string());
                }
            }
        }
        tips.sort();
        tips.dedup();
        Ok(tips)
    }

    /// What `path` is in the commit (the root tree for an empty path), or `None`.
    pub fn object_at(&self, commit: &str, path: &str) -> Result<Option<PathObject>, GitError> {
        let oid = gix::ObjectId::from_hex(commit.as_bytes()).map_err(read_error)?;
        let tree = self.repo().find_commit(oid).map_err(read_error)?.tree().map_err(read_error)?;
        let path = path.trim_matches('/');
        if path.is_empty() {
            return Ok(Some(PathObject::Tree(self.entries(&tree)?)));
        }
        let Some(entry) = tree.lookup_entry(path.split('/')).map_err(read_error)? else { return Ok(None) };
        let mode = entry.mode();
        let id = entry.object_id();
        if mode.is_commit() {
            return Ok(Some(PathObject::Submodule(id.to_string())));
        }
        if mode.is_tree() {
            let tree = self.repo().find_tree(id).map_err(read_error)?;
            return Ok(Some(PathObject::Tree(self.entries(&tree)?)));
        }
        let kind = if mode.is_link() {
            EntryKind::Symlink
        } else if mode.is_executable() {
            EntryKind::Executable
        } else {
            EntryKind::Blob
        };
        Ok(Some(PathObject::Blob(self.load_blob(id, kind)?)))
    }

    /// The blob `id`, its content read only when it is at most [`LOADED_LIMIT`] bytes.
    fn load_blob(&self, id: gix::ObjectId, kind: EntryKind) -> Result<Blob, GitError> {
        let size = self.repo().find_header(id).map_err(read_error)?.size();
        let data =
            if size <= LOADED_LIMIT { self.repo().find_blob(id).map_err(read_error)?.data.clone() } else { Vec::new() };
        Ok(Blob { id: id.to_string(), kind, size, data })
    }

    /// A blob by its id (full or abbreviated hex), as [`Reader::object_at`] gives it (a large
    /// one without its content). Only ids: a `ref:path` spec would resolve tags before branches.
    pub fn blob_object(&self, spec: &str) -> Result<Option<Blob>, GitError> {
        if !(4..=64).contains(&spec.len()) || !spec.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Ok(id) = self.repo().rev_parse_single(spec) else { return Ok(None) };
        let id = id.detach();
        match self.repo().find_header(id) {
            Ok(header) if header.kind() == gix::object::Kind::Blob => Ok(Some(self.load_blob(id, EntryKind::Blob)?)),
            _ => Ok(None),
        }
    }

    /// A blob by id, or by a revision naming one (`main:README.md`), if it is a blob.
    pub fn blob(&self, spec: &str) -> Result<Option<Vec<u8>>, GitError> {
        if spec.is_empty() || spec.starts_with('-') || spec.contains("..") || spec.contains(['\0', '\n']) {
            return Ok(None);
        }
        let Ok(id) = self.repo().rev_parse_single(spec) else { return Ok(None) };
        Ok(self.repo().find_blob(id.detach()).ok().map(|blob| blob.data.clone()))
    }

    fn entries(&self, tree: &gix::Tree<'_>) -> Result<Vec<TreeEntry>, GitError> {
        let mut entries = Vec::new();
        for entry in tree.iter() {
            let entry = entry.map_err(read_error)?;
            let mode = entry.mode();
            let kind = if mode.is_tree() {
                EntryKind::Tree
            } else if mode.is_commit() {
                EntryKind::Submodule
            } else if mode.is_link() {
                EntryKind::Symlink
            } else if mode.is_executable() {
                EntryKind::Executable
            } else {
                EntryKind::Blob
            };
            entries.push(TreeEntry {
                name: entry.filename().to_str_lossy().into_owned(),
                kind,
                id: entry.object_id().to_string(),
            });
        }
        entries.sort_by(|a, b| {
            (a.kind != EntryKind::Tree).cmp(&(b.kind != EntryKind::Tree)).then_with(|| a.name.cmp(&b.name))
        });
        Ok(entries)
    }

    /// Branch names, sorted (for the branch and tag switcher).
    pub fn branch_names(&self) -> Result<Vec<String>, GitError> {
        self.ref_names("refs/heads/")
    }

    /// Tag names, sorted.
    pub fn tag_names(&self) -> Result<Vec<String>, GitError> {
        self.ref_names("refs/tags/")
    }

    fn ref_names(&self, prefix: &str) -> Result<Vec<String>, GitError> {
        let platform = self.repo().references().map_err(read_error)?;
        let mut names = Vec::new();
        for reference in platform.prefixed(prefix).map_err(read_error)? {
            let reference = reference.map_err(read_error)?;
            let name = reference.name().as_bstr().to_str_lossy();
            names.push(name.trim_start_matches(prefix).to_owned());
        }
        names.sort();
        Ok(names)
    }
}

fn summary(commit: &gix::Commit<'_>) -> Result<CommitSummary, GitError> {
    let decoded = commit.decode().map_err(read_error)?;
    let message = decoded.message.to_str_lossy().trim_end().to_owned();
    let author = decoded.author().map_err(read_error)?;
    let committer = decoded.committer().map_err(read_error)?;
    Ok(CommitSummary {
        id: commit.id().detach().to_string(),
        parent_ids: decoded.parents().map(|p| p.to_string()).collect(),
        title: message.lines().next().unwrap_or_default().to_owned(),
        message,
        author_name: author.name.to_str_lossy().into_owned(),
        author_email: author.email.to_str_lossy().into_owned(),
        authored_date: author.time().map(|t| t.seconds).unwrap_or(0),
        committer_name: committer.name.to_str_lossy().into_owned(),
        committer_email: committer.email.to_str_lossy().into_owned(),
        committed_date: committer.time().map(|t| t.seconds).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Author;
    use gantry_types::ProjectId;

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    #[test]
    fn reads_trees_blobs_history_and_last_commits() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(3);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            repos.create(id, "main").await.unwrap();
            let ada = Author { name: "Ada", email: "ada@example.com" };
            repos.initial_commit(id, "main", "README.md", b"# Hi\n", "First\n", &ada).await.unwrap();
        });
        let work = dir.path().join("work");
        git(dir.path(), &["clone", "-q", repos.path(id).to_str().unwrap(), "work"]);
        std::fs::create_dir_all(work.join("src")).unwrap();
        std::fs::write(work.join("src/lib.rs"), "fn a() {}\n").unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "Add lib"]);
        std::fs::write(work.join("README.md"), "# Hi again\n").unwrap();
        git(&work, &["commit", "-q", "-am", "Edit README"]);
        git(&work, &["checkout", "-q", "-b", "feature/x"]);
        std::fs::write(work.join("src/new.rs"), "\0binary").unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "Add binary"]);
        git(&work, &["push", "-q", "origin", "main", "feature/x"]);

        let reader = repos.reader(id).unwrap();
        let main = reader.resolve("main").unwrap().unwrap();
        assert_eq!(reader.commit(&main).unwrap().title, "Edit README");
        let Some(PathObject::Tree(root)) = reader.object_at(&main, "").unwrap() else { panic!("root is a tree") };
        assert_eq!(root.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["src", "README.md"], "directories first");
        let Some(PathObject::Blob(readme)) = reader.object_at(&main, "README.md").unwrap() else { panic!("a blob") };
        assert_eq!(readme.data, b"# Hi again\n");
        assert!(reader.object_at(&main, "nope.txt").unwrap().is_none());

        let resolved = reader.resolve_ref_path("feature/x/src/new.rs").unwrap().unwrap();
        assert_eq!((resolved.reference.as_str(), resolved.path.as_str()), ("feature/x", "src/new.rs"));
        let Some(PathObject::Blob(binary)) = reader.object_at(&resolved.commit, &resolved.path).unwrap() else {
            panic!()
        };
        assert!(binary.is_binary());
        assert!(reader.resolve_ref_path("nothing/here").unwrap().is_none());
        let by_id = reader.resolve_ref_path(&format!("{}/README.md", &main[..10])).unwrap().unwrap();
        assert_eq!(by_id.commit, main);

        let (all, more) = reader.history(&main, None, 0, 2).unwrap();
        assert_eq!((all.len(), more), (2, true));
        let (readme_history, _) = reader.history(&main, Some("README.md"), 0, 10).unwrap();
        assert_eq!(readme_history.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["Edit README", "First"]);
        let (page_two, more) = reader.history(&main, None, 2, 2).unwrap();
        assert_eq!((page_two.len(), more, page_two[0].title.as_str()), (1, false, "First"));
        let feature = reader.resolve("feature/x").unwrap().unwrap();
        let (ahead, more) = reader.commits_between(&main, &feature, 10).unwrap();
        assert_eq!((ahead.len(), more, ahead[0].title.as_str()), (1, false, "Add binary"));
        assert!(reader.commits_between(&feature, &main, 10).unwrap().0.is_empty());

        let names: Vec<String> = root.iter().map(|e| e.name.clone()).collect();
        let last = reader.last_commits(&main, "", &names, 100).unwrap();
        assert_eq!(last["src"].title, "Add lib");
        assert_eq!(last["README.md"].title, "Edit README");
        assert_eq!(reader.branch_names().unwrap(), ["feature/x", "main"]);
    }

    #[test]
    fn logs_filter_and_order_commits_of_every_ref() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(4);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            repos.create(id, "main").await.unwrap();
            let ada = Author { name: "Ada", email: "ada@example.com" };
            repos.initial_commit(id, "main", "README.md", b"# Hi\n", "First\n", &ada).await.unwrap();
        });
        let work = dir.path().join("work");
        git(dir.path(), &["clone", "-q", repos.path(id).to_str().unwrap(), "work"]);
        let commit_at = |message: &str, file: &str, when: &str| {
            std::fs::write(work.join(file), message).unwrap();
            git(&work, &["add", "."]);
            let date = format!("{when} +0000");
            let output = std::process::Command::new("git")
                .args(["-c", "user.name=Grace", "-c", "user.email=grace@example.com", "commit", "-q", "-m", message])
                .current_dir(&work)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date)
                .output()
                .unwrap();
            assert!(output.status.success());
        };
        commit_at("On main", "a.txt", "2030-01-01T00:00:00");
        git(&work, &["checkout", "-q", "-b", "side"]);
        commit_at("On side", "b.txt", "2030-01-02T00:00:00");
        git(&work, &["checkout", "-q", "main"]);
        commit_at("Later on main", "a.txt", "2030-01-03T00:00:00");
        git(&work, &["push", "-q", "origin", "main", "side"]);

        let reader = repos.reader(id).unwrap();
        let main = reader.resolve("main").unwrap().unwrap();
        let titles =
            |query: &LogQuery| -> Vec<String> { reader.log(query).unwrap().0.into_iter().map(|c| c.title).collect() };
        let on_main = LogQuery { tips: vec![main.clone()], limit: 10, ..LogQuery::default() };
        assert_eq!(titles(&on_main), ["Later on main", "On main", "First"]);
        let all = LogQuery { tips: reader.branch_and_tag_tips().unwrap(), ..on_main.clone() };
        assert_eq!(titles(&all), ["Later on main", "On side", "On main", "First"]);
        let window = LogQuery { since: Some(1_893_456_000), until: Some(1_893_542_400), ..all.clone() };
        assert_eq!(titles(&window), ["On side", "On main"], "2030-01-01 and 2030-01-02 inclusive");
        let by_ada = LogQuery { author: Some("ada@".into()), ..all.clone() };
        assert_eq!(titles(&by_ada), ["First"]);
        let topo = LogQuery { order: LogOrder::Topo, ..all.clone() };
        assert_eq!(titles(&topo).len(), 4);
        let paged = LogQuery { skip: 1, limit: 2, ..all };
        let (page, more) = reader.log(&paged).unwrap();
        assert_eq!((page.len(), more), (2, true));
    }
}
