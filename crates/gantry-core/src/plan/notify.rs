//! Who hears of a change to an issue: to-dos for those it needs (assigned, mentioned, directly
//! addressed) and mail by each person's notification level — GitLab's rules. Everything is
//! decided in the transaction of the change and queued with it, so a mail goes out once the
//! change is committed, and never for a change that was rolled back.
//!
//! A person is told of an issue only when they may read it now (a confidential issue reaches
//! Reporters, its author and assignees; a private project its members), never of their own
//! doings, and never while blocked. Mail reasons, from strongest: assigned, mentioned,
//! subscribed (their own choice on the issue), subscribed to a label the issue opened with or
//! was given (told of that only), participating (author, assignee, commenter, mentioned in the
//! description), watching (the project, a group of it, or everything). The levels take them
//! as: watch — all; participating — all but watching; mention — assigned, mentioned and
//! subscribed (to the issue or a label); disabled — none. An explicit unsubscribe from the issue silences
//! it whatever the level.

use std::collections::HashMap;

use gantry_db::Conn;
use gantry_db::manage::namespaces::namespace_with_ancestors;
use gantry_db::manage::projects::ProjectKey;
use gantry_db::manage::users::{find_user_by_id, find_user_by_username};
use gantry_db::plan::labels as labels_db;
use gantry_db::plan::notes::{self as notes_db, Noteable};
use gantry_db::plan::notifications::{self as db, LevelSource};
use gantry_db::plan::todos::{self as todos_db, NewTodo};
use gantry_types::{LabelId, NamespaceId, NoteId, ProjectId, UserId};

use super::issues::IssueView;
use super::mentions::mentions;
use crate::mail::OutgoingMail;
use crate::policy::ProjectAccess;
use crate::{Actor, CoreError, CoreResult, UserRow};

/// Most people one change mails.
const MAX_RECIPIENTS: usize = 1000;
/// The first characters of a text a to-do keeps.
const TODO_BODY_CHARS: usize = 200;

/// How much mail a person wants, for everything or for a group's or a project's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationLevel {
    /// Take the wider setting (a project's → its groups' → the person's own).
    Global,
    Watch,
    Participating,
    Mention,
    Disabled,
}

impl NotificationLevel {
    /// GitLab's name (`watch`).
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationLevel::Global => "global",
            NotificationLevel::Watch => "watch",
            NotificationLevel::Participating => "participating",
            NotificationLevel::Mention => "mention",
            NotificationLevel::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<NotificationLevel> {
        Some(match value {
            "global" => NotificationLevel::Global,
            "watch" => NotificationLevel::Watch,
            "participating" => NotificationLevel::Participating,
            "mention" => NotificationLevel::Mention,
            "disabled" => NotificationLevel::Disabled,
            _ => return None,
        })
    }

    /// Every level, for forms.
    pub const ALL: [NotificationLevel; 5] = [
        NotificationLevel::Global,
        NotificationLevel::Watch,
        NotificationLevel::Participating,
        NotificationLevel::Mention,
        NotificationLevel::Disabled,
    ];

    /// What the level means, for forms.
    pub fn describe(self) -> &'static str {
        match self {
            NotificationLevel::Global => "Default: as set for the group or for all your mail",
            NotificationLevel::Watch => "Watch: every issue and comment",
            NotificationLevel::Participating => "Participate: what you take part in, and mentions",
            NotificationLevel::Mention => "On mention: only when you are assigned or @mentioned",
            NotificationLevel::Disabled => "Disabled: no mail",
        }
    }
}

/// What happened to an issue.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IssueEvent<'a> {
    Opened,
    Commented {
        note: NoteId,
        body: &'a str,
    },
    Reassigned {
        added: &'a [UserId],
        removed: &'a [UserId],
    },
    Closed,
    Reopened,
    /// The description changed from `before`: those it newly mentions are told.
    DescriptionChanged {
        before: &'a str,
    },
    /// A comment's text changed from `before`: those it newly mentions are told.
    CommentEdited {
        note: NoteId,
        body: &'a str,
        before: &'a str,
    },
    /// Labels were put on the issue: only those subscribed to one of them are told.
    Labelled {
        added: &'a [LabelId],
    },
}

/// Why a person gets a mail; the strongest reason explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    Watching,
    Participating,
    SubscribedLabel,
    Subscribed,
    Mentioned,
    Assigned,
}

