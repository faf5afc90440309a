//! Counts of queries of one kind, for tests that prove a page makes as few as it should.
//!
//! The count lives in a task-local, so tests running in parallel never see each other's
//! queries; a query made outside [`count_authorisation_queries`] (every query in production)
//! costs one failed lookup and counts nowhere. Work a request hands to another task is not
//! counted.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static AUTHORISATION_QUERIES: Cell<u32>;
}

/// Runs `work` and counts the authorisation queries it makes on this task: the lookups of a
/// user's role on a group or project (`members::effective_access_level`,
/// `projects::find_project_access`, `namespaces::find_namespace_access`,
/// `members::managed_runner_scopes`).
pub async fn count_authorisation_queries<F: Future>(work: F) -> (F::Output, u32) {
    AUTHORISATION_QUERIES
        .scope(Cell::new(0), async move {
            let output = work.await;
            (output, AUTHORISATION_QUERIES.with(Cell::get))
        })
        .await
}

/// Records one authorisation query, when someone counts.
pub(crate) fn authorisation_query() {
    let _ = AUTHORISATION_QUERIES.try_with(|count| count.set(count.get() + 1));
}
