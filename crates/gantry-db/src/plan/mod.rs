//! Plan stage: issues (`issues`: their rows, assignees, list filters and order in boards; the
//! descriptions each has had, `description_versions`; the version of a project's issues that
//! tells a remembered list it is out of date, `issue_changes`),
//! epics of groups (`epics`: nested epics, the issues each holds), issue boards of projects and groups with their lists (`boards`), what changed on issues as
//! records (`events`: GitLab's resource events), emoji reactions on issues and notes
//! (`award_emoji`), linked issues (`links`), labels of projects
//! and groups (`labels`: with the links that put them on issues and epics), milestones of projects and
//! groups (`milestones`: with the column that puts an issue in one), iteration cadences of groups and
//! their iterations (`iterations`: with the column that puts an issue in one), notes on every kind of
//! noteable (`notes`) with the texts each comment had (`note_versions`), users' to-dos (`todos`), how much mail they want (`notifications`) and
//! the files attached to issues and comments (`uploads`), and the search index of wikis
//! (`wiki_pages`). Issues, comments, epics and wiki pages are searched full-text through the
//! engine's own index (`crate::search`).

pub mod award_emoji;
pub mod boards;
pub mod description_versions;
pub mod epics;
pub mod events;
pub mod issue_changes;
pub(crate) mod issue_filter;
pub mod issues;
pub mod iterations;
pub mod labels;
pub mod links;
pub mod milestones;
pub mod note_versions;
pub mod notes;
pub mod notifications;
pub mod todos;
pub mod uploads;
pub mod wiki_pages;

use gantry_types::UserId;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::manage::users::{UserRow, map_user};
use crate::{Conn, DbResult};

/// The accounts with these ids, in no particular order; ids of deleted accounts are left out.
pub async fn users_by_ids(conn: &mut Conn, ids: &[UserId]) -> DbResult<Vec<UserRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! users_sql {
        ($engine:tt) => {
            concat!(
                "SELECT id, username, email, name, password_hash, is_admin, state, created_at, updated_at, \
                 avatar_digest, avatar_name, bot_project_id, bot_namespace_id FROM users WHERE id IN ",
                id_set!($engine, "$1")
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), users_sql))
        .bind(id_list(ids.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_user).collect()
}
