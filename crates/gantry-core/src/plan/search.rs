//! Searching what Plan holds — issues, comments, epics and wiki pages — full-text (gantry-db's
//! `search`: words, phrases in quotes, the last word of each a prefix), across the instance,
//! within a group and its subgroups, or in one project. Only what the actor may see is searched:
//! issues and comments through the very filter of the issue lists (private projects, and
//! confidential issues only for those who may see them), epics of the groups the actor sees
//! (confidential ones for the groups' Reporters and above), wiki pages of the projects whose
//! issues and wiki the actor reads and of the groups the actor sees.

use gantry_db::plan::notes::NoteRow;
use gantry_db::plan::wiki_pages::WikiOwner;
use gantry_db::plan::{epics as epics_db, notes as notes_db, wiki_pages as wiki_db};
pub use gantry_db::search::TextSearch;
use std::collections::HashMap;

use gantry_types::{IssueId, NamespaceId, ProjectId};

use super::epics::EpicView;
use super::issues::{IssueQuery, IssueView, IssuesOf};
use crate::manage::groups::{GroupQuery, Lookup};
use crate::policy::{GroupAccess, GroupAction, ProjectAccess};
use crate::{Actor, CoreError, CoreResult, Page};

/// Groups an instance-wide search of epics reaches (those the actor sees, by name).
const MAX_SEARCHED_GROUPS: i64 = 100;

/// Where a search of Plan looks.
#[derive(Debug, Clone, Copy)]
pub enum PlanWithin<'a> {
    /// Everything the actor may see.
    Instance(&'a Actor),
    /// A group and its subgroups.
    Group(&'a GroupAccess),
    /// One project.
    Project(&'a ProjectAccess),
}

impl<'a> PlanWithin<'a> {
    fn issues(self) -> IssuesOf<'a> {
        match self {
            PlanWithin::Instance(actor) => IssuesOf::Visible(actor),
            PlanWithin::Group(access) => IssuesOf::Group(access),
            PlanWithin::Project(access) => IssuesOf::Project(access),
        }
    }

    /// Who searches.
    pub fn actor(self) -> &'a Actor {
        match self {
            PlanWithin::Instance(actor) => actor,
            PlanWithin::Group(access) => access.actor(),
            PlanWithin::Project(access) => access.actor(),
        }
    }
}

/// A comment a search found, with the issue it is on.
#[derive(Debug, Clone)]
pub struct FoundComment {
    pub note: NoteRow,
    pub project_id: ProjectId,
    pub project_path: String,
    pub issue_id: IssueId,
    pub issue_iid: i64,
    pub issue_title: String,
}

/// A wiki page a search found.
#[derive(Debug, Clone)]
pub struct FoundWikiPage {
    /// Whose wiki the page is in.
    pub owner: WikiOwner,
    /// The project's or group's full path.
    pub owner_path: String,
    /// The path without `.md`, as in the page's address.
    pub slug: String,
    pub title: String,
    pub content: String,
}

/// The words of a search text; `None` when it has none (nothing can match).
pub fn words_of(text: &str) -> Option<TextSearch> {
    TextSearch::parse(text)
}

/// Lines of a text around the first that holds one of the words (ignoring case), at most
/// `context` before and after: the number of the first line shown (from 1) and the lines. The
/// text's first lines when no line holds one (the words were in its title).
pub fn excerpt<'t>(text: &'t str, words: &TextSearch, context: usize) -> (usize, Vec<&'t str>) {
    let lowered: Vec<String> = words.words().map(str::to_lowercase).collect();
    let lines: Vec<&str> = text.lines().collect();
    let hit = lines.iter().position(|line| {
        let line = line.to_lowercase();
        lowered.iter().any(|word| line.contains(word.as_str()))
    });
    let first = hit.map_or(0, |hit| hit.saturating_sub(context));
    let last = hit.map_or(context, |hit| hit + context).min(lines.len().saturating_sub(1));
    let shown = if lines.is_empty() { Vec::new() } else { lines[first..=last].to_vec() };
    (first + 1, shown)
}

