//! Find file: the paths of every file at a ref, matched fuzzily against what the person types
//! (the letters in order, not necessarily together), best first. A commit's paths never change,
//! so the list of a commit is read once (a walk of its tree bounded in entries and bytes) and
//! kept in a small cache (bounded in listings and bytes); each keystroke then costs one pass
//! over the list in memory, keeping the best few.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use gantry_types::ProjectId;

use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// Entries of a tree a listing visits at most; a larger tree is listed in part.
pub const MAX_LISTED_ENTRIES: usize = 250_000;
/// Bytes of paths one listing holds at most; a larger tree is listed in part.
const MAX_LISTED_BYTES: usize = 32 << 20;
/// Listings kept (by project and commit), and the bytes of paths they may hold together.
const CACHED_LISTINGS: usize = 8;
const CACHED_BYTES: usize = 96 << 20;
/// The most matches a query answers.
pub const MAX_FILE_MATCHES: usize = 100;
/// The longest query.
const MAX_QUERY: usize = 256;

/// The paths of a commit's files.
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) paths: Vec<String>,
    complete: bool,
    /// The bytes of its paths.
    bytes: usize,
}

/// A listing's key: the project and the commit.
type ListingKey = (ProjectId, String);

/// Listings of recent commits, most recently used last.
#[derive(Debug, Default)]
pub struct PathListings {
    recent: Mutex<VecDeque<(ListingKey, Arc<Listing>)>>,
}

impl PathListings {
    /// The paths of the project's commit (a full id), listed now or kept from before; blocking.
    pub(crate) fn listing_of(
        &self,
        reader: &gantry_git::read::Reader,
        project: ProjectId,
        commit: &str,
    ) -> Result<Arc<Listing>, gantry_git::GitError> {
        let key = (project, commit.to_owned());
        if let Some(listing) = self.get(&key) {
            return Ok(listing);
        }
        let walk = reader.paths_within(commit, MAX_LISTED_ENTRIES, MAX_LISTED_BYTES)?;
        let bytes = walk.paths.iter().map(String::len).sum();
        let listing = Arc::new(Listing { paths: walk.paths, complete: walk.complete, bytes });
        self.put(key, listing.clone());
        Ok(listing)
    }

    fn get(&self, key: &ListingKey) -> Option<Arc<Listing>> {
        let mut recent = self.recent.lock().ok()?;
        let index = recent.iter().position(|(k, _)| k == key)?;
        let entry = recent.remove(index)?;
        let listing = entry.1.clone();
        recent.push_back(entry);
        Some(listing)
    }

    fn put(&self, key: ListingKey, listing: Arc<Listing>) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.retain(|(k, _)| *k != key);
            let mut held: usize = recent.iter().map(|(_, kept)| kept.bytes).sum();
            while !recent.is_empty() && (recent.len() >= CACHED_LISTINGS || held + listing.bytes > CACHED_BYTES) {
                if let Some((_, dropped)) = recent.pop_front() {
                    held -= dropped.bytes;
                }
            }
            recent.push_back((key, listing));
        }
    }
}

/// A path that matched, with the character positions the query's letters matched (to mark).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMatch {
    pub path: String,
    pub positions: Vec<usize>,
}

/// The best matches of a query at a ref.
#[derive(Debug, Clone)]
pub struct FileMatches {
    /// The commit the ref named.
    pub commit: String,
    pub matches: Vec<FileMatch>,
    /// How many paths matched in all.
    pub total: usize,
    /// How many paths were listed.
    pub listed: usize,
    /// False when the tree was too large to list whole.
    pub complete: bool,
}

