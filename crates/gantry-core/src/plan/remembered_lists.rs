//! Issue lists a server remembers until their issues change: a board's columns, a project's
//! issue list and its counts are asked for again and again (every view of a board or a
//! project, every card moved), and some are costly — the Open column of a board whose lists
//! hold nearly every issue reads them all to find the few it shows. A list is kept as the ids
//! of its page and its count, under its whole filter (so who looks, and what they may see, is
//! part of the key) and the version of its projects' issues (`issue_changes`, kept by triggers
//! on every write, by any server or cascade), so it is never served once anything it depends
//! on changed; the issues themselves are read afresh by id. Lists by words, label or milestone
//! names, label priority or time of last change are not kept: what they depend on is not
//! versioned.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use gantry_db::Conn;
use gantry_db::plan::issue_changes::{self, FOLD_AFTER};
use gantry_db::plan::issues::{IssueFilter, IssueOrder, IssueProjects, MilestoneFilter};
use gantry_types::{IssueId, ProjectId};

use super::issues::IssueRow;
use crate::{CoreResult, Page};

/// Lists kept at most (each a few hundred bytes).
const CAPACITY: usize = 2048;

/// What is kept of a list.
enum Kept {
    /// A page's ids and the count of all.
    Page { ids: Vec<IssueId>, total: i64 },
    /// The counts of open and closed issues.
    Counts(i64, i64),
}

/// Kept lists by the digest of what they are, each with the version it was read at.
type Lists = hashlink::LruCache<[u8; 32], (i64, Kept)>;

/// The lists this server remembers, least recently used forgotten first, each with the version
/// it was read at (keyed by a digest of what it is, so a filter of many projects costs no more
/// to keep than another).
#[derive(Default)]
pub(crate) struct RememberedLists {
    lists: Mutex<Option<Lists>>,
    /// A fold of change rows is under way (one at a time, off the requests that asked).
    folding: AtomicBool,
}

impl std::fmt::Debug for RememberedLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RememberedLists").finish_non_exhaustive()
    }
}

impl RememberedLists {
    fn get<T>(&self, key: &[u8; 32], version: i64, read: impl FnOnce(&Kept) -> Option<T>) -> Option<T> {
        let mut lists = self.lists.lock().ok()?;
        let (kept_at, kept) = lists.as_mut()?.get(key)?;
        if *kept_at == version { read(kept) } else { None }
    }

    fn put(&self, key: [u8; 32], version: i64, kept: Kept) {
        if let Ok(mut lists) = self.lists.lock() {
            lists.get_or_insert_with(|| hashlink::LruCache::new(CAPACITY)).insert(key, (version, kept));
        }
    }
}

/// Whether everything a list by `filter` depends on is versioned.
fn rememberable(filter: &IssueFilter) -> bool {
    filter.search.is_none()
        && filter.labels.is_empty()
        && !matches!(filter.milestone, MilestoneFilter::Title(_))
        && filter.updated_after.is_none()
        && filter.updated_before.is_none()
        && !matches!(filter.order_by, IssueOrder::UpdatedAt | IssueOrder::LabelPriority)
        && filter.epic.is_none()
}

impl super::Plan<'_> {
    /// One page of the issues `filter` selects and how many there are, as
    /// `gantry_db::plan::issues::list_issues` reads them, remembered until they change.
    pub(super) async fn remembered_issue_rows(
        &self,
        conn: &mut Conn,
        filter: &IssueFilter,
        page: Page,
    ) -> CoreResult<(Vec<IssueRow>, i64)> {
        if !rememberable(filter) {
            return Ok(gantry_db::plan::issues::list_issues(conn, filter, page).await?);
        }
        let version = self.issue_version(conn, &filter.projects).await?;
        let key = digest(&format!("page {} {} {filter:?}", page.limit, page.offset));
        let kept = self.remembered_lists.get(&key, version, |kept| match kept {
            Kept::Page { ids, total } => Some((ids.clone(), *total)),
            Kept::Counts(..) => None,
        });
        if let Some((ids, total)) = kept {
            let rows = issue_changes::issues_by_ids(conn, &ids).await?;
            if rows.len() == ids.len() {
                return Ok((rows, total));
            }
        }
        let (rows, total) = gantry_db::plan::issues::list_issues(conn, filter, page).await?;
        self.remembered_lists.put(key, version, Kept::Page { ids: rows.iter().map(|row| row.id).collect(), total });
        Ok((rows, total))
    }

    /// How many open and closed issues `filter` selects (its state aside), as
    /// `gantry_db::plan::issues::count_issues_by_state` counts them, remembered until they
    /// change.
    pub(super) async fn remembered_issue_counts(
        &self,
        conn: &mut Conn,
        filter: &IssueFilter,
    ) -> CoreResult<(i64, i64)> {
        if !rememberable(filter) {
            return Ok(gantry_db::plan::issues::count_issues_by_state(conn, filter).await?);
        }
        let version = self.issue_version(conn, &filter.projects).await?;
        let key = digest(&format!("counts {filter:?}"));
        let kept = self.remembered_lists.get(&key, version, |kept| match kept {
            Kept::Counts(open, closed) => Some((*open, *closed)),
            Kept::Page { .. } => None,
        });
        if let Some(counts) = kept {
            return Ok(counts);
        }
        let (open, closed) = gantry_db::plan::issues::count_issues_by_state(conn, filter).await?;
        self.remembered_lists.put(key, version, Kept::Counts(open, closed));
        Ok((open, closed))
    }

    /// The version of the issues of `projects`. Their change rows are folded now and then, in
    /// the background, so reading it stays cheap.
    async fn issue_version(&self, conn: &mut Conn, projects: &IssueProjects) -> CoreResult<i64> {
        let (version, rows) = issue_changes::issue_list_version(conn, projects).await?;
        let ids = match projects {
            IssueProjects::One(project) => vec![*project],
            IssueProjects::Many(projects) => projects.clone(),
        };
        let many = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        if rows > many.saturating_add(FOLD_AFTER) && !self.remembered_lists.folding.swap(true, Ordering::AcqRel) {
            let (db, lists) = (self.db.clone(), self.remembered_lists.clone());
            tokio::spawn(async move {
                if let Err(error) = fold(&db, &ids).await {
                    tracing::warn!(%error, "issue change rows were not folded; the next list will try again");
                }
                lists.folding.store(false, Ordering::Release);
            });
        }
        Ok(version)
    }
}

/// Folds the change rows of those of `projects` that have more than one, each in a
/// transaction of its own.
async fn fold(db: &gantry_db::Db, projects: &[ProjectId]) -> CoreResult<()> {
    let to_fold = {
        let mut conn = db.conn().await?;
        issue_changes::projects_to_fold(&mut conn, projects).await?
    };
    for project in to_fold {
        let mut tx = db.begin().await?;
        issue_changes::fold_issue_changes(&mut tx, project).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
    }
    Ok(())
}

/// The key a list is kept under.
fn digest(what: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(what.as_bytes()).into()
}