impl super::Plan<'_> {
    /// One page of the issues whose title or description holds the words, newest first.
    pub async fn search_issues(
        &self,
        within: PlanWithin<'_>,
        text: &str,
        page: Page,
    ) -> CoreResult<(Vec<IssueView>, i64)> {
        let query = IssueQuery { search: Some(text.to_owned()), ..IssueQuery::default() };
        self.list_issues(within.issues(), &query, page).await
    }

    /// One page of the comments people wrote on issues the actor sees that hold the words,
    /// newest first.
    pub async fn search_comments(
        &self,
        within: PlanWithin<'_>,
        text: &str,
        page: Page,
    ) -> CoreResult<(Vec<FoundComment>, i64)> {
        let Some(words) = words_of(text) else { return Ok((Vec::new(), 0)) };
        let mut conn = self.db.conn().await?;
        let Some((filter, paths)) = self.issue_filter(&mut conn, within.issues(), &IssueQuery::default()).await? else {
            return Ok((Vec::new(), 0));
        };
        let (found, total) = notes_db::search_issue_notes(&mut conn, &filter, &words, page).await?;
        let comments = found
            .into_iter()
            .filter_map(|found| {
                let project_id = found.note.project_id?;
                Some(FoundComment {
                    project_path: paths.get(&project_id).cloned().unwrap_or_default(),
                    project_id,
                    issue_id: found.issue_id,
                    issue_iid: found.issue_iid,
                    issue_title: found.issue_title,
                    note: found.note,
                })
            })
            .collect();
        Ok((comments, total))
    }

    /// One page of the epics whose title or description holds the words, newest first; none
    /// within a project (epics are groups').
    pub async fn search_epics(
        &self,
        within: PlanWithin<'_>,
        text: &str,
        page: Page,
    ) -> CoreResult<(Vec<EpicView>, i64)> {
        let Some(words) = words_of(text) else { return Ok((Vec::new(), 0)) };
        let groups = self.searched_groups(within).await?;
        if groups.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let ids: Vec<NamespaceId> = groups.iter().map(|group| group.group().id).collect();
        let confidential: Vec<NamespaceId> = groups
            .iter()
            .filter(|group| group.can(GroupAction::ReadConfidentialEpics))
            .map(|group| group.group().id)
            .collect();
        let mut conn = self.db.conn().await?;
        let (rows, total) = epics_db::search_epics(&mut conn, &ids, &confidential, &words, page).await?;
        Ok((super::epics::views(&mut conn, rows).await?, total))
    }

    /// One page of the wiki pages whose title or text holds the words, most recently changed
    /// first.
    pub async fn search_wiki(
        &self,
        within: PlanWithin<'_>,
        text: &str,
        page: Page,
    ) -> CoreResult<(Vec<FoundWikiPage>, i64)> {
        let Some(words) = words_of(text) else { return Ok((Vec::new(), 0)) };
        let mut conn = self.db.conn().await?;
        if let PlanWithin::Project(access) = within {
            access.require(crate::policy::ProjectAction::ReadWiki)?;
        }
        // The wiki is read by those who read the issues (Guests and up, or anyone the project is
        // open to): the projects of the issue filter.
        let paths = match self.issue_filter(&mut conn, within.issues(), &IssueQuery::default()).await? {
            Some((_, paths)) => paths,
            None => HashMap::new(),
        };
        let projects: Vec<ProjectId> = paths.keys().copied().collect();
        drop(conn);
        let groups: HashMap<NamespaceId, String> = self
            .searched_groups(within)
            .await?
            .into_iter()
            .filter(|group| group.can(GroupAction::ReadWiki))
            .map(|group| (group.group().id, group.group().full_path.clone()))
            .collect();
        let group_ids: Vec<NamespaceId> = groups.keys().copied().collect();
        let mut conn = self.db.conn().await?;
        let (rows, total) = wiki_db::search_wiki_pages(&mut conn, &projects, &group_ids, &words, page).await?;
        let pages = rows
            .into_iter()
            .map(|row| FoundWikiPage {
                owner_path: match row.owner {
                    WikiOwner::Project(project) => paths.get(&project).cloned().unwrap_or_default(),
                    WikiOwner::Group(group) => groups.get(&group).cloned().unwrap_or_default(),
                },
                owner: row.owner,
                slug: row.slug,
                title: row.title,
                content: row.content,
            })
            .collect();
        Ok((pages, total))
    }

    /// The groups a search of epics and group wikis looks in: none within a project, the group
    /// and its subgroups, or those the actor sees.
    async fn searched_groups(&self, within: PlanWithin<'_>) -> CoreResult<Vec<GroupAccess>> {
        Ok(match within {
            PlanWithin::Project(_) => Vec::new(),
            PlanWithin::Group(access) => {
                let mut groups = vec![access.clone()];
                groups.extend(self.descendant_groups(access).await?);
                groups
            }
            PlanWithin::Instance(actor) => self.visible_groups(actor).await?,
        })
    }

    /// The groups the actor sees (at most [`MAX_SEARCHED_GROUPS`]), each with their access.
    async fn visible_groups(&self, actor: &Actor) -> CoreResult<Vec<GroupAccess>> {
        let query = GroupQuery::all_by_name();
        let (rows, _) =
            self.manage().list_groups(actor, &query, Page { offset: 0, limit: MAX_SEARCHED_GROUPS }).await?;
        let mut groups = Vec::with_capacity(rows.len());
        for row in rows {
            match self.group_access(actor, &Lookup::Id(row.id.0)).await {
                Ok(access) => groups.push(access),
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_the_lines_around_the_first_match() {
        let words = TextSearch::parse("deploy").unwrap();
        let text = "one\ntwo\nthree\nWe DEPLOYED it\nfive\nsix\nseven";
        assert_eq!(excerpt(text, &words, 2), (2, vec!["two", "three", "We DEPLOYED it", "five", "six"]));
        assert_eq!(excerpt("a\nb\nc\nd", &words, 1), (1, vec!["a", "b"]));
        assert_eq!(excerpt("", &words, 1), (1, Vec::<&str>::new()));
    }
}