impl super::Code<'_> {
    /// The `limit` (at most [`MAX_FILE_MATCHES`]) paths at `reference` that best match `query`
    /// (all paths, in tree order, for an empty query); `None` when no branch, tag or commit has
    /// that name.
    pub async fn find_files(
        &self,
        access: &ProjectAccess,
        reference: &str,
        query: &str,
        limit: usize,
    ) -> CoreResult<Option<FileMatches>> {
        access.require(ProjectAction::ReadCode)?;
        let query: String = query.trim().chars().take(MAX_QUERY).collect();
        let limit = limit.clamp(1, MAX_FILE_MATCHES);
        let repos = self.repos.clone();
        let listings = self.path_listings.clone();
        let id = access.project().id;
        let reference = reference.to_owned();
        let found = tokio::task::spawn_blocking(move || -> Result<Option<FileMatches>, gantry_git::GitError> {
            let reader = repos.reader(id)?;
            let Some(commit) = reader.resolve(&reference)? else { return Ok(None) };
            let listing = listings.listing_of(&reader, id, &commit)?;
            let (matches, total) = best_matches(&listing.paths, &query, limit);
            Ok(Some(FileMatches { commit, matches, total, listed: listing.paths.len(), complete: listing.complete }))
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        Ok(found)
    }
}

/// The `limit` paths that best match `query`, best first, and how many matched in all.
pub fn best_matches(paths: &[String], query: &str, limit: usize) -> (Vec<FileMatch>, usize) {
    if query.is_empty() {
        let matches = paths.iter().take(limit).map(|path| FileMatch { path: path.clone(), positions: Vec::new() });
        return (matches.collect(), paths.len());
    }
    let mut matcher = Matcher::new(query);
    // The best so far, worst first: (score, path index); a path with a better score, or an equal
    // score and a shorter path, replaces the worst.
    let mut best: Vec<(i64, usize)> = Vec::with_capacity(limit + 1);
    let mut total = 0usize;
    let ranked = |(s, i): (i64, usize)| (s, std::cmp::Reverse(paths[i].len()), std::cmp::Reverse(i));
    for (index, path) in paths.iter().enumerate() {
        let Some(score) = matcher.score(path) else { continue };
        total += 1;
        if best.len() == limit && ranked(best[0]) >= ranked((score, index)) {
            continue;
        }
        let at = best.partition_point(|entry| ranked(*entry) < ranked((score, index)));
        best.insert(at, (score, index));
        if best.len() > limit {
            best.remove(0);
        }
    }
    let matches = best
        .into_iter()
        .rev()
        .map(|(_, index)| {
            let path = &paths[index];
            let positions = matcher.score(path).map(|_| matcher.found.clone()).unwrap_or_default();
            FileMatch { path: path.clone(), positions }
        })
        .collect();
    (matches, total)
}

/// Scores paths against one query, reusing its buffers from path to path (a keystroke looks at
/// every path of the ref: no allocation per path for ASCII paths, which most are).
struct Matcher {
    /// The query's letters, lowercase, without spaces.
    needle: Vec<char>,
    /// The same as bytes, when the query is ASCII.
    ascii_needle: Option<Vec<u8>>,
    lower_bytes: Vec<u8>,
    chars: Vec<char>,
    lower_chars: Vec<char>,
    /// Where the letters matched in the last path scored (character indices).
    found: Vec<usize>,
}

impl Matcher {
    fn new(query: &str) -> Matcher {
        let needle: Vec<char> =
            query.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_lowercase().next().unwrap_or(c)).collect();
        let ascii_needle = needle.iter().all(char::is_ascii).then(|| needle.iter().map(|c| *c as u8).collect());
        Matcher {
            needle,
            ascii_needle,
            lower_bytes: Vec::new(),
            chars: Vec::new(),
            lower_chars: Vec::new(),
            found: Vec::new(),
        }
    }

    /// How well `path` matches, or `None` when the query's letters are not all in it in order;
    /// the positions are left in `found`.
    fn score(&mut self, path: &str) -> Option<i64> {
        if path.is_ascii() {
            let needle = self.ascii_needle.as_deref()?;
            self.lower_bytes.clear();
            self.lower_bytes.extend(path.bytes().map(|b| b.to_ascii_lowercase()));
            if !place(&self.lower_bytes, needle, &mut self.found) {
                return None;
            }
            let original = path.as_bytes();
            let separator = |at: usize| matches!(original[at], b'/' | b'_' | b'-' | b'.' | b' ');
            let camel = |at: usize| original[at].is_ascii_uppercase() && original[at - 1].is_ascii_lowercase();
            Some(rate(&self.lower_bytes, needle, &self.found, b'/', b'.', separator, camel))
        } else {
            self.chars.clear();
            self.chars.extend(path.chars());
            self.lower_chars.clear();
            self.lower_chars.extend(self.chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)));
            if !place(&self.lower_chars, &self.needle, &mut self.found) {
                return None;
            }
            let original = &self.chars;
            let separator = |at: usize| matches!(original[at], '/' | '_' | '-' | '.' | ' ');
            let camel = |at: usize| original[at].is_uppercase() && original[at - 1].is_lowercase();
            Some(rate(&self.lower_chars, &self.needle, &self.found, '/', '.', separator, camel))
        }
    }
}