impl Reason {
    fn explain(self) -> &'static str {
        match self {
            Reason::Watching => "you watch this project",
            Reason::Participating => "you take part in this issue",
            Reason::SubscribedLabel => "you subscribed to a label of this issue",
            Reason::Subscribed => "you subscribed to this issue",
            Reason::Mentioned => "you were mentioned in this issue",
            Reason::Assigned => "you are assigned to this issue",
        }
    }

    /// Whether a person at `level` is told for this reason.
    fn heard_at(self, level: NotificationLevel) -> bool {
        match level {
            NotificationLevel::Watch | NotificationLevel::Global => true,
            NotificationLevel::Participating => self >= Reason::Participating,
            NotificationLevel::Mention => self >= Reason::SubscribedLabel,
            NotificationLevel::Disabled => false,
        }
    }
}

/// The level in force for a person on a project: the project's setting, else the nearest
/// group's, else their own (participating when never set); and whether it came from their own.
pub(crate) async fn level_in_force(
    conn: &mut Conn,
    user: UserId,
    project: ProjectId,
    groups_nearest_first: &[NamespaceId],
) -> CoreResult<(NotificationLevel, bool)> {
    let chosen = |value: Option<String>| value.as_deref().and_then(NotificationLevel::parse);
    if let Some(level) = chosen(db::level(conn, user, LevelSource::Project(project)).await?)
        && level != NotificationLevel::Global
    {
        return Ok((level, false));
    }
    for group in groups_nearest_first {
        if let Some(level) = chosen(db::level(conn, user, LevelSource::Group(*group)).await?)
            && level != NotificationLevel::Global
        {
            return Ok((level, false));
        }
    }
    match chosen(db::level(conn, user, LevelSource::Global).await?) {
        Some(level) if level != NotificationLevel::Global => Ok((level, true)),
        _ => Ok((NotificationLevel::Participating, true)),
    }
}

/// The project's namespace and its ancestors, nearest first.
pub(crate) async fn groups_of(conn: &mut Conn, access: &ProjectAccess) -> CoreResult<Vec<NamespaceId>> {
    let chain = namespace_with_ancestors(conn, access.namespace().id).await?;
    Ok(chain.iter().rev().map(|namespace| namespace.id).collect())
}

/// `user`'s view of the project, if they may see it (one query).
pub(crate) async fn access_of(
    conn: &mut Conn,
    user: &UserRow,
    project: ProjectId,
) -> CoreResult<Option<ProjectAccess>> {
    match ProjectAccess::load(conn, &Actor::User(user.clone()), ProjectKey::Id(project)).await {
        Ok(access) => Ok(Some(access)),
        Err(CoreError::NotFound(_) | CoreError::Forbidden(_) | CoreError::Unauthorized) => Ok(None),
        Err(error) => Err(error),
    }
}

