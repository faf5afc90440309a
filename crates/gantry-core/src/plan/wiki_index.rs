//! The search index of a wiki, a project's or a group's (gantry-db's `wiki_pages`): the pages of
//! the wiki's branch with their text, refreshed after every change — at once after a save from
//! the pages or the API, from the durable queue after a `git push` (or when the quick refresh
//! failed). A refresh walks the tree and reads only the pages whose blob changed, and runs
//! alone per wiki, so an older tip never overwrites a newer one.

use std::collections::HashMap;

use gantry_db::plan::wiki_pages::{self as db, WikiOwner};

use super::wiki::{MAX_LISTED, MAX_PAGE_BYTES, SIDEBAR, WIKI_BRANCH, WikiPageSummary};
use crate::background::Work;
use crate::{CoreError, CoreResult};

/// A page whose index entry is out of date: its summary, blob and text.
struct ChangedPage {
    page: WikiPageSummary,
    blob_id: String,
    content: String,
}

impl super::Plan<'_> {
    /// Brings a wiki's index up to the wiki's branch.
    pub(crate) async fn index_wiki(&self, owner: WikiOwner) -> CoreResult<()> {
        let wiki = super::wiki::wiki_repo(owner);
        let mut tx = self.db.begin().await?;
        db::lock_wiki_index(&mut tx, owner).await?;
        let tip = if self.repos.exists(wiki) {
            self.repos.ref_target(wiki, &format!("refs/heads/{WIKI_BRANCH}")).await?
        } else {
            None
        };
        let indexed: HashMap<String, String> = db::indexed_wiki_pages(&mut tx, owner).await?.into_iter().collect();
        let repos = self.repos.clone();
        let known = indexed.clone();
        let (present, changed) = tokio::task::spawn_blocking(move || -> CoreResult<(Vec<String>, Vec<ChangedPage>)> {
            let Some(tip) = tip else { return Ok((Vec::new(), Vec::new())) };
            let reader = repos.reader(wiki)?;
            let walk = reader.files_within(&tip, MAX_LISTED * 4, 8 << 20)?;
            let (mut present, mut changed) = (Vec::new(), Vec::new());
            for file in walk.files {
                let Some(page) = WikiPageSummary::from_path(&file.path) else { continue };
                if page.slug == SIDEBAR {
                    continue;
                }
                present.push(page.slug.clone());
                if known.get(&page.slug) != Some(&file.id) {
                    let (_, bytes) = reader.blob_if_small(&file.id, MAX_PAGE_BYTES as u64)?;
                    let content = bytes.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                    changed.push(ChangedPage { page, blob_id: file.id, content });
                }
                if present.len() == MAX_LISTED {
                    break;
                }
            }
            Ok((present, changed))
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        for slug in indexed.keys().filter(|slug| !present.contains(slug)) {
            db::remove_wiki_page(&mut tx, owner, slug).await?;
        }
        for ChangedPage { page, blob_id, content } in &changed {
            db::put_wiki_page(&mut tx, owner, &page.slug, &page.title, blob_id, content).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(())
    }

    /// Refreshes the index after a save; if that fails (the save stands), leaves it to the queue.
    pub(super) async fn index_wiki_after_save(&self, owner: WikiOwner) {
        if let Err(error) = self.index_wiki(owner).await {
            tracing::warn!(error = %error, wiki = %owner, "cannot refresh the wiki's search index now");
            self.queue_wiki_index(owner).await;
        }
    }
}

impl crate::Core {
    /// Queues a refresh of a wiki's index (after a push to the wiki).
    pub(crate) async fn queue_wiki_index(&self, owner: WikiOwner) {
        let work = match owner {
            WikiOwner::Project(project) => Work::IndexWiki { project },
            WikiOwner::Group(group) => Work::IndexGroupWiki { group },
        };
        let queued = async {
            let mut tx = self.db.begin().await?;
            self.enqueue(&mut tx, &work).await?;
            tx.commit().await.map_err(gantry_db::DbError::from)?;
            CoreResult::Ok(())
        };
        match queued.await {
            Ok(()) => self.wake_background(),
            Err(error) => {
                tracing::error!(error = %error, wiki = %owner, "cannot queue the wiki's search index")
            }
        }
    }
}
