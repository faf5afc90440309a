//! Walking every file of a commit's tree, with a bound on the entries visited (for whole-tree
//! statistics such as the repository's languages), and reading a blob's size, and its content
//! only when it is small.

use gix::bstr::ByteSlice;

use super::{EntryKind, Reader, read_error};
use crate::command::GitError;

/// A file of a tree: a regular or executable blob (symlinks and submodules are not files here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// From the root, `/`-separated.
    pub path: String,
    pub id: String,
    pub kind: EntryKind,
}

/// The files a walk found, and whether it saw the whole tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileWalk {
    pub files: Vec<TreeFile>,
    /// False when the walk stopped at its limit of entries.
    pub complete: bool,
}

/// The paths of the files a walk found, and whether it saw the whole tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathWalk {
    pub paths: Vec<String>,
    /// False when the walk stopped at a limit.
    pub complete: bool,
}

impl Reader {
    /// The files of the commit's tree, depth first in git's order. At most `limit` entries
    /// (directories, symlinks and submodules included) are visited, so a huge tree costs no
    /// more than that; past it the walk stops and says it is incomplete.
    pub fn files(&self, commit: &str, limit: usize) -> Result<FileWalk, GitError> {
        self.files_within(commit, limit, usize::MAX)
    }

    /// [`Reader::files`], also stopping (incomplete) once the paths found hold `max_bytes`: a
    /// tree of long paths costs no more memory than that.
    pub fn files_within(&self, commit: &str, limit: usize, max_bytes: usize) -> Result<FileWalk, GitError> {
        let mut files = Vec::new();
        let complete = self.walk_files(commit, limit, max_bytes, |path, id, kind| {
            files.push(TreeFile { path, id: id.to_string(), kind });
        })?;
        Ok(FileWalk { files, complete })
    }

    /// The paths alone of [`Reader::files_within`] (find file lists a tree of 100,000 paths
    /// without formatting 100,000 ids).
    pub fn paths_within(&self, commit: &str, limit: usize, max_bytes: usize) -> Result<PathWalk, GitError> {
        let mut paths = Vec::new();
        let complete = self.walk_files(commit, limit, max_bytes, |path, _, _| paths.push(path))?;
        Ok(PathWalk { paths, complete })
    }

    /// Hands each file of the commit's tree to `keep`, depth first in git's order, until `limit`
    /// entries were visited or the paths hold `max_bytes`; answers whether it saw the whole tree.
    fn walk_files(
        &self,
        commit: &str,
        limit: usize,
        max_bytes: usize,
        mut keep: impl FnMut(String, &gix::oid, EntryKind),
    ) -> Result<bool, GitError> {
        let mut bytes = 0usize;
        let oid = gix::ObjectId::from_hex(commit.as_bytes()).map_err(read_error)?;
        let root = self.repo().find_commit(oid).map_err(read_error)?.tree_id().map_err(read_error)?.detach();
        let mut visited = 0usize;
        // Directories still to read, with their paths; popped last first, and pushed in reverse,
        // so the walk goes depth first in the tree's own order.
        let mut pending = vec![(String::new(), root)];
        let mut subtrees = Vec::new();
        while let Some((prefix, tree_id)) = pending.pop() {
            let tree = self.repo().find_tree(tree_id).map_err(read_error)?;
            for entry in tree.iter() {
                if visited >= limit {
                    return Ok(false);
                }
                visited += 1;
                let entry = entry.map_err(read_error)?;
                let mode = entry.mode();
                let name = entry.filename().to_str_lossy();
                let mut path = String::with_capacity(prefix.len() + name.len() + 1);
                path.push_str(&prefix);
                path.push_str(&name);
                if mode.is_tree() {
                    path.push('/');
                    subtrees.push((path, entry.object_id()));
                } else if mode.is_blob() || mode.is_executable() {
                    bytes += path.len();
                    if bytes > max_bytes {
                        return Ok(false);
                    }
                    let kind = if mode.is_executable() { EntryKind::Executable } else { EntryKind::Blob };
                    keep(path, entry.oid(), kind);
                }
            }
            pending.extend(subtrees.drain(..).rev());
        }
        Ok(true)
    }

    /// The size of blob `id` (a full id), and its content when it is at most `max` bytes.
    pub fn blob_if_small(&self, id: &str, max: u64) -> Result<(u64, Option<Vec<u8>>), GitError> {
        let oid = gix::ObjectId::from_hex(id.as_bytes()).map_err(read_error)?;
        let size = self.repo().find_header(oid).map_err(read_error)?.size();
        if size > max {
            return Ok((size, None));
        }
        let mut blob = self.repo().find_blob(oid).map_err(read_error)?;
        let data = std::mem::take(&mut blob.data);
        Ok((size, Some(data)))
    }
}

#[cfg(test)]
mod tests {
    use gantry_types::ProjectId;

    use crate::storage::{Author, Repositories};

    #[test]
    fn walks_files_depth_first_and_stops_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(5);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let commit = runtime.block_on(async {
            repos.create(id, "main").await.unwrap();
            let ada = Author { name: "Ada", email: "ada@example.com" };
            repos.initial_commit(id, "main", "README.md", b"# Hi\n", "First\n", &ada).await.unwrap()
        });
        let reader = repos.reader(id).unwrap();
        let walk = reader.files(&commit, 100).unwrap();
        assert!(walk.complete);
        assert_eq!(walk.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["README.md"]);
        let (size, data) = reader.blob_if_small(&walk.files[0].id, 100).unwrap();
        assert_eq!((size, data.as_deref()), (5, Some(&b"# Hi\n"[..])));
        assert_eq!(reader.blob_if_small(&walk.files[0].id, 4).unwrap(), (5, None));
        let cut = reader.files(&commit, 0).unwrap();
        assert!(!cut.complete && cut.files.is_empty());
        let short = reader.files_within(&commit, 100, 4).unwrap();
        assert!(!short.complete && short.files.is_empty(), "README.md is longer than 4 bytes");
        assert!(reader.files_within(&commit, 100, 9).unwrap().complete);
    }
}
