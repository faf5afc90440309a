//! Emoji reactions on issues and their comments (GitLab's award emoji): anyone signed in who
//! sees the issue reacts, once per emoji; a reaction is removed by who gave it (and
//! administrators). Names are gemoji's short names, as GitLab's (`thumbsup`, `tada`; `+1` and
//! `-1` are read as `thumbsup` and `thumbsdown`); an unknown name is refused.

pub use gantry_db::plan::award_emoji::AwardRow;
use gantry_db::plan::award_emoji::{self as db, Awardable};
use gantry_db::plan::notes::{self as notes_db, Noteable};
use gantry_db::{Conn, DbError};
use gantry_types::NoteId;

use super::issues::load_issue;
use crate::policy::ProjectAccess;
use crate::{CoreError, CoreResult, Page};

/// The emoji the pages offer first (GitLab's frequently used).
pub const COMMON_EMOJI: [&str; 8] = ["thumbsup", "thumbsdown", "smile", "tada", "confused", "heart", "rocket", "eyes"];

/// What a reaction is on: an issue, or a comment of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardTarget {
    Issue(i64),
    Note { iid: i64, note: NoteId },
}

/// The name GitLab stores for `name`, if it is an emoji.
pub fn emoji_name(name: &str) -> Option<String> {
    let name = name.trim().trim_matches(':');
    match name {
        "+1" | "thumbsup" => Some("thumbsup".to_owned()),
        "-1" | "thumbsdown" => Some("thumbsdown".to_owned()),
        _ => emojis::get_by_shortcode(name).map(|_| name.to_owned()),
    }
}

/// The emoji a name stands for (`👍` for `thumbsup`).
pub fn emoji_glyph(name: &str) -> &'static str {
    let name = match name {
        "thumbsup" => "+1",
        "thumbsdown" => "-1",
        other => other,
    };
    emojis::get_by_shortcode(name).map_or("?", |emoji| emoji.as_str())
}

impl super::Plan<'_> {
    /// One page of the reactions on an issue or a comment, oldest first, and how many there are.
    pub async fn list_award_emoji(
        &self,
        access: &ProjectAccess,
        target: AwardTarget,
        page: Page,
    ) -> CoreResult<(Vec<AwardRow>, i64)> {
        let mut conn = self.db.conn().await?;
        let on = awardable(&mut conn, access, target).await?;
        Ok(db::list_awards(&mut conn, on, page).await?)
    }

    /// One reaction.
    pub async fn find_award_emoji(&self, access: &ProjectAccess, target: AwardTarget, id: i64) -> CoreResult<AwardRow> {
        let mut conn = self.db.conn().await?;
        let on = awardable(&mut conn, access, target).await?;
        db::find_award(&mut conn, on, id).await?.ok_or(CoreError::NotFound("award emoji"))
    }

    /// Reacts with `name`; the same reaction twice is refused.
    pub async fn award_emoji(&self, access: &ProjectAccess, target: AwardTarget, name: &str) -> CoreResult<AwardRow> {
        let user = access.actor().require_user()?.id;
        let mut conn = self.db.conn().await?;
        let on = awardable(&mut conn, access, target).await?;
        let name = emoji_name(name)
            .ok_or_else(|| CoreError::invalid("name", format!("'{}' is not an emoji's name", name.trim())))?;
        let id = match db::insert_award(&mut conn, on, user, &name).await {
            Ok(id) => id,
            Err(DbError::Conflict(_)) => {
                return Err(CoreError::invalid("name", format!("has already been awarded (:{name}:)")));
            }
            Err(error) => return Err(error.into()),
        };
        db::find_award(&mut conn, on, id).await?.ok_or(CoreError::NotFound("award emoji"))
    }

    /// Removes a reaction (who gave it, or an administrator).
    pub async fn remove_award_emoji(&self, access: &ProjectAccess, target: AwardTarget, id: i64) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let on = awardable(&mut conn, access, target).await?;
        let award = db::find_award(&mut conn, on, id).await?.ok_or(CoreError::NotFound("award emoji"))?;
        if !access.can_change_note(Some(award.user.id)) {
            return Err(CoreError::Forbidden("only who gave a reaction can remove it".to_owned()));
        }
        db::delete_award(&mut conn, award.id).await?;
        Ok(())
    }

    /// Gives the reaction `name`, or takes it back when the actor gave it already (the pages'
    /// buttons).
    pub async fn toggle_award_emoji(&self, access: &ProjectAccess, target: AwardTarget, name: &str) -> CoreResult<()> {
        let user = access.actor().require_user()?.id;
        let wanted = emoji_name(name);
        let mut conn = self.db.conn().await?;
        let on = awardable(&mut conn, access, target).await?;
        let mine = db::awards_of(&mut conn, on.kind, &[on.id])
            .await?
            .into_iter()
            .find(|award| award.user.id == user && Some(&award.name) == wanted.as_ref());
        drop(conn);
        match mine {
            Some(award) => self.remove_award_emoji(access, target, award.id).await,
            None => self.award_emoji(access, target, name).await.map(|_| ()),
        }
    }

    /// The reactions on an issue and on its notes (for its page), oldest first.
    pub async fn issue_page_awards(
        &self,
        access: &ProjectAccess,
        iid: i64,
        notes: &[NoteId],
    ) -> CoreResult<(Vec<AwardRow>, Vec<AwardRow>)> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let on_issue = db::awards_of(&mut conn, "Issue", &[issue.issue.id.0]).await?;
        let ids: Vec<i64> = notes.iter().map(|id| id.0).collect();
        let on_notes = db::awards_of(&mut conn, "Note", &ids).await?;
        Ok((on_issue, on_notes))
    }
}

/// The item a target names, when the actor may see it.
async fn awardable(conn: &mut Conn, access: &ProjectAccess, target: AwardTarget) -> CoreResult<Awardable> {
    match target {
        AwardTarget::Issue(iid) => {
            let issue = load_issue(conn, access, iid).await?;
            Ok(Awardable { kind: "Issue", id: issue.issue.id.0 })
        }
        AwardTarget::Note { iid, note } => {
            let issue = load_issue(conn, access, iid).await?;
            let found = notes_db::find_note(conn, Noteable::issue(issue.issue.id), note).await?;
            // A note the actor may not see (a "mentioned in" from a hidden issue) takes no reaction.
            let note = super::notes::visible_notes(conn, access, found.into_iter().collect())
                .await?
                .pop()
                .ok_or(CoreError::NotFound("note"))?;
            Ok(Awardable { kind: "Note", id: note.id.0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_gitlabs() {
        assert_eq!(emoji_name("+1").as_deref(), Some("thumbsup"));
        assert_eq!(emoji_name(":tractor:").as_deref(), Some("tractor"));
        assert_eq!(emoji_name("nope"), None);
        assert_eq!(emoji_glyph("thumbsup"), "👍");
        assert_eq!(emoji_glyph("tada"), "🎉");
    }
}
