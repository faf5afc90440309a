//! A user's own side of Plan: their to-do list (shown only for items they may still read;
//! marked done one by one, all at once, or by acting on the item), their notification levels
//! (for all their mail, a group, a project) and their subscription to one issue, including
//! the unsubscribe link of a mail, which works without signing in.

use gantry_db::plan::notes::Noteable;
use gantry_db::plan::notifications::{self as levels_db, LevelSource};
use gantry_db::plan::todos::{self as db, NewTodo};
pub use gantry_db::plan::todos::{TodoFilter, TodoRow};
use gantry_types::{ProjectId, TodoId};

use super::issues::{IssueView, load_issue};
use super::notify::{NotificationLevel, access_of, groups_of, level_in_force};
use crate::policy::{GroupAccess, ProjectAccess};
use crate::{Actor, CoreError, CoreResult, Page};

/// Where a notification level is set.
#[derive(Debug, Clone, Copy)]
pub enum LevelOf<'a> {
    /// All the user's mail.
    Everything,
    Group(&'a GroupAccess),
    Project(&'a ProjectAccess),
}

/// A to-do with the item it is about.
#[derive(Debug, Clone)]
pub struct TodoView {
    pub todo: TodoRow,
    pub project: crate::ProjectRow,
    /// The project's full path (`group/project`).
    pub project_path: String,
    /// The issue, as the user may read it now.
    pub issue: IssueView,
}

/// What an unsubscribe link names, as its page shows it.
#[derive(Debug, Clone)]
pub struct UnsubscribeView {
    /// `group/project#12 (title)`; without the title when its reader may no longer see it.
    pub item: String,
    /// Whether mail about it is off for them now.
    pub unsubscribed: bool,
}

/// The to-do actions GitLab's API filters by.
pub const TODO_ACTIONS: [&str; 4] = ["assigned", "mentioned", "directly_addressed", "marked"];

impl super::Plan<'_> {
    /// One page of the actor's to-dos, newest first, and how many match; items they may no
    /// longer read are left out of the page.
    pub async fn list_todos(&self, actor: &Actor, filter: &TodoFilter, page: Page) -> CoreResult<(Vec<TodoView>, i64)> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let (rows, total) = db::list_todos(&mut conn, user.id, filter, page).await?;
        let mut views = Vec::with_capacity(rows.len());
        let mut projects: Vec<(ProjectId, Option<ProjectAccess>)> = Vec::new();
        for todo in rows {
            let access = match projects.iter().find(|(id, _)| *id == todo.project_id) {
                Some((_, access)) => access.clone(),
                None => {
                    let access = access_of(&mut conn, user, todo.project_id).await?;
                    projects.push((todo.project_id, access.clone()));
                    access
                }
            };
            let Some(access) = access else { continue };
            if todo.target_type != "Issue" {
                continue;
            }
            let Some(issue) = issue_by_id(&mut conn, &access, todo.target_id).await? else { continue };
            views.push(TodoView {
                project: access.project().clone(),
                project_path: issue.project_path.clone(),
                todo,
                issue,
            });
        }
        Ok((views, total))
    }

    /// How many to-dos the actor has pending (the top bar's count).
    pub async fn pending_todo_count(&self, actor: &Actor) -> CoreResult<i64> {
        let Some(user) = actor.user() else { return Ok(0) };
        let mut conn = self.db.conn().await?;
        Ok(db::count_pending_todos(&mut conn, user.id).await?)
    }

    /// Marks one of the actor's to-dos done; `NotFound` for another's.
    pub async fn mark_todo_done(&self, actor: &Actor, id: TodoId) -> CoreResult<TodoRow> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        db::find_todo(&mut conn, user.id, id).await?.ok_or(CoreError::NotFound("to-do"))?;
        db::mark_todo_done(&mut conn, user.id, id).await?;
        db::find_todo(&mut conn, user.id, id).await?.ok_or(CoreError::NotFound("to-do"))
    }

    /// Marks every pending to-do of the actor done; how many there were.
    pub async fn mark_all_todos_done(&self, actor: &Actor) -> CoreResult<u64> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        Ok(db::mark_todos_done(&mut conn, user.id, None).await?)
    }

    /// Adds a to-do for the actor on an issue they see (GitLab's "Add a to-do"); `None` when
    /// one is already pending.
    pub async fn add_issue_todo(&self, access: &ProjectAccess, iid: i64) -> CoreResult<Option<TodoRow>> {
        let user = access.actor().require_user()?;
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        let target = Noteable::issue(issue.issue.id);
        if db::pending_todos_on(&mut tx, user.id, target).await?.iter().any(|todo| todo.action == "marked") {
            return Ok(None);
        }
        let todo = NewTodo {
            user_id: user.id,
            author_id: Some(user.id),
            project_id: access.project().id,
            target,
            action: "marked",
            note_id: None,
            body: &issue.issue.title,
        };
        db::add_todo(&mut tx, &todo).await?;
        let added =
            db::pending_todos_on(&mut tx, user.id, target).await?.into_iter().find(|todo| todo.action == "marked");
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(added)
    }

    /// The actor's pending to-dos on an issue (its page offers "Mark as done" when there are).
    pub async fn issue_todos(&self, access: &ProjectAccess, issue: &IssueView) -> CoreResult<Vec<TodoRow>> {
        let Some(user) = access.actor().user() else { return Ok(Vec::new()) };
        let mut conn = self.db.conn().await?;
        Ok(db::pending_todos_on(&mut conn, user.id, Noteable::issue(issue.issue.id)).await?)
    }

    /// Marks the actor's pending to-dos on an issue done.
    pub async fn mark_issue_todos_done(&self, access: &ProjectAccess, iid: i64) -> CoreResult<u64> {
        let user = access.actor().require_user()?;
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        Ok(db::mark_todos_done(&mut conn, user.id, Some(Noteable::issue(issue.issue.id))).await?)
    }

    /// The level the actor set (`global` for a group or project they never set; their own
    /// default is `participating`).
    pub async fn notification_level(&self, actor: &Actor, of: LevelOf<'_>) -> CoreResult<NotificationLevel> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let stored = levels_db::level(&mut conn, user.id, source(of)).await?;
        Ok(match (stored.as_deref().and_then(NotificationLevel::parse), of) {
            (Some(level), _) => level,
            (None, LevelOf::Everything) => NotificationLevel::Participating,
            (None, _) => NotificationLevel::Global,
        })
    }

    /// Sets the actor's level; `global` means "as the wider setting" and is refused for all
    /// their mail, which has nothing wider.
    pub async fn set_notification_level(
        &self,
        actor: &Actor,
        of: LevelOf<'_>,
        level: &str,
    ) -> CoreResult<NotificationLevel> {
        let user = actor.require_user()?;
        let Some(level) = NotificationLevel::parse(level) else {
            return Err(CoreError::invalid(
                "level",
                format!("'{level}' is not a notification level: use global, watch, participating, mention or disabled"),
            ));
        };
        if level == NotificationLevel::Global && matches!(of, LevelOf::Everything) {
            return Err(CoreError::invalid(
                "level",
                "global is for a group or project: for all your mail choose watch, participating, mention or disabled",
            ));
        }
        let mut conn = self.db.conn().await?;
        levels_db::set_level(&mut conn, user.id, source(of), level.as_str()).await?;
        Ok(level)
    }

    /// Whether the actor gets mail about an issue: by their own choice on it, else as a
    /// participant whose level hears participation (GitLab's `subscribed`).
    pub async fn issue_subscribed(&self, access: &ProjectAccess, issue: &IssueView) -> CoreResult<bool> {
        let Some(user) = access.actor().user() else { return Ok(false) };
        let mut conn = self.db.conn().await?;
        if let Some(choice) = levels_db::subscription(&mut conn, user.id, Noteable::issue(issue.issue.id)).await? {
            return Ok(choice);
        }
        let groups = groups_of(&mut conn, access).await?;
        let (level, _) = level_in_force(&mut conn, user.id, access.project().id, &groups).await?;
        let hears = matches!(level, NotificationLevel::Watch | NotificationLevel::Participating);
        Ok(hears && self.participants(&mut conn, issue).await?.contains(&user.id))
    }

    /// Subscribes the actor to an issue or unsubscribes them; whether that changed anything.
    pub async fn subscribe_to_issue(&self, access: &ProjectAccess, iid: i64, subscribed: bool) -> CoreResult<bool> {
        let user = access.actor().require_user()?;
        let issue = self.find_issue(access, iid).await?;
        if self.issue_subscribed(access, &issue).await? == subscribed {
            return Ok(false);
        }
        let mut conn = self.db.conn().await?;
        levels_db::set_subscription(
            &mut conn,
            user.id,
            access.project().id,
            Noteable::issue(issue.issue.id),
            subscribed,
        )
        .await?;
        Ok(true)
    }

    /// What an unsubscribe link (`/-/unsubscribe/<key>`) names; `NotFound` for a key no mail
    /// carried.
    pub async fn unsubscribe_link(&self, key: &str) -> CoreResult<UnsubscribeView> {
        let mut conn = self.db.conn().await?;
        let sent = levels_db::find_sent(&mut conn, key).await?.ok_or(CoreError::NotFound("unsubscribe link"))?;
        let target = Noteable { kind: "Issue", id: sent.target_id };
        let unsubscribed = levels_db::subscription(&mut conn, sent.user_id, target).await? == Some(false);
        let reader = gantry_db::manage::users::find_user_by_id(&mut conn, sent.user_id).await?;
        let access = match &reader {
            Some(user) => access_of(&mut conn, user, sent.project_id).await?,
            None => None,
        };
        let issue = match &access {
            Some(access) => issue_by_id(&mut conn, access, sent.target_id).await?,
            None => None,
        };
        let item = match issue {
            Some(issue) => format!("{}#{} ({})", issue.project_path, issue.issue.iid, issue.issue.title),
            None => "an issue you may no longer see".to_owned(),
        };
        Ok(UnsubscribeView { item, unsubscribed })
    }

    /// Follows an unsubscribe link: no more mail about its item to the one it was sent to
    /// (or, with `subscribed`, mail again).
    pub async fn follow_unsubscribe_link(&self, key: &str, subscribed: bool) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let sent = levels_db::find_sent(&mut conn, key).await?.ok_or(CoreError::NotFound("unsubscribe link"))?;
        let target = Noteable { kind: "Issue", id: sent.target_id };
        levels_db::set_subscription(&mut conn, sent.user_id, sent.project_id, target, subscribed).await?;
        tracing::info!(user.id = %sent.user_id, subscribed, "mail subscription changed from a mail's link");
        Ok(())
    }
}

fn source(of: LevelOf<'_>) -> LevelSource {
    match of {
        LevelOf::Everything => LevelSource::Global,
        LevelOf::Group(access) => LevelSource::Group(access.group().id),
        LevelOf::Project(access) => LevelSource::Project(access.project().id),
    }
}

/// An issue of the project by its row id, when the access may read it.
async fn issue_by_id(conn: &mut gantry_db::Conn, access: &ProjectAccess, id: i64) -> CoreResult<Option<IssueView>> {
    let Some(row) = gantry_db::plan::issues::find_issue_by_id(conn, gantry_types::IssueId(id)).await? else {
        return Ok(None);
    };
    if row.project_id != access.project().id {
        return Ok(None);
    }
    match load_issue(conn, access, row.iid).await {
        Ok(view) => Ok(Some(view)),
        Err(CoreError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}
