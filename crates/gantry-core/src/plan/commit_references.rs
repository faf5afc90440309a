//! Issues named in pushed commits' messages, as GitLab treats them: an issue the pusher may see
//! gets a "mentioned in commit <sha>" system note, once per commit; and on the project's default
//! branch, an issue named after a closing word (`Closes #12`, `fixes acme/api#3, #4 and #5`,
//! `Resolves: #7`, `Implements #9`: GitLab's default closing pattern) is closed as the pusher,
//! when they may close it. Run from the background queue after a push is recorded; safe to run
//! again (a closed issue stays closed, a note is left once).

use gantry_db::manage::projects::find_project_by_id;
use gantry_db::plan::notes::{Noteable, has_system_note};
use gantry_git::ZERO_OID;
use gantry_types::{ProjectId, UserId};

use super::issues::{IssueChanges, StateEvent};
use super::references::{Reference, Resolver, scan};
use crate::background::PushedRef;
use crate::policy::ProjectAccess;
use crate::{Actor, CoreError, CoreResult};

/// Most new commits of one ref update read.
const MAX_COMMITS: usize = 100;
/// The words that close the issues named after them (GitLab's default closing pattern).
const CLOSING_WORDS: [&str; 17] = [
    "close",
    "closes",
    "closed",
    "closing",
    "fix",
    "fixes",
    "fixed",
    "fixing",
    "resolve",
    "resolves",
    "resolved",
    "resolving",
    "implement",
    "implements",
    "implemented",
    "implementing",
    "implementation",
];

/// The issue references of a commit message, each with whether a closing word comes before it
/// (through a list: `fixes #1, #2 and #3`).
pub fn issue_references(message: &str) -> Vec<(Reference, bool)> {
    let mut found: Vec<(Reference, bool)> = Vec::new();
    for hit in scan(message) {
        let Reference::Issue { .. } = hit.reference else { continue };
        let closes = closing_word_before(&message[..hit.range.start]);
        match found.iter_mut().find(|(reference, _)| *reference == hit.reference) {
            Some((_, closing)) => *closing |= closes,
            None => found.push((hit.reference, closes)),
        }
    }
    found
}

/// Whether `before` ends with a closing word, past separators (`,`, `and`, `issue`, `issues`)
/// and other issue references of the same list.
fn closing_word_before(before: &str) -> bool {
    let line = before.rsplit('\n').next().unwrap_or(before);
    for token in line.split([' ', '\t', ',']).rev() {
        let word = token.trim().to_lowercase();
        if word.is_empty() || matches!(word.as_str(), "and" | "issue" | "issues") {
            continue;
        }
        let word = word.trim_end_matches(':');
        if CLOSING_WORDS.contains(&word) {
            return true;
        }
        let is_reference = scan(token.trim())
            .first()
            .is_some_and(|hit| matches!(hit.reference, Reference::Issue { .. }) && hit.range.start == 0);
        if !is_reference {
            return false;
        }
    }
    false
}

/// The note a commit leaves on an issue it names: `mentioned in commit 1a2b3c4d` from the same
/// project, `mentioned in commit acme/web@1a2b3c4d` from another.
fn mention_body(source_path: &str, target_path: &str, commit: &str) -> String {
    let short: String = commit.chars().take(8).collect();
    if source_path == target_path {
        format!("mentioned in commit {short}")
    } else {
        format!("mentioned in commit {source_path}@{short}")
    }
}

