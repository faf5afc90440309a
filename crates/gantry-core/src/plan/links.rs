//! Linked issues (GitLab's issue links): an issue relates to, blocks or is blocked by another,
//! in any project. Those who may change the issue (Reporters) link it to one they may see; a
//! link shows only where the viewer may see the other issue. Each link and unlink leaves a
//! system note on both issues.

use std::collections::HashMap;

use gantry_db::Conn;
use gantry_db::manage::projects::ProjectKey;
use gantry_db::plan::issues as issues_db;
use gantry_db::plan::links::{self as db, IssueLinkRow};
use gantry_types::{IssueId, ProjectId};

use super::issues::{IssueView, add_system_note, load_issue};
use super::references::{Found, Reference, project_path, scan};
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// How one issue stands to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    RelatesTo,
    Blocks,
    IsBlockedBy,
}

impl LinkType {
    pub fn parse(value: &str) -> Option<LinkType> {
        match value.trim() {
            "" | "relates_to" => Some(LinkType::RelatesTo),
            "blocks" => Some(LinkType::Blocks),
            "is_blocked_by" => Some(LinkType::IsBlockedBy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::RelatesTo => "relates_to",
            LinkType::Blocks => "blocks",
            LinkType::IsBlockedBy => "is_blocked_by",
        }
    }

    /// How the other issue stands to this one.
    fn reversed(self) -> LinkType {
        match self {
            LinkType::RelatesTo => LinkType::RelatesTo,
            LinkType::Blocks => LinkType::IsBlockedBy,
            LinkType::IsBlockedBy => LinkType::Blocks,
        }
    }

    /// "related to", "blocking", "blocked by".
    pub fn describe(self) -> &'static str {
        match self {
            LinkType::RelatesTo => "related to",
            LinkType::Blocks => "blocking",
            LinkType::IsBlockedBy => "blocked by",
        }
    }
}

/// A link seen from one of its issues: the other issue and how this one stands to it.
#[derive(Debug, Clone)]
pub struct IssueLinkView {
    pub link: IssueLinkRow,
    /// How the issue the link was read from stands to the other (`blocks`: it blocks it).
    pub link_type: LinkType,
    /// The issue the link was read from.
    pub this: IssueView,
    pub other: IssueView,
}

/// The reference to `issue` from a text in `from`'s project: `#2`, or `group/project#2`.
pub fn reference(issue: &IssueView, from: &IssueView) -> String {
    if issue.issue.project_id == from.issue.project_id {
        format!("#{}", issue.issue.iid)
    } else {
        format!("{}#{}", issue.project_path, issue.issue.iid)
    }
}

