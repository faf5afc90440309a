//! Walking a repository's history: commits from a tip (optionally only those that changed a
//! path), the commits between two refs, and the last commit that changed each entry of a
//! directory. Whether a commit changed a path is decided by walking down its tree and its first
//! parent's together, stopping at the first level where they are the same object.

use std::collections::HashMap;

use gix::bstr::ByteSlice;

use super::{Reader, read_error};
use crate::command::GitError;
use crate::refs::CommitSummary;

impl Reader {
    /// The id of what `path` is in the commit's tree (`None`: absent).
    fn path_id(&self, commit: gix::ObjectId, path: &str) -> Result<Option<gix::ObjectId>, GitError> {
        let commit = self.repo().find_commit(commit).map_err(read_error)?;
        let tree_id = commit.tree_id().map_err(read_error)?.detach();
        if path.is_empty() {
            return Ok(Some(tree_id));
        }
        let tree = self.repo().find_tree(tree_id).map_err(read_error)?;
        Ok(tree.lookup_entry(path.split('/')).map_err(read_error)?.map(|entry| entry.object_id()))
    }

    /// The id of the entry `name` in the tree `tree`.
    fn entry_id(&self, tree: gix::ObjectId, name: &str) -> Result<Option<gix::ObjectId>, GitError> {
        let tree = self.repo().find_tree(tree).map_err(read_error)?;
        Ok(tree.find_entry(name).map(|entry| entry.object_id()))
    }

    /// Whether `path` differs between a commit and its first parent (present in only one of
    /// them counts). Walks down both trees together and stops at the first level where they
    /// are the same object, so a commit elsewhere in the tree costs a lookup or two.
    fn path_changed(&self, commit: gix::ObjectId, parent: Option<gix::ObjectId>, path: &str) -> Result<bool, GitError> {
        let tree_of = |id: gix::ObjectId| -> Result<gix::ObjectId, GitError> {
            Ok(self.repo().find_commit(id).map_err(read_error)?.tree_id().map_err(read_error)?.detach())
        };
        let Some(parent) = parent else { return Ok(self.path_id(commit, path)?.is_some()) };
        let (mut ours, mut theirs) = (tree_of(commit)?, tree_of(parent)?);
        for name in path.split('/').filter(|n| !n.is_empty()) {
            if ours == theirs {
                return Ok(false);
            }
            match (self.entry_id(ours, name)?, self.entry_id(theirs, name)?) {
                (Some(a), Some(b)) => (ours, theirs) = (a, b),
                (None, None) => return Ok(false),
                _ => return Ok(true),
            }
        }
        Ok(ours != theirs)
    }

    /// Commits reachable from `start`, newest first, skipping `skip` and returning at most
    /// `limit`; with a path, only commits that changed it (compared with their first parent).
    /// The flag says whether more follow.
    pub fn history(
        &self,
        start: &str,
        path: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<CommitSummary>, bool), GitError> {
        let tip = gix::ObjectId::from_hex(start.as_bytes()).map_err(read_error)?;
        let walk = self
            .repo()
            .rev_walk([tip])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
            .all()
            .map_err(read_error)?;
        let path = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty());
        let mut found = Vec::new();
        let mut matched = 0;
        for info in walk {
            let info = info.map_err(read_error)?;
            if let Some(path) = path
                && !self.path_changed(info.id, info.parent_ids.first().copied(), path)?
            {
                continue;
            }
            matched += 1;
            if matched <= skip {
                continue;
            }
            if found.len() == limit {
                return Ok((found, true));
            }
            found.push(self.commit(&info.id.to_string())?);
        }
        Ok((found, false))
    }

    /// The commits reachable from `to` but not from `from`, newest first, at most `limit`
    /// (the flag says whether more follow).
    pub fn commits_between(&self, from: &str, to: &str, limit: usize) -> Result<(Vec<CommitSummary>, bool), GitError> {
        let from = gix::ObjectId::from_hex(from.as_bytes()).map_err(read_error)?;
        let to = gix::ObjectId::from_hex(to.as_bytes()).map_err(read_error)?;
        let walk = self
            .repo()
            .rev_walk([to])
            .with_hidden([from])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
            .all()
            .map_err(read_error)?;
        let mut found = Vec::new();
        for info in walk {
            let info = info.map_err(read_error)?;
            if found.len() == limit {
                return Ok((found, true));
            }
            found.push(self.commit(&info.id.to_string())?);
        }
        Ok((found, false))
    }

    /// The latest commit (from `start`) that changed each of `names` in directory `dir`,
    /// looking at no more than `budget` commits; names not found within it are left out.
    pub fn last_commits(
        &self,
        start: &str,
        dir: &str,
        names: &[String],
        budget: usize,
    ) -> Result<HashMap<String, CommitSummary>, GitError> {
        let tip = gix::ObjectId::from_hex(start.as_bytes()).map_err(read_error)?;
        let dir = dir.trim_matches('/');
        let walk = self
            .repo()
            .rev_walk([tip])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
            .all()
            .map_err(read_error)?;
        let mut pending: Vec<&String> = names.iter().collect();
        let mut found = HashMap::new();
        for info in walk.take(budget) {
            if pending.is_empty() {
                break;
            }
            let info = info.map_err(read_error)?;
            let parent = info.parent_ids.first().copied();
            if !self.path_changed(info.id, parent, dir)? {
                continue;
            }
            let here = self.path_id(info.id, dir)?;
            let before = match parent {
                Some(parent) => self.path_id(parent, dir)?,
                None => None,
            };
            let listing = |tree: Option<gix::ObjectId>| -> Result<HashMap<String, gix::ObjectId>, GitError> {
                let Some(tree) = tree else { return Ok(HashMap::new()) };
                let tree = self.repo().find_tree(tree).map_err(read_error)?;
                let mut map = HashMap::new();
                for entry in tree.iter() {
                    let entry = entry.map_err(read_error)?;
                    map.insert(entry.filename().to_str_lossy().into_owned(), entry.object_id());
                }
                Ok(map)
            };
            let (now, then) = (listing(here)?, listing(before)?);
            let mut summary_of_this = None;
            pending.retain(|name| {
                if now.get(*name) == then.get(*name) {
                    return true;
                }
                if summary_of_this.is_none() {
                    summary_of_this = self.commit(&info.id.to_string()).ok();
                }
                if let Some(summary) = &summary_of_this {
                    found.insert((*name).clone(), summary.clone());
                }
                false
            });
        }
        Ok(found)
    }
}
