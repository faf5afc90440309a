//! A user's status (GitLab's): an emoji, a message of at most 100 characters and whether they
//! are busy, optionally cleared after a while. Anyone signed in reads the status of a user they
//! may see; only the user sets their own.

use gantry_db::manage::user_statuses;
pub use gantry_db::manage::user_statuses::{Availability, UserStatusRow};

use crate::{Actor, CoreError, CoreResult, now_millis};

/// The emoji of a status set without one (GitLab's default).
pub const DEFAULT_EMOJI: &str = "speech_balloon";
/// The longest message, in characters.
pub const MESSAGE_MAX: usize = 100;
const EMOJI_NAME_MAX: usize = 64;

/// GitLab's choices of when a status clears itself, and after how many minutes.
pub const CLEAR_STATUS_AFTER: &[(&str, i64)] = &[
    ("30_minutes", 30),
    ("3_hours", 3 * 60),
    ("8_hours", 8 * 60),
    ("1_day", 24 * 60),
    ("3_days", 3 * 24 * 60),
    ("7_days", 7 * 24 * 60),
    ("30_days", 30 * 24 * 60),
];

/// What a user sends to set their status; `None` is a value not sent.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub emoji: Option<String>,
    pub message: Option<String>,
    pub availability: Option<String>,
    pub clear_status_after: Option<String>,
}

/// How a status change treats what was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// `PUT`: what was not sent is cleared (the availability, as in GitLab, stays).
    Replace,
    /// `PATCH`: what was not sent stays.
    Update,
}

impl super::Manage<'_> {
    /// The status of a user the actor may see (`None` without one); `user` is an id or a
    /// username.
    pub async fn user_status(&self, actor: &Actor, user: &str) -> CoreResult<Option<UserStatusRow>> {
        let user = self.find_user_by_reference(actor, user).await?;
        let mut conn = self.db.conn().await?;
        Ok(user_statuses::find_status(&mut conn, user.id, now_millis()).await?)
    }

    /// The signed-in user's status (`None` without one).
    pub async fn own_status(&self, actor: &Actor) -> CoreResult<Option<UserStatusRow>> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        Ok(user_statuses::find_status(&mut conn, user.id, now_millis()).await?)
    }

    /// The signed-in user sets their status; with no emoji, message or availability left, the
    /// status is cleared (`None`).
    pub async fn set_own_status(
        &self,
        actor: &Actor,
        input: &StatusInput,
        change: StatusChange,
    ) -> CoreResult<Option<UserStatusRow>> {
        let user = actor.require_user()?;
        let now = now_millis();
        let clear_at = match input.clear_status_after.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(choice) => {
                let minutes = CLEAR_STATUS_AFTER.iter().find(|(name, _)| *name == choice).map(|(_, m)| *m);
                let minutes =
                    minutes.ok_or_else(|| CoreError::invalid("clear_status_after", "does not have a valid value"))?;
                Some(Some(now + minutes * 60_000))
            }
            None if change == StatusChange::Replace => Some(None),
            None => None,
        };
        let availability = match input.availability.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) => Some(
                Availability::parse(value)
                    .ok_or_else(|| CoreError::invalid("availability", "does not have a valid value"))?,
            ),
            None => None,
        };
        if let Some(message) = &input.message
            && message.chars().count() > MESSAGE_MAX
        {
            return Err(CoreError::invalid("message", format!("is too long (maximum is {MESSAGE_MAX} characters)")));
        }
        if let Some(emoji) = input.emoji.as_deref().map(str::trim).filter(|e| !e.is_empty())
            && !valid_emoji_name(emoji)
        {
            return Err(CoreError::invalid("emoji", "must be a valid emoji name"));
        }
        let mut tx = self.db.begin().await?;
        let current = user_statuses::find_status(&mut tx, user.id, now).await?;
        let after = |sent: &Option<String>, kept: Option<&str>| match (sent, change) {
            (Some(value), _) => value.trim().to_owned(),
            (None, StatusChange::Update) => kept.unwrap_or_default().to_owned(),
            (None, StatusChange::Replace) => String::new(),
        };
        let emoji = after(&input.emoji, current.as_ref().map(|c| c.emoji.as_str()));
        let message = after(&input.message, current.as_ref().map(|c| c.message.as_str()));
        // As GitLab: a status needs an emoji, a message or an availability sent now.
        let status = if !emoji.is_empty() || !message.is_empty() || availability.is_some() {
            let row = UserStatusRow {
                user_id: user.id,
                emoji: if emoji.is_empty() { DEFAULT_EMOJI.to_owned() } else { emoji },
                message,
                availability: availability.or(current.as_ref().map(|c| c.availability)).unwrap_or(Availability::NotSet),
                clear_at: clear_at.unwrap_or(current.as_ref().and_then(|c| c.clear_at)),
            };
            user_statuses::set_status(&mut tx, &row).await?;
            Some(row)
        } else {
            user_statuses::delete_status(&mut tx, user.id).await?;
            None
        };
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(status)
    }
}

/// An emoji's name as GitLab writes them (`thumbsup`, `+1`, `flag-us`), without the colons.
fn valid_emoji_name(name: &str) -> bool {
    name.len() <= EMOJI_NAME_MAX
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '+' | '-'))
}