/// Places the query's letters in `lower` (a path, lowercase) into `found`, or answers false when
/// they are not all in it in order. The last letter goes as late as it can, each one before it
/// as late as it can before that, so the match starts as late as it can; then the others move
/// as early as they can follow, so it stays together (in the file's name when it fits there).
fn place<T: Copy + Eq>(lower: &[T], needle: &[T], found: &mut Vec<usize>) -> bool {
    found.clear();
    let mut wanted = 0;
    for unit in lower {
        if wanted < needle.len() && *unit == needle[wanted] {
            wanted += 1;
        }
    }
    if wanted < needle.len() {
        return false;
    }
    found.resize(needle.len(), 0);
    let mut at = lower.len();
    for slot in (0..needle.len()).rev() {
        let Some(position) = lower[..at].iter().rposition(|unit| *unit == needle[slot]) else { return false };
        at = position;
        found[slot] = at;
    }
    for slot in 1..needle.len() {
        let from = found[slot - 1] + 1;
        if let Some(offset) = lower[from..found[slot]].iter().position(|unit| *unit == needle[slot]) {
            found[slot] = from + offset;
        }
    }
    true
}

/// The score of a placed match: letters in the file's name, next to each other and at the start
/// of words count more; an exact name (with or without its extension), a name holding the query,
/// or a path holding it, most.
fn rate<T: Copy + Eq>(
    lower: &[T],
    needle: &[T],
    found: &[usize],
    slash: T,
    dot: T,
    separator: impl Fn(usize) -> bool,
    camel: impl Fn(usize) -> bool,
) -> i64 {
    let name_start = lower.iter().rposition(|unit| *unit == slash).map_or(0, |at| at + 1);
    let mut score = 0i64;
    let mut previous: Option<usize> = None;
    for &at in found {
        score += 1;
        if at >= name_start {
            score += 2;
        }
        if previous.is_some_and(|p| p + 1 == at) {
            score += 5;
        }
        if at == 0 || separator(at - 1) || camel(at) {
            score += 4;
        }
        previous = Some(at);
    }
    let name = &lower[name_start..];
    let stem = name.iter().position(|unit| *unit == dot).map_or(name, |at| &name[..at]);
    let holds = |haystack: &[T]| haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w == needle);
    if name == needle || stem == needle {
        score += 100;
    } else if holds(name) {
        score += 40;
    } else if holds(lower) {
        score += 20;
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn ranks_names_and_runs_first() {
        let all = paths(&[
            "docs/readme-old.txt",
            "src/main.rs",
            "src/mailbox/manager.rs",
            "crates/gantry-web/src/main.rs",
            "README.md",
            "tests/domain_test.rs",
        ]);
        let (found, total) = best_matches(&all, "main", 10);
        assert_eq!(total, 4, "{found:?}");
        assert_eq!(found[0].path, "src/main.rs", "an exact name, shortest path");
        assert_eq!(found[1].path, "crates/gantry-web/src/main.rs");
        assert_eq!(found[0].positions, [4, 5, 6, 7]);
        let (found, _) = best_matches(&all, "READ", 10);
        assert_eq!(found[0].path, "README.md");
        let (found, total) = best_matches(&all, "smr", 1);
        assert_eq!((found.len(), total), (1, 4));
        assert!(best_matches(&all, "zzz", 10).0.is_empty());
        let (everything, total) = best_matches(&all, "", 2);
        assert_eq!((everything.len(), total), (2, 6));
    }

    #[test]
    fn matches_letters_in_order_only() {
        let mut matcher = Matcher::new("BA");
        assert_eq!(matcher.score("abc"), None);
        assert!(matcher.score("a/b/a").is_some());
        assert_eq!(matcher.found, [2, 4]);
        let mut accented = Matcher::new("é");
        assert!(accented.score("Ünïcode/É.txt").is_some());
        assert_eq!(accented.found, [8]);
        assert_eq!(accented.score("plain/e.txt"), None);
    }
}
