//! Who takes part in an issue, as GitLab's `participants` lists them: its author, its assignees
//! and those who commented (system notes aside), each once, in that order. Only for those who
//! may see the issue.

use super::notes::NoteOrder;
use crate::policy::ProjectAccess;
use crate::{CoreResult, Page, UserRow};

/// Most notes read for an issue's participants.
const MAX_NOTES: i64 = 10_000;

impl super::Plan<'_> {
    /// The people of an issue: author, assignees, then commenters by their first comment.
    pub async fn issue_participants(&self, access: &ProjectAccess, iid: i64) -> CoreResult<Vec<UserRow>> {
        let view = self.find_issue(access, iid).await?;
        let every = Page { offset: 0, limit: MAX_NOTES };
        let (notes, _) = self.list_issue_notes(access, iid, NoteOrder::default(), every).await?;
        let commenters = notes.into_iter().filter(|note| !note.system).filter_map(|note| note.author);
        let mut people: Vec<UserRow> = Vec::new();
        for user in view.author.into_iter().chain(view.assignees).chain(commenters) {
            if !people.iter().any(|known| known.id == user.id) {
                people.push(user);
            }
        }
        Ok(people)
    }
}
