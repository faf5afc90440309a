//! Walking a repository's history: commits from tips (optionally only those that changed a
//! path, in a time window, by an author, in topological order), the commits between two refs,
//! and the last commit that changed each entry of a directory. Whether a commit changed a path is decided by walking down its tree and its first
//! parent's together, stopping at the first level where they are the same object.

use std::collections::HashMap;

use gix::bstr::ByteSlice;

use super::{Reader, read_error};
use crate::command::GitError;
use crate::refs::CommitSummary;

/// In which order [`Reader::log`] lists commits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogOrder {
    /// Newest commit time first (git log's default).
    #[default]
    Date,
    /// No parent before all of its children, and lines of history not intermixed
    /// (`git log --topo-order`).
    Topo,
}

/// Which commits [`Reader::log`] lists.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Where the walk starts (full commit ids); none lists nothing.
    pub tips: Vec<String>,
    /// Only commits that changed this path (compared with their first parent).
    pub path: Option<String>,
    /// Only commits committed at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only commits committed at or before this time (Unix seconds).
    pub until: Option<i64>,
    /// Only commits whose author (`Name <email>`) holds this text.
    pub author: Option<String>,
    /// Follow only the first parent of merges.
    pub first_parent: bool,
    pub order: LogOrder,
    /// Matching commits to pass over, and the most to return.
    pub skip: usize,
    pub limit: usize,
}

/// A commit the walk reached, and its first parent.
type Step = Result<(gix::ObjectId, Option<gix::ObjectId>), GitError>;

impl Reader {
    /// Commits reachable from the query's tips that pass its filters, in its order, skipping
    /// `skip` and returning at most `limit`; the flag says whether more follow.
    pub fn log(&self, query: &LogQuery) -> Result<(Vec<CommitSummary>, bool), GitError> {
        let mut tips = Vec::with_capacity(query.tips.len());
        for tip in &query.tips {
            tips.push(gix::ObjectId::from_hex(tip.as_bytes()).map_err(read_error)?);
        }
        if tips.is_empty() {
            return Ok((Vec::new(), false));
        }
        let walk: Box<dyn Iterator<Item = Step> + '_> = match query.order {
            LogOrder::Date => {
                // Older commits than `since` end the walk, as in git (a commit dated before its
                // parent could be missed, as there).
                let sorting = match query.since {
                    Some(seconds) => {
                        gix::revision::walk::Sorting::ByCommitTimeCutoff { order: Default::default(), seconds }
                    }
                    None => gix::revision::walk::Sorting::ByCommitTime(Default::default()),
                };
                let mut platform = self.repo().rev_walk(tips).sorting(sorting);
                if query.first_parent {
                    platform = platform.first_parent_only();
                }
                let walk = platform.all().map_err(read_error)?;
                Box::new(walk.map(|info| {
                    let info = info.map_err(read_error)?;
                    Ok((info.id, info.parent_ids.first().copied()))
                }))
            }
            LogOrder::Topo => {
                use gix::traverse::commit::{Parents, topo};
                let parents = if query.first_parent { Parents::First } else { Parents::All };
                let walk = topo::Builder::from_iters(&self.repo().objects, tips, None::<Vec<gix::ObjectId>>)
                    .sorting(topo::Sorting::TopoOrder)
                    .parents(parents)
                    .build()
                    .map_err(read_error)?;
                Box::new(walk.map(|info| {
                    let info = info.map_err(read_error)?;
                    Ok((info.id, info.parent_ids.first().copied()))
                }))
            }
        };
        let path = query.path.as_deref().map(|p| p.trim_matches('/')).filter(|p| !p.is_empty());
        let mut found = Vec::new();
        let mut matched = 0;
        for step in walk {
            let (id, parent) = step?;
            if let Some(path) = path
                && !self.path_changed(id, parent, path)?
            {
                continue;
            }
            let summary = self.commit(&id.to_string())?;
            let too_old = query.since.is_some_and(|since| summary.committed_date < since);
            let too_new = query.until.is_some_and(|until| summary.committed_date > until);
            let other_author = query
                .author
                .as_deref()
                .is_some_and(|author| !format!("{} <{}>", summary.author_name, summary.author_email).contains(author));
            if too_old || too_new || other_author {
                continue;
            }
            matched += 1;
            if matched <= query.skip {
                continue;
            }
            if found.len() == query.limit {
                return Ok((found, true));
            }
            found.push(summary);
        }
        Ok((found, false))
    }

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
        self.log(&LogQuery {
            tips: vec![start.to_owned()],
            path: path.map(str::to_owned),
            skip,
            limit,
            ..LogQuery::default()
        })
    }

    /// How many commits are reachable from `start` (following only first parents when asked),
    /// `start` included.
    pub fn count_commits(&self, start: &str, first_parent: bool) -> Result<usize, GitError> {
        let tip = gix::ObjectId::from_hex(start.as_bytes()).map_err(read_error)?;
        let mut platform = self.repo().rev_walk([tip]);
        if first_parent {
            platform = platform.first_parent_only();
        }
        let mut count = 0;
        for info in platform.all().map_err(read_error)? {
            info.map_err(read_error)?;
            count += 1;
        }
        Ok(count)
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