impl super::Plan<'_> {
    /// The links of an issue whose other issue the actor may see, oldest first.
    pub async fn list_issue_links(&self, access: &ProjectAccess, iid: i64) -> CoreResult<Vec<IssueLinkView>> {
        let mut conn = self.db.conn().await?;
        let this = load_issue(&mut conn, access, iid).await?;
        let mut projects = HashMap::new();
        let mut views = Vec::new();
        for link in db::links_of(&mut conn, this.issue.id).await? {
            if let Some(view) = link_view(&mut conn, access, &mut projects, &this, link).await? {
                views.push(view);
            }
        }
        Ok(views)
    }

    /// One link of an issue, when the actor may see its other issue.
    pub async fn find_issue_link(&self, access: &ProjectAccess, iid: i64, id: i64) -> CoreResult<IssueLinkView> {
        let mut conn = self.db.conn().await?;
        let this = load_issue(&mut conn, access, iid).await?;
        let link = db::find_link(&mut conn, this.issue.id, id).await?.ok_or(CoreError::NotFound("issue link"))?;
        link_view(&mut conn, access, &mut HashMap::new(), &this, link).await?.ok_or(CoreError::NotFound("issue link"))
    }

    /// Links an issue to another the actor may see (`target` of the project `target_project`,
    /// a path or an id); those who may change issues only.
    pub async fn link_issues(
        &self,
        access: &ProjectAccess,
        iid: i64,
        target_project: &str,
        target_iid: i64,
        link_type: LinkType,
    ) -> CoreResult<IssueLinkView> {
        access.require(ProjectAction::UpdateIssues)?;
        let actor = access.actor().require_user()?.id;
        let mut tx = self.db.begin().await?;
        let this = load_issue(&mut tx, access, iid).await?;
        let key = match target_project.trim().parse::<i64>() {
            Ok(id) => ProjectKey::Id(ProjectId(id)),
            Err(_) => ProjectKey::FullPath(target_project.trim()),
        };
        let not_found = || CoreError::invalid("target_issue_iid", "names no issue you can see".to_owned());
        let target_access = match ProjectAccess::load(&mut tx, access.actor(), key).await {
            Ok(target) => target,
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Err(not_found()),
            Err(error) => return Err(error),
        };
        let other = match load_issue(&mut tx, &target_access, target_iid).await {
            Ok(other) => other,
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Err(not_found()),
            Err(error) => return Err(error),
        };
        if other.issue.id == this.issue.id {
            return Err(CoreError::invalid(
                "target_issue_iid",
                "is this issue: an issue cannot link to itself".to_owned(),
            ));
        }
        let (source, target, stored) = match link_type {
            LinkType::IsBlockedBy => (other.issue.id, this.issue.id, "blocks"),
            LinkType::Blocks => (this.issue.id, other.issue.id, "blocks"),
            LinkType::RelatesTo => (this.issue.id, other.issue.id, "relates_to"),
        };
        let id = db::insert_link(&mut tx, source, target, stored)
            .await?
            .ok_or_else(|| CoreError::invalid("target_issue_iid", "is linked to this issue already".to_owned()))?;
        let note = format!("marked this issue as {} {}", link_type.describe(), reference(&other, &this));
        add_system_note(&mut tx, this.issue.project_id, this.issue.id, actor, &note).await?;
        let note = format!("marked this issue as {} {}", link_type.reversed().describe(), reference(&this, &other));
        add_system_note(&mut tx, other.issue.project_id, other.issue.id, actor, &note).await?;
        let link = db::find_link(&mut tx, this.issue.id, id).await?.ok_or(CoreError::NotFound("issue link"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(project.id = %access.project().id, issue.iid = iid, link.id = id, "issues linked");
        Ok(IssueLinkView { link, link_type, this, other })
    }

    /// Links an issue to the one `written` names (`#12`, `project#12`, `group/project#12`), as
    /// `link_type` says (`relates_to`, `blocks`, `is_blocked_by`): the pages' form.
    pub async fn link_issue_by_reference(
        &self,
        access: &ProjectAccess,
        iid: i64,
        written: &str,
        link_type: &str,
    ) -> CoreResult<IssueLinkView> {
        let link_type = LinkType::parse(link_type)
            .ok_or_else(|| CoreError::invalid("link_type", "must be relates to, blocks or is blocked by".to_owned()))?;
        let written = written.trim();
        let named = scan(written).into_iter().next().filter(|found| found.range == (0..written.len()));
        let Some(Found { reference: Reference::Issue { project, iid: other }, .. }) = named else {
            return Err(CoreError::invalid(
                "reference",
                format!("'{written}' names no issue: write #12, or group/project#12 for another project's"),
            ));
        };
        let own = &access.project().full_path;
        let project = project.map_or_else(|| own.clone(), |written| project_path(&written, own));
        self.link_issues(access, iid, &project, other, link_type).await
    }

    /// Removes a link of an issue (those who may change it, when they may see the other one).
    pub async fn unlink_issues(&self, access: &ProjectAccess, iid: i64, id: i64) -> CoreResult<IssueLinkView> {
        access.require(ProjectAction::UpdateIssues)?;
        let actor = access.actor().require_user()?.id;
        let mut tx = self.db.begin().await?;
        let this = load_issue(&mut tx, access, iid).await?;
        let link = db::find_link(&mut tx, this.issue.id, id).await?.ok_or(CoreError::NotFound("issue link"))?;
        let view = link_view(&mut tx, access, &mut HashMap::new(), &this, link)
            .await?
            .ok_or(CoreError::NotFound("issue link"))?;
        db::delete_link(&mut tx, id).await?;
        let note = format!("removed the relation with {}", reference(&view.other, &this));
        add_system_note(&mut tx, this.issue.project_id, this.issue.id, actor, &note).await?;
        let note = format!("removed the relation with {}", reference(&this, &view.other));
        add_system_note(&mut tx, view.other.issue.project_id, view.other.issue.id, actor, &note).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(view)
    }
}

/// A link as seen from `this`, when the actor may see its other issue (projects' access read
/// once each, in `projects`).
async fn link_view(
    conn: &mut Conn,
    access: &ProjectAccess,
    projects: &mut HashMap<ProjectId, Option<ProjectAccess>>,
    this: &IssueView,
    link: IssueLinkRow,
) -> CoreResult<Option<IssueLinkView>> {
    let (other_id, outgoing): (IssueId, bool) =
        if link.source_id == this.issue.id { (link.target_id, true) } else { (link.source_id, false) };
    let Some(row) = issues_db::find_issue_by_id(conn, other_id).await? else { return Ok(None) };
    if let std::collections::hash_map::Entry::Vacant(slot) = projects.entry(row.project_id) {
        let other_access = if row.project_id == access.project().id {
            Some(access.clone())
        } else {
            match ProjectAccess::load(conn, access.actor(), ProjectKey::Id(row.project_id)).await {
                Ok(found) => Some(found),
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => None,
                Err(error) => return Err(error),
            }
        };
        slot.insert(other_access);
    }
    let Some(other_access) = projects.get(&row.project_id).and_then(Option::as_ref) else { return Ok(None) };
    let other = match load_issue(conn, other_access, row.iid).await {
        Ok(other) => other,
        Err(CoreError::NotFound(_) | CoreError::Forbidden(_)) => return Ok(None),
        Err(error) => return Err(error),
    };
    let stored = if link.link_type == "blocks" { LinkType::Blocks } else { LinkType::RelatesTo };
    let link_type = if outgoing { stored } else { stored.reversed() };
    Ok(Some(IssueLinkView { link, link_type, this: this.clone(), other }))
}