impl super::Plan<'_> {
    /// Tells those who should hear of `event` on `issue` (read in the change's transaction,
    /// after the change): to-dos, and mails queued in `conn`. The actor's own pending to-dos on
    /// the issue are done, as they acted on it. Returns whether mail was queued (wake the
    /// background worker after the commit).
    pub(crate) async fn after_issue_change(
        &self,
        conn: &mut Conn,
        access: &ProjectAccess,
        issue: &IssueView,
        event: IssueEvent<'_>,
    ) -> CoreResult<bool> {
        let actor = access.actor().require_user()?.clone();
        let target = Noteable::issue(issue.issue.id);
        let project = access.project().id;
        if !matches!(event, IssueEvent::Opened) {
            todos_db::mark_todos_done(conn, actor.id, Some(target)).await?;
        }

        // Those the text mentions, and those newly assigned.
        let (text, old_text) = match event {
            IssueEvent::Opened => (issue.issue.description.as_str(), ""),
            IssueEvent::Commented { body, .. } => (body, ""),
            IssueEvent::DescriptionChanged { before } => (issue.issue.description.as_str(), before),
            IssueEvent::CommentEdited { body, before, .. } => (body, before),
            _ => ("", ""),
        };
        super::references::leave_cross_references(conn, access, issue, text, old_text).await?;
        let already: Vec<String> = mentions(old_text).into_iter().map(|(name, _)| name).collect();
        let mut mentioned: Vec<(UserRow, bool)> = Vec::new();
        for (name, direct) in mentions(text).into_iter().filter(|(name, _)| !already.contains(name)) {
            if let Some(user) = find_user_by_username(conn, &name).await? {
                mentioned.push((user, direct));
            }
        }
        let newly_assigned: Vec<UserId> = match event {
            IssueEvent::Opened => issue.assignee_ids.clone(),
            IssueEvent::Reassigned { added, .. } => added.to_vec(),
            _ => Vec::new(),
        };

        let mut readers: HashMap<UserId, Option<(UserRow, ProjectAccess)>> = HashMap::new();
        let note = match event {
            IssueEvent::Commented { note, .. } | IssueEvent::CommentEdited { note, .. } => Some(note),
            _ => None,
        };
        let todo_body: String =
            (if text.is_empty() { &issue.issue.title } else { text }).chars().take(TODO_BODY_CHARS).collect();
        let mut todos: Vec<(UserId, &str)> = newly_assigned.iter().map(|id| (*id, "assigned")).collect();
        todos.extend(
            mentioned.iter().map(|(user, direct)| (user.id, if *direct { "directly_addressed" } else { "mentioned" })),
        );
        for (user, action) in todos {
            if user == actor.id || self.reader(conn, &mut readers, user, issue).await?.is_none() {
                continue;
            }
            let todo = NewTodo {
                user_id: user,
                author_id: Some(actor.id),
                project_id: project,
                target,
                action,
                note_id: note,
                body: &todo_body,
            };
            todos_db::add_todo(conn, &todo).await?;
        }

        if !self.sends_mail() {
            return Ok(false);
        }
        let mut reasons: HashMap<UserId, Reason> = HashMap::new();
        let mut give = |user: UserId, reason: Reason| {
            let entry = reasons.entry(user).or_insert(reason);
            *entry = (*entry).max(reason);
        };
        for id in &newly_assigned {
            give(*id, Reason::Assigned);
        }
        for (user, _) in &mentioned {
            give(user.id, Reason::Mentioned);
        }
        // Subscribers of the labels an issue opens with or is given.
        let labelled: Vec<LabelId> = match event {
            IssueEvent::Opened => issue.labels.iter().map(|label| label.id).collect(),
            IssueEvent::Labelled { added } => added.to_vec(),
            _ => Vec::new(),
        };
        for user in labels_db::label_subscribers(conn, project, &labelled, MAX_RECIPIENTS as i64).await? {
            give(user, Reason::SubscribedLabel);
        }
        // A changed text tells only those it newly mentions; new labels only their subscribers.
        let told_all = !matches!(
            event,
            IssueEvent::DescriptionChanged { .. } | IssueEvent::CommentEdited { .. } | IssueEvent::Labelled { .. }
        );
        if told_all {
            if !matches!(event, IssueEvent::Opened) {
                for user in self.participants(conn, issue).await? {
                    give(user, Reason::Participating);
                }
                if let IssueEvent::Reassigned { removed, .. } = event {
                    for user in removed {
                        give(*user, Reason::Participating);
                    }
                }
            }
            for (user, subscribed) in db::subscriptions(conn, target).await? {
                if subscribed {
                    give(user, Reason::Subscribed);
                }
            }
        }
        let groups = groups_of(conn, access).await?;
        if told_all {
            for user in db::possible_watchers(conn, project, &groups, MAX_RECIPIENTS as i64).await? {
                give(user, Reason::Watching);
            }
        }
        let mut recipients: Vec<(UserId, Reason)> = reasons.into_iter().filter(|(user, _)| *user != actor.id).collect();
        recipients.sort_by_key(|(user, _)| user.0);
        recipients.truncate(MAX_RECIPIENTS);

        let mut queued = false;
        for (user, reason) in recipients {
            if db::subscription(conn, user, target).await? == Some(false) {
                continue;
            }
            let Some((row, reader)) = self.reader(conn, &mut readers, user, issue).await? else { continue };
            let (level, own) = level_in_force(conn, user, project, &groups).await?;
            // Watching everything means the projects one is a member of, as in GitLab.
            if !reason.heard_at(level) || (reason == Reason::Watching && own && reader.level().is_none()) {
                continue;
            }
            let mail = self.issue_mail(conn, access, issue, &actor, &row, reason, event).await?;
            queued |= self.queue_mail(conn, mail).await?;
        }
        Ok(queued)
    }

    /// The account of `user` with their view of the project, when they may read `issue` now
    /// and are not blocked (remembered in `readers`).
    async fn reader(
        &self,
        conn: &mut Conn,
        readers: &mut HashMap<UserId, Option<(UserRow, ProjectAccess)>>,
        user: UserId,
        issue: &IssueView,
    ) -> CoreResult<Option<(UserRow, ProjectAccess)>> {
        if let Some(known) = readers.get(&user) {
            return Ok(known.clone());
        }
        let mut found = None;
        if let Some(row) = find_user_by_id(conn, user).await?
            && !row.blocked
            && row.bot_of.is_none()
            && let Some(access) = access_of(conn, &row, issue.issue.project_id).await?
            && access.can_read_issue(&issue.facts())
        {
            found = Some((row, access));
        }
        readers.insert(user, found.clone());
        Ok(found)
    }

    /// An issue's participants: its author, assignees, commenters and those its description
    /// mentions (accounts that exist), in that order, each once.
    pub(crate) async fn participants(&self, conn: &mut Conn, issue: &IssueView) -> CoreResult<Vec<UserId>> {
        let mut people: Vec<UserId> = issue.issue.author_id.into_iter().collect();
        people.extend(&issue.assignee_ids);
        people.extend(notes_db::commenters(conn, Noteable::issue(issue.issue.id)).await?);
        for (name, _) in mentions(&issue.issue.description) {
            if let Some(user) = find_user_by_username(conn, &name).await? {
                people.push(user.id);
            }
        }
        let mut seen = std::collections::HashSet::new();
        people.retain(|id| seen.insert(*id));
        Ok(people)
    }

    /// One person's mail about `event`, with its unsubscribe link recorded.
    #[allow(clippy::too_many_arguments)]
    async fn issue_mail(
        &self,
        conn: &mut Conn,
        access: &ProjectAccess,
        issue: &IssueView,
        actor: &UserRow,
        to: &UserRow,
        reason: Reason,
        event: IssueEvent<'_>,
    ) -> CoreResult<OutgoingMail> {
        let base = self.ci.settings.external_url.trim_end_matches('/').to_owned();
        let path = &issue.project_path;
        let iid = issue.issue.iid;
        let url = format!("{base}/{path}/-/issues/{iid}");
        let who = format!("{} (@{})", actor.name, actor.username);
        let assignees = || {
            let names: Vec<String> = issue.assignees.iter().map(|user| format!("@{}", user.username)).collect();
            if names.is_empty() { "no one".to_owned() } else { names.join(", ") }
        };
        let happened = match event {
            IssueEvent::Opened => {
                format!(
                    "{who} opened an issue:\n\n{}\n\nAssignees: {}\n\n{}",
                    issue.issue.title,
                    assignees(),
                    issue.issue.description
                )
            }
            IssueEvent::Commented { body, .. } => format!("{who} commented:\n\n{body}"),
            IssueEvent::Reassigned { .. } => format!("{who} changed the assignees to {}.", assignees()),
            IssueEvent::Closed => format!("{who} closed the issue."),
            IssueEvent::Reopened => format!("{who} reopened the issue."),
            IssueEvent::DescriptionChanged { .. } => {
                format!("{who} mentioned you in the issue's description:\n\n{}", issue.issue.description)
            }
            IssueEvent::CommentEdited { body, .. } => format!("{who} mentioned you in a comment:\n\n{body}"),
            IssueEvent::Labelled { added } => {
                let names: Vec<String> = issue
                    .labels
                    .iter()
                    .filter(|label| added.contains(&label.id))
                    .map(|label| format!("~\"{}\"", label.title))
                    .collect();
                format!("{who} added the {} {}.", if names.len() == 1 { "label" } else { "labels" }, names.join(", "))
            }
        };
        let key = crate::random_token();
        db::record_sent(conn, &key, to.id, access.project().id, Noteable::issue(issue.issue.id)).await?;
        let unsubscribe = format!("{base}/-/unsubscribe/{key}");
        let text = format!(
            "{happened}\n\n-- \nView it on Gantry: {url}\nYou are receiving this e-mail because {}.\n\
             Stop mail about this issue: {unsubscribe}\nYour notification settings: {base}/-/profile/notifications\n",
            reason.explain()
        );
        let subject = format!("{path} | {} (#{iid})", issue.issue.title);
        let thread = self.mail_thread_id(&format!("issue_{}", issue.issue.id)).unwrap_or_default();
        let opened = matches!(event, IssueEvent::Opened);
        Ok(OutgoingMail {
            to: vec![to.email.clone()],
            subject: if opened { subject } else { format!("Re: {subject}") },
            text,
            message_id: if opened { thread.clone() } else { String::new() },
            in_reply_to: (!opened).then_some(thread),
            unsubscribe_url: Some(unsubscribe),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{NotificationLevel as Level, Reason};

    #[test]
    fn levels_hear_the_reasons_gitlab_gives_them() {
        assert!(Reason::Watching.heard_at(Level::Watch));
        assert!(!Reason::Watching.heard_at(Level::Participating));
        assert!(Reason::Participating.heard_at(Level::Participating));
        assert!(!Reason::Participating.heard_at(Level::Mention));
        assert!(Reason::Mentioned.heard_at(Level::Mention) && Reason::Assigned.heard_at(Level::Mention));
        assert!(Reason::Subscribed.heard_at(Level::Mention));
        assert!(Reason::SubscribedLabel.heard_at(Level::Mention) && !Reason::SubscribedLabel.heard_at(Level::Disabled));
        assert!(!Reason::Assigned.heard_at(Level::Disabled));
        for level in Level::ALL {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
    }
}