impl super::Plan<'_> {
    /// Reads the new commits of a push for the issues they name (see the module's comment).
    pub(crate) async fn issues_from_push(
        &self,
        project: ProjectId,
        user: Option<UserId>,
        refs: &[PushedRef],
    ) -> CoreResult<()> {
        let Some(user) = user else { return Ok(()) };
        let mut conn = self.db.conn().await?;
        let Some(user) = gantry_db::manage::users::find_user_by_id(&mut conn, user).await?.filter(|u| !u.blocked)
        else {
            return Ok(());
        };
        let Some(row) = find_project_by_id(&mut conn, project).await? else { return Ok(()) };
        drop(conn);
        let actor = Actor::User(user.clone());
        let access = match self.core.access_to_project(&actor, &row).await {
            Ok(access) => access,
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Ok(()),
            Err(error) => return Err(error),
        };
        for pushed in refs.iter().filter(|r| r.name.starts_with("refs/heads/") && r.new != ZERO_OID) {
            let default = pushed.name == format!("refs/heads/{}", row.default_branch);
            // A new branch brings the commits the default branch does not have (all of its
            // newest, on a first push).
            let old = (pushed.old != ZERO_OID).then(|| pushed.old.clone());
            let (repos, new, base) = (self.repos.clone(), pushed.new.clone(), row.default_branch.clone());
            let commits = tokio::task::spawn_blocking(move || {
                let reader = repos.reader(project)?;
                let from = match old {
                    Some(old) => Some(old),
                    None if default => None,
                    None => reader.resolve(&base)?,
                };
                match from {
                    Some(from) => reader.commits_between(&from, &new, MAX_COMMITS),
                    None => reader.history(&new, None, 0, MAX_COMMITS),
                }
            })
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))??
            .0;
            for commit in commits.iter().rev() {
                self.commit_names_issues(&access, &commit.id, &commit.message, default).await?;
            }
        }
        Ok(())
    }

    async fn commit_names_issues(
        &self,
        access: &ProjectAccess,
        commit: &str,
        message: &str,
        default_branch: bool,
    ) -> CoreResult<()> {
        let references = issue_references(message);
        if references.is_empty() {
            return Ok(());
        }
        let actor = access.actor();
        let user = actor.require_user()?;
        let mut to_close = Vec::new();
        {
            let mut conn = self.db.conn().await?;
            let mut resolver = Resolver::new(actor, Some(access));
            for (reference, closing) in references {
                let Reference::Issue { project, iid } = &reference else { continue };
                let Some((target, view)) = resolver.issue(&mut conn, project.as_deref(), *iid).await? else {
                    continue;
                };
                let body = mention_body(&access.project().full_path, &target.project().full_path, commit);
                if !has_system_note(&mut conn, Noteable::issue(view.issue.id), &body).await? {
                    super::issues::add_system_note(&mut conn, target.project().id, view.issue.id, user.id, &body)
                        .await?;
                }
                let open = view.issue.closed_at.is_none();
                if closing && default_branch && open && target.can_edit_issue(&view.facts()) {
                    to_close.push((target, view.issue.iid));
                }
            }
        }
        for (target, iid) in to_close {
            let changes = IssueChanges { state_event: Some(StateEvent::Close), ..IssueChanges::default() };
            match self.update_issue(&target, iid, &changes).await {
                Ok(_) => tracing::info!(project.id = %target.project().id, iid, commit, "issue closed by a commit"),
                Err(CoreError::Forbidden(_) | CoreError::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closing(message: &str) -> Vec<(String, bool)> {
        issue_references(message)
            .into_iter()
            .map(|(reference, closes)| match reference {
                Reference::Issue { project, iid } => (format!("{}#{iid}", project.unwrap_or_default()), closes),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn closing_words_close_the_lists_after_them() {
        assert_eq!(closing("Fix the crash\n\nCloses #12"), [("#12".to_owned(), true)]);
        assert_eq!(
            closing("fixes acme/api#3, #4 and #5; see #6"),
            [
                ("acme/api#3".to_owned(), true),
                ("#4".to_owned(), true),
                ("#5".to_owned(), true),
                ("#6".to_owned(), false)
            ]
        );
        assert_eq!(closing("Resolves: issue #7"), [("#7".to_owned(), true)]);
        assert_eq!(closing("Refs #8, not closing it"), [("#8".to_owned(), false)]);
        assert_eq!(closing("closed\n#9"), [("#9".to_owned(), false)], "a closing word on another line");
        assert_eq!(closing("Implements #9 and mentions #9"), [("#9".to_owned(), true)]);
    }

    #[test]
    fn mention_notes_name_other_projects() {
        assert_eq!(mention_body("acme/api", "acme/api", "1a2b3c4d5e6f"), "mentioned in commit 1a2b3c4d");
        assert_eq!(mention_body("acme/web", "acme/api", "1a2b3c4d5e6f"), "mentioned in commit acme/web@1a2b3c4d");
    }
}
